//! Buffers that hold plaintext on its way through (issue #12): made once at their final size, so
//! that no copy is left behind in freed memory when a `Vec` grows, and wiped when dropped.
//!
//! In: a value to serialize (a request or launch carrying secret values), or bytes that should be
//! text. Out: a [`Zeroizing`] buffer, or the text. Must not happen here: a plaintext byte left in
//! a buffer that is freed without being wiped.

use std::io::Write;

use serde::Serialize;
use zeroize::{Zeroize as _, Zeroizing};

/// The JSON of `value`, in a buffer of exactly its size that is wiped on drop. Serialized twice
/// (once to count): growing the buffer instead would leave copies of the plaintext behind.
pub fn to_json<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<Zeroizing<Vec<u8>>> {
    let mut counter = Counter(0);
    serde_json::to_writer(&mut counter, value)?;
    let mut out = Zeroizing::new(Vec::with_capacity(counter.0));
    serde_json::to_writer(&mut *out, value)?;
    Ok(out)
}

/// The bytes as text, or `None` — with the bytes wiped — when they are not UTF-8.
pub fn into_text(bytes: Vec<u8>) -> Option<String> {
    String::from_utf8(bytes)
        .map_err(|error| error.into_bytes().zeroize())
        .ok()
}

/// Counts what would be written.
struct Counter(usize);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    /// The buffer is exactly the JSON's size (no growth, so no copy left behind) and holds it.
    #[test]
    fn json_is_written_once_at_its_size() {
        let value = serde_json::json!({"key": "a value", "n": [1, 2, 3]});
        let json = super::to_json(&value).unwrap();
        assert_eq!(json.capacity(), json.len());
        assert_eq!(&json[..], serde_json::to_vec(&value).unwrap().as_slice());
        assert_eq!(super::into_text(vec![0xff, 0x00]), None);
        assert_eq!(super::into_text(b"ok".to_vec()).as_deref(), Some("ok"));
    }
}
