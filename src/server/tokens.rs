//! Bearer tokens (SPEC §4.4): `runed token create` prints a token once and stores only its
//! SHA-256; requests are checked by comparing hashes in constant time.
//!
//! Tokens live in `tokens.json` beside the store rather than inside it, so that
//! `runed token create|revoke` works while `runed` runs (the store file is locked by the server):
//! the server re-reads the file when it changes. That file is the first [`TokenStore`], the
//! token part of the storage seam (re-exported by `server::store`).
//!
//! Each token carries [`Permissions`] ([`permission`]); creating one also writes the
//! [`fail_closed`] marker first, so that the store requires authentication from then on.

pub mod fail_closed;
pub mod permission;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use crate::secrets::Secret;
use crate::server::clock;
use crate::validate::names::dns1123_problem;

pub use permission::{Permission, Permissions};

const TOKENS_FILE: &str = "tokens.json";
const TOKEN_PREFIX: &str = "rune_";

/// What is stored of a token: its name, scope and hash — never the token.
#[derive(Clone, Debug, Eq, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenInfo {
    pub created_at: String,
    /// When the token stops working (`runed token create --ttl`); entries written before
    /// issue #18 have none and never expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// Hex SHA-256 of the token.
    pub hash: String,
    pub name: String,
    /// Namespaces the token may touch; empty means all.
    #[serde(default)]
    pub namespaces: Vec<String>,
    /// What the token may do; entries written before permissions existed have none and get
    /// [`Permissions::LEGACY`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Permissions>,
}

impl TokenInfo {
    /// Whether the token may act in `namespace`.
    pub fn allows(&self, namespace: &str) -> bool {
        self.namespaces.is_empty() || self.namespaces.iter().any(|n| n == namespace)
    }

    /// What the token may do (an entry from before permissions: [`Permissions::LEGACY`]).
    pub fn permissions(&self) -> Permissions {
        self.permissions.unwrap_or(Permissions::LEGACY)
    }

    /// Whether the token is limited to some namespaces (and so may not touch cluster objects).
    pub fn is_scoped(&self) -> bool {
        !self.namespaces.is_empty()
    }

