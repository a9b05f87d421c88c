//! `rune delete KIND NAME [--force]` (or `KIND/NAME`, as kubectl takes it).

use crate::cli::args::{DeleteArgs, GlobalArgs};
use crate::cli::cmd::get::kind_and_required_name;
use crate::cli::error::{CliError, ExitCode};
use crate::cli::output;
use crate::cli::target;
use crate::wire::object::{KindName, ObjectKey};

pub fn run(args: &DeleteArgs, global: &GlobalArgs) -> Result<ExitCode, CliError> {
    let (kind, name) = kind_and_required_name(&args.kind, args.name.as_deref())?;
    let target = target::select(global)?;
    let key = ObjectKey {
        kind: KindName(kind),
        name,
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
