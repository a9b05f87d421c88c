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

use std::collections::{BTreeMap, HashMap};

use crate::diag::Code;
use crate::plan::diff::Live;
use crate::secrets::{Keys, Place, Secret, UnsealError};
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
/// this very place. Values cast before with the same text are taken from the store; any other
/// is opened with an X25519 agreement, on all cores when there are any.
pub(super) fn unseal_batch<'a>(
    engine: &Engine,
    tx: &dyn ReadTx,
    desired: &'a [Desired],
) -> Result<Unsealed<'a>, EngineError> {
    let mut work = Vec::new();
    for (i, d) in desired.iter().enumerate() {
        if let DesiredSpec::Secret { sealed, .. } = &d.spec
            && !sealed.is_empty()
        {
            work.push((i, d, known(engine, tx, d)?));
        }
    }
    let sealing = engine.sealing();
    let open = |(_, d, known): &(usize, &Desired, Known<'_>)| unseal(&sealing, d, known);
    // Measured: a thread costs more than it saves when every value comes from the store.
    let opened = if work.iter().any(|(_, d, known)| known.needs_agreement(d)) {
        crate::par::map(&work, open)
    } else {
        work.iter().map(open).collect()
    };
    let mut unsealed: Vec<Prepared<'a>> = desired.iter().map(Prepared::Request).collect();
    let mut violations = Vec::new();
    let mut live = Opened::with_capacity(work.len());
    for ((i, _, known), (object, problems)) in work.into_iter().zip(opened) {
        violations.extend(problems);
        if let Some(opened) = known.live {
            live.insert(object.key.clone(), opened);
        }
        unsealed[i] = Prepared::Made(object);
    }
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

/// What the store already holds of a secret's sealed values.
#[derive(Default)]
struct Known<'a> {
    /// The sealed keys whose text is the one the current data version was cast from.
    same: Vec<&'a str>,
    /// That version's live side, opened, when `same` is not empty.
    live: Option<Live>,
}

impl Known<'_> {
    /// Whether a sealed value of `desired` has text the store has not seen, and so must be
    /// opened with the age identity.
    fn needs_agreement(&self, desired: &Desired) -> bool {
        match &desired.spec {
            DesiredSpec::Secret { sealed, .. } => sealed.len() > self.same.len(),
            _ => false,
        }
    }

    /// The stored value of sealed key `key` when its text is unchanged.
    fn value(&self, key: &str) -> Option<&Secret<String>> {
        let secret = self.live.as_ref()?.secret.as_ref()?;
        self.same.contains(&key).then(|| secret.get(key))?
    }
}

/// The sealed keys of `desired` whose text is the one its current data version was cast from
/// (digests made under the loaded KEK), with that version opened when there are any.
fn known<'a>(
    engine: &Engine,
    tx: &dyn ReadTx,
    desired: &'a Desired,
) -> Result<Known<'a>, EngineError> {
    let DesiredSpec::Secret { sealed, .. } = &desired.spec else {
        return Ok(Known::default());
    };
    let Some(Record {
        object,
        revision,
        sealed: Some(digests),
        ..
    }) = tx.object(&desired.key)?
    else {
        return Ok(Known::default());
    };
    let kek = engine.keys.current();
    if digests.version != object.version || digests.kek != kek.id() {
        return Ok(Known::default());
    }
    let key = &desired.key;
    let same: Vec<&str> = sealed
        .iter()
        .filter(|(k, armor)| {
            digests.keys.get(*k).is_some_and(|digest| {
                kek.is_sealed_digest(digest, &key.namespace, &key.name, k, armor)
            })
        })
        .map(|(k, _)| k.as_str())
        .collect();
    if same.is_empty() {
        return Ok(Known::default());
    }
    let current = data::open_secret(&engine.keys, tx, key, object.version)?;
    let live = Live {
        object,
        revision,
        secret: Some(current),
    };
    Ok(Known {
        same,
        live: Some(live),
    })
}

/// `desired` with its sealed values opened into its data; the sealed text is not copied.
fn unseal(sealing: &Keys, desired: &Desired, known: &Known<'_>) -> (Box<Desired>, Vec<Violation>) {
    let DesiredSpec::Secret { data, sealed } = &desired.spec else {
        return (Box::new(desired.clone()), Vec::new());
    };
    let mut object = Box::new(Desired {
        key: desired.key.clone(),
        labels: desired.labels.clone(),
        provenance: desired.provenance.clone(),
        spec: DesiredSpec::Secret {
            data: data.clone(),
            sealed: BTreeMap::new(),
        },
    });
    let mut violations = Vec::new();
    if let DesiredSpec::Secret { data, .. } = &mut object.spec {
        for (key, armor) in sealed {
            let place = Place::new(&desired.key.namespace, &desired.key.name, key);
            if data.0.contains_key(key) {
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
            if let Some(value) = known.value(key) {
                data.0.insert(key.clone(), value.clone());
                continue;
            }
            match sealing.unseal_for(armor, &place) {
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
                    data.0.insert(key.clone(), value);
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
