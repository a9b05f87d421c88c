//! The redb store on its own, through the [`Store`] trait: no engine, no keys.

use std::collections::BTreeMap;

use super::RedbStore;
use crate::resource::Kind;
use crate::server::store::{Record, Store, StoreError};
use crate::wire::object::{KindName, NamespaceSpec, ObjectKey, Provenance, Stored, StoredSpec};

fn store(dir: &tempfile::TempDir) -> Box<dyn Store> {
    Box::new(RedbStore::open(dir.path()).unwrap())
}

fn record(kind: Kind, namespace: &str, name: &str) -> Record {
    let spec = match kind {
        Kind::Namespace => StoredSpec::Namespace(NamespaceSpec::default()),
        Kind::Secret => StoredSpec::Secret { keys: vec![] },
        _ => StoredSpec::ConfigMap {
            data: BTreeMap::new(),
        },
    };
    Record {
        object: Stored {
            created_at: String::new(),
            key: ObjectKey {
                kind: KindName(kind),
                name: name.to_owned(),
                namespace: namespace.to_owned(),
            },
            labels: BTreeMap::new(),
            provenance: None,
            spec,
            updated_at: String::new(),
            version: 1,
        },
        history: Vec::new(),
        sealed: None,
        revision: 1,
        versions: Vec::new(),
    }
}

fn names(records: &[Record]) -> Vec<String> {
    records
        .iter()
        .map(|r| format!("{}/{}", r.object.key.namespace, r.object.key.name))
        .collect()
}

/// A write transaction whose work fails keeps none of its writes; one that succeeds keeps all.
#[test]
fn a_failed_write_transaction_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir);
    let a = record(Kind::ConfigMap, "default", "a");
    let result: Result<(), StoreError> = store.write(|tx| {
        tx.put_object(&a)?;
        tx.put_data(&a.object.key, 1, b"{}")?;
        tx.set_kek_check(b"check")?;
        assert!(
            tx.object(&a.object.key)?.is_some(),
            "a transaction sees its writes"
        );
        Err(StoreError::Backend("the work failed".into()))
    });
    assert!(result.is_err());
    store
        .read(|tx| {
            assert!(tx.object(&a.object.key)?.is_none());
            assert!(tx.data(&a.object.key, 1)?.is_none());
            assert!(tx.kek_check()?.is_none());
            Ok::<_, StoreError>(())
        })
        .unwrap();

    store
        .write(|tx| {
            tx.put_object(&a)?;
            tx.put_data(&a.object.key, 1, b"{}")
        })
        .unwrap();
    let (object, data) = store
        .read(|tx| Ok::<_, StoreError>((tx.object(&a.object.key)?, tx.data(&a.object.key, 1)?)))
        .unwrap();
    assert_eq!(object.unwrap().object, a.object);
    assert_eq!(data.as_deref(), Some(b"{}".as_slice()));
}

/// A transaction larger than the write buffer's share of the cache (its pages written to the
/// file before the commit) is still all or nothing, across a reopening of the store.
#[test]
fn a_transaction_past_the_write_buffer_is_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let a = record(Kind::ConfigMap, "default", "a");
    // Past half the cache by 4 MB, in 1 MB data versions.
    let versions = (super::CACHE_BYTES >> 21) as u64 + 4;
    let blob = |version: u64| vec![u8::try_from(version % 251).unwrap(); 1 << 20];
    let write_all = |tx: &mut dyn crate::server::store::WriteTx| {
        tx.put_object(&a)?;
        (1..=versions).try_for_each(|v| tx.put_data(&a.object.key, v, &blob(v)))
    };
    let failed: Result<(), StoreError> = store(&dir).write(|tx| {
        write_all(tx)?;
        Err(StoreError::Backend("the work failed".into()))
    });
    assert!(failed.is_err());
    let stored = store(&dir)
        .read(|tx| Ok::<_, StoreError>((tx.object(&a.object.key)?, tx.data(&a.object.key, 1)?)))
        .unwrap();
    assert!(
        stored.0.is_none() && stored.1.is_none(),
        "nothing of it kept"
    );

    store(&dir).write(|tx| write_all(tx)).unwrap();
    let reopened = store(&dir);
    for v in [1, versions / 2, versions] {
        let data = reopened
            .read(|tx| tx.data(&a.object.key, v))
            .unwrap()
            .expect("every version kept");
        assert_eq!(data, blob(v));
    }
}

