//! What validation takes from the command line and the context.

use crate::limits::Limits;

/// Settings that change what a runefile means or how strictly it is checked.
#[derive(Clone, Debug)]
pub struct Options {
    /// The namespace of namespaced resources that do not name one (`-n`, the context, or
    /// `default`); a document's own `namespace:` always wins.
    pub default_namespace: String,
    /// The namespace `-n` (or `RUNE_NAMESPACE`) named, if any: a document that names another
    /// one gets `W-NAMESPACE-MISMATCH`, since the flag then does not apply to it.
    pub namespace_flag: Option<String>,
    pub limits: Limits,
    /// `--allow-file-root` directories (resolved): `file:` entries may lead into them too.
    pub allow_file_roots: Vec<std::path::PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            default_namespace: "default".to_owned(),
            namespace_flag: None,
            limits: Limits::default(),
            allow_file_roots: Vec::new(),
        }
    }
}
