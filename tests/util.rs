//! The one place that sets up how `rune` and `runed` run in tests: no colour, a fixed width, a
//! private HOME, and no `RUNE_*` variables leaking in from the developer's shell.
//!
//! [`Server`] is the `runed` harness: it spawns `runed --data-dir D --listen 127.0.0.1:0`, waits
//! for the `listening on http://127.0.0.1:PORT` line on stderr, keeps collecting the log, and
//! records every response body it receives (so a test can assert over all of them at once).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;

/// How long runed may take to say that it listens (or to stop after SIGTERM).
pub const PATIENCE: Duration = Duration::from_secs(10);

/// The repository root, where `fixtures/` and `schemas/` live.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `rune` with a normalised environment, run in `dir`. `CI` and `GIT_*` variables go too: run
/// from a git hook, they would point rune at the outer repository's index.
pub fn rune(dir: &Path) -> Command {
    Command::from_std(rune_process(dir))
}

/// [`rune`] as a plain process, for a test that wires its standard streams itself.
pub fn rune_process(dir: &Path) -> std::process::Command {
    let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("rune"));
    command
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .env("HOME", dir)
        // CI changes target selection (no implicit embedded engine): a test that wants it
        // sets `CI` itself.
        .env_remove("CI");
    for (name, _) in std::env::vars_os() {
        let name_text = name.to_string_lossy();
        if name_text.starts_with("RUNE_") || name_text.starts_with("GIT_") {
            command.env_remove(&name);
        }
    }
    command
}

/// `git` in `dir`, isolated from the developer's configuration (HOME is `dir`, no system
/// config, no `GIT_*` variables) and with a fixed identity for commits.
pub fn git(dir: &Path) -> std::process::Command {
    let mut command = std::process::Command::new("git");
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("GIT_") {
            command.env_remove(&name);
        }
    }
    command
        .current_dir(dir)
        .env("HOME", dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Rune Test")
        .env("GIT_AUTHOR_EMAIL", "test@rune.invalid")
        .env("GIT_COMMITTER_NAME", "Rune Test")
        .env("GIT_COMMITTER_EMAIL", "test@rune.invalid")
        .args(["-c", "init.defaultBranch=main"]);
    command
}

/// Runs `git ARGS…` in `dir` and fails the test when git fails; returns its stdout.
#[track_caller]
pub fn git_ok(dir: &Path, args: &[&str]) -> String {
    let output = git(dir).args(args).output().expect("git runs");
    assert!(
        output.status.success(),
        "git {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("git prints UTF-8")
}

/// A temporary directory holding the given runefiles.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    /// Writes a file (creating parent directories) and returns the workspace.
    #[track_caller]
    pub fn file(self, path: &str, text: &str) -> Self {
        let full = self.dir.path().join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).expect("create parent directories");
        }
        std::fs::write(full, text).expect("write a test file");
        self
    }

    pub fn rune(&self) -> Command {
        rune(self.dir.path())
    }

    /// `rune ARGS…` in the workspace, at most a minute: (exit code, stdout, stderr).
    pub fn run(&self, args: &[&str]) -> (Option<i32>, String, String) {
        let output = self
            .rune()
            .args(args)
            .timeout(Duration::from_secs(60))
            .output()
            .expect("rune runs");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }
}

// ---------------------------------------------------------------------------------------------
// runed
// ---------------------------------------------------------------------------------------------

/// A test that cannot run here: under CI (`CI` set, not `false`/`0`), where everything it needs
/// is installed and the tests run as root, that is a failure; elsewhere (a developer without
/// root) it says so loudly on stderr. Returns only outside CI, and the caller then returns.
#[track_caller]
pub fn cannot_run_here(why: &str) {
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    assert!(!ci, "this test cannot run here, and CI must run it: {why}");
    eprintln!("SKIPPED (LOUD): {why}");
}

/// `runed` with `--data-dir` and an environment free of the developer's `RUNE_*` variables.
pub fn runed_command(data_dir: &Path) -> std::process::Command {
    let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("runed"));
    command.arg("--data-dir").arg(data_dir);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("RUNE_") {
            command.env_remove(&name);
        }
    }
    command
}

/// Runs `runed --data-dir D ARGS…` to completion (a token command, or a start that must fail).
pub fn runed_once(data_dir: &Path, args: &[&str]) -> std::process::Output {
    let mut command = runed_command(data_dir);
    command.args(args).stdin(Stdio::null());
    assert_cmd::Command::from_std(command)
        .timeout(Duration::from_secs(20))
        .output()
        .expect("run runed")
}

/// A new token with every permission from `runed token create NAME [-n NS]…`, run while the
/// server runs.
pub fn create_token(data_dir: &Path, name: &str, namespaces: &[&str]) -> String {
    create_token_with(data_dir, name, namespaces, "read,cast,run,admin")
}

