//! How many malloc arenas runed's threads share (issue #14). glibc gives threads arenas of
//! their own, up to eight per core, and memory one arena freed stays out of the others' reach:
//! runed reads a batch on one thread, checks it on others and applies it on a third, so a
//! 100,000-object apply kept some 100 MB more than its heap ever held at once. Two arenas keep
//! it near the heap's own peak (469 → under 400 MB) at no cost on a few cores.
//!
//! glibc reads `MALLOC_ARENA_MAX` only when a process starts, and setting it from inside needs
//! `mallopt` (an `unsafe` call, forbidden here); so a runed started without it re-executes
//! itself (the same binary, arguments and pid) with it set. An operator's own value is kept,
//! and `process:` services start from an environment of their own, without it.

/// The variable glibc reads when a process starts.
pub const VAR: &str = "MALLOC_ARENA_MAX";

/// Arenas runed uses unless the environment says otherwise.
const ARENAS: &str = "2";

/// Re-executes runed with [`VAR`] set when its environment does not set it, and then does not
/// return; returns at once when it is set (or runed is not built against glibc). The error is
/// why the re-execution failed: runed then goes on as it is.
pub fn limit() -> Result<(), std::io::Error> {
    if !cfg!(target_env = "gnu") || std::env::var_os(VAR).is_some() {
        return Ok(());
    }
    let error = crate::server::harden::reexec(|command| {
        command.env(VAR, ARENAS);
    });
    Err(error)
}
