//! The name rules of SPEC §2.3, as plain predicates with the reason a name fails.

/// Why a name is not a DNS-1123 label, or `None` when it is one.
#[must_use]
pub fn dns1123_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("it is empty");
    }
    if name.len() > 63 {
        return Some("it is longer than 63 characters");
    }
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        return Some("it contains upper-case letters");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Some("only lower-case letters, digits and `-` are allowed");
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Some("it must start and end with a letter or digit");
    }
    None
}

/// A DNS-1123 label close to `name`, offered as the fix (`My_DB` → `my-db`).
#[must_use]
pub fn dns1123_suggestion(name: &str) -> Option<String> {
    let mut fixed: String = name
        .chars()
        .map(|c| match c {
            'A'..='Z' => c.to_ascii_lowercase(),
            'a'..='z' | '0'..='9' | '-' => c,
            _ => '-',
        })
        .collect();
    while fixed.contains("--") {
        fixed = fixed.replace("--", "-");
    }
    let fixed = fixed.trim_matches('-');
    let fixed: String = fixed.chars().take(63).collect();
    let fixed = fixed.trim_end_matches('-').to_owned();
    (dns1123_problem(&fixed).is_none() && fixed != name).then_some(fixed)
}

/// Why a data key is not safe as a file name, or `None` when it is fine.
#[must_use]
pub fn data_key_problem(key: &str) -> Option<&'static str> {
    if key.is_empty() {
        return Some("it is empty");
    }
    if key.len() > 253 {
        return Some("it is longer than 253 characters");
    }
    if key == "." || key == ".." {
        return Some("`.` and `..` are not file names");
    }
    if !key
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
    {
        return Some("only letters, digits, `-`, `.` and `_` are allowed");
    }
    None
}

/// `[A-Za-z_][A-Za-z0-9_]*`: what a shell and `env` accept as a variable name.
#[must_use]
pub fn is_env_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns1123_labels() {
        for good in ["a", "db-credentials", "a1", "0", &"a".repeat(63)] {
            assert_eq!(dns1123_problem(good), None, "{good}");
        }
        for bad in ["", "-a", "a-", "A", "a_b", "a.b", &"a".repeat(64)] {
            assert!(dns1123_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn suggestions_are_valid_labels() {
        assert_eq!(dns1123_suggestion("My_DB").as_deref(), Some("my-db"));
        assert_eq!(dns1123_suggestion("db.prod").as_deref(), Some("db-prod"));
        assert_eq!(dns1123_suggestion("ok"), None);
        assert_eq!(dns1123_suggestion("__"), None);
    }

    #[test]
    fn data_keys() {
        for good in ["a", "tls.crt", "LOG_LEVEL", "-x", "a..b"] {
            assert_eq!(data_key_problem(good), None, "{good}");
        }
        for bad in ["", ".", "..", "a/b", "a b", &"k".repeat(254)] {
            assert!(data_key_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn env_names() {
        assert!(is_env_name("LOG_LEVEL"));
        assert!(is_env_name("_x1"));
        assert!(!is_env_name("1X"));
        assert!(!is_env_name("log-level"));
        assert!(!is_env_name(""));
    }
}
