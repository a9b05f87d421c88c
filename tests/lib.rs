//! rune's integration tests: one binary (see `Cargo.toml`), driving the real `rune` binary and
//! the library's public pipeline.

mod api;
mod audit;
mod cast;
mod cli;
mod fixtures;
mod git;
mod history;
mod input;
mod isolation;
mod keks;
mod lint;
mod permissions;
mod pg;
#[path = "support/pg_cluster.rs"]
mod pg_cluster;
mod pg_failover;
mod properties;
mod runed;
mod schema;
mod seal;
mod seal_identity;
mod sealed;
mod services;
mod structure;
mod tls;
mod transport;
mod untrusted;
mod util;
mod yaml_defects;
mod yaml_suite;
