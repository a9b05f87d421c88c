//! The rules of SPEC §2.3 that need no more than the value they judge, shared by `rune lint` and
//! runed (SPEC §4.4: one set of rules on both sides).
//!
//! In: plain values — a name, a key, a count, a size, a path — never a YAML node or a wire object.
//! Out: a [`Problem`] (the diagnostic code, message, caret label, help and, for limits, the limit
//! and observed size) or nothing. The lint side turns a problem into a [`Diagnostic`] at the span
//! it decoded the value from ([`Problem::at`]); the server turns it into a violation at the
//! field path it read the value from (`server::violation`). A rule that changes here changes on
//! both sides at once; neither side keeps a copy.
//! Must not happen here: a secret value or its length in a message.

mod reference;
mod service;

use std::borrow::Cow;
use std::ops::RangeInclusive;

use crate::diag::{Code, Diagnostic};
use crate::limits::{DataLimits, MAX_LABEL_KEY, MAX_LABEL_VALUE, MAX_LABELS};
use crate::resource::DataKind;
use crate::source::Span;
use crate::validate::names::{data_key_problem, dns1123_problem, dns1123_suggestion};

pub use reference::{Part, RefParts, secret_ref};
pub use service::{
    command, env_from_shape, env_name, env_prefix, mount_count, mount_name_duplicate,
    mount_overlap, mount_path, no_nul, protocol, runtime,
};

/// Text as a message may quote it: control characters (a NUL, an escape sequence that would
/// drive the terminal) escaped, everything else as written.
#[must_use]
pub fn visible(text: &str) -> Cow<'_, str> {
    if text.chars().any(char::is_control) {
        Cow::Owned(
            text.chars()
                .map(|c| {
                    if c.is_control() {
                        c.escape_default().to_string()
                    } else {
                        c.to_string()
                    }
                })
                .collect(),
        )
    } else {
        Cow::Borrowed(text)
    }
}

/// One broken rule, before it is placed at a span (lint) or a field path (runed).
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Problem {
    pub code: Code,
    pub help: Option<String>,
    pub label: String,
    /// For limits: the limit and the observed count or size (never a secret's size).
    pub limit: Option<u64>,
    pub message: String,
    pub observed: Option<u64>,
}

impl Problem {
    pub(crate) fn new(code: Code, message: impl Into<String>, label: impl Into<String>) -> Self {
        Self {
            code,
            help: None,
            label: label.into(),
            limit: None,
            message: message.into(),
            observed: None,
        }
    }

    #[must_use]
    fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    #[must_use]
    fn limit(mut self, limit: usize, observed: Option<u64>) -> Self {
        self.limit = Some(limit as u64);
        self.observed = observed;
        self
    }

    /// The finding `rune lint` reports, at the span the value was written.
    #[must_use]
    pub fn at(self, span: Span) -> Diagnostic {
        Diagnostic::new(self.code, span, self.message)
            .label(self.label)
            .maybe_help(self.help)
    }
}

/// A DNS-1123 name (of a resource, a namespace, a mount, a reference); `what` says whose.
#[must_use]
pub fn name(what: &str, value: &str) -> Option<Problem> {
    let problem = dns1123_problem(value)?;
    let help = match dns1123_suggestion(value) {
        Some(fixed) => format!(
            "names are DNS-1123 labels: lower-case letters, digits and `-`, at most 63 characters; try `{fixed}`"
        ),
        None => "names are DNS-1123 labels: lower-case letters, digits and `-`, at most 63 characters, starting and ending with a letter or digit".to_owned(),
    };
    Some(
        Problem::new(
            Code::NameDns1123,
            format!("{what} `{}` is not a valid name: {problem}", visible(value)),
            "not a DNS-1123 label",
        )
        .help(help),
    )
}

/// A data key of a secret or configmap: it becomes a file name in a mount.
#[must_use]
pub fn data_key(key: &str) -> Option<Problem> {
    let problem = data_key_problem(key)?;
    Some(
        Problem::new(
            Code::DataKeyInvalid,
            format!("data key `{}` is not valid: {problem}", visible(key)),
            "invalid data key",
        )
        .help("each key becomes a file name in a mount: use letters, digits, `-`, `.` and `_`"),
    )
}

