//! `rune import FILE…`: Kubernetes `Secret` and `ConfigMap` manifests (multi-document YAML)
//! turned into runefiles, so that a team can move to rune (issue #13). A secret's `data` is
//! base64 and decoded, and its `stringData` wins per key, as in Kubernetes; a configmap's
//! `data` is text. The namespace and labels are kept.
//! Other kinds are skipped with a warning.
//!
//! Secret values are sealed on the way (`--seal`, with `rune seal`'s recipients) so that no
//! plaintext is written; without it a secret with values is refused, unless
//! `--allow-plaintext` writes them and marks the secret `allowPlaintext: true`. Must not
//! happen here: a secret value, its length or a digest of it in a message.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

use crate::cli::args::{GlobalArgs, ImportArgs};
use crate::cli::cmd::seal::Sources;
use crate::cli::error::{CliError, ExitCode};
use crate::cli::target;
use crate::edit::seal_in_place;
use crate::secrets::{Place, Secret};

/// The fields of a manifest that an import reads; the rest is ignored.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    metadata: Metadata,
    #[serde(default)]
    data: BTreeMap<String, Secret<String>>,
    #[serde(default)]
    string_data: BTreeMap<String, Secret<String>>,
    #[serde(default)]
    binary_data: BTreeMap<String, serde_json::Value>,
}

#[derive(Default, Deserialize)]
struct Metadata {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

pub fn run(args: &ImportArgs, global: &GlobalArgs) -> Result<ExitCode, CliError> {
    let mut sources = if args.seal {
        Some(Sources::from_flags(
            &args.recipient,
            &args.recipients_file,
            global,
        )?)
    } else {
        None
    };
    let recipients_dir = match (&args.output_dir, &args.output_file) {
        (Some(dir), _) => dir.clone(),
        (None, Some(file)) => file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
        (None, None) => PathBuf::from("."),
    };
    let default_namespace = target::namespace(global)?;
    let mut outputs: Vec<(String, String)> = Vec::new();
    let mut namespaces = std::collections::BTreeSet::new();
    for path in &args.paths {
        let text = read(path)?;
        let manifests: Vec<Manifest> = serde_saphyr::from_multiple(&text).map_err(|error| {
            let at = error
                .location()
                .map(|l| format!(" (line {}, column {})", l.line(), l.column()))
                .unwrap_or_default();
            CliError::Invalid(format!("`{path}` is not a Kubernetes manifest file{at}"))
        })?;
        let mut documents = Vec::new();
        for manifest in manifests {
            let kind = manifest.kind.as_deref().unwrap_or("");
            if !matches!(kind, "Secret" | "ConfigMap") {
                warn(global, path, &manifest, kind);
                continue;
            }
            let Some(name) = manifest.metadata.name.clone() else {
                return Err(CliError::Invalid(format!(
                    "`{path}`: a {kind} without `metadata.name`"
                )));
            };
            let data = decoded(&manifest, path, kind, &name)?;
            namespaces.extend(manifest.metadata.namespace.clone());
            let document = if kind == "ConfigMap" {
                configmap(&manifest, &name, &data)
            } else {
                let namespace = manifest
                    .metadata
                    .namespace
                    .clone()
                    .unwrap_or_else(|| default_namespace.clone());
                let sealing = match sources.as_mut() {
                    Some(sources) => Some(sources.for_dir(&recipients_dir)?),
                    None if data.is_empty() || args.allow_plaintext => None,
                    None => {
                        return Err(CliError::Usage(format!(
                            "`{path}`: secret `{namespace}/{name}` holds values: pass --seal to seal them for the server, or --allow-plaintext to write them in plain text"
                        )));
                    }
                };
                secret(&manifest, &name, &namespace, &data, sealing.as_ref())?
            };
            documents.push(format!(
                "# Imported from {path} by `rune import`.\n{document}"
            ));
        }
        outputs.push((path.clone(), documents.join("---\n")));
    }
    namespaces.remove("default");
    write(args, &outputs, &namespaces)?;
    Ok(ExitCode::Success)
}

/// The namespaces the imported objects name, declared once (`default` always exists), so that
/// the runefiles lint clean and cast without `--create-namespace`.
fn namespace_document(namespaces: &std::collections::BTreeSet<String>) -> Option<String> {
    if namespaces.is_empty() {
        return None;
    }
    let mut text = String::from("# The namespaces of the imported objects.\nnamespaces:\n");
    for namespace in namespaces {
        let _ = writeln!(text, "  - name: {}", quoted(namespace));
    }
    Some(text)
}

fn read(path: &str) -> Result<String, CliError> {
    let bytes = if path == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(CliError::Terminal)?;
        bytes
    } else {
        std::fs::read(path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                CliError::Usage(format!("`{path}` does not exist"))
            } else {
                CliError::Other(format!("cannot read `{path}`: {source}"))
            }
        })?
    };
    String::from_utf8(bytes).map_err(|_| CliError::Invalid(format!("`{path}` is not UTF-8 text")))
}

fn warn(global: &GlobalArgs, path: &str, manifest: &Manifest, kind: &str) {
    if global.quiet {
        return;
    }
    let what = if kind.is_empty() {
        "a document without `kind`".to_owned()
    } else {
        format!(
            "{kind} `{}`",
            manifest.metadata.name.as_deref().unwrap_or("?")
        )
    };
    let _ = writeln!(
        std::io::stderr(),
        "warning: `{path}`: skipped {what}: rune import converts Secret and ConfigMap manifests"
    );
}

