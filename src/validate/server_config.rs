//! Decoding a server runefile (SPEC §4.1) into a [`ServerConfig`].

use std::path::PathBuf;

use crate::diag::{Code, Diagnostic};
use crate::limits::DataLimits;
use crate::parse::node::Node;
use crate::server_config::{
    KekSource, PostgresConfig, ServerConfig, StorageBackend, TlsConfig, UidRange, UrlSource,
};
use crate::validate::context::DocContext;
use crate::validate::fields::Fields;

/// The fields of each section; the server runefile's JSON Schema lists exactly these.
pub mod allowed {
    pub const ROOT: &[&str] = &["auth", "crypto", "runner", "server", "storage"];
    pub const SERVER: &[&str] = &[
        "body-read-timeout",
        "data-dir",
        "header-read-timeout",
        "listen",
        "tls",
    ];
    pub const TLS: &[&str] = &["cert-file", "client-ca-file", "key-file"];
    pub const AUTH: &[&str] = &["required"];
    pub const CRYPTO: &[&str] = &["kek", "previous-keks"];
    pub const PREVIOUS_KEK: &[&str] = &["env-var", "file-path", "source"];
    pub const KEK: &[&str] = &["env-var", "file-path", "generate-if-missing", "source"];
    pub const STORAGE: &[&str] = &[
        "audit-retention",
        "backend",
        "configmap-limits",
        "postgres",
        "secret-limits",
        "versions-kept",
    ];
    pub const POSTGRES: &[&str] = &["ca-file", "pool-size", "url-env", "url-file"];
    pub const SECRET_LIMITS: &[&str] = &["max-keys-per-secret", "max-value-size"];
    pub const RUNNER: &[&str] = &["uid-range"];
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
    if let Some(node) = fields.optional("runner") {
        ok &= runner(ctx, node, &mut config).is_some();
    }
    ok.then_some(config)
}

/// Each section checks every field before it gives up, so that one bad value does not hide the
/// findings after it; `None` means the section had an error.
fn server(ctx: &mut DocContext<'_>, node: &Node, config: &mut ServerConfig) -> Option<()> {
    let fields = Fields::open(ctx, node, "`server` section")?;
    fields.reject_unknown(ctx, allowed::SERVER);
    let mut ok = true;
    if let Some(listen) = fields.optional("listen") {
        match ctx.string(listen, "listen") {
            Some(listen) => match listen.value.parse() {
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
                    ok = false;
                }
            },
            None => ok = false,
        }
    }
    if let Some(dir) = fields.optional("data-dir") {
        match ctx.string(dir, "data-dir") {
            Some(dir) => config.data_dir = Some(PathBuf::from(dir.value)),
            None => ok = false,
        }
    }
    for (field, slot) in [
        ("header-read-timeout", &mut config.read_timeouts.header),
        ("body-read-timeout", &mut config.read_timeouts.body),
    ] {
        if let Some(node) = fields.optional(field) {
            match timeout(ctx, node, field) {
                Some(value) => *slot = value,
                None => ok = false,
            }
        }
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
        let client_ca = tls_fields
            .optional("client-ca-file")
            .map(|c| ctx.string(c, "client-ca-file"));
        match (cert, key, client_ca) {
            (Some(cert), Some(key), client_ca @ (None | Some(Some(_)))) => {
                config.tls = Some(TlsConfig {
                    cert_file: PathBuf::from(cert.value),
                    client_ca_file: client_ca.flatten().map(|c| PathBuf::from(c.value)),
                    key_file: PathBuf::from(key.value),
                });
            }
            _ => ok = false,
        }
    }
    ok.then_some(())
}

