//! Ctrl-C while a cast applies (issue #13 item 3), at a real terminal: `rune` runs on a
//! pseudo-terminal (nix's `openpty`) as its controlling terminal (`setsid --ctty`), so that
//! the spinner shows the "applying" stage and a `^C` typed into the terminal reaches it as
//! SIGINT from the line discipline, as a user's would. rune says the apply may have committed
//! and how to check, and exits 130; runed finishes the apply and logs it.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::util::{Server, cannot_run_here, create_token, rune_process};

/// Enough objects that runed applies for seconds in a debug build.
fn many_configmaps(count: usize) -> String {
    let mut text = String::from("configmaps:\n");
    for i in 0..count {
        let _ = writeln!(
            text,
            "  - name: config-{i:05}\n    data:\n      a: one\n      b: two\n      c: three"
        );
    }
    text
}

/// `rune --server URL cast many.yaml` in `dir` on a new pseudo-terminal, as its controlling
/// terminal: the process, the terminal's input, and what the terminal shows, as it comes.
fn on_a_terminal(
    dir: &Path,
    url: &str,
    token: &str,
) -> (std::process::Child, File, mpsc::Receiver<Vec<u8>>) {
    let pty = nix::pty::openpty(None, None).expect("a pseudo-terminal");
    let terminal = || Stdio::from(pty.slave.try_clone().expect("a terminal descriptor"));
    // `rune_process`'s environment, behind `setsid --ctty`.
    let rune = rune_process(dir);
    let mut command = Command::new("setsid");
    command
        .args(["--ctty", "--wait"])
        .arg(rune.get_program())
        .args(["--server", url, "cast", "many.yaml"])
        .current_dir(dir)
        .env_clear()
        .envs(rune.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))))
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("RUNE_TOKEN", token)
        // A terminal that draws the spinner (without `TERM`, it counts as a dumb one).
        .env("TERM", "xterm")
        .stdin(terminal())
        .stdout(terminal())
        .stderr(terminal());
    let child = command.spawn().expect("setsid runs");
    drop(command);
    drop(pty.slave);
    let mut screen = File::from(pty.master);
    let keyboard = screen.try_clone().expect("the terminal's input");
    let (sender, receiver) = mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buffer = [0_u8; 4096];
        // Ends with EIO once rune has gone and no one holds the terminal.
        loop {
            match screen.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => {
                    if sender.send(buffer[..n].to_vec()).is_err() {
                        break;
                    }
                }
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                Err(error) => {
                    let _ = sender.send(format!("\n[read: {error}]\n").into_bytes());
                    break;
                }
            }
        }
    });
    (child, keyboard, receiver)
}

#[test]
fn ctrl_c_while_applying_says_the_apply_may_have_committed() {
    if Command::new("setsid").arg("--version").output().is_err() {
        cannot_run_here("`setsid` (util-linux) gives rune a controlling terminal");
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data = dir.path().join("runed");
    let server = Server::start(&data, &[]);
    let token = create_token(&data, "ci", &[]);
    std::fs::write(dir.path().join("many.yaml"), many_configmaps(20_000))
        .expect("write the runefile");
    let (mut child, mut keyboard, receiver) = on_a_terminal(dir.path(), &server.url(""), &token);
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(200);
    // Only the newest bytes are searched: the plan before the stage is megabytes long.
    let mut searched: usize = 0;
    while !seen[searched.saturating_sub(16)..]
        .windows(8)
        .any(|w| w == b"applying")
    {
        searched = seen.len();
        if Instant::now() > deadline {
            let text = String::from_utf8_lossy(&seen).into_owned();
            panic!(
                "no `applying` stage: {}",
                &text[text.len().saturating_sub(600)..]
            );
        }
        if let Ok(bytes) = receiver.recv_timeout(Duration::from_millis(50)) {
            seen.extend(bytes);
        }
    }
    // The ^C must land while runed applies (for seconds: 20,000 objects in a debug build), not
    // while rune still serialises the request: wait for runed to say that the apply began.
    let deadline = Instant::now() + Duration::from_secs(200);
    while !server
        .log()
        .contains("apply by token:ci: 20000 objects, 0 deletions: begins")
    {
        assert!(Instant::now() < deadline, "runed's log: {}", server.log());
        std::thread::sleep(Duration::from_millis(20));
        while let Ok(bytes) = receiver.try_recv() {
            seen.extend(bytes);
        }
    }
    keyboard.write_all(b"\x03").expect("type ^C");
    while let Ok(bytes) = receiver.recv_timeout(Duration::from_secs(60)) {
        seen.extend(bytes);
    }
    let status = child.wait().expect("rune ends");
    let shown = String::from_utf8_lossy(&seen).into_owned();
    let tail = &shown[shown.len().saturating_sub(1000)..];
    assert!(
        tail.contains("interrupted while applying: the apply may have committed"),
        "{tail}"
    );
    assert!(tail.contains("`rune diff --server "), "{tail}");
    assert!(tail.contains(" many.yaml` to see whether it did"), "{tail}");
    assert!(!tail.contains("Applied"), "{tail}");
    assert_eq!(status.code(), Some(130), "{tail}");

    let deadline = Instant::now() + Duration::from_secs(300);
    while !server
        .log()
        .contains("apply committed by token:ci: 20000 objects, 0 deletions, 20000 changed")
    {
        assert!(Instant::now() < deadline, "runed's log: {}", server.log());
        std::thread::sleep(Duration::from_millis(100));
    }
}
