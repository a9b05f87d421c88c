//! A batch made ready to plan or apply: sealed values opened, the server's rules checked,
//! implied namespaces added, references resolved, and the objects put in apply order.
//!
//! In: the desired objects of a request and a transaction to look up what exists. Out: the
//! batch in apply order (borrowed where nothing changed: a batch can hold thousands of
//! objects), or every violation at once.
//! Must not happen here: a write; a violation naming a secret value.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Deref;

use crate::resource::Kind;
use crate::server::engine::{Engine, EngineError, unseal};
use crate::server::store::ReadTx;
use crate::server::violation::{
    check_batch, check_desired, missing_namespace, missing_reference, reference_fields,
};
use crate::wire::batch::BatchOptions;
use crate::wire::error::Violation;
use crate::wire::object::{
    Desired, DesiredSpec, KindName, NamespaceSpec, ObjectKey, namespace_key,
};

/// An object of a prepared batch: the request's own, or one the engine made (a secret with its
/// sealed values opened, an implied namespace). A made one is boxed: a [`Desired`] is some 470
/// bytes, and a batch of 100,000 would hold 47 MB of them inline, nearly all borrowed.
#[derive(Debug)]
pub(super) enum Prepared<'a> {
    Request(&'a Desired),
    Made(Box<Desired>),
}

impl Deref for Prepared<'_> {
    type Target = Desired;

    fn deref(&self) -> &Desired {
        match self {
            Self::Request(desired) => desired,
            Self::Made(desired) => desired,
        }
    }
}

/// Validates a batch against the server's rules and adds implied namespaces; also hands on
/// the live side of the secrets that unsealing read and opened.
pub(super) fn prepare<'a>(
    engine: &Engine,
    tx: &dyn ReadTx,
    desired: &'a [Desired],
    options: &BatchOptions,
) -> Result<(Vec<Prepared<'a>>, unseal::Opened), EngineError> {
    let mut violations = check_batch(desired);
    let unseal::Unsealed {
        desired,
        violations: unsealing,
        opened,
    } = unseal::unseal_batch(engine, tx, desired)?;
    violations.extend(unsealing);
    violations.extend(
        desired
            .iter()
            .flat_map(|d| check_desired(d, &engine.settings.limits)),
    );
    let in_batch: BTreeSet<&ObjectKey> = desired.iter().map(|d| &d.key).collect();
    let mut implied = implied_namespaces(tx, &desired, &in_batch, options, &mut violations)?;
    for d in &desired {
        violations.extend(unresolved_references(tx, d, &in_batch)?);
    }
    if !violations.is_empty() {
        return Err(EngineError::Invalid(violations));
    }
    implied.extend(desired);
    implied.sort_by_key(|d| apply_rank(d.key.kind.0));
    Ok((implied, opened))
}

/// Namespaces that the batch's objects use and neither the batch nor the store holds: created
/// with `--create-namespace`, a violation otherwise.
fn implied_namespaces<'a>(
    tx: &dyn ReadTx,
    desired: &[Prepared<'a>],
    in_batch: &BTreeSet<&ObjectKey>,
    options: &BatchOptions,
    violations: &mut Vec<Violation>,
) -> Result<Vec<Prepared<'a>>, EngineError> {
    let mut implied = Vec::new();
    // Each namespace is looked up in the store once, however many objects it holds.
    let mut stored_namespaces = BTreeSet::new();
    let mut missing_namespaces = BTreeSet::new();
    for d in desired.iter().filter(|d| d.key.kind.0.is_namespaced()) {
        let ns = namespace_key(&d.key.namespace);
        if in_batch.contains(&ns)
            || stored_namespaces.contains(&ns)
            || missing_namespaces.contains(&ns)
        {
            continue;
        }
        if tx.object(&ns)?.is_some() {
            stored_namespaces.insert(ns);
            continue;
        }
        missing_namespaces.insert(ns.clone());
        if options.create_namespaces {
            implied.push(Prepared::Made(Box::new(Desired {
                key: ns,
                labels: BTreeMap::new(),
                provenance: None,
                spec: DesiredSpec::Namespace(NamespaceSpec::default()),
            })));
        } else {
            violations.push(missing_namespace(&d.key));
        }
    }
    Ok(implied)
}

/// A service's secrets and configmaps must exist, in the batch or in the store.
fn unresolved_references(
    tx: &dyn ReadTx,
    desired: &Desired,
    in_batch: &BTreeSet<&ObjectKey>,
) -> Result<Vec<Violation>, EngineError> {
    let DesiredSpec::Service(spec) = &desired.spec else {
        return Ok(Vec::new());
    };
    let mut violations = Vec::new();
    for (kind, name, field) in reference_fields(spec) {
        let key = ObjectKey {
            kind: KindName(kind),
            name: name.to_owned(),
            namespace: desired.key.namespace.clone(),
        };
        if !in_batch.contains(&key) && tx.object(&key)?.is_none() {
            violations.push(missing_reference(&desired.key, &key, field));
        }
    }
    Ok(violations)
}

/// Namespaces first, then data, storage classes, volumes and services (SPEC §3 apply order);
/// deletions run in the reverse order.
pub(super) fn apply_rank(kind: Kind) -> u8 {
    match kind {
        Kind::Namespace => 0,
        Kind::Secret | Kind::ConfigMap | Kind::StorageClass => 1,
        Kind::Volume | Kind::Service => 2,
    }
}
