//! Whether instances can get private mount namespaces: runed runs the launcher once in probe
//! mode at start. In: the path of runed's own executable. Out: `Ok`, or the reason (shown in
//! runed's log, in `GET /v1/status`, and as the failure of every service with mounts).

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncWriteExt;

use crate::server::runner::LAUNCHER_COMMAND;
use crate::server::runner::launch::Launch;

/// Whether the launcher can make a private mount namespace with a tmpfs (runs it once).
pub(super) async fn probe(exe: &Path) -> Result<(), String> {
    let unavailable = |detail: String| {
        Err(format!(
            "private mount namespaces are unavailable ({detail}); runed needs root (CAP_SYS_ADMIN) for them"
        ))
    };
    let launch = Launch {
        parent: std::process::id(),
        probe: true,
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
