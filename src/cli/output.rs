//! Where output goes and how it looks: [`print()`] is the one writer of a command's stdout, and
//! colour and width are decided once from flags, `NO_COLOR` and the terminal.

use std::io::{IsTerminal, Write};

use crate::cli::error::CliError;
use crate::diag::render::human::Style;

/// Writes a command's output to stdout. A failure is [`CliError::Output`], which decides what
/// a closed stdout means (a quiet exit 0).
pub fn print(text: impl AsRef<[u8]>) -> Result<(), CliError> {
    std::io::stdout()
        .lock()
        .write_all(text.as_ref())
        .map_err(CliError::Output)
}

/// Terminal facts the renderers need.
#[derive(Clone, Copy, Debug)]
pub struct Output {
    color: bool,
    width: usize,
}

impl Output {
    #[must_use]
    pub fn detect(no_color: bool) -> Self {
        let color = !no_color
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            && std::io::stdout().is_terminal();
        let width = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(100);
        Self { color, width }
    }

    #[must_use]
    pub fn style(&self) -> Style {
        Style {
            color: self.color,
            width: self.width,
        }
    }
}
