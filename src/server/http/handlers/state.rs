//! What a write needs from the store before the engine sees it: the namespace of every
//! namespaced object, and the secrets and configmaps every service uses.
//!
//! In: the objects of a write (one, or a batch) and whether the batch creates missing
//! namespaces. Out: nothing, or a 409 `unresolved` with the same `violations` the engine would
//! report. The request itself is fine; the server's state does not fit it yet (create the
//! namespace or the secret first), which is a conflict, not a malformed request — a client
//! that only knows the schema can tell the two apart. The engine checks all of it again inside
//! its transaction: this only answers earlier, with the right status. Objects whose names are
//! not valid are left to the engine, whose 400 comes first.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::json;

use crate::resource::Kind;
use crate::server::engine::{Engine, EngineError};
use crate::server::http::error::ApiError;
use crate::server::http::handlers::blocking;
use crate::server::violation::{missing_namespace, missing_reference, reference_fields};
use crate::validate::names::dns1123_problem;
use crate::wire::error::{ErrorKind, UNRESOLVED, Violation};
use crate::wire::object::{Desired, DesiredSpec, KindName, ObjectKey, namespace_key};

/// Answers 409 `unresolved` when an object's namespace, or a service's secret or configmap,
/// exists neither in the store nor in `objects`.
pub(crate) async fn check(
    engine: &Arc<Engine>,
    objects: &[Desired],
    create_namespaces: bool,
) -> Result<(), ApiError> {
    if objects.iter().any(|d| !names_are_valid(&d.key)) {
        return Ok(());
    }
    let wanted = wanted(objects, create_namespaces);
    if wanted.is_empty() {
        return Ok(());
    }
    let engine = engine.clone();
    let missing = blocking(move || {
        let mut missing = Vec::new();
        for (user, key, field) in wanted {
            match engine.get(&key) {
                Ok(_) => {}
                Err(EngineError::NotFound(_)) => missing.push(violation(&user, &key, field)),
                Err(error) => return Err(error),
            }
        }
        Ok(missing)
    })
    .await?;
    if missing.is_empty() {
        return Ok(());
    }
    let message = missing
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    Err(ApiError::new(ErrorKind::Conflict, UNRESOLVED, message)
        .with_details(json!({ "violations": missing })))
}

fn names_are_valid(key: &ObjectKey) -> bool {
    dns1123_problem(&key.name).is_none()
        && (!key.kind.0.is_namespaced() || dns1123_problem(&key.namespace).is_none())
}

/// `(user, needed)` for every object the batch needs and does not hold itself.
fn wanted(
    objects: &[Desired],
    create_namespaces: bool,
) -> BTreeSet<(ObjectKey, ObjectKey, String)> {
    let in_batch: BTreeSet<&ObjectKey> = objects.iter().map(|d| &d.key).collect();
    // One report per missing namespace is enough, as the engine gives it: for the first of its
    // users (in key order). Chosen here, so that a batch of 100,000 objects in one namespace
    // does not copy every key to find it.
    let mut namespaces: BTreeMap<&str, &ObjectKey> = BTreeMap::new();
    if !create_namespaces {
        for d in objects.iter().filter(|d| d.key.kind.0.is_namespaced()) {
            let first = namespaces.entry(&d.key.namespace).or_insert(&d.key);
            if d.key < **first {
                *first = &d.key;
            }
        }
    }
    let mut wanted = BTreeSet::new();
    for (namespace, user) in namespaces {
        wanted.insert((
            user.clone(),
            namespace_key(namespace),
            "namespace".to_owned(),
        ));
    }
    for d in objects {
        if let DesiredSpec::Service(spec) = &d.spec {
            for (kind, name, field) in reference_fields(spec) {
                let used = ObjectKey {
                    kind: KindName(kind),
                    name: name.to_owned(),
                    namespace: d.key.namespace.clone(),
                };
                wanted.insert((d.key.clone(), used, field));
            }
        }
    }
    wanted.retain(|(_, needed, _)| !in_batch.contains(needed));
    wanted
}

/// The engine's wording and codes, so that `rune` prints the same whichever side found it.
fn violation(user: &ObjectKey, missing: &ObjectKey, field: String) -> Violation {
    if missing.kind.0 == Kind::Namespace {
        missing_namespace(user)
    } else {
        missing_reference(user, missing, field)
    }
}