/// A read timeout: a duration such as `10s` (not zero, at most a day).
fn timeout(ctx: &mut DocContext<'_>, node: &Node, field: &str) -> Option<std::time::Duration> {
    let text = ctx.string(node, field)?;
    match crate::duration::parse(&text.value) {
        Ok(value) if value <= std::time::Duration::from_secs(86_400) => Some(value),
        Ok(_) => {
            ctx.push(
                Diagnostic::new(
                    Code::FieldValue,
                    text.span,
                    format!("`{field}` is longer than a day"),
                )
                .label("too long")
                .help("a read timeout bounds how long a stalled client holds a connection"),
            );
            None
        }
        Err(message) => {
            ctx.push(
                Diagnostic::new(Code::FieldValue, text.span, message)
                    .label("not a duration")
                    .help("write a duration such as `10s`, `1m` or `1m30s`"),
            );
            None
        }
    }
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
    let previous = fields
        .optional("previous-keks")
        .map(|node| crate::validate::previous_keks::decode(ctx, node));
    if let Some(previous) = previous {
        config.previous_keks = previous?;
    }
    let Some(kek) = fields.optional("kek") else {
        return Some(());
    };
    let kek = Fields::open(ctx, kek, "`kek` section")?;
    kek.reject_unknown(ctx, allowed::KEK);
    let mut ok = true;
    if let Some(source) = kek.optional("source") {
        match ctx.string(source, "source") {
            Some(source) => match source.value.as_str() {
                "file" => config.kek.source = KekSource::File,
                "env" => config.kek.source = KekSource::Env,
                "generated" => config.kek.source = KekSource::Generated,
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
                    ok = false;
                }
            },
            None => ok = false,
        }
    }
    if let Some(path) = kek.optional("file-path") {
        match ctx.string(path, "file-path") {
            Some(path) => config.kek.file_path = Some(PathBuf::from(path.value)),
            None => ok = false,
        }
    }
    if let Some(var) = kek.optional("env-var") {
        match ctx.string(var, "env-var") {
            Some(var) => config.kek.env_var = var.value,
            None => ok = false,
        }
    }
    if let Some(generate) = kek.optional("generate-if-missing") {
        match ctx.bool(generate, "generate-if-missing") {
            Some(generate) => config.kek.generate_if_missing = generate,
            None => ok = false,
        }
    }
    ok.then_some(())
}

fn storage(ctx: &mut DocContext<'_>, node: &Node, config: &mut ServerConfig) -> Option<()> {
    let fields = Fields::open(ctx, node, "`storage` section")?;
    fields.reject_unknown(ctx, allowed::STORAGE);
    let mut ok = true;
    if let Some(node) = fields.optional("secret-limits") {
        match limits(
            ctx,
            node,
            "`secret-limits` section",
            "max-keys-per-secret",
            allowed::SECRET_LIMITS,
        ) {
            Some(limits) => config.limits.secret = limits,
            None => ok = false,
        }
    }
    if let Some(node) = fields.optional("configmap-limits") {
        match limits(
            ctx,
            node,
            "`configmap-limits` section",
            "max-keys-per-configmap",
            allowed::CONFIGMAP_LIMITS,
        ) {
            Some(limits) => config.limits.configmap = limits,
            None => ok = false,
        }
    }
    if let Some(retention) = fields.optional("audit-retention") {
        match ctx.string(retention, "audit-retention") {
            Some(text) => match crate::duration::parse(&text.value) {
                Ok(duration) => config.audit_retention = duration,
                Err(why) => {
                    ctx.push(
                        Diagnostic::new(Code::FieldValue, text.span, why)
                            .label("not a duration")
                            .help("how long audit records are kept, such as `90d` (the default) or `52w`"),
                    );
                    ok = false;
                }
            },
            None => ok = false,
        }
    }
    if let Some(kept) = fields.optional("versions-kept") {
        match ctx
            .integer(kept, "versions-kept", 1..=10_000)
            .and_then(|n| u32::try_from(n).ok())
        {
            Some(kept) => config.versions_kept = kept,
            None => ok = false,
        }
    }
    ok &= backend(ctx, &fields, config).is_some();
    ok.then_some(())
}

/// `storage.backend` and `storage.postgres`; the latter only with the postgres backend.
fn backend(ctx: &mut DocContext<'_>, fields: &Fields<'_>, config: &mut ServerConfig) -> Option<()> {
    let mut postgres = None;
    if let Some(node) = fields.optional("postgres") {
        postgres = Some(postgres_section(ctx, node)?);
    }
    let Some(node) = fields.optional("backend") else {
        if let Some(node) = fields.optional("postgres") {
            ctx.push(
                Diagnostic::new(
                    Code::FieldValue,
                    node.span,
                    "`storage.postgres` is set but `storage.backend` is not `postgres`",
                )
                .help("add `backend: postgres`, or remove the `postgres` section"),
            );
            return None;
        }
        return Some(());
    };
    let name = ctx.string(node, "backend")?;
    match name.value.as_str() {
        "redb" if postgres.is_none() => config.storage = StorageBackend::Redb,
        "postgres" => config.storage = StorageBackend::Postgres(postgres.unwrap_or_default()),
        other => {
            let message = if other == "redb" {
                "`storage.postgres` is set but `storage.backend` is `redb`".to_owned()
            } else {
                format!("`{other}` is not a storage backend")
            };
            ctx.push(
                Diagnostic::new(Code::FieldValue, name.span, message)
                    .help("write `redb` (one file in the data directory) or `postgres`"),
            );
            return None;
        }
    }
    Some(())
}

