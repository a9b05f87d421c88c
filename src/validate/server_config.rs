//! Decoding a server runefile (SPEC §4.1) into a [`ServerConfig`].

use std::path::PathBuf;

use crate::diag::{Code, Diagnostic};
use crate::limits::DataLimits;
use crate::parse::node::Node;
use crate::server_config::{KekSource, ServerConfig, TlsConfig};
use crate::validate::context::DocContext;
use crate::validate::fields::Fields;

/// The fields of each section; the server runefile's JSON Schema lists exactly these.
pub mod allowed {
    pub const ROOT: &[&str] = &["auth", "crypto", "server", "storage"];
    pub const SERVER: &[&str] = &["data-dir", "listen", "tls"];
    pub const TLS: &[&str] = &["cert-file", "key-file"];
    pub const AUTH: &[&str] = &["required"];
    pub const CRYPTO: &[&str] = &["kek"];
    pub const KEK: &[&str] = &["env-var", "file-path", "generate-if-missing", "source"];
    pub const STORAGE: &[&str] = &["configmap-limits", "secret-limits", "versions-kept"];
    pub const SECRET_LIMITS: &[&str] = &["max-keys-per-secret", "max-value-size"];
    pub const CONFIGMAP_LIMITS: &[&str] = &["max-keys-per-configmap", "max-value-size"];
}

pub fn decode(ctx: &mut DocContext<'_>, root: &Node) -> Option<ServerConfig> {
    let fields = Fields::open(ctx, root, "server runefile")?;
    fields.reject_unknown(ctx, allowed::ROOT);
    let mut config = ServerConfig::default();
    let mut ok = true;
    if let Some(node) = fields.optional("server") {
        ok &= server(ctx, node, &mut config).is_some();
    }
    if let Some(node) = fields.optional("auth") {
        ok &= auth(ctx, node, &mut config).is_some();
    }
    if let Some(node) = fields.optional("crypto") {
        ok &= crypto(ctx, node, &mut config).is_some();
    }
    if let Some(node) = fields.optional("storage") {
        ok &= storage(ctx, node, &mut config).is_some();
    }
    ok.then_some(config)
}

fn server(ctx: &mut DocContext<'_>, node: &Node, config: &mut ServerConfig) -> Option<()> {
    let fields = Fields::open(ctx, node, "`server` section")?;
    fields.reject_unknown(ctx, allowed::SERVER);
    if let Some(listen) = fields
        .optional("listen")
        .and_then(|l| ctx.string(l, "listen"))
    {
        match listen.value.parse() {
            Ok(addr) => config.listen = addr,
            Err(_) => {
                ctx.push(
                    Diagnostic::new(
                        Code::FieldValue,
                        listen.span,
                        format!("`{}` is not a listen address", listen.value),
                    )
                    .label("expected IP:PORT")
                    .help(
                        "write an IP address and a port, such as `127.0.0.1:7861` or `[::1]:7861`",
                    ),
                );
                return None;
            }
        }
    }
    if let Some(dir) = fields
        .optional("data-dir")
        .and_then(|d| ctx.string(d, "data-dir"))
    {
        config.data_dir = Some(PathBuf::from(dir.value));
    }
    if let Some(tls) = fields.optional("tls") {
        let tls_fields = Fields::open(ctx, tls, "`tls` section")?;
        tls_fields.reject_unknown(ctx, allowed::TLS);
        let cert = tls_fields
            .required(ctx, "cert-file")
            .and_then(|c| ctx.string(c, "cert-file"));
        let key = tls_fields
            .required(ctx, "key-file")
            .and_then(|k| ctx.string(k, "key-file"));
        config.tls = Some(TlsConfig {
            cert_file: PathBuf::from(cert?.value),
            key_file: PathBuf::from(key?.value),
        });
    }
    Some(())
}

fn auth(ctx: &mut DocContext<'_>, node: &Node, config: &mut ServerConfig) -> Option<()> {
    let fields = Fields::open(ctx, node, "`auth` section")?;
    fields.reject_unknown(ctx, allowed::AUTH);
    if let Some(required) = fields.optional("required") {
        config.auth_required = ctx.bool(required, "required")?;
    }
    Some(())
}

fn crypto(ctx: &mut DocContext<'_>, node: &Node, config: &mut ServerConfig) -> Option<()> {
    let fields = Fields::open(ctx, node, "`crypto` section")?;
    fields.reject_unknown(ctx, allowed::CRYPTO);
    let Some(kek) = fields.optional("kek") else {
        return Some(());
    };
    let kek = Fields::open(ctx, kek, "`kek` section")?;
    kek.reject_unknown(ctx, allowed::KEK);
    if let Some(source) = kek.optional("source").and_then(|s| ctx.string(s, "source")) {
        config.kek.source = match source.value.as_str() {
            "file" => KekSource::File,
            "env" => KekSource::Env,
            "generated" => KekSource::Generated,
            other => {
                ctx.push(
                    Diagnostic::new(
                        Code::FieldValue,
                        source.span,
                        format!("unknown KEK source `{other}`"),
                    )
                    .label("not a KEK source")
                    .help("`source` is `file`, `env` or `generated`"),
                );
                return None;
            }
        };
    }
    if let Some(path) = kek
        .optional("file-path")
        .and_then(|p| ctx.string(p, "file-path"))
    {
        config.kek.file_path = Some(PathBuf::from(path.value));
    }
    if let Some(var) = kek
        .optional("env-var")
        .and_then(|v| ctx.string(v, "env-var"))
    {
        config.kek.env_var = var.value;
    }
    if let Some(generate) = kek.optional("generate-if-missing") {
        config.kek.generate_if_missing = ctx.bool(generate, "generate-if-missing")?;
    }
    Some(())
}

fn storage(ctx: &mut DocContext<'_>, node: &Node, config: &mut ServerConfig) -> Option<()> {
    let fields = Fields::open(ctx, node, "`storage` section")?;
    fields.reject_unknown(ctx, allowed::STORAGE);
    if let Some(node) = fields.optional("secret-limits") {
        config.limits.secret = limits(
            ctx,
            node,
            "`secret-limits`",
            "max-keys-per-secret",
            allowed::SECRET_LIMITS,
        )?;
    }
    if let Some(node) = fields.optional("configmap-limits") {
        config.limits.configmap = limits(
            ctx,
            node,
            "`configmap-limits`",
            "max-keys-per-configmap",
            allowed::CONFIGMAP_LIMITS,
        )?;
    }
    if let Some(kept) = fields.optional("versions-kept") {
        config.versions_kept =
            u32::try_from(ctx.integer(kept, "versions-kept", 1..=10_000)?).ok()?;
    }
    Some(())
}

fn limits(
    ctx: &mut DocContext<'_>,
    node: &Node,
    what: &str,
    keys_field: &str,
    allowed: &[&str],
) -> Option<DataLimits> {
    let fields = Fields::open(ctx, node, what)?;
    fields.reject_unknown(ctx, allowed);
    let mut limits = DataLimits::default();
    if let Some(keys) = fields.optional(keys_field) {
        limits.max_keys = usize::try_from(ctx.integer(keys, keys_field, 1..=100_000)?).ok()?;
    }
    if let Some(size) = fields.optional("max-value-size") {
        limits.max_value_size =
            usize::try_from(ctx.integer(size, "max-value-size", 1..=(64 << 20))?).ok()?;
    }
    Some(limits)
}
