//! How stored objects are shown: tables, runefile YAML that casts back unchanged, and JSON.
//! Secrets have no values here to show, and their YAML is metadata, not a runefile (casting it
//! back must not look like "remove every key").

use std::fmt::Write;

use serde_json::{Map, Value, json};

use crate::resource::Kind;
use crate::wire::batch::Listed;
use crate::wire::object::{ServiceSpec, Stored, StoredSpec};
use crate::wire::runner::{InstanceStatus, RunnerStatus, ServiceStatus, State};

/// `secrets`, `config`, `storageclass`… → a kind.
pub fn parse_kind(word: &str) -> Option<Kind> {
    match word.to_ascii_lowercase().as_str() {
        "secret" | "secrets" => Some(Kind::Secret),
        "config" | "configs" | "configmap" | "configmaps" | "cm" => Some(Kind::ConfigMap),
        "service" | "services" | "svc" => Some(Kind::Service),
        "namespace" | "namespaces" | "ns" => Some(Kind::Namespace),
        "storageclass" | "storageclasses" | "sc" => Some(Kind::StorageClass),
        "volume" | "volumes" | "vol" => Some(Kind::Volume),
        _ => None,
    }
}

/// The JSON form of `rune get` (SPEC §3.2): the object, with `versions` only when asked. The
/// API's `revision` (its optimistic-concurrency token) is not part of that shape.
pub fn json_object(listed: &Listed, versions: bool) -> Value {
    let mut value = serde_json::to_value(listed).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.remove("revision");
        if !versions {
            map.remove("versions");
        }
    }
    value
}

/// One object as YAML: a runefile document for every kind but secrets, metadata for secrets.
pub fn yaml_object(listed: &Listed, versions: bool) -> String {
    let stored = &listed.object;
    match runefile_value(stored) {
        Some(document) => {
            let mut text = header(stored);
            text.push_str(&serde_saphyr::to_string(&document).unwrap_or_default());
            text
        }
        None => serde_saphyr::to_string(&json_object(listed, versions)).unwrap_or_default(),
    }
}

/// `# configmap default/app · version 3 · updated … · from deploy/app.yaml@abc123`
fn header(stored: &Stored) -> String {
    let mut line = format!(
        "# version {} · updated {}",
        stored.version, stored.updated_at
    );
    if let Some(path) = stored.provenance.as_ref().and_then(|p| p.path.as_ref()) {
        let _ = write!(line, " · from {path}");
        if let Some(commit) = stored.provenance.as_ref().and_then(|p| p.commit.as_ref()) {
            let _ = write!(line, "@{}", &commit[..commit.len().min(12)]);
        }
    }
    line.push('\n');
    line
}

/// The runefile document that declares this object (None for secrets).
pub fn runefile_value(stored: &Stored) -> Option<Value> {
    let mut map = Map::new();
    map.insert("name".into(), json!(stored.key.name));
    if stored.key.kind.0.is_namespaced() {
        map.insert("namespace".into(), json!(stored.key.namespace));
    }
    if !stored.labels.is_empty() {
        map.insert("labels".into(), json!(stored.labels));
    }
    match &stored.spec {
        StoredSpec::Secret { .. } => return None,
        StoredSpec::ConfigMap { data } => {
            map.insert("data".into(), json!(data));
        }
        StoredSpec::Namespace(ns) => {
            if let Some(d) = &ns.description {
                map.insert("description".into(), json!(d));
            }
        }
        StoredSpec::Service(service) => service_fields(service, &mut map),
        StoredSpec::StorageClass(class) => {
            map.insert("provisioner".into(), json!(class.provisioner));
            if !class.parameters.is_empty() {
                map.insert("parameters".into(), json!(class.parameters));
            }
        }
        StoredSpec::Volume(volume) => {
            map.insert("storageClassName".into(), json!(volume.storage_class_name));
            map.insert("size".into(), json!(volume.size));
            if !volume.parameters.is_empty() {
                map.insert("parameters".into(), json!(volume.parameters));
            }
        }
    }
    Some(json!({ stored.key.kind.0.singular(): map }))
}

