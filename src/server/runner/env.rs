//! An instance's environment (SPEC §5): `envFrom` entries in order (a later entry wins), each
//! key with its `prefix`; then explicit `env` (wins over every `envFrom`); then
//! `RUNE_SERVICE_NAME`, `RUNE_NAMESPACE` and `RUNE_INSTANCE`, which runed sets last.
//!
//! In: the service, the data of the objects it imports. Out: the variables, and the names that
//! were skipped for not being valid environment variable names (reported as instance events).
//! Nothing of runed's own environment is inherited.

use std::collections::BTreeMap;

use crate::secrets::Secret;

use crate::resource::Kind;
use crate::server::crypto::SecretData;
use crate::validate::names::is_env_name;
use crate::wire::object::ServiceSpec;

/// The data of every object a service imports, by kind and name.
pub type Sources = BTreeMap<(Kind, String), SecretData>;

/// A built environment.
#[derive(Default)]
pub struct Built {
    /// Names skipped because they are not `[A-Za-z_][A-Za-z0-9_]*`, in the order met.
    pub skipped: Vec<String>,
    pub vars: BTreeMap<String, Secret<String>>,
}

/// Names only: the values are secret and configmap data.
impl std::fmt::Debug for Built {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Built")
            .field("skipped", &self.skipped)
            .field("vars", &self.vars.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Builds the environment of instance `instance` of `namespace/name`.
pub fn build(
    spec: &ServiceSpec,
    namespace: &str,
    name: &str,
    instance: u32,
    sources: &Sources,
) -> Built {
    let mut built = Built::default();
    for entry in &spec.env_from {
        let source = match (&entry.secret_ref, &entry.config_ref) {
            (Some(secret), _) => (Kind::Secret, secret.clone()),
            (None, Some(config)) => (Kind::ConfigMap, config.clone()),
            (None, None) => continue,
        };
        let prefix = entry.prefix.as_deref().unwrap_or("");
        for (key, value) in sources.get(&source).into_iter().flatten() {
            let var = format!("{prefix}{key}");
            if is_env_name(&var) {
                built.vars.insert(var, value.clone());
            } else if !built.skipped.contains(&var) {
                built.skipped.push(var);
            }
        }
    }
    for (var, value) in &spec.env {
        built.vars.insert(var.clone(), Secret::new(value.clone()));
    }
    for (var, value) in [
        ("RUNE_SERVICE_NAME", name.to_owned()),
        ("RUNE_NAMESPACE", namespace.to_owned()),
        ("RUNE_INSTANCE", instance.to_string()),
    ] {
        built.vars.insert(var.to_owned(), Secret::new(value));
    }
    built
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::object::EnvFromSpec;

    fn data(pairs: &[(&str, &str)]) -> SecretData {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Secret::new((*v).to_owned())))
            .collect()
    }

    fn get<'a>(built: &'a Built, name: &str) -> Option<&'a str> {
        built.vars.get(name).map(|v| v.expose().as_str())
    }

    /// Later `envFrom` entries win, prefixes apply, explicit `env` wins over all of them, the
    /// `RUNE_*` variables win over everything, and invalid names are skipped and reported.
    #[test]
    fn precedence_prefixes_and_skipped_names() {
        let spec = ServiceSpec {
            env: [("MODE".to_owned(), "explicit".to_owned())].into(),
            env_from: vec![
                EnvFromSpec {
                    config_ref: Some("app".into()),
                    ..EnvFromSpec::default()
                },
                EnvFromSpec {
                    secret_ref: Some("db".into()),
                    ..EnvFromSpec::default()
                },
                EnvFromSpec {
                    config_ref: Some("app".into()),
                    prefix: Some("APP_".into()),
                    ..EnvFromSpec::default()
                },
            ],
            scale: 1,
            ..ServiceSpec::default()
        };
        let sources: Sources = [
            (
                (Kind::ConfigMap, "app".to_owned()),
                data(&[
                    ("MODE", "config"),
                    ("USER", "config"),
                    ("bad-key", "x"),
                    ("RUNE_INSTANCE", "9"),
                ]),
            ),
            (
                (Kind::Secret, "db".to_owned()),
                data(&[("USER", "secret"), ("1ST", "x")]),
            ),
        ]
        .into();
        let built = build(&spec, "team", "web", 2, &sources);
        assert_eq!(get(&built, "MODE"), Some("explicit"));
        assert_eq!(get(&built, "USER"), Some("secret"));
        assert_eq!(get(&built, "APP_USER"), Some("config"));
        assert_eq!(get(&built, "APP_bad-key"), None);
        assert_eq!(get(&built, "RUNE_INSTANCE"), Some("2"));
        assert_eq!(get(&built, "RUNE_NAMESPACE"), Some("team"));
        assert_eq!(get(&built, "RUNE_SERVICE_NAME"), Some("web"));
        assert_eq!(built.skipped, ["bad-key", "1ST", "APP_bad-key"]);
    }

    /// A built environment prints its names, never its values.
    #[test]
    fn debug_shows_names_only() {
        let spec = ServiceSpec {
            env_from: vec![EnvFromSpec {
                secret_ref: Some("db".into()),
                ..EnvFromSpec::default()
            }],
            scale: 1,
            ..ServiceSpec::default()
        };
        let sources: Sources = [(
            (Kind::Secret, "db".to_owned()),
            data(&[("PASSWORD", "hunter2")]),
        )]
        .into();
        let printed = format!("{:?}", build(&spec, "team", "web", 0, &sources));
        assert!(printed.contains("PASSWORD"), "{printed}");
        assert!(!printed.contains("hunter2"), "{printed}");
    }
}
