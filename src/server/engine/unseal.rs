//! Opening `sealed:` values (SPEC §6) into their secret's data, with the server's age identity.
//!
//! In: a batch of desired objects and a transaction to find what each secret's current data
//! version was cast from. Out: the batch with every sealed value opened (objects without sealed
//! values stay borrowed), and a violation for each value that does not open here or was sealed
//! for another place.
//! Must not happen here: a value, opened or sealed, in a violation's message.
//!
//! A value whose sealed text is the very text the current version was written from (its keyed
//! digest, [`crate::server::store::SealedDigests`], matches) is taken from that version, which
//! AES opens, instead of from an X25519 agreement: a re-plan of an unchanged repository then
//! opens nothing with the age identity. Any other text is opened and compared as before.

use std::collections::HashMap;

use subtle::ConstantTimeEq;

use crate::diag::Code;
use crate::plan::diff::Live;
use crate::secrets::{Keys, Place, UnsealError, Values};
use crate::server::engine::prepare::Prepared;
use crate::server::engine::{Engine, EngineError, data};
use crate::server::store::{ReadTx, Record, SealedDigests};
use crate::wire::error::Violation;
use crate::wire::object::{Desired, DesiredSpec, ObjectKey};

/// The live side of the secrets whose current version was read and opened while unsealing,
/// by key: the plan in the same transaction takes it from here instead of reading and opening
/// it again.
pub(super) type Opened = HashMap<ObjectKey, Live>;

/// A batch with its sealed values opened.
pub(super) struct Unsealed<'a> {
    /// The objects, borrowed where they held no sealed value.
    pub(super) desired: Vec<Prepared<'a>>,
    /// Each value that does not open here or was sealed for another place.
    pub(super) violations: Vec<Violation>,
    pub(super) opened: Opened,
}

/// Opens every `sealed:` value into its secret's data, checking that it was sealed for
/// this very place. Opening is an X25519 agreement per value, so a large batch is opened in
/// parallel; values cast before with the same text are not opened at all.
pub(super) fn unseal_batch<'a>(
    engine: &Engine,
    tx: &dyn ReadTx,
    desired: &'a [Desired],
) -> Result<Unsealed<'a>, EngineError> {
    let mut work = Vec::with_capacity(desired.len());
    let mut live = Opened::new();
    for d in desired {
        let known = match &d.spec {
            DesiredSpec::Secret { sealed, .. } if !sealed.is_empty() => {
                let (known, opened) = known(engine, tx, d)?;
                if let Some(opened) = opened {
                    live.insert(d.key.clone(), opened);
                }
                Some(known)
            }
            _ => None,
        };
        work.push((d, known));
    }
    let sealing = engine.sealing();
    let opened = crate::par::map(&work, |(d, known)| {
        known.as_ref().map(|known| unseal(&sealing, d, known))
    });
    let mut violations = Vec::new();
    let unsealed = desired
        .iter()
        .zip(opened)
        .map(|(original, opened)| match opened {
            Some((object, problems)) => {
                violations.extend(problems);
                Prepared::Made(object)
            }
            None => Prepared::Request(original),
        })
        .collect();
    Ok(Unsealed {
        desired: unsealed,
        violations,
        opened: live,
    })
}

/// The digests to store for the sealed values of `desired` (written as data version
/// `version`), or `None` when it has none.
pub(super) fn digests(engine: &Engine, desired: &Desired, version: u64) -> Option<SealedDigests> {
    let DesiredSpec::Secret { sealed, .. } = &desired.spec else {
        return None;
    };
    if sealed.is_empty() {
        return None;
    }
    let key = &desired.key;
    Some(SealedDigests {
        version,
        kek: engine.keys.current().id().to_owned(),
        keys: sealed
            .iter()
            .map(|(k, armor)| {
                let digest =
                    engine
                        .keys
                        .current()
                        .sealed_digest(&key.namespace, &key.name, k, armor);
                (k.clone(), digest)
            })
            .collect(),
    })
}

