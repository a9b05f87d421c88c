//! Every way a command can fail, and the one place that maps them to exit codes (SPEC §3.1).

use crate::cli::contexts::ConfigError;
use crate::client::ClientError;
use crate::edit::seal_in_place::RewriteError;
use crate::git::RepoError;
use crate::git::hook::HookError;
use crate::parse::InputError;
use crate::plan::desired::DesiredError;
use crate::secrets::{KeyFileError, SealError};

pub use crate::wire::error::ExitCode;

/// A failure of a command; its [`CliError::exit_code`] is the process's exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Desired(#[from] DesiredError),
    #[error(transparent)]
    Hook(#[from] HookError),
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("cannot write the output: {0}")]
    Output(#[source] std::io::Error),
    /// Input that breaks a rule of SPEC §2.3 (a name, a data key), given on the command line.
    #[error("{0}")]
    Invalid(String),
    /// A key or recipients file named by a flag or the environment that cannot be used.
    #[error(transparent)]
    KeyFile(#[from] KeyFileError),
    /// A failure with no better code (a server that answers nonsense).
    #[error("{0}")]
    Other(String),
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    Rewrite(#[from] RewriteError),
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error("{0}")]
    Usage(String),
    /// Findings were printed already; the run failed validation.
    #[error("validation failed")]
    Validation,
    #[error("cannot write `{path}`: {source}")]
    Write {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl CliError {
    #[must_use]
    pub fn exit_code(&self) -> ExitCode {
        match self {
            CliError::Client(error) => error.exit_code(),
            CliError::Desired(DesiredError::File { .. })
            | CliError::Input(InputError::Io { .. })
            | CliError::Config(ConfigError::Io { .. })
            | CliError::Hook(HookError::Io { .. })
            | CliError::Repo(RepoError::Git { .. })
            | CliError::Output(_)
            | CliError::Write { .. } => ExitCode::Unreachable,
            CliError::Hook(_) => ExitCode::Conflict,
            CliError::Desired(_)
            | CliError::Invalid(_)
            | CliError::Seal(SealError::Empty(_))
            | CliError::Rewrite(RewriteError::Seal(SealError::Empty(_)))
            | CliError::Validation => ExitCode::Validation,
            CliError::Config(_)
            | CliError::Input(_)
            | CliError::KeyFile(_)
            | CliError::Repo(_)
            | CliError::Seal(SealError::NoRecipients)
            | CliError::Rewrite(RewriteError::Seal(SealError::NoRecipients))
            | CliError::Usage(_) => ExitCode::Usage,
            CliError::Rewrite(RewriteError::NoSuchSecret { .. }) => ExitCode::NotFound,
            CliError::Other(_)
            | CliError::Rewrite(
                RewriteError::Seal(SealError::Encrypt(_))
                | RewriteError::Unsupported { .. }
                | RewriteError::Unsafe { .. },
            )
            | CliError::Seal(SealError::Encrypt(_)) => ExitCode::Other,
        }
    }
}
