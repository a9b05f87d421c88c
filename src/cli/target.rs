//! Which state a command talks to: flags, then environment, then the config file's context;
//! with no server anywhere, the embedded engine (and a one-line notice saying so).
//!
//! In: the global flags and the config file. Out: a [`Target`] holding a [`Backend`]: a
//! [`Remote`] runed (with its token, where that token came from, and its TLS files), or the
//! embedded engine as [`crate::local`] binds it (never the server module itself). A context's
//! TLS files go only to that context's server.

use std::io::Write;
use std::time::Duration;

use crate::cli::args::GlobalArgs;
use crate::cli::contexts::{self, ConfigFile, Context};
use crate::cli::error::CliError;
use crate::client::tls::TlsFiles;
use crate::client::{Backend, Remote};
use crate::local::{self, Local};
use crate::secrets::Secret;

/// How long one request to runed may take before the command fails with exit 7.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// The resolved target of a command.
#[derive(Debug)]
pub struct Target {
    pub backend: Box<dyn Backend>,
    /// `-n`, else the context's namespace, else `default`.
    pub namespace: String,
}

/// The namespace in force without contacting anything: `-n`, the context's, or `default`.
pub fn namespace(global: &GlobalArgs) -> Result<String, CliError> {
    if let Some(ns) = &global.namespace {
        return Ok(ns.clone());
    }
    let config = ConfigFile::load(&contexts::path()?)?;
    Ok(config
        .context(global.context.as_deref())?
        .and_then(|c| c.namespace.clone())
        .unwrap_or_else(|| "default".to_owned()))
}

/// What a command does with its target. A command that only reads (`diff`, `cast --dry-run`,
/// `get`, `describe`, `status`) never creates the embedded engine's directory, store or KEK: a
/// missing store is an empty state (SPEC §3, target selection).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Access {
    Read,
    Write,
}

/// Resolves the backend of a command that may write: see [`select_for`].
pub fn select(global: &GlobalArgs) -> Result<Target, CliError> {
    select_for(global, Access::Write)
}

/// Resolves the backend: a server from flags, `RUNE_SERVER` or the context; else embedded —
/// on purpose (`--embedded`, `--data-dir`/`RUNE_DATA_DIR`) or, outside CI, by default.
pub fn select_for(global: &GlobalArgs, access: Access) -> Result<Target, CliError> {
    let config = ConfigFile::load(&contexts::path()?)?;
    let context = config.context(global.context.as_deref())?;
    let namespace = global
        .namespace
        .clone()
        .or_else(|| context.and_then(|c| c.namespace.clone()))
        .unwrap_or_else(|| "default".to_owned());
    let server = global
        .server
        .clone()
        .or_else(|| context.map(|c| c.server.clone()))
        .filter(|_| !global.embedded);
    if let Some(server) = server {
        // A context's token and TLS files belong to its own server: `--server` naming another
        // one never receives them (SPEC §3, target selection).
        let own = context.filter(|c| global.server.as_ref().is_none_or(|s| *s == c.server));
        let (token, source) = token(global, own)?;
        let mut remote = Remote::new(&server, token, REQUEST_TIMEOUT)
            .with_tls(tls_files(global, own))
            .map_err(|e| CliError::Usage(e.to_string()))?;
        if let Some(source) = source {
            remote = remote.with_token_source(source);
        }
        return Ok(Target {
            backend: Box::new(remote),
            namespace,
        });
    }
    let on_purpose = global.embedded || global.data_dir.is_some();
    if !on_purpose && in_ci() {
        return Err(CliError::Usage(NO_TARGET_IN_CI.to_owned()));
    }
    let data_dir = match &global.data_dir {
        Some(dir) => dir.clone(),
        None => local::default_data_dir().map_err(|e| CliError::Usage(e.to_string()))?,
    };
    // Even with `-q`: a plan means nothing without knowing what it was compared with.
    let _ = writeln!(
        std::io::stderr(),
        "rune: {}using the embedded engine with data in {}",
        if on_purpose {
            ""
        } else {
            "no server configured; "
        },
        data_dir.display()
    );
    let local = match access {
        Access::Read => Local::open_read_only(data_dir)?,
        Access::Write => Local::open(data_dir)?,
    };
    Ok(Target {
        backend: Box::new(local),
        namespace,
    })
}

