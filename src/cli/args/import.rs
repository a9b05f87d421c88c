//! `rune import`'s arguments: Kubernetes manifests in, runefiles out.

use clap::Args;

/// `rune import FILE…`: Kubernetes `Secret`/`ConfigMap` manifests → runefiles.
#[derive(Debug, Args)]
#[command(after_long_help = IMPORT_HELP)]
pub struct ImportArgs {
    /// Write secret values in plain text (with `allowPlaintext: true`) instead of refusing them
    #[arg(long, conflicts_with = "seal")]
    pub allow_plaintext: bool,
    /// Write one runefile per manifest file into DIR (same file names) instead of stdout
    #[arg(long, value_name = "DIR", conflicts_with = "output_file")]
    pub output_dir: Option<std::path::PathBuf>,
    /// Write every runefile into FILE (documents separated by `---`) instead of stdout
    #[arg(long, value_name = "FILE")]
    pub output_file: Option<std::path::PathBuf>,
    /// Manifest files (multi-document YAML), or `-` for standard input
    #[arg(required = true, value_name = "FILES")]
    pub paths: Vec<String>,
    /// Seal for this age recipient (`age1…`) instead of the server's; repeatable
    #[arg(long, value_name = "AGE1…", requires = "seal")]
    pub recipient: Vec<String>,
    /// Seal for the recipients listed in this file instead of the server's; repeatable
    #[arg(long, value_name = "FILE", requires = "seal")]
    pub recipients_file: Vec<std::path::PathBuf>,
    /// Seal secret values for the server (as `rune seal` does), so that no plaintext is written
    #[arg(long)]
    pub seal: bool,
}

const IMPORT_HELP: &str = "\
A secret's `data` values are base64-decoded, and its `stringData` wins over `data` for the
same key, as in Kubernetes. The namespace and labels are kept. Other kinds are skipped with a warning.

Secret values are sealed with --seal (recipients as for `rune seal`: the server's, or
--recipient/--recipients-file, plus `.rune/recipients` of the repository that holds the
output). Without --seal, a secret with values is refused, unless --allow-plaintext writes them
in plain text and marks the secret `allowPlaintext: true`.

Examples:
  rune import k8s/secrets.yaml --seal --output-file runefiles/secrets.yaml
  kubectl get configmap app -o yaml | rune import -
  rune import k8s/db.yaml k8s/app.yaml --seal --output-dir runefiles/   # one runefile a file";
