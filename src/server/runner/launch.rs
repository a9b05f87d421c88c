//! The instance launcher: `runed __instance`, the short-lived processes between runed and a
//! service's command, which put the command in its sandbox (SPEC §5).
//!
//! In: one [`Launch`] as JSON on standard input (a pipe from runed; never a file). Out: the
//! service's command, running as the service's own uid and gid with exactly the built
//! environment, in this sandbox:
//! - a private mount namespace (`/` made recursively private) with a small `nosuid,nodev` tmpfs
//!   at every mount path, owned by the service's uid (mode 0500), one file per key written with
//!   its exact bytes and mode (0400 secrets, 0444 configmaps) and owned by that uid, then the
//!   tmpfs remounted read-only. The files live only in that namespace's memory: nothing reaches
//!   the disk, and nothing is visible from outside the instance;
//! - a PID namespace of its own with its own `/proc`, so it sees and can signal only itself;
//! - no capabilities (bounding, ambient and inheritable sets cleared, and a non-root uid clears
//!   the rest at `exec`), `no_new_privs`, no supplementary groups.
//!
//! Three processes: this one (the *outer* stage, in runed's PID namespace: it makes the
//! namespaces and the mounts, then waits and reports the exit), the *init* stage ([`init`],
//! started again from runed's executable as PID 1 of the new PID namespace: it mounts `/proc`,
//! drops what children could inherit, starts the command and reaps), and the command itself. The
//! init stage exists because PID 1 ignores signals it has no handler for: the command, as PID 2,
//! ends on runed's SIGTERM like any process.
//!
//! Why separate processes: runed is multi-threaded, and allocating or writing files between
//! `fork` and `exec` there is unsound; these are single-threaded from their first instruction,
//! so they may do all of that, and they start children through `std::process` (no `unsafe`).
//!
//! A failure before the command runs is reported to runed as one line on standard output that
//! starts with [`FAILED_MARKER`] (runed strips it from the log), and the process exits 127.

mod init;

use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Stdio;

use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, unshare};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// The first bytes of the launcher's report of a failure before `exec`.
pub const FAILED_MARKER: &[u8] = b"\0rune-launch-failed: ";

/// The size of each mount's tmpfs: room for the largest allowed secret (64 keys × 64 KiB).
const TMPFS_SIZE: &str = "size=8m";

/// Which process of the launch reads this [`Launch`].
#[derive(Clone, Copy, Debug, Default, Deserialize, Eq, PartialEq, Serialize)]
pub enum Stage {
    /// Started by runed: namespaces and mounts.
    #[default]
    Outer,
    /// PID 1 of the new PID namespace: `/proc`, privileges, the command.
    Init,
}

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
    /// Only check that the whole sandbox can be made (namespaces, tmpfs, `/proc`, dropping to
    /// `uid`), then exit 0.
    #[serde(default)]
    pub probe: bool,
    #[serde(default)]
    pub stage: Stage,
    /// The service's own uid, also its gid (never 0: the launcher refuses it).
    pub uid: u32,
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

/// Runs the launcher: reads the launch from standard input and runs its stage. Returns the
/// exit code: the command's (128 + the signal that ended it), or 127 after a failure.
pub fn main() -> u8 {
    match launch() {
        Ok(code) => code,
        Err(reason) => {
            let mut line = FAILED_MARKER.to_vec();
            line.extend_from_slice(reason.replace('\n', " ").as_bytes());
            line.push(b'\n');
            let _ = std::io::stdout().lock().write_all(&line);
            127
        }
    }
}

fn launch() -> Result<u8, String> {
    // The instance dies with its parent (runed, or the outer stage; a crash included) instead
    // of running on unsupervised. Set before the launch is read: a parent killed while writing
    // it takes this stage along, rather than leaving it to report a half-read launch as a
    // failure of its own. The signal survives `exec`.
    nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
        .map_err(|e| format!("cannot set the parent-death signal: {e}"))?;
    let mut bytes = Zeroizing::new(Vec::new());
    std::io::stdin()
        .lock()
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read the launch from runed: {e}"))?;
    if bytes.is_empty() {
        // Nothing was written: the parent died before it could. Whoever supervises it saw how
        // it ended; a report from here would only hide that (a `kill -9` of an instance read
        // as "cannot read the launch").
        return Ok(127);
    }
    let launch: Launch = serde_json::from_slice(&bytes)
        .map_err(|e| format!("runed sent a launch this launcher cannot read: {e}"))?;
    drop(bytes);
    if launch.uid == 0 {
        return Err("refusing to run a service as root".to_owned());
    }
    match launch.stage {
        Stage::Outer => outer(launch),
        Stage::Init => init::run(&launch),
    }
}

