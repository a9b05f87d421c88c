//! rune's integration tests: one binary (see `Cargo.toml`), driving the real `rune` binary and
//! the library's public pipeline.

mod api;
mod audit;
mod big_body;
mod cast;
mod cli;
mod faults;
mod fixtures;
mod git;
mod grouped;
mod history;
mod import;
mod input;
mod interrupt;
mod isolation;
mod keks;
mod kubectl;
mod lint;
mod parse_budget;
mod permissions;
mod pg;
#[path = "support/pg_cluster.rs"]
mod pg_cluster;
mod pg_failover;
mod pg_hang;
mod properties;
mod reseal;
mod runed;
mod schema;
mod seal;
mod seal_identity;
mod sealed;
mod server_findings;
mod services;
mod structure;
mod target;
mod tls;
mod transport;
mod untrusted;
mod util;
mod validation;
mod yaml_defects;
mod yaml_errors;
mod yaml_suite;
