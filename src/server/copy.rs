//! `runed store copy --from-data-dir DIR` (SPEC §4.5): moves a redb store into the configured
//! backend, so a user who outgrows one machine keeps every secret without re-entering one.
//!
//! In: a source and a target [`Store`] (and the source's tokens). Out: every object record,
//! every retained data version (ciphertext exactly as stored: the same KEK opens it), the KEK
//! check values (by KEK id too), the audit records, the seal identity, the auth latch and the runner's identities, written in one
//! target transaction; a [`Copied`] count. Must not happen here: decrypting anything — bytes
//! pass through as they are; overwriting a target that already holds objects of its own.

use crate::resource::Kind;
use crate::server::engine::BUILTIN_NAMESPACES;
use crate::server::store::{ReadTx, Record, Store, StoreError, TokenStore};
use crate::server::tokens::TokenError;

/// What was copied.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct Copied {
    pub objects: usize,
    pub versions: usize,
    pub tokens: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error(
        "the target store was made with another KEK than the source: copying would leave secrets nobody can read"
    )]
    OtherKek,
    #[error(
        "the target store already holds objects (`{0}` among them): copy only into a new, empty store"
    )]
    NotEmpty(String),
}

/// Everything a store holds, read in one snapshot.
struct Snapshot {
    records: Vec<Record>,
    versions: Vec<(usize, u64, Vec<u8>)>,
    kek_check: Option<Vec<u8>>,
    kek_checks: Vec<(String, Vec<u8>)>,
    audit: Vec<crate::wire::audit::AuditEntry>,
    seal_identity: Option<Vec<u8>>,
    seal_identities: Vec<(u64, Vec<u8>)>,
    auth_required: bool,
    runner_identities: Option<Vec<u8>>,
}

fn snapshot(tx: &dyn ReadTx) -> Result<Snapshot, StoreError> {
    let mut records = Vec::new();
    for kind in Kind::ALL {
        records.extend(tx.list(kind, None)?);
    }
    let mut versions = Vec::new();
    for (index, record) in records.iter().enumerate() {
        for info in &record.versions {
            if let Some(bytes) = tx.data(&record.object.key, info.version)? {
                versions.push((index, info.version, bytes));
            }
        }
    }
    Ok(Snapshot {
        records,
        versions,
        kek_check: tx.kek_check()?,
        kek_checks: tx.kek_checks()?,
        audit: tx.audit("", usize::MAX)?,
        seal_identity: tx.seal_identity()?,
        seal_identities: tx.seal_identities()?,
        auth_required: tx.auth_required()?,
        runner_identities: tx.runner_identities()?,
    })
}

/// Copies `source` into `target`, then the tokens (their hashes); `auth_marked` carries the
/// source directory's fail-closed marker over.
pub fn copy(
    source: &dyn Store,
    source_tokens: &dyn TokenStore,
    target: &dyn Store,
    target_tokens: &dyn TokenStore,
    auth_marked: bool,
) -> Result<Copied, CopyError> {
    let from = source.read(snapshot)?;
    let tokens = source_tokens.entries()?;
    let mut copied = target.write(|tx| -> Result<Copied, CopyError> {
        // Check values carry a random nonce, so KEKs are told apart by id: a target that has
        // KEK ids, none of them the source's, was made with another KEK.
        let theirs = tx.kek_checks()?;
        if !theirs.is_empty()
            && !from.kek_checks.is_empty()
            && !theirs
                .iter()
                .any(|(id, _)| from.kek_checks.iter().any(|(ours, _)| ours == id))
        {
            return Err(CopyError::OtherKek);
        }
        for kind in Kind::ALL {
            for record in tx.list(kind, None)? {
                let key = &record.object.key;
                let builtin =
                    kind == Kind::Namespace && BUILTIN_NAMESPACES.contains(&key.name.as_str());
                if !builtin {
                    return Err(CopyError::NotEmpty(format!(
                        "{}/{}",
                        kind.singular(),
                        key.name
                    )));
                }
                tx.remove_object(key)?;
            }
        }
        for record in &from.records {
            tx.put_object(record)?;
        }
        for (index, version, bytes) in &from.versions {
            tx.put_data(&from.records[*index].object.key, *version, bytes)?;
        }
        if let Some(check) = &from.kek_check {
            tx.set_kek_check(check)?;
        }
        for (id, check) in &from.kek_checks {
            tx.set_kek_check_for(id, check)?;
        }
        for entry in &from.audit {
            tx.append_audit(entry)?;
        }
        if let Some(sealed) = &from.seal_identity {
            tx.set_seal_identity(sealed)?;
        }
        for (number, sealed) in &from.seal_identities {
            tx.put_seal_identity(*number, sealed)?;
        }
        if from.auth_required || auth_marked || !tokens.is_empty() {
            tx.set_auth_required()?;
        }
        if let Some(bytes) = &from.runner_identities {
            tx.set_runner_identities(bytes)?;
        }
        Ok(Copied {
            objects: from.records.len(),
            versions: from.versions.len(),
            tokens: 0,
        })
    })?;
    let existing = target_tokens.entries()?;
    for token in tokens {
        match existing.iter().find(|t| t.name == token.name) {
            Some(same) if same.hash == token.hash => {}
            Some(_) => return Err(TokenError::Exists(token.name).into()),
            None => {
                target_tokens.insert(token)?;
                copied.tokens += 1;
            }
        }
    }
    Ok(copied)
}
