//! runed's log: one line per event on stderr, `2026-11-28T15:04:05Z INFO message`. Callers pass
//! names, paths and counts — never a request body, so never a secret value.

use std::io::Write;

use crate::server::clock;

pub fn info(message: &str) {
    line("INFO", message);
}

pub fn warn(message: &str) {
    line("WARN", message);
}

pub fn error(message: &str) {
    line("ERROR", message);
}

fn line(level: &str, message: &str) {
    let _ = writeln!(
        std::io::stderr().lock(),
        "{} {level} {message}",
        clock::now()
    );
}
