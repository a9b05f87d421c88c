//! Decoding one document: its kind keys, then each resource under them.

use std::collections::BTreeMap;

use crate::diag::{Code, Diagnostic};
use crate::parse::node::{Node, Value};
use crate::resource::{DataKind, Kind, NamespaceSpec, Origin, Resource, Spanned, Spec};
use crate::server_config::ServerConfig;
use crate::source::Span;
use crate::suggest::did_you_mean;
use crate::validate::context::DocContext;
use crate::validate::fields::{Fields, allowed, duplicate_key};
use crate::validate::{data, rules, server_config, service, storage};

/// The top-level keys of a server runefile (SPEC §4.1).
pub const SERVER_SECTIONS: [&str; 5] = ["auth", "crypto", "runner", "server", "storage"];

/// A resource left out with `skip: true`.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Skipped {
    pub kind: Kind,
    pub name: Option<String>,
    pub span: Span,
}

/// What one document declares.
#[derive(Debug, Default)]
pub struct Decoded {
    pub resources: Vec<Resource>,
    pub server_config: Option<(Span, ServerConfig)>,
    pub skipped: Vec<Skipped>,
}

pub fn decode(ctx: &mut DocContext<'_>, root: &Node) -> Decoded {
    let mut decoded = Decoded::default();
    let Value::Map(entries) = &root.value else {
        redact_undecoded(ctx, root);
        if root.value != Value::Null {
            ctx.push(
                Diagnostic::new(
                    Code::DocumentNotMapping,
                    root.span,
                    format!(
                        "a runefile document must be a mapping, found {}",
                        root.value.type_name()
                    ),
                )
                .label("not a mapping")
                .help("start the document with a kind key such as `secrets:` or `service:`"),
            );
        }
        return decoded;
    };
    let server_key = entries
        .iter()
        .find(|(k, _)| k.as_str().is_some_and(|k| SERVER_SECTIONS.contains(&k)));
    let kind_key = entries
        .iter()
        .find(|(k, _)| k.as_str().and_then(kind_of).is_some());
    match (server_key, kind_key) {
        (Some((server, _)), Some((kind, _))) => {
            for (key, value) in entries {
                if key.as_str().is_none_or(may_hold_secrets) {
                    redact_undecoded(ctx, value);
                }
            }
            ctx.push(
                Diagnostic::new(
                    Code::DocumentMixed,
                    server.span,
                    "a document holds either server configuration or resources, not both",
                )
                .label("server configuration")
                .also(kind.span, "resources")
                .help("move the server configuration into its own file or document"),
            );
        }
        (Some(_), None) => {
            decoded.server_config = server_config::decode(ctx, root).map(|c| (root.span, c));
        }
        _ => decode_resources(ctx, entries, &mut decoded),
    }
    decoded
}

fn decode_resources(ctx: &mut DocContext<'_>, entries: &[(Node, Node)], decoded: &mut Decoded) {
    if kubernetes_manifest(ctx, entries) {
        return;
    }
    let mut seen: Vec<(&str, Span)> = Vec::new();
    for (key, value) in entries {
        let Some(name) = ctx.key_text(key) else {
            continue;
        };
        if let Some((_, first)) = seen.iter().find(|(n, _)| *n == name) {
            if may_hold_secrets(name) {
                redact_undecoded(ctx, value);
            }
            ctx.push(duplicate_key(name, key.span, *first));
            continue;
        }
        seen.push((name, key.span));
        let Some((kind, plural)) = kind_of(name) else {
            redact_undecoded(ctx, value);
            ctx.push(unknown_top_level_key(name, key.span));
            continue;
        };
        let shape_fits = matches!(
            (&value.value, plural),
            (Value::Map(_), false) | (Value::Seq(_), true)
        );
        if kind == Kind::Secret && !shape_fits {
            redact_undecoded(ctx, value);
        }
        match (&value.value, plural) {
            (Value::Map(_), false) => {
                // Exactly: a document's resources are all held until the set is checked.
                decoded.resources.reserve_exact(1);
                decode_resource(ctx, kind, value, key.span, decoded);
            }
            (Value::Seq(items), true) => {
                decoded.resources.reserve_exact(items.len());
                for item in items {
                    decode_resource(ctx, kind, item, item.span, decoded);
                }
            }
            (Value::Seq(_), false) => ctx.push(shape(key.span, name, kind.plural(), "a list")),
            (Value::Map(_), true) => {
                ctx.push(shape(key.span, name, kind.singular(), "one resource"));
            }
            (other, _) => ctx.push(
                Diagnostic::new(
                    Code::DocumentKindShape,
                    value.span,
                    format!(
                        "`{name}` must hold {}, found {}",
                        if plural {
                            "a list of resources"
                        } else {
                            "a resource mapping"
                        },
                        other.type_name()
                    ),
                )
                .label("not a resource"),
            ),
        }
    }
}

