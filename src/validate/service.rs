//! Decoding services: runtime, scale, environment, mounts and ports, and the checks that need
//! only the service itself (mount names and paths, env names).

use std::collections::HashMap;

use crate::diag::{Code, Diagnostic};
use crate::parse::node::Node;
use crate::resource::{
    DataKind, EnvFrom, Mount, Port, Process, Protocol, Runtime, ServiceSpec, Spanned,
};
use crate::validate::context::DocContext;
use crate::validate::fields::{Fields, allowed};
use crate::validate::names::is_env_name;

pub fn decode(ctx: &mut DocContext<'_>, fields: &Fields<'_>) -> Option<ServiceSpec> {
    let runtime = runtime(ctx, fields);
    let scale = fields
        .optional("scale")
        .map_or(Some(1), |n| ctx.integer(n, "scale", 0..=1000))
        .and_then(|n| u32::try_from(n).ok());
    let env = fields
        .optional("env")
        .map(|n| env(ctx, n))
        .unwrap_or_default();
    let env_from = fields
        .optional("envFrom")
        .map(|n| {
            ctx.list(n, "envFrom")
                .iter()
                .filter_map(|item| env_from(ctx, item))
                .collect()
        })
        .unwrap_or_default();
    let secret_mounts = mounts(ctx, fields.optional("secretMounts"), DataKind::Secret);
    let config_mounts = mounts(ctx, fields.optional("configMounts"), DataKind::ConfigMap);
    check_mounts(ctx, &secret_mounts, &config_mounts);
    let ports = fields
        .optional("ports")
        .map(|n| {
            ctx.list(n, "ports")
                .iter()
                .filter_map(|item| port(ctx, item))
                .collect()
        })
        .unwrap_or_default();
    Some(ServiceSpec {
        config_mounts,
        env,
        env_from,
        ports,
        runtime: runtime?,
        scale: scale?,
        secret_mounts,
    })
}

/// Exactly one of `image:` and `process:`.
fn runtime(ctx: &mut DocContext<'_>, fields: &Fields<'_>) -> Option<Runtime> {
    match (fields.optional("image"), fields.optional("process")) {
        (Some(image), None) => ctx.string(image, "image").map(|i| Runtime::Image(i.value)),
        (None, Some(process)) => self::process(ctx, process).map(Runtime::Process),
        (Some(_), Some(_)) => {
            let span = fields.key_span("process").unwrap_or(fields.anchor());
            let mut diagnostic = Diagnostic::new(
                Code::FieldConflict,
                span,
                "a service has either `image` or `process`, not both",
            )
            .label("second runtime");
            if let Some(image) = fields.key_span("image") {
                diagnostic = diagnostic.also(image, "first runtime");
            }
            ctx.push(
                diagnostic
                    .help("`process:` runs a command under runed; `image:` names a container"),
            );
            None
        }
        (None, None) => {
            ctx.push(
                Diagnostic::new(
                    Code::FieldRequired,
                    fields.anchor(),
                    "service has neither `image` nor `process`",
                )
                .label("no runtime")
                .help(
                    "add `process: {command: …}` to run a command, or `image: …` for a container",
                ),
            );
            None
        }
    }
}

fn process(ctx: &mut DocContext<'_>, node: &Node) -> Option<Process> {
    let fields = Fields::open(ctx, node, "process")?;
    fields.reject_unknown(ctx, allowed::PROCESS);
    let command = fields
        .required(ctx, "command")
        .and_then(|c| ctx.string(c, "command"));
    if let Some(command) = &command
        && command.value.trim().is_empty()
    {
        ctx.push(
            Diagnostic::new(Code::FieldValue, command.span, "`command` is empty")
                .label("empty command"),
        );
    }
    let args = fields
        .optional("args")
        .map(|n| {
            ctx.list(n, "args")
                .iter()
                .filter_map(|a| ctx.string(a, "args").map(|s| s.value))
                .collect()
        })
        .unwrap_or_default();
    let workdir = fields
        .optional("workdir")
        .and_then(|w| ctx.string(w, "workdir"))
        .map(|w| w.value);
    Some(Process {
        args,
        command: command?.value,
        workdir,
    })
}

