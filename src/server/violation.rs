//! The server's own checks of desired objects (SPEC §4.4): every rule `rune lint` applies to one
//! object alone, run by the same functions ([`crate::validate::rules`]) on the wire form, against
//! the server's limits; and duplicates inside one batch. The client validated the same rules
//! offline, but the server must not trust its clients.
//!
//! In: [`Desired`] objects as a request carried them. Out: [`Violation`]s, each with the
//! diagnostic code lint gives the same fault and the `field` path inside the wire object where
//! the value sits — `name`, `namespace`, `labels.KEY`, `spec.scale`, `spec.data.KEY`,
//! `spec.env.NAME`, `spec.ports[0].port` (a map's key is the rest of the path, verbatim; see
//! `docs/validation.md`).
//! Must not happen here: a secret value, or a secret's size, in a violation.

mod service;

use std::collections::BTreeMap;

use crate::diag::Code;
use crate::limits::{DataLimits, Limits};
use crate::resource::DataKind;
use crate::validate::rules::{self, Problem};
use crate::wire::error::Violation;
use crate::wire::object::{Desired, DesiredSpec, ObjectKey, StorageClassSpec, VolumeSpec};

pub use service::{reference_fields, service_references};

/// A problem of `object`, placed at `field`.
fn violation(object: &ObjectKey, field: impl Into<String>, problem: Problem) -> Violation {
    Violation {
        code: Some(problem.code.as_str().to_owned()),
        field: Some(field.into()),
        key: None,
        limit: problem.limit,
        message: problem.message,
        object: object.clone(),
        observed: problem.observed,
    }
}

/// Where the violations of one object go, with the object they are about.
struct Findings<'a> {
    key: &'a ObjectKey,
    violations: Vec<Violation>,
}

impl Findings<'_> {
    fn add(&mut self, field: impl Into<String>, problem: Option<Problem>) {
        if let Some(problem) = problem {
            self.violations.push(violation(self.key, field, problem));
        }
    }

    /// A problem about one data key: `key` names it for clients that group by key.
    fn add_for_key(&mut self, field: impl Into<String>, key: &str, problem: Option<Problem>) {
        if let Some(problem) = problem {
            self.violations.push(Violation {
                key: Some(key.to_owned()),
                ..violation(self.key, field, problem)
            });
        }
    }
}

/// Every rule of SPEC §2.3 that needs no other object, against the server's limits.
pub fn check_desired(desired: &Desired, limits: &Limits) -> Vec<Violation> {
    let key = &desired.key;
    let mut found = Findings {
        key,
        violations: Vec::new(),
    };
    let kind = key.kind.0;
    found.add("name", rules::name(&format!("{kind} name"), &key.name));
    if kind.is_namespaced() {
        found.add("namespace", rules::name("namespace", &key.namespace));
    } else if !key.namespace.is_empty() {
        let problem = Problem::new(
            Code::FieldUnknown,
            format!("a {kind} has no namespace"),
            "not a field of this kind",
        );
        found.add("namespace", Some(problem));
    }
    if desired.spec_kind() != kind {
        let problem = Problem::new(
            Code::FieldValue,
            format!("the spec is a {}, not a {kind}", desired.spec_kind()),
            "another kind",
        );
        found.add("kind", Some(problem));
    }
    check_labels(&mut found, &desired.labels);
    match &desired.spec {
        DesiredSpec::Secret { data, sealed } => {
            let values = data
                .0
                .iter()
                .map(|(k, v)| ("spec.data", k.as_str(), Some(v.expose().len())));
            // A sealed value's size is known only once it is opened (the engine opens it
            // before it checks a batch).
            let sealed = sealed.keys().map(|k| ("spec.sealed", k.as_str(), None));
            let count = data.0.len() + sealed.len();
            check_data(
                &mut found,
                count,
                values.chain(sealed),
                &limits.secret,
                DataKind::Secret,
            );
        }
        DesiredSpec::ConfigMap { data } => {
            let sizes = data
                .iter()
                .map(|(k, v)| ("spec.data", k.as_str(), Some(v.len())));
            check_data(
                &mut found,
                data.len(),
                sizes,
                &limits.configmap,
                DataKind::ConfigMap,
            );
        }
        DesiredSpec::Service(spec) => service::check(&mut found, spec),
        DesiredSpec::StorageClass(StorageClassSpec { parameters, .. }) => {
            check_parameters(&mut found, parameters);
        }
        DesiredSpec::Volume(VolumeSpec {
            parameters,
            size,
            storage_class_name,
        }) => {
            found.add(
                "spec.storageClassName",
                rules::name("storage class", storage_class_name),
            );
            found.add("spec.size", rules::quantity(size));
            check_parameters(&mut found, parameters);
        }
        DesiredSpec::Namespace(_) => {}
    }
    found.violations
}

fn check_labels(found: &mut Findings<'_>, labels: &BTreeMap<String, String>) {
    found.add("labels", rules::label_count(labels.len()));
    for (key, value) in labels {
        found.add(format!("labels.{key}"), rules::label_key(key));
        found.add(format!("labels.{key}"), rules::label_value(key, value));
    }
}

fn check_data<'a>(
    found: &mut Findings<'_>,
    count: usize,
    entries: impl Iterator<Item = (&'static str, &'a str, Option<usize>)>,
    limits: &DataLimits,
    kind: DataKind,
) {
    found.add("spec.data", rules::data_key_count(kind, count, limits));
    for (field, key, size) in entries {
        let at = format!("{field}.{key}");
        found.add_for_key(&at, key, rules::data_key(key));
        let too_large =
            size.and_then(|size| rules::data_value_size(kind, key, size as u64, limits));
        found.add_for_key(at, key, too_large);
    }
}

/// Parameter values that are string secret references must be well formed.
fn check_parameters(found: &mut Findings<'_>, parameters: &BTreeMap<String, String>) {
    for (key, value) in parameters {
        if value.starts_with("secret:")
            && let Err(problems) = rules::secret_ref(value)
        {
            for (problem, _) in problems {
                found.add(format!("spec.parameters.{key}"), Some(problem));
            }
        }
    }
}

/// The same object twice in one batch: the second and later ones are violations.
pub fn check_batch(desired: &[Desired]) -> Vec<Violation> {
    let mut seen = std::collections::HashSet::with_capacity(desired.len());
    desired
        .iter()
        .filter(|d| !seen.insert(&d.key))
        .map(|d| violation(&d.key, "name", rules::duplicate(&d.key.to_string())))
        .collect()
}

/// An object whose namespace neither the batch nor the store holds: lint's warning for an
/// undeclared namespace, which the server cannot let pass.
pub fn missing_namespace(user: &ObjectKey) -> Violation {
    let ns = &user.namespace;
    Violation {
        code: Some(Code::NamespaceUndeclared.as_str().to_owned()),
        field: Some("namespace".to_owned()),
        ..Violation::new(
            user,
            format!(
                "namespace `{ns}` does not exist; declare it, create it with `rune create namespace {ns}`, or cast with `--create-namespace`"
            ),
        )
    }
}

/// A service's reference (at `field`) to a secret or configmap that neither the batch nor the
/// store holds.
pub fn missing_reference(user: &ObjectKey, missing: &ObjectKey, field: String) -> Violation {
    Violation {
        code: Some(Code::RefUnresolved.as_str().to_owned()),
        field: Some(field),
        ..Violation::new(user, format!("refers to {missing}, which does not exist"))
    }
}
