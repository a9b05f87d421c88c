//! Checks across all resources of one run: uniqueness, namespaces and references.
//!
//! Offline, a reference is resolved against the resources of this run only. A reference that
//! names nothing here may still exist on the server, so it is a warning (`W-REF-UNRESOLVED`);
//! a reference that resolves but names a missing key is an error.

use std::collections::{BTreeMap, HashSet};
use std::hash::{BuildHasher as _, RandomState};

use hashbrown::HashTable;

use crate::diag::{Code, Diagnostic};
use crate::resource::{Kind, Resource, SecretRef, Spanned, Spec};
use crate::suggest::did_you_mean;
use crate::validate::names::is_env_name;
use crate::validate::rules;

/// Namespaces that every server has from its first start.
pub const BUILTIN_NAMESPACES: [&str; 2] = ["default", "system"];

type Key<'a> = (Kind, &'a str, &'a str);

fn key_of(resource: &Resource) -> Key<'_> {
    (
        resource.kind(),
        resource.namespace_name(),
        resource.name.value.as_str(),
    )
}

/// Index of the resources of one run by (kind, namespace, name).
///
/// The table holds positions in `resources`, not keys: a key is 48 bytes a resource, and at a
/// million resources the index would outweigh the resources themselves (#14).
struct Index<'a> {
    by_key: HashTable<u32>,
    hasher: RandomState,
    namespaces: HashSet<&'a str>,
    resources: &'a [Resource],
}

impl<'a> Index<'a> {
    fn get(&self, kind: Kind, namespace: &str, name: &str) -> Option<&'a Resource> {
        let key = (kind, namespace, name);
        let resources = self.resources;
        self.by_key
            .find(self.hasher.hash_one(key), |&i| {
                key_of(&resources[i as usize]) == key
            })
            .map(|&i| &resources[i as usize])
    }

    fn keys(&self) -> impl Iterator<Item = Key<'a>> + '_ {
        let resources = self.resources;
        self.by_key
            .iter()
            .map(move |&i| key_of(&resources[i as usize]))
    }

    /// Namespaces where a resource of this kind and name exists, for "did you mean" hints.
    fn namespaces_of(&self, kind: Kind, name: &str) -> Vec<&'a str> {
        let mut found: Vec<&str> = self
            .keys()
            .filter(|(k, _, n)| *k == kind && *n == name)
            .map(|(_, ns, _)| ns)
            .collect();
        found.sort_unstable();
        found
    }

    fn names_in<'s>(
        &'s self,
        kind: Kind,
        namespace: &'s str,
    ) -> impl Iterator<Item = &'a str> + 's {
        self.keys()
            .filter(move |(k, ns, _)| *k == kind && *ns == namespace)
            .map(|(_, _, n)| n)
    }
}

pub fn check(resources: &[Resource]) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let index = build_index(resources, &mut diagnostics);
    check_namespaces(resources, &index, &mut diagnostics);
    for resource in resources {
        match &resource.spec {
            Spec::Service(_) => check_service(resource, &index, &mut diagnostics),
            Spec::StorageClass(spec) => {
                for p in &spec.parameters {
                    if let Some(r) = &p.secret_ref {
                        check_secret_ref(resource, r, &index, &mut diagnostics);
                    }
                }
            }
            Spec::Volume(spec) => {
                check_reference(
                    resource,
                    Kind::StorageClass,
                    &spec.storage_class_name,
                    &index,
                    &mut diagnostics,
                );
                for p in &spec.parameters {
                    if let Some(r) = &p.secret_ref {
                        check_secret_ref(resource, r, &index, &mut diagnostics);
                    }
                }
            }
            Spec::ConfigMap(_) | Spec::Namespace(_) | Spec::Secret(_) => {}
        }
    }
    diagnostics
}

