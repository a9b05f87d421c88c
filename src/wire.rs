//! The one contract between the client (`rune`) and the server (`runed`, or the engine embedded
//! in `rune`): objects, batches, runner status and errors, as they travel as JSON.
//!
//! Both sides depend on this module and never on each other. Nothing here does I/O, reads a
//! clock or knows about HTTP libraries; the only mapping from a failure to an HTTP status and to
//! an exit code is [`error::ErrorKind`].

pub mod admin;
pub mod audit;
pub mod batch;
pub mod error;
pub mod history;
pub mod object;
pub mod path;
pub mod runner;
pub mod strict;
