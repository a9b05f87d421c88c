//! Whether instances can be isolated (SPEC §5): runed runs the launcher once in probe mode at
//! start, through every step of a real launch — mount and PID namespaces, a tmpfs owned by a
//! service uid, a fresh `/proc`, capabilities dropped, the switch to that uid. In: the path of
//! runed's own executable and a uid of the range. Out: `Ok`, or the reason (shown in runed's log,
//! in `GET /v1/status`, and as the failure of every `process:` instance).

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncWriteExt;

use crate::server::runner::LAUNCHER_COMMAND;
use crate::server::runner::launch::Launch;

/// Whether the launcher can isolate an instance (runs it once).
pub(super) async fn probe(exe: &Path, uid: u32) -> Result<(), String> {
    let euid = nix::unistd::geteuid();
    let unavailable = |detail: String| {
        let who = if euid.is_root() {
            String::new()
        } else {
            format!("runed runs as uid {euid}, not root; ")
        };
        Err(format!(
            "instances cannot be isolated ({who}{detail}): runed must run as root on a kernel with mount and PID namespaces to give each service its own uid, no capabilities and its own /proc"
        ))
    };
    let launch = Launch {
        parent: std::process::id(),
        probe: true,
        uid,
        ..Launch::default()
    };
    let child = tokio::process::Command::new(exe)
        .arg(LAUNCHER_COMMAND)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => return unavailable(format!("cannot start the launcher: {e}")),
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin
            .write_all(&serde_json::to_vec(&launch).unwrap_or_default())
            .await;
    }
    match tokio::time::timeout(Duration::from_secs(10), child.wait_with_output()).await {
        Ok(Ok(output)) if output.status.success() => Ok(()),
        Ok(Ok(output)) => {
            let text = String::from_utf8_lossy(&output.stdout);
            let reason = text
                .trim_start_matches('\0')
                .trim_start_matches("rune-launch-failed: ")
                .trim()
                .to_owned();
            unavailable(if reason.is_empty() {
                format!("the check exited with {}", output.status)
            } else {
                reason
            })
        }
        Ok(Err(e)) => unavailable(e.to_string()),
        Err(_) => unavailable("the check did not finish".to_owned()),
    }
}
