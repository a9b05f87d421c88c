//! The init stage of the launcher: PID 1 of the instance's PID namespace (see
//! [`super`](crate::server::runner::launch)).
//!
//! In: the [`Launch`] from the outer stage. Out: a fresh `/proc` that shows only this
//! namespace, the bounding, ambient and inheritable capability sets emptied and `no_new_privs`
//! set (all inherited by the command), the command started as the service's uid and gid with no
//! supplementary groups, every orphan reaped, and the command's exit as this process's.
//!
//! Must not happen here: the command starting with any privilege left, or as root.

use std::os::unix::process::CommandExt;
use std::process::Stdio;

use caps::CapSet;
use nix::mount::{MsFlags, mount};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{Gid, Pid, Uid};

use super::{Launch, exit_code};

/// Runs the init stage; returns the command's exit code.
pub(super) fn run(launch: &Launch) -> Result<u8, String> {
    // The outer stage blocked the termination signals, and a mask survives `spawn` and `exec`:
    // the command must end on runed's SIGTERM. (As PID 1 this process ignores it regardless.)
    let _ = super::termination_signals().thread_unblock();
    mount(
        Some("proc"),
        "/proc",
        Some("proc"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        None::<&str>,
    )
    .map_err(|e| format!("cannot mount the instance's own /proc: {e}"))?;
    drop_inherited_privileges()?;
    if launch.probe {
        return become_service(launch.uid).map(|()| 0);
    }
    let mut command = std::process::Command::new(&launch.command);
    command
        .args(&launch.args)
        .env_clear()
        .envs(launch.env.iter().map(|(k, v)| (k, v.as_str())))
        .current_dir(launch.workdir.as_deref().unwrap_or("/"))
        .stdin(Stdio::null())
        // Run by root, `std` also drops every supplementary group before `setuid`.
        .uid(launch.uid)
        .gid(launch.uid);
    let child = command
        .spawn()
        .map_err(|e| format!("cannot run `{}`: {e}", launch.command))?;
    let main = Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
    // `child` is not waited through: this loop reaps it and every orphan of the namespace.
    drop(child);
    reap_until(main)
}

/// What no process started from here may ever get back: every capability outside the bounding
/// set, ambient and inheritable capabilities, and privileges through `exec` (setuid files, file
/// capabilities). This process keeps its own effective capabilities to set the command's uid.
fn drop_inherited_privileges() -> Result<(), String> {
    caps::clear(None, CapSet::Bounding)
        .map_err(|e| format!("cannot clear the capability bounding set: {e}"))?;
    caps::clear(None, CapSet::Ambient)
        .map_err(|e| format!("cannot clear the ambient capabilities: {e}"))?;
    caps::clear(None, CapSet::Inheritable)
        .map_err(|e| format!("cannot clear the inheritable capabilities: {e}"))?;
    nix::sys::prctl::set_no_new_privs().map_err(|e| format!("cannot set no_new_privs: {e}"))
}

/// The probe's last check: this process can become the service's uid and then holds nothing.
fn become_service(uid: u32) -> Result<(), String> {
    nix::unistd::setgroups(&[]).map_err(|e| format!("cannot drop groups: {e}"))?;
    let (u, g) = (Uid::from_raw(uid), Gid::from_raw(uid));
    nix::unistd::setresgid(g, g, g).map_err(|e| format!("cannot set gid {uid}: {e}"))?;
    nix::unistd::setresuid(u, u, u).map_err(|e| format!("cannot set uid {uid}: {e}"))?;
    let left = caps::read(None, CapSet::Permitted).unwrap_or_default();
    if !left.is_empty() || Uid::effective().is_root() {
        return Err("dropping to the service's uid left privileges".to_owned());
    }
    Ok(())
}

/// Reaps children until `main` has exited; its exit is ours (the kernel then ends whatever is
/// left in the namespace).
fn reap_until(main: Pid) -> Result<u8, String> {
    loop {
        match waitpid(None::<Pid>, None) {
            Ok(WaitStatus::Exited(pid, code)) if pid == main => {
                return Ok(exit_code(Some(code), None));
            }
            Ok(WaitStatus::Signaled(pid, signal, _)) if pid == main => {
                return Ok(exit_code(None, Some(signal as i32)));
            }
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(format!("lost the command: {e}")),
        }
    }
}
