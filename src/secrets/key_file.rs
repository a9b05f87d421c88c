//! Where the local key file is, and why a key or recipients file could not be used.

use std::path::{Path, PathBuf};

use crate::secrets::keys::Keys;

/// Why a key or recipients file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("cannot read `{path}`: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{path}` line {line}: not an age identity (`AGE-SECRET-KEY-1…`)")]
    BadIdentity { path: PathBuf, line: usize },
    #[error("`{path}` line {line}: `{text}` is not an age recipient (`age1…`)")]
    BadRecipient {
        path: PathBuf,
        line: usize,
        text: String,
    },
    #[error("`{0}` holds no age identity")]
    NoIdentity(PathBuf),
}

/// Where the local key file is: `--key-file`, else `RUNE_KEY_FILE`, else
/// `~/.config/rune/key.txt`. The flag and the variable are explicit (a missing file is an error
/// for the caller to report); the default is not (a missing file means "no key file").
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum KeyFileLocation {
    Explicit(PathBuf),
    Default(PathBuf),
}

impl KeyFileLocation {
    pub fn resolve(flag: Option<&Path>) -> Option<Self> {
        if let Some(path) = flag {
            return Some(Self::Explicit(path.to_path_buf()));
        }
        if let Some(path) = std::env::var_os("RUNE_KEY_FILE").filter(|v| !v.is_empty()) {
            return Some(Self::Explicit(PathBuf::from(path)));
        }
        std::env::var_os("HOME")
            .filter(|v| !v.is_empty())
            .map(|home| Self::Default(PathBuf::from(home).join(".config/rune/key.txt")))
    }

    pub fn path(&self) -> &Path {
        match self {
            Self::Explicit(path) | Self::Default(path) => path,
        }
    }

    /// The identities of the key file `flag`, `RUNE_KEY_FILE` or the default names; `None`
    /// when there is none.
    pub fn load_resolved(flag: Option<&Path>) -> Result<Option<Keys>, KeyFileError> {
        Self::resolve(flag).map_or(Ok(None), |location| location.load())
    }

    /// The identities, `None` when the default location holds no file.
    pub fn load(&self) -> Result<Option<Keys>, KeyFileError> {
        match self {
            Self::Default(path) if !path.exists() => Ok(None),
            Self::Explicit(path) | Self::Default(path) => Keys::load(path).map(Some),
        }
    }
}
