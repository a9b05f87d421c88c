//! The `runed` command line: serve (the default) or manage tokens. Thin: arguments become a
//! [`ServerConfig`], then [`crate::server::http::daemon::run`] or the token functions do the
//! work.

use std::fmt::Write as _;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::diag::render::human::Style;
use crate::server::http::daemon;
use crate::server::tokens;
use crate::server_config::{KekSource, ServerConfig, TlsConfig};
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
    /// The server runefile (SPEC §4.1); flags override it
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
    /// The PEM private key (PKCS#8, PKCS#1 or SEC1) for --tls-cert
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Internal: launch one service instance from the launch runed pipes to standard input
    #[command(name = "__instance", hide = true)]
    Instance,
    /// Manage bearer tokens (works while runed is running)
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it once; only its hash is stored
    Create {
        /// A name for the token (DNS-1123)
        name: String,
        /// Limit the token to a namespace (repeatable); without it the token may do anything
        #[arg(long = "namespace", short = 'n', value_name = "NS")]
        namespaces: Vec<String>,
    },
    /// List tokens (names, scopes and creation times; never the tokens)
    List,
    /// Revoke a token; requests carrying it fail from then on
    Revoke { name: String },
}

/// Runs `runed` and returns the process exit code.
pub fn run() -> u8 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() { 2 } else { 0 };
        }
    };
    if matches!(cli.command, Some(Command::Instance)) {
        return crate::server::runner::launch::main();
    }
    let config = match config(&cli.serve) {
        Ok(config) => config,
        Err(message) => {
            let _ = write!(std::io::stderr(), "{message}");
            return 6;
        }
    };
    let result = match cli.command {
        None => daemon::run(&config).map_err(|e| e.to_string()),
        Some(Command::Token(command)) => token(command, &daemon::data_dir(&config)),
        Some(Command::Instance) => unreachable!("the launcher returned above"),
    };
    match result {
        Ok(()) => 0,
        Err(message) => {
            let _ = writeln!(std::io::stderr(), "runed: error: {message}");
            1
        }
    }
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

fn token(command: TokenCommand, data_dir: &std::path::Path) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    let written = match command {
        TokenCommand::Create { name, namespaces } => {
            let (token, info) =
                tokens::create(data_dir, &name, namespaces).map_err(|e| e.to_string())?;
            let scope = if info.namespaces.is_empty() {
                "all namespaces".to_owned()
            } else {
                info.namespaces.join(", ")
            };
            let _ = writeln!(
                std::io::stderr(),
                "created token `{}` for {scope}; it is shown once — store it now",
                info.name
            );
            writeln!(out, "{token}")
        }
        TokenCommand::List => {
            let all = tokens::list(data_dir).map_err(|e| e.to_string())?;
            let mut text = String::from("NAME\tNAMESPACES\tCREATED\n");
            for t in all {
                let scope = if t.namespaces.is_empty() {
                    "*".to_owned()
                } else {
                    t.namespaces.join(",")
                };
                let _ = writeln!(text, "{}\t{scope}\t{}", t.name, t.created_at);
            }
            out.write_all(text.as_bytes())
        }
        TokenCommand::Revoke { name } => {
            tokens::revoke(data_dir, &name).map_err(|e| e.to_string())?;
            writeln!(out, "revoked token `{name}`")
        }
    };
    written.map_err(|e| format!("cannot write the output: {e}"))
}
