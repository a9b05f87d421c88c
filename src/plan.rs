//! Stage 3: desired objects against live state → a plan of changes.
//!
//! This module holds the plan's shape, which is also the `plan` part of `rune cast -o json`
//! (SPEC §3.2), and its arithmetic ([`diff`], pure). The engine loads and decrypts the live
//! side (only it can open live secrets), then calls [`diff`]; [`render`] prints the result.
//! A secret's change lists key names only — never a value, a length or a hash.
//! Must not happen here: an import of `server` (the server depends on the plan, not back).

pub mod desired;
pub mod diff;
pub mod render;

use serde::{Deserialize, Serialize};

use crate::wire::object::{ObjectKey, Stored};

/// What applying a plan does to one object.
#[derive(Clone, Copy, Debug, Eq, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Delete,
    Unchanged,
    Update,
}

/// Key-level changes of a secret or configmap.
#[derive(Clone, Debug, Default, Eq, PartialEq, Serialize, Deserialize)]
pub struct KeyChanges {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
}

impl KeyChanges {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.removed.is_empty()
    }
}

/// One object's entry in a plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    pub action: Action,
    #[serde(flatten)]
    pub key: ObjectKey,
    /// Data version before (`None` when the object does not exist yet).
    pub from_version: Option<u64>,
    /// Data version after applying.
    pub to_version: Option<u64>,
    /// Secrets and configmaps: which keys change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys: Option<KeyChanges>,
    /// Non-secret kinds: the live object, for a diff against the desired one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live: Option<Box<Stored>>,
    /// The object's revision when planned; apply refuses if it moved (`None`: absent).
    pub revision: Option<u64>,
}

/// Counts per action, for the summary line.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub create: usize,
    pub delete: usize,
    pub unchanged: usize,
    pub update: usize,
}

/// A whole plan.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub changes: Vec<Change>,
    pub summary: Summary,
}

impl Plan {
    pub fn from_changes(changes: Vec<Change>) -> Self {
        let mut summary = Summary::default();
        for change in &changes {
            match change.action {
                Action::Create => summary.create += 1,
                Action::Delete => summary.delete += 1,
                Action::Unchanged => summary.unchanged += 1,
                Action::Update => summary.update += 1,
            }
        }
        Self { changes, summary }
    }

    /// Whether applying would change anything.
    pub fn has_changes(&self) -> bool {
        self.summary.create + self.summary.update + self.summary.delete > 0
    }
}
