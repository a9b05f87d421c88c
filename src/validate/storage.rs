//! Decoding storage classes and volumes, and the string secret references in their parameters.

use crate::diag::{Code, Diagnostic};
use crate::parse::node::Node;
use crate::resource::{Parameter, SecretRef, Spanned, StorageClassSpec, VolumeSpec};
use crate::source::Span;
use crate::validate::context::DocContext;
use crate::validate::fields::Fields;
use crate::validate::names::{data_key_problem, dns1123_problem};

pub fn storage_class(ctx: &mut DocContext<'_>, fields: &Fields<'_>) -> Option<StorageClassSpec> {
    let provisioner = fields
        .required(ctx, "provisioner")
        .and_then(|p| ctx.string(p, "provisioner"));
    let parameters = parameters(ctx, fields.optional("parameters"));
    Some(StorageClassSpec {
        parameters,
        provisioner: provisioner?.value,
    })
}

pub fn volume(ctx: &mut DocContext<'_>, fields: &Fields<'_>) -> Option<VolumeSpec> {
    let storage_class_name = fields
        .required(ctx, "storageClassName")
        .and_then(|n| ctx.dns_name(n, "storageClassName", "storage class"));
    let size = fields
        .required(ctx, "size")
        .and_then(|s| ctx.string(s, "size"));
    if let Some(size) = &size
        && !is_quantity(&size.value)
    {
        ctx.push(
            Diagnostic::new(
                Code::FieldValue,
                size.span,
                format!("`{}` is not a size", size.value),
            )
            .label("not a size")
            .help("write a size as a number with an optional unit: `512Mi`, `10Gi`, `1T`"),
        );
    }
    let parameters = parameters(ctx, fields.optional("parameters"));
    Some(VolumeSpec {
        parameters,
        size: size?.value,
        storage_class_name: storage_class_name?,
    })
}

/// `10Gi`, `512M`, `1.5T`, `1000`: a decimal with an optional SI or binary suffix.
fn is_quantity(text: &str) -> bool {
    const SUFFIXES: [&str; 13] = [
        "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "k", "K", "M", "G", "T", "P", "E",
    ];
    let number = SUFFIXES
        .iter()
        .find_map(|s| text.strip_suffix(s))
        .unwrap_or(text);
    let mut parts = number.splitn(2, '.');
    let whole = parts.next().unwrap_or("");
    let fraction = parts.next();
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

fn parameters(ctx: &mut DocContext<'_>, node: Option<&Node>) -> Vec<Parameter> {
    let Some(node) = node else { return Vec::new() };
    ctx.string_map(node, "parameters")
        .into_iter()
        .map(|(key, value)| {
            let secret_ref = value
                .value
                .starts_with("secret:")
                .then(|| parse_secret_ref(ctx, &value))
                .flatten();
            Parameter {
                key,
                value,
                secret_ref,
            }
        })
        .collect()
}

/// Parses `secret:<name>/<key>` or `secret:<name>.<namespace>.rune/<key>`, pointing findings at
/// the part of the scalar that is wrong.
fn parse_secret_ref(ctx: &mut DocContext<'_>, value: &Spanned<String>) -> Option<SecretRef> {
    let text = value.value.as_str();
    let body = &text["secret:".len()..];
    let Some(slash) = body.find('/') else {
        ref_syntax(ctx, value, "it has no `/<key>`");
        return None;
    };
    let (target, key) = (&body[..slash], &body[slash + 1..]);
    let target_at = "secret:".len();
    let key_at = target_at + slash + 1;
    let (name, namespace) = match target.strip_suffix(".rune") {
        Some(qualified) => {
            let Some((name, namespace)) = qualified.split_once('.') else {
                ref_syntax(
                    ctx,
                    value,
                    "the qualified form is `<name>.<namespace>.rune`",
                );
                return None;
            };
            let ns_at = target_at + name.len() + 1;
            (
                sub(ctx, value, target_at, name),
                Some(sub(ctx, value, ns_at, namespace)),
            )
        }
        None if target.contains('.') => {
            ref_syntax(
                ctx,
                value,
                "a name with dots must be the qualified `<name>.<namespace>.rune`",
            );
            return None;
        }
        None => (sub(ctx, value, target_at, target), None),
    };
    let key = sub(ctx, value, key_at, key);
    let mut ok = true;
    for (part, what) in
        std::iter::once((&name, "secret name")).chain(namespace.iter().map(|ns| (ns, "namespace")))
    {
        if let Some(problem) = dns1123_problem(&part.value) {
            ctx.push(
                Diagnostic::new(
                    Code::RefSyntax,
                    part.span,
                    format!(
                        "{what} `{}` in the secret reference is not valid: {problem}",
                        part.value
                    ),
                )
                .label("not a DNS-1123 label")
                .help(FORMS_HELP),
            );
            ok = false;
        }
    }
    if let Some(problem) = data_key_problem(&key.value) {
        ctx.push(
            Diagnostic::new(
                Code::RefSyntax,
                key.span,
                format!(
                    "key `{}` in the secret reference is not valid: {problem}",
                    key.value
                ),
            )
            .label("not a data key")
            .help(FORMS_HELP),
        );
        ok = false;
    }
    ok.then_some(SecretRef {
        key,
        name,
        namespace,
    })
}

const FORMS_HELP: &str = "secret references are `secret:<name>/<key>` (same namespace) or `secret:<name>.<namespace>.rune/<key>`";

fn ref_syntax(ctx: &mut DocContext<'_>, value: &Spanned<String>, problem: &str) {
    ctx.push(
        Diagnostic::new(
            Code::RefSyntax,
            value.span,
            format!("`{}` is not a secret reference: {problem}", value.value),
        )
        .label("malformed reference")
        .help(FORMS_HELP),
    );
}

/// A part of a scalar with its own span: exact when the scalar is written as plain text or a
/// simple quoted string; otherwise (escapes, folding) the whole scalar's span.
fn sub(ctx: &DocContext<'_>, value: &Spanned<String>, at: usize, part: &str) -> Spanned<String> {
    let written = ctx.source_text(value.span);
    let offset = if written == value.value {
        Some(0)
    } else if written.len() == value.value.len() + 2
        && (written.starts_with('"') || written.starts_with('\''))
        && written[1..written.len() - 1] == value.value
    {
        Some(1)
    } else {
        None
    };
    let span = offset.map_or(value.span, |offset| {
        let start = value.span.start + u32::try_from(offset + at).unwrap_or(0);
        Span::new(
            value.span.source,
            start,
            start + u32::try_from(part.len()).unwrap_or(0),
        )
    });
    Spanned::new(part.to_owned(), span)
}

#[cfg(test)]
mod tests {
    use super::is_quantity;

    #[test]
    fn quantities() {
        for good in ["10Gi", "512Mi", "1", "1.5T", "100k"] {
            assert!(is_quantity(good), "{good}");
        }
        for bad in ["", "Gi", "10 Gi", "1.", "-1Gi", "10GB"] {
            assert!(!is_quantity(bad), "{bad}");
        }
    }
}