/// Listing takes one kind, in one namespace or all, and nothing of a namespace whose name
/// another namespace's name starts with; counting takes every namespaced kind.
#[test]
fn listing_and_counting_by_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir);
    let records = [
        record(Kind::ConfigMap, "team", "b"),
        record(Kind::ConfigMap, "team", "a"),
        record(Kind::ConfigMap, "team-2", "c"),
        record(Kind::Secret, "team", "s"),
        record(Kind::Namespace, "", "team"),
    ];
    store
        .write(|tx| records.iter().try_for_each(|r| tx.put_object(r)))
        .unwrap();
    store
        .read(|tx| {
            let team = tx.list(Kind::ConfigMap, Some("team"))?;
            assert_eq!(names(&team), ["team/a", "team/b"]);
            let all = tx.list(Kind::ConfigMap, None)?;
            assert_eq!(names(&all), ["team/a", "team/b", "team-2/c"]);
            assert_eq!(names(&tx.list(Kind::Namespace, Some("x"))?), ["/team"]);
            assert_eq!(tx.count_in_namespace("team")?, 3);
            assert_eq!(tx.count_in_namespace("team-2")?, 1);
            assert_eq!(tx.count_in_namespace("none")?, 0);
            Ok::<_, StoreError>(())
        })
        .unwrap();
}

/// Records come back by source set; removed objects and data are gone.
#[test]
fn source_sets_and_removal() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir);
    let mut a = record(Kind::ConfigMap, "default", "a");
    a.object.provenance = Some(Provenance {
        source_set: Some("repo:deploy".into()),
        ..Provenance::default()
    });
    let b = record(Kind::ConfigMap, "default", "b");
    store
        .write(|tx| {
            tx.put_object(&a)?;
            tx.put_object(&b)?;
            tx.put_data(&b.object.key, 1, b"one")?;
            tx.put_data(&b.object.key, 2, b"two")
        })
        .unwrap();
    store
        .write(|tx| {
            assert_eq!(names(&tx.in_source_set("repo:deploy")?), ["default/a"]);
            assert!(tx.in_source_set("other")?.is_empty());
            tx.remove_data(&b.object.key, 1)?;
            tx.remove_object(&b.object.key)
        })
        .unwrap();
    store
        .read(|tx| {
            assert!(tx.object(&b.object.key)?.is_none());
            assert!(tx.data(&b.object.key, 1)?.is_none());
            assert_eq!(
                tx.data(&b.object.key, 2)?.as_deref(),
                Some(b"two".as_slice())
            );
            Ok::<_, StoreError>(())
        })
        .unwrap();
}

/// A fresh store reads as empty, even before any table exists; the facts survive a reopen.
#[test]
fn a_fresh_store_reads_empty_and_keeps_its_facts() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = store(&dir);
        store
            .read(|tx| {
                assert!(tx.list(Kind::Namespace, None)?.is_empty());
                assert!(tx.kek_check()?.is_none());
                assert!(tx.seal_identity()?.is_none());
                Ok::<_, StoreError>(())
            })
            .unwrap();
        store
            .write(|tx| {
                tx.set_kek_check(b"check")?;
                tx.set_seal_identity(b"sealed")
            })
            .unwrap();
    }
    let store = store(&dir);
    let facts = store
        .read(|tx| Ok::<_, StoreError>((tx.kek_check()?, tx.seal_identity()?)))
        .unwrap();
    assert_eq!(facts, (Some(b"check".to_vec()), Some(b"sealed".to_vec())));
}

/// A record written before per-version history (issue #15) has no `history` field: it reads
/// as it is, with an empty history, and is written back the same way until a version is made.
#[test]
fn records_from_before_history_read_as_they_are() {
    let old = serde_json::to_value(record(Kind::Secret, "default", "db")).unwrap();
    assert!(old.get("history").is_none(), "{old}");
    let back: Record = serde_json::from_value(old).unwrap();
    assert!(back.history.is_empty());
}

/// Audit records come back in time order (two in one second keep their order), from `since`
/// on, and pruning removes only those before its cut.
#[test]
fn audit_records_append_in_order_and_prune() {
    let dir = tempfile::tempdir().unwrap();
    let store: Box<dyn Store> = Box::new(RedbStore::open(dir.path()).unwrap());
    let entry = |at: &str, action: &str| crate::wire::audit::AuditEntry {
        action: action.to_owned(),
        at: at.to_owned(),
        outcome: "ok".to_owned(),
        ..Default::default()
    };
    store
        .write(|tx| {
            tx.append_audit(&entry("2026-01-01T00:00:00Z", "a"))?;
            tx.append_audit(&entry("2026-01-02T00:00:00Z", "b"))?;
            tx.append_audit(&entry("2026-01-02T00:00:00Z", "c"))?;
            tx.append_audit(&entry("2026-01-03T00:00:00Z", "d"))?;
            Ok::<_, StoreError>(())
        })
        .unwrap();
    let actions = |since: &str| -> Vec<String> {
        store
            .read(|tx| tx.audit(since, 100))
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect()
    };
    assert_eq!(actions(""), ["a", "b", "c", "d"]);
    assert_eq!(actions("2026-01-02T00:00:00Z"), ["b", "c", "d"]);
    let gone = store
        .write(|tx| tx.prune_audit("2026-01-02T00:00:00Z"))
        .unwrap();
    assert_eq!(gone, 1);
    assert_eq!(actions(""), ["b", "c", "d"]);
}
