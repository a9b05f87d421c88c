//! runed over HTTPS (SPEC §4.1 `server.tls`): the certificate chain and private key from PEM files,
//! a rustls configuration on the `ring` provider (TLS 1.2 and 1.3, HTTP/1.1), and a connection
//! loop that serves the same axum router as the plain listener, with the same graceful shutdown.
//!
//! In: the paths of `server.tls` and a bound listener. Out: a [`TlsAcceptor`] (or a [`TlsError`]
//! naming the file at fault) and served connections. Must not happen here: key material in an
//! error or a log line; the key file's bytes are zeroized once parsed.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use zeroize::Zeroizing;

use crate::server::log;
use crate::server_config::TlsConfig;

/// How long a client may take to finish the TLS handshake before its connection is dropped; it
/// also bounds how long a half-open handshake can delay shutdown.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the TLS files could not be turned into a server configuration. Messages name the file;
/// none carries key material.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the TLS {what} file `{}`: {source}", path.display())]
    Read {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the TLS {what} file `{}` is not valid PEM: {detail}", path.display())]
    Pem {
        what: &'static str,
        path: PathBuf,
        detail: String,
    },
    #[error("the TLS certificate file `{}` holds no PEM certificate (`-----BEGIN CERTIFICATE-----`)", path.display())]
    NoCertificate { path: PathBuf },
    #[error(
        "the TLS key file `{}` holds no PEM private key (PKCS#8 `BEGIN PRIVATE KEY`, PKCS#1 `BEGIN RSA PRIVATE KEY` or SEC1 `BEGIN EC PRIVATE KEY`)",
        path.display()
    )]
    NoKey { path: PathBuf },
    #[error("the TLS key `{}` does not belong to the certificate `{}`", key.display(), cert.display())]
    KeyMismatch { cert: PathBuf, key: PathBuf },
    #[error("the TLS certificate `{}` and key `{}` cannot be used: {source}", cert.display(), key.display())]
    Config {
        cert: PathBuf,
        key: PathBuf,
        #[source]
        source: rustls::Error,
    },
}

/// Reads the certificate chain and key named by `config` and builds the acceptor.
pub fn acceptor(config: &TlsConfig) -> Result<TlsAcceptor, TlsError> {
    let certs = certificates(&config.cert_file)?;
    let key = private_key(&config.key_file)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut server = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .and_then(|builder| builder.with_no_client_auth().with_single_cert(certs, key))
        .map_err(|source| match source {
            rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch) => {
                TlsError::KeyMismatch {
                    cert: config.cert_file.clone(),
                    key: config.key_file.clone(),
                }
            }
            source => TlsError::Config {
                cert: config.cert_file.clone(),
                key: config.key_file.clone(),
                source,
            },
        })?;
    server.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(server)))
}

fn read(what: &'static str, path: &Path) -> Result<Zeroizing<Vec<u8>>, TlsError> {
    std::fs::read(path)
        .map(Zeroizing::new)
        .map_err(|source| TlsError::Read {
            what,
            path: path.to_owned(),
            source,
        })
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let text = read("certificate", path)?;
    let certs = CertificateDer::pem_slice_iter(&text)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Pem {
            what: "certificate",
            path: path.to_owned(),
            detail: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.to_owned(),
        });
    }
    Ok(certs)
}

fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let text = read("key", path)?;
    PrivateKeyDer::from_pem_slice(&text).map_err(|e| match e {
        pem::Error::NoItemsFound => TlsError::NoKey {
            path: path.to_owned(),
        },
        other => TlsError::Pem {
            what: "key",
            path: path.to_owned(),
            detail: other.to_string(),
        },
    })
}

/// Serves `app` over TLS on `listener` until `shutdown` completes, then stops accepting and waits
/// for the requests in flight (idle keep-alive connections and unfinished handshakes close at
/// once).
pub async fn serve(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    app: Router,
    shutdown: impl Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    // Tells connections still in their handshake (not yet watched by `graceful`) to give up.
    let (stopping, _) = tokio::sync::watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                if !is_connection_error(&error) {
                    // Out of file descriptors and the like: back off instead of spinning.
                    log::error(&format!("cannot accept a connection: {error}"));
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                continue;
            }
        };
        tokio::spawn(connection(
            stream,
            peer,
            acceptor.clone(),
            app.clone(),
            graceful.watcher(),
            stopping.subscribe(),
        ));
    }
    drop(listener);
    let _ = stopping.send(());
    graceful.shutdown().await;
}

/// One client: the handshake (a failure is logged, never fatal), then HTTP/1.1 on the stream.
async fn connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    acceptor: TlsAcceptor,
    app: Router,
    watcher: hyper_util::server::graceful::Watcher,
    mut stopping: tokio::sync::watch::Receiver<()>,
) {
    let handshake = tokio::select! {
        handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)) => handshake,
        _ = stopping.changed() => return,
    };
    let tls = match handshake {
        Ok(Ok(tls)) => tls,
        Ok(Err(error)) => {
            log::warn(&format!("TLS handshake with {peer} failed: {error}"));
            return;
        }
        Err(_) => {
            log::warn(&format!(
                "TLS handshake with {peer} timed out after {}s",
                HANDSHAKE_TIMEOUT.as_secs()
            ));
            return;
        }
    };
    let connection = hyper::server::conn::http1::Builder::new()
        // A timer turns on hyper's header read timeout against clients that never finish a request.
        .timer(TokioTimer::new())
        .serve_connection(TokioIo::new(tls), TowerToHyperService::new(app));
    if let Err(error) = watcher.watch(connection).await
        && !error.is_incomplete_message()
    {
        log::warn(&format!(
            "connection with {peer} ended with an error: {error}"
        ));
    }
}

fn is_connection_error(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}
