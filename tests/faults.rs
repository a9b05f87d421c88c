//! Faults (issue #12, SPEC §4.4): a full disk answers 507 (exit 8, remote and embedded), runed
//! recovers by itself once space is back and `/healthz` says how the store is; stalled headers
//! and trickling bodies are cut off; runed's process keeps no core dump and no KEK in its
//! environment; a KEK file others can read is warned about, one anyone can write is refused.
//!
//! The disk-full test mounts a small tmpfs as the data directory and so needs root (CI runs the
//! tests as root); without it the test fails under CI (`cannot_run_here`).

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::util::{Server, Workspace, cannot_run_here, runed_command, runed_once};

/// A tmpfs mounted for one test, unmounted when dropped (a failed assertion included).
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (`16m`) on `dir`, or says why it cannot.
    fn mount(dir: &Path, size: &str) -> Result<Self, String> {
        if !nix::unistd::geteuid().is_root() {
            return Err("mounting a tmpfs needs root".to_owned());
        }
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700")])
            .arg("tmpfs")
            .arg(dir)
            .status()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !status.success() {
            return Err(format!("mount -t tmpfs failed: {status}"));
        }
        Ok(Self {
            dir: dir.to_path_buf(),
        })
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazy: runed may still hold the store file open when a failed test unwinds.
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.dir)
            .status();
    }
}

/// Fills the file system of `path` with one file, to the last byte it takes.
fn fill(path: &Path) {
    let mut file = std::fs::File::create(path).expect("create the filler");
    for chunk in [1 << 20, 64 << 10, 4 << 10, 512, 1] {
        let bytes = vec![0x5a_u8; chunk];
        while file.write_all(&bytes).is_ok() {}
    }
    let _ = file.sync_all();
}

