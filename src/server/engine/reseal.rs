//! Re-sealing values for new recipients on the server (`POST /v1/reseal`, SPEC §4.6): after a
//! seal-identity rotation, `rune seal --reseal` sends the sealed values its local key file
//! cannot open; they are opened here with every seal identity and sealed again for the given
//! recipients, each for the very place it was sealed for.
//!
//! In: the request (places, armors, recipients). Out: the new armors, in request order, and
//! an audit record naming the secrets (never a value). A value sealed for another place than
//! the one it claims, one that no identity opens, or a malformed request is refused whole: no
//! armor of a refused request is returned, so a caller never rewrites half a file.
//! Must not happen here: an opened value anywhere but in the sealing of its new armor.

use std::collections::BTreeSet;

use crate::resource::Kind;
use crate::secrets::{Keys, Place, parse_recipient, seal};
use crate::server::engine::unseal::{unseal_code, unseal_help};
use crate::server::engine::{EngineError, audit};
use crate::validate::names::{data_key_problem, dns1123_problem};
use crate::wire::admin::{
    MAX_RESEAL_ARMOR, MAX_RESEAL_RECIPIENTS, MAX_RESEAL_VALUES, ResealRequest, ResealValue,
};
use crate::wire::error::Violation;
use crate::wire::object::{KindName, ObjectKey};

use super::Engine;

/// Opens and re-seals every value of `request`, then records it; all or nothing.
pub(super) fn reseal(engine: &Engine, request: &ResealRequest) -> Result<Vec<String>, EngineError> {
    check_shape(request)?;
    let recipients: Vec<age::x25519::Recipient> = request
        .recipients
        .iter()
        .map(|text| {
            // The text is an age recipient or garbage the caller sent: not quoted back.
            parse_recipient(text).ok_or_else(|| {
                EngineError::Request(
                    "`recipients` holds something that is not an age recipient (`age1…`)"
                        .to_owned(),
                )
            })
        })
        .collect::<Result<_, _>>()?;
    let sealing = engine.sealing();
    let outcomes = crate::par::map(&request.values, |value| {
        reseal_one(&sealing, value, &recipients)
    });
    let mut armors = Vec::with_capacity(outcomes.len());
    let mut violations = Vec::new();
    for outcome in outcomes {
        match outcome {
            Ok(armor) => armors.push(armor),
            Err(violation) => violations.push(*violation),
        }
    }
    if !violations.is_empty() {
        return Err(EngineError::Invalid(violations));
    }
    let secrets: BTreeSet<ObjectKey> = request.values.iter().map(key_of).collect();
    let objects = secrets
        .iter()
        .map(|key| audit::object(key, None, None))
        .collect();
    engine
        .store
        .write(|tx| audit::record(tx, &engine.settings, "reseal", objects, None))?;
    Ok(armors)
}

/// Counts and sizes first, before any value is opened (the bounds the schema states: 400).
fn check_shape(request: &ResealRequest) -> Result<(), EngineError> {
    let too_many = EngineError::Request;
    if request.values.len() > MAX_RESEAL_VALUES {
        return Err(too_many(format!(
            "at most {MAX_RESEAL_VALUES} values per request; send the rest in another"
        )));
    }
    if request.recipients.len() > MAX_RESEAL_RECIPIENTS {
        return Err(too_many(format!(
            "at most {MAX_RESEAL_RECIPIENTS} recipients per request"
        )));
    }
    if request
        .values
        .iter()
        .any(|v| v.sealed.len() > MAX_RESEAL_ARMOR)
    {
        return Err(too_many(format!(
            "a sealed value is larger than {MAX_RESEAL_ARMOR} bytes"
        )));
    }
    if request.recipients.is_empty() {
        return Err(EngineError::Request(
            "`recipients` is empty: name at least one age recipient to seal for".to_owned(),
        ));
    }
    Ok(())
}

fn key_of(value: &ResealValue) -> ObjectKey {
    ObjectKey {
        kind: KindName(Kind::Secret),
        name: value.name.clone(),
        namespace: value.namespace.clone(),
    }
}

/// The new armor of one value, or why it is refused (naming its place, never its value).
fn reseal_one(
    sealing: &Keys,
    value: &ResealValue,
    recipients: &[age::x25519::Recipient],
) -> Result<String, Box<Violation>> {
    let object = key_of(value);
    let refuse = |code: &str, message: String| {
        Box::new(Violation {
            code: Some(code.to_owned()),
            field: Some(format!("spec.sealed.{}", value.key)),
            key: Some(value.key.clone()),
            ..Violation::new(&object, message)
        })
    };
    for (what, text) in [("namespace", &value.namespace), ("name", &value.name)] {
        if let Some(problem) = dns1123_problem(text) {
            return Err(refuse(
                crate::diag::Code::NameDns1123.as_str(),
                format!("the {what} is not valid: {problem}"),
            ));
        }
    }
    if let Some(problem) = data_key_problem(&value.key) {
        return Err(refuse(
            crate::diag::Code::DataKeyInvalid.as_str(),
            format!("the key is not valid: {problem}"),
        ));
    }
    let place = Place::new(&value.namespace, &value.name, &value.key);
    let opened = sealing.unseal_for(&value.sealed, &place).map_err(|error| {
        refuse(
            unseal_code(&error).as_str(),
            format!(
                "sealed key `{}` cannot be re-sealed: {error}{}",
                value.key,
                unseal_help(&error)
            ),
        )
    })?;
    seal(opened.expose(), &place, recipients).map_err(|error| {
        refuse(
            crate::diag::Code::SealedEmpty.as_str(),
            format!("sealed key `{}` cannot be re-sealed: {error}", value.key),
        )
    })
}
