//! Decoding the `data` of secrets and configmaps: keys, value sources, types and limits.
//!
//! Secret values are plaintext here. They are never put into a message or help text, and their
//! spans go to the context's redactions so that snippets mask them.

use crate::diag::{Code, Diagnostic};
use crate::limits::DataLimits;
use crate::parse::node::{Node, Value};
use crate::resource::{DataEntry, DataKind, DataSource, Plaintext, Spanned};
use crate::source::Span;
use crate::validate::context::DocContext;
use crate::validate::fields::{Fields, Seen, allowed};
use crate::validate::rules;

const AGE_ARMOR_BEGIN: &str = "-----BEGIN AGE ENCRYPTED FILE-----";
const AGE_ARMOR_END: &str = "-----END AGE ENCRYPTED FILE-----";

/// Decodes a `data` field (list or map form) and checks keys and limits.
pub fn decode(
    ctx: &mut DocContext<'_>,
    node: &Node,
    data_key_span: Span,
    kind: DataKind,
) -> Vec<DataEntry> {
    // Sized to the entries given: a filtered collect starts at four, and every resource's
    // data is held until the set is checked (a million documents, most with one to three keys).
    let entries = match &node.value {
        Value::Seq(items) => {
            let mut entries = Vec::with_capacity(items.len());
            entries.extend(items.iter().filter_map(|item| list_entry(ctx, item, kind)));
            entries
        }
        Value::Map(map) => {
            let mut entries = Vec::with_capacity(map.len());
            entries.extend(
                map.iter()
                    .filter_map(|(key, value)| map_entry(ctx, key, value, kind)),
            );
            entries
        }
        Value::Null => Vec::new(),
        other => {
            ctx.push(
                Diagnostic::new(
                    Code::FieldType,
                    node.span,
                    format!(
                        "`data` must be a list of entries or a mapping, found {}",
                        other.type_name()
                    ),
                )
                .label("expected a list or a mapping"),
            );
            Vec::new()
        }
    };
    let entries = without_duplicates(ctx, entries);
    let limits = match kind {
        DataKind::ConfigMap => ctx.options.limits.configmap,
        DataKind::Secret => ctx.options.limits.secret,
    };
    check_limits(ctx, &entries, data_key_span, kind, limits);
    entries
}

/// Marks every value under a secret's `data` for masking: in the list form every field but
/// `key` and `file` (so a misspelt `valeu:` or a plaintext pasted into `sealed:` is masked too),
/// in the map form every value. It works on the raw nodes, so entries that fail to decode,
/// repeated keys and repeated `data:` fields are covered as well.
pub fn redact(ctx: &mut DocContext<'_>, data: &Node) {
    match &data.value {
        Value::Seq(items) => {
            for item in items {
                match &item.value {
                    Value::Map(fields) => {
                        for (key, value) in fields {
                            if !matches!(key.as_str(), Some("key" | "file")) {
                                redact_all(ctx, value);
                            }
                        }
                    }
                    _ => redact_all(ctx, item),
                }
            }
        }
        _ => redact_all(ctx, data),
    }
}

/// Masks every scalar below `node`, but not mapping keys (they are data keys, shown in findings).
fn redact_all(ctx: &mut DocContext<'_>, node: &Node) {
    match &node.value {
        Value::Map(entries) => {
            for (_, value) in entries {
                redact_all(ctx, value);
            }
        }
        Value::Seq(items) => {
            for item in items {
                redact_all(ctx, item);
            }
        }
        _ => ctx.redactions.push(node.span),
    }
}

