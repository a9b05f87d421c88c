//! The server's own checks of desired objects: names, data keys and the server's limits. The
//! client validated the same rules offline, but the server must not trust its clients.

use crate::limits::{DataLimits, Limits};
use crate::resource::Kind;
use crate::validate::names::{data_key_problem, dns1123_problem};
use crate::wire::error::Violation;
use crate::wire::object::{Desired, DesiredSpec, ObjectKey, ServiceSpec};

/// Every rule of SPEC §2.3 that needs no other object, against the server's limits.
pub fn check_desired(desired: &Desired, limits: &Limits) -> Vec<Violation> {
    let key = &desired.key;
    let mut violations = Vec::new();
    let mut name = |what: &str, value: &str| {
        if let Some(problem) = dns1123_problem(value) {
            violations.push(Violation::new(
                key,
                format!("{what} `{value}` is not a valid name: {problem}"),
            ));
        }
    };
    name("name", &key.name);
    if key.kind.0.is_namespaced() {
        name("namespace", &key.namespace);
    } else if !key.namespace.is_empty() {
        violations.push(Violation::new(
            key,
            format!("a {} has no namespace", key.kind.0),
        ));
    }
    if desired.spec_kind() != key.kind.0 {
        violations.push(Violation::new(
            key,
            format!(
                "the spec is a {}, not a {}",
                desired.spec_kind(),
                key.kind.0
            ),
        ));
    }
    match &desired.spec {
        DesiredSpec::Secret { data, .. } => {
            let sizes = data.0.iter().map(|(k, v)| (k.as_str(), v.expose().len()));
            violations.extend(check_data(key, sizes, &limits.secret, false));
        }
        DesiredSpec::ConfigMap { data } => {
            let sizes = data.iter().map(|(k, v)| (k.as_str(), v.len()));
            violations.extend(check_data(key, sizes, &limits.configmap, true));
        }
        _ => {}
    }
    violations
}

fn check_data<'a>(
    object: &ObjectKey,
    entries: impl ExactSizeIterator<Item = (&'a str, usize)>,
    limits: &DataLimits,
    show_size: bool,
) -> Vec<Violation> {
    let mut violations = Vec::new();
    let count = entries.len();
    if count > limits.max_keys {
        violations.push(Violation {
            code: None,
            field: None,
            key: None,
            limit: Some(limits.max_keys as u64),
            message: format!("{count} keys exceed the limit of {} keys", limits.max_keys),
            object: object.clone(),
            observed: Some(count as u64),
        });
    }
    for (key, size) in entries {
        if let Some(problem) = data_key_problem(key) {
            violations.push(Violation {
                code: None,
                field: None,
                key: Some(key.to_owned()),
                ..Violation::new(object, format!("data key `{key}` is not valid: {problem}"))
            });
        }
        if size > limits.max_value_size {
            let observed = show_size.then_some(size as u64);
            let detail = observed
                .map(|s| format!(" ({s} bytes)"))
                .unwrap_or_default();
            violations.push(Violation {
                code: None,
                field: None,
                key: Some(key.to_owned()),
                limit: Some(limits.max_value_size as u64),
                message: format!(
                    "the value of `{key}` exceeds `max-value-size` ({} bytes){detail}",
                    limits.max_value_size
                ),
                object: object.clone(),
                observed,
            });
        }
    }
    violations
}

/// The secrets and configmaps a service mounts or imports, by kind and name.
pub fn service_references(spec: &ServiceSpec) -> impl Iterator<Item = (Kind, &str)> {
    let mounts = spec
        .secret_mounts
        .iter()
        .map(|m| (Kind::Secret, m.source.as_str()))
        .chain(
            spec.config_mounts
                .iter()
                .map(|m| (Kind::ConfigMap, m.source.as_str())),
        );
    let env = spec.env_from.iter().flat_map(|e| {
        e.secret_ref
            .iter()
            .map(|n| (Kind::Secret, n.as_str()))
            .chain(e.config_ref.iter().map(|n| (Kind::ConfigMap, n.as_str())))
    });
    mounts.chain(env)
}
