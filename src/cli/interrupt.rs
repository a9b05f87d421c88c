//! Ctrl-C (SIGINT) and SIGTERM during a cast (issue #13). Interrupted while it applies, `rune`
//! cannot know whether the server committed the batch — it is all-or-nothing, and runed
//! finishes an apply it has begun even when the client has gone — so it says so, and how to
//! check (`rune diff`), before it exits with 130. Interrupted at any other stage, it exits 130
//! without a word, as it would have died of the signal.
//!
//! How: the signals are blocked in the calling thread before the cast starts any other thread
//! (the spinner's, the parallel parser's), so every thread inherits the block, and one watcher
//! thread takes them with `sigwait`: no signal handler, so no `unsafe`.

use std::io::Write;
use std::sync::Arc;

use nix::sys::signal::{SigSet, Signal};

use crate::cli::error::ExitCode;

/// The watch over one cast; [`Watch::applying`] says which paths to name in the message.
pub struct Watch {
    applying: Arc<std::sync::Mutex<Option<String>>>,
}

/// Starts watching for SIGINT and SIGTERM. Call it before the command starts a thread.
#[must_use]
pub fn watch() -> Watch {
    let applying: Arc<std::sync::Mutex<Option<String>>> = Arc::default();
    let mut signals = SigSet::empty();
    signals.add(Signal::SIGINT);
    signals.add(Signal::SIGTERM);
    if signals.thread_block().is_err() {
        return Watch { applying };
    }
    let state = applying.clone();
    let started = std::thread::Builder::new()
        .name("interrupt".to_owned())
        .spawn(move || {
            if signals.wait().is_err() {
                return;
            }
            let check = state.lock().ok().and_then(|s| s.clone());
            if let Some(check) = check {
                let _ = writeln!(
                    std::io::stderr().lock(),
                    "\nrune: interrupted while applying: the apply may have committed (it is all-or-nothing, and the server finishes an apply it has begun even when rune has gone); run `{check}` to see whether it did"
                );
            }
            std::process::exit(ExitCode::Interrupted as i32);
        });
    if started.is_err() {
        let _ = signals.thread_unblock();
    }
    Watch { applying }
}

impl Watch {
    /// From now on an interruption leaves the server's state unknown; `check` is the command
    /// that tells (`rune diff FILES…`).
    pub fn applying(&self, check: String) {
        if let Ok(mut state) = self.applying.lock() {
            *state = Some(check);
        }
    }

    /// The apply answered: an interruption from now on needs no word.
    pub fn applied(&self) {
        if let Ok(mut state) = self.applying.lock() {
            *state = None;
        }
    }
}

/// `rune diff ARGS…` for the message: what the user typed, quoted where a shell would need it.
#[must_use]
pub fn diff_command(args: &[String]) -> String {
    let mut command = String::from("rune diff");
    for path in args {
        command.push(' ');
        if path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@+,".contains(c))
        {
            command.push_str(path);
        } else {
            command.push('\'');
            command.push_str(&path.replace('\'', "'\\''"));
            command.push('\'');
        }
    }
    command
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_check_command_quotes_what_a_shell_would_split() {
        let args = ["a.yaml".to_owned(), "my dir/b.yaml".to_owned()];
        assert_eq!(
            super::diff_command(&args),
            "rune diff a.yaml 'my dir/b.yaml'"
        );
    }
}
