//! Fail closed (SPEC §4.4): once a token has been created for a store, authentication stays
//! required, whatever later happens to `tokens.json`.
//!
//! In: a data directory. Out: the marker `auth-required` (0600) that `runed token create`
//! writes before it stores the first token, and whether it exists. runed copies the fact into
//! the store as soon as it sees it (see `Engine::record_auth_required`), so deleting this file
//! as well does not reopen a store runed has served with a token. The file exists because
//! `runed token create` runs while runed holds the store (its lock keeps anyone else out), so
//! it cannot write the fact into the store itself.
//! Must not happen here: removing the marker — nothing in runed ever does.

use std::path::{Path, PathBuf};

use crate::server::clock;
use crate::server::tokens::TokenError;

const MARKER_FILE: &str = "auth-required";

/// The marker of a data directory.
pub fn marker_path(data_dir: &Path) -> PathBuf {
    data_dir.join(MARKER_FILE)
}

/// Whether a token was ever created in this data directory (by the marker; runed also asks
/// the store).
pub fn marked(data_dir: &Path) -> bool {
    // Anything but a clear "not there" (a permission problem, say) counts as marked.
    !matches!(
        std::fs::symlink_metadata(marker_path(data_dir)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound
    )
}

/// Writes the marker unless it exists; a token is stored only after this succeeded.
pub fn mark(data_dir: &Path) -> Result<(), TokenError> {
    if marked(data_dir) {
        return Ok(());
    }
    let path = marker_path(data_dir);
    let text = format!(
        "A token was created for this store at {}: runed requires authentication from now on, \
         even when every token is revoked or tokens.json is deleted (README: runed, Tokens). Deleting this \
         file does not reopen the server: the store records it as well.\n",
        clock::now()
    );
    crate::fs::create_private_dirs(data_dir)
        .and_then(|()| crate::fs::replace_private(&path, text.as_bytes()))
        .map_err(|source| TokenError::Io {
            action: "write",
            path,
            source,
        })
}
