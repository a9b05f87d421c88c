//! `crypto.previous-keks` of a server runefile (SPEC §4.1, §4.6): a list of older KEKs, each a
//! file or an environment variable. Never `generated`: a previous KEK that is missing cannot be
//! made up, it was lost.

use std::path::PathBuf;

use crate::diag::{Code, Diagnostic};
use crate::parse::node::Node;
use crate::server_config::{KekConfig, KekSource};
use crate::validate::context::DocContext;
use crate::validate::fields::Fields;
use crate::validate::server_config::allowed;

/// The list, or `None` when an entry had an error (every entry is checked first).
pub fn decode(ctx: &mut DocContext<'_>, node: &Node) -> Option<Vec<KekConfig>> {
    let mut out = Vec::new();
    let mut ok = true;
    for item in ctx.list(node, "previous-keks") {
        match entry(ctx, item) {
            Some(config) => out.push(config),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn entry(ctx: &mut DocContext<'_>, node: &Node) -> Option<KekConfig> {
    let fields = Fields::open(ctx, node, "`previous-keks` entry")?;
    fields.reject_unknown(ctx, allowed::PREVIOUS_KEK);
    let mut config = KekConfig {
        generate_if_missing: false,
        ..KekConfig::default()
    };
    if let Some(source) = fields.optional("source") {
        let source = ctx.string(source, "source")?;
        match source.value.as_str() {
            "file" => config.source = KekSource::File,
            "env" => config.source = KekSource::Env,
            other => {
                ctx.push(
                    Diagnostic::new(
                        Code::FieldValue,
                        source.span,
                        format!("`{other}` is not a source of a previous KEK"),
                    )
                    .label("not `file` or `env`")
                    .help("a previous KEK is read from a `file` or an `env` variable; it is never generated"),
                );
                return None;
            }
        }
    }
    if let Some(var) = fields.optional("env-var") {
        config.env_var = ctx.string(var, "env-var")?.value;
    }
    match fields.optional("file-path") {
        Some(path) => config.file_path = Some(PathBuf::from(ctx.string(path, "file-path")?.value)),
        None if config.source == KekSource::File => {
            ctx.push(
                Diagnostic::new(
                    Code::FieldValue,
                    node.span,
                    "a previous KEK read from a file needs `file-path`",
                )
                .label("no `file-path`")
                .help("write `{ source: file, file-path: /var/lib/rune/kek-old }`"),
            );
            return None;
        }
        None => {}
    }
    Some(config)
}
