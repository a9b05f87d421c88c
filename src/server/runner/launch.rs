//! The instance launcher: `runed __instance`, the short-lived process between runed and a
//! service's command.
//!
//! In: one [`Launch`] as JSON on standard input (a pipe from runed; never a file). Out: the
//! service's command, `exec`ed in place of this process with exactly the built environment.
//! On the way, when the launch has mounts: a private mount namespace (`unshare(CLONE_NEWNS)`,
//! `/` made recursively private), a small `nosuid,nodev` tmpfs at every mount path, one file per
//! key written with its exact bytes and mode (0400 secrets, 0444 configmaps), then the tmpfs
//! remounted read-only. The files live only in that namespace's memory: nothing reaches the
//! disk, and nothing is visible from outside the instance.
//!
//! Why a separate process: runed is multi-threaded, and allocating or writing files between
//! `fork` and `exec` there is unsound. This process is single-threaded from its first
//! instruction, so it may do all of that before it `exec`s.
//!
//! A failure before the `exec` is reported to runed as one line on standard output that starts
//! with [`FAILED_MARKER`] (runed strips it from the log), and the process exits 127.

use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::Path;

use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, unshare};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// The first bytes of the launcher's report of a failure before `exec`.
pub const FAILED_MARKER: &[u8] = b"\0rune-launch-failed: ";

/// The size of each mount's tmpfs: room for the largest allowed secret (64 keys × 64 KiB).
const TMPFS_OPTIONS: &str = "size=8m,mode=0755";

/// Everything an instance needs, sent by runed over a pipe. No `Debug`: it holds values.
#[derive(Default, Deserialize, Serialize)]
pub struct Launch {
    pub args: Vec<String>,
    pub command: String,
    /// The whole environment, in the order it was built (no variable of runed leaks in).
    pub env: Vec<(String, Zeroizing<String>)>,
    pub mounts: Vec<MountData>,
    /// runed's pid: the launcher exits if its parent is already gone.
    pub parent: u32,
    /// Only check that a private mount namespace with a tmpfs can be made, then exit 0.
    #[serde(default)]
    pub probe: bool,
    pub workdir: Option<String>,
}

/// One mount: a directory with one file per key. No `Debug`: it holds values.
#[derive(Default, Deserialize, Serialize)]
pub struct MountData {
    pub files: Vec<(String, Zeroizing<String>)>,
    /// 0o400 for secrets, 0o444 for configmaps.
    pub mode: u32,
    pub path: String,
}

/// Runs the launcher: reads the launch from standard input and `exec`s it. Returns only on
/// failure, with the exit code.
pub fn main() -> u8 {
    match launch() {
        Ok(()) => 0,
        Err(reason) => {
            let mut line = FAILED_MARKER.to_vec();
            line.extend_from_slice(reason.replace('\n', " ").as_bytes());
            line.push(b'\n');
            let _ = std::io::stdout().lock().write_all(&line);
            127
        }
    }
}

fn launch() -> Result<(), String> {
    let mut bytes = Zeroizing::new(Vec::new());
    std::io::stdin()
        .lock()
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read the launch from runed: {e}"))?;
    let launch: Launch = serde_json::from_slice(&bytes)
        .map_err(|e| format!("runed sent a launch this launcher cannot read: {e}"))?;
    drop(bytes);
    // The instance dies with runed (a crash included) instead of running on unsupervised. The
    // signal survives `exec`; a parent that died before this call is caught just below.
    nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
        .map_err(|e| format!("cannot set the parent-death signal: {e}"))?;
    if nix::unistd::getppid().as_raw() != launch.parent as i32 {
        return Err("runed exited before the instance started".to_owned());
    }
    if launch.probe {
        private_namespace()?;
        return tmpfs(Path::new("/tmp"));
    }
    if !launch.mounts.is_empty() {
        private_namespace()?;
        for m in &launch.mounts {
            materialise(m)?;
        }
    }
    let mut command = std::process::Command::new(&launch.command);
    command
        .args(&launch.args)
        .env_clear()
        .envs(launch.env.iter().map(|(k, v)| (k, v.as_str())))
        .current_dir(launch.workdir.as_deref().unwrap_or("/"));
    let error = command.exec();
    Err(format!("cannot run `{}`: {error}", launch.command))
}

/// A mount namespace of our own whose mounts do not propagate back to the host.
fn private_namespace() -> Result<(), String> {
    unshare(CloneFlags::CLONE_NEWNS)
        .map_err(|e| format!("cannot create a private mount namespace: {e}"))?;
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(|e| format!("cannot make `/` private in the mount namespace: {e}"))
}

fn tmpfs(path: &Path) -> Result<(), String> {
    mount(
        Some("tmpfs"),
        path,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some(TMPFS_OPTIONS),
    )
    .map_err(|e| format!("cannot mount a tmpfs at `{}`: {e}", path.display()))
}

fn materialise(m: &MountData) -> Result<(), String> {
    let path = Path::new(&m.path);
    // A missing directory is created on the host as an empty mount point (like a bind mount's
    // target); the files themselves only ever exist on the tmpfs.
    std::fs::create_dir_all(path)
        .map_err(|e| format!("cannot create the mount point `{}`: {e}", m.path))?;
    tmpfs(path)?;
    for (key, value) in &m.files {
        let file = path.join(key);
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(m.mode)
            .open(&file)
            .map_err(|e| format!("cannot create `{}`: {e}", file.display()))?;
        out.write_all(value.as_bytes())
            .map_err(|e| format!("cannot write `{}`: {e}", file.display()))?;
        // The umask may have narrowed the mode at creation: set it exactly.
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(m.mode))
            .map_err(|e| format!("cannot set the mode of `{}`: {e}", file.display()))?;
    }
    mount(
        None::<&str>,
        path,
        None::<&str>,
        MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some(TMPFS_OPTIONS),
    )
    .map_err(|e| format!("cannot make the tmpfs at `{}` read-only: {e}", m.path))
}
