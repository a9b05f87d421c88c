//! A request body read in the chunks it arrived in, and handed to the JSON reader as one stream
//! (issue #14): an apply of 100,000 objects is some 40 MB of JSON, which runed held twice
//! while the chunks were joined into one buffer, and once more beside the decoded batch. Each
//! chunk is let go (wiped, when runed holds it alone) as soon as the reader is past it.
//!
//! A body of up to [`JOIN_AT_MOST`] bytes is joined into one buffer instead: JSON decodes
//! several times faster from a slice than from a stream (a re-plan of 1,000 sealed secrets
//! sends 1.4 MB, and spent half of runed's time in the streaming decoder), and a few MB held
//! twice for a moment is nothing beside a large batch's decoded objects.
//!
//! In: a request, under the router's body limit and the connection's body read timeout. Out:
//! a [`Read`] of its body, or why it could not be read: too large (413), too slow (408) or
//! broken. Must not happen here: a chunk read past and kept until the whole body is decoded.

use std::collections::VecDeque;
use std::io::{self, Read};

use axum::RequestExt as _;
use axum::body::Bytes;
use axum::extract::Request;
use http_body_util::BodyExt as _;

/// Why a body could not be read.
#[derive(Debug)]
pub(crate) enum Unread {
    /// Larger than the router's body limit.
    TooLarge,
    /// Not all there within the body read timeout.
    Timeout,
    /// The connection failed, or the body was malformed (a bad chunk size).
    Broken,
}

/// Every chunk of `request`'s body, in order.
pub(crate) async fn read(request: Request) -> Result<Chunks, Unread> {
    let mut body = request.into_limited_body();
    let mut chunks = Chunks {
        chunks: VecDeque::new(),
        at: 0,
    };
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|error| classify(&error))?;
        if let Ok(data) = frame.into_data()
            && !data.is_empty()
        {
            chunks.chunks.push_back(data);
        }
    }
    Ok(chunks)
}

fn classify(error: &(dyn std::error::Error + 'static)) -> Unread {
    if crate::server::http::conn::is_body_timeout(error) {
        return Unread::Timeout;
    }
    let mut current = Some(error);
    while let Some(error) = current {
        if error.is::<http_body_util::LengthLimitError>() {
            return Unread::TooLarge;
        }
        current = error.source();
    }
    Unread::Broken
}

/// The largest body joined into one buffer to be decoded; a larger one is read as a stream.
pub(crate) const JOIN_AT_MOST: usize = 8 << 20;

/// A body's chunks, read front to back; each is dropped once read past.
pub(crate) struct Chunks {
    chunks: VecDeque<Bytes>,
    /// How far into the front chunk the reader is.
    at: usize,
}

impl Chunks {
    /// The whole body in one buffer, which wipes itself when dropped; the chunks are let go
    /// (wiped, when runed holds them alone) as they are copied. `None` above [`JOIN_AT_MOST`].
    pub(crate) fn joined(&mut self) -> Option<zeroize::Zeroizing<Vec<u8>>> {
        let len: usize = self.chunks.iter().map(Bytes::len).sum::<usize>() - self.at;
        if len > JOIN_AT_MOST {
            return None;
        }
        let mut joined = zeroize::Zeroizing::new(Vec::with_capacity(len));
        while let Some(chunk) = self.chunks.pop_front() {
            joined.extend_from_slice(&chunk[self.at..]);
            self.at = 0;
            wipe(chunk);
        }
        Some(joined)
    }
}

impl Read for Chunks {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while let Some(front) = self.chunks.front() {
            if self.at < front.len() {
                let n = buf.len().min(front.len() - self.at);
                buf[..n].copy_from_slice(&front[self.at..self.at + n]);
                self.at += n;
                return Ok(n);
            }
            if let Some(done) = self.chunks.pop_front() {
                wipe(done);
            }
            self.at = 0;
        }
        Ok(0)
    }
}

impl Drop for Chunks {
    fn drop(&mut self) {
        for chunk in self.chunks.drain(..) {
            wipe(chunk);
        }
    }
}