const NO_TARGET_IN_CI: &str = "no server configured, and in CI (`CI` is set) rune does not fall back to the embedded engine: set `RUNE_SERVER` (and `RUNE_TOKEN`) to the runed to use, or pass `--embedded` (or `--data-dir DIR`) to use the embedded engine on purpose";

/// Whether this runs in CI: `CI` is set, and not empty, `false` or `0`.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Checks a context before it is saved (`rune login`): its server answers, over its TLS
/// files, and takes its token for a request that needs one (listing namespaces).
pub fn verify(context: &Context, token_source: &str) -> Result<(), CliError> {
    let token_source = context.token.as_ref().map(|_| token_source);
    check_url(&context.server)?;
    let files = TlsFiles {
        ca_file: context.ca_file.clone(),
        client_cert: context.client_cert.clone().zip(context.client_key.clone()),
    };
    let mut remote = Remote::new(&context.server, context.token.clone(), REQUEST_TIMEOUT)
        .with_tls(files)
        .map_err(|e| CliError::Usage(e.to_string()))?;
    if let Some(source) = token_source {
        remote = remote.with_token_source(source);
    }
    remote.list(crate::resource::Kind::Namespace, None)?;
    Ok(())
}

/// A server URL names its scheme: `http://…` or `https://…`.
pub fn check_url(url: &str) -> Result<(), CliError> {
    if url.starts_with("http://") || url.starts_with("https://") {
        return Ok(());
    }
    Err(CliError::Usage(format!(
        "the server URL `{url}` needs a scheme: `http://{url}` or `https://{url}`"
    )))
}

/// The token and where it came from: `--token-file`, `--token`, `RUNE_TOKEN`, or the context.
fn token(
    global: &GlobalArgs,
    context: Option<&Context>,
) -> Result<(Option<Secret<String>>, Option<String>), CliError> {
    if let Some(path) = &global.token_file {
        let text = std::fs::read_to_string(path)
            .map(Secret::new)
            .map_err(|e| {
                CliError::Usage(format!(
                    "cannot read the token file `{}`: {e}",
                    path.display()
                ))
            })?;
        let source = format!("the token file `{}`", path.display());
        return Ok((
            Some(Secret::new(text.expose().trim().to_owned())),
            Some(source),
        ));
    }
    if let Some(token) = &global.token {
        let source = if global.token_from_env {
            "`RUNE_TOKEN`"
        } else {
            "`--token`"
        };
        return Ok((Some(token.clone()), Some(source.to_owned())));
    }
    Ok(context
        .and_then(|c| c.token.clone().map(|t| (t, c.name.as_str())))
        .map_or((None, None), |(token, name)| {
            (Some(token), Some(format!("context `{name}`")))
        }))
}

/// The flags (and `RUNE_CA_FILE`) win; else the files of the server's own context.
fn tls_files(global: &GlobalArgs, own: Option<&Context>) -> TlsFiles {
    let ca_file = global
        .ca_file
        .clone()
        .or_else(|| own.and_then(|c| c.ca_file.clone()));
    let client_cert = match (&global.client_cert, &global.client_key) {
        (Some(cert), Some(key)) => Some((cert.clone(), key.clone())),
        _ => own.and_then(|c| c.client_cert.clone().zip(c.client_key.clone())),
    };
    TlsFiles {
        ca_file,
        client_cert,
    }
}

/// The configured server (flags, `RUNE_SERVER`, else the context) with a short timeout, for
/// shell completion; `None` when no server is configured: a completion never opens the
/// embedded engine, which would create its data directory.
pub fn remote_only(global: &GlobalArgs, timeout: Duration) -> Result<Option<Remote>, CliError> {
    let config = ConfigFile::load(&contexts::path()?)?;
    let context = config.context(global.context.as_deref())?;
    let Some(server) = global
        .server
        .clone()
        .or_else(|| context.map(|c| c.server.clone()))
    else {
        return Ok(None);
    };
    let own = context.filter(|c| global.server.as_ref().is_none_or(|s| *s == c.server));
    let (token, _) = token(global, own)?;
    let remote = Remote::new(&server, token, timeout)
        .with_tls(tls_files(global, own))
        .map_err(|e| CliError::Usage(e.to_string()))?;
    Ok(Some(remote))
}