/// A new token with exactly `permissions` (`read,cast`, …).
pub fn create_token_with(
    data_dir: &Path,
    name: &str,
    namespaces: &[&str],
    permissions: &str,
) -> String {
    let mut args = vec!["token", "create", name, "--permissions", permissions];
    for ns in namespaces {
        args.extend(["-n", ns]);
    }
    let output = runed_once(data_dir, &args);
    assert!(output.status.success(), "token create failed: {output:?}");
    let token = String::from_utf8(output.stdout).expect("the token is text");
    token.trim().to_owned()
}

/// A running `runed`; killed when dropped.
pub struct Server {
    pub agent: ureq::Agent,
    child: Child,
    exited: Option<ExitStatus>,
    log: Arc<Mutex<String>>,
    port: u16,
    reader: Option<JoinHandle<()>>,
    replies: Mutex<Vec<String>>,
    /// Sent as the bearer token of every request (unless a call sets its own).
    token: Option<String>,
}

impl Server {
    /// Starts runed on `data_dir` (plus `extra_args`) and waits until it listens.
    #[track_caller]
    pub fn start(data_dir: &Path, extra_args: &[&str]) -> Self {
        Self::spawn(runed_command(data_dir), extra_args)
    }

    /// Starts `command` (runed, possibly behind a wrapper such as `setpriv`) plus `extra_args`
    /// on a free loopback port, and waits until it listens.
    #[track_caller]
    pub fn spawn(mut command: std::process::Command, extra_args: &[&str]) -> Self {
        let mut child = command
            .args(["--listen", "127.0.0.1:0"])
            .args(extra_args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn runed");
        let stderr = child.stderr.take().expect("runed's stderr is piped");
        let (log, port_rx, reader) = follow_log(stderr, "http");
        // A fresh connection per request: after an early error answer (413 on a body it did
        // not read) the server closes the connection, and a pooled one would then fail the
        // next request with "peer disconnected", whichever test sent it.
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_idle_connections(0)
            .timeout_global(Some(Duration::from_secs(120)))
            .build()
            .into();
        let mut server = Self {
            agent,
            child,
            exited: None,
            log,
            port: 0,
            reader: Some(reader),
            replies: Mutex::new(Vec::new()),
            token: None,
        };
        match port_rx.recv_timeout(PATIENCE) {
            Ok(port) => server.port = port,
            Err(error) => {
                server.kill();
                panic!(
                    "runed did not report `listening on` ({error}); its log:\n{}",
                    server.log()
                );
            }
        }
        server
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Everything runed wrote to stderr so far.
    pub fn log(&self) -> String {
        self.log.lock().expect("log lock").clone()
    }

    /// The log once it holds `needle` (or after 5 s): runed's stderr is read on another thread,
    /// so a line written just before a response may not be here yet when the response is.
    pub fn log_with(&self, needle: &str) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let log = self.log();
            if log.contains(needle) || std::time::Instant::now() > deadline {
                return log;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Every response body this harness received from the server.
    pub fn replies(&self) -> Vec<String> {
        self.replies.lock().expect("replies lock").clone()
    }

    pub fn pid(&self) -> String {
        self.child.id().to_string()
    }

    /// Uses `token` for every request from now on (and gives it to `rune` through
    /// [`Server::token`]).
    pub fn set_token(&mut self, token: &str) {
        self.token = Some(token.to_owned());
    }

    /// Creates a token with every right and uses it from now on: runed leaves open mode, where
    /// it refuses `process:` services. Returns the token.
    pub fn authenticate(&mut self, data_dir: &Path) -> String {
        let token = create_token(data_dir, "tests", &[]);
        self.set_token(&token);
        token
    }

    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    pub fn request(&self, method: &'static str, path: &str) -> Call<'_> {
        let headers = self
            .token
            .iter()
            .map(|t| ("authorization".to_owned(), format!("Bearer {t}")))
            .collect();
        Call {
            body: None,
            headers,
            method,
            path: path.to_owned(),
            server: self,
        }
    }

    pub fn get(&self, path: &str) -> Reply {
        self.request("GET", path).send()
    }

    pub fn post(&self, path: &str, body: &Value) -> Reply {
        self.request("POST", path).json(body).send()
    }

    pub fn put(&self, path: &str, body: &Value) -> Reply {
        self.request("PUT", path).json(body).send()
    }

    pub fn delete(&self, path: &str) -> Reply {
        self.request("DELETE", path).send()
    }

    /// SIGTERM, then waits for runed to finish in-flight requests and exit.
    pub fn stop(&mut self) -> ExitStatus {
        let signal = std::process::Command::new("kill")
            .args(["-TERM", &self.pid()])
            .status()
            .expect("run kill");
        assert!(signal.success(), "kill -TERM failed");
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for runed") {
                return self.finish(status);
            }
            if Instant::now() > deadline {
                self.kill();
                panic!("runed did not stop within {PATIENCE:?} of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL: no chance to finish anything.
    pub fn kill(&mut self) {
        if self.exited.is_none() {
            let _ = self.child.kill();
            let status = self.child.wait().expect("wait for runed");
            self.finish(status);
        }
    }

    fn finish(&mut self, status: ExitStatus) -> ExitStatus {
        self.exited = Some(status);
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        status
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One request under construction.
pub struct Call<'a> {
    body: Option<String>,
    headers: Vec<(String, String)>,
    method: &'static str,
    path: String,
    server: &'a Server,
}

impl Call<'_> {
    /// Sets a header, replacing one of the same name (the server's default token, say).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    pub fn json(self, body: &Value) -> Self {
        self.raw(&body.to_string())
    }

    /// A body sent as is with `content-type: application/json` (for malformed bodies).
    pub fn raw(mut self, body: &str) -> Self {
        self.body = Some(body.to_owned());
        self
    }

    #[track_caller]
    pub fn send(self) -> Reply {
        fn headers<B>(
            mut request: ureq::RequestBuilder<B>,
            headers: &[(String, String)],
        ) -> ureq::RequestBuilder<B> {
            for (name, value) in headers {
                request = request.header(name, value);
            }
            request
        }
        let agent = &self.server.agent;
        let url = self.server.url(&self.path);
        let body = self.body.unwrap_or_default();
        let result = match self.method {
            "GET" => headers(agent.get(&url), &self.headers).call(),
            "DELETE" => headers(agent.delete(&url), &self.headers).call(),
            "POST" => headers(agent.post(&url), &self.headers)
                .content_type("application/json")
                .send(&body),
            "PUT" => headers(agent.put(&url), &self.headers)
                .content_type("application/json")
                .send(&body),
            other => panic!("no helper for {other}"),
        };
        let mut response = result.unwrap_or_else(|e| panic!("{} {url}: {e}", self.method));
        let reply = Reply::read(&mut response);
        self.server
            .replies
            .lock()
            .expect("replies lock")
            .push(reply.text.clone());
        reply
    }
}

/// A response: status, content type and body.
#[derive(Debug)]
pub struct Reply {
    pub content_type: String,
    pub status: u16,
    pub text: String,
}

impl Reply {
    fn read(response: &mut ureq::http::Response<ureq::Body>) -> Self {
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(256 << 20)
            .read_to_string()
            .expect("read the response body");
        Self {
            content_type,
            status,
            text,
        }
    }

    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.text))
    }

    /// Asserts the status and returns the body as JSON.
    #[track_caller]
    pub fn expect(&self, status: u16) -> Value {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        if self.text.is_empty() {
            Value::Null
        } else {
            self.json()
        }
    }

    /// Asserts an error status and code (and the error format) and returns the `details`.
    #[track_caller]
    pub fn error(&self, status: u16, code: &str) -> Value {
        let body = self.expect(status);
        assert_eq!(body["code"], code, "unexpected code: {}", self.text);
        assert!(body["message"].is_string(), "no message: {}", self.text);
        assert!(
            body.as_object().is_some_and(|o| o.contains_key("details")),
            "no details: {}",
            self.text
        );
        body["details"].clone()
    }
}

/// Collects runed's stderr on a thread into a shared log, and sends the port of the first
/// `listening on SCHEME://127.0.0.1:PORT` line.
pub fn follow_log(
    stderr: std::process::ChildStderr,
    scheme: &str,
) -> (
    Arc<Mutex<String>>,
    mpsc::Receiver<u16>,
    std::thread::JoinHandle<()>,
) {
    let log = Arc::new(Mutex::new(String::new()));
    let (port_tx, port_rx) = mpsc::channel();
    let marker = format!("listening on {scheme}://127.0.0.1:");
    let shared = Arc::clone(&log);
    let reader = std::thread::spawn(move || {
        let mut stderr = BufReader::new(stderr);
        let mut bytes = Vec::new();
        while stderr.read_until(b'\n', &mut bytes).unwrap_or(0) > 0 {
            let line = String::from_utf8_lossy(&bytes).into_owned();
            bytes.clear();
            if let Some(port) = line
                .split(marker.as_str())
                .nth(1)
                .and_then(|p| p.trim().parse::<u16>().ok())
            {
                let _ = port_tx.send(port);
            }
            shared.lock().expect("log lock").push_str(&line);
        }
    });
    (log, port_rx, reader)
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("read a directory") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}
