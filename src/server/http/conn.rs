//! Serving HTTP/1.1 connections with read timeouts (SPEC §4.4, issue #12), for the plain listener
//! and, after the handshake, for TLS ([`super::tls::serve`]): hyper's connection loop rather than
//! `axum::serve`, which sets no timer and so never times out a client that sends half its headers.
//!
//! In: a bound listener (or one accepted stream), the router, [`ReadTimeouts`]. Out: served
//! connections, the client's address in each request (`ConnectInfo`, for the limit on failed
//! authentications). A client that has not sent its whole header within `header` is
//! disconnected; a body that has not arrived within `body` of its first read fails with
//! [`BodyTimeout`], which the JSON extractor answers with 408 (and the connection closes, since
//! the rest of the body was never read). Must not happen here: a request byte in a log line.

use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::service::Service as _;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

use crate::server::log;
use crate::server_config::ReadTimeouts;

/// A request body that did not arrive within the body read timeout.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {}s", .0.as_secs())]
pub struct BodyTimeout(pub Duration);

/// Serves `app` over plain HTTP on `listener` until `shutdown` completes, then stops accepting
/// and waits for the requests in flight.
pub async fn serve_plain(
    listener: TcpListener,
    app: Router,
    timeouts: ReadTimeouts,
    shutdown: impl Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        match accepted {
            Ok((stream, peer)) => {
                let watcher = graceful.watcher();
                tokio::spawn(serve_connection(
                    stream,
                    peer,
                    app.clone(),
                    timeouts,
                    watcher,
                ));
            }
            Err(error) => accept_failed(&error).await,
        }
    }
    drop(listener);
    graceful.shutdown().await;
}

/// A failed `accept`: a connection that went away is nothing; running out of descriptors and
/// the like is logged, and the loop backs off instead of spinning.
pub async fn accept_failed(error: &std::io::Error) {
    if !matches!(
        error.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    ) {
        log::error(&format!("cannot accept a connection: {error}"));
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// HTTP/1.1 on one accepted stream (plain, or TLS after its handshake).
pub async fn serve_connection<S>(
    stream: S,
    peer: SocketAddr,
    app: Router,
    timeouts: ReadTimeouts,
    watcher: Watcher,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = TowerToHyperService::new(app);
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let mut request = request.map(|body| Body::new(Deadline::new(body, timeouts.body)));
        request.extensions_mut().insert(ConnectInfo(peer));
        service.call(request)
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(timeouts.header)
        .serve_connection(TokioIo::new(stream), service);
    if let Err(error) = watcher.watch(connection).await
        && !error.is_incomplete_message()
        && !error.is_timeout()
    {
        log::warn(&format!(
            "connection with {peer} ended with an error: {error}"
        ));
    }
}

/// Whether a failure to read a body was its read timeout.
pub fn is_body_timeout(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if error.is::<BodyTimeout>() {
            return true;
        }
        current = error.source();
    }
    false
}

/// A request body with a deadline, which starts at its first read.
struct Deadline {
    inner: Incoming,
    limit: Duration,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Deadline {
    fn new(inner: Incoming, limit: Duration) -> Self {
        Self {
            inner,
            limit,
            sleep: None,
        }
    }
}

impl hyper::body::Body for Deadline {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        let limit = this.limit;
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        if sleep.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(Box::new(BodyTimeout(limit)))));
        }
        Pin::new(&mut this.inner).poll_frame(cx).map_err(Into::into)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
