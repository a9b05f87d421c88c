//! The `rune` process as a whole, around its commands: a closed stdout ends a command quietly
//! (issue #10, SPEC §3), and the binary links no HTTP server.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::process::{Output, Stdio};

use crate::util::{Workspace, rune_process};

/// `rune ARGS…` with a stdout whose reader is gone before it starts: every write fails with a
/// broken pipe, whatever the output's size.
fn to_a_closed_pipe(w: &Workspace, args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    rune_process(w.dir.path())
        .args(args)
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("run rune")
}

/// `rune ARGS… | head -1`: reads one line of stdout, closes it, then waits for the exit.
fn head_1(w: &Workspace, args: &[&str]) -> (String, Output) {
    let mut child = rune_process(w.dir.path())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rune");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout is piped"))
        .read_line(&mut line)
        .expect("read the first line");
    let output = child.wait_with_output().expect("rune exits");
    (line, output)
}

#[track_caller]
fn assert_quiet_success(what: &str, output: &Output) {
    assert_eq!(
        output.status.code(),
        Some(0),
        "{what}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The line naming the target is printed even with `-q` (SPEC §3, target selection).
    let stderr = String::from_utf8_lossy(&output.stderr);
    let rest: Vec<&str> = stderr
        .lines()
        .filter(|line| !line.starts_with("rune: using the embedded engine with data in "))
        .collect();
    assert!(rest.is_empty(), "{what}: {stderr}");
}

/// A runefile of `count` secrets with 20 long keys each: its `get` table is far larger than a
/// pipe's buffer, so `rune` is still writing when the reader goes away.
fn many_secrets(count: usize) -> String {
    let mut text = String::from("secrets:\n");
    for i in 0..count {
        let _ = write!(
            text,
            "  - name: secret-with-a-rather-long-name-number-{i:05}\n    namespace: default\n    data:\n"
        );
        for k in 0..20 {
            let _ = writeln!(
                text,
                "      - key: a-long-data-key-so-that-each-row-of-the-table-is-wide-{k:02}\n        value: v"
            );
        }
    }
    text
}

/// `rune completion bash | head -1` (issue #10): `clap_complete` panicked on the failed write;
/// now every command writing to a closed stdout exits 0 without a message.
#[test]
fn issue_10_completion_to_a_closed_stdout_exits_quietly() {
    let w = Workspace::new();
    for args in [&["completion", "bash"][..], &["version"], &["--help"]] {
        let output = to_a_closed_pipe(&w, args);
        assert_quiet_success(&format!("rune {}", args.join(" ")), &output);
    }
    let (line, output) = head_1(&w, &["completion", "bash"]);
    assert!(!line.is_empty(), "the script's first line");
    assert_quiet_success("rune completion bash | head -1", &output);
}

/// `rune get secrets -A | head -1` (issue #10) on the embedded engine: exit 0 without a
/// message, where it was exit 8 with "cannot write the output: Broken pipe".
#[test]
fn issue_10_get_to_a_closed_stdout_exits_quietly() {
    let w = Workspace::new().file("secrets.yaml", &many_secrets(300));
    let data = w.dir.path().join("local");
    let data = data.to_str().expect("a UTF-8 path");
    w.rune()
        .args(["-q", "--data-dir", data, "cast", "secrets.yaml"])
        .assert()
        .success();
    let get = ["-q", "--data-dir", data, "get", "secrets", "-A"];
    let (line, output) = head_1(&w, &get);
    assert!(line.starts_with("NAMESPACE"), "the table's header: {line}");
    assert_quiet_success("rune get secrets -A | head -1", &output);
    assert_quiet_success("rune get secrets -A >&-", &to_a_closed_pipe(&w, &get));
}

/// `rune` reaches the embedded engine through `rune::local` only, so no code of runed's HTTP
/// server (axum, hyper, their tokio runtime) is linked into it (issue #10). Reads the symbols
/// with `nm`, which comes with the binutils the linker needs anyway.
#[test]
fn issue_10_rune_links_no_http_server() {
    let binary = assert_cmd::cargo::cargo_bin("rune");
    let output = std::process::Command::new("nm")
        .arg("-C")
        .arg(&binary)
        .output()
        .expect("nm (binutils) runs");
    assert!(output.status.success(), "nm {}", binary.display());
    let symbols = String::from_utf8_lossy(&output.stdout);
    assert!(symbols.contains("rune::local::"), "nm sees rune's symbols");
    for crate_path in ["axum::", "hyper::", "hyper_util::", "tokio::"] {
        let linked: Vec<&str> = symbols
            .lines()
            .filter(|line| line.contains(crate_path))
            .take(5)
            .collect();
        assert!(
            linked.is_empty(),
            "`rune` links {crate_path}:\n{}",
            linked.join("\n")
        );
    }
}
