//! Which state a command talks to: flags, then environment, then the config file's context;
//! with no server anywhere, the embedded engine (and a one-line notice saying so).
//!
//! In: the global flags and the config file. Out: a [`Target`] holding a [`Backend`]: a
//! [`Remote`] runed, or the embedded engine as [`crate::local`] binds it (never the server
//! module itself).

use std::io::Write;
use std::time::Duration;

use crate::cli::args::GlobalArgs;
use crate::cli::contexts::{self, ConfigFile};
use crate::cli::error::CliError;
use crate::client::{Backend, Remote};
use crate::local::{self, Local};

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

/// Resolves the backend: a server from flags, `RUNE_SERVER` or the context; else embedded.
pub fn select(global: &GlobalArgs) -> Result<Target, CliError> {
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
        .or_else(|| context.map(|c| c.server.clone()));
    if let Some(server) = server {
        let token = match &global.token_file {
            Some(path) => Some(
                std::fs::read_to_string(path)
                    .map_err(|e| {
                        CliError::Usage(format!(
                            "cannot read the token file `{}`: {e}",
                            path.display()
                        ))
                    })?
                    .trim()
                    .to_owned(),
            ),
            None => global
                .token
                .clone()
                .or_else(|| context.and_then(|c| c.token.clone())),
        };
        return Ok(Target {
            backend: Box::new(Remote::new(&server, token, REQUEST_TIMEOUT)),
            namespace,
        });
    }
    let data_dir = match &global.data_dir {
        Some(dir) => dir.clone(),
        None => local::default_data_dir().map_err(|e| CliError::Usage(e.to_string()))?,
    };
    if !global.quiet {
        let _ = writeln!(
            std::io::stderr(),
            "rune: no server configured; using the embedded engine with data in {}",
            data_dir.display()
        );
    }
    Ok(Target {
        backend: Box::new(Local::open(data_dir)?),
        namespace,
    })
}