/// Whether a top-level key's value may hold secret values: a secret kind, or a key that names
/// no kind at all (`secrtes:` is most likely a secret).
fn may_hold_secrets(key: &str) -> bool {
    kind_of(key).is_none_or(|(kind, _)| kind == Kind::Secret)
}

/// Masks the `data` values anywhere below a node that is not decoded as a resource (a misspelt
/// or misshapen kind key, a repeated key, a mixed document), so that a snippet shown for the
/// finding cannot reveal them.
fn redact_undecoded(ctx: &mut DocContext<'_>, node: &Node) {
    match &node.value {
        Value::Map(entries) => {
            for (key, value) in entries {
                if key.as_str() == Some("data") {
                    data::redact(ctx, value);
                } else {
                    redact_undecoded(ctx, value);
                }
            }
        }
        Value::Seq(items) => {
            for item in items {
                redact_undecoded(ctx, item);
            }
        }
        _ => {}
    }
}

/// A Kubernetes manifest (`apiVersion` and `kind` at the top) is no runefile: one finding
/// that says what it is and how to convert it, instead of one per unknown key (issue #13). Its
/// `data` and `stringData` values are masked in any snippet.
fn kubernetes_manifest(ctx: &mut DocContext<'_>, entries: &[(Node, Node)]) -> bool {
    let field = |name: &str| entries.iter().find(|(k, _)| k.as_str() == Some(name));
    let (Some((api_version, _)), Some((_, kind))) = (field("apiVersion"), field("kind")) else {
        return false;
    };
    for (key, value) in entries {
        if matches!(key.as_str(), Some("data" | "stringData")) {
            data::redact(ctx, value);
        }
    }
    let what = kind.as_str().map_or_else(
        || "a Kubernetes manifest".to_owned(),
        |k| format!("a Kubernetes `{k}` manifest"),
    );
    let help = match kind.as_str() {
        Some("Secret" | "ConfigMap") => "convert it into a runefile with `rune import FILE` (`--seal` seals the secret values on the way)".to_owned(),
        _ => "rune casts runefiles, not Kubernetes manifests; `rune import FILE` converts `Secret` and `ConfigMap` manifests".to_owned(),
    };
    ctx.push(
        Diagnostic::new(
            Code::DocumentUnknownKey,
            api_version.span,
            format!("this document is {what}, not a runefile"),
        )
        .label("a Kubernetes manifest")
        .help(help),
    );
    true
}

/// Which kind a top-level key names, and whether it is the plural form.
fn kind_of(key: &str) -> Option<(Kind, bool)> {
    Kind::ALL.into_iter().find_map(|kind| {
        if key == kind.singular() {
            Some((kind, false))
        } else if key == kind.plural() {
            Some((kind, true))
        } else {
            None
        }
    })
}

fn unknown_top_level_key(name: &str, span: Span) -> Diagnostic {
    let candidates = Kind::ALL
        .iter()
        .flat_map(|k| [k.singular(), k.plural()])
        .chain(SERVER_SECTIONS);
    let known: Vec<&str> = Kind::ALL
        .iter()
        .flat_map(|k| [k.singular(), k.plural()])
        .collect();
    let help = match did_you_mean(name, candidates) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!(
            "top-level keys name resource kinds: {}",
            super::fields::list(&known)
        ),
    };
    Diagnostic::new(
        Code::DocumentUnknownKey,
        span,
        format!("unknown top-level key `{name}`"),
    )
    .label("not a resource kind")
    .help(help)
}

fn shape(span: Span, written: &str, instead: &str, holds: &str) -> Diagnostic {
    Diagnostic::new(
        Code::DocumentKindShape,
        span,
        format!("`{written}` holds {holds}; write `{instead}:` instead"),
    )
    .label(format!("`{written}` with {holds}"))
    .help("a singular key (`secret:`) holds one resource, a plural key (`secrets:`) a list of them")
}

