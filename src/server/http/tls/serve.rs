//! The HTTPS connection loop: accepts TCP connections, completes each TLS handshake with the
//! configuration in force at that moment ([`Certificates`]), then serves the same axum router as
//! the plain listener, with the same graceful shutdown.
//!
//! In: a bound listener, the certificates and the router. Out: served connections, with the
//! client's address in each request's extensions (`ConnectInfo`, as the plain listener sets it)
//! for the limit on failed authentications. A failed handshake is logged, never fatal.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::server::http::conn;
use crate::server::http::tls::Certificates;
use crate::server::log;
use crate::server_config::ReadTimeouts;

/// How long a client may take to finish the TLS handshake before its connection is dropped; it
/// also bounds how long a half-open handshake can delay shutdown.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `app` over TLS on `listener` until `shutdown` completes, then stops accepting and waits
/// for the requests in flight (idle keep-alive connections and unfinished handshakes close at
/// once).
pub async fn serve(
    listener: TcpListener,
    certificates: Arc<Certificates>,
    app: Router,
    timeouts: ReadTimeouts,
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
                conn::accept_failed(&error).await;
                continue;
            }
        };
        tokio::spawn(connection(
            stream,
            peer,
            certificates.acceptor(),
            app.clone(),
            timeouts,
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
    acceptor: tokio_rustls::TlsAcceptor,
    app: Router,
    timeouts: ReadTimeouts,
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
    conn::serve_connection(tls, peer, app, timeouts, watcher).await;
}
