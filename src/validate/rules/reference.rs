//! String secret references in parameters: `secret:<name>/<key>` (the consuming resource's
//! namespace) or `secret:<name>.<namespace>.rune/<key>` (SPEC §2.3).

use crate::diag::Code;
use crate::validate::names::{data_key_problem, dns1123_problem};
use crate::validate::rules::{Problem, visible};

/// A part of a reference and its byte offset in the whole text.
pub type Part<'a> = (usize, &'a str);

/// The parts of a well-formed reference.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct RefParts<'a> {
    pub key: Part<'a>,
    pub name: Part<'a>,
    /// `None` for the shorthand form.
    pub namespace: Option<Part<'a>>,
}

const FORMS_HELP: &str = "secret references are `secret:<name>/<key>` (same namespace) or `secret:<name>.<namespace>.rune/<key>`";

/// Parses a value that starts with `secret:`. Each problem comes with the part it is about
/// (`None`: the whole value), so that lint can point inside the scalar.
pub fn secret_ref(text: &str) -> Result<RefParts<'_>, Vec<(Problem, Option<Part<'_>>)>> {
    let malformed = |problem: &str| {
        vec![(
            Problem::new(
                Code::RefSyntax,
                format!("`{}` is not a secret reference: {problem}", visible(text)),
                "malformed reference",
            )
            .help(FORMS_HELP),
            None,
        )]
    };
    let body = text.strip_prefix("secret:").unwrap_or(text);
    let target_at = text.len() - body.len();
    let Some(slash) = body.find('/') else {
        return Err(malformed("it has no `/<key>`"));
    };
    let (target, key) = (&body[..slash], &body[slash + 1..]);
    let key = (target_at + slash + 1, key);
    let (name, namespace) = match target.strip_suffix(".rune") {
        Some(qualified) => {
            let Some((name, namespace)) = qualified.split_once('.') else {
                return Err(malformed("the qualified form is `<name>.<namespace>.rune`"));
            };
            (
                (target_at, name),
                Some((target_at + name.len() + 1, namespace)),
            )
        }
        None if target.contains('.') => {
            return Err(malformed(
                "a name with dots must be the qualified `<name>.<namespace>.rune`",
            ));
        }
        None => ((target_at, target), None),
    };
    let mut problems = Vec::new();
    for (part, what) in
        std::iter::once((name, "secret name")).chain(namespace.map(|ns| (ns, "namespace")))
    {
        if let Some(problem) = dns1123_problem(part.1) {
            problems.push((
                Problem::new(
                    Code::RefSyntax,
                    format!(
                        "{what} `{}` in the secret reference is not valid: {problem}",
                        visible(part.1)
                    ),
                    "not a DNS-1123 label",
                )
                .help(FORMS_HELP),
                Some(part),
            ));
        }
    }
    if let Some(problem) = data_key_problem(key.1) {
        problems.push((
            Problem::new(
                Code::RefSyntax,
                format!(
                    "key `{}` in the secret reference is not valid: {problem}",
                    visible(key.1)
                ),
                "not a data key",
            )
            .help(FORMS_HELP),
            Some(key),
        ));
    }
    if problems.is_empty() {
        Ok(RefParts {
            key,
            name,
            namespace,
        })
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::secret_ref;

    #[test]
    fn forms() {
        let short = secret_ref("secret:db/password").expect("valid");
        assert_eq!(
            (short.name, short.key, short.namespace),
            ((7, "db"), (10, "password"), None)
        );
        let fqdn = secret_ref("secret:db.prod.rune/password").expect("valid");
        assert_eq!(fqdn.namespace, Some((10, "prod")));
        for bad in [
            "secret:db",
            "secret:db.prod/k",
            "secret:db.rune/k",
            "secret:DB/k",
            "secret:db/a b",
        ] {
            assert!(secret_ref(bad).is_err(), "{bad}");
        }
    }
}
