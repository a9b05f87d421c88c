//! rune's integration tests: one binary (see `Cargo.toml`), driving the real `rune` binary.

mod fixtures;
mod lint;
mod util;
