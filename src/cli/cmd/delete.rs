//! `rune delete KIND NAME [--force]`.

use crate::cli::args::{DeleteArgs, GlobalArgs};
use crate::cli::cmd::get::kind;
use crate::cli::error::{CliError, ExitCode};
use crate::cli::output;
use crate::cli::target;
use crate::wire::object::{KindName, ObjectKey};

pub fn run(args: &DeleteArgs, global: &GlobalArgs) -> Result<ExitCode, CliError> {
    let kind = kind(&args.kind)?;
    let target = target::select(global)?;
    let key = ObjectKey {
        kind: KindName(kind),
        name: args.name.clone(),
        namespace: if kind.is_namespaced() {
            target.namespace.clone()
        } else {
            String::new()
        },
    };
    target.backend.delete(&key, args.force)?;
    let line = format!("deleted {key}\n");
    output::print(line)?;
    Ok(ExitCode::Success)
}
