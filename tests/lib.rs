//! rune's integration tests: one binary (see `Cargo.toml`), driving the real `rune` binary and
//! the library's public pipeline.

mod api;
mod big_body;
mod cast;
mod cli;
mod fixtures;
mod git;
mod grouped;
mod import;
mod input;
mod interrupt;
mod isolation;
mod lint;
mod permissions;
mod properties;
mod runed;
mod schema;
mod seal;
mod sealed;
mod server_findings;
mod services;
mod structure;
mod target;
mod tls;
mod transport;
mod untrusted;
mod util;
mod yaml_defects;
mod yaml_errors;
mod yaml_suite;
