//! The rules of a service that need only the service: runtime shape, command, environment
//! names, mounts and ports.

use crate::diag::Code;
use crate::limits::MAX_MOUNTS;
use crate::resource::Protocol;
use crate::validate::names::is_env_name;
use crate::validate::rules::{Problem, visible};

/// Exactly one of `image:` and `process:`.
#[must_use]
pub fn runtime(image: bool, process: bool) -> Option<Problem> {
    match (image, process) {
        (true, true) => Some(
            Problem::new(
                Code::FieldConflict,
                "a service has either `image` or `process`, not both",
                "second runtime",
            )
            .help("`process:` runs a command under runed; `image:` names a container"),
        ),
        (false, false) => Some(
            Problem::new(
                Code::FieldRequired,
                "service has neither `image` nor `process`",
                "no runtime",
            )
            .help("add `process: {command: …}` to run a command, or `image: …` for a container"),
        ),
        _ => None,
    }
}

/// An `envFrom` entry: exactly one of `secretRef` and `configRef`.
#[must_use]
pub fn env_from_shape(secret: bool, config: bool) -> Option<Problem> {
    match (secret, config) {
        (true, true) => Some(
            Problem::new(
                Code::FieldConflict,
                "an `envFrom` entry has either `secretRef` or `configRef`, not both",
                "second source",
            )
            .help("write one `envFrom` entry per source"),
        ),
        (false, false) => Some(Problem::new(
            Code::FieldRequired,
            "`envFrom` entry names no source",
            "needs `secretRef` or `configRef`",
        )),
        _ => None,
    }
}

/// A process's command: something to run.
#[must_use]
pub fn command(command: &str) -> Option<Problem> {
    command
        .trim()
        .is_empty()
        .then(|| Problem::new(Code::FieldValue, "`command` is empty", "empty command"))
}

/// Text handed to the operating system (a command, an argument, a working directory, an
/// environment value) cannot hold a NUL byte: `exec` would cut it there or refuse it.
#[must_use]
pub fn no_nul(field: &str, value: &str) -> Option<Problem> {
    value.contains('\0').then(|| {
        Problem::new(
            Code::FieldValue,
            format!("`{field}` contains a NUL character"),
            "NUL character",
        )
        .help("the operating system ends a string at NUL: remove it")
    })
}

/// An `env` name: `[A-Za-z_][A-Za-z0-9_]*` (so never `=` or NUL, which would forge another
/// variable or cut this one).
#[must_use]
pub fn env_name(name: &str) -> Option<Problem> {
    (!is_env_name(name)).then(|| {
        Problem::new(
            Code::EnvNameInvalid,
            format!(
                "`{}` is not a valid environment variable name",
                visible(name)
            ),
            "invalid name",
        )
        .help("environment variable names match `[A-Za-z_][A-Za-z0-9_]*`")
    })
}

/// An `envFrom` prefix: empty, or the start of a valid name.
#[must_use]
pub fn env_prefix(prefix: &str) -> Option<Problem> {
    (!prefix.is_empty() && !is_env_name(prefix)).then(|| {
        Problem::new(
            Code::EnvNameInvalid,
            format!(
                "prefix `{}` cannot start an environment variable name",
                visible(prefix)
            ),
            "invalid prefix",
        )
        .help("a prefix matches `[A-Za-z_][A-Za-z0-9_]*`")
    })
}

/// The mounts of one service, counted: their paths are compared pairwise.
#[must_use]
pub fn mount_count(count: usize) -> Option<Problem> {
    (count > MAX_MOUNTS).then(|| {
        Problem::new(
            Code::FieldValue,
            format!("{count} mounts, more than the limit of {MAX_MOUNTS} per service"),
            "too many mounts",
        )
        .help("mount a whole secret or configmap once instead of many small ones")
        .limit(MAX_MOUNTS, Some(count as u64))
    })
}