fn data_names(kind: DataKind) -> (&'static str, &'static str) {
    match kind {
        DataKind::ConfigMap => ("configmap", "max-keys-per-configmap"),
        DataKind::Secret => ("secret", "max-keys-per-secret"),
    }
}

/// The number of keys of one secret or configmap, against the limits in force.
#[must_use]
pub fn data_key_count(kind: DataKind, count: usize, limits: &DataLimits) -> Option<Problem> {
    if count <= limits.max_keys {
        return None;
    }
    let (what, limit_name) = data_names(kind);
    Some(
        Problem::new(
            Code::LimitKeys,
            format!(
                "{what} has {count} keys, more than the limit of {} (`{limit_name}`)",
                limits.max_keys
            ),
            "too many keys",
        )
        .help("split the data into several resources, or raise the server's limit")
        .limit(limits.max_keys, Some(count as u64)),
    )
}

/// The size of one value. A secret's size is information about the secret: its problem says
/// only that it is too large, and carries no observed size.
#[must_use]
pub fn data_value_size(
    kind: DataKind,
    key: &str,
    size: u64,
    limits: &DataLimits,
) -> Option<Problem> {
    if size <= limits.max_value_size as u64 {
        return None;
    }
    let (observed, shown) = match kind {
        DataKind::ConfigMap => (format!("{size} bytes"), Some(size)),
        DataKind::Secret => ("larger than the limit".to_owned(), None),
    };
    Some(
        Problem::new(
            Code::LimitValueSize,
            format!(
                "the value of `{}` is {observed}; the limit is {} bytes (`max-value-size`)",
                visible(key),
                limits.max_value_size
            ),
            "value too large",
        )
        .help("store large payloads elsewhere, or raise the server's `max-value-size`")
        .limit(limits.max_value_size, shown),
    )
}

/// A whole number field within its bounds (`scale`, `port`, `targetPort`).
#[must_use]
pub fn in_range(field: &str, value: i128, range: &RangeInclusive<i128>) -> Option<Problem> {
    if range.contains(&value) {
        return None;
    }
    Some(Problem::new(
        Code::FieldValue,
        format!(
            "`{field}` must be between {} and {}, found {value}",
            range.start(),
            range.end()
        ),
        "out of range",
    ))
}

/// The instances a service may ask for: a bound on both sides, so that no request can make
/// runed start billions of processes.
pub const SCALE: RangeInclusive<i128> = 0..=crate::limits::MAX_SCALE as i128;

/// A port number.
pub const PORT: RangeInclusive<i128> = 1..=65_535;

/// A label key: `[-._/a-zA-Z0-9]+`, at most [`MAX_LABEL_KEY`] bytes (room for a DNS prefix such
/// as `app.example.com/tier`).
#[must_use]
pub fn label_key(key: &str) -> Option<Problem> {
    let problem = if key.is_empty() {
        "it is empty"
    } else if key.len() > MAX_LABEL_KEY {
        "it is longer than 253 characters"
    } else if !key
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'/'))
    {
        "only letters, digits, `-`, `.`, `_` and `/` are allowed"
    } else {
        return None;
    };
    Some(
        Problem::new(
            Code::LabelInvalid,
            format!("label key `{}` is not valid: {problem}", visible(key)),
            "invalid label key",
        )
        .help("label keys are letters, digits, `-`, `.`, `_` and `/`, at most 253 characters"),
    )
}

/// A label value: text of at most [`MAX_LABEL_VALUE`] characters, without control characters.
#[must_use]
pub fn label_value(key: &str, value: &str) -> Option<Problem> {
    let problem = if value.chars().count() > MAX_LABEL_VALUE {
        "it is longer than 256 characters"
    } else if value.chars().any(char::is_control) {
        "it contains a control character"
    } else {
        return None;
    };
    Some(
        Problem::new(
            Code::LabelInvalid,
            format!(
                "the value of label `{}` is not valid: {problem}",
                visible(key)
            ),
            "invalid label value",
        )
        .help("label values are one line of text, at most 256 characters"),
    )
}