fn build_index<'a>(resources: &'a [Resource], diagnostics: &mut Vec<Diagnostic>) -> Index<'a> {
    let hasher = RandomState::new();
    let mut by_key: HashTable<u32> = HashTable::with_capacity(resources.len());
    let mut namespaces: HashSet<&str> = BUILTIN_NAMESPACES.into_iter().collect();
    let rehash = |&i: &u32| hasher.hash_one(key_of(&resources[i as usize]));
    for (position, resource) in resources.iter().enumerate() {
        let key = key_of(resource);
        let hash = hasher.hash_one(key);
        if let Some(&first) = by_key.find(hash, |&i| key_of(&resources[i as usize]) == key) {
            diagnostics.push(
                rules::duplicate(&resource.display_name())
                    .at(resource.name.span)
                    .also(resources[first as usize].name.span, "first declared here"),
            );
            continue;
        }
        if resource.kind() == Kind::Namespace {
            namespaces.insert(&resource.name.value);
        }
        let position = u32::try_from(position).expect("fewer than 2^32 resources in one run");
        by_key.insert_unique(hash, position, rehash);
    }
    Index {
        by_key,
        hasher,
        namespaces,
        resources,
    }
}

/// One warning per undeclared namespace, at its first use.
fn check_namespaces(resources: &[Resource], index: &Index<'_>, diagnostics: &mut Vec<Diagnostic>) {
    let mut uses: BTreeMap<&str, (usize, &Spanned<String>)> = BTreeMap::new();
    for resource in resources {
        let Some(ns) = &resource.namespace else {
            continue;
        };
        if index.namespaces.contains(ns.value.as_str()) {
            continue;
        }
        uses.entry(&ns.value).or_insert((0, ns)).0 += 1;
    }
    for (name, (count, first)) in uses {
        let resources = if count == 1 {
            "1 resource uses it".to_owned()
        } else {
            format!("{count} resources use it")
        };
        diagnostics.push(
            Diagnostic::new(
                Code::NamespaceUndeclared,
                first.span,
                format!("namespace `{name}` is not declared in these files ({resources})"),
            )
            .label("undeclared namespace")
            .help(format!(
                "declare it (`namespace: {{name: {name}}}`), create it with `rune create namespace {name}`, or cast with `--create-namespace`"
            )),
        );
    }
}

fn check_service(service: &Resource, index: &Index<'_>, diagnostics: &mut Vec<Diagnostic>) {
    let Spec::Service(spec) = &service.spec else {
        return;
    };
    for mount in spec.secret_mounts.iter().chain(&spec.config_mounts) {
        check_reference(
            service,
            mount.kind.kind(),
            &mount.source,
            index,
            diagnostics,
        );
    }
    for env_from in &spec.env_from {
        let Some(target) = check_reference(
            service,
            env_from.kind.kind(),
            &env_from.name,
            index,
            diagnostics,
        ) else {
            continue;
        };
        let (Spec::Secret(data) | Spec::ConfigMap(data)) = &target.spec else {
            continue;
        };
        let prefix = env_from.prefix.as_ref().map_or("", |p| p.value.as_str());
        let skipped: Vec<&str> = data
            .keys()
            .filter(|key| !is_env_name(&format!("{prefix}{key}")))
            .collect();
        if skipped.is_empty() {
            continue;
        }
        // One finding per `envFrom` entry, pointing at the entry only: a label on every key
        // would stretch the snippet over the whole file.
        let keys = skipped
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let (count, verb) = if skipped.len() == 1 {
            (
                "one key".to_owned(),
                "is not a valid environment variable name",
            )
        } else {
            (
                format!("{} keys", skipped.len()),
                "are not valid environment variable names",
            )
        };
        let with_prefix = if prefix.is_empty() {
            String::new()
        } else {
            format!(" with the prefix `{prefix}`")
        };
        diagnostics.push(
            Diagnostic::new(
                Code::EnvKeyInvalid,
                env_from.name.span,
                format!(
                    "{count} of {} {verb}{with_prefix} and will be skipped: {keys}",
                    target.display_name()
                ),
            )
            .label("imported here")
            .help("rename the keys to `[A-Za-z_][A-Za-z0-9_]*`, add a `prefix`, or mount the data as files instead"),
        );
    }
}