fn service_fields(service: &ServiceSpec, map: &mut Map<String, Value>) {
    if let Some(image) = &service.image {
        map.insert("image".into(), json!(image));
    }
    if let Some(process) = &service.process {
        map.insert(
            "process".into(),
            serde_json::to_value(process).unwrap_or(Value::Null),
        );
    }
    map.insert("scale".into(), json!(service.scale));
    if !service.env.is_empty() {
        map.insert("env".into(), json!(service.env));
    }
    if !service.env_from.is_empty() {
        map.insert(
            "envFrom".into(),
            serde_json::to_value(&service.env_from).unwrap_or(Value::Null),
        );
    }
    let mounts = |mounts: &[crate::wire::object::MountSpec], field: &str| -> Value {
        mounts
            .iter()
            .map(|m| json!({"name": m.name, field: m.source, "mountPath": m.mount_path}))
            .collect()
    };
    if !service.secret_mounts.is_empty() {
        map.insert(
            "secretMounts".into(),
            mounts(&service.secret_mounts, "secretName"),
        );
    }
    if !service.config_mounts.is_empty() {
        map.insert(
            "configMounts".into(),
            mounts(&service.config_mounts, "configName"),
        );
    }
    if !service.ports.is_empty() {
        map.insert(
            "ports".into(),
            serde_json::to_value(&service.ports).unwrap_or(Value::Null),
        );
    }
}

/// A table with a header row, columns padded to their widest cell. Services get an `INSTANCES`
/// column from the runner's status (`None`: no runner, as with the embedded engine).
pub fn table(
    kind: Kind,
    items: &[Listed],
    versions: bool,
    runner: Option<&RunnerStatus>,
) -> String {
    let (header, rows): (Vec<&str>, Vec<Vec<String>>) = match kind {
        Kind::Secret | Kind::ConfigMap => (
            vec!["NAMESPACE", "NAME", "VERSION", "KEYS", "UPDATED", "SOURCE"],
            items.iter().map(|l| data_row(l, versions)).collect(),
        ),
        Kind::Service => (
            vec![
                "NAMESPACE",
                "NAME",
                "RUNTIME",
                "SCALE",
                "INSTANCES",
                "UPDATED",
            ],
            items.iter().map(|l| service_row(l, runner)).collect(),
        ),
        Kind::Namespace => (
            vec!["NAME", "DESCRIPTION", "CREATED"],
            items
                .iter()
                .map(|l| {
                    let description = match &l.object.spec {
                        StoredSpec::Namespace(ns) => ns.description.clone().unwrap_or_default(),
                        _ => String::new(),
                    };
                    vec![
                        l.object.key.name.clone(),
                        description,
                        l.object.created_at.clone(),
                    ]
                })
                .collect(),
        ),
        Kind::StorageClass => (
            vec!["NAME", "PROVISIONER", "UPDATED"],
            items
                .iter()
                .map(|l| {
                    let provisioner = match &l.object.spec {
                        StoredSpec::StorageClass(c) => c.provisioner.clone(),
                        _ => String::new(),
                    };
                    vec![
                        l.object.key.name.clone(),
                        provisioner,
                        l.object.updated_at.clone(),
                    ]
                })
                .collect(),
        ),
        Kind::Volume => (
            vec!["NAMESPACE", "NAME", "CLASS", "SIZE", "UPDATED"],
            items
                .iter()
                .map(|l| {
                    let (class, size) = match &l.object.spec {
                        StoredSpec::Volume(v) => (v.storage_class_name.clone(), v.size.clone()),
                        _ => (String::new(), String::new()),
                    };
                    vec![
                        l.object.key.namespace.clone(),
                        l.object.key.name.clone(),
                        class,
                        size,
                        l.object.updated_at.clone(),
                    ]
                })
                .collect(),
        ),
    };
    render_table(&header, &rows)
}