/// A configmap's `data` as it is; a secret's `data` decoded from base64, then its `stringData`
/// over it (it wins per key, as in Kubernetes).
fn decoded(
    manifest: &Manifest,
    path: &str,
    kind: &str,
    name: &str,
) -> Result<BTreeMap<String, Secret<String>>, CliError> {
    if let Some(key) = manifest.binary_data.keys().next() {
        return Err(CliError::Invalid(format!(
            "`{path}`: {kind} `{name}` has `binaryData` (key `{key}`), which runefiles cannot hold"
        )));
    }
    if kind == "ConfigMap" {
        return Ok(manifest.data.clone());
    }
    let mut data = BTreeMap::new();
    for (key, value) in &manifest.data {
        let bytes = STANDARD
            .decode(value.expose().trim())
            .map(Secret::new)
            .map_err(|_| {
                CliError::Invalid(format!(
                    "`{path}`: {kind} `{name}`: `data.{key}` is not base64"
                ))
            })?;
        let text = String::from_utf8(bytes.expose().clone()).map_err(|_| {
            CliError::Invalid(format!(
                "`{path}`: {kind} `{name}`: `data.{key}` is not UTF-8 text, which runefiles need"
            ))
        })?;
        data.insert(key.clone(), Secret::new(text));
    }
    for (key, value) in &manifest.string_data {
        data.insert(key.clone(), value.clone());
    }
    Ok(data)
}

/// A YAML string: JSON's double-quoted form is valid YAML.
fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

fn header(kind: &str, manifest: &Manifest, name: &str) -> String {
    let mut text = format!("{kind}:\n  name: {}\n", quoted(name));
    if let Some(namespace) = &manifest.metadata.namespace {
        let _ = writeln!(text, "  namespace: {}", quoted(namespace));
    }
    if !manifest.metadata.labels.is_empty() {
        text.push_str("  labels:\n");
        for (key, value) in &manifest.metadata.labels {
            let _ = writeln!(text, "    {}: {}", quoted(key), quoted(value));
        }
    }
    text
}

fn configmap(manifest: &Manifest, name: &str, data: &BTreeMap<String, Secret<String>>) -> String {
    let mut text = header("configmap", manifest, name);
    if data.is_empty() {
        text.push_str("  data: {}\n");
        return text;
    }
    text.push_str("  data:\n");
    for (key, value) in data {
        let _ = writeln!(text, "    {}: {}", quoted(key), quoted(value.expose()));
    }
    text
}

fn secret(
    manifest: &Manifest,
    name: &str,
    namespace: &str,
    data: &BTreeMap<String, Secret<String>>,
    sealing: Option<&crate::secrets::Recipients>,
) -> Result<String, CliError> {
    let mut text = header("secret", manifest, name);
    if sealing.is_none() && !data.is_empty() {
        text.push_str("  allowPlaintext: true\n");
    }
    if data.is_empty() {
        text.push_str("  data: []\n");
        return Ok(text);
    }
    text.push_str("  data:\n");
    for (key, value) in data {
        match sealing {
            Some(recipients) => {
                let place = Place::new(namespace, name, key);
                let armor = crate::secrets::seal(value.expose(), &place, recipients.as_slice())?;
                for line in seal_in_place::entry(key, &armor).lines() {
                    let _ = writeln!(text, "    {line}");
                }
            }
            None => {
                let _ = writeln!(
                    text,
                    "    - key: {}\n      value: {}",
                    quoted(key),
                    quoted(value.expose())
                );
            }
        }
    }
    Ok(text)
}

/// Stdout, one file, or one file per manifest file in a directory (plus `namespaces.yaml`).
fn write(
    args: &ImportArgs,
    outputs: &[(String, String)],
    namespaces: &std::collections::BTreeSet<String>,
) -> Result<(), CliError> {
    let declared = namespace_document(namespaces);
    let write_file = |path: &Path, text: &str| {
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
        parent
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(path, text))
            .map_err(|source| CliError::Write {
                path: path.to_path_buf(),
                source,
            })
    };
    if let Some(dir) = &args.output_dir {
        let mut names = std::collections::BTreeSet::new();
        if let Some(declared) = &declared {
            names.insert("namespaces.yaml".to_owned());
            write_file(&dir.join("namespaces.yaml"), declared)?;
        }
        for (path, text) in outputs {
            let name = if path == "-" {
                "stdin.yaml".to_owned()
            } else {
                Path::new(path).file_name().map_or_else(
                    || "import.yaml".to_owned(),
                    |n| n.to_string_lossy().into_owned(),
                )
            };
            if !names.insert(name.clone()) {
                return Err(CliError::Usage(format!(
                    "two manifest files are named `{name}`: import them into different directories, or use --output-file"
                )));
            }
            write_file(&dir.join(name), text)?;
        }
        return Ok(());
    }
    let all: Vec<&str> = declared
        .iter()
        .map(String::as_str)
        .chain(outputs.iter().map(|(_, text)| text.as_str()))
        .filter(|text| !text.is_empty())
        .collect();
    let text = all.join("---\n");
    match &args.output_file {
        Some(file) => write_file(file, &text),
        None => std::io::stdout()
            .lock()
            .write_all(text.as_bytes())
            .map_err(CliError::Output),
    }
}
