//! rune's integration tests: one binary (see `Cargo.toml`), driving the real `rune` binary and
//! the library's public pipeline.

mod api;
mod cast;
mod fixtures;
mod git;
mod lint;
mod properties;
mod runed;
mod schema;
mod seal;
mod sealed;
mod services;
mod tls;
mod util;
