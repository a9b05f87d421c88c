//! The config file of contexts (`RUNE_CONFIG`, default `~/.rune/config.yaml`, mode 0600): named
//! servers with their tokens, default namespaces and TLS files (a private CA, a client
//! certificate), and which one is current.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::secrets::Secret;

/// One named server.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Context {
    /// PEM certificates of the CAs trusted for this server's certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// The client certificate presented to this server, and its key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_cert: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_key: Option<PathBuf>,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub server: String,
    /// The file must hold the token itself; nothing else prints it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "Secret::serialize_exposed_option"
    )]
    pub token: Option<Secret<String>>,
}

/// The whole file.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConfigFile {
    #[serde(default)]
    pub contexts: Vec<Context>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_context: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot {action} the config file `{path}`: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the config file `{path}` is not valid: {message}")]
    Invalid { message: String, path: PathBuf },
    #[error("no context is named `{0}` (see `rune config view`)")]
    UnknownContext(String),
    #[error("no config file location: set `RUNE_CONFIG` or `HOME`")]
    NoHome,
}

/// `RUNE_CONFIG`, else `~/.rune/config.yaml`.
pub fn path() -> Result<PathBuf, ConfigError> {
    if let Some(p) = std::env::var_os("RUNE_CONFIG").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".rune").join("config.yaml"))
        .ok_or(ConfigError::NoHome)
}

impl ConfigFile {
    /// Reads the file; a missing file is an empty config.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_saphyr::from_str(&text).map_err(|e| ConfigError::Invalid {
                message: e.to_string(),
                path: path.to_path_buf(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(source) => Err(ConfigError::Io {
                action: "read",
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Writes the file with mode 0600 (it holds tokens), atomically.
    pub fn save(&self, path: &Path) -> Result<(), ConfigError> {
        let io = |action, source| ConfigError::Io {
            action,
            path: path.to_path_buf(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io("create the directory of", e))?;
        }
        let text = serde_saphyr::to_string(self).map_err(|e| ConfigError::Invalid {
            message: e.to_string(),
            path: path.to_path_buf(),
        })?;
        crate::fs::replace_private(path, text.as_bytes()).map_err(|e| io("write", e))
    }

    /// The named context, or the current one.
    pub fn context(&self, name: Option<&str>) -> Result<Option<&Context>, ConfigError> {
        match name.or(self.current_context.as_deref()) {
            None => Ok(None),
            Some(name) => self
                .contexts
                .iter()
                .find(|c| c.name == name)
                .map(Some)
                .ok_or_else(|| ConfigError::UnknownContext(name.to_owned())),
        }
    }
}