/// A second mount with a name already used in the service.
#[must_use]
pub fn mount_name_duplicate(name: &str) -> Problem {
    Problem::new(
        Code::MountNameDuplicate,
        format!(
            "mount name `{}` is used twice in this service",
            visible(name)
        ),
        "used again here",
    )
    .help("mount names are unique across `secretMounts` and `configMounts`")
}

/// A mount path: absolute, normalised, not `/`.
#[must_use]
pub fn mount_path(path: &str) -> Option<Problem> {
    let problem = if !path.starts_with('/') {
        "it is not absolute"
    } else if path == "/" {
        "mounting over `/` would hide the whole file system"
    } else if path.ends_with('/') || path.contains("//") {
        "it has an empty component or a trailing `/`"
    } else if path.split('/').any(|c| c == "." || c == "..") {
        "it has a `.` or `..` component"
    } else if path.contains('\0') {
        "it contains a NUL character"
    } else {
        return None;
    };
    let help = match normalise(path) {
        Some(n) if n != path => format!("write it as `{n}`"),
        _ => "mount paths are absolute and normalised, like `/etc/secrets/db`".to_owned(),
    };
    Some(
        Problem::new(
            Code::MountPathInvalid,
            format!("mount path `{}` is not usable: {problem}", visible(path)),
            "invalid mount path",
        )
        .help(help),
    )
}

/// Two valid mount paths that are equal or nested; `a` is the one written first.
#[must_use]
pub fn mount_overlap(a: &str, b: &str) -> Option<Problem> {
    let relation = overlap(a, b)?;
    Some(
        Problem::new(
            Code::MountPathOverlap,
            format!("mount path `{}` {relation} `{}`", visible(b), visible(a)),
            "overlapping mount",
        )
        .help("each mount is its own directory: give every mount a path outside the others"),
    )
}

fn overlap(a: &str, b: &str) -> Option<&'static str> {
    if a == b {
        Some("is the same as")
    } else if b.starts_with(a) && b.as_bytes().get(a.len()) == Some(&b'/') {
        Some("lies inside")
    } else if a.starts_with(b) && a.as_bytes().get(b.len()) == Some(&b'/') {
        Some("contains")
    } else {
        None
    }
}

fn normalise(path: &str) -> Option<String> {
    if !path.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    (!parts.is_empty()).then(|| format!("/{}", parts.join("/")))
}

/// A port's protocol: `tcp` or `udp`, in any case.
pub fn protocol(text: &str) -> Result<Protocol, Problem> {
    if text.eq_ignore_ascii_case("tcp") {
        Ok(Protocol::Tcp)
    } else if text.eq_ignore_ascii_case("udp") {
        Ok(Protocol::Udp)
    } else {
        Err(Problem::new(
            Code::FieldValue,
            format!("unknown protocol `{}`", visible(text)),
            "not a protocol",
        )
        .help("`protocol` is `tcp` or `udp`"))
    }
}

#[cfg(test)]
mod tests {
    use super::{env_name, normalise, overlap, runtime};

    #[test]
    fn nested_and_equal_paths_overlap() {
        assert_eq!(overlap("/etc/a", "/etc/a"), Some("is the same as"));
        assert_eq!(overlap("/etc", "/etc/a"), Some("lies inside"));
        assert_eq!(overlap("/etc/a", "/etc"), Some("contains"));
        assert_eq!(overlap("/etc/a", "/etc/ab"), None);
    }

    #[test]
    fn normalising_paths() {
        assert_eq!(normalise("/etc//a/./b/").as_deref(), Some("/etc/a/b"));
        assert_eq!(normalise("/etc/a/../b").as_deref(), Some("/etc/b"));
        assert_eq!(normalise("etc"), None);
    }

    #[test]
    fn env_names_refuse_what_would_forge_a_variable() {
        assert!(env_name("A=B").is_some());
        assert!(env_name("A\0B").is_some());
        assert_eq!(env_name("LOG_LEVEL"), None);
    }

    #[test]
    fn exactly_one_runtime() {
        assert!(runtime(true, true).is_some());
        assert!(runtime(false, false).is_some());
        assert_eq!(runtime(true, false), None);
    }
}
