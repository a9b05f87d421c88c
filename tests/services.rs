//! Running services end to end (SPEC §5, issue #6): the real runed as root on a loopback port,
//! driven by the real `rune`. A `process:` service that prints its environment and the
//! contents and modes of its mounted files shows exactly what was cast; instances keep their
//! values until `rune restart`; crashes restart with back-off; deletes stop; a restarted runed
//! brings services back; `image:` services are stored but not run; without runed, nothing runs.
//!
//! Every wait polls with a deadline; runed is killed by the [`Server`] guard when a test ends,
//! and instances die with it (runed sets their parent-death signal).

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::runed::Setup;
use crate::util::Server;
use crate::util::Workspace;

/// How long any awaited state may take.
const PATIENCE: Duration = Duration::from_secs(20);

/// Prints the environment, then every mounted file as `FILE <path> <mode> <content>`, then
/// `READY <instance>`, and sleeps (as the same process, so it dies with runed).
const SCRIPT: &str = r#"echo BEGIN; env | sort; for f in "$MOUNTS"/secret/* "$MOUNTS"/config/*; do echo "FILE $f $(stat -c %a "$f") $(cat "$f")"; done; echo "READY $RUNE_INSTANCE"; exec sleep 600"#;

/// The runefile: a secret, a configmap, and a service that imports and mounts both.
fn runefile(mounts: &Path, password: &str, scale: u32) -> String {
    format!(
        r#"secret:
  name: db
  data:
    password: {password}
    USER: from-secret
---
configmap:
  name: app
  data:
    MODE: from-config
    USER: from-config
    bad-key: skipped
---
service:
  name: web
  scale: {scale}
  process:
    command: /bin/sh
    args: ["-c", {script}]
  env:
    MODE: explicit
    MOUNTS: {mounts}
  envFrom:
    - configRef: app
    - secretRef: db
    - secretRef: db
      prefix: DB_
  secretMounts:
    - name: creds
      secretName: db
      mountPath: {mounts}/secret
  configMounts:
    - name: settings
      configName: app
      mountPath: {mounts}/config
"#,
        script = serde_json::to_string(SCRIPT).unwrap(),
        mounts = mounts.display(),
    )
}

/// `rune … --server URL` in `ws`; returns stdout, asserting the exit code.
#[track_caller]
pub(crate) fn rune(ws: &Workspace, server: &Server, args: &[&str], code: i32) -> String {
    let mut command = ws.rune();
    command.args(args).args(["--server", &server.url("")]);
    if let Some(token) = server.token() {
        command.args(["--token", token]);
    }
    let output = command.output().expect("run rune");
    assert_eq!(
        output.status.code(),
        Some(code),
        "rune {args:?}: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

/// Polls `probe` until it returns `Some`, or panics after [`PATIENCE`] with `what`.
#[track_caller]
pub(crate) fn eventually<T>(
    what: &str,
    server: &Server,
    mut probe: impl FnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; runed's log:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub(crate) fn runner_status(server: &Server) -> Value {
    server.get("/v1/status").expect(200)
}

pub(crate) fn service<'a>(status: &'a Value, name: &str) -> &'a Value {
    status["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no service {name} in {status:#}"))
}

/// The pid of every running instance of `name`, by index, once all `scale` of them run.
pub(crate) fn running_pids(server: &Server, name: &str, scale: usize) -> Option<Vec<u32>> {
    let status = runner_status(server);
    let instances = service(&status, name)["instances"].as_array()?.clone();
    (instances.len() == scale && instances.iter().all(|i| i["state"] == "Running")).then(|| {
        instances
            .iter()
            .map(|i| i["pid"].as_u64().unwrap() as u32)
            .collect()
    })
}

/// Whether a process exists and is not a zombie.
pub(crate) fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit(')')
            .next()
            .is_some_and(|s| !s.trim_start().starts_with('Z'))
    })
}

