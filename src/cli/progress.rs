//! Progress on stderr for long work (reading many files, a large plan or apply): a spinner with
//! the stage and its count, drawn only when stderr is a terminal and `-q` is off.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A spinner that stays invisible where nobody watches.
pub struct Progress(ProgressBar);

impl Progress {
    pub fn new(quiet: bool) -> Self {
        if quiet || !std::io::stderr().is_terminal() {
            return Self(ProgressBar::with_draw_target(
                None,
                ProgressDrawTarget::hidden(),
            ));
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(120));
        Self(bar)
    }

    /// Names the stage now running: `validating 10,000 resources`.
    pub fn stage(&self, message: impl Into<String>) {
        self.0.set_message(message.into());
    }

    /// Clears the spinner before anything else is printed.
    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}