fn data_row(listed: &Listed, versions: bool) -> Vec<String> {
    let keys = match &listed.object.spec {
        StoredSpec::Secret { keys } => keys.join(","),
        StoredSpec::ConfigMap { data } => data.keys().cloned().collect::<Vec<_>>().join(","),
        _ => String::new(),
    };
    let version = if versions {
        listed
            .versions
            .iter()
            .map(|v| format!("v{}", v.version))
            .collect::<Vec<_>>()
            .join(",")
    } else {
        format!("v{}", listed.object.version)
    };
    let source = listed
        .object
        .provenance
        .as_ref()
        .and_then(|p| p.path.clone())
        .unwrap_or_else(|| "-".to_owned());
    vec![
        listed.object.key.namespace.clone(),
        listed.object.key.name.clone(),
        version,
        keys,
        listed.object.updated_at.clone(),
        source,
    ]
}

fn service_row(listed: &Listed, runner: Option<&RunnerStatus>) -> Vec<String> {
    let (runtime, scale) = match &listed.object.spec {
        StoredSpec::Service(s) => (
            s.image
                .as_ref()
                .map(|i| format!("image {i}"))
                .or_else(|| s.process.as_ref().map(|p| format!("process {}", p.command)))
                .unwrap_or_default(),
            s.scale.to_string(),
        ),
        _ => (String::new(), String::new()),
    };
    let key = &listed.object.key;
    let instances = match runner {
        None => "not run (no runed)".to_owned(),
        Some(status) => status
            .services
            .iter()
            .find(|s| s.namespace == key.namespace && s.name == key.name)
            .map_or_else(|| "?".to_owned(), instances_summary),
    };
    vec![
        key.namespace.clone(),
        key.name.clone(),
        runtime,
        scale,
        instances,
        listed.object.updated_at.clone(),
    ]
}

/// `2/3 running, 1 outdated` or `not runnable`.
pub fn instances_summary(service: &ServiceStatus) -> String {
    if !service.runnable {
        return "not runnable (image)".to_owned();
    }
    let running = service
        .instances
        .iter()
        .filter(|i| i.state == State::Running)
        .count();
    let mut text = format!("{running}/{} running", service.scale);
    let outdated = service
        .instances
        .iter()
        .filter(|i| !i.outdated.is_empty())
        .count();
    if outdated > 0 {
        let _ = write!(text, ", {outdated} outdated");
    }
    text
}

/// `Running (pid 42)`, `Exited (code 1)`, `Failed: reason`.
pub fn instance_state(instance: &InstanceStatus) -> String {
    match instance.state {
        State::Running => format!("Running (pid {})", instance.pid.unwrap_or_default()),
        State::Exited => match (instance.exit_code, instance.signal) {
            (Some(code), _) => format!("Exited (code {code})"),
            (_, Some(signal)) => format!("Exited (signal {signal})"),
            _ => "Exited".to_owned(),
        },
        State::Failed => format!(
            "Failed: {}",
            instance.reason.as_deref().unwrap_or("unknown reason")
        ),
        State::Pending => "Pending".to_owned(),
    }
}

/// `rune status`: one row per instance (one per service that runed does not run), then the
/// replica that runs the `process:` services.
pub fn status_table(status: &RunnerStatus) -> String {
    let header = [
        "NAMESPACE",
        "SERVICE",
        "INSTANCE",
        "STATE",
        "RESTARTS",
        "STARTED",
        "VERSIONS",
    ];
    let mut rows = Vec::new();
    for service in &status.services {
        if !service.runnable {
            rows.push(vec![
                service.namespace.clone(),
                service.name.clone(),
                "-".to_owned(),
                "not runnable (image)".to_owned(),
                "-".to_owned(),
                "-".to_owned(),
                "-".to_owned(),
            ]);
        }
        for instance in &service.instances {
            let versions = if instance.outdated.is_empty() {
                "current".to_owned()
            } else {
                format!("outdated: {}", instance.outdated.join(", "))
            };
            rows.push(vec![
                service.namespace.clone(),
                service.name.clone(),
                instance.index.to_string(),
                instance_state(instance),
                instance.restarts.to_string(),
                instance
                    .started_at
                    .clone()
                    .unwrap_or_else(|| "-".to_owned()),
                versions,
            ]);
        }
    }
    let mut table = render_table(&header, &rows);
    if let Some(replica) = &status.replica {
        let _ = writeln!(table, "replica `{replica}` runs the `process:` services");
    }
    table
}

fn render_table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                text.push_str(cell);
            } else {
                let _ = write!(text, "{cell:<width$}   ", width = widths[i]);
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}
