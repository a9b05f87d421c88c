//! One start of an instance, seen from runed: prepare it, start the launcher (`runed
//! __instance`) in a process group of its own, hand it the launch over a pipe, copy its output
//! into the instance's log, and wait until it exits or is told to stop (SIGTERM to the group,
//! SIGKILL after the grace period).
//!
//! In: the service, the instance's control channel. Out: the [`Outcome`] for the supervisor,
//! the instance's state, pid, exit and events in its status, lines in runed's log. Must not
//! happen here: a value in a status, an event or runed's log; the serialized launch is zeroized
//! once written to the pipe.

use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Child;
use tokio::sync::watch;

use crate::server::clock;
use crate::server::log;
use crate::server::runner::launch::{FAILED_MARKER, Launch};
use crate::server::runner::{Control, DRAIN, LAUNCHER_COMMAND, Runner, ServiceKey, logs};
use crate::wire::object::ServiceSpec;
use crate::wire::runner::{InstanceStatus, State};

/// How one start of an instance ended.
pub(super) enum Outcome {
    /// The process exited or could not start; restart after the back-off.
    Ended {
        ran: Duration,
    },
    /// The instance may not run at all (runed cannot isolate it): no restart until told.
    Refused,
    /// `rune restart`: start again now.
    Restart,
    Stopped,
}

impl Runner {
    /// Starts the instance once and follows it until it ends or `control` changes.
    pub(super) async fn run_once(
        &self,
        key: &ServiceKey,
        index: u32,
        spec: &ServiceSpec,
        status: &watch::Sender<InstanceStatus>,
        control: &mut watch::Receiver<Control>,
    ) -> Outcome {
        status.send_modify(|s| {
            s.generation += 1;
            s.state = State::Pending;
            s.pid = None;
            s.exit_code = None;
            s.signal = None;
            s.reason = None;
        });
        let name = format!("`{}/{}` instance {index}", key.0, key.1);
        if let Some(reason) = self.refusal() {
            failed(&name, status, reason);
            return Outcome::Refused;
        }
        if let Some(reason) = self.gated() {
            return failed(&name, status, reason);
        }
        let prepared = match self.prepare(key, index, spec).await {
            Ok(prepared) => prepared,
            Err(reason) => return failed(&name, status, reason),
        };
        for var in prepared.skipped {
            status.send_modify(|s| {
                s.event(
                    clock::now(),
                    format!("skipped env key `{var}`: not a valid environment variable name"),
                );
            });
        }
        let log_path = logs::path(&self.data_dir, &key.0, &key.1, index);
        let log_file = match logs::LogFile::open(&log_path) {
            Ok(file) => Arc::new(Mutex::new(file)),
            Err(e) => {
                let reason = format!("cannot open its log `{}`: {e}", log_path.display());
                return failed(&name, status, reason);
            }
        };
        let (mut child, pid) = match self.start(prepared.launch).await {
            Ok(started) => started,
            Err(e) => return failed(&name, status, format!("cannot start the launcher: {e}")),
        };
        let out = tokio::spawn(pump(child.stdout.take(), Arc::clone(&log_file), true));
        let err = tokio::spawn(pump(child.stderr.take(), log_file, false));
        log::info(&format!("process runner: {name} started (pid {pid})"));
        status.send_modify(|s| {
            s.state = State::Running;
            s.pid = Some(pid);
            s.started_at = Some(clock::now());
            s.versions = prepared.versions;
            s.event(clock::now(), format!("started (pid {pid})"));
        });
        let started = Instant::now();
        tokio::select! {
            exit = child.wait() => {
                let failure = tokio::time::timeout(DRAIN, out).await.ok().and_then(Result::ok).flatten();
                let _ = tokio::time::timeout(DRAIN, err).await;
                // Whatever the instance left behind in its process group goes with it.
                let _ = killpg(Pid::from_raw(pid as i32), Signal::SIGKILL);
                if let Some(reason) = failure {
                    return failed(&name, status, reason);
                }
                record_exit(&name, status, &exit);
                Outcome::Ended { ran: started.elapsed() }
            }
            changed = control.changed() => {
                let stop = changed.is_err() || control.borrow().stop;
                self.terminate(&mut child, pid).await;
                let _ = tokio::time::timeout(DRAIN, out).await;
                let _ = tokio::time::timeout(DRAIN, err).await;
                let message = if stop { "stopping" } else { "stopping for a restart" };
                log::info(&format!("process runner: {name} {message}"));
                status.send_modify(|s| {
                    s.state = State::Exited;
                    s.pid = None;
                    s.event(clock::now(), message.to_owned());
                });
                if stop { Outcome::Stopped } else { Outcome::Restart }
            }
        }
    }

