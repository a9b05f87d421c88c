//! The set of key-encryption keys one runed holds (SPEC §4.6): the current KEK, which wraps
//! every new version, and the previous ones of `crypto.previous-keks`, kept only to open what
//! they still wrap until `rune admin kek rewrap` has moved it to the current one.
//!
//! In: the current KEK (loaded by [`crate::server::kek`]) and the configured previous KEKs.
//! Out: a [`Keyring`] that picks the KEK of a record by the id in the record's header.
//! Must not happen here: a KEK tried on a record it does not name (no trial decryption), or key
//! material in a message (KEKs are named by id and origin only).

use std::io::Write;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use crate::server::crypto::{self, CryptoError, Kek, RecordId, SecretData};
use crate::server::kek::{self, KekError};
use crate::server::log;
use crate::server_config::KekConfig;
use crate::wire::admin::KekStatus;

/// The current KEK and the previous ones.
#[derive(Debug)]
pub struct Keyring {
    current: Kek,
    previous: Vec<Kek>,
}

impl Keyring {
    /// A keyring of one KEK (no rotation in progress).
    pub fn single(current: Kek) -> Self {
        Self::new(current, Vec::new())
    }

    /// The current KEK and previous ones; a previous KEK equal to the current one is dropped.
    pub fn new(current: Kek, mut previous: Vec<Kek>) -> Self {
        previous.retain(|k| k.id() != current.id());
        previous.dedup_by(|a, b| a.id() == b.id());
        Self { current, previous }
    }

    /// The KEK every new version is wrapped with.
    pub fn current(&self) -> &Kek {
        &self.current
    }

    /// Every loaded KEK, the current one first.
    pub fn all(&self) -> impl Iterator<Item = &Kek> {
        std::iter::once(&self.current).chain(&self.previous)
    }

    /// The loaded KEK with this id.
    pub fn by_id(&self, id: &str) -> Option<&Kek> {
        self.all().find(|k| k.id() == id)
    }

    /// The KEK that wraps `record`, named by the record itself; a KEK that is not loaded is an
    /// error naming it.
    pub fn for_record(&self, record: &[u8]) -> Result<&Kek, CryptoError> {
        let id = crypto::kek_id_of(record)?;
        self.by_id(id).ok_or_else(|| CryptoError::WrongKek {
            loaded: self.all().map(Kek::id).collect::<Vec<_>>().join(", "),
            record: id.to_owned(),
        })
    }

    /// Opens a record with whichever loaded KEK wraps it.
    pub fn open(&self, id: RecordId<'_>, record: &[u8]) -> Result<SecretData, CryptoError> {
        crypto::open(self.for_record(record)?, id, record)
    }
}

/// A previous KEK as loaded, or why it was not.
#[derive(Debug)]
pub enum Previous {
    Loaded {
        kek: Kek,
        origin: String,
    },
    /// Missing (file or variable absent): the start goes on, and fails only if records still
    /// need it (then naming its id, which is known from the store, not from here).
    Missing {
        why: String,
    },
}

/// Loads `crypto.previous-keks`: never generated, never written.
pub fn load_previous(configs: &[KekConfig], data_dir: &Path) -> Result<Vec<Previous>, KekError> {
    let mut out = Vec::new();
    for config in configs {
        let config = KekConfig {
            generate_if_missing: false,
            ..config.clone()
        };
        if let Some(path) = config.file_path.as_ref()
            && !path.exists()
        {
            out.push(Previous::Missing {
                why: format!("the previous KEK file `{}` does not exist", path.display()),
            });
            continue;
        }
        match kek::load(&config, data_dir) {
            Ok(loaded) => out.push(Previous::Loaded {
                kek: loaded.kek,
                origin: loaded.origin,
            }),
            Err(error @ (KekError::EnvUnset { .. } | KekError::Missing { .. })) => {
                out.push(Previous::Missing {
                    why: error.to_string(),
                });
            }
            Err(error) => return Err(error),
        }
    }
    Ok(out)
}

