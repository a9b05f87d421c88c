//! The server side: the engine that owns state (store, envelope encryption, versions, limits).
//! `runed` serves it over HTTP ([`http`]) and runs `process:` services ([`runner`]); `rune` runs
//! the engine embedded when no server is configured (and runs no services then).

pub mod arenas;
pub mod audit;
pub mod backend;
pub mod clock;
pub mod copy;
pub mod crypto;
pub mod embedded;
pub mod engine;
pub mod harden;
pub mod http;
pub mod kek;
pub mod kek_env;
pub mod kek_mode;
pub mod keyring;
pub mod leader;
pub mod log;
pub mod runner;
pub mod store;
pub mod tokens;
pub mod violation;
