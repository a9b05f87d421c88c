//! Where in a JSON body a failure is: `objects[0].spec.ports[1].port`.
//!
//! In: serde failures tracked by `serde_path_to_error`. Out: a path and a message. A desired
//! object's `spec` is read in a second pass (its shape depends on `kind`), so its failure
//! reaches the outer reader as a message that starts with the path inside the object
//! (`spec.ports[1]: …`); [`split`] takes that prefix back off and [`join`] puts the two paths
//! together. Must not happen here: a value from the body in a path or a message (serde names
//! fields and types; values it quotes are cut out by the HTTP layer).

use serde::de::DeserializeOwned;

use crate::wire::strict::Strict;

/// The prefix of every nested failure: the field that holds the second-pass value.
const SPEC: &str = "spec";

/// Reads a desired object's `spec`, prefixing a failure with the path inside it.
pub(crate) fn read_spec<T: DeserializeOwned>(spec: serde_json::Value) -> Result<T, String> {
    serde_path_to_error::deserialize(Strict(spec)).map_err(|error| {
        let inner = child(SPEC, &error.path().to_string());
        format!("{inner}: {}", error.into_inner())
    })
}

/// `parent.child` (`parent` alone for serde's root path `.`).
fn child(parent: &str, path: &str) -> String {
    match path {
        "" | "." => parent.to_owned(),
        p if p.starts_with('[') => format!("{parent}{p}"),
        p => format!("{parent}.{p}"),
    }
}

/// The path and message of a failure at `outer` (serde's path of the outer reader) whose
/// `message` may start with a nested path from [`read_spec`].
pub fn join(outer: &str, message: &str) -> (String, String) {
    let (nested, message) = split(message);
    let path = match nested {
        Some(nested) => child(outer, nested),
        None => child("", outer),
    };
    let path = path.trim_start_matches('.').to_owned();
    (
        if path.is_empty() {
            ".".to_owned()
        } else {
            path
        },
        message.to_owned(),
    )
}

/// `spec.ports[1]: missing field …` → `(Some("spec.ports[1]"), "missing field …")`.
fn split(message: &str) -> (Option<&str>, &str) {
    let nested = message
        .strip_prefix(SPEC)
        .filter(|rest| rest.starts_with(['.', '[', ':']))
        .and_then(|_| message.split_once(": "));
    match nested {
        Some((path, rest)) => (Some(path), rest),
        None => (None, message),
    }
}

#[cfg(test)]
mod tests {
    use super::{join, read_spec};

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Port {
        port: u16,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Spec {
        ports: Vec<Port>,
    }

    #[test]
    fn nested_paths_reach_the_failing_field() {
        let missing = read_spec::<Spec>(serde_json::json!({"ports": [{}]})).unwrap_err();
        assert!(
            missing.starts_with("spec.ports[0]: missing field `port`"),
            "{missing}"
        );
        let unknown =
            read_spec::<Spec>(serde_json::json!({"ports": [{"port": 1, "x": 2}]})).unwrap_err();
        assert!(
            unknown.starts_with("spec.ports[0].x: unknown field"),
            "{unknown}"
        );
        let (path, message) = join("objects[2]", &unknown);
        assert_eq!(path, "objects[2].spec.ports[0].x");
        assert!(message.starts_with("unknown field `x`"), "{message}");
        assert_eq!(join(".", "missing field `objects`").0, ".");
        assert_eq!(join("objects[0]", "missing field `name`").0, "objects[0]");
    }
}
