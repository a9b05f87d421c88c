//! Taking the KEK out of runed's environment (issue #12): `/proc/<pid>/environ` shows the
//! environment a process was started with for as long as it runs, and edition 2024's
//! `remove_var` is `unsafe` (forbidden here) — and would not change that file anyway.
//!
//! So a runed that finds the KEK variable set reads it, writes it into a pipe, and re-executes
//! itself (the same binary, `/proc/self/exe`, the same arguments, the same pid) with the variable
//! removed and [`HANDOVER_FD`] naming the pipe's read end. The new image reads the key from the
//! pipe once, closes it, and [`crate::server::kek::load`] takes it from here
//! ([`take_handed_over`]) instead of from the environment. The key never reaches the new
//! environment, the command line or the disk.
//!
//! In: the KEK configuration. Out: the key held in memory (zeroised on drop), or an error; on
//! the re-exec path this function does not return. Must not happen here: the key in an error or
//! a log line.

use std::io::Read as _;
use std::sync::Mutex;

use zeroize::Zeroizing;

use crate::server_config::{KekConfig, KekSource};

/// The variable naming the descriptor the key is handed over on (a number, not the key).
pub const HANDOVER_FD: &str = "RUNE_KEK_HANDOVER_FD";

/// The key read from the pipe, until the KEK loader takes it.
static HANDED_OVER: Mutex<Option<Zeroizing<String>>> = Mutex::new(None);

/// Why the key could not be handed over.
#[derive(Debug, thiserror::Error)]
pub enum HandoverError {
    #[error("cannot hand the KEK from `{var}` over to the re-executed runed: {source}")]
    Pipe {
        var: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot re-execute runed without the KEK variable `{var}`: {source}")]
    Exec {
        var: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the KEK handed over on descriptor `{fd}`: {detail}")]
    Read { detail: String, fd: String },
}

/// Reads a handed-over key, or — when the configured KEK variable is set — re-executes runed
/// without it (and then does not return).
pub fn hand_over(config: &KekConfig) -> Result<(), HandoverError> {
    if let Some(fd) = std::env::var_os(HANDOVER_FD) {
        return receive(&fd.to_string_lossy());
    }
    if config.source != KekSource::Env {
        return Ok(());
    }
    let Some(value) = std::env::var_os(&config.env_var) else {
        // The loader reports the unset variable.
        return Ok(());
    };
    let value = Zeroizing::new(value.into_encoded_bytes());
    let pipe = |source| HandoverError::Pipe {
        var: config.env_var.clone(),
        source,
    };
    // Without close-on-exec: the read end must survive the exec.
    let (read, write) = nix::unistd::pipe().map_err(|e| pipe(e.into()))?;
    let mut writer = std::fs::File::from(write);
    // 32 bytes in base64 fit in the pipe's buffer many times over; a longer value is malformed
    // and the loader says so, so only as much as fits is written.
    let fits = &value[..value.len().min(4096)];
    std::io::Write::write_all(&mut writer, fits).map_err(pipe)?;
    drop(writer);
    drop(value);
    let fd = std::os::fd::AsRawFd::as_raw_fd(&read);
    let source = crate::server::harden::reexec(|command| {
        command
            .env_remove(&config.env_var)
            .env(HANDOVER_FD, fd.to_string());
    });
    Err(HandoverError::Exec {
        var: config.env_var.clone(),
        source,
    })
}

/// The key handed over by the previous image of this process, once.
pub fn take_handed_over() -> Option<Zeroizing<String>> {
    HANDED_OVER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take()
}

fn receive(fd: &str) -> Result<(), HandoverError> {
    let error = |detail: String| HandoverError::Read {
        detail,
        fd: fd.to_owned(),
    };
    let number: std::os::fd::RawFd = fd
        .parse()
        .ok()
        .filter(|n| *n > 2)
        .ok_or_else(|| error("not a descriptor number".to_owned()))?;
    // Opening the descriptor through /proc reads the same pipe without `unsafe` ownership of a
    // raw descriptor; the inherited one is closed right after.
    let path = format!("/proc/self/fd/{number}");
    let mut file = std::fs::File::open(&path).map_err(|e| error(e.to_string()))?;
    let mut key = Zeroizing::new(Vec::with_capacity(64));
    let read = file.read_to_end(&mut key);
    drop(file);
    let _ = nix::unistd::close(number);
    read.map_err(|e| error(e.to_string()))?;
    let text = String::from_utf8(std::mem::take(&mut *key)).map_err(|e| {
        let mut bytes = e.into_bytes();
        zeroize::Zeroize::zeroize(&mut bytes);
        error("the key is not UTF-8".to_owned())
    })?;
    *HANDED_OVER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Zeroizing::new(text));
    Ok(())
}
