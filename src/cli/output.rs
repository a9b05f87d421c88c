//! How output looks here: colour and width, decided once from flags, `NO_COLOR` and the terminal.

use std::io::IsTerminal;

use crate::diag::render::human::Style;

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
