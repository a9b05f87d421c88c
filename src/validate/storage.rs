//! Decoding storage classes and volumes, and the string secret references in their parameters.

use crate::parse::node::Node;
use crate::resource::{Parameter, SecretRef, Spanned, StorageClassSpec, VolumeSpec};
use crate::source::Span;
use crate::validate::context::DocContext;
use crate::validate::fields::Fields;
use crate::validate::rules;

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
        && let Some(problem) = rules::quantity(&size.value)
    {
        ctx.push(problem.at(size.span));
    }
    let parameters = parameters(ctx, fields.optional("parameters"));
    Some(VolumeSpec {
        parameters,
        size: size?.value,
        storage_class_name: storage_class_name?,
    })
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
    match rules::secret_ref(&value.value) {
        Ok(parts) => Some(SecretRef {
            key: sub(ctx, value, parts.key),
            name: sub(ctx, value, parts.name),
            namespace: parts.namespace.map(|ns| sub(ctx, value, ns)),
        }),
        Err(problems) => {
            for (problem, part) in problems {
                let span = part.map_or(value.span, |part| sub(ctx, value, part).span);
                ctx.push(problem.at(span));
            }
            None
        }
    }
}

/// A part of a scalar with its own span: exact when the scalar is written as plain text or a
/// simple quoted string; otherwise (escapes, folding) the whole scalar's span.
fn sub(
    ctx: &DocContext<'_>,
    value: &Spanned<String>,
    (at, part): rules::Part<'_>,
) -> Spanned<String> {
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
