//! rune: declarative `GitOps` for namespaces, secrets, configmaps and services.
//!
//! The library follows the pipeline: [`source`] (texts and spans) → [`parse`] (YAML documents)
//! → [`validate`] (resources and findings) → [`diag`] (rendering). The binaries in `src/bin`
//! are thin shells over [`cli`].

pub mod cli;
pub mod client;
pub mod diag;
pub mod duration;
pub mod edit;
pub mod fs;
pub mod git;
pub mod limits;
pub mod local;

pub mod par;
pub mod parse;
pub mod plan;
pub mod resource;
pub mod runed;
pub mod secrets;
pub mod server;
pub mod server_config;
pub mod source;
pub mod suggest;
pub mod validate;
pub mod wire;
