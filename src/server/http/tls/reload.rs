//! The TLS configuration in force, and its reload on SIGHUP (SPEC §4.1) or when the files change
//! on disk: a renewed certificate, key or client CA is read without a restart, so open
//! connections and in-flight requests (casts among them) go on undisturbed. Each handshake takes
//! the configuration current at that moment; a connection keeps the one it started with.
//!
//! In: the `server.tls` paths, SIGHUP and the files' metadata. Out: the [`TlsAcceptor`] for each new connection, and
//! log lines saying which certificate (by fingerprint) is in force. A file that cannot be used is
//! logged and the old configuration kept: a bad renewal never takes the server down.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use tokio_rustls::TlsAcceptor;

use crate::server::http::tls::{self, TlsError};
use crate::server::log;
use crate::server_config::TlsConfig;

/// The TLS files and the configuration last built from them.
pub struct Certificates {
    current: RwLock<Arc<rustls::ServerConfig>>,
    files: TlsConfig,
    /// The files' metadata when they were last read (successfully or not), so that the watcher
    /// does not read again what SIGHUP already read.
    read: Mutex<[Stamp; 3]>,
}

impl Certificates {
    /// Reads the files once; at start an unusable file refuses the start.
    pub fn load(files: &TlsConfig) -> Result<Self, TlsError> {
        let read = stamps(files);
        let loaded = tls::load(files)?;
        announce("serving TLS certificate", files, &loaded.fingerprint);
        Ok(Self {
            current: RwLock::new(loaded.config),
            files: files.clone(),
            read: Mutex::new(read),
        })
    }

    /// The acceptor of the configuration in force now.
    pub fn acceptor(&self) -> TlsAcceptor {
        let current = self.current.read().unwrap_or_else(PoisonError::into_inner);
        TlsAcceptor::from(Arc::clone(&current))
    }

    /// Reads the files again; only a configuration that builds completely replaces the old one.
    pub fn reload(&self) {
        *self.read.lock().unwrap_or_else(PoisonError::into_inner) = stamps(&self.files);
        match tls::load(&self.files) {
            Ok(loaded) => {
                *self.current.write().unwrap_or_else(PoisonError::into_inner) = loaded.config;
                announce("reloaded TLS certificate", &self.files, &loaded.fingerprint);
            }
            Err(error) => log::error(&format!(
                "TLS reload failed, keeping the previous certificate, key and client CA: {error}"
            )),
        }
    }
}

fn announce(what: &str, files: &TlsConfig, fingerprint: &str) {
    let mtls = match &files.client_ca_file {
        Some(path) => format!(
            "; client certificates required (CA file {})",
            path.display()
        ),
        None => String::new(),
    };
    log::info(&format!(
        "{what} {} (sha256 {fingerprint}){mtls}",
        files.cert_file.display()
    ));
}

/// Reloads `certificates` on every SIGHUP until the process ends. The handler is installed before
/// this returns its future, so a SIGHUP right after start never falls to the default action
/// (termination). Without TLS there is nothing to reload; the signal is still taken, and said.
#[cfg(unix)]
pub fn on_hangup(
    certificates: Option<Arc<Certificates>>,
) -> std::io::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hangups = signal(SignalKind::hangup())?;
    Ok(async move {
        while hangups.recv().await.is_some() {
            match &certificates {
                Some(certificates) => certificates.reload(),
                None => log::info("SIGHUP: no TLS configured, nothing to reload"),
            }
        }
    })
}

#[cfg(not(unix))]
pub fn on_hangup(
    _certificates: Option<Arc<Certificates>>,
) -> std::io::Result<impl Future<Output = ()>> {
    Ok(std::future::pending::<()>())
}

/// How often the files' metadata is looked at. A change is acted on once it has held for one
/// whole interval, so a renewal that writes the certificate and the key one after the other is
/// read once, complete.
pub const WATCH_INTERVAL: Duration = Duration::from_secs(2);

/// What identifies one version of a file: a renewal that renames a new file in changes the
/// inode even within one tick of the file clock.
type Stamp = Option<(u64, u64, Option<SystemTime>)>;

fn stamp(path: &Path) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let inode = 0;
    Some((inode, meta.len(), meta.modified().ok()))
}

fn stamps(files: &TlsConfig) -> [Stamp; 3] {
    [
        stamp(&files.cert_file),
        stamp(&files.key_file),
        files.client_ca_file.as_deref().and_then(stamp),
    ]
}

/// Reloads `certificates` when one of its files changes, until the process ends.
pub async fn watch(certificates: Arc<Certificates>) {
    let mut pending = None;
    loop {
        tokio::time::sleep(WATCH_INTERVAL).await;
        let now = stamps(&certificates.files);
        let read = *certificates
            .read
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if now == read {
            pending = None;
        } else if pending == Some(now) {
            log::info("the TLS files changed on disk: reloading them");
            certificates.reload();
            pending = None;
        } else {
            pending = Some(now);
        }
    }
}
