//! Decoding services: runtime, scale, environment, mounts and ports, and the checks that need
//! only the service itself (mount names and paths, env names).

use std::collections::HashMap;

use crate::limits::MAX_MOUNTS;
use crate::parse::node::Node;
use crate::resource::{
    DataKind, EnvFrom, Mount, Port, Process, Protocol, Runtime, ServiceSpec, Spanned,
};
use crate::validate::context::DocContext;
use crate::validate::fields::{Fields, allowed};
use crate::validate::rules;

pub fn decode(ctx: &mut DocContext<'_>, fields: &Fields<'_>) -> Option<ServiceSpec> {
    let runtime = runtime(ctx, fields);
    let scale = fields
        .optional("scale")
        .map_or(Some(1), |n| ctx.integer(n, "scale", rules::SCALE))
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
        (image, process) => {
            let problem = rules::runtime(image.is_some(), process.is_some())?;
            let mut diagnostic = match fields.key_span("process").filter(|_| image.is_some()) {
                Some(span) => problem.at(span),
                None => problem.at(fields.anchor()),
            };
            if let (Some(_), Some(image)) = (process, fields.key_span("image")) {
                diagnostic = diagnostic.also(image, "first runtime");
            }
            ctx.push(diagnostic);
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
        && let Some(problem) =
            rules::command(&command.value).or_else(|| rules::no_nul("command", &command.value))
    {
        ctx.push(problem.at(command.span));
    }
    let args = fields
        .optional("args")
        .map(|n| {
            ctx.list(n, "args")
                .iter()
                .filter_map(|a| {
                    let a = ctx.string(a, "args")?;
                    match rules::no_nul("args", &a.value) {
                        Some(problem) => {
                            ctx.push(problem.at(a.span));
                            None
                        }
                        None => Some(a.value),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let workdir = fields
        .optional("workdir")
        .and_then(|w| ctx.string(w, "workdir"));
    if let Some(problem) = workdir
        .as_ref()
        .and_then(|w| rules::no_nul("workdir", &w.value))
    {
        ctx.push(problem.at(workdir.as_ref().map_or(node.span, |w| w.span)));
    }
    let workdir = workdir.map(|w| w.value);
    Some(Process {
        args,
        command: command?.value,
        workdir,
    })
}

fn env(ctx: &mut DocContext<'_>, node: &Node) -> Vec<(Spanned<String>, String)> {
    let pairs = ctx.string_map(node, "env");
    for (name, value) in &pairs {
        if let Some(problem) = rules::env_name(&name.value) {
            ctx.push(problem.at(name.span));
        }
        if let Some(problem) = rules::no_nul(&format!("env.{}", name.value), &value.value) {
            ctx.push(problem.at(value.span));
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
        && let Some(problem) = rules::env_prefix(&prefix.value)
    {
        ctx.push(problem.at(prefix.span));
    }
    let (kind, field) = match (fields.optional("secretRef"), fields.optional("configRef")) {
        (Some(node), None) => (DataKind::Secret, node),
        (None, Some(node)) => (DataKind::ConfigMap, node),
        (secret, config) => {
            if let Some(problem) = rules::env_from_shape(secret.is_some(), config.is_some()) {
                let span = match (secret, fields.key_span("configRef")) {
                    (Some(_), Some(span)) => span,
                    _ => fields.anchor(),
                };
                ctx.push(problem.at(span));
            }
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
    if let Some(problem) = rules::mount_count(all.len()) {
        ctx.push(problem.at(all[MAX_MOUNTS].name.span));
        return;
    }
    let mut names: HashMap<&str, &Mount> = HashMap::new();
    for mount in &all {
        if let Some(first) = names.insert(&mount.name.value, mount) {
            ctx.push(
                rules::mount_name_duplicate(&mount.name.value)
                    .at(mount.name.span)
                    .also(first.name.span, "first used here"),
            );
        }
    }
    let valid: Vec<&Mount> = all
        .into_iter()
        .filter(|m| match rules::mount_path(&m.mount_path.value) {
            Some(problem) => {
                ctx.push(problem.at(m.mount_path.span));
                false
            }
            None => true,
        })
        .collect();
    for (i, a) in valid.iter().enumerate() {
        for b in &valid[i + 1..] {
            if let Some(problem) = rules::mount_overlap(&a.mount_path.value, &b.mount_path.value) {
                ctx.push(
                    problem
                        .at(b.mount_path.span)
                        .also(a.mount_path.span, "the other mount"),
                );
            }
        }
    }
}

fn port(ctx: &mut DocContext<'_>, item: &Node) -> Option<Port> {
    let fields = Fields::open(ctx, item, "port")?;
    fields.reject_unknown(ctx, allowed::PORT);
    let number = fields
        .required(ctx, "port")
        .and_then(|p| ctx.integer(p, "port", rules::PORT))
        .and_then(|p| u16::try_from(p).ok());
    let target_port = fields
        .optional("targetPort")
        .and_then(|p| ctx.integer(p, "targetPort", rules::PORT))
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
        Some(p) => match rules::protocol(&p.value) {
            Ok(protocol) => protocol,
            Err(problem) => {
                ctx.push(problem.at(p.span));
                return None;
            }
        },
    };
    Some(Port {
        name,
        port: number?,
        protocol,
        target_port,
    })
}