/// The outer stage: namespaces, mounts, the init stage, and its exit as ours.
fn outer(mut launch: Launch) -> Result<u8, String> {
    // A parent that died before `set_pdeathsig` is caught here.
    if nix::unistd::getppid().as_raw() != launch.parent as i32 {
        return Err("runed exited before the instance started".to_owned());
    }
    sandbox_namespaces()?;
    if launch.probe {
        tmpfs(Path::new("/tmp"), launch.uid)?;
    }
    for m in &launch.mounts {
        materialise(m, launch.uid)?;
    }
    // runed ends an instance with SIGTERM to its process group: that is for the command. This
    // stage goes on waiting and reports how the command ended (SIGKILL still ends it, and the
    // init stage with it, through the parent-death signal).
    let _ = termination_signals().thread_block();
    launch.stage = Stage::Init;
    let mut child = std::process::Command::new("/proc/self/exe")
        .arg(crate::server::runner::LAUNCHER_COMMAND)
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start the instance's init process: {e}"))?;
    let bytes = crate::secrets::wipe::to_json(&launch).unwrap_or_default();
    drop(launch);
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(&bytes);
    }
    drop(bytes);
    let status = child
        .wait()
        .map_err(|e| format!("lost the instance's init process: {e}"))?;
    Ok(exit_code(status.code(), status.signal()))
}

/// A shell's convention: the code, or 128 + the signal.
fn exit_code(code: Option<i32>, signal: Option<i32>) -> u8 {
    match (code, signal) {
        (Some(code), _) => u8::try_from(code & 0xff).unwrap_or(1),
        (None, Some(signal)) => u8::try_from(128 + (signal & 0x7f)).unwrap_or(1),
        (None, None) => 1,
    }
}

fn termination_signals() -> nix::sys::signal::SigSet {
    use nix::sys::signal::{SigSet, Signal};
    let mut set = SigSet::empty();
    for signal in [
        Signal::SIGTERM,
        Signal::SIGINT,
        Signal::SIGHUP,
        Signal::SIGQUIT,
    ] {
        set.add(signal);
    }
    set
}

/// A mount namespace of our own whose mounts do not propagate back to the host, and a PID
/// namespace for the children (the init stage is its PID 1).
fn sandbox_namespaces() -> Result<(), String> {
    unshare(CloneFlags::CLONE_NEWNS)
        .map_err(|e| format!("cannot create a private mount namespace: {e}"))?;
    unshare(CloneFlags::CLONE_NEWPID).map_err(|e| format!("cannot create a PID namespace: {e}"))?;
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(|e| format!("cannot make `/` private in the mount namespace: {e}"))
}

/// The tmpfs options: only the service's uid may list and read it.
fn tmpfs_options(uid: u32) -> String {
    format!("{TMPFS_SIZE},mode=0500,uid={uid},gid={uid}")
}

fn tmpfs(path: &Path, uid: u32) -> Result<(), String> {
    mount(
        Some("tmpfs"),
        path,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some(tmpfs_options(uid).as_str()),
    )
    .map_err(|e| format!("cannot mount a tmpfs at `{}`: {e}", path.display()))
}

fn materialise(m: &MountData, uid: u32) -> Result<(), String> {
    let path = Path::new(&m.path);
    // runed creates missing mount points before the launch (and removes them with the
    // service); this only covers a directory removed in between.
    std::fs::create_dir_all(path)
        .map_err(|e| format!("cannot create the mount point `{}`: {e}", m.path))?;
    tmpfs(path, uid)?;
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
        std::os::unix::fs::fchown(&out, Some(uid), Some(uid))
            .map_err(|e| format!("cannot give `{}` to the service: {e}", file.display()))?;
        // The umask may have narrowed the mode at creation: set it exactly.
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(m.mode))
            .map_err(|e| format!("cannot set the mode of `{}`: {e}", file.display()))?;
    }
    mount(
        None::<&str>,
        path,
        None::<&str>,
        MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some(tmpfs_options(uid).as_str()),
    )
    .map_err(|e| format!("cannot make the tmpfs at `{}` read-only: {e}", m.path))
}
