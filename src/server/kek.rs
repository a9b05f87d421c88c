//! Loading the key-encryption key (SPEC §4.1, §4.2): from a file, from the environment, or
//! generated and persisted on first start.
//!
//! The one rule that matters most: a data directory that already holds a store never gets a
//! freshly generated KEK. Its secrets were wrapped under some KEK; inventing a new one would make
//! them unreadable while looking like a successful start. That case refuses to start instead.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use crate::server::crypto::{CryptoError, Kek};
use crate::server::engine::store_path;
use crate::server_config::{KekConfig, KekSource};

/// The KEK file's name inside a data directory when no `file-path` is configured.
pub const DEFAULT_KEK_FILE: &str = "kek";

/// Why no KEK could be loaded. Messages name the problem and the fix, never key material.
#[derive(Debug, thiserror::Error)]
pub enum KekError {
    #[error(
        "the KEK file `{path}` is missing, but the data directory already holds a store; refusing to generate a new KEK, which could not decrypt the stored secrets. Restore the KEK file (or point `crypto.kek.file-path` at it)"
    )]
    MissingForExistingStore { path: PathBuf },
    #[error("the KEK file `{path}` does not exist and `generate-if-missing` is off")]
    Missing { path: PathBuf },
    #[error("the environment variable `{var}` that should hold the KEK is not set")]
    EnvUnset { var: String },
    #[error("the KEK in {origin} is not valid: expected base64 of 32 bytes ({detail})")]
    Malformed { detail: String, origin: String },
    #[error("cannot {action} the KEK file `{path}`: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// Anyone on the machine could replace the key (issue #12): refused, fail closed.
    #[error(
        "the KEK file `{path}` is writable by every user (mode {mode:04o}); refusing to start with a key anyone could replace. Run `chmod 600 {path}` (and check that nobody changed it)"
    )]
    WorldWritable { mode: u32, path: PathBuf },
}

/// What loading found, for the start-up log.
#[derive(Debug)]
pub struct Loaded {
    pub kek: Kek,
    /// Where it came from: `file /var/lib/rune/kek`, `env RUNE_MASTER_KEY`.
    pub origin: String,
    /// Whether this start generated it.
    pub generated: bool,
}

/// Loads the KEK that `config` names for the store in `data_dir`.
pub fn load(config: &KekConfig, data_dir: &Path) -> Result<Loaded, KekError> {
    match config.source {
        KekSource::Env => {
            // runed took the variable out of its environment at start (`kek_env`).
            let value = match crate::server::kek_env::take_handed_over() {
                Some(value) => value,
                None => Zeroizing::new(std::env::var(&config.env_var).map_err(|_| {
                    KekError::EnvUnset {
                        var: config.env_var.clone(),
                    }
                })?),
            };
            let origin = format!("env {}", config.env_var);
            Ok(Loaded {
                kek: decode(&value, &origin)?,
                origin,
                generated: false,
            })
        }
        KekSource::File | KekSource::Generated => {
            let path = file_path(config, data_dir);
            let generate = config.generate_if_missing || config.source == KekSource::Generated;
            from_file(&path, data_dir, generate)
        }
    }
}

/// The KEK file `config` names (for a file or generated KEK): `file-path`, else `kek` in the
/// data directory.
pub fn file_path(config: &KekConfig, data_dir: &Path) -> PathBuf {
    config
        .file_path
        .clone()
        .unwrap_or_else(|| data_dir.join(DEFAULT_KEK_FILE))
}

fn from_file(path: &Path, data_dir: &Path, generate: bool) -> Result<Loaded, KekError> {
    let origin = format!("file {}", path.display());
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let text = Zeroizing::new(text);
            Ok(Loaded {
                kek: decode(&text, &origin)?,
                origin,
                generated: false,
            })
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            if store_path(data_dir).exists() {
                return Err(KekError::MissingForExistingStore {
                    path: path.to_path_buf(),
                });
            }
            if !generate {
                return Err(KekError::Missing {
                    path: path.to_path_buf(),
                });
            }
            let kek = Kek::generate()?;
            write_private(path, &kek)?;
            Ok(Loaded {
                kek,
                origin,
                generated: true,
            })
        }
        Err(source) => Err(KekError::Io {
            action: "read",
            path: path.to_path_buf(),
            source,
        }),
    }
}

fn decode(text: &str, origin: &str) -> Result<Kek, KekError> {
    let bytes = Zeroizing::new(
        STANDARD
            .decode(text.trim())
            .map_err(|e| KekError::Malformed {
                detail: e.to_string(),
                origin: origin.to_owned(),
            })?,
    );
    Kek::from_bytes(&bytes).map_err(|e| KekError::Malformed {
        detail: e.to_string(),
        origin: origin.to_owned(),
    })
}

/// Writes a new KEK file readable by its owner only, refusing to replace an existing file.
fn write_private(path: &Path, kek: &Kek) -> Result<(), KekError> {
    let io = |action, source| KekError::Io {
        action,
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| io("create the directory of", e))?;
    }
    let mut file = crate::fs::create_private(path).map_err(|e| io("create", e))?;
    let encoded = Zeroizing::new(STANDARD.encode(kek.expose_bytes()));
    file.write_all(encoded.as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .map_err(|e| io("write", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_config(path: Option<PathBuf>, generate: bool) -> KekConfig {
        KekConfig {
            file_path: path,
            generate_if_missing: generate,
            ..KekConfig::default()
        }
    }

    #[cfg(unix)]
    #[test]
    fn generated_kek_files_are_private_and_reloaded() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let first = load(&file_config(None, true), dir.path()).unwrap();
        assert!(first.generated);
        let mode = std::fs::metadata(dir.path().join(DEFAULT_KEK_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = load(&file_config(None, true), dir.path()).unwrap();
        assert!(!again.generated);
        assert_eq!(again.kek.id(), first.kek.id());
    }

    /// A store without its KEK never gets a new one.
    #[test]
    fn missing_kek_for_an_existing_store_refuses() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(store_path(dir.path()), b"not empty").unwrap();
        let error = load(&file_config(None, true), dir.path()).unwrap_err();
        assert!(
            matches!(error, KekError::MissingForExistingStore { .. }),
            "{error}"
        );
        assert!(!dir.path().join(DEFAULT_KEK_FILE).exists());
    }

    #[test]
    fn malformed_and_unset_keks_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kek");
        std::fs::write(&path, "c2hvcnQ=\n").unwrap();
        let error = load(&file_config(Some(path), false), dir.path()).unwrap_err();
        assert!(error.to_string().contains("32 bytes"), "{error}");
        let env = KekConfig {
            env_var: "RUNE_TEST_KEK_THAT_IS_NOT_SET".into(),
            source: KekSource::Env,
            ..KekConfig::default()
        };
        assert!(matches!(
            load(&env, dir.path()),
            Err(KekError::EnvUnset { .. })
        ));
        let missing = file_config(Some(dir.path().join("none")), false);
        assert!(matches!(
            load(&missing, dir.path()),
            Err(KekError::Missing { .. })
        ));
    }
}