    /// Whether the token has expired by `now` (seconds since the epoch). An expiry that does not
    /// parse counts as expired: a damaged entry fails closed.
    pub fn is_expired(&self, now: u64) -> bool {
        self.expires_at
            .as_deref()
            .is_some_and(|at| clock::parse_unix(at).is_none_or(|at| at <= now))
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct TokenFile {
    tokens: Vec<TokenInfo>,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("a token named `{0}` already exists")]
    Exists(String),
    #[error("no token is named `{0}`")]
    NotFound(String),
    #[error("`{name}` is not a valid token name: {problem}")]
    BadName { name: String, problem: &'static str },
    #[error("cannot {action} `{path}`: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{path}` is not a valid token file: {source}")]
    Corrupt {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("the system random number generator failed")]
    Random,
    /// The database that keeps the tokens failed (its message; never a token or a hash).
    #[error("the token store failed: {0}")]
    Store(String),
    /// Past its `--ttl`: refused like an unknown token, with a message that says why.
    #[error("token `{name}` expired at {at}: ask an operator for a new one (`runed token create`)")]
    Expired { at: String, name: String },
}

/// The token file of a data directory.
pub fn tokens_path(data_dir: &Path) -> PathBuf {
    data_dir.join(TOKENS_FILE)
}

/// Where tokens are kept: their metadata and hashes, never a token. A backend that keeps
/// objects in a database would keep tokens there too; beside redb they are [`TokenFileStore`].
pub trait TokenStore: Send + Sync {
    /// Every token's metadata.
    fn entries(&self) -> Result<Vec<TokenInfo>, TokenError>;

    /// Adds a token; a name already taken is refused.
    fn insert(&self, info: TokenInfo) -> Result<(), TokenError>;

    /// Removes the token of that name.
    fn remove(&self, name: &str) -> Result<(), TokenError>;
}

/// `tokens.json` in a data directory, rewritten whole (atomically) on every change.
#[derive(Clone, Debug)]
pub struct TokenFileStore {
    path: PathBuf,
}

impl TokenFileStore {
    pub fn new(data_dir: &Path) -> Self {
        Self {
            path: tokens_path(data_dir),
        }
    }
}

impl TokenStore for TokenFileStore {
    fn entries(&self) -> Result<Vec<TokenInfo>, TokenError> {
        Ok(read(&self.path)?.tokens)
    }

    fn insert(&self, info: TokenInfo) -> Result<(), TokenError> {
        let mut file = read(&self.path)?;
        if file.tokens.iter().any(|t| t.name == info.name) {
            return Err(TokenError::Exists(info.name));
        }
        file.tokens.push(info);
        write(&self.path, &file)
    }

    fn remove(&self, name: &str) -> Result<(), TokenError> {
        let mut file = read(&self.path)?;
        let before = file.tokens.len();
        file.tokens.retain(|t| t.name != name);
        if file.tokens.len() == before {
            return Err(TokenError::NotFound(name.to_owned()));
        }
        write(&self.path, &file)
    }
}

/// What a new token may reach and do, and for how long.
#[derive(Clone, Debug, Default)]
pub struct Grant {
    /// Empty: every namespace.
    pub namespaces: Vec<String>,
    pub permissions: Permissions,
    /// `None`: never expires.
    pub ttl: Option<Duration>,
}

impl Grant {
    /// Every namespace, with `permissions`, forever.
    pub fn of(permissions: Permissions) -> Self {
        Self {
            namespaces: Vec::new(),
            permissions,
            ttl: None,
        }
    }
}

/// Creates a token and returns it: the only time it is ever shown. With a `ttl`, it stops
/// working that long from now. The store requires authentication from then on (the
/// [`fail_closed`] marker is written before the token).
pub fn create(
    data_dir: &Path,
    name: &str,
    grant: Grant,
) -> Result<(Secret<String>, TokenInfo), TokenError> {
    fail_closed::mark(data_dir)?;
    create_in(&TokenFileStore::new(data_dir), name, grant)
}

/// Creates a token in `store`; only its hash is kept.
pub fn create_in(
    store: &dyn TokenStore,
    name: &str,
    grant: Grant,
) -> Result<(Secret<String>, TokenInfo), TokenError> {
    if let Some(problem) = dns1123_problem(name) {
        return Err(TokenError::BadName {
            name: name.to_owned(),
            problem,
        });
    }
    let mut random = [0u8; 32];
    getrandom::fill(&mut random).map_err(|_| TokenError::Random)?;
    let token = Secret::new(format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(random)));
    random.zeroize();
    let info = TokenInfo {
        created_at: clock::now(),
        expires_at: grant.ttl.map(|ttl| clock::format_unix(expiry(ttl))),
        hash: hash(token.expose()),
        name: name.to_owned(),
        namespaces: grant.namespaces,
        permissions: Some(grant.permissions),
    };
    store.insert(info.clone())?;
    Ok((token, info))
}

/// When a token made now with `ttl` expires, in whole seconds rounded up: it works for at least
/// `ttl` (the file keeps seconds only). Capped at the last second of year 9999, the last one
/// the file's timestamps can write.
fn expiry(ttl: Duration) -> u64 {
    const LAST: u64 = 253_402_300_799;
    SystemTime::now()
        .checked_add(ttl)
        .and_then(|at| at.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map_or(LAST, |at| at.as_secs() + u64::from(at.subsec_nanos() > 0))
        .min(LAST)
}

/// Every token's metadata.
pub fn list(data_dir: &Path) -> Result<Vec<TokenInfo>, TokenError> {
    TokenFileStore::new(data_dir).entries()
}

/// Removes a token; requests carrying it fail from then on.
pub fn revoke(data_dir: &Path, name: &str) -> Result<(), TokenError> {
    TokenFileStore::new(data_dir).remove(name)
}

fn hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .fold(String::with_capacity(64), |mut out, b| {
            use std::fmt::Write;
            let _ = write!(out, "{b:02x}");
            out
        })
}

fn read(path: &Path) -> Result<TokenFile, TokenError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|source| TokenError::Corrupt {
            path: path.to_path_buf(),
            source,
        }),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(TokenFile::default()),
        Err(source) => Err(TokenError::Io {
            action: "read",
            path: path.to_path_buf(),
            source,
        }),
    }
}

