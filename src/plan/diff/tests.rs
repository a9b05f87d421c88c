//! The diff on its own: desired and live objects built in memory, no store, no keys.

use std::collections::{BTreeMap, BTreeSet};

use crate::secrets::Secret;

use super::{Corrupt, Live, Values, change, prune, stored_spec};
use crate::plan::Action;
use crate::resource::Kind;
use crate::wire::object::{
    Desired, DesiredSpec, KindName, NamespaceSpec, ObjectKey, Provenance, SecretValues, Stored,
    StoredSpec,
};

fn key(kind: Kind, name: &str) -> ObjectKey {
    ObjectKey {
        kind: KindName(kind),
        name: name.to_owned(),
        namespace: "default".to_owned(),
    }
}

fn values(pairs: &[(&str, &str)]) -> Values {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Secret::new((*v).to_owned())))
        .collect()
}

fn secret(pairs: &[(&str, &str)]) -> Desired {
    Desired {
        key: key(Kind::Secret, "db"),
        labels: BTreeMap::new(),
        provenance: None,
        spec: DesiredSpec::Secret {
            data: SecretValues(values(pairs)),
            sealed: BTreeMap::new(),
        },
    }
}

fn configmap(pairs: &[(&str, &str)]) -> Desired {
    Desired {
        key: key(Kind::ConfigMap, "app"),
        labels: BTreeMap::new(),
        provenance: None,
        spec: DesiredSpec::ConfigMap {
            data: pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        },
    }
}

/// The live side of `desired` as stored at `version`, with a secret's data as `secret`.
fn live(desired: &Desired, version: u64, secret: Option<Values>) -> Live {
    Live {
        object: Stored {
            created_at: "2026-01-01T00:00:00Z".into(),
            key: desired.key.clone(),
            labels: desired.labels.clone(),
            provenance: desired.provenance.clone(),
            spec: stored_spec(&desired.spec),
            updated_at: "2026-01-01T00:00:00Z".into(),
            version,
        },
        revision: 7,
        secret,
    }
}

/// An absent object is created at version 1, with every data key added.
#[test]
fn absent_objects_are_created() {
    let desired = secret(&[("b", "2"), ("a", "1")]);
    let change = change(&desired, None, false).unwrap();
    assert_eq!(change.action, Action::Create);
    assert_eq!((change.from_version, change.to_version), (None, Some(1)));
    assert_eq!(change.keys.unwrap().added, ["a", "b"]);
    assert_eq!(change.revision, None);
}

/// A secret is compared key by key against its opened data; the change names keys only and
/// never carries the live secret object.
#[test]
fn secrets_compare_their_opened_values() {
    let old = secret(&[("user", "admin"), ("password", "a"), ("gone", "x")]);
    let new = secret(&[("user", "admin"), ("password", "b"), ("token", "t")]);
    let live = live(
        &old,
        3,
        Some(values(&[
            ("user", "admin"),
            ("password", "a"),
            ("gone", "x"),
        ])),
    );
    let change = change(&new, Some(live), false).unwrap();
    assert_eq!(change.action, Action::Update);
    assert_eq!((change.from_version, change.to_version), (Some(3), Some(4)));
    assert_eq!(change.revision, Some(7));
    assert!(change.live.is_none());
    let keys = change.keys.unwrap();
    assert_eq!(
        (keys.added, keys.changed, keys.removed),
        (
            vec!["token".to_owned()],
            vec!["password".to_owned()],
            vec!["gone".to_owned()]
        )
    );
}

/// Labels update an object without a new data version; `force` adds one; equal data with equal
/// labels is unchanged.
#[test]
fn labels_and_force() {
    let desired = configmap(&[("k", "v")]);
    let same = change(&desired, Some(live(&desired, 2, None)), false).unwrap();
    assert_eq!((same.action, same.to_version), (Action::Unchanged, Some(2)));
    assert!(same.live.is_some());
    let forced = change(&desired, Some(live(&desired, 2, None)), true).unwrap();
    assert_eq!(
        (forced.action, forced.to_version),
        (Action::Update, Some(3))
    );
    let mut labelled = desired.clone();
    labelled.labels.insert("team".into(), "core".into());
    let relabelled = change(&labelled, Some(live(&desired, 2, None)), false).unwrap();
    assert_eq!(
        (relabelled.action, relabelled.to_version),
        (Action::Update, Some(2))
    );
}

/// Kinds without data compare their whole spec; `force` does not bump them.
#[test]
fn specs_without_data_compare_whole() {
    let mut ns = Desired {
        key: crate::wire::object::namespace_key("team"),
        labels: BTreeMap::new(),
        provenance: None,
        spec: DesiredSpec::Namespace(NamespaceSpec::default()),
    };
    let stored = live(&ns, 1, None);
    let forced = change(&ns, Some(stored), true).unwrap();
    assert_eq!((forced.action, forced.keys), (Action::Unchanged, None));
    let bare = live(&ns, 1, None);
    ns.labels.insert("a".into(), "b".into());
    let relabelled = change(&ns, Some(bare), false).unwrap();
    assert_eq!(
        (relabelled.action, relabelled.to_version),
        (Action::Update, Some(1))
    );
}

/// A live record of the wrong shape, or a secret without its data, is corrupt.
#[test]
fn mismatched_live_objects_are_corrupt() {
    let cm = configmap(&[("k", "v")]);
    let mut wrong = live(&cm, 1, None);
    wrong.object.spec = StoredSpec::Secret { keys: vec![] };
    assert_eq!(change(&cm, Some(wrong), false).err(), Some(Corrupt));
    let s = secret(&[("k", "v")]);
    assert_eq!(
        change(&s, Some(live(&s, 1, None)), false).err(),
        Some(Corrupt)
    );
}

/// Pruning deletes what the batch no longer holds, at the revision seen.
#[test]
fn prune_keeps_what_the_batch_holds() {
    let mut kept = configmap(&[]);
    kept.provenance = Some(Provenance::default());
    let mut gone = configmap(&[]);
    gone.key.name = "old".into();
    let wanted = BTreeSet::from([&kept.key]);
    let changes = prune([live(&kept, 1, None), live(&gone, 4, None)], &wanted);
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].key.name, "old");
    assert_eq!(
        (
            changes[0].action,
            changes[0].from_version,
            changes[0].revision
        ),
        (Action::Delete, Some(4), Some(7))
    );
}
