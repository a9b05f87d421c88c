//! Every way a command can fail, and the one place that maps them to exit codes (SPEC §3.1):
//! [`CliError::exit_code`]. A failure of the state says its wire kind, whose code the wire's
//! `ErrorKind::exit_code` names; every other failure gets its code here and nowhere else.
//! `src/bin/rune.rs` only converts the code.

use std::io::ErrorKind;

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
    /// The arguments do not parse, or ask for `--help`/`--version` (which clap prints itself).
    #[error("{0}")]
    Args(clap::Error),
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
    /// Writing to stdout failed. A reader that closed it early (`rune get … | head -1`) is no
    /// failure: like ripgrep, `rune` then ends quietly with exit 0 (issue #10).
    #[error("cannot write the output: {0}")]
    Output(#[source] std::io::Error),
    /// Input that breaks a rule of SPEC §2.3 (a name, a data key), given on the command line.
    #[error("{0}")]
    Invalid(String),
    /// A key or recipients file named by a flag or the environment that cannot be used.
    #[error(transparent)]
    KeyFile(#[from] KeyFileError),
    /// Something the command line names does not exist (a namespace).
    #[error("{0}")]
    NotFound(String),
    /// A failure with no better code (a server that answers nonsense).
    #[error("{0}")]
    Other(String),
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    Rewrite(#[from] RewriteError),
    #[error(transparent)]
    Seal(#[from] SealError),
    /// Writing findings to stderr, or reading an answer at the terminal, failed. Unlike stdout,
    /// a closed stderr is a failure: the findings it should have carried were lost.
    #[error("cannot write the output: {0}")]
    Terminal(#[source] std::io::Error),
    #[error("{0}")]
    Usage(String),
    /// Findings were printed already; the run failed validation.
    #[error("validation failed")]
    Validation,
    /// The server rejected the batch, and its findings were printed already as diagnostics
    /// (this only counts them); the exit code is that of the server's answer.
    #[error(
        "the server rejected the input: {findings} finding{} above",
        if *findings == 1 { "" } else { "s" }
    )]
    Rejected { error: ClientError, findings: usize },
    #[error("cannot write `{path}`: {source}")]
    Write {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl CliError {
    /// The exit code of this failure: the one table of SPEC §3.1 for `rune`.
    #[must_use]
    pub fn exit_code(&self) -> ExitCode {
        match self {
            CliError::Args(error) if !error.use_stderr() => ExitCode::Success,
            CliError::Output(error) if error.kind() == ErrorKind::BrokenPipe => ExitCode::Success,
            CliError::Client(error) | CliError::Rejected { error, .. } => error.kind().exit_code(),
            CliError::Desired(DesiredError::File { .. })
            | CliError::Input(InputError::Io { .. })
            | CliError::Config(ConfigError::Io { .. })
            | CliError::Hook(HookError::Io { .. })
            | CliError::Repo(RepoError::Git { .. })
            | CliError::Output(_)
            | CliError::Terminal(_)
            | CliError::Write { .. } => ExitCode::Unreachable,
            CliError::Hook(_) => ExitCode::Conflict,
            CliError::Desired(_)
            | CliError::Invalid(_)
            | CliError::Seal(SealError::Empty(_))
            | CliError::Rewrite(RewriteError::Seal(SealError::Empty(_)))
            | CliError::Validation => ExitCode::Validation,
            CliError::Args(_)
            | CliError::Config(_)
            | CliError::Input(_)
            | CliError::KeyFile(_)
            | CliError::Repo(_)
            | CliError::Seal(SealError::NoRecipients)
            | CliError::Rewrite(RewriteError::Seal(SealError::NoRecipients))
            | CliError::Usage(_) => ExitCode::Usage,
            CliError::NotFound(_) | CliError::Rewrite(RewriteError::NoSuchSecret { .. }) => {
                ExitCode::NotFound
            }
            CliError::Other(_)
            | CliError::Rewrite(
                RewriteError::Seal(SealError::Encrypt(_))
                | RewriteError::Unsupported { .. }
                | RewriteError::Unsafe { .. },
            )
            | CliError::Seal(SealError::Encrypt(_)) => ExitCode::Other,
        }
    }

    /// A stable, machine-readable code for `-o json`: the server's own code for a failure it
    /// reported (`in_use`, `already_exists`, …), else one per exit code.
    #[must_use]
    pub fn code(&self) -> String {
        if let CliError::Client(ClientError::Api(error)) = self {
            return error.code.clone();
        }
        match self.exit_code() {
            ExitCode::Success | ExitCode::ChangesPending | ExitCode::Other => "internal",
            ExitCode::Usage => "usage",
            ExitCode::Auth => "unauthenticated",
            ExitCode::NotFound => "not_found",
            ExitCode::Conflict => "conflict",
            ExitCode::Validation => "invalid",
            ExitCode::Timeout => "timeout",
            ExitCode::Unreachable => "unavailable",
            ExitCode::Interrupted => "interrupted",
        }
        .to_owned()
    }

    /// The failure as `-o json` prints it on stdout (`schemas/error-output.schema.json`).
    #[must_use]
    pub fn to_json(&self) -> serde_json::Value {
        // clap's message is the whole report (`error: …`, usage, a hint): its first paragraph
        // says what is wrong.
        let message = match self {
            CliError::Args(error) => {
                let text = error.render().to_string();
                let first = text.split("\n\n").next().unwrap_or_default();
                let first = first.strip_prefix("error: ").unwrap_or(first);
                first.split_whitespace().collect::<Vec<_>>().join(" ")
            }
            other => other.to_string(),
        };
        serde_json::json!({
            "error": {
                "code": self.code(),
                "message": message,
                "exitCode": self.exit_code() as u8,
            }
        })
    }

    /// Whether the failure goes without an `error:` line: its findings were printed already,
    /// or nobody reads stdout any more.
    #[must_use]
    pub fn is_silent(&self) -> bool {
        match self {
            CliError::Validation => true,
            CliError::Output(error) => error.kind() == ErrorKind::BrokenPipe,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::path::PathBuf;

    use super::{CliError, ExitCode};
    use crate::cli::contexts::ConfigError;
    use crate::client::ClientError;
    use crate::edit::seal_in_place::RewriteError;
    use crate::git::RepoError;
    use crate::git::hook::HookError;
    use crate::parse::InputError;
    use crate::plan::desired::DesiredError;
    use crate::secrets::{KeyFileError, Place, SealError};
    use crate::wire::error::{ErrorKind, WireError};

    fn io_error(kind: io::ErrorKind) -> io::Error {
        io::Error::from(kind)
    }

    /// Every failure of `rune` with the exit code SPEC §3.1 gives it: the whole table, so a
    /// change to it is a change to these lists.
    #[test]
    fn exit_codes_follow_the_spec() {
        let cases = [args_and_streams(), client(), files_and_input(), sealing()];
        for (error, code) in cases.into_iter().flatten() {
            assert_eq!(error.exit_code(), code, "{error:?}");
        }
    }

    fn args_and_streams() -> Vec<(CliError, ExitCode)> {
        let args = |kind| CliError::Args(clap::Error::new(kind));
        vec![
            (args(clap::error::ErrorKind::DisplayHelp), ExitCode::Success),
            (
                args(clap::error::ErrorKind::DisplayVersion),
                ExitCode::Success,
            ),
            (
                args(clap::error::ErrorKind::UnknownArgument),
                ExitCode::Usage,
            ),
            (
                CliError::Output(io_error(io::ErrorKind::BrokenPipe)),
                ExitCode::Success,
            ),
            (
                CliError::Output(io_error(io::ErrorKind::StorageFull)),
                ExitCode::Unreachable,
            ),
            (
                CliError::Terminal(io_error(io::ErrorKind::BrokenPipe)),
                ExitCode::Unreachable,
            ),
            (CliError::Invalid("i".into()), ExitCode::Validation),
            (CliError::NotFound("n".into()), ExitCode::NotFound),
            (CliError::Other("o".into()), ExitCode::Other),
            (CliError::Usage("u".into()), ExitCode::Usage),
            (CliError::Validation, ExitCode::Validation),
        ]
    }

    fn client() -> Vec<(CliError, ExitCode)> {
        let api = |kind| CliError::Client(ClientError::Api(WireError::new(kind, "code", "m")));
        vec![
            (api(ErrorKind::Auth), ExitCode::Auth),
            (api(ErrorKind::Permission), ExitCode::Auth),
            (api(ErrorKind::RateLimited), ExitCode::Auth),
            (api(ErrorKind::NotFound), ExitCode::NotFound),
            (api(ErrorKind::Conflict), ExitCode::Conflict),
            (api(ErrorKind::Precondition), ExitCode::Conflict),
            (api(ErrorKind::Invalid), ExitCode::Validation),
            (api(ErrorKind::Limit), ExitCode::Validation),
            (api(ErrorKind::Timeout), ExitCode::Timeout),
            (api(ErrorKind::RequestTimeout), ExitCode::Timeout),
            (api(ErrorKind::Unavailable), ExitCode::Unreachable),
            (api(ErrorKind::InsufficientStorage), ExitCode::Unreachable),
            (api(ErrorKind::Internal), ExitCode::Other),
            (
                CliError::Client(ClientError::Timeout { url: "u".into() }),
                ExitCode::Timeout,
            ),
            (
                CliError::Client(ClientError::Unreachable {
                    detail: "d".into(),
                    url: "u".into(),
                }),
                ExitCode::Unreachable,
            ),
            (
                CliError::Client(ClientError::Refused {
                    detail: "d".into(),
                    url: "u".into(),
                }),
                ExitCode::Auth,
            ),
            (
                CliError::Client(ClientError::Local("l".into())),
                ExitCode::Unreachable,
            ),
            (
                CliError::Client(ClientError::Protocol {
                    detail: "d".into(),
                    url: "u".into(),
                }),
                ExitCode::Other,
            ),
            (CliError::Client(ClientError::NoRunner), ExitCode::Other),
            (
                CliError::Rejected {
                    error: ClientError::Api(WireError::new(ErrorKind::Invalid, "c", "m")),
                    findings: 1,
                },
                ExitCode::Validation,
            ),
            (
                CliError::Rejected {
                    error: ClientError::Api(WireError::new(ErrorKind::NotFound, "c", "m")),
                    findings: 1,
                },
                ExitCode::NotFound,
            ),
        ]
    }

    fn files_and_input() -> Vec<(CliError, ExitCode)> {
        let path = PathBuf::from("x");
        let denied = || io_error(io::ErrorKind::PermissionDenied);
        vec![
            (
                CliError::Config(ConfigError::Io {
                    action: "read",
                    path: path.clone(),
                    source: denied(),
                }),
                ExitCode::Unreachable,
            ),
            (
                CliError::Config(ConfigError::UnknownContext("c".into())),
                ExitCode::Usage,
            ),
            (
                CliError::Config(ConfigError::NoCurrentContext),
                ExitCode::Usage,
            ),
            (
                CliError::Desired(DesiredError::File {
                    key: "k".into(),
                    path: "p".into(),
                    resource: "r".into(),
                    source: denied(),
                }),
                ExitCode::Unreachable,
            ),
            (
                CliError::Desired(DesiredError::NotText {
                    key: "k".into(),
                    path: "p".into(),
                    resource: "r".into(),
                }),
                ExitCode::Validation,
            ),
            (
                CliError::Hook(HookError::Io {
                    path: path.clone(),
                    source: denied(),
                }),
                ExitCode::Unreachable,
            ),
            (
                CliError::Hook(HookError::Foreign(path.clone())),
                ExitCode::Conflict,
            ),
            (
                CliError::Input(InputError::Io {
                    path: path.clone(),
                    source: denied(),
                }),
                ExitCode::Unreachable,
            ),
            (
                CliError::Input(InputError::NotFound(path.clone())),
                ExitCode::Usage,
            ),
            (
                CliError::Repo(RepoError::Git {
                    message: "m".into(),
                    what: "w",
                }),
                ExitCode::Unreachable,
            ),
            (
                CliError::Repo(RepoError::Bare(path.clone())),
                ExitCode::Usage,
            ),
            (
                CliError::Write {
                    path,
                    source: denied(),
                },
                ExitCode::Unreachable,
            ),
        ]
    }

    fn sealing() -> Vec<(CliError, ExitCode)> {
        let empty = || SealError::Empty(Place::new("default", "db", "password"));
        vec![
            (
                CliError::KeyFile(KeyFileError::NoIdentity(PathBuf::from("x"))),
                ExitCode::Usage,
            ),
            (
                CliError::Rewrite(RewriteError::NoSuchSecret {
                    file: "f".into(),
                    name: "n".into(),
                    namespace: "ns".into(),
                }),
                ExitCode::NotFound,
            ),
            (CliError::Rewrite(empty().into()), ExitCode::Validation),
            (
                CliError::Rewrite(SealError::NoRecipients.into()),
                ExitCode::Usage,
            ),
            (
                CliError::Rewrite(SealError::Encrypt("e".into()).into()),
                ExitCode::Other,
            ),
            (
                CliError::Rewrite(RewriteError::Unsafe {
                    file: "f".into(),
                    reason: "r".into(),
                }),
                ExitCode::Other,
            ),
            (CliError::Seal(empty()), ExitCode::Validation),
            (CliError::Seal(SealError::NoRecipients), ExitCode::Usage),
            (
                CliError::Seal(SealError::Encrypt("e".into())),
                ExitCode::Other,
            ),
        ]
    }

    /// Only findings already printed and a closed stdout go without an `error:` line.
    #[test]
    fn silent_failures() {
        assert!(CliError::Validation.is_silent());
        assert!(CliError::Output(io_error(io::ErrorKind::BrokenPipe)).is_silent());
        assert!(!CliError::Output(io_error(io::ErrorKind::StorageFull)).is_silent());
        assert!(!CliError::Terminal(io_error(io::ErrorKind::BrokenPipe)).is_silent());
        assert!(!CliError::Usage("u".into()).is_silent());
    }
}