    /// Starts the launcher in a process group of its own and writes the launch to its standard
    /// input. A launcher that dies early shows up later, as a failure report or an exit.
    async fn start(&self, launch: Launch) -> std::io::Result<(Child, u32)> {
        let mut child = tokio::process::Command::new(&self.exe)
            .arg(LAUNCHER_COMMAND)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()?;
        let pid = child.id().unwrap_or_default();
        let bytes = crate::secrets::wipe::to_json(&launch).unwrap_or_default();
        drop(launch);
        if let Some(mut stdin) = child.stdin.take() {
            let _ = stdin.write_all(&bytes).await;
        }
        drop(bytes);
        Ok((child, pid))
    }

    /// SIGTERM to the process group, SIGKILL after the grace period.
    async fn terminate(&self, child: &mut Child, pid: u32) {
        let group = Pid::from_raw(pid as i32);
        let _ = killpg(group, Signal::SIGTERM);
        if tokio::time::timeout(self.grace, child.wait())
            .await
            .is_err()
        {
            let _ = killpg(group, Signal::SIGKILL);
            let _ = child.wait().await;
        }
        let _ = killpg(group, Signal::SIGKILL);
    }
}

/// Records that the instance could not start (or its launcher reported a failure).
fn failed(name: &str, status: &watch::Sender<InstanceStatus>, reason: String) -> Outcome {
    log::warn(&format!("process runner: {name} failed: {reason}"));
    status.send_modify(|s| {
        s.state = State::Failed;
        s.pid = None;
        s.event(clock::now(), format!("failed: {reason}"));
        s.reason = Some(reason);
    });
    Outcome::Ended {
        ran: Duration::ZERO,
    }
}

/// Records how an instance's process ended.
fn record_exit(
    name: &str,
    status: &watch::Sender<InstanceStatus>,
    exit: &std::io::Result<std::process::ExitStatus>,
) {
    let (code, signal) = match exit {
        Ok(exit) => (exit.code(), exit.signal()),
        Err(_) => (None, None),
    };
    let message = match (code, signal, exit) {
        (Some(code), _, _) => format!("exited with code {code}"),
        (_, Some(signal), _) => format!("killed by signal {signal}"),
        (_, _, Err(e)) => format!("lost: {e}"),
        _ => "exited".to_owned(),
    };
    log::info(&format!("process runner: {name} {message}"));
    status.send_modify(|s| {
        s.state = State::Exited;
        s.pid = None;
        s.exit_code = code;
        s.signal = signal;
        s.event(clock::now(), message);
    });
}

/// Copies a pipe into the log. On stdout, a launcher's failure report (the first line, when it
/// starts with [`FAILED_MARKER`]) is taken out and returned instead of logged.
async fn pump(
    pipe: Option<impl AsyncRead + Unpin>,
    log: Arc<Mutex<logs::LogFile>>,
    launcher_report: bool,
) -> Option<String> {
    let mut pipe = pipe?;
    let mut buffer = vec![0u8; 16 * 1024];
    let mut first = launcher_report;
    let mut failure = None;
    loop {
        let n = match pipe.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let mut chunk = &buffer[..n];
        if std::mem::take(&mut first) && chunk.starts_with(FAILED_MARKER) {
            let line_end = chunk
                .iter()
                .position(|b| *b == b'\n')
                .unwrap_or(chunk.len());
            failure =
                Some(String::from_utf8_lossy(&chunk[FAILED_MARKER.len()..line_end]).into_owned());
            chunk = &chunk[(line_end + 1).min(chunk.len())..];
        }
        if !chunk.is_empty()
            && let Err(e) = log.lock().expect("log lock").write(chunk)
        {
            log::error(&format!(
                "process runner: cannot write an instance log: {e}"
            ));
        }
    }
    failure
}
