//! Every way a command can fail, and the one place that maps them to exit codes (SPEC §3.1).

use crate::parse::InputError;

/// The exit codes of SPEC §3.1.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[repr(u8)]
pub enum ExitCode {
    Success = 0,
    ChangesPending = 1,
    Usage = 2,
    Auth = 3,
    NotFound = 4,
    Conflict = 5,
    Validation = 6,
    Timeout = 7,
    Unreachable = 8,
    Other = 9,
}

/// A failure of a command; its [`CliError::exit_code`] is the process's exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("cannot write the output: {0}")]
    Output(#[source] std::io::Error),
    #[error("{0}")]
    Usage(String),
}

impl CliError {
    #[must_use]
    pub fn exit_code(&self) -> ExitCode {
        match self {
            CliError::Input(InputError::Io { .. }) | CliError::Output(_) => ExitCode::Unreachable,
            CliError::Input(_) | CliError::Usage(_) => ExitCode::Usage,
        }
    }
}
