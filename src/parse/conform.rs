//! Where the YAML parser underneath (granit-parser, through serde-saphyr) departs from YAML 1.2,
//! and how rune puts it right, so that every path of [`super::parse_document`] gives the
//! values the YAML 1.2 reference parsers give.
//!
//! In: a parsed tree or scalar and where its text sits ([`Anchor`]). Out: the same, corrected,
//! or a [`SyntaxError`] for what YAML forbids but the parser accepted. The line reader
//! ([`super::block`]) takes none of these shapes but block scalars, which it reads right at the
//! end of a text itself, so only the other two paths come here. The
//! checks run on the text only when a cheap test says they may apply: this is on the path of
//! every document the line reader declines.

use crate::parse::node::{Anchor, Node, SyntaxError, Value};
use crate::source::Span;

const BOM: char = '\u{feff}';

/// A whole document's tree after parsing: refuses a byte order mark inside the document and
/// removes the line break the parser invents for a block scalar at the end of a text that has
/// none.
pub(super) fn document(mut root: Node, at: &Anchor<'_>) -> Result<Node, SyntaxError> {
    let body = at.text.trim_start_matches(BOM);
    if let Some(at_bom) = body.find(BOM) {
        let offset = at.text.len() - body.len() + at_bom;
        stray_bom(&root, at, offset)?;
    }
    if !at.text.ends_with(['\n', '\r']) {
        final_block_scalar(&mut root, at);
    }
    Ok(root)
}

/// YAML 1.2 allows a byte order mark at the start of a document and inside quoted scalars (for
/// JSON's sake), nowhere else; the parser keeps one inside a plain scalar or a comment. One walk
/// collects the quoted scalars, so that many marks cost no more than one each.
fn stray_bom(root: &Node, at: &Anchor<'_>, first: usize) -> Result<(), SyntaxError> {
    let mut quoted = Vec::new();
    quoted_scalars(root, at, &mut quoted);
    // Scalars do not overlap: sorted by start, the one that may hold an offset is found by
    // binary search.
    quoted.sort_unstable_by_key(|range| range.start);
    let mut from = first;
    loop {
        let holder = quoted.partition_point(|range| range.start <= from);
        if holder == 0 || !quoted[holder - 1].contains(&from) {
            let start = at.base.saturating_add(from as u32);
            return Err(SyntaxError {
                message: "a byte order mark (U+FEFF) may only start a document or stand inside \
                          a quoted scalar"
                    .to_owned(),
                span: Span::new(at.source, start, start),
            });
        }
        match at.text[from + BOM.len_utf8()..].find(BOM) {
            Some(next) => from += BOM.len_utf8() + next,
            None => return Ok(()),
        }
    }
}

/// The ranges (in the parsed text) of the quoted scalars of a tree.
fn quoted_scalars(node: &Node, at: &Anchor<'_>, out: &mut Vec<std::ops::Range<usize>>) {
    match &node.value {
        Value::Map(entries) => {
            for (key, value) in entries {
                quoted_scalars(key, at, out);
                quoted_scalars(value, at, out);
            }
        }
        Value::Seq(items) => {
            for item in items {
                quoted_scalars(item, at, out);
            }
        }
        Value::String(_) => {
            let range = (node.span.start - at.base) as usize..(node.span.end - at.base) as usize;
            if at
                .text
                .get(range.clone())
                .is_some_and(|text| text.starts_with(['"', '\'']))
            {
                out.push(range);
            }
        }
        _ => {}
    }
}

/// The parser ends a block scalar (`|`, `>`, any chomping) that stops at the end of the text
/// with a line break the text does not hold (`k: |\n  x` reads as `"x\n"`, YAML 1.2 says
/// `"x"`). Only the last scalar of the document can be affected.
fn final_block_scalar(root: &mut Node, at: &Anchor<'_>) {
    let node = last_node(root);
    let range = (node.span.start - at.base) as usize..(node.span.end - at.base) as usize;
    let Value::String(text) = &mut node.value else {
        return;
    };
    let Some(source) = at.text.get(range.clone()) else {
        return;
    };
    // Quoted scalars start at their quote and may end in an escaped break; plain scalars never
    // end in a break. Trailing blanks after the last break are indentation, not content.
    let invented = range.end == at.text.len()
        && !source.starts_with(['"', '\''])
        && !source.trim_end_matches([' ', '\t']).ends_with(['\n', '\r']);
    if invented && text.ends_with('\n') {
        text.pop();
    }
}

/// The last node of a tree in document order.
fn last_node(node: &mut Node) -> &mut Node {
    let last = match &node.value {
        Value::Map(entries) => entries.len().checked_sub(1).map(|i| (i, true)),
        Value::Seq(items) => items.len().checked_sub(1).map(|i| (i, false)),
        _ => None,
    };
    let Some((i, map)) = last else {
        return node;
    };
    match &mut node.value {
        Value::Map(entries) if map => last_node(&mut entries[i].1),
        Value::Seq(items) => last_node(&mut items[i]),
        _ => unreachable!("only collections have children"),
    }
}