/// A configmap of about 1 MiB: more than a full disk has room for, under the default limits.
fn big_data() -> Value {
    (0..16)
        .map(|i| (format!("k{i:02}"), Value::from("x".repeat(60_000))))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

fn configmap(name: &str, data: &Value) -> Value {
    json!({"kind": "configmap", "namespace": "default", "name": name, "spec": {"data": data}})
}

/// The same configmap as a runefile, for `rune cast`.
fn big_runefile(name: &str) -> String {
    use std::fmt::Write as _;
    let mut text = format!("configmap:\n  name: {name}\n  data:\n");
    for (key, value) in big_data().as_object().expect("a map") {
        let _ = writeln!(text, "    {key}: {value}");
    }
    text
}

/// Full disk → 507 with the cause, exit 8 from `rune cast` (remote and embedded), `/healthz`
/// degraded; space back → the next write succeeds without a restart, and everything committed
/// before is still there (and nothing of the failed writes).
#[test]
fn a_full_disk_answers_507_and_runed_recovers_without_a_restart() {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let mount = tmp.path().join("disk");
    let tmpfs = match Tmpfs::mount(&mount, "16m") {
        Ok(tmpfs) => tmpfs,
        Err(why) => return cannot_run_here(&why),
    };
    let data = tmpfs.dir.join("runed");
    let local = tmpfs.dir.join("local");
    let server = Server::start(&data, &[]);
    let before: Vec<String> = (0..3).map(|i| format!("before-{i}")).collect();
    for name in &before {
        let body = configmap(name, &json!({ "a": name }));
        server
            .post("/v1/namespaces/default/configmaps", &body)
            .expect(201);
    }
    let secret = json!({"kind": "secret", "namespace": "default", "name": "before-secret",
                        "spec": {"data": {"pw": "PlainTextMarker-full-disk"}}});
    server
        .post("/v1/namespaces/default/secrets", &secret)
        .expect(201);
    let work = Workspace::new()
        .file("big.yaml", &big_runefile("big-cast"))
        .file("small.yaml", "configmap:\n  name: small\n  data: {a: b}\n");
    let embedded = |file: &str| {
        work.rune()
            .arg("--data-dir")
            .arg(&local)
            .args(["cast", file])
            .timeout(Duration::from_secs(60))
            .output()
            .expect("run rune")
    };
    assert!(embedded("small.yaml").status.success(), "embedded cast");
    server.get("/healthz").expect(200);

    let filler = tmpfs.dir.join("filler");
    fill(&filler);

    let details = server
        .post(
            "/v1/namespaces/default/configmaps",
            &configmap("big", &big_data()),
        )
        .error(507, "insufficient_storage");
    assert_eq!(details["full"], true, "{details}");
    let cause = details["cause"].as_str().unwrap_or_default();
    assert!(cause.contains("No space left"), "{details}");
    let log = server.log_with("No space left");
    assert!(
        log.contains("No space left"),
        "the log names the cause:\n{log}"
    );

    let remote = work
        .rune()
        .args(["--server", &server.url(""), "cast", "big.yaml"])
        .timeout(Duration::from_secs(60))
        .output()
        .expect("run rune");
    let stderr = String::from_utf8_lossy(&remote.stderr);
    assert_eq!(remote.status.code(), Some(8), "remote cast: {stderr}");
    assert!(stderr.contains("storage is full"), "{stderr}");

    let local_cast = embedded("big.yaml");
    let stderr = String::from_utf8_lossy(&local_cast.stderr);
    assert_eq!(local_cast.status.code(), Some(8), "embedded cast: {stderr}");
    assert!(stderr.contains("storage is full"), "{stderr}");

    let health = server.get("/healthz").expect(503);
    assert_eq!(health["status"], "degraded", "{health}");
    assert_eq!(health["store"], "full", "{health}");

    std::fs::remove_file(&filler).expect("remove the filler");
    server
        .post(
            "/v1/namespaces/default/configmaps",
            &configmap("after", &json!({"a": "b"})),
        )
        .expect(201);
    assert_eq!(server.get("/healthz").expect(200)["store"], "ok");
    let log = server.log_with("the store works again");
    assert!(
        log.contains("reopened the store") && log.contains("the store works again"),
        "{log}"
    );
    everything_from_before_is_there(&server, &work, &local, &before);
    // The big one fits now, through the same runed.
    server
        .post(
            "/v1/namespaces/default/configmaps",
            &configmap("big", &big_data()),
        )
        .expect(201);
    assert!(embedded("big.yaml").status.success(), "embedded cast after");
    drop(server);
}

/// After the recovery: every object committed before the disk filled up is there (in runed's
/// store and the embedded one), and nothing of the writes that failed.
fn everything_from_before_is_there(
    server: &Server,
    work: &Workspace,
    local: &Path,
    before: &[String],
) {
    for name in before {
        let path = format!("/v1/namespaces/default/configmaps/{name}");
        assert_eq!(server.get(&path).expect(200)["data"]["a"], name.as_str());
    }
    let kept = server.get("/v1/namespaces/default/secrets/before-secret");
    assert_eq!(kept.expect(200)["keys"], json!(["pw"]));
    let local_small = work
        .rune()
        .arg("--data-dir")
        .arg(local)
        .args(["get", "configmap", "small", "-o", "json"])
        .output()
        .expect("run rune");
    assert!(local_small.status.success(), "{local_small:?}");
    for gone in ["big", "big-cast"] {
        let path = format!("/v1/namespaces/default/configmaps/{gone}");
        server.get(&path).error(404, "not_found");
    }
}

/// A runefile that sets short read timeouts.
fn with_timeouts(dir: &Path) -> String {
    let path = dir.join("runed.yaml");
    std::fs::write(
        &path,
        "server:\n  header-read-timeout: 1s\n  body-read-timeout: 2s\n",
    )
    .expect("write the server runefile");
    path.display().to_string()
}

fn connect(server: &Server) -> TcpStream {
    let address = server.url("").trim_start_matches("http://").to_owned();
    let stream = TcpStream::connect(address).expect("connect to runed");
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .expect("set a read timeout");
    stream
}

/// Reads until runed closes the connection; returns what it sent and how long that took.
fn until_closed(stream: &mut TcpStream, started: Instant) -> (String, Duration) {
    let mut answer = Vec::new();
    let mut buffer = [0; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buffer[..n]),
            Err(error)
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                panic!("runed kept the connection open for {:?}", started.elapsed())
            }
            Err(_) => break,
        }
    }
    (
        String::from_utf8_lossy(&answer).into_owned(),
        started.elapsed(),
    )
}

/// A client that sends half its headers and stalls is disconnected after
/// `server.header-read-timeout`; one whose body trickles gets 408 after
/// `server.body-read-timeout`. Other requests are served meanwhile.
#[test]
fn stalled_headers_and_trickling_bodies_are_cut_off() {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let config = with_timeouts(tmp.path());
    let server = Server::start(&tmp.path().join("data"), &["--config", &config]);

    let mut stalled = connect(&server);
    let started = Instant::now();
    stalled
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: ")
        .expect("send half the headers");
    let (_, took) = until_closed(&mut stalled, started);
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(6),
        "disconnected after {took:?}"
    );

    let mut trickle = connect(&server);
    let started = Instant::now();
    trickle
        .write_all(
            b"POST /v1/namespaces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{",
        )
        .expect("send the headers");
    let mut writer = trickle.try_clone().expect("clone the stream");
    let dripping = std::thread::spawn(move || {
        for _ in 0..60 {
            std::thread::sleep(Duration::from_millis(250));
            if writer.write_all(b" ").is_err() {
                break;
            }
        }
    });
    server.get("/healthz").expect(200);
    let (answer, took) = until_closed(&mut trickle, started);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");
    assert!(
        took >= Duration::from_millis(1900) && took < Duration::from_secs(8),
        "cut off after {took:?}"
    );
    let _ = dripping.join();
}

