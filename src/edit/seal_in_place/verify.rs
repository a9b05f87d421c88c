//! The safety net of a rewrite: the old and the new text, each parsed and validated on its own,
//! must declare the same resources with the same keys and value sources, except for the places
//! just sealed. A rewrite that fails this is a bug; the file is then left alone.

use std::path::PathBuf;

use crate::resource::{DataSource, Kind, Plaintext, Resource, Spec};
use crate::secrets::Place;
use crate::validate::{Options, validate};

/// What a resource declares, as far as a rewrite may touch it.
#[derive(Debug, PartialEq)]
struct Declared {
    allow_plaintext: bool,
    entries: Vec<(String, Held)>,
    kind: Kind,
    labels: std::collections::BTreeMap<String, String>,
    name: String,
    namespace: String,
}

/// Where an entry's value comes from; `Debug` shows no plaintext.
#[derive(Debug, PartialEq)]
enum Held {
    File(PathBuf),
    Sealed(String),
    Value(Plaintext),
}

/// `Err(reason)` when `after` is worse than `before` or declares anything but the expected.
pub fn same_declarations(
    name: &str,
    before: &str,
    after: &str,
    options: &Options,
    sealed: &[(Place, String)],
) -> Result<(), String> {
    let check = |text: &str| {
        let loaded = crate::parse::load_texts([(name.to_owned(), text.to_owned())]);
        let validated = validate(&loaded, options);
        let declared: Vec<Declared> = validated.resources.iter().map(declared).collect();
        (validated.diagnostics.errors(), declared)
    };
    let (errors_before, mut expected) = check(before);
    let (errors_after, got) = check(after);
    if errors_after > errors_before {
        return Err(format!(
            "it would have {errors_after} validation error{} instead of {errors_before}",
            if errors_after == 1 { "" } else { "s" }
        ));
    }
    for (place, armor) in sealed {
        let Some(resource) = expected.iter_mut().find(|d| {
            d.kind == Kind::Secret && d.namespace == place.namespace && d.name == place.name
        }) else {
            return Err(format!("{place} is not declared"));
        };
        let held = Held::Sealed(armor.trim().to_owned());
        match resource.entries.iter_mut().find(|(k, _)| *k == place.key) {
            Some((_, entry)) => *entry = held,
            None => resource.entries.push((place.key.clone(), held)),
        }
    }
    if got.len() != expected.len() {
        return Err(format!(
            "it would declare {} resources instead of {}",
            got.len(),
            expected.len()
        ));
    }
    match expected.iter().zip(&got).find(|(e, g)| e != g) {
        Some((wanted, _)) => Err(format!(
            "{} `{}/{}` would change",
            wanted.kind, wanted.namespace, wanted.name
        )),
        None => Ok(()),
    }
}

fn declared(resource: &Resource) -> Declared {
    let (allow_plaintext, entries) = match &resource.spec {
        Spec::Secret(data) | Spec::ConfigMap(data) => (
            data.allow_plaintext,
            data.entries
                .iter()
                .map(|e| {
                    let held = match &e.source {
                        DataSource::File(path) => Held::File(path.clone()),
                        DataSource::Sealed(armor) => Held::Sealed(armor.trim().to_owned()),
                        DataSource::Value(value) => Held::Value(value.clone()),
                    };
                    (e.key.value.clone(), held)
                })
                .collect(),
        ),
        _ => (false, Vec::new()),
    };
    Declared {
        allow_plaintext,
        entries,
        labels: resource.labels.clone(),
        kind: resource.kind(),
        name: resource.name.value.clone(),
        namespace: resource.namespace_name().to_owned(),
    }
}