/// The number of labels of one resource.
#[must_use]
pub fn label_count(count: usize) -> Option<Problem> {
    if count <= MAX_LABELS {
        return None;
    }
    Some(
        Problem::new(
            Code::LimitLabels,
            format!("{count} labels, more than the limit of {MAX_LABELS}"),
            "too many labels",
        )
        .help("labels select and describe; keep the rest in a configmap")
        .limit(MAX_LABELS, Some(count as u64)),
    )
}

/// A volume's size: a decimal with an optional SI or binary suffix (`10Gi`, `512M`, `1.5T`).
#[must_use]
pub fn quantity(size: &str) -> Option<Problem> {
    const SUFFIXES: [&str; 13] = [
        "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "k", "K", "M", "G", "T", "P", "E",
    ];
    let number = SUFFIXES
        .iter()
        .find_map(|s| size.strip_suffix(s))
        .unwrap_or(size);
    let mut parts = number.splitn(2, '.');
    let whole = parts.next().unwrap_or("");
    let fraction = parts.next();
    let ok = !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
    (!ok).then(|| {
        Problem::new(
            Code::FieldValue,
            format!("`{}` is not a size", visible(size)),
            "not a size",
        )
        .help("write a size as a number with an optional unit: `512Mi`, `10Gi`, `1T`")
    })
}

/// The same object declared twice in one cast or one batch; `display` names it.
#[must_use]
pub fn duplicate(display: &str) -> Problem {
    Problem::new(
        Code::ResourceDuplicate,
        format!("{display} is declared twice"),
        "declared again here",
    )
    .help("each resource is declared once per cast; remove or rename one of them")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        for good in ["1", "10Gi", "512Mi", "1.5T", "100k", "0"] {
            assert_eq!(quantity(good), None, "{good}");
        }
        for bad in [
            "", "Gi", "1.", ".5", "ten", "10 Gi", "-1Gi", "10GB", "1.5.5",
        ] {
            assert!(quantity(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn messages_quote_control_characters_escaped() {
        let problem = name("name", "a\u{1b}[2Jb").expect("not a name");
        assert!(!problem.message.contains('\u{1b}'), "{}", problem.message);
        assert_eq!(visible("My \"DB\""), "My \"DB\"");
    }

    #[test]
    fn labels() {
        for good in ["app", "app.example.com/tier", "a_b-c.d"] {
            assert_eq!(label_key(good), None, "{good}");
        }
        for bad in ["", "a b", "a\0b", "a=b", &"k".repeat(254)] {
            assert_eq!(label_key(bad).map(|p| p.code), Some(Code::LabelInvalid));
        }
        assert_eq!(label_value("k", "web tier"), None);
        assert!(label_value("k", "a\nb").is_some());
        assert!(label_value("k", &"v".repeat(MAX_LABEL_VALUE + 1)).is_some());
        assert_eq!(label_count(MAX_LABELS), None);
        assert_eq!(
            label_count(MAX_LABELS + 1).and_then(|p| p.observed),
            Some(MAX_LABELS as u64 + 1)
        );
    }

    #[test]
    fn a_secret_size_is_not_observed() {
        let limits = DataLimits {
            max_keys: 1,
            max_value_size: 4,
        };
        let secret = data_value_size(DataKind::Secret, "k", 5, &limits).expect("too large");
        assert_eq!((secret.limit, secret.observed), (Some(4), None));
        assert!(!secret.message.contains('5'));
        let config = data_value_size(DataKind::ConfigMap, "k", 5, &limits).expect("too large");
        assert_eq!(config.observed, Some(5));
    }

    #[test]
    fn scale_is_bounded() {
        assert_eq!(in_range("scale", 1000, &SCALE), None);
        assert!(in_range("scale", 4_294_967_295, &SCALE).is_some());
    }
}
