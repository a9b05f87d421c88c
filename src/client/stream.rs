//! A large JSON request body written as ureq reads it, instead of into one buffer first: a
//! batch of 100,000 objects is some 40 MB of JSON, which the client would otherwise hold beside
//! the objects it was written from (issue #14).
//!
//! In: a value to serialize, of a size counted beforehand (sent as `Content-Length`). Out: a
//! [`Read`] of its JSON, fed by a thread that serializes into small chunks, each wiped once
//! read (a request can carry secret values in plaintext). Must not happen here: a chunk freed
//! unwiped; a thread left blocked when the reader is gone (it stops at its next chunk).

use std::io::{self, Read, Write};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use serde::Serialize;
use zeroize::Zeroizing;

/// The size of one chunk: large enough that the hand-over costs nothing next to the
/// serialization, small enough that a few in flight cost nothing next to the batch.
const CHUNK: usize = 64 * 1024;

/// Runs `send` with a reader of `value`'s JSON, serialized on a scoped thread meanwhile.
pub fn with_json_reader<B, T>(value: &B, send: impl FnOnce(&mut JsonReader) -> T) -> T
where
    B: Serialize + Sync + ?Sized,
{
    std::thread::scope(|scope| {
        let (sender, receiver) = sync_channel(2);
        scope.spawn(move || {
            let mut writer = ChunkWriter {
                chunk: Zeroizing::new(Vec::with_capacity(CHUNK)),
                sender,
            };
            // A failure here is the reader gone (the request failed or was answered early):
            // nobody waits for the rest.
            if serde_json::to_writer(&mut writer, value).is_ok() {
                let _ = writer.flush();
            }
        });
        let mut reader = JsonReader {
            chunk: Zeroizing::new(Vec::new()),
            at: 0,
            receiver,
        };
        let result = send(&mut reader);
        // Before the scope joins the thread: a writer blocked on a full channel then stops.
        drop(reader);
        result
    })
}

/// The JSON as the thread writes it.
pub struct JsonReader {
    chunk: Zeroizing<Vec<u8>>,
    at: usize,
    receiver: Receiver<Zeroizing<Vec<u8>>>,
}

impl Read for JsonReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.chunk.len() {
            match self.receiver.recv() {
                // The old chunk is wiped as it is dropped here.
                Ok(chunk) => {
                    self.chunk = chunk;
                    self.at = 0;
                }
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len() - self.at);
        buf[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Fills chunks of [`CHUNK`] bytes and hands each over when full.
struct ChunkWriter {
    chunk: Zeroizing<Vec<u8>>,
    sender: SyncSender<Zeroizing<Vec<u8>>>,
}

impl Write for ChunkWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = CHUNK - self.chunk.len();
        let n = buf.len().min(room);
        self.chunk.extend_from_slice(&buf[..n]);
        if self.chunk.len() == CHUNK {
            self.flush()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.chunk.is_empty() {
            return Ok(());
        }
        let full = std::mem::replace(&mut self.chunk, Zeroizing::new(Vec::with_capacity(CHUNK)));
        self.sender
            .send(full)
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the request is gone"))
    }
}

/// The size of `value`'s JSON, written nowhere.
pub fn json_len<B: Serialize + ?Sized>(value: &B) -> serde_json::Result<usize> {
    let mut counter = Counter(0);
    serde_json::to_writer(&mut counter, value)?;
    Ok(counter.0)
}

/// Counts what would be written.
struct Counter(usize);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