fn env(ctx: &mut DocContext<'_>, node: &Node) -> Vec<(Spanned<String>, String)> {
    let pairs = ctx.string_map(node, "env");
    for (name, _) in &pairs {
        if !is_env_name(&name.value) {
            ctx.push(
                Diagnostic::new(
                    Code::EnvNameInvalid,
                    name.span,
                    format!("`{}` is not a valid environment variable name", name.value),
                )
                .label("invalid name")
                .help("environment variable names match `[A-Za-z_][A-Za-z0-9_]*`"),
            );
        }
    }
    pairs
        .into_iter()
        .map(|(name, value)| (name, value.value))
        .collect()
}

fn env_from(ctx: &mut DocContext<'_>, item: &Node) -> Option<EnvFrom> {
    let fields = Fields::open(ctx, item, "`envFrom` entry")?;
    fields.reject_unknown(ctx, allowed::ENV_FROM);
    let prefix = fields
        .optional("prefix")
        .and_then(|p| ctx.string(p, "prefix"));
    if let Some(prefix) = &prefix
        && !prefix.value.is_empty()
        && !is_env_name(&prefix.value)
    {
        ctx.push(
            Diagnostic::new(
                Code::EnvNameInvalid,
                prefix.span,
                format!(
                    "prefix `{}` cannot start an environment variable name",
                    prefix.value
                ),
            )
            .label("invalid prefix")
            .help("a prefix matches `[A-Za-z_][A-Za-z0-9_]*`"),
        );
    }
    let (kind, field) = match (fields.optional("secretRef"), fields.optional("configRef")) {
        (Some(node), None) => (DataKind::Secret, node),
        (None, Some(node)) => (DataKind::ConfigMap, node),
        (Some(_), Some(_)) => {
            ctx.push(
                Diagnostic::new(
                    Code::FieldConflict,
                    fields.key_span("configRef").unwrap_or(fields.anchor()),
                    "an `envFrom` entry has either `secretRef` or `configRef`, not both",
                )
                .label("second source")
                .help("write one `envFrom` entry per source"),
            );
            return None;
        }
        (None, None) => {
            ctx.push(
                Diagnostic::new(
                    Code::FieldRequired,
                    fields.anchor(),
                    "`envFrom` entry names no source",
                )
                .label("needs `secretRef` or `configRef`"),
            );
            return None;
        }
    };
    let what = match kind {
        DataKind::ConfigMap => "configmap reference",
        DataKind::Secret => "secret reference",
    };
    let name = ctx.dns_name(field, "ref", what)?;
    Some(EnvFrom {
        kind,
        name,
        prefix,
        span: item.span,
    })
}

fn mounts(ctx: &mut DocContext<'_>, node: Option<&Node>, kind: DataKind) -> Vec<Mount> {
    let Some(node) = node else { return Vec::new() };
    let (field, source_field, allowed) = match kind {
        DataKind::ConfigMap => ("configMounts", "configName", allowed::CONFIG_MOUNT),
        DataKind::Secret => ("secretMounts", "secretName", allowed::SECRET_MOUNT),
    };
    let what = format!("`{field}` entry");
    let mut mounts = Vec::new();
    for item in ctx.list(node, field) {
        let Some(fields) = Fields::open(ctx, item, &what) else {
            continue;
        };
        fields.reject_unknown(ctx, allowed);
        let name = fields
            .required(ctx, "name")
            .and_then(|n| ctx.dns_name(n, "name", "mount name"));
        let source = fields
            .required(ctx, source_field)
            .and_then(|n| ctx.dns_name(n, source_field, &format!("`{source_field}`")));
        let mount_path = fields
            .required(ctx, "mountPath")
            .and_then(|n| ctx.string(n, "mountPath"));
        if let (Some(name), Some(source), Some(mount_path)) = (name, source, mount_path) {
            mounts.push(Mount {
                kind,
                mount_path,
                name,
                source,
            });
        }
    }
    mounts
}