fn write(path: &Path, file: &TokenFile) -> Result<(), TokenError> {
    let bytes = serde_json::to_vec_pretty(file).map_err(|source| TokenError::Corrupt {
        path: path.to_path_buf(),
        source,
    })?;
    crate::fs::replace_private(path, &bytes).map_err(|source| TokenError::Io {
        action: "write",
        path: path.to_path_buf(),
        source,
    })
}

/// What identifies one version of the token file. File times are coarse (a few milliseconds), so
/// a rewrite within one tick is told apart by its inode: every write renames a new file in.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
struct FileStamp {
    inode: u64,
    len: u64,
    modified: Option<SystemTime>,
}

impl FileStamp {
    fn of(meta: &std::fs::Metadata) -> Self {
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(meta);
        #[cfg(not(unix))]
        let inode = 0;
        Self {
            inode,
            len: meta.len(),
            modified: meta.modified().ok(),
        }
    }
}

/// The server's view of the token file, re-read whenever it changes on disk; or of a token
/// store that replicas share, read on every call.
pub struct Tokens {
    cache: Mutex<(Option<FileStamp>, Vec<TokenInfo>)>,
    path: PathBuf,
    /// A database's tokens: asked each time, so a token created or revoked through any
    /// replica counts at once.
    shared: Option<std::sync::Arc<dyn TokenStore>>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("path", &self.path)
            .field("shared", &self.shared.is_some())
            .finish_non_exhaustive()
    }
}

impl Tokens {
    pub fn new(data_dir: &Path) -> Self {
        Self {
            cache: Mutex::new((None, Vec::new())),
            path: tokens_path(data_dir),
            shared: None,
        }
    }

    /// The tokens of a store that replicas share (the postgres backend).
    pub fn shared(store: std::sync::Arc<dyn TokenStore>) -> Self {
        Self {
            cache: Mutex::new((None, Vec::new())),
            path: PathBuf::new(),
            shared: Some(store),
        }
    }

    /// The tokens now on file (re-read if the file changed since the last call).
    pub fn current(&self) -> Result<Vec<TokenInfo>, TokenError> {
        if let Some(store) = &self.shared {
            return store.entries();
        }
        let modified = std::fs::metadata(&self.path)
            .ok()
            .map(|m| FileStamp::of(&m));
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if cache.0 != modified || modified.is_none() {
            cache.1 = read(&self.path)?.tokens;
            cache.0 = modified;
        }
        Ok(cache.1.clone())
    }

    /// The token a bearer string names, compared in constant time against every stored hash;
    /// an expired one is [`TokenError::Expired`].
    pub fn authenticate(&self, presented: &str) -> Result<Option<TokenInfo>, TokenError> {
        let presented = hash(presented);
        let mut found = None;
        for info in self.current()? {
            if bool::from(info.hash.as_bytes().ct_eq(presented.as_bytes())) {
                found = Some(info);
            }
        }
        match found {
            Some(info) if info.is_expired(clock::now_unix()) => Err(TokenError::Expired {
                at: info.expires_at.unwrap_or_default(),
                name: info.name,
            }),
            found => Ok(found),
        }
    }
}

#[cfg(test)]
mod tests;
