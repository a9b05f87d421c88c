//! Open mode and fail closed (SPEC §4.4): whether runed serves without authentication.
//!
//! In: `auth.required`, whether the listener is loopback, the token file, the fail-closed
//! marker of the data directory and the store's record. Out: [`AuthMode::closed`] — once a
//! token has existed for the store it answers `true` forever, and the first time it does the
//! fact goes into the store and runed's log. Must not happen here: a way back to open mode.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::server::engine::Engine;
use crate::server::log;
use crate::server::tokens::{Tokens, fail_closed};

/// Whether authentication is required for good, and why it may still be open.
#[derive(Debug)]
pub struct AuthMode {
    /// Latched: once `true`, never `false` again.
    closed: AtomicBool,
    data_dir: PathBuf,
}

impl AuthMode {
    /// The mode at start: closed when the store or the marker says a token was ever created.
    pub fn new(data_dir: PathBuf, engine: &Engine) -> Self {
        // A store that cannot say counts as closed.
        let recorded = engine.auth_required().unwrap_or(true);
        Self {
            closed: AtomicBool::new(recorded || fail_closed::marked(&data_dir)),
            data_dir,
        }
    }

    /// Whether a token has ever existed for this store (so authentication is required for
    /// good). The first time it finds one, it records that in the store and says so in the log.
    pub fn closed(&self, tokens: &Tokens, engine: &Engine) -> bool {
        if self.closed.load(Ordering::Acquire) {
            return true;
        }
        // An unreadable token file counts as holding tokens.
        let tokens_exist = tokens.current().map_or(true, |t| !t.is_empty());
        if !tokens_exist && !fail_closed::marked(&self.data_dir) {
            return false;
        }
        if !self.closed.swap(true, Ordering::AcqRel) {
            log::warn(
                "authentication state: a token now exists for this store — leaving open mode for good: every request needs a token from now on, even after every token is revoked (fail closed)",
            );
            record(engine);
        }
        true
    }

    /// Copies the latch into the store, where it outlives the marker file and the token file.
    pub fn persist(&self, engine: &Engine) {
        if self.closed.load(Ordering::Acquire) {
            record(engine);
        }
    }
}

fn record(engine: &Engine) {
    if let Err(error) = engine.record_auth_required() {
        log::warn(&format!(
            "cannot record in the store that authentication is required ({error}); the marker file still keeps the server closed"
        ));
    }
}
