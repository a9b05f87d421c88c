//! A service's own rules on the wire form: runtime shape, process, scale, environment, mounts
//! and ports — the functions lint's `validate::service` calls, at wire field paths.

use std::collections::HashSet;

use crate::resource::Kind;
use crate::server::violation::Findings;
use crate::validate::rules;
use crate::wire::object::{MountSpec, ServiceSpec};

pub(super) fn check(found: &mut Findings<'_>, spec: &ServiceSpec) {
    let runtime_field = if spec.process.is_some() {
        "spec.process"
    } else {
        "spec.image"
    };
    found.add(
        runtime_field,
        rules::runtime(spec.image.is_some(), spec.process.is_some()),
    );
    if let Some(process) = &spec.process {
        found.add(
            "spec.process.command",
            rules::command(&process.command).or_else(|| rules::no_nul("command", &process.command)),
        );
        for (i, arg) in process.args.iter().enumerate() {
            found.add(
                format!("spec.process.args[{i}]"),
                rules::no_nul("args", arg),
            );
        }
        if let Some(workdir) = &process.workdir {
            found.add("spec.process.workdir", rules::no_nul("workdir", workdir));
        }
    }
    found.add(
        "spec.scale",
        rules::in_range("scale", i128::from(spec.scale), &rules::SCALE),
    );
    for (name, value) in &spec.env {
        let field = format!("spec.env.{name}");
        found.add(&field, rules::env_name(name));
        found.add(field, rules::no_nul(&format!("env.{name}"), value));
    }
    for (i, from) in spec.env_from.iter().enumerate() {
        if let Some(prefix) = &from.prefix {
            found.add(
                format!("spec.envFrom[{i}].prefix"),
                rules::env_prefix(prefix),
            );
        }
        if let Some(name) = &from.secret_ref {
            found.add(
                format!("spec.envFrom[{i}].secretRef"),
                rules::name("secret reference", name),
            );
        }
        if let Some(name) = &from.config_ref {
            found.add(
                format!("spec.envFrom[{i}].configRef"),
                rules::name("configmap reference", name),
            );
        }
        {
            found.add(
                format!("spec.envFrom[{i}]"),
                rules::env_from_shape(from.secret_ref.is_some(), from.config_ref.is_some()),
            );
        }
    }
    check_mounts(found, spec);
    for (i, port) in spec.ports.iter().enumerate() {
        found.add(
            format!("spec.ports[{i}].port"),
            rules::in_range("port", i128::from(port.port), &rules::PORT),
        );
        if let Some(target) = port.target_port {
            found.add(
                format!("spec.ports[{i}].targetPort"),
                rules::in_range("targetPort", i128::from(target), &rules::PORT),
            );
        }
        if let Some(name) = &port.name {
            found.add(
                format!("spec.ports[{i}].name"),
                rules::name("port name", name),
            );
        }
        found.add(
            format!("spec.ports[{i}].protocol"),
            rules::protocol(&port.protocol).err(),
        );
    }
}

/// Mount names unique across both lists; paths absolute, normalised and not nested.
fn check_mounts(found: &mut Findings<'_>, spec: &ServiceSpec) {
    let all: Vec<(String, &MountSpec, &str)> = spec
        .secret_mounts
        .iter()
        .enumerate()
        .map(|(i, m)| (format!("spec.secretMounts[{i}]"), m, "`secretName`"))
        .chain(
            spec.config_mounts
                .iter()
                .enumerate()
                .map(|(i, m)| (format!("spec.configMounts[{i}]"), m, "`configName`")),
        )
        .collect();
    if let Some(problem) = rules::mount_count(all.len()) {
        found.add("spec", Some(problem));
        return;
    }
    let mut names: HashSet<&str> = HashSet::with_capacity(all.len());
    let mut valid = Vec::with_capacity(all.len());
    for (field, mount, what) in &all {
        found.add(
            format!("{field}.name"),
            rules::name("mount name", &mount.name),
        );
        found.add(format!("{field}.source"), rules::name(what, &mount.source));
        if !names.insert(&mount.name) {
            found.add(
                format!("{field}.name"),
                Some(rules::mount_name_duplicate(&mount.name)),
            );
        }
        match rules::mount_path(&mount.mount_path) {
            Some(problem) => found.add(format!("{field}.mountPath"), Some(problem)),
            None => valid.push((field, mount)),
        }
    }
    for (i, (_, a)) in valid.iter().enumerate() {
        for (field, b) in &valid[i + 1..] {
            found.add(
                format!("{field}.mountPath"),
                rules::mount_overlap(&a.mount_path, &b.mount_path),
            );
        }
    }
}

/// The secrets and configmaps a service mounts or imports, by kind and name.
pub fn service_references(spec: &ServiceSpec) -> impl Iterator<Item = (Kind, &str)> {
    let mounts = spec
        .secret_mounts
        .iter()
        .map(|m| (Kind::Secret, m.source.as_str()))
        .chain(
            spec.config_mounts
                .iter()
                .map(|m| (Kind::ConfigMap, m.source.as_str())),
        );
    let env = spec.env_from.iter().flat_map(|e| {
        e.secret_ref
            .iter()
            .map(|n| (Kind::Secret, n.as_str()))
            .chain(e.config_ref.iter().map(|n| (Kind::ConfigMap, n.as_str())))
    });
    mounts.chain(env)
}

/// [`service_references`] with the field path of each reference.
pub fn reference_fields(spec: &ServiceSpec) -> impl Iterator<Item = (Kind, &str, String)> {
    let mounts = spec
        .secret_mounts
        .iter()
        .enumerate()
        .map(|(i, m)| {
            (
                Kind::Secret,
                m.source.as_str(),
                format!("spec.secretMounts[{i}].source"),
            )
        })
        .chain(spec.config_mounts.iter().enumerate().map(|(i, m)| {
            (
                Kind::ConfigMap,
                m.source.as_str(),
                format!("spec.configMounts[{i}].source"),
            )
        }));
    let env = spec.env_from.iter().enumerate().flat_map(|(i, e)| {
        e.secret_ref
            .iter()
            .map(move |n| {
                (
                    Kind::Secret,
                    n.as_str(),
                    format!("spec.envFrom[{i}].secretRef"),
                )
            })
            .chain(e.config_ref.iter().map(move |n| {
                (
                    Kind::ConfigMap,
                    n.as_str(),
                    format!("spec.envFrom[{i}].configRef"),
                )
            }))
    });
    mounts.chain(env)
}
