//! `rune describe service NAME`: how a service consumes its secrets and configmaps — every
//! environment variable and mounted file with its source and version, never a value — and its
//! instances as runed runs them, with the versions each started with (an instance that runs an
//! older version than the current one is marked: `rune restart` updates it).
//!
//! Precedence (SPEC §5): `envFrom` entries in order (a later entry wins), then explicit `env`
//! (wins over every `envFrom`), then the `RUNE_*` variables runed sets itself.

use std::fmt::Write as _;

use serde::Serialize;

use crate::cli::args::{DescribeArgs, GlobalArgs, OutputFormat};
use crate::cli::cmd::get::kind_and_required_name;
use crate::cli::error::{CliError, ExitCode};
use crate::cli::output;
use crate::cli::present;
use crate::cli::target;
use crate::client::{Backend, ClientError};
use crate::resource::Kind;
use crate::validate::names::is_env_name;
use crate::wire::error::ErrorKind;
use crate::wire::object::{KindName, ObjectKey, ServiceSpec, StoredSpec};
use crate::wire::runner::InstanceStatus;

/// Where one variable or file comes from.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Source {
    /// `env`, `secret`, `configmap` or `runed`.
    from: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    object: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<u64>,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.object, &self.key, self.version) {
            (Some(object), Some(key), Some(version)) => {
                write!(f, "{} {object}/{key} v{version}", self.from)
            }
            (Some(object), _, _) => write!(f, "{} {object} (not found)", self.from),
            _ => f.write_str(self.from),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct EnvVar {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    shadowed_by: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    skipped: bool,
    source: Source,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct MountedFile {
    mode: &'static str,
    path: String,
    source: Source,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Description {
    env: Vec<EnvVar>,
    files: Vec<MountedFile>,
    /// `None` when no runner is active (the embedded engine).
    instances: Option<Vec<InstanceStatus>>,
    name: String,
    namespace: String,
    /// Why the instances are not shown or not run, when they are not.
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
    runtime: String,
    scale: u32,
}

pub fn run(args: &DescribeArgs, global: &GlobalArgs) -> Result<ExitCode, CliError> {
    let (kind, name) = kind_and_required_name(&args.kind, args.name.as_deref())?;
    if kind != Kind::Service {
        return Err(CliError::Usage(
            "`rune describe` describes services: `rune describe service NAME`".to_owned(),
        ));
    }
    let target = target::select_for(global, target::Access::Read)?;
    let key = ObjectKey {
        kind: KindName(Kind::Service),
        name,
        namespace: target.namespace.clone(),
    };
    let listed = target.backend.get(&key)?;
    let StoredSpec::Service(spec) = &listed.object.spec else {
        return Err(CliError::Usage(format!("{key} is not a service")));
    };
    let (instances, note) = match target.backend.status(Some(&key.namespace)) {
        Ok(status) => {
            let service = status.services.into_iter().find(|s| s.name == key.name);
            let note = match &service {
                Some(s) if !s.runnable => s.reason.clone(),
                Some(_) => status.mount_namespaces_reason,
                None => None,
            };
            (Some(service.map(|s| s.instances).unwrap_or_default()), note)
        }
        Err(ClientError::NoRunner) => (
            None,
            Some("not run: the embedded engine stores services; runed runs them".to_owned()),
        ),
        Err(other) => return Err(other.into()),
    };
    let description = Description {
        env: environment(target.backend.as_ref(), &key.namespace, spec)?,
        files: files(target.backend.as_ref(), &key.namespace, spec)?,
        instances,
        note,
        name: key.name.clone(),
        namespace: key.namespace.clone(),
        runtime: match (&spec.image, &spec.process) {
            (Some(image), _) => {
                format!("image {image} (stored and validated; runed runs only `process:` services)")
            }
            (None, Some(p)) => format!("process {} {}", p.command, p.args.join(" "))
                .trim_end()
                .to_owned(),
            (None, None) => "none".to_owned(),
        },
        scale: spec.scale,
    };
    let text = if global.output == Some(OutputFormat::Json) {
        format!(
            "{}\n",
            serde_json::to_string_pretty(&description).unwrap_or_default()
        )
    } else {
        text(&description)
    };
    output::print(text)?;
    Ok(ExitCode::Success)
}

/// The keys and version of a referenced secret or configmap, or `None` when it is missing.
fn data_of(
    backend: &dyn Backend,
    kind: Kind,
    namespace: &str,
    name: &str,
) -> Result<Option<(Vec<String>, u64)>, CliError> {
    let key = ObjectKey {
        kind: KindName(kind),
        name: name.to_owned(),
        namespace: namespace.to_owned(),
    };
    match backend.get(&key) {
        Ok(listed) => {
            let keys = match listed.object.spec {
                StoredSpec::Secret { keys } => keys,
                StoredSpec::ConfigMap { data } => data.into_keys().collect(),
                _ => Vec::new(),
            };
            Ok(Some((keys, listed.object.version)))
        }
        Err(ClientError::Api(error)) if error.kind == ErrorKind::NotFound => Ok(None),
        Err(other) => Err(other.into()),
    }
}

fn environment(
    backend: &dyn Backend,
    namespace: &str,
    spec: &ServiceSpec,
) -> Result<Vec<EnvVar>, CliError> {
    let mut vars: Vec<EnvVar> = Vec::new();
    for entry in &spec.env_from {
        let (kind, from, name) = match (&entry.secret_ref, &entry.config_ref) {
            (Some(name), _) => (Kind::Secret, "secret", name),
            (None, Some(name)) => (Kind::ConfigMap, "configmap", name),
            (None, None) => continue,
        };
        let prefix = entry.prefix.as_deref().unwrap_or("");
        let Some((keys, version)) = data_of(backend, kind, namespace, name)? else {
            vars.push(EnvVar {
                name: format!("{prefix}*"),
                shadowed_by: None,
                skipped: true,
                source: Source {
                    from,
                    key: None,
                    object: Some(name.clone()),
                    version: None,
                },
            });
            continue;
        };
        for data_key in keys {
            let var = format!("{prefix}{data_key}");
            let source = Source {
                from,
                key: Some(data_key),
                object: Some(name.clone()),
                version: Some(version),
            };
            shadow(&mut vars, &var, &source.to_string());
            vars.push(EnvVar {
                skipped: !is_env_name(&var),
                name: var,
                shadowed_by: None,
                source,
            });
        }
    }
    for name in spec.env.keys() {
        shadow(&mut vars, name, "env");
        vars.push(EnvVar {
            name: name.clone(),
            shadowed_by: None,
            skipped: false,
            source: Source {
                from: "env",
                key: None,
                object: None,
                version: None,
            },
        });
    }
    for name in ["RUNE_INSTANCE", "RUNE_NAMESPACE", "RUNE_SERVICE_NAME"] {
        shadow(&mut vars, name, "runed");
        vars.push(EnvVar {
            name: name.to_owned(),
            shadowed_by: None,
            skipped: false,
            source: Source {
                from: "runed",
                key: None,
                object: None,
                version: None,
            },
        });
    }
    Ok(vars)
}

/// Marks every earlier live definition of `name` as shadowed by `by`.
fn shadow(vars: &mut [EnvVar], name: &str, by: &str) {
    for var in vars
        .iter_mut()
        .filter(|v| v.name == name && v.shadowed_by.is_none() && !v.skipped)
    {
        var.shadowed_by = Some(by.to_owned());
    }
}

fn files(
    backend: &dyn Backend,
    namespace: &str,
    spec: &ServiceSpec,
) -> Result<Vec<MountedFile>, CliError> {
    let mut files = Vec::new();
    let mounts = spec
        .secret_mounts
        .iter()
        .map(|m| (m, Kind::Secret, "secret", "0400"))
        .chain(
            spec.config_mounts
                .iter()
                .map(|m| (m, Kind::ConfigMap, "configmap", "0444")),
        );
    for (mount, kind, from, mode) in mounts {
        match data_of(backend, kind, namespace, &mount.source)? {
            Some((keys, version)) => files.extend(keys.into_iter().map(|key| MountedFile {
                mode,
                path: format!("{}/{key}", mount.mount_path),
                source: Source {
                    from,
                    key: Some(key),
                    object: Some(mount.source.clone()),
                    version: Some(version),
                },
            })),
            None => files.push(MountedFile {
                mode,
                path: format!("{}/*", mount.mount_path),
                source: Source {
                    from,
                    key: None,
                    object: Some(mount.source.clone()),
                    version: None,
                },
            }),
        }
    }
    Ok(files)
}

fn text(d: &Description) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Name:       {}", d.name);
    let _ = writeln!(out, "Namespace:  {}", d.namespace);
    let _ = writeln!(out, "Runtime:    {}", d.runtime);
    let _ = writeln!(out, "Scale:      {}", d.scale);
    let width = d.env.iter().map(|v| v.name.len()).max().unwrap_or(0);
    out.push_str("Environment:\n");
    for var in &d.env {
        let note = match (&var.shadowed_by, var.skipped) {
            (_, true) => "  (skipped: not a valid environment variable name)".to_owned(),
            (Some(by), _) => format!("  (shadowed by {by})"),
            _ => String::new(),
        };
        let _ = writeln!(out, "  {:<width$} ← {}{note}", var.name, var.source);
    }
    out.push_str("Files:\n");
    if d.files.is_empty() {
        out.push_str("  (none)\n");
    }
    let width = d.files.iter().map(|f| f.path.len()).max().unwrap_or(0);
    for file in &d.files {
        let _ = writeln!(
            out,
            "  {:<width$} ← {} ({})",
            file.path, file.source, file.mode
        );
    }
    out.push_str("Instances:\n");
    if let Some(note) = &d.note {
        let _ = writeln!(out, "  ({note})");
    }
    for instance in d.instances.iter().flatten() {
        let _ = writeln!(
            out,
            "  {}  {}  restarts {}  started {}",
            instance.index,
            present::instance_state(instance),
            instance.restarts,
            instance.started_at.as_deref().unwrap_or("-")
        );
        let versions: Vec<String> = instance
            .versions
            .iter()
            .map(|(object, version)| format!("{object} v{version}"))
            .collect();
        if !versions.is_empty() {
            let _ = writeln!(out, "     started with {}", versions.join(", "));
        }
        if !instance.outdated.is_empty() {
            let _ = writeln!(
                out,
                "     outdated: runs {}; `rune restart {}` updates it",
                instance.outdated.join(", "),
                d.name
            );
        }
        for event in instance.events.iter().rev().take(5).rev() {
            let _ = writeln!(out, "     {}  {}", event.at, event.message);
        }
    }
    out
}