fn decode_resource(
    ctx: &mut DocContext<'_>,
    kind: Kind,
    node: &Node,
    span: Span,
    decoded: &mut Decoded,
) {
    if kind == Kind::Secret {
        // Before anything can stop decoding: a skipped secret, a repeated `data:` or an entry
        // that fails to decode still has its values masked.
        for (key, value) in node.as_map().unwrap_or_default() {
            if key.as_str() == Some("data") {
                data::redact(ctx, value);
            }
        }
    }
    let Some(fields) = Fields::open(ctx, node, kind.singular()) else {
        return;
    };
    if let Some(skip) = fields.optional("skip").and_then(|s| ctx.bool(s, "skip"))
        && skip
    {
        let name = fields
            .optional("name")
            .and_then(Node::as_str)
            .map(str::to_owned);
        decoded.skipped.push(Skipped { kind, name, span });
        return;
    }
    fields.reject_unknown(ctx, allowed_fields(kind));
    let name = fields
        .required(ctx, "name")
        .and_then(|n| ctx.dns_name(n, "name", &format!("{kind} name")));
    let namespace = if kind.is_namespaced() {
        match fields.optional("namespace") {
            Some(ns) => {
                let namespace = ctx.dns_name(ns, "namespace", "namespace");
                if let Some(namespace) = &namespace {
                    mismatch(ctx, namespace, kind);
                }
                namespace.map(Some)
            }
            None => Some(Some(Spanned::new(
                ctx.options.default_namespace.clone(),
                span,
            ))),
        }
    } else {
        Some(None)
    };
    let labels = fields
        .optional("labels")
        .map(|l| labels(ctx, l, fields.key_span("labels").unwrap_or(l.span)))
        .unwrap_or_default();
    let Some(spec) = decode_spec(ctx, kind, &fields) else {
        return;
    };
    let (Some(name), Some(namespace)) = (name, namespace) else {
        return;
    };
    decoded.resources.push(Resource {
        labels,
        name,
        namespace,
        origin: Origin {
            document: ctx.document,
            source: ctx.source,
            span,
        },
        spec,
    });
}

/// `W-NAMESPACE-MISMATCH`: `-n` names one namespace and the document another; the document's
/// wins, so the flag does not do what its user may think.
fn mismatch(ctx: &mut DocContext<'_>, namespace: &Spanned<String>, kind: Kind) {
    let Some(flag) = ctx.options.namespace_flag.clone() else {
        return;
    };
    if flag == namespace.value {
        return;
    }
    ctx.push(
        Diagnostic::new(
            Code::NamespaceMismatch,
            namespace.span,
            format!(
                "this {kind} names namespace `{}`, but -n names `{flag}`: the document's wins",
                namespace.value
            ),
        )
        .label(format!("not `{flag}`"))
        .help(format!(
            "drop `namespace:` to let -n choose, or run without `-n {flag}` (it applies only to \
             documents that name no namespace)"
        )),
    );
}

/// A resource's labels, each key and value and their count checked.
fn labels(ctx: &mut DocContext<'_>, node: &Node, key_span: Span) -> BTreeMap<String, String> {
    let pairs = ctx.string_map(node, "labels");
    if let Some(problem) = rules::label_count(pairs.len()) {
        ctx.push(problem.at(key_span));
    }
    for (key, value) in &pairs {
        if let Some(problem) = rules::label_key(&key.value) {
            ctx.push(problem.at(key.span));
        }
        if let Some(problem) = rules::label_value(&key.value, &value.value) {
            ctx.push(problem.at(value.span));
        }
    }
    pairs.into_iter().map(|(k, v)| (k.value, v.value)).collect()
}

fn decode_spec(ctx: &mut DocContext<'_>, kind: Kind, fields: &Fields<'_>) -> Option<Spec> {
    match kind {
        Kind::ConfigMap | Kind::Secret => {
            let data_kind = if kind == Kind::Secret {
                DataKind::Secret
            } else {
                DataKind::ConfigMap
            };
            let entries = fields
                .optional("data")
                .map(|d| data::decode(ctx, d, fields.key_span("data").unwrap_or(d.span), data_kind))
                .unwrap_or_default();
            let allow_plaintext = fields
                .optional("allowPlaintext")
                .filter(|_| kind == Kind::Secret)
                .and_then(|a| ctx.bool(a, "allowPlaintext"))
                .unwrap_or(false);
            let data = crate::resource::Data {
                allow_plaintext,
                entries,
            };
            Some(if kind == Kind::Secret {
                Spec::Secret(data)
            } else {
                Spec::ConfigMap(data)
            })
        }
        Kind::Namespace => {
            let description = fields
                .optional("description")
                .and_then(|d| ctx.string(d, "description"))
                .map(|d| d.value);
            Some(Spec::Namespace(NamespaceSpec { description }))
        }
        Kind::Service => service::decode(ctx, fields).map(|s| Spec::Service(Box::new(s))),
        Kind::StorageClass => {
            storage::storage_class(ctx, fields).map(|s| Spec::StorageClass(Box::new(s)))
        }
        Kind::Volume => storage::volume(ctx, fields).map(|s| Spec::Volume(Box::new(s))),
    }
}

/// The fields a resource of `kind` accepts.
#[must_use]
pub fn allowed_fields(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::ConfigMap => allowed::CONFIGMAP,
        Kind::Namespace => allowed::NAMESPACE,
        Kind::Secret => allowed::SECRET,
        Kind::Service => allowed::SERVICE,
        Kind::StorageClass => allowed::STORAGE_CLASS,
        Kind::Volume => allowed::VOLUME,
    }
}
