//! Source files and the spans that point into them.
//!
//! In: file names and their text. Out: a [`SourceMap`] that owns every text and turns a byte
//! [`Span`] into the 1-based line and column a person (or an editor) expects. Columns count
//! Unicode scalar values, not bytes, so a caret under `ü` lands where the eye expects it.
//! Nothing here knows what YAML is.

use std::sync::Arc;

/// Identifies one registered source inside a [`SourceMap`].
#[derive(Clone, Copy, Debug, Default, Eq, Hash, Ord, PartialEq, PartialOrd)]
pub struct SourceId(pub u32);

/// A byte range inside one source: `start..end`, relative to the start of the **file**.
#[derive(Clone, Copy, Debug, Default, Eq, Hash, Ord, PartialEq, PartialOrd)]
pub struct Span {
    pub end: u32,
    pub source: SourceId,
    pub start: u32,
}

impl Span {
    #[must_use]
    pub fn new(source: SourceId, start: u32, end: u32) -> Self {
        Self {
            end: end.max(start),
            source,
            start,
        }
    }

    #[must_use]
    pub fn len(&self) -> usize {
        (self.end - self.start) as usize
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

/// A 1-based position: what editors, SARIF and GitHub annotations expect.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Position {
    pub column: u32,
    pub line: u32,
}

/// One source text and the byte offsets where its lines start.
#[derive(Debug)]
pub struct SourceFile {
    line_starts: Vec<u32>,
    name: String,
    text: Arc<str>,
}

impl SourceFile {
    #[must_use]
    pub fn new(name: String, text: Arc<str>) -> Self {
        let mut line_starts = vec![0];
        let mut from = 0;
        while let Some(at) = find_newline(&text.as_bytes()[from..]) {
            from += at + 1;
            line_starts.push(u32::try_from(from).unwrap_or(u32::MAX));
        }
        if text.as_bytes().contains(&b'\r') {
            line_starts = cr_line_starts(text.as_bytes());
        }
        Self {
            line_starts,
            name,
            text,
        }
    }

    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    #[must_use]
    pub fn text(&self) -> &Arc<str> {
        &self.text
    }

    /// The 1-based line and column of a byte offset; offsets past the end clamp to the end.
    #[must_use]
    pub fn position(&self, offset: u32) -> Position {
        let offset = offset.min(u32::try_from(self.text.len()).unwrap_or(u32::MAX));
        let line_index = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let line_start = self.line_starts[line_index] as usize;
        let mut end = offset as usize;
        while !self.text.is_char_boundary(end) {
            end -= 1;
        }
        // A byte order mark starting a line is no column an editor shows.
        let line = &self.text[line_start..end];
        let column = line
            .strip_prefix('\u{feff}')
            .unwrap_or(line)
            .chars()
            .count()
            + 1;
        Position {
            column: u32::try_from(column).unwrap_or(u32::MAX),
            line: u32::try_from(line_index + 1).unwrap_or(u32::MAX),
        }
    }
}

/// Line starts where a line may also end at a lone `\r` (YAML's line breaks: `\n`, `\r\n`, `\r`).
fn cr_line_starts(bytes: &[u8]) -> Vec<u32> {
    let mut line_starts = vec![0];
    for (at, &byte) in bytes.iter().enumerate() {
        let ends_line = byte == b'\n' || byte == b'\r' && bytes.get(at + 1) != Some(&b'\n');
        if ends_line {
            line_starts.push(u32::try_from(at + 1).unwrap_or(u32::MAX));
        }
    }
    line_starts
}

/// The offset of the first `\n` in `bytes`, looking at eight bytes at a time: line starts and
/// document markers are found in every byte of every input, so this is on the hot path.
#[must_use]
pub fn find_newline(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    const NEWLINES: u64 = ONES * b'\n' as u64;
    let mut words = bytes.chunks_exact(8);
    let mut offset = 0;
    for word in &mut words {
        let mut le = [0; 8];
        le.copy_from_slice(word);
        let x = u64::from_le_bytes(le) ^ NEWLINES;
        // The lowest set bit marks the first zero byte of `x` (higher ones may be false).
        let zero_bytes = x.wrapping_sub(ONES) & !x & HIGHS;
        if zero_bytes != 0 {
            return Some(offset + (zero_bytes.trailing_zeros() / 8) as usize);
        }
        offset += 8;
    }
    words
        .remainder()
        .iter()
        .position(|&b| b == b'\n')
        .map(|at| offset + at)
}

/// Every source of one run, addressed by [`SourceId`].
#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, name: impl Into<String>, text: impl Into<Arc<str>>) -> SourceId {
        let id = SourceId(u32::try_from(self.files.len()).unwrap_or(u32::MAX));
        self.files.push(SourceFile::new(name.into(), text.into()));
        id
    }

    /// The file behind an id; ids only come from [`SourceMap::add`], so a miss is a bug.
    #[must_use]
    pub fn get(&self, id: SourceId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.files.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The source text covered by a span (empty if the span does not fit the text).
    #[must_use]
    pub fn snippet(&self, span: Span) -> &str {
        self.get(span.source)
            .text()
            .get(span.start as usize..span.end as usize)
            .unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lone_carriage_returns_end_lines() {
        let file = SourceFile::new("x".into(), "a: 1\rb: 2\r\nc: 3\n".into());
        assert_eq!(file.position(5), Position { line: 2, column: 1 });
        assert_eq!(file.position(11), Position { line: 3, column: 1 });
    }

    #[test]
    fn a_leading_byte_order_mark_is_no_column() {
        let file = SourceFile::new("x".into(), "\u{feff}a: 1\n".into());
        assert_eq!(file.position(3), Position { line: 1, column: 1 });
        assert_eq!(file.position(6), Position { line: 1, column: 4 });
    }

    #[test]
    fn finds_the_first_newline_at_any_alignment() {
        for len in 0..40 {
            for at in 0..=len {
                let mut bytes = vec![b'x'; len];
                // Bytes just around `\n` and with the high bit set must not confuse the search.
                for (i, b) in bytes.iter_mut().enumerate() {
                    *b = [b'x', 0x0b, 0x09, 0x8a, 0xff][i % 5];
                }
                if at < len {
                    bytes[at] = b'\n';
                    bytes
                        .iter_mut()
                        .skip(at + 1)
                        .step_by(3)
                        .for_each(|b| *b = b'\n');
                }
                let expected = bytes.iter().position(|&b| b == b'\n');
                assert_eq!(find_newline(&bytes), expected, "len {len}, at {at}");
            }
        }
    }

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let file = SourceFile::new("f".into(), "ab\nüx: y\n".into());
        assert_eq!(file.position(0), Position { line: 1, column: 1 });
        assert_eq!(file.position(3), Position { line: 2, column: 1 });
        // `x` sits after the two-byte `ü`: byte 5, column 2.
        assert_eq!(file.position(5), Position { line: 2, column: 2 });
        assert_eq!(file.position(999), Position { line: 3, column: 1 });
    }
}
