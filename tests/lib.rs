//! rune's integration tests: one binary (see `Cargo.toml`), driving the real `rune` binary and
//! the library's public pipeline.

mod api;
mod cast;
mod cli;
mod faults;
mod fixtures;
mod git;
mod input;
mod isolation;
mod kubectl;
mod lint;
mod parse_budget;
mod permissions;
mod properties;
mod runed;
mod schema;
mod seal;
mod sealed;
mod services;
mod structure;
mod tls;
mod transport;
mod untrusted;
mod util;
mod validation;
mod yaml_defects;
mod yaml_suite;