/// Wipes a chunk of a request body once read: it may hold secret values in plaintext. Only a
/// chunk runed holds alone can be wiped; one that shares hyper's read buffer is beyond reach.
fn wipe(bytes: Bytes) {
    if let Ok(mut owned) = bytes.try_into_mut() {
        zeroize::Zeroize::zeroize(&mut owned[..]);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use axum::body::{Body, Bytes};
    use axum::extract::{FromRequest as _, Request};
    use axum::response::IntoResponse as _;
    use hyper::body::Frame;
    use serde_json::{Value, json};

    use crate::server::http::error::JsonBody;

    /// A body that arrives in the given chunks, one frame each.
    struct Frames(VecDeque<Bytes>);

    impl hyper::body::Body for Frames {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            Poll::Ready(self.0.pop_front().map(|chunk| Ok(Frame::data(chunk))))
        }
    }

    /// `text` as a JSON request whose body arrives in chunks of `size` bytes.
    fn request(text: &str, size: usize) -> Request {
        let chunks = text
            .as_bytes()
            .chunks(size)
            .map(Bytes::copy_from_slice)
            .collect();
        Request::builder()
            .method("POST")
            .uri("/v1/apply")
            .header("Content-Type", "application/json")
            .body(Body::new(Frames(chunks)))
            .expect("a request")
    }

    async fn read(text: &str, size: usize) -> Result<Value, (u16, Value)> {
        match JsonBody::<Value>::from_request(request(text, size), &()).await {
            Ok(JsonBody(value)) => Ok(value),
            Err(error) => {
                let response = error.into_response();
                let status = response.status().as_u16();
                let body = axum::body::to_bytes(response.into_body(), 1 << 20)
                    .await
                    .expect("the error body");
                Err((status, serde_json::from_slice(&body).expect("JSON")))
            }
        }
    }

    /// `text` in chunks of `size` bytes, decoded from the stream of chunks (as a body over
    /// [`super::JOIN_AT_MOST`] is).
    fn streamed(text: &str, size: usize) -> Value {
        let chunks = super::Chunks {
            chunks: text
                .as_bytes()
                .chunks(size)
                .map(Bytes::copy_from_slice)
                .collect(),
            at: 0,
        };
        crate::server::http::error::read_streamed::<Value>(chunks).expect("a valid body")
    }

    /// A body decoded from its chunks as they come is the body decoded at once, whatever the
    /// chunks' size; a key given twice is still refused at its path, in a late chunk as in
    /// the first.
    #[tokio::test]
    async fn a_body_in_chunks_reads_as_one_and_still_refuses_a_key_twice() {
        let objects: Vec<Value> = (0..200)
            .map(|i| json!({"kind": "configmap", "name": format!("c-{i}"), "spec": {"data": {"k": "grüß"}}}))
            .collect();
        let text = json!({"objects": objects}).to_string();
        for size in [1, 7, 4096, text.len()] {
            // Joined (it is under 8 MB) and, through `streamed`, read as a stream.
            assert_eq!(
                streamed(&text, size),
                serde_json::from_str::<Value>(&text).unwrap()
            );
            assert_eq!(
                read(&text, size).await.expect("a valid body"),
                serde_json::from_str::<Value>(&text).unwrap()
            );
        }
        let twice = text.replacen(r#""k":"grüß""#, r#""k":"a","k":"b""#, 1);
        let late = format!(
            "{}{}",
            &text[..text.len() - 2],
            r#",{"data":{"x":1,"x":2}}]}"#
        );
        for (body, path) in [
            (&twice, "objects[0].spec.data"),
            (&late, "objects[200].data"),
        ] {
            let (status, error) = read(body, 13).await.expect_err("a key twice");
            assert_eq!(status, 400, "{error}");
            assert!(
                error["message"].as_str().unwrap().contains("appears twice"),
                "{error}"
            );
            let at = error["details"]["path"].as_str().unwrap_or_default();
            assert!(at.starts_with(path), "{error}");
        }
        let (status, _) = read(r#"{"objects": [] } x"#, 3)
            .await
            .expect_err("trailing");
        assert_eq!(status, 400);
    }

    /// Above the body limit (here axum's default of 2 MB: no router sets one), the body is
    /// refused with 413, however it is cut into chunks.
    #[tokio::test]
    async fn a_body_above_the_limit_is_413() {
        let text = format!(r#"{{"objects": [], "pad": "{}"}}"#, "x".repeat(3 << 20));
        let (status, error) = read(&text, 64 * 1024).await.expect_err("too large");
        assert_eq!(status, 413, "{error}");
        assert_eq!(error["code"], "payload_too_large", "{error}");
    }
}
