//! Reads the `crate::` paths of a Rust source text, without a parser: comments and literals
//! are blanked first, then each `crate::` starts a use tree (`a::b`, `a::{b, c::{d}}`, `a::*`)
//! that gives one path per leaf. `super::` and `self::` paths are not read.

/// The text with comments and the insides of string and character literals blanked out; line
/// breaks stay, so that line numbers do not move.
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let blank = |out: &mut String, c: char| out.push(if c == '\n' { '\n' } else { ' ' });
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let end = if c == '/' && next == Some('/') {
            chars[i..]
                .iter()
                .position(|&c| c == '\n')
                .map_or(chars.len(), |n| i + n)
        } else if c == '/' && next == Some('*') {
            block_comment_end(&chars, i)
        } else if c == '"' {
            quoted_end(&chars, i + 1, '"')
        } else if c == '\'' {
            char_literal_end(&chars, i).unwrap_or(i + 1)
        } else if let Some(end) = raw_string_end(&chars, i) {
            end
        } else {
            out.push(c);
            i += 1;
            continue;
        };
        for &c in &chars[i..end] {
            blank(&mut out, c);
        }
        i = end;
    }
    out
}

/// One past the end of the (possibly nested) block comment that starts at `start`.
fn block_comment_end(chars: &[char], start: usize) -> usize {
    let mut depth = 0;
    let mut i = start;
    while i < chars.len() {
        match (chars[i], chars.get(i + 1)) {
            ('/', Some('*')) => {
                depth += 1;
                i += 2;
            }
            ('*', Some('/')) => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return i;
                }
            }
            _ => i += 1,
        }
    }
    chars.len()
}

/// One past the closing `quote` of a literal whose body starts at `from` (escapes skipped).
fn quoted_end(chars: &[char], from: usize, quote: char) -> usize {
    let mut i = from;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            c if c == quote => return i + 1,
            _ => i += 1,
        }
    }
    chars.len()
}

/// One past a character literal at `start`, or `None` for a lifetime or a label (`'a`).
fn char_literal_end(chars: &[char], start: usize) -> Option<usize> {
    match chars.get(start + 1)? {
        '\\' => Some(quoted_end(chars, start + 1, '\'')),
        _ if chars.get(start + 2) == Some(&'\'') => Some(start + 3),
        _ => None,
    }
}

/// One past a raw string (`r"…"`, `br#"…"#`) whose prefix starts at `start`, if one does.
fn raw_string_end(chars: &[char], start: usize) -> Option<usize> {
    if start > 0 && is_ident(chars[start - 1]) {
        return None;
    }
    let mut i = start;
    if chars.get(i) == Some(&'b') || chars.get(i) == Some(&'c') {
        i += 1;
    }
    if chars.get(i) != Some(&'r') {
        return None;
    }
    i += 1;
    let hashes = chars[i..].iter().take_while(|&&c| c == '#').count();
    i += hashes;
    if chars.get(i) != Some(&'"') {
        return None;
    }
    let close: Vec<char> = std::iter::once('"')
        .chain(std::iter::repeat_n('#', hashes))
        .collect();
    let body = i + 1;
    Some(
        chars[body..]
            .windows(close.len())
            .position(|w| w == close.as_slice())
            .map_or(chars.len(), |n| body + n + close.len()),
    )
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Every path that starts with `crate::` in `text`, as its segments after `crate`, with the
/// 1-based line of its `crate`. A grouped `use` gives one path per leaf.
pub(super) fn crate_paths(text: &str) -> Vec<(usize, Vec<String>)> {
    let code: Vec<char> = code_only(text).chars().collect();
    let mut paths = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < code.len() {
        if code[i] == '\n' {
            line += 1;
        }
        let starts_word = i == 0 || !is_ident(code[i - 1]);
        let is_crate = starts_word
            && code[i..].starts_with(&['c', 'r', 'a', 't', 'e'])
            && !code.get(i + 5).copied().is_some_and(is_ident);
        if is_crate && let Some(after) = double_colon(&code, i + 5) {
            let mut reader = PathReader {
                code: &code,
                at: after,
            };
            let mut leaves = Vec::new();
            reader.tree(&mut Vec::new(), &mut leaves);
            paths.extend(leaves.into_iter().map(|leaf| (line, leaf)));
            i += 5;
            continue;
        }
        i += 1;
    }
    paths
}

/// The position after `::` (blanks allowed around it) at `from`, if there is one.
fn double_colon(code: &[char], from: usize) -> Option<usize> {
    let i = skip_blanks(code, from);
    (code.get(i) == Some(&':') && code.get(i + 1) == Some(&':')).then_some(i + 2)
}

fn skip_blanks(code: &[char], mut i: usize) -> usize {
    while code.get(i).is_some_and(|c| c.is_whitespace()) {
        i += 1;
    }
    i
}

/// Reads a use tree (`a::b`, `a::{b, c::{d}}`, `a::*`) after a `crate::`.
struct PathReader<'c> {
    code: &'c [char],
    at: usize,
}

impl PathReader<'_> {
    /// Reads one tree below `prefix`, pushing a path per leaf into `leaves`.
    fn tree(&mut self, prefix: &mut Vec<String>, leaves: &mut Vec<Vec<String>>) {
        let depth = prefix.len();
        loop {
            self.at = skip_blanks(self.code, self.at);
            if self.code.get(self.at) == Some(&'{') {
                self.at += 1;
                self.group(prefix, leaves);
                break;
            }
            let start = self.at;
            while self.code.get(self.at).copied().is_some_and(is_ident) {
                self.at += 1;
            }
            if self.at == start {
                // `*`, or something that is no path: the path ends before it.
                if !prefix.is_empty() {
                    leaves.push(prefix.clone());
                }
                break;
            }
            prefix.push(self.code[start..self.at].iter().collect());
            match double_colon(self.code, self.at) {
                Some(after) => self.at = after,
                None => {
                    leaves.push(prefix.clone());
                    break;
                }
            }
        }
        prefix.truncate(depth);
    }

    /// Reads the trees of a `{…}` group up to its closing brace.
    fn group(&mut self, prefix: &mut Vec<String>, leaves: &mut Vec<Vec<String>>) {
        loop {
            self.at = skip_blanks(self.code, self.at);
            match self.code.get(self.at) {
                None => return,
                Some('}') => {
                    self.at += 1;
                    return;
                }
                Some(',') => self.at += 1,
                Some(_) => {
                    let before = self.at;
                    self.tree(prefix, leaves);
                    // Skip what no tree reads (`as alias`, `*`) up to the next item.
                    while self
                        .code
                        .get(self.at)
                        .is_some_and(|&c| c != ',' && c != '}')
                    {
                        self.at += 1;
                    }
                    if self.at == before {
                        self.at += 1;
                    }
                }
            }
        }
    }
}