/// The keyring runed starts with: the current KEK and every previous KEK that loads; each
/// previous one is named in the log, and one that is missing is a warning (the store decides
/// whether it is still needed).
pub fn for_start(
    current: Kek,
    configs: &[KekConfig],
    data_dir: &Path,
) -> Result<Keyring, KekError> {
    let mut previous = Vec::new();
    for loaded in load_previous(configs, data_dir)? {
        match loaded {
            Previous::Loaded { kek, origin } => {
                log::info(&format!("previous KEK {} loaded from {origin}", kek.id()));
                previous.push(kek);
            }
            Previous::Missing { why } => log::warn(&format!("{why}: skipping this previous KEK")),
        }
    }
    Ok(Keyring::new(current, previous))
}

/// Says in the log which previous KEKs wrap nothing any more and may be removed (SPEC §4.6).
pub fn announce_removable(status: &KekStatus) {
    for kek in status.keks.iter().filter(|k| k.removable) {
        let how = if kek.loaded {
            "remove it from `crypto.previous-keks`"
        } else {
            "it is no longer needed"
        };
        log::info(&format!("KEK {} wraps nothing any more: {how}", kek.id));
    }
}

/// `runed kek generate FILE`: a new random KEK in a new file (mode 0600); an existing file is
/// never replaced. Returns the new KEK's id.
pub fn generate_file(path: &Path) -> Result<String, KekError> {
    let io = |action, source| KekError::Io {
        action,
        path: path.to_path_buf(),
        source,
    };
    let kek = Kek::generate()?;
    let mut file = crate::fs::create_private(path).map_err(|e| io("create", e))?;
    let encoded = Zeroizing::new(STANDARD.encode(kek.expose_bytes()));
    file.write_all(encoded.as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .map_err(|e| io("write", e))?;
    Ok(kek.id().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::Secret;

    /// A record opens with the KEK its header names, whichever position it has in the ring.
    #[test]
    fn records_open_with_the_kek_they_name() {
        let (old, new) = (Kek::generate().unwrap(), Kek::generate().unwrap());
        let id = RecordId {
            name: "db",
            namespace: "default",
            version: 1,
        };
        let mut data = SecretData::new();
        data.insert("k".into(), Secret::new("v".into()));
        let record = crypto::seal(&old, id, &data).unwrap();
        let old_id = old.id().to_owned();
        let ring = Keyring::new(new, vec![old]);
        assert_eq!(ring.for_record(&record).unwrap().id(), old_id);
        assert_eq!(ring.open(id, &record).unwrap()["k"].expose(), "v");
        let alone = Keyring::single(Kek::generate().unwrap());
        let error = alone.open(id, &record).unwrap_err();
        assert!(error.to_string().contains(&old_id), "{error}");
    }

    /// A generated KEK file is private, loads as a KEK with the id printed, and is never
    /// replaced.
    #[cfg(unix)]
    #[test]
    fn generated_files_load_and_are_never_replaced() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kek-new");
        let id = generate_file(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let config = KekConfig {
            file_path: Some(path.clone()),
            ..KekConfig::default()
        };
        let loaded = load_previous(&[config], dir.path()).unwrap();
        assert!(matches!(&loaded[..], [Previous::Loaded { kek, .. }] if kek.id() == id));
        assert!(generate_file(&path).is_err());
    }

    /// A missing previous KEK file is reported, not fatal: only the store can tell whether it
    /// is still needed.
    #[test]
    fn a_missing_previous_kek_file_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let config = KekConfig {
            file_path: Some(dir.path().join("gone")),
            ..KekConfig::default()
        };
        let loaded = load_previous(&[config], dir.path()).unwrap();
        assert!(matches!(loaded.as_slice(), [Previous::Missing { .. }]));
    }
}
