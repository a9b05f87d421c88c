//! `rune create namespace|secret|config`: one object from flags, written in one call.

use std::collections::BTreeMap;
use std::path::Path;

use crate::cli::args::{CreateCommand, DataArgs, GlobalArgs};
use crate::cli::error::{CliError, ExitCode};
use crate::cli::output;
use crate::cli::target;
use crate::resource::Kind;
use crate::secrets::Secret;
use crate::validate::names::{data_key_problem, dns1123_problem};
use crate::wire::object::{Desired, DesiredSpec, KindName, NamespaceSpec, ObjectKey, SecretValues};

pub fn run(command: &CreateCommand, global: &GlobalArgs) -> Result<ExitCode, CliError> {
    let target = target::select(global)?;
    let (desired, replace) = match command {
        CreateCommand::Namespace { description, name } => (
            Desired {
                key: key(Kind::Namespace, "", name)?,
                labels: BTreeMap::new(),
                provenance: None,
                spec: DesiredSpec::Namespace(NamespaceSpec {
                    description: description.clone(),
                }),
            },
            false,
        ),
        CreateCommand::Secret(args) => (
            data_object(Kind::Secret, args, &target.namespace)?,
            args.replace,
        ),
        CreateCommand::Config(args) => (
            data_object(Kind::ConfigMap, args, &target.namespace)?,
            args.replace,
        ),
    };
    let listed = target.backend.put(&desired, !replace)?;
    let verb = if replace { "applied" } else { "created" };
    let line = format!(
        "{verb} {} (version {})\n",
        desired.key, listed.object.version
    );
    output::print(line)?;
    Ok(ExitCode::Success)
}

fn key(kind: Kind, namespace: &str, name: &str) -> Result<ObjectKey, CliError> {
    if let Some(problem) = dns1123_problem(name) {
        return Err(CliError::Invalid(format!(
            "`{name}` is not a valid name: {problem}"
        )));
    }
    Ok(ObjectKey {
        kind: KindName(kind),
        name: name.to_owned(),
        namespace: namespace.to_owned(),
    })
}

fn data_object(kind: Kind, args: &DataArgs, namespace: &str) -> Result<Desired, CliError> {
    let data = collect(args)?;
    let spec = match kind {
        Kind::Secret => DesiredSpec::Secret {
            data: SecretValues(data),
            sealed: std::collections::BTreeMap::new(),
        },
        _ => DesiredSpec::ConfigMap {
            data: data
                .into_iter()
                .map(|(k, v)| (k, v.expose().clone()))
                .collect(),
        },
    };
    Ok(Desired {
        key: key(kind, namespace, &args.name)?,
        labels: BTreeMap::new(),
        provenance: None,
        spec,
    })
}

/// Every `--from-*` source, in order; a key given twice is a usage error.
fn collect(args: &DataArgs) -> Result<BTreeMap<String, Secret<String>>, CliError> {
    let mut data = BTreeMap::new();
    let mut insert = |key: String, value: Secret<String>, from: &str| -> Result<(), CliError> {
        if let Some(problem) = data_key_problem(&key) {
            return Err(CliError::Invalid(format!(
                "key `{key}` ({from}) is not valid: {problem}"
            )));
        }
        if data.insert(key.clone(), value).is_some() {
            return Err(CliError::Usage(format!("key `{key}` is given twice")));
        }
        Ok(())
    };
    for (index, literal) in args.from_literal.iter().enumerate() {
        // The argument may be a value: the message says which one, never what it holds.
        let Some((key, value)) = literal.split_once('=') else {
            return Err(CliError::Usage(format!(
                "--from-literal number {} has no `=`: it needs KEY=VALUE",
                index + 1
            )));
        };
        insert(
            key.to_owned(),
            Secret::new(value.to_owned()),
            "--from-literal",
        )?;
    }
    for spec in &args.from_file {
        let (key, path) = match spec.split_once('=') {
            Some((key, path)) => (key.to_owned(), Path::new(path)),
            None => {
                let path = Path::new(spec.as_str());
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .ok_or_else(|| {
                        CliError::Usage(format!("--from-file `{spec}` names no file"))
                    })?;
                (name, path)
            }
        };
        insert(key, read_text(path)?, "--from-file")?;
    }
    for path in &args.from_env_file {
        let text = read_text(path)?;
        for (number, line) in text.expose().lines().enumerate() {
            let line = line.trim_start();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                return Err(CliError::Usage(format!(
                    "{}:{}: expected KEY=VALUE",
                    path.display(),
                    number + 1
                )));
            };
            insert(
                key.trim().to_owned(),
                Secret::new(value.to_owned()),
                "--from-env-file",
            )?;
        }
    }
    Ok(data)
}

fn read_text(path: &Path) -> Result<Secret<String>, CliError> {
    let bytes = std::fs::read(path)
        .map_err(|e| CliError::Usage(format!("cannot read `{}`: {e}", path.display())))?;
    String::from_utf8(bytes).map(Secret::new).map_err(|_| {
        CliError::Usage(format!(
            "`{}` is not UTF-8 text; values are strings",
            path.display()
        ))
    })
}