/// Mount names unique; paths absolute, normalised and not nested in one another.
fn check_mounts(ctx: &mut DocContext<'_>, secret_mounts: &[Mount], config_mounts: &[Mount]) {
    // In file order, so that "first used here" is the one written first.
    let mut all: Vec<&Mount> = secret_mounts.iter().chain(config_mounts).collect();
    all.sort_by_key(|m| m.name.span);
    let mut names: HashMap<&str, &Mount> = HashMap::new();
    for mount in &all {
        if let Some(first) = names.insert(&mount.name.value, mount) {
            ctx.push(
                Diagnostic::new(
                    Code::MountNameDuplicate,
                    mount.name.span,
                    format!(
                        "mount name `{}` is used twice in this service",
                        mount.name.value
                    ),
                )
                .label("used again here")
                .also(first.name.span, "first used here")
                .help("mount names are unique across `secretMounts` and `configMounts`"),
            );
        }
    }
    let valid: Vec<&Mount> = all
        .into_iter()
        .filter(|m| check_mount_path(ctx, &m.mount_path))
        .collect();
    for (i, a) in valid.iter().enumerate() {
        for b in &valid[i + 1..] {
            if let Some(relation) = overlap(&a.mount_path.value, &b.mount_path.value) {
                ctx.push(
                    Diagnostic::new(
                        Code::MountPathOverlap,
                        b.mount_path.span,
                        format!(
                            "mount path `{}` {relation} `{}`",
                            b.mount_path.value, a.mount_path.value
                        ),
                    )
                    .label("overlapping mount")
                    .also(a.mount_path.span, "the other mount")
                    .help("each mount is its own directory: give every mount a path outside the others"),
                );
            }
        }
    }
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

fn check_mount_path(ctx: &mut DocContext<'_>, path: &Spanned<String>) -> bool {
    let problem = if !path.value.starts_with('/') {
        Some("it is not absolute")
    } else if path.value == "/" {
        Some("mounting over `/` would hide the whole file system")
    } else if path.value.ends_with('/') || path.value.contains("//") {
        Some("it has an empty component or a trailing `/`")
    } else if path.value.split('/').any(|c| c == "." || c == "..") {
        Some("it has a `.` or `..` component")
    } else {
        None
    };
    let Some(problem) = problem else { return true };
    let normalised = normalise(&path.value);
    let help = match normalised {
        Some(n) if n != path.value => format!("write it as `{n}`"),
        _ => "mount paths are absolute and normalised, like `/etc/secrets/db`".to_owned(),
    };
    ctx.push(
        Diagnostic::new(
            Code::MountPathInvalid,
            path.span,
            format!("mount path `{}` is not usable: {problem}", path.value),
        )
        .label("invalid mount path")
        .help(help),
    );
    false
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

fn port(ctx: &mut DocContext<'_>, item: &Node) -> Option<Port> {
    let fields = Fields::open(ctx, item, "port")?;
    fields.reject_unknown(ctx, allowed::PORT);
    let number = fields
        .required(ctx, "port")
        .and_then(|p| ctx.integer(p, "port", 1..=65_535))
        .and_then(|p| u16::try_from(p).ok());
    let target_port = fields
        .optional("targetPort")
        .and_then(|p| ctx.integer(p, "targetPort", 1..=65_535))
        .and_then(|p| u16::try_from(p).ok());
    let name = fields
        .optional("name")
        .and_then(|n| ctx.dns_name(n, "name", "port name"))
        .map(|n| n.value);
    let protocol = match fields
        .optional("protocol")
        .and_then(|p| ctx.string(p, "protocol"))
    {
        None => Protocol::Tcp,
        Some(p) if p.value.eq_ignore_ascii_case("tcp") => Protocol::Tcp,
        Some(p) if p.value.eq_ignore_ascii_case("udp") => Protocol::Udp,
        Some(p) => {
            ctx.push(
                Diagnostic::new(
                    Code::FieldValue,
                    p.span,
                    format!("unknown protocol `{}`", p.value),
                )
                .label("not a protocol")
                .help("`protocol` is `tcp` or `udp`"),
            );
            return None;
        }
    };
    Some(Port {
        name,
        port: number?,
        protocol,
        target_port,
    })
}

#[cfg(test)]
mod tests {
    use super::{normalise, overlap};

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
}