/// runed's process: core dumps off (`RLIMIT_CORE` 0) and the env-var KEK gone from
/// `/proc/<pid>/environ` (runed re-executes itself without it), while the key works. Reading
/// another process's environ when it is not dumpable needs root.
#[test]
fn runed_keeps_no_core_dump_and_no_kek_in_its_environment() {
    const KEY: &str = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";
    if !nix::unistd::geteuid().is_root() {
        return cannot_run_here("reading a non-dumpable process's environ needs root");
    }
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let config = tmp.path().join("runed.yaml");
    std::fs::write(
        &config,
        "crypto:\n  kek:\n    source: env\n    env-var: RUNE_TEST_KEK\n",
    )
    .expect("write the server runefile");
    let mut command = runed_command(&tmp.path().join("data"));
    command
        .env("RUNE_TEST_KEK", KEY)
        .env("RUNE_TEST_VISIBLE", "still-here");
    let server = Server::spawn(command, &["--config", &config.display().to_string()]);
    let proc = PathBuf::from("/proc").join(server.pid());

    let limits = std::fs::read_to_string(proc.join("limits")).expect("read limits");
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .expect("a core size line");
    let fields: Vec<&str> = core.split_whitespace().collect();
    assert_eq!(fields[4..6], ["0", "0"], "{core}");

    let environ = std::fs::read(proc.join("environ")).expect("read environ as root");
    let environ = String::from_utf8_lossy(&environ);
    assert!(
        environ.contains("RUNE_TEST_VISIBLE=still-here"),
        "not runed's environment: {environ:?}"
    );
    assert!(!environ.contains("RUNE_TEST_KEK"), "{environ:?}");
    // Re-executed with two malloc arenas as well (issue #14).
    assert!(environ.contains("MALLOC_ARENA_MAX=2"), "{environ:?}");
    assert!(!environ.contains(KEY), "the key is in the environment");

    server
        .post(
            "/v1/namespaces/default/secrets",
            &json!({"kind": "secret", "namespace": "default", "name": "s",
                    "spec": {"data": {"k": "v"}}}),
        )
        .expect(201);
    assert!(
        server.log().contains("loaded from env RUNE_TEST_KEK"),
        "{}",
        server.log()
    );
}

/// A KEK file others can read: a warning naming the path and the mode; one anyone can write:
/// runed refuses to start.
#[test]
fn a_kek_file_others_can_read_is_warned_about_and_a_world_writable_one_refused() {
    use std::os::unix::fs::PermissionsExt as _;
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let data = tmp.path().join("data");
    let mut server = Server::start(&data, &[]);
    assert!(!server.log().contains("chmod 600"), "{}", server.log());
    assert!(server.stop().success());
    let kek = data.join("kek");

    std::fs::set_permissions(&kek, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let mut server = Server::start(&data, &[]);
    let log = server.log();
    assert!(
        log.contains(&kek.display().to_string())
            && log.contains("0644")
            && log.contains("chmod 600"),
        "{log}"
    );
    assert!(server.stop().success());

    std::fs::set_permissions(&kek, std::fs::Permissions::from_mode(0o666)).expect("chmod");
    let refused = runed_once(&data, &["--listen", "127.0.0.1:0"]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{stderr}");
    assert!(
        stderr.contains("writable by every user") && stderr.contains("0666"),
        "{stderr}"
    );
}

/// An operator's own `MALLOC_ARENA_MAX` is kept: runed sets two arenas only when the
/// environment says nothing (issue #14).
#[test]
fn runed_keeps_an_operators_arena_limit() {
    if !nix::unistd::geteuid().is_root() {
        return cannot_run_here("reading a non-dumpable process's environ needs root");
    }
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let mut command = runed_command(&tmp.path().join("data"));
    command.env("MALLOC_ARENA_MAX", "4");
    let server = Server::spawn(command, &[]);
    let environ = std::fs::read(PathBuf::from("/proc").join(server.pid()).join("environ"))
        .expect("read environ as root");
    let environ = String::from_utf8_lossy(&environ);
    assert!(environ.contains("MALLOC_ARENA_MAX=4"), "{environ:?}");
    assert!(!environ.contains("MALLOC_ARENA_MAX=2"), "{environ:?}");
}