/// One scalar as serde-saphyr resolved it, put right where that differs from the YAML 1.2
/// core schema: integers are only `[-+]?[0-9]+`, `0o[0-7]+` and `0x[0-9a-fA-F]+` (so
/// `0b101`, `+0x1F` and `1_000` are strings); `!!binary` holds bytes; and `?` cannot be a value
/// in a flow collection.
pub(super) fn scalar(value: Value, span: Span, at: &Anchor<'_>) -> Result<Value, SyntaxError> {
    let range = (span.start - at.base) as usize..(span.end - at.base) as usize;
    // A span the parser did not know (an alias, say) may not point into this text.
    let Some(source) = at.text.get(range.clone()) else {
        return Ok(value);
    };
    match value {
        Value::Int(_) | Value::Float(_) if tag_before(at.text, range.start).is_none() => {
            Ok(core_number(source).unwrap_or(value))
        }
        Value::String(text)
            if matches!(
                tag_before(at.text, range.start),
                Some("!!binary" | "!<tag:yaml.org,2002:binary>")
            ) =>
        {
            binary(&text).ok_or_else(|| SyntaxError {
                message: "a `!!binary` scalar is not base64".to_owned(),
                span,
            })
        }
        Value::String(text) if text == "?" && source == "?" => {
            let before = at.text[..range.start].trim_end_matches([' ', '\t']);
            let after = at.text[range.end..].trim_start_matches([' ', '\t']);
            if before.ends_with(':') && after.starts_with([',', '}', ']']) {
                return Err(SyntaxError {
                    message: "a `?` with nothing after it cannot be a value".to_owned(),
                    span,
                });
            }
            Ok(Value::String(text))
        }
        value => Ok(value),
    }
}

/// The explicit tag of the node whose text starts at `start` (`!!int 0b1` means what it says),
/// looking back over the header of a block scalar.
fn tag_before(text: &str, start: usize) -> Option<&str> {
    const BLANKS: [char; 4] = [' ', '\t', '\n', '\r'];
    let mut before = text[..start].trim_end_matches(BLANKS);
    // Only the few bytes before the node are looked at: this runs for every scalar.
    let header = before.trim_end_matches(|c: char| c.is_ascii_digit() || c == '+' || c == '-');
    if let Some(indicator) = header.strip_suffix(['|', '>']) {
        before = indicator.trim_end_matches(BLANKS);
    }
    let word = before
        .rfind([' ', '\t', '\n', '\r', '{', '[', ',', ':', '-'])
        .map_or(before, |i| &before[i + 1..]);
    word.starts_with('!').then_some(word)
}

/// A `!!binary` scalar's bytes: a string when they are UTF-8 text (as serde-saphyr reads them),
/// binary data otherwise; `None` when the text is not base64.
fn binary(text: &str) -> Option<Value> {
    use base64::Engine as _;
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()?;
    Some(match String::from_utf8(bytes) {
        Ok(text) => Value::String(text),
        Err(error) => Value::Binary(error.into_bytes()),
    })
}

/// The core schema's reading of a plain scalar serde-saphyr took for a number: `None` to keep
/// serde-saphyr's value (a float, or not the scalar's own text, as for an alias), or the
/// integer or string YAML 1.2 makes of it.
fn core_number(source: &str) -> Option<Value> {
    let unsigned = source.strip_prefix(['-', '+']).unwrap_or(source);
    if !unsigned.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let radix = |digits: &str, radix| {
        (!digits.is_empty() && source.len() == unsigned.len())
            .then(|| i128::from_str_radix(digits, radix).ok())
            .flatten()
    };
    if let Some(hex) = source.strip_prefix("0x") {
        return Some(radix(hex, 16).map_or_else(|| string(source), Value::Int));
    }
    if let Some(octal) = source.strip_prefix("0o") {
        return Some(radix(octal, 8).map_or_else(|| string(source), Value::Int));
    }
    if unsigned.bytes().all(|b| b.is_ascii_digit()) {
        return source.parse().ok().map(Value::Int);
    }
    if is_core_float(unsigned) {
        return None;
    }
    Some(string(source))
}

fn string(source: &str) -> Value {
    Value::String(source.to_owned())
}

/// `(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, the sign already stripped.
fn is_core_float(text: &str) -> bool {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], Some(&text[at + 1..])),
        None => (text, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some((int, frac)) => {
            (digits(int) && (frac.is_empty() || digits(frac))) || (int.is_empty() && digits(frac))
        }
        None => digits(mantissa),
    };
    mantissa_ok && exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)))
}

#[cfg(test)]
mod tests {
    use super::core_number;
    use crate::parse::node::Value;

    #[test]
    fn numbers_follow_the_yaml_1_2_core_schema() {
        for (text, value) in [
            ("0x1F", Some(Value::Int(31))),
            ("0o17", Some(Value::Int(15))),
            ("007", Some(Value::Int(7))),
            ("-12", Some(Value::Int(-12))),
            ("+12", Some(Value::Int(12))),
            ("1.5e3", None),
            ("1.", None),
            ("0b101", Some(Value::String("0b101".into()))),
            ("+0x1F", Some(Value::String("+0x1F".into()))),
            ("-0x1F", Some(Value::String("-0x1F".into()))),
            ("1_000", Some(Value::String("1_000".into()))),
            ("*alias", None),
            (".inf", None),
        ] {
            assert_eq!(core_number(text), value, "{text}");
        }
    }
}
