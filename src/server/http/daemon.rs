//! Running `runed`: configuration → (TLS files) → KEK → engine → listener → process runner →
//! API, until SIGINT or SIGTERM; then in-flight requests finish and every instance is stopped.
//! SIGHUP, or a change of the files on disk, reloads the TLS files ([`tls::reload`]) without
//! stopping anything.
//!
//! In: a validated [`ServerConfig`]. Out: a server that answers until a shutdown signal, log
//! lines about what it loaded and where it listens, or a [`DaemonError`] when it cannot start.
//! Must not happen here: key material or a token in a log line (the KEK is named by its id and
//! origin only).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use crate::server::engine::{Engine, EngineError, Settings};
use crate::server::http::ApiState;
use crate::server::http::auth::AuthMode;
use crate::server::http::conn;
use crate::server::http::router;
use crate::server::http::throttle::Throttle;
use crate::server::http::tls::{self, Certificates, TlsError};
use crate::server::kek::{self, KekError};
use crate::server::log;
use crate::server::runner::Runner;
use crate::server::tokens::Tokens;
use crate::server_config::ServerConfig;

/// The largest request body accepted: a batch of many objects at the largest allowed sizes.
pub const DEFAULT_BODY_LIMIT: usize = 256 * 1024 * 1024;

/// Where runed keeps its state when neither the config nor `--data-dir` says.
pub const DEFAULT_DATA_DIR: &str = "/var/lib/rune";

/// Why runed could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    Kek(#[from] KekError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Backend(#[from] crate::server::backend::BackendError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    #[error("the server failed: {0}")]
    Serve(#[source] std::io::Error),
    #[error(transparent)]
    Tls(#[from] TlsError),
}

/// The data directory a configuration names.
pub fn data_dir(config: &ServerConfig) -> PathBuf {
    config
        .data_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR))
}

/// Starts runed and serves until a shutdown signal; in-flight requests finish first.
pub fn run(config: &ServerConfig) -> Result<(), DaemonError> {
    // Unusable certificate files refuse the start before anything is created on disk.
    let certificates = config
        .tls
        .as_ref()
        .map(Certificates::load)
        .transpose()?
        .map(Arc::new);
    let data_dir = data_dir(config);
    crate::server::kek_mode::check(&config.kek, &data_dir)?;
    let loaded = kek::load(&config.kek, &data_dir)?;
    if loaded.generated {
        log::warn(&format!(
            "generated a new KEK at {}: back it up — losing it loses every secret",
            loaded.origin.trim_start_matches("file ")
        ));
    }
    log::info(&format!(
        "KEK {} loaded from {}",
        loaded.kek.id(),
        loaded.origin
    ));
    let settings = Settings {
        audit_retention: config.audit_retention,
        limits: config.limits,
        versions_kept: config.versions_kept,
    };
    let keys = crate::server::keyring::for_start(loaded.kek, &config.previous_keks, &data_dir)?;
    let opened = crate::server::backend::open(config, &data_dir)?;
    let tokens = if opened.shared {
        Tokens::shared(opened.tokens)
    } else {
        Tokens::new(&data_dir)
    };
    let engine = Arc::new(Engine::with_store_keys(opened.store, keys, settings)?);
    crate::server::keyring::announce_removable(&engine.kek_status()?);
    log::info(&format!("store opened: {}", opened.description));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(DaemonError::Runtime)?;
    let shared = opened.postgres;
    runtime.block_on(serve(
        config,
        engine,
        tokens,
        shared,
        &data_dir,
        certificates,
    ))
}