/// `- key: K` with exactly one of `value`, `sealed` or `file`.
fn list_entry(ctx: &mut DocContext<'_>, item: &Node, kind: DataKind) -> Option<DataEntry> {
    let fields = Fields::open(ctx, item, "data entry")?;
    fields.reject_unknown(ctx, allowed::DATA_ENTRY);
    let key = fields
        .required(ctx, "key")
        .and_then(|k| ctx.string(k, "key"));
    let present: Vec<&str> = ["value", "sealed", "file"]
        .into_iter()
        .filter(|f| fields.optional(f).is_some())
        .collect();
    match present.as_slice() {
        [] => {
            ctx.push(
                Diagnostic::new(Code::DataSource, fields.anchor(), "data entry has no value")
                    .label("needs `value`, `sealed` or `file`")
                    .help(match kind {
                        DataKind::Secret => "give exactly one of `value: <string>`, `sealed: <age armor>` or `file: <path>`",
                        DataKind::ConfigMap => "give exactly one of `value: <string>` or `file: <path>`",
                    }),
            );
            None
        }
        [one] => {
            let node = fields.optional(one)?;
            let source = match *one {
                "value" => value(ctx, node, kind).map(DataSource::Value),
                "sealed" => sealed(
                    ctx,
                    node,
                    fields.key_span("sealed").unwrap_or(node.span),
                    kind,
                ),
                _ => file(ctx, node),
            }?;
            let key = key?;
            check_key(ctx, &key);
            Some(DataEntry {
                key,
                source,
                value_span: node.span,
            })
        }
        [first, second, ..] => {
            let span = fields.key_span(second).unwrap_or(fields.anchor());
            let mut diagnostic = Diagnostic::new(
                Code::DataSource,
                span,
                format!("data entry has both `{first}` and `{second}`"),
            )
            .label("second value source")
            .help("give exactly one of `value`, `sealed` or `file`");
            if let Some(first_span) = fields.key_span(first) {
                diagnostic = diagnostic.also(first_span, "first value source");
            }
            ctx.push(diagnostic);
            None
        }
    }
}

/// `K: <string>`.
fn map_entry(
    ctx: &mut DocContext<'_>,
    key: &Node,
    value_node: &Node,
    kind: DataKind,
) -> Option<DataEntry> {
    let key_text = ctx.key_text(key)?.to_owned();
    let key = Spanned::new(key_text, key.span);
    check_key(ctx, &key);
    let value = value(ctx, value_node, kind)?;
    Some(DataEntry {
        key,
        source: DataSource::Value(value),
        value_span: value_node.span,
    })
}

fn value(ctx: &mut DocContext<'_>, node: &Node, kind: DataKind) -> Option<Plaintext> {
    if let Value::String(s) = &node.value {
        return Some(Plaintext::new(s.clone()));
    }
    let found = node.value.type_name();
    let help = match (kind, node.value.is_unquoted_scalar()) {
        (DataKind::Secret, true) => "quote the value so that YAML reads it as a string".to_owned(),
        (DataKind::ConfigMap, true) => format!(
            "quote it to make it a string: `\"{}\"`",
            ctx.source_text(node.span).trim()
        ),
        (_, false) => {
            "values are strings; for structured data use a YAML block scalar (`|`)".to_owned()
        }
    };
    ctx.push(
        Diagnostic::new(
            Code::DataValueType,
            node.span,
            format!("data values must be strings, found {found}"),
        )
        .label(format!("YAML reads this as {found}"))
        .help(help),
    );
    None
}

fn sealed(
    ctx: &mut DocContext<'_>,
    node: &Node,
    key_span: Span,
    kind: DataKind,
) -> Option<DataSource> {
    if kind == DataKind::ConfigMap {
        ctx.push(
            Diagnostic::new(
                Code::DataSealedInConfigmap,
                key_span,
                "configmaps cannot hold sealed values",
            )
            .label("`sealed` in a configmap")
            .help(
                "configmaps are stored in plaintext; move the value to a secret, or use `value:`",
            ),
        );
        return None;
    }
    let armor = ctx.string(node, "sealed")?;
    let trimmed = armor.value.trim();
    let well_formed = trimmed.starts_with(AGE_ARMOR_BEGIN)
        && trimmed.ends_with(AGE_ARMOR_END)
        && trimmed[AGE_ARMOR_BEGIN.len()..trimmed.len() - AGE_ARMOR_END.len()]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '\n' | '\r' | ' '));
    if !well_formed || trimmed.len() <= AGE_ARMOR_BEGIN.len() + AGE_ARMOR_END.len() {
        ctx.push(
            Diagnostic::new(
                Code::DataSealedForm,
                armor.span,
                "`sealed` is not an age-armored payload",
            )
            .label("not age armor")
            .help(format!(
                "a sealed value is the output of `rune seal`: `{AGE_ARMOR_BEGIN}` … `{AGE_ARMOR_END}` in a block scalar (`|`)"
            )),
        );
        return None;
    }
    Some(DataSource::Sealed(armor.value))
}