fn postgres_section(ctx: &mut DocContext<'_>, node: &Node) -> Option<PostgresConfig> {
    let fields = Fields::open(ctx, node, "`postgres` section")?;
    fields.reject_unknown(ctx, allowed::POSTGRES);
    let mut config = PostgresConfig::default();
    let mut ok = true;
    if let Some(size) = fields.optional("pool-size") {
        match ctx
            .integer(size, "pool-size", 1..=1_000)
            .and_then(|n| u32::try_from(n).ok())
        {
            Some(size) => config.pool_size = size,
            None => ok = false,
        }
    }
    if let Some(file) = fields.optional("ca-file") {
        match ctx.string(file, "ca-file") {
            Some(file) => config.ca_file = Some(PathBuf::from(file.value)),
            None => ok = false,
        }
    }
    match (fields.optional("url-env"), fields.optional("url-file")) {
        (Some(_), Some(file)) => {
            ctx.push(
                Diagnostic::new(
                    Code::FieldValue,
                    file.span,
                    "`url-env` and `url-file` are both set",
                )
                .help("keep one: where runed reads the database URL from"),
            );
            ok = false;
        }
        (Some(var), None) => match ctx.string(var, "url-env") {
            Some(var) => config.url = UrlSource::Env(var.value),
            None => ok = false,
        },
        (None, Some(file)) => match ctx.string(file, "url-file") {
            Some(file) => config.url = UrlSource::File(PathBuf::from(file.value)),
            None => ok = false,
        },
        (None, None) => {}
    }
    ok.then_some(config)
}

/// The lowest uid a service may get: below it live the system's own users.
const MIN_SERVICE_UID: u32 = 1000;

fn runner(ctx: &mut DocContext<'_>, node: &Node, config: &mut ServerConfig) -> Option<()> {
    let fields = Fields::open(ctx, node, "`runner` section")?;
    fields.reject_unknown(ctx, allowed::RUNNER);
    if let Some(range) = fields.optional("uid-range") {
        let text = ctx.string(range, "uid-range")?;
        match parse_uid_range(&text.value) {
            Ok(parsed) => config.uid_range = parsed,
            Err(why) => {
                ctx.push(
                    Diagnostic::new(
                        Code::FieldValue,
                        text.span,
                        format!("`{}` is not a usable uid range: {why}", text.value),
                    )
                    .help(format!(
                        "write `FIRST-LAST`, e.g. `{}`: unprivileged uids from {MIN_SERVICE_UID} up, that no user of this machine has",
                        UidRange::DEFAULT
                    )),
                );
                return None;
            }
        }
    }
    Some(())
}

/// `FIRST-LAST`: both numbers, `MIN_SERVICE_UID <= FIRST <= LAST`, and below 2^32 - 1 (the
/// "no uid" value).
fn parse_uid_range(text: &str) -> Result<UidRange, String> {
    let (first, last) = text
        .split_once('-')
        .ok_or_else(|| "it has no `-` between the first and the last uid".to_owned())?;
    let number = |s: &str| {
        s.trim()
            .parse::<u32>()
            .ok()
            .filter(|n| *n < u32::MAX)
            .ok_or_else(|| format!("`{}` is not a uid", s.trim()))
    };
    let (first, last) = (number(first)?, number(last)?);
    if first < MIN_SERVICE_UID {
        return Err(format!("it starts below {MIN_SERVICE_UID}"));
    }
    if first > last {
        return Err("the first uid is greater than the last".to_owned());
    }
    Ok(UidRange { first, last })
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
    let keys = fields
        .optional(keys_field)
        .map(|keys| ctx.integer(keys, keys_field, 1..=100_000));
    let size = fields
        .optional("max-value-size")
        .map(|size| ctx.integer(size, "max-value-size", 1..=(64 << 20)));
    if let Some(keys) = keys {
        limits.max_keys = usize::try_from(keys?).ok()?;
    }
    if let Some(size) = size {
        limits.max_value_size = usize::try_from(size?).ok()?;
    }
    Some(limits)
}

#[cfg(test)]
mod tests {
    use super::parse_uid_range;
    use crate::server_config::UidRange;

    /// `FIRST-LAST` within unprivileged uids parses; anything else says why.
    #[test]
    fn uid_ranges() {
        assert_eq!(
            parse_uid_range("200000-265535"),
            Ok(UidRange::DEFAULT),
            "the default"
        );
        assert_eq!(
            parse_uid_range("5000-5000"),
            Ok(UidRange {
                first: 5000,
                last: 5000
            })
        );
        for (bad, why) in [
            ("200000", "no `-`"),
            ("0-10", "below 1000"),
            ("3000-2000", "greater than the last"),
            ("a-2000", "`a` is not a uid"),
            ("1000-4294967295", "not a uid"),
        ] {
            let error = parse_uid_range(bad).unwrap_err();
            assert!(error.contains(why), "{bad}: {error}");
        }
    }
}
