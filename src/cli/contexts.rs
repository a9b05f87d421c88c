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
    /// The file does not parse. `message` says where and, at most, which field: never the
    /// file's text, which holds tokens (see [`invalid`]).
    #[error("the config file `{path}` is not valid: {message}")]
    Invalid { message: String, path: PathBuf },
    #[error("no context is named `{0}` (see `rune config view`)")]
    UnknownContext(String),
    #[error("no current context: make one current with `rune config use-context NAME`")]
    NoCurrentContext,
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
            Ok(text) => {
                let text = Secret::new(text);
                serde_saphyr::from_str(text.expose()).map_err(|e| ConfigError::Invalid {
                    message: invalid(text.expose(), &e),
                    path: path.to_path_buf(),
                })
            }
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

/// The fields of the config file: the only words of it an error may repeat.
const FIELDS: [&str; 9] = [
    "ca-file",
    "client-cert",
    "client-key",
    "contexts",
    "current-context",
    "name",
    "namespace",
    "server",
    "token",
];

/// Where the file is wrong, the field on that line when it is one of [`FIELDS`], and what kind
/// of mistake it is — built from fixed words only. The parser's own message is not used: it can
/// quote the text (a snippet, or the value of a wrongly typed field), and the text holds tokens.
fn invalid(text: &str, error: &serde_saphyr::Error) -> String {
    let message = error.without_snippet().to_string();
    let kind = if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
        .filter(|field| FIELDS.contains(field))
    {
        format!("the field `{field}` is missing")
    } else if message.starts_with("unknown field") {
        format!("an unknown field (the fields are {})", FIELDS.join(", "))
    } else if message.starts_with("invalid type") || message.starts_with("invalid value") {
        "a value of the wrong type".to_owned()
    } else if message.starts_with("duplicate field") {
        "a field given twice".to_owned()
    } else {
        "it is not YAML of the expected shape".to_owned()
    };
    let Some(location) = error.location() else {
        return format!("{kind} (the file's text is not shown: it holds tokens)");
    };
    let field = usize::try_from(location.line())
        .ok()
        .and_then(|line| text.lines().nth(line.checked_sub(1)?))
        .and_then(|line| line.trim_start().trim_start_matches("- ").split_once(':'))
        .map(|(key, _)| key.trim())
        .filter(|key| FIELDS.contains(key))
        .map_or_else(String::new, |key| format!(", in the field `{key}`"));
    format!(
        "line {}, column {}{field}: {kind} (the file's text is not shown: it holds tokens)",
        location.line(),
        location.column()
    )
}

#[cfg(test)]
mod tests {
    use super::ConfigFile;

    /// A broken config file is reported by position and field, never by its text.
    #[test]
    fn errors_never_quote_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.yaml");
        for text in [
            "contexts:\n  - name: a\n    server: http://x\n    token: [Sentinel-tok\n",
            "contexts:\n  - name: a\n    server: http://x\n    token: {a: Sentinel-tok}\n",
            "contexts:\n  - name: a\n    server: http://x\n    tokn: Sentinel-tok\n",
            "contexts:\n  - name: a\n    token: Sentinel-tok\n",
            "contexts: Sentinel-tok\n",
            "Sentinel-tok: 1\n",
            "contexts:\n  - name: a\n    server: http://x\n    token: \"Sentinel-tok\n",
            "\tSentinel-tok\n",
        ] {
            std::fs::write(&path, text).unwrap();
            let error = ConfigFile::load(&path).unwrap_err().to_string();
            assert!(!error.contains("Sentinel"), "{text:?} → {error}");
            assert!(error.contains("not valid"), "{error}");
        }
        std::fs::write(&path, "contexts:\n  - name: a\n    token: x\n").unwrap();
        let error = ConfigFile::load(&path).unwrap_err().to_string();
        assert!(error.contains("`server` is missing"), "{error}");
    }
}
