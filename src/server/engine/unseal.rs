//! Opening `sealed:` values (SPEC §6) into their secret's data, with the server's age identity.
//!
//! In: a batch of desired objects. Out: the batch with every sealed value opened (objects
//! without sealed values stay borrowed), and a violation for each value that does not open
//! here or was sealed for another place.
//! Must not happen here: a value, opened or sealed, in a violation's message.

use std::borrow::Cow;

use crate::diag::Code;
use crate::secrets::{Keys, Place, UnsealError};
use crate::wire::error::Violation;
use crate::wire::object::{Desired, DesiredSpec};

/// Opens every `sealed:` value into its secret's data, checking that it was sealed for
/// this very place. Opening is an X25519 agreement per value, so a large batch is opened in
/// parallel.
pub(super) fn unseal_batch<'a>(
    sealing: &Keys,
    desired: &'a [Desired],
) -> (Vec<Cow<'a, Desired>>, Vec<Violation>) {
    let opened = crate::par::map(desired, |d| match &d.spec {
        DesiredSpec::Secret { sealed, .. } if !sealed.is_empty() => Some(unseal(sealing, d)),
        _ => None,
    });
    let mut violations = Vec::new();
    let unsealed = desired
        .iter()
        .zip(opened)
        .map(|(original, opened)| match opened {
            Some((object, problems)) => {
                violations.extend(problems);
                Cow::Owned(object)
            }
            None => Cow::Borrowed(original),
        })
        .collect();
    (unsealed, violations)
}

fn unseal(sealing: &Keys, desired: &Desired) -> (Desired, Vec<Violation>) {
    let mut object = desired.clone();
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
