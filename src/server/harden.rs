//! What runed does to its own process before it holds a key (issue #12): no core dumps; and
//! how it re-executes itself when what it changes is read only at a start ([`reexec`]).
//!
//! A core dump of runed holds whatever was in memory — the KEK, DEKs, plaintext on its way in or
//! out — written to disk where the dump handler puts it. So runed sets `RLIMIT_CORE` to 0 (soft
//! and hard: nothing in runed may raise it again; the services it starts inherit it) and clears
//! its dumpable flag (`PR_SET_DUMPABLE`), which also makes `/proc/<pid>/mem`, `environ` and the
//! like unreadable to other processes of the same uid and stops them from attaching with ptrace.
//! An `execve` sets the flag again, so runed calls this after its re-exec too (see
//! [`crate::server::kek_env`]).

use nix::sys::resource::{Resource, setrlimit};

/// Turns core dumps off for this process; the caller refuses to start when it fails.
pub fn no_core_dumps() -> Result<(), nix::Error> {
    setrlimit(Resource::RLIMIT_CORE, 0, 0)?;
    nix::sys::prctl::set_dumpable(false)
}

/// Replaces runed's image with itself — the same binary (`/proc/self/exe`), arguments and pid
/// — with `change` made to the command (its environment): what glibc and `/proc/<pid>/environ`
/// read only at a start. Returns only why it failed.
pub fn reexec(change: impl FnOnce(&mut std::process::Command)) -> std::io::Error {
    use std::os::unix::process::CommandExt as _;
    let mut command = std::process::Command::new("/proc/self/exe");
    command
        .arg0(std::env::args_os().next().unwrap_or_default())
        .args(std::env::args_os().skip(1));
    change(&mut command);
    command.exec()
}
