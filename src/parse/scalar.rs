//! How a scalar resolves: YAML 1.2 core schema resolution as serde-saphyr does it, for the
//! shortcut paths, and the rule that keys stay text, for every path.
//!
//! In: a scalar's text and style, or a key's node and where its text sits. Out: the [`Value`]
//! serde-saphyr's `deserialize_any` would give the scalar, or `None` where that resolution is not
//! replicated here, so that the caller leaves the document to serde-saphyr. Nothing here may
//! resolve a scalar differently from serde-saphyr: the agreement tests in `parse/tests.rs`
//! compare the paths.

use std::borrow::Cow;

use serde_saphyr::granit_parser::ScalarStyle;

use crate::parse::node::{Anchor, Node, Value};

/// Keys are names, so a plain scalar key that YAML resolves to a number or boolean (`8080:`,
/// `true:`) is kept as the text the user wrote.
pub(super) fn key(node: Node, at: &Anchor<'_>) -> Node {
    match node.value {
        Value::Bool(_) | Value::Float(_) | Value::Int(_) | Value::Null => {
            let local = (node.span.start - at.base) as usize..(node.span.end - at.base) as usize;
            let text = at.text.get(local).unwrap_or("").trim();
            Node {
                span: node.span,
                value: Value::String(text.to_owned()),
            }
        }
        value => Node {
            span: node.span,
            value,
        },
    }
}

/// The punctuation a plain scalar the line readers take may start with (letters and digits
/// may too; `-` only where it cannot be a sequence entry). The other indicators (anchors,
/// aliases, tags, block scalars, quotes, flow brackets, comments, `?`, `:`, `%`, `@` and the
/// backtick) start something else or nothing.
pub(super) fn starts_plain(byte: u8) -> bool {
    matches!(
        byte,
        b'_' | b'.' | b'/' | b'~' | b'+' | b'(' | b')' | b'=' | b'<' | b'$' | b'^' | b'\\' | b';'
    )
}

/// A scalar as serde-saphyr's `deserialize_any` resolves it (YAML 1.2 core schema with strict
/// booleans), or `None` where that resolution is not replicated here.
pub(super) fn scalar(text: Cow<'_, str>, style: ScalarStyle) -> Option<Value> {
    if style != ScalarStyle::Plain {
        return Some(Value::String(text.into_owned()));
    }
    let value = match &*text {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        plain => match plain_kind(plain)? {
            Plain::Int(n) => Value::Int(n),
            Plain::String => Value::String(text.into_owned()),
        },
    };
    Some(value)
}

enum Plain {
    Int(i128),
    String,
}

/// What a plain scalar that is neither null nor a boolean resolves to. Integers and floats start
/// with an optional sign and then a digit or a `.` (`.inf`, `.5`); anything else is a string.
/// Of what starts with a digit, this takes only plain decimal integers and texts holding a
/// character no number can contain (`10Gi`, `30s`, `1.5T`).
fn plain_kind(text: &str) -> Option<Plain> {
    const YAML_BLANKS: [char; 4] = [' ', '\t', '\r', '\n'];
    if text.starts_with(YAML_BLANKS) || text.ends_with(YAML_BLANKS) {
        return None;
    }
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    match unsigned.as_bytes().first() {
        Some(b'.') => None,
        Some(b'0'..=b'9') => {
            if let Some(n) = decimal(text) {
                return Some(Plain::Int(n));
            }
            text.bytes()
                .any(|b| !may_be_numeric(b))
                .then_some(Plain::String)
        }
        _ => Some(Plain::String),
    }
}

/// `0`, `[1-9][0-9]*` or `-[1-9][0-9]*`, small enough for `u64`/`i64`.
fn decimal(text: &str) -> Option<i128> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let canonical = digits == "0" && digits.len() == text.len()
        || !digits.starts_with('0') && (1..=18).contains(&digits.len());
    if !canonical || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Bytes an integer (`0x1F`, `0o17`, `0b1`, `1_000`) or a float (`1.5e-3`) may hold.
fn may_be_numeric(byte: u8) -> bool {
    byte.is_ascii_hexdigit()
        || matches!(byte, b'x' | b'X' | b'o' | b'O' | b'.' | b'+' | b'-' | b'_')
}

#[cfg(test)]
mod tests {
    use super::{Plain, plain_kind};

    fn kind(text: &str) -> Option<&'static str> {
        plain_kind(text).map(|k| match k {
            Plain::Int(_) => "int",
            Plain::String => "string",
        })
    }

    #[test]
    fn plain_scalars_it_resolves_and_those_it_leaves_to_serde_saphyr() {
        for int in ["0", "7", "8080", "-12", "123456789012345678"] {
            assert_eq!(kind(int), Some("int"), "{int}");
        }
        for string in [
            "info", "10Gi", "30s", "1.5T", "-", "+", "-abc", "inf", "nan", "a: b", "1 2",
        ] {
            assert_eq!(kind(string), Some("string"), "{string}");
        }
        for undecided in [
            "-0",
            "007",
            "+5",
            "1.5",
            "1e3",
            "0x1F",
            "0X1F",
            "1_000",
            ".inf",
            "-.inf",
            ".5",
            "1234567890123456789",
            "10.0.0.1",
        ] {
            assert_eq!(kind(undecided), None, "{undecided}");
        }
    }
}