/// The stored values of the sealed keys of `desired` whose text is the one the current data
/// version was cast from; and that version's live side when it was opened for them.
fn known(
    engine: &Engine,
    tx: &dyn ReadTx,
    desired: &Desired,
) -> Result<(Values, Option<Live>), EngineError> {
    let none = || Ok((Values::new(), None));
    let DesiredSpec::Secret { sealed, .. } = &desired.spec else {
        return none();
    };
    let Some(Record {
        object,
        revision,
        sealed: Some(stored),
        ..
    }) = tx.object(&desired.key)?
    else {
        return none();
    };
    if stored.version != object.version || stored.kek != engine.keys.current().id() {
        return none();
    }
    let key = &desired.key;
    let same: Vec<&String> = sealed
        .iter()
        .filter(|(k, armor)| {
            stored.keys.get(*k).is_some_and(|digest| {
                let given =
                    engine
                        .keys
                        .current()
                        .sealed_digest(&key.namespace, &key.name, k, armor);
                bool::from(given.as_bytes().ct_eq(digest.as_bytes()))
            })
        })
        .map(|(k, _)| k)
        .collect();
    if same.is_empty() {
        return none();
    }
    let current = data::open_secret(&engine.keys, tx, key, object.version)?;
    let values = current
        .iter()
        .filter(|(k, _)| same.contains(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let live = Live {
        object,
        revision,
        secret: Some(current),
    };
    Ok((values, Some(live)))
}

fn unseal(sealing: &Keys, desired: &Desired, known: &Values) -> (Box<Desired>, Vec<Violation>) {
    let mut object = Box::new(desired.clone());
    let mut violations = Vec::new();
    if let DesiredSpec::Secret { data, sealed } = &mut object.spec {
        for (key, armor) in std::mem::take(sealed) {
            let place = Place::new(&desired.key.namespace, &desired.key.name, &key);
            if data.0.contains_key(&key) {
                violations.push(Violation {
                    code: Some(Code::DataKeyDuplicate.as_str().to_owned()),
                    field: Some(format!("spec.sealed.{key}")),
                    key: Some(key.clone()),
                    ..Violation::new(
                        &desired.key,
                        format!("key `{key}` is given both as a value and sealed"),
                    )
                });
                continue;
            }
            if let Some(value) = known.get(&key) {
                data.0.insert(key, value.clone());
                continue;
            }
            match sealing.unseal_for(&armor, &place) {
                Ok(value) if value.expose().is_empty() => violations.push(Violation {
                    code: Some(Code::SealedEmpty.as_str().to_owned()),
                    field: Some(format!("spec.sealed.{key}")),
                    key: Some(key.clone()),
                    ..Violation::new(
                        &desired.key,
                        format!("sealed key `{key}` opens to an empty value"),
                    )
                }),
                Ok(value) => {
                    data.0.insert(key, value);
                }
                Err(error) => violations.push(Violation {
                    code: Some(unseal_code(&error).as_str().to_owned()),
                    field: Some(format!("spec.sealed.{key}")),
                    key: Some(key.clone()),
                    ..Violation::new(
                        &desired.key,
                        format!(
                            "sealed key `{key}` cannot be opened: {error}{}",
                            unseal_help(&error)
                        ),
                    )
                }),
            }
        }
    }
    (object, violations)
}

/// The code `rune lint` gives the same fault when its key file can open the value (and, when
/// it cannot, the warning that it could not).
pub(super) fn unseal_code(error: &UnsealError) -> Code {
    match error {
        UnsealError::WrongPlace(_) => Code::SealedPlace,
        UnsealError::NoPlace => Code::SealedUnbound,
        UnsealError::NotRecipient => Code::SealedUnopened,
        UnsealError::Malformed(_) | UnsealError::NotText => Code::DataSealedForm,
    }
}

pub(super) fn unseal_help(error: &UnsealError) -> &'static str {
    match error {
        UnsealError::WrongPlace(_) => {
            "; a sealed value only opens where it was sealed for: seal it for this place with `rune seal`"
        }
        UnsealError::NotRecipient => {
            "; it was not sealed for this server's recipient (`rune seal` fetches it from `GET /v1/seal-recipient`)"
        }
        UnsealError::NoPlace => "; seal values with `rune seal`, which binds them to their place",
        UnsealError::Malformed(_) | UnsealError::NotText => "",
    }
}