/// Resolves a by-name reference in the consumer's namespace; warns when it resolves nowhere.
fn check_reference<'a>(
    consumer: &Resource,
    kind: Kind,
    name: &Spanned<String>,
    index: &Index<'a>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<&'a Resource> {
    let namespace = if kind.is_namespaced() {
        consumer.namespace_name()
    } else {
        ""
    };
    if let Some(target) = index.get(kind, namespace, &name.value) {
        return Some(target);
    }
    let elsewhere = index.namespaces_of(kind, &name.value);
    let help = if let Some(close) = did_you_mean(&name.value, index.names_in(kind, namespace)) {
        format!("did you mean `{close}`?")
    } else if !elsewhere.is_empty() {
        format!(
            "a {kind} `{}` is declared in namespace {}; references resolve in the {}'s namespace `{namespace}` (cross-namespace references are not supported)",
            name.value,
            elsewhere
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", "),
            consumer.kind()
        )
    } else {
        format!(
            "declare the {kind} in these files, or make sure it exists on the server before casting"
        )
    };
    let place = if kind.is_namespaced() {
        format!(" in namespace `{namespace}`")
    } else {
        String::new()
    };
    diagnostics.push(
        Diagnostic::new(
            Code::RefUnresolved,
            name.span,
            format!(
                "{} refers to {kind} `{}`{place}, which these files do not declare",
                consumer.display_name(),
                name.value
            ),
        )
        .label(format!("unknown {kind}"))
        .help(help),
    );
    None
}

fn check_secret_ref(
    consumer: &Resource,
    reference: &SecretRef,
    index: &Index<'_>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let namespace = match reference.namespace.as_ref().or(consumer.namespace.as_ref()) {
        Some(ns) => ns.value.as_str(),
        None => {
            diagnostics.push(shorthand_in_cluster_scope(consumer, reference, index));
            return;
        }
    };
    let Some(secret) = index.get(Kind::Secret, namespace, &reference.name.value) else {
        let name = &reference.name;
        let scoped = match &reference.namespace {
            Some(ns) => ns.value.clone(),
            None => namespace.to_owned(),
        };
        diagnostics.push(
            Diagnostic::new(
                Code::RefUnresolved,
                name.span,
                format!("{} refers to secret `{scoped}/{}`, which these files do not declare", consumer.display_name(), name.value),
            )
            .label("unknown secret")
            .help("declare the secret in these files, or make sure it exists on the server before casting"),
        );
        return;
    };
    let Spec::Secret(data) = &secret.spec else {
        return;
    };
    if data.has_key(&reference.key.value) {
        return;
    }
    let help = match did_you_mean(&reference.key.value, data.keys()) {
        Some(close) => format!("did you mean `{close}`?"),
        None => format!(
            "its keys are: {}",
            data.keys()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    diagnostics.push(
        Diagnostic::new(
            Code::RefKeyMissing,
            reference.key.span,
            format!(
                "{} has no key `{}`",
                secret.display_name(),
                reference.key.value
            ),
        )
        .label("missing key")
        .also(secret.name.span, "the secret is declared here")
        .help(help),
    );
}

fn shorthand_in_cluster_scope(
    consumer: &Resource,
    reference: &SecretRef,
    index: &Index<'_>,
) -> Diagnostic {
    let candidates = index.namespaces_of(Kind::Secret, &reference.name.value);
    let namespace = match candidates.as_slice() {
        [only] => (*only).to_owned(),
        _ => "<namespace>".to_owned(),
    };
    Diagnostic::new(
        Code::RefShorthandClusterScoped,
        reference.name.span,
        format!(
            "{} is cluster-scoped, so the shorthand `secret:{}/{}` has no namespace to resolve in",
            consumer.display_name(),
            reference.name.value,
            reference.key.value
        ),
    )
    .label("shorthand reference")
    .help(format!(
        "use the qualified form: `secret:{}.{namespace}.rune/{}`",
        reference.name.value, reference.key.value
    ))
}