/// An instance's log through the API.
fn api_log(server: &Server, instance: u32) -> String {
    server
        .get(&format!(
            "/v1/namespaces/default/services/web/logs?instance={instance}"
        ))
        .expect(200)["text"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Whether runed can isolate instances. As root it must (a failure, not a skip); otherwise
/// the caller skips, loudly.
pub(crate) fn isolation(server: &Server) -> bool {
    let status = runner_status(server);
    let available = status["mountNamespaces"] == true;
    if nix::unistd::geteuid().is_root() {
        assert!(
            available,
            "runed runs as root but cannot isolate instances: {status:#}"
        );
    } else if !available {
        crate::util::cannot_run_here(&format!(
            "this test needs root to run isolated instances; runed says: {}",
            status["mountNamespacesReason"]
        ));
    }
    available
}

/// A temporary directory that service uids may pass through (mode 0755), for mount points.
pub(crate) fn shared_dir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
        .expect("open the directory to service uids");
    dir
}

/// The cast values reach the process: `envFrom` in order with prefixes, explicit `env` winning,
/// the `RUNE_*` variables, nothing of runed's environment; one file per key with the exact bytes,
/// 0400 for the secret and 0444 for the configmap; the mount points empty from outside; an
/// invalid key skipped with an event. After a secret update the running instance keeps the old
/// value and `describe` marks it outdated; after `rune restart` it shows the new one and the
/// version moves.
#[test]
fn a_process_service_receives_its_configuration_and_keeps_it_until_restart() {
    let setup = Setup::new();
    let mut server = setup.start();
    server.authenticate(&setup.data());
    if !isolation(&server) {
        return;
    }
    let ws = Workspace::new();
    // The service's own uid must reach its mount points.
    let shared = shared_dir();
    let mounts = shared.path().join("mnt");
    let ws = ws.file("app.yaml", &runefile(&mounts, "hunter2-v1", 1));
    rune(&ws, &server, &["cast", "app.yaml"], 0);

    let log = eventually("the instance to print READY", &server, || {
        let out = rune(&ws, &server, &["logs", "web"], 0);
        out.contains("READY 0").then_some(out)
    });
    for line in [
        "MODE=explicit",
        "USER=from-secret",
        "DB_USER=from-secret",
        "DB_password=hunter2-v1",
        "password=hunter2-v1",
        "RUNE_INSTANCE=0",
        "RUNE_NAMESPACE=default",
        "RUNE_SERVICE_NAME=web",
        &format!("FILE {}/secret/password 400 hunter2-v1", mounts.display()),
        &format!("FILE {}/secret/USER 400 from-secret", mounts.display()),
        &format!("FILE {}/config/MODE 444 from-config", mounts.display()),
        &format!("FILE {}/config/bad-key 444 skipped", mounts.display()),
    ] {
        assert!(
            log.lines().any(|l| l == line),
            "no line `{line}` in:\n{log}"
        );
    }
    assert!(!log.contains("bad-key=") && !log.contains("CARGO"), "{log}");
    assert_eq!(api_log(&server, 0), log, "the API serves the same log");

    // From outside the instance the mount points are empty: the files live on its tmpfs only.
    for dir in ["secret", "config"] {
        let entries = std::fs::read_dir(mounts.join(dir)).map_or(0, Iterator::count);
        assert_eq!(entries, 0, "{dir} is visible outside the instance");
    }
    let described = rune(&ws, &server, &["describe", "service", "web"], 0);
    assert!(described.contains("Running (pid"), "{described}");
    assert!(
        described.contains("started with configmap/app v1, secret/db v1"),
        "{described}"
    );
    assert!(
        described.contains("skipped env key `bad-key`"),
        "{described}"
    );
    assert!(!described.contains("outdated"), "{described}");

    // A secret update: the instance keeps its values, describe says it is outdated.
    let ws = ws.file("app.yaml", &runefile(&mounts, "hunter2-v2", 1));
    rune(&ws, &server, &["cast", "app.yaml"], 0);
    let described = rune(&ws, &server, &["describe", "service", "web"], 0);
    assert!(
        described.contains("outdated: runs secret/db v1 (current v2)"),
        "{described}"
    );
    let status_text = rune(&ws, &server, &["status"], 0);
    assert!(
        status_text.contains("outdated: secret/db v1 (current v2)"),
        "{status_text}"
    );
    // One runed on redb runs its services itself and says so (SPEC §4.5).
    let replica = format!(
        ":{} (pid {})` runs the `process:` services",
        server.url("").rsplit(':').next().unwrap(),
        server.pid()
    );
    assert!(status_text.contains(&replica), "{status_text}");
    let log = rune(&ws, &server, &["logs", "web"], 0);
    assert_eq!(
        log.matches("READY").count(),
        1,
        "restarted by the update:\n{log}"
    );
    assert!(!log.contains("hunter2-v2"), "{log}");

    // `rune restart` waits for the new instance; it starts with the new value.
    let restarted = rune(&ws, &server, &["restart", "web", "--timeout", "30"], 0);
    assert!(restarted.contains("1 instances running"), "{restarted}");
    let log = eventually("the restarted instance to print READY", &server, || {
        let out = api_log(&server, 0);
        (out.matches("READY 0").count() == 2).then_some(out)
    });
    let second = log.rsplit("BEGIN").next().unwrap();
    assert!(second.contains("DB_password=hunter2-v2"), "{log}");
    assert!(
        second.contains(&format!(
            "FILE {}/secret/password 400 hunter2-v2",
            mounts.display()
        )),
        "{log}"
    );
    let described = rune(&ws, &server, &["describe", "service", "web"], 0);
    assert!(
        described.contains("started with configmap/app v1, secret/db v2"),
        "{described}"
    );
    assert!(!described.contains("outdated"), "{described}");
    let table = rune(&ws, &server, &["get", "services"], 0);
    assert!(table.contains("1/1 running"), "{table}");
}

/// Killing an instance's process makes runed start it again after a back-off, with the events
/// visible; scaling down stops the extra instance; deleting the service stops the rest.
#[test]
fn crashed_instances_restart_with_backoff_and_deleted_services_stop() {
    let setup = Setup::new();
    let mut server = setup.start();
    server.authenticate(&setup.data());
    if !isolation(&server) {
        return;
    }
    let ws = Workspace::new();
    let ws = ws.file(
        "svc.yaml",
        "service:\n  name: web\n  scale: 2\n  process:\n    command: /bin/sleep\n    args: [\"600\"]\n",
    );
    rune(&ws, &server, &["cast", "svc.yaml"], 0);
    let pids = eventually("two running instances", &server, || {
        running_pids(&server, "web", 2)
    });
    assert!(pids.iter().all(|p| alive(*p)));

    assert!(
        std::process::Command::new("kill")
            .args(["-KILL", &pids[0].to_string()])
            .status()
            .unwrap()
            .success()
    );
    let restarted = eventually("instance 0 to run again", &server, || {
        running_pids(&server, "web", 2).filter(|now| now[0] != pids[0])
    });
    assert_eq!(restarted[1], pids[1], "instance 1 was left alone");
    let status = runner_status(&server);
    let instance = &service(&status, "web")["instances"][0];
    assert_eq!(instance["restarts"], 1, "{instance:#}");
    let events: Vec<&str> = instance["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert!(events.contains(&"killed by signal 9"), "{events:?}");
    assert!(events.contains(&"restarting in 1s"), "{events:?}");
    let described = rune(&ws, &server, &["describe", "service", "web"], 0);
    assert!(
        described.contains("restarting in 1s") && described.contains("restarts 1"),
        "{described}"
    );

    let ws = ws.file(
        "svc.yaml",
        "service:\n  name: web\n  scale: 1\n  process:\n    command: /bin/sleep\n    args: [\"600\"]\n",
    );
    rune(&ws, &server, &["cast", "svc.yaml"], 0);
    eventually("instance 1 to stop", &server, || {
        (!alive(restarted[1])).then_some(())
    });
    assert!(
        alive(restarted[0]),
        "instance 0 keeps running when scaling down"
    );

    rune(&ws, &server, &["delete", "service", "web"], 0);
    eventually("instance 0 to stop", &server, || {
        (!alive(restarted[0])).then_some(())
    });
    assert!(
        runner_status(&server)["services"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

/// A graceful stop of runed stops its instances; starting runed again on the same data
/// directory brings the declared services back.
#[test]
fn restarting_runed_brings_declared_services_back() {
    let setup = Setup::new();
    let mut server = setup.start();
    let token = server.authenticate(&setup.data());
    if !isolation(&server) {
        return;
    }
    let ws = Workspace::new().file(
        "svc.yaml",
        "service:\n  name: web\n  process:\n    command: /bin/sh\n    args: [\"-c\", \"echo up $RUNE_INSTANCE; exec sleep 600\"]\n",
    );
    rune(&ws, &server, &["cast", "svc.yaml"], 0);
    let before = eventually("the instance to run", &server, || {
        running_pids(&server, "web", 1)
    });
    eventually("the first start in the log", &server, || {
        let out = rune(&ws, &server, &["logs", "web"], 0);
        (out == "up 0\n").then_some(())
    });
    assert!(server.stop().success());
    assert!(!alive(before[0]), "runed's shutdown stops its instances");

    let mut server = Server::start(&setup.data(), &[]);
    server.set_token(&token);
    let after = eventually("the instance to run again", &server, || {
        running_pids(&server, "web", 1)
    });
    assert_ne!(after, before);
    let log = eventually("both starts in the log", &server, || {
        let out = rune(&ws, &server, &["logs", "web"], 0);
        (out.matches("up 0").count() == 2).then_some(out)
    });
    assert_eq!(log, "up 0\nup 0\n");
}

/// `image:` services are cast and stored, reported as not runnable, and `rune restart` refuses
/// them; without runed, `rune cast` stores a process service and `logs`, `status` and `restart`
/// say that no runner is active (exit 9) while `get` and `describe` say it is not run.
#[test]
fn image_services_and_the_embedded_engine_run_nothing() {
    let setup = Setup::new();
    let mut server = setup.start();
    let token = server.authenticate(&setup.data());
    let ws = Workspace::new().file(
        "img.yaml",
        "service:\n  name: api\n  image: ghcr.io/example/api:1.0.0\n---\nservice:\n  name: job\n  process:\n    command: /bin/sleep\n    args: [\"600\"]\n",
    );
    rune(&ws, &server, &["cast", "img.yaml"], 0);
    let status = runner_status(&server);
    let api = service(&status, "api");
    assert_eq!(api["runnable"], false, "{api:#}");
    assert!(
        api["reason"]
            .as_str()
            .unwrap()
            .contains("container runtime"),
        "{api:#}"
    );
    assert!(api["instances"].as_array().unwrap().is_empty());
    let table = rune(&ws, &server, &["status"], 0);
    assert!(table.contains("not runnable (image)"), "{table}");
    let refused = ws
        .rune()
        .args([
            "restart",
            "api",
            "--server",
            &server.url(""),
            "--token",
            &token,
        ])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(5), "{refused:?}");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not run by runed"));

    // The embedded engine: stored, not run.
    let local = ["--data-dir", "local"];
    let cast = ws
        .rune()
        .args(["cast", "img.yaml"])
        .args(local)
        .output()
        .unwrap();
    assert!(cast.status.success(), "{cast:?}");
    assert!(
        String::from_utf8_lossy(&cast.stderr)
            .contains("the embedded engine stores services but does not run them"),
        "{cast:?}"
    );
    for args in [&["status"][..], &["logs", "job"], &["restart", "job"]] {
        let out = ws.rune().args(args).args(local).output().unwrap();
        assert_eq!(out.status.code(), Some(9), "{args:?}: {out:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("no process runner is active"),
            "{args:?}: {out:?}"
        );
    }
    let described = ws
        .rune()
        .args(["describe", "service", "job"])
        .args(local)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&described.stdout);
    assert!(
        text.contains("not run: the embedded engine stores services; runed runs them"),
        "{text}"
    );
    let table = ws
        .rune()
        .args(["get", "services"])
        .args(local)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&table.stdout).contains("not run (no runed)"));
}
