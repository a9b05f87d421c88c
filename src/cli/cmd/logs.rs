//! `rune logs SERVICE [-f] [--instance N]`: what a service's instances printed, as runed keeps
//! it. `-f` asks again every half second with the offset of the last answer (no endless
//! response), until interrupted.

use std::fmt::Write as _;
use std::time::Duration;

use crate::cli::args::{GlobalArgs, LogsArgs};
use crate::cli::error::{CliError, ExitCode};
use crate::cli::output;
use crate::cli::target;
use crate::resource::Kind;
use crate::wire::object::{KindName, ObjectKey, StoredSpec};

const POLL: Duration = Duration::from_millis(500);

pub fn run(args: &LogsArgs, global: &GlobalArgs) -> Result<ExitCode, CliError> {
    let target = target::select_for(global, target::Access::Read)?;
    let key = ObjectKey {
        kind: KindName(Kind::Service),
        name: args.name.clone(),
        namespace: target.namespace.clone(),
    };
    let instances: Vec<u32> = match args.instance {
        Some(n) => vec![n],
        None => {
            let StoredSpec::Service(spec) = target.backend.get(&key)?.object.spec else {
                return Err(CliError::Usage(format!("{key} is not a service")));
            };
            (0..spec.scale.max(1)).collect()
        }
    };
    let prefixed = instances.len() > 1;
    let mut offsets: Vec<Option<u64>> = vec![None; instances.len()];
    let mut partial: Vec<String> = vec![String::new(); instances.len()];
    loop {
        for (i, instance) in instances.iter().enumerate() {
            let chunk = target.backend.logs(&key, *instance, offsets[i])?;
            offsets[i] = Some(chunk.offset);
            let text = if prefixed {
                prefix_lines(*instance, &mut partial[i], &chunk.text)
            } else {
                chunk.text
            };
            output::print(text)?;
        }
        if !args.follow {
            break;
        }
        std::thread::sleep(POLL);
    }
    if prefixed {
        let mut rest = String::new();
        for (i, tail) in partial.iter().enumerate() {
            if !tail.is_empty() {
                let _ = writeln!(rest, "[{}] {tail}", instances[i]);
            }
        }
        output::print(rest)?;
    }
    Ok(ExitCode::Success)
}

/// `[N] ` before every complete line; an unfinished last line waits in `partial`.
fn prefix_lines(instance: u32, partial: &mut String, text: &str) -> String {
    partial.push_str(text);
    let Some(end) = partial.rfind('\n') else {
        return String::new();
    };
    let complete: String = partial.drain(..=end).collect();
    complete.lines().fold(String::new(), |mut out, line| {
        let _ = writeln!(out, "[{instance}] {line}");
        out
    })
}
