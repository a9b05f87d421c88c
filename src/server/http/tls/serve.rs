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
use axum::extract::ConnectInfo;
use hyper::service::Service as _;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

use crate::server::http::tls::Certificates;
use crate::server::log;

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
            certificates.acceptor(),
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
    acceptor: tokio_rustls::TlsAcceptor,
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
    let service = TowerToHyperService::new(app);
    let service = hyper::service::service_fn(move |mut request: hyper::Request<_>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        service.call(request)
    });
    let connection = hyper::server::conn::http1::Builder::new()
        // A timer turns on hyper's header read timeout against clients that never finish a request.
        .timer(TokioTimer::new())
        .serve_connection(TokioIo::new(tls), service);
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
