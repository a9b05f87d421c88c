//! `rune login` and `rune config …`: the contexts in the config file (mode 0600, tokens masked
//! when printed). `rune login` saves a context only once its server has answered a request that
//! needs the token (unless `--no-verify`). TLS files given with `--ca-file`, `--client-cert` and `--client-key` are saved
//! as absolute paths, so the context works from any directory.

use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::cli::args::{ConfigCommand, GlobalArgs, LoginArgs};
use crate::cli::contexts::{self, ConfigError, ConfigFile, Context};
use crate::cli::error::{CliError, ExitCode};
use crate::cli::output;
use crate::cli::target;
use crate::secrets::Secret;

pub fn login(args: &LoginArgs, global: &GlobalArgs) -> Result<ExitCode, CliError> {
    let Some(server) = global.server.clone() else {
        return Err(CliError::Usage(
            "`rune login` needs `--server URL`".to_owned(),
        ));
    };
    target::check_url(&server)?;
    let (token, source) = if args.token_stdin {
        (Some(read_token()?), "`--token-stdin`")
    } else if global.token_from_env {
        (global.token.clone(), "`RUNE_TOKEN`")
    } else {
        (global.token.clone(), "`--token`")
    };
    let path = contexts::path()?;
    let mut config = ConfigFile::load(&path)?;
    let mut context = Context {
        name: args.name.clone(),
        namespace: global.namespace.clone(),
        server,
        token,
        ..Context::default()
    };
    set_tls_files(&mut context, global)?;
    // Nothing is saved for a server that does not answer or a token it refuses.
    if !args.no_verify {
        target::verify(&context, source)?;
    }
    config.contexts.retain(|c| c.name != args.name);
    config.contexts.push(context);
    config.current_context = Some(args.name.clone());
    config.save(&path)?;
    say(&format!(
        "context `{}` saved in {} and made current\n",
        args.name,
        path.display()
    ))
}

pub fn run(command: &ConfigCommand, global: &GlobalArgs) -> Result<ExitCode, CliError> {
    let path = contexts::path()?;
    let mut config = ConfigFile::load(&path)?;
    match command {
        ConfigCommand::View => {
            let mut shown = config.clone();
            for context in &mut shown.contexts {
                if context.token.is_some() {
                    context.token = Some(Secret::new("<redacted>".to_owned()));
                }
            }
            let text =
                serde_saphyr::to_string(&shown).map_err(|e| CliError::Usage(e.to_string()))?;
            return say(&text);
        }
        ConfigCommand::CurrentContext => {
            return match &config.current_context {
                Some(name) => say(&format!("{name}\n")),
                None => Err(ConfigError::NoCurrentContext.into()),
            };
        }
        ConfigCommand::GetContexts => return say(&contexts_table(&config)),
        ConfigCommand::UseContext { name } => {
            config.context(Some(name))?;
            config.current_context = Some(name.clone());
        }
        ConfigCommand::DeleteContext { name } => {
            let before = config.contexts.len();
            config.contexts.retain(|c| &c.name != name);
            if config.contexts.len() == before {
                return Err(ConfigError::UnknownContext(name.clone()).into());
            }
            if config.current_context.as_ref() == Some(name) {
                config.current_context = None;
            }
        }
        ConfigCommand::SetContext { name, token_stdin } => {
            let token = if *token_stdin {
                Some(read_token()?)
            } else {
                global.token.clone()
            };
            match config.contexts.iter_mut().find(|c| &c.name == name) {
                Some(context) => {
                    if let Some(server) = &global.server {
                        target::check_url(server)?;
                        context.server.clone_from(server);
                    }
                    if global.namespace.is_some() {
                        context.namespace.clone_from(&global.namespace);
                    }
                    if token.is_some() {
                        context.token = token;
                    }
                    set_tls_files(context, global)?;
                }
                None => {
                    let Some(server) = global.server.clone() else {
                        return Err(CliError::Usage(format!(
                            "a new context needs `--server URL` (`{name}` does not exist)"
                        )));
                    };
                    target::check_url(&server)?;
                    let mut context = Context {
                        name: name.clone(),
                        namespace: global.namespace.clone(),
                        server,
                        token,
                        ..Context::default()
                    };
                    set_tls_files(&mut context, global)?;
                    config.contexts.push(context);
                }
            }
        }
    }
    config.save(&path)?;
    say(&format!("updated {}\n", path.display()))
}

/// `CURRENT NAME SERVER NAMESPACE`, as `kubectl config get-contexts` prints them.
fn contexts_table(config: &ConfigFile) -> String {
    let rows: Vec<[String; 4]> = config
        .contexts
        .iter()
        .map(|c| {
            let current = config.current_context.as_ref() == Some(&c.name);
            [
                if current { "*" } else { "" }.to_owned(),
                c.name.clone(),
                c.server.clone(),
                c.namespace.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let header = ["CURRENT", "NAME", "SERVER", "NAMESPACE"].map(str::to_owned);
    let mut widths = header.each_ref().map(String::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    std::iter::once(&header)
        .chain(&rows)
        .map(|row| {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                if i + 1 == row.len() {
                    line.push_str(cell);
                } else {
                    let _ = write!(line, "{cell:<width$}   ", width = widths[i]);
                }
            }
            line.trim_end().to_owned() + "\n"
        })
        .collect()
}

/// Sets the TLS files the flags name (and only those) on `context`.
fn set_tls_files(context: &mut Context, global: &GlobalArgs) -> Result<(), CliError> {
    if let Some(file) = &global.ca_file {
        context.ca_file = Some(absolute("CA", file)?);
    }
    if let Some(file) = &global.client_cert {
        context.client_cert = Some(absolute("client certificate", file)?);
    }
    if let Some(file) = &global.client_key {
        context.client_key = Some(absolute("client key", file)?);
    }
    Ok(())
}

fn absolute(what: &str, file: &Path) -> Result<PathBuf, CliError> {
    std::fs::canonicalize(file).map_err(|e| {
        CliError::Usage(format!(
            "cannot use the {what} file `{}`: {e}",
            file.display()
        ))
    })
}

fn read_token() -> Result<Secret<String>, CliError> {
    let mut read = Secret::new(String::new());
    std::io::stdin()
        .read_to_string(read.expose_mut())
        .map_err(|e| CliError::Usage(format!("cannot read the token from standard input: {e}")))?;
    let token = Secret::new(read.expose().trim().to_owned());
    if token.expose().is_empty() {
        return Err(CliError::Usage("standard input held no token".to_owned()));
    }
    Ok(token)
}

fn say(text: &str) -> Result<ExitCode, CliError> {
    output::print(text)?;
    Ok(ExitCode::Success)
}