async fn serve(
    config: &ServerConfig,
    engine: Arc<Engine>,
    tokens: Tokens,
    shared: Option<crate::server::store::postgres::PgStore>,
    data_dir: &std::path::Path,
    certificates: Option<Arc<Certificates>>,
) -> Result<(), DaemonError> {
    // Before the first log line a test or a supervisor could react to: from here on SIGHUP
    // reloads instead of ending the process.
    let hangups = tls::reload::on_hangup(certificates.clone()).map_err(DaemonError::Serve)?;
    tokio::spawn(hangups);
    if let Some(certificates) = &certificates {
        tokio::spawn(tls::reload::watch(Arc::clone(certificates)));
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| DaemonError::Listen {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(DaemonError::Serve)?;
    let runner = Runner::new(Arc::clone(&engine), data_dir, config.uid_range).await;
    let state = Arc::new(ApiState {
        auth_mode: AuthMode::new(data_dir.to_path_buf(), &engine),
        auth_required: config.auth_required,
        engine,
        runner: Arc::clone(&runner),
        loopback: addr.ip().is_loopback(),
        throttle: Throttle::new(),
        tokens,
    });
    let open_mode = open_mode_gate(&state);
    let name = replica_name(addr);
    match shared {
        // Replicas of one database: only the holder of the runner lock runs services.
        Some(store) => {
            let leadership = runner_lock(&store, &runner, name.clone());
            let holder = Arc::clone(&leadership);
            runner.set_placement(crate::server::runner::Placement {
                name,
                holder: Box::new(move || holder.holder()),
            });
            runner.set_gate(Box::new(move || leadership.gate().or_else(&open_mode)));
        }
        None => {
            let holder = name.clone();
            runner.set_placement(crate::server::runner::Placement {
                name,
                holder: Box::new(move || Some(holder.clone())),
            });
            runner.set_gate(open_mode);
        }
    }
    tokio::spawn(Arc::clone(&runner).publish_loop());
    announce_auth(&state);
    // Declared services come back when runed starts.
    runner.reconcile().await;
    let app = router::router(state, DEFAULT_BODY_LIMIT);
    let shutdown = shutdown_signal();
    let served = match certificates {
        Some(certificates) => {
            log::info(&format!("listening on https://{addr}"));
            let timeouts = config.read_timeouts;
            tls::serve(listener, certificates, app, timeouts, shutdown).await;
            Ok(())
        }
        None => {
            log::info(&format!("listening on http://{addr}"));
            // Not `axum::serve`: it sets no header read timeout (issue #12).
            conn::serve_plain(listener, app, config.read_timeouts, shutdown).await;
            Ok(())
        }
    };
    runner.shutdown().await;
    log::info("stopped");
    served
}

/// Why `process:` services are refused in open mode (SPEC §4.4).
pub const OPEN_MODE_REASON: &str = "`process:` services are refused while runed serves without authentication (open mode: no token exists and the listener is loopback); create one with `runed token create`";

/// The runner's [`Gate`](crate::server::runner::Gate): in open mode anyone who can reach the
/// loopback port could run commands as a service, so `process:` services wait for a token.
/// Contends for the runner lock of a shared database; taking or losing it wakes the services.
fn runner_lock(
    store: &crate::server::store::postgres::PgStore,
    runner: &Arc<Runner>,
    name: String,
) -> Arc<crate::server::leader::Leadership> {
    let runner = Arc::clone(runner);
    let handle = tokio::runtime::Handle::current();
    crate::server::leader::Leadership::start(store, name, move |leader| {
        let runner = Arc::clone(&runner);
        handle.spawn(async move {
            if leader {
                runner.reconcile().await;
                runner.kick();
            } else {
                // Stop at once: reconciling reads the database, which may be what hangs.
                runner.kick();
            }
        });
    })
}

/// This replica's name in `rune status` (SPEC §4.5): `HOST:PORT (pid N)` — the host name
/// alone is not unique when replicas share a machine, and the pid tells a restarted replica
/// from the one before it.
fn replica_name(addr: SocketAddr) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_default();
    format!("{host}:{} (pid {})", addr.port(), std::process::id())
}

fn open_mode_gate(state: &Arc<ApiState>) -> crate::server::runner::Gate {
    let state = Arc::downgrade(state);
    Box::new(move || {
        let state = state.upgrade()?;
        state.open_mode().then(|| OPEN_MODE_REASON.to_owned())
    })
}

/// Says at start whether runed serves with or without authentication, and why; the change
/// from open to closed is logged where it happens ([`AuthMode::closed`]).
fn announce_auth(state: &ApiState) {
    let tokens = state.tokens.current().unwrap_or_default();
    // Whatever the listener: a token seen now closes this store for good, in the store too.
    let closed = state.auth_mode.closed(&state.tokens, &state.engine);
    if state.open_mode() {
        log::warn(
            "no token exists: serving WITHOUT authentication on this loopback listener until the first `runed token create`; `process:` services are refused until then",
        );
        return;
    }
    if closed {
        // Recorded in the store, where it outlives the token file and the marker.
        state.auth_mode.persist(&state.engine);
    }
    let why = if state.auth_required {
        "`auth.required` is set"
    } else if !state.loopback {
        "the listener is not loopback"
    } else {
        "a token was created for this store (fail closed: revoking every token does not reopen it)"
    };
    log::info(&format!(
        "authentication state: a token is required ({why})"
    ));
    if tokens.is_empty() {
        log::warn(
            "no token exists: every request is refused until one is created with `runed token create`",
        );
    }
    for legacy in tokens.iter().filter(|t| t.permissions.is_none()) {
        log::warn(&format!(
            "token `{}` was created before tokens had permissions: it gets {} (not `admin`); re-create it with `runed token create NAME --permissions …` to give it exactly what it needs",
            legacy.name,
            legacy.permissions()
        ));
    }
}

/// SIGINT or SIGTERM. The handlers are registered here, before `listening on` is logged: a
/// signal sent right after that line must stop runed gracefully, not kill it (the plain
/// listener's loop first polls this future only once it runs).
fn shutdown_signal() -> impl Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let interrupt = signal(SignalKind::interrupt());
    let terminate = signal(SignalKind::terminate());
    async move {
        let wait = |registered: std::io::Result<tokio::signal::unix::Signal>| async move {
            match registered {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            () = wait(interrupt) => {},
            () = wait(terminate) => {},
        }
        log::info("shutting down: finishing in-flight requests");
    }
}
