//! The `runed` command line: serve (the default) or manage tokens. Thin: arguments become a
//! [`ServerConfig`], then [`crate::server::http::daemon::run`] or the token functions do the
//! work. Every failure becomes a [`RunedError`], and [`RunedError::exit_code`] alone decides
//! runed's exit code; `src/bin/runed.rs` only converts it.

use std::fmt::Write as _;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::diag::render::human::Style;
use crate::server::backend;
use crate::server::http::daemon;
use crate::server::store::TokenStore as _;
use crate::server::tokens;
use crate::server_config::{KekSource, ServerConfig, StorageBackend, TlsConfig};
use crate::validate::{self, Options};

/// The rune server: encrypted, versioned state behind a JSON API.
#[derive(Debug, Parser)]
#[command(name = "runed", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub serve: ServeArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The server runefile (see the README, section `runed`); flags override it
    #[arg(long, short = 'c', value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,
    /// Where the store, the token file and (by default) the KEK live [default: /var/lib/rune]
    #[arg(long, value_name = "DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Read the KEK from this file (base64 of 32 bytes)
    #[arg(long, value_name = "FILE")]
    pub kek_file: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:7861]
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Serve HTTPS with this PEM certificate chain (with --tls-key; overrides `server.tls`)
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// Require client certificates signed by a CA in this PEM file (mTLS; with --tls-cert)
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
    /// The PEM private key (PKCS#8, PKCS#1 or SEC1) for --tls-cert
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Internal: launch one service instance from the launch runed pipes to standard input
    #[command(name = "__instance", hide = true)]
    Instance,
    /// Manage key-encryption keys: `runed kek generate FILE` writes a new one (mode 0600)
    #[command(subcommand)]
    Kek(KekCommand),
    /// Manage bearer tokens (works while runed is running)
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage the configured store
    #[command(subcommand)]
    Store(StoreCommand),
}

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Copy a redb store (objects, ciphertext as it is, KEK check value, seal identity,
    /// tokens) into the configured backend, which must be new; the same KEK opens it
    Copy {
        /// The data directory of the redb store to copy (runed must not be running on it)
        #[arg(long, value_name = "DIR")]
        from_data_dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum KekCommand {
    /// Write a new random KEK to FILE (mode 0600; an existing file is never replaced) and print
    /// its id. To rotate: point `crypto.kek` at it, list the old one under
    /// `crypto.previous-keks`, restart, then run `rune admin kek rewrap`
    Generate {
        /// The new KEK file
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it once; only its hash is stored
    Create {
        /// A name for the token (DNS-1123)
        name: String,
        /// Limit the token to a namespace (repeatable); without it the token reaches every
        /// namespace
        #[arg(long = "namespace", short = 'n', value_name = "NS")]
        namespaces: Vec<String>,
        /// What the token may do: `read` (get, list, status, plan), `cast` (write and delete
        /// objects), `run` (`process:` services, restart, logs), `admin` (storage classes and
        /// other cluster-scoped kinds)
        #[arg(long, value_name = "LIST", default_value = "read,cast", value_parser = tokens::Permissions::parse)]
        permissions: tokens::Permissions,
        /// Let the token expire this long from now (`30d`, `12h`, `15m`, `1h30m`) [default: never]
        #[arg(long, value_name = "DURATION", value_parser = crate::duration::parse)]
        ttl: Option<std::time::Duration>,
    },
    /// List tokens (names, scopes, permissions, creation and expiry times; never the tokens)
    List,
    /// Revoke a token; requests carrying it fail from then on
    Revoke { name: String },
}

/// Why `runed` stops with an error.
#[derive(Debug, thiserror::Error)]
pub enum RunedError {
    /// The arguments do not parse, or ask for `--help`/`--version` (which clap prints itself).
    #[error("{0}")]
    Args(clap::Error),
    /// The server runefile cannot be used; the text is the whole report, findings included.
    #[error("{0}")]
    Config(String),
    /// Serving, or a token command, failed.
    #[error("{0}")]
    Failed(String),
    /// Writing to stdout failed; a reader that closed it early is no failure (issue #10).
    #[error("cannot write the output: {0}")]
    Output(#[source] std::io::Error),
}

impl RunedError {
    /// The exit code of this failure: the one table of `runed`'s exit codes.
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        match self {
            RunedError::Args(error) if !error.use_stderr() => 0,
            error if error.is_closed_stdout() => 0,
            RunedError::Args(_) => 2,
            RunedError::Config(_) => 6,
            RunedError::Failed(_) | RunedError::Output(_) => 1,
        }
    }

    /// A reader that went away (`runed token list | head -1`): nothing to say, nothing failed.
    fn is_closed_stdout(&self) -> bool {
        matches!(self, RunedError::Output(error) if error.kind() == std::io::ErrorKind::BrokenPipe)
    }

    /// Says on stderr what failed, unless clap says it itself or nobody reads the output.
    fn report(&self) {
        let mut stderr = std::io::stderr();
        let _ = match self {
            RunedError::Args(error) => error.print(),
            error if error.is_closed_stdout() => Ok(()),
            RunedError::Config(report) => write!(stderr, "{report}"),
            RunedError::Failed(_) | RunedError::Output(_) => {
                writeln!(stderr, "runed: error: {self}")
            }
        };
    }
}

/// Runs `runed` and returns the process exit code.
pub fn run() -> u8 {
    let result = match Cli::try_parse() {
        Err(error) => Err(RunedError::Args(error)),
        Ok(cli) => match cli.command {
            // The launcher's code is the instance's own status, not a failure of runed.
            Some(Command::Instance) => return crate::server::runner::launch::main(),
            Some(Command::Token(command)) => serve_or_token(&cli.serve, Some(command)),
            Some(Command::Store(StoreCommand::Copy { from_data_dir })) => {
                store_copy(&cli.serve, &from_data_dir)
            }
            Some(Command::Kek(KekCommand::Generate { file })) => generate_kek(&file),
            None => serve_or_token(&cli.serve, None),
        },
    };
    match result {
        Ok(()) => 0,
        Err(error) => {
            error.report();
            error.exit_code()
        }
    }
}

/// Serves, or (with a token command) manages tokens in the configured data directory.
fn serve_or_token(serve: &ServeArgs, command: Option<TokenCommand>) -> Result<(), RunedError> {
    let config = config(serve).map_err(RunedError::Config)?;
    match command {
        Some(command) => token(command, &config),
        None => {
            harden(&config)?;
            daemon::run(&config).map_err(failed)
        }
    }
}

/// Before runed holds a key: no core dumps, few malloc arenas, and no KEK in its environment
/// (issues #12, #14). The arena limit and the hand-over may re-execute runed, which then comes
/// here again and turns dumps off once more (an exec makes a process dumpable again).
fn harden(config: &ServerConfig) -> Result<(), RunedError> {
    crate::server::harden::no_core_dumps()
        .map_err(|e| RunedError::Failed(format!("cannot turn core dumps off: {e}")))?;
    if let Err(error) = crate::server::arenas::limit() {
        crate::server::log::warn(&format!(
            "cannot re-execute runed with {} set; it runs with glibc's default arenas: {error}",
            crate::server::arenas::VAR
        ));
    }
    crate::server::kek_env::hand_over(&config.kek).map_err(failed)
}

/// `runed store copy --from-data-dir DIR`: the redb store of DIR into the configured backend.
fn store_copy(serve: &ServeArgs, from: &std::path::Path) -> Result<(), RunedError> {
    use crate::server::store::{TokenFileStore, redb::RedbStore};
    let config = config(serve).map_err(RunedError::Config)?;
    let target_dir = daemon::data_dir(&config);
    if config.storage == StorageBackend::Redb && target_dir == from {
        return Err(RunedError::Failed(
            "the source is the configured store itself".to_owned(),
        ));
    }
    let source = RedbStore::open(from).map_err(failed)?;
    let target = backend::open(&config, &target_dir).map_err(failed)?;
    let copied = crate::server::copy::copy(
        &source,
        &TokenFileStore::new(from),
        &*target.store,
        &*target.tokens,
        tokens::fail_closed::marked(from),
    )
    .map_err(failed)?;
    writeln!(
        std::io::stdout(),
        "copied {} objects, {} data versions and {} tokens from {} into {}",
        copied.objects,
        copied.versions,
        copied.tokens,
        from.display(),
        target.description
    )
    .map_err(RunedError::Output)
}

/// `runed kek generate FILE`: the id on stdout, what to do next on stderr.
fn generate_kek(file: &std::path::Path) -> Result<(), RunedError> {
    let id = crate::server::keyring::generate_file(file).map_err(failed)?;
    let _ = writeln!(
        std::io::stderr(),
        "generated KEK {id} in {}: back it up; to rotate, make it `crypto.kek`, list the old KEK under `crypto.previous-keks`, restart runed and run `rune admin kek rewrap`",
        file.display()
    );
    writeln!(std::io::stdout(), "{id}").map_err(RunedError::Output)
}

fn failed(error: impl std::fmt::Display) -> RunedError {
    RunedError::Failed(error.to_string())
}

/// The server runefile (validated like `rune lint` does) with the flags applied on top.
fn config(args: &ServeArgs) -> Result<ServerConfig, String> {
    let mut config = match &args.config {
        Some(path) => read_config(path)?,
        None => ServerConfig::default(),
    };
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if let Some(dir) = &args.data_dir {
        config.data_dir = Some(dir.clone());
    }
    if let Some(file) = &args.kek_file {
        config.kek.source = KekSource::File;
        config.kek.file_path = Some(file.clone());
    }
    if let (Some(cert_file), Some(key_file)) = (&args.tls_cert, &args.tls_key) {
        config.tls = Some(TlsConfig {
            cert_file: cert_file.clone(),
            client_ca_file: args.tls_client_ca.clone(),
            key_file: key_file.clone(),
        });
    }
    Ok(config)
}

fn read_config(path: &std::path::Path) -> Result<ServerConfig, String> {
    let loaded = crate::parse::load(&[path.display().to_string()], false)
        .map_err(|e| format!("runed: error: {e}\n"))?;
    let validated = validate::validate(&loaded, &Options::default());
    if validated.diagnostics.has_errors() {
        let style = Style {
            color: false,
            width: 100,
        };
        let report = crate::diag::render::human::render(
            &validated.diagnostics,
            &loaded.sources,
            &validated.redactions,
            style,
        );
        return Err(format!(
            "{report}runed: error: the server runefile `{}` is not valid\n",
            path.display()
        ));
    }
    match validated.server_configs.as_slice() {
        [(_, config)] => Ok(config.clone()),
        [] => Err(format!(
            "runed: error: `{}` holds no server configuration (`server:`, `auth:`, `crypto:`, `storage:`)\n",
            path.display()
        )),
        _ => Err(format!(
            "runed: error: `{}` holds more than one server configuration\n",
            path.display()
        )),
    }
}

fn token(command: TokenCommand, config: &ServerConfig) -> Result<(), RunedError> {
    let data_dir = &daemon::data_dir(config);
    // With a database, tokens live there (every replica reads them); the latch is written in
    // the same transaction as the token.
    let shared = match &config.storage {
        StorageBackend::Redb => None,
        StorageBackend::Postgres(postgres) => {
            Some(backend::open_postgres(postgres).map_err(failed)?.tokens())
        }
    };
    let mut out = std::io::stdout().lock();
    let written = match command {
        TokenCommand::Create {
            name,
            namespaces,
            permissions,
            ttl,
        } => {
            let grant = tokens::Grant {
                namespaces,
                permissions,
                ttl,
            };
            let (token, info) = match &shared {
                Some(store) => tokens::create_in(store, &name, grant),
                None => tokens::create(data_dir, &name, grant),
            }
            .map_err(failed)?;
            let scope = if info.namespaces.is_empty() {
                "all namespaces".to_owned()
            } else {
                info.namespaces.join(", ")
            };
            let expiry = match &info.expires_at {
                Some(at) => format!(", expiring at {at}"),
                None => String::new(),
            };
            let _ = writeln!(
                std::io::stderr(),
                "created token `{}` for {scope} with {}{expiry}; it is shown once — store it now",
                info.name,
                info.permissions()
            );
            // The one place a token is ever shown.
            writeln!(out, "{}", token.expose())
        }
        TokenCommand::List => {
            let all = match &shared {
                Some(store) => store.entries(),
                None => tokens::list(data_dir),
            }
            .map_err(failed)?;
            let now = crate::server::clock::now_unix();
            let mut text = String::from("NAME\tNAMESPACES\tPERMISSIONS\tCREATED\tEXPIRES\n");
            for t in all {
                let scope = if t.namespaces.is_empty() {
                    "*".to_owned()
                } else {
                    t.namespaces.join(",")
                };
                let expires = match &t.expires_at {
                    None => "never".to_owned(),
                    Some(at) if t.is_expired(now) => format!("{at} (expired)"),
                    Some(at) => at.clone(),
                };
                // An entry from before permissions says so: it lacks `admin` it may have had.
                let permissions = match t.permissions {
                    Some(set) => set.to_string(),
                    None => format!("{} (legacy)", t.permissions()),
                };
                let _ = writeln!(
                    text,
                    "{}\t{scope}\t{permissions}\t{}\t{expires}",
                    t.name, t.created_at
                );
            }
            out.write_all(text.as_bytes())
        }
        TokenCommand::Revoke { name } => {
            match &shared {
                Some(store) => store.remove(&name),
                None => tokens::revoke(data_dir, &name),
            }
            .map_err(failed)?;
            writeln!(out, "revoked token `{name}`")
        }
    };
    written.map_err(RunedError::Output)
}

#[cfg(test)]
mod tests {
    use super::RunedError;

    /// Every failure of `runed` with its exit code: the whole table.
    #[test]
    fn exit_codes() {
        let args = |kind| RunedError::Args(clap::Error::new(kind));
        let output = |kind| RunedError::Output(std::io::Error::from(kind));
        let cases = [
            (args(clap::error::ErrorKind::DisplayHelp), 0),
            (args(clap::error::ErrorKind::DisplayVersion), 0),
            (args(clap::error::ErrorKind::UnknownArgument), 2),
            (RunedError::Config("report".into()), 6),
            (RunedError::Failed("failure".into()), 1),
            (output(std::io::ErrorKind::BrokenPipe), 0),
            (output(std::io::ErrorKind::StorageFull), 1),
        ];
        for (error, code) in cases {
            assert_eq!(error.exit_code(), code, "{error:?}");
        }
    }
}