/// A `file:` entry: confined to the file root first (SPEC §2.3), so that a path outside it is
/// refused before anything, even its existence, is learnt about it; then it must be a file.
/// The entry holds the resolved path, which is what cast time reads.
fn file(ctx: &mut DocContext<'_>, node: &Node) -> Option<DataSource> {
    let path = ctx.string(node, "file")?;
    let written = std::path::Path::new(&path.value);
    let resolved = match ctx.file_roots.confine(written) {
        Ok(resolved) => resolved.path,
        Err(outside) => {
            outside_root(ctx, &path, outside.through_link);
            return None;
        }
    };
    let shown = match ctx.base_dir {
        Some(dir) => dir.join(written),
        None => written.to_path_buf(),
    };
    match std::fs::metadata(&resolved) {
        Ok(meta) if meta.is_file() => Some(DataSource::File(resolved)),
        Ok(_) => {
            ctx.push(
                Diagnostic::new(
                    Code::DataFileUnreadable,
                    path.span,
                    format!("`{}` is not a file", path.value),
                )
                .label("not a regular file"),
            );
            None
        }
        Err(error) => {
            ctx.push(
                Diagnostic::new(
                    Code::DataFileUnreadable,
                    path.span,
                    format!("cannot read `{}`: {error}", shown.display()),
                )
                .label("file not readable")
                .help("`file:` paths are relative to the runefile that names them"),
            );
            None
        }
    }
}

/// `E-DATA-FILE-OUTSIDE`: names the path as written, never where it leads or what it holds.
fn outside_root(ctx: &mut DocContext<'_>, path: &Spanned<String>, through_link: bool) {
    let how = if std::path::Path::new(&path.value).is_absolute() {
        "is an absolute path outside the file root"
    } else if through_link {
        "leads outside the file root through a symbolic link"
    } else {
        "leads outside the file root"
    };
    let root = if ctx.file_roots.in_git {
        "the git work tree that holds this runefile"
    } else {
        "this runefile's directory (it is not in a git work tree)"
    };
    ctx.push(
        Diagnostic::new(
            Code::DataFileOutside,
            path.span,
            format!("`file:` path `{}` {how}", path.value),
        )
        .label("outside the file root")
        .help(format!(
            "`file:` entries may only read files inside {root}; to allow another directory on \
             purpose, pass `--allow-file-root DIR`"
        )),
    );
}

fn check_key(ctx: &mut DocContext<'_>, key: &Spanned<String>) {
    if let Some(problem) = rules::data_key(&key.value) {
        ctx.push(problem.at(key.span));
    }
}

fn without_duplicates(ctx: &mut DocContext<'_>, entries: Vec<DataEntry>) -> Vec<DataEntry> {
    let mut repeated = vec![false; entries.len()];
    let mut seen = Seen::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let Some(first) = seen.first(&entry.key.value, entry.key.span) else {
            continue;
        };
        ctx.push(
            Diagnostic::new(
                Code::DataKeyDuplicate,
                entry.key.span,
                format!("data key `{}` is declared twice", entry.key.value),
            )
            .label("declared again here")
            .also(first, "first declared here")
            .help("each key holds one value; remove one of them"),
        );
        repeated[i] = true;
    }
    if !repeated.contains(&true) {
        return entries;
    }
    entries
        .into_iter()
        .zip(repeated)
        .filter_map(|(entry, repeated)| (!repeated).then_some(entry))
        .collect()
}

fn check_limits(
    ctx: &mut DocContext<'_>,
    entries: &[DataEntry],
    data_span: Span,
    kind: DataKind,
    limits: DataLimits,
) {
    if let Some(problem) = rules::data_key_count(kind, entries.len(), &limits) {
        ctx.push(problem.at(data_span));
    }
    for entry in entries {
        let size = match &entry.source {
            DataSource::Value(value) => Some(value.expose().len() as u64),
            DataSource::File(path) => {
                let path = ctx
                    .base_dir
                    .map_or_else(|| path.clone(), |dir| dir.join(path));
                std::fs::metadata(path).ok().map(|m| m.len())
            }
            // The size of a sealed value is known only after unsealing.
            DataSource::Sealed(_) => None,
        };
        if let Some(problem) =
            size.and_then(|size| rules::data_value_size(kind, &entry.key.value, size, &limits))
        {
            ctx.push(problem.at(entry.key.span));
        }
    }
}
