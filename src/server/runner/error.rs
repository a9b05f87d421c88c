//! Why a call of the [`Runner`](crate::server::runner::Runner) failed. The HTTP layer maps each
//! variant to one status and code; messages name services, instances and reasons, never a value.

use crate::server::engine::EngineError;

/// Why a runner call failed.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("cannot read the log of instance {instance}: {source}")]
    Log {
        instance: u32,
        #[source]
        source: std::io::Error,
    },
    #[error("service `{namespace}/{name}` has no instance {instance} (scale {scale})")]
    NoInstance {
        instance: u32,
        name: String,
        namespace: String,
        scale: u32,
    },
    #[error("service `{namespace}/{name}` is not run by runed: {reason}")]
    NotRunnable {
        name: String,
        namespace: String,
        reason: String,
    },
    #[error("instance {instance} of `{namespace}/{name}` did not start: {reason}")]
    RolloutFailed {
        instance: u32,
        name: String,
        namespace: String,
        reason: String,
    },
    #[error(
        "the rolling restart of `{namespace}/{name}` did not finish within {seconds}s; it goes on in the background"
    )]
    Timeout {
        name: String,
        namespace: String,
        seconds: u64,
    },
}
