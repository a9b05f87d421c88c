//! Isolation of `process:` services (SPEC §5, issue #11), end to end with the real runed and
//! real processes: a service's shell attacks another service and runed itself — every attempt
//! fails while its own mounts work; each service has its own uid from the range, kept across a
//! restart; deleting a service removes its logs and mount points; and runed without root
//! refuses `process:` services with the reason instead of running them as its own user.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::runed::Setup;
use crate::services::{eventually, isolation, rune, runner_status, service, shared_dir};
use crate::util::{Server, Workspace, runed_command};

/// The attacker: prints its ids, reads its own secret, then tries everything it must not do
/// and prints `ATTEMPT <what> ok|denied` for each (never what it read), and the pids it sees.
const ATTACK: &str = r#"
try() { what=$1; shift; if "$@" >/dev/null 2>&1; then echo "ATTEMPT $what ok"; else echo "ATTEMPT $what denied"; fi; }
echo "IDS $(id -u) $(id -g) [$(id -G)]"
echo "OWN $(cat "$OWN/password")"
try other-mount cat "$OTHER/password"
try proc-root sh -c 'for p in /proc/[0-9]*; do cat "$p/root$OTHER/password" && exit 0; done; exit 1'
for pid in $VICTIMS; do
  try "environ-$pid" cat "/proc/$pid/environ"
  try "kill-$pid" kill -0 "$pid"
  try "root-$pid" cat "/proc/$pid/root$OTHER/password"
done
try kill-init kill -0 1
try data-dir ls "$DATA"
try kek cat "$DATA/kek"
try store cat "$DATA/rune.redb"
try tokens cat "$DATA/tokens.json"
try logs ls "$DATA/logs"
echo "PIDS $(ls /proc | grep -E '^[0-9]+$' | tr '\n' ' ')"
echo DONE
exec sleep 600
"#;

/// The victim: holds its secret in its environment and its mount, and sleeps.
const VICTIM: &str = r#"echo "IDS $(id -u) $(id -g) [$(id -G)]"; exec sleep 600"#;

fn runefile(mounts: &Path, data: &Path, victims: &str) -> String {
    let service = |name: &str, script: &str, env: &str| {
        format!(
            r#"---
secret:
  name: {name}-secret
  data:
    password: {name}-hunter2
---
service:
  name: {name}
  process:
    command: /bin/sh
    args: ["-c", {script}]
  env:
    OWN: {mounts}/{name}
    OTHER: {mounts}/victim
{env}
  envFrom:
    - secretRef: {name}-secret
  secretMounts:
    - name: creds
      secretName: {name}-secret
      mountPath: {mounts}/{name}
"#,
            script = serde_json::to_string(script).unwrap(),
            mounts = mounts.display(),
        )
    };
    let attacker_env = format!("    DATA: {}\n    VICTIMS: \"{victims}\"", data.display());
    format!(
        "{}{}",
        service("victim", VICTIM, ""),
        if victims.is_empty() {
            String::new()
        } else {
            service("attacker", ATTACK, &attacker_env)
        }
    )
}

/// Every process whose parent chain reaches `root` (itself included), from the host's /proc.
fn descendants(root: u32) -> Vec<u32> {
    let parent = |pid: u32| -> Option<u32> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        stat.rsplit(')')
            .next()?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    };
    let all: Vec<u32> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    let mut found = vec![root];
    loop {
        let more: Vec<u32> = all
            .iter()
            .copied()
            .filter(|p| !found.contains(p) && parent(*p).is_some_and(|pp| found.contains(&pp)))
            .collect();
        if more.is_empty() {
            return found;
        }
        found.extend(more);
    }
}

fn ids(log: &str) -> (u32, u32, String) {
    let line = log
        .lines()
        .filter_map(|l| l.strip_prefix("IDS "))
        .next_back()
        .unwrap_or_else(|| panic!("no IDS line in:\n{log}"));
    let mut parts = line.splitn(3, ' ');
    let uid = parts.next().unwrap().parse().unwrap();
    let gid = parts.next().unwrap().parse().unwrap();
    (uid, gid, parts.next().unwrap().to_owned())
}

fn logs_of(ws: &Workspace, server: &Server, name: &str) -> String {
    rune(ws, server, &["logs", name], 0)
}

/// A service cannot read another service's mounted secret (by its path or through
/// `/proc/*/root`), another instance's environment, runed's data directory, KEK, store, uid
/// record or logs; cannot signal other instances or runed; sees only its own processes; runs
/// as its own uid and gid from the range (not 0, no other groups), different from another
/// service's and the same after a restart. Its own secret mount works. Deleting it removes its
/// logs and mount points; a new service of the same name starts with an empty log.
#[test]
fn a_service_cannot_reach_other_services_or_runed() {
    let setup = Setup::new();
    // Only the data directory's own mode may protect it: its parent is open.
    let parent = setup.data().parent().unwrap().to_path_buf();
    std::fs::set_permissions(&parent, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut server = setup.start();
    server.authenticate(&setup.data());
    if !isolation(&server) {
        return;
    }
    let data = setup.data();
    let data_mode = std::fs::metadata(&data).unwrap().permissions().mode() & 0o777;
    assert_eq!(data_mode, 0o700, "the data directory is runed's alone");
    let shared = shared_dir();
    let mounts = shared.path().join("mnt");
    let ws = Workspace::new().file("app.yaml", &runefile(&mounts, &data, ""));
    rune(&ws, &server, &["cast", "app.yaml"], 0);
    let victim_pid = eventually("the victim to run", &server, || {
        let status = runner_status(&server);
        let instance = &service(&status, "victim")["instances"][0];
        (instance["state"] == "Running").then(|| instance["pid"].as_u64().unwrap() as u32)
    });
    eventually("the victim's ids", &server, || {
        logs_of(&ws, &server, "victim")
            .contains("IDS")
            .then_some(())
    });
    let mut victims = descendants(victim_pid);
    victims.push(std::process::id());
    victims.push(server.pid().parse().unwrap());
    let victims: Vec<String> = victims.iter().map(u32::to_string).collect();
    let ws = ws.file("app.yaml", &runefile(&mounts, &data, &victims.join(" ")));
    rune(&ws, &server, &["cast", "app.yaml"], 0);
    let log = eventually("the attack to finish", &server, || {
        let log = logs_of(&ws, &server, "attacker");
        log.contains("DONE").then_some(log)
    });

    assert!(
        log.contains("OWN attacker-hunter2"),
        "its own mount works:\n{log}"
    );
    assert!(!log.contains("victim-hunter2"), "{log}");
    let attempts: Vec<&str> = log.lines().filter(|l| l.starts_with("ATTEMPT")).collect();
    assert_eq!(attempts.len(), 8 + 3 * victims.len(), "{log}");
    for attempt in &attempts {
        assert!(
            attempt.ends_with(" denied"),
            "`{attempt}` succeeded:\n{log}"
        );
    }
    let pids: Vec<u32> = log
        .lines()
        .find_map(|l| l.strip_prefix("PIDS "))
        .unwrap()
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect();
    assert!(
        pids.contains(&1) && pids.len() <= 10,
        "it sees only its own processes: {pids:?}"
    );

    let (uid, gid, groups) = ids(&log);
    let (other_uid, ..) = ids(&logs_of(&ws, &server, "victim"));
    for id in [uid, other_uid] {
        assert!(
            (200_000..=265_535).contains(&id),
            "uid {id} is outside the range"
        );
    }
    assert_eq!(gid, uid);
    assert_eq!(groups, format!("[{uid}]"), "no supplementary groups");
    assert_ne!(uid, other_uid, "two services share a uid");

    rune(&ws, &server, &["restart", "attacker", "--timeout", "30"], 0);
    let log = eventually("the restarted attack", &server, || {
        let log = logs_of(&ws, &server, "attacker");
        (log.matches("DONE").count() == 2).then_some(log)
    });
    assert_eq!(ids(&log).0, uid, "a restart keeps the uid");

    // Deleting removes the logs and the mount points runed created; a new service of the same
    // name starts clean.
    rune(&ws, &server, &["delete", "service", "attacker"], 0);
    let attacker_mount = mounts.join("attacker");
    let log_dir = data.join("logs/default/attacker");
    eventually("the attacker's logs and mount point to go", &server, || {
        (!log_dir.exists() && !attacker_mount.exists()).then_some(())
    });
    assert!(
        mounts.join("victim").exists(),
        "the victim's mount point stays"
    );
    let ws = ws.file(
        "again.yaml",
        "service:\n  name: attacker\n  process:\n    command: /bin/sh\n    args: [\"-c\", \"echo fresh; exec sleep 600\"]\n",
    );
    rune(&ws, &server, &["cast", "again.yaml"], 0);
    let log = eventually("the new service's log", &server, || {
        let log = logs_of(&ws, &server, "attacker");
        log.contains("fresh").then_some(log)
    });
    assert_eq!(log, "fresh\n", "the new service sees the old one's log");
}

/// Without root runed cannot isolate instances: it says so at start and refuses `process:`
/// services (the instance fails with the reason, in the status and its events) instead of
/// running them as its own user. Runs runed as `nobody` when the tests run as root.
#[test]
fn without_root_process_services_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut command = if nix::unistd::geteuid().is_root() {
        let setpriv = which("setpriv")
            .expect("`setpriv` (util-linux) runs runed as an unprivileged user: install it");
        std::os::unix::fs::chown(tmp.path(), Some(65534), Some(65534)).unwrap();
        // The checkout may sit where `nobody` cannot reach the binary (under /root, say): run a
        // copy from the test's own directory, which `nobody` owns.
        let copy = tmp.path().join("runed");
        std::fs::copy(assert_cmd::cargo::cargo_bin("runed"), &copy).unwrap();
        let runed = runed_command(&data);
        let mut wrapped = std::process::Command::new(&setpriv);
        wrapped
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(&copy)
            .args(runed.get_args());
        for (name, value) in runed.get_envs() {
            if value.is_none() {
                wrapped.env_remove(name);
            }
        }
        wrapped
    } else {
        runed_command(&data)
    };
    command.env_remove("RUNE_MASTER_KEY");
    // A token, created as the user runed runs as (open mode refuses `process:` services in the
    // API already, before the runner could say why it cannot isolate them).
    let mut create = std::process::Command::new(command.get_program());
    create.args(command.get_args()).args([
        "token",
        "create",
        "tests",
        "--permissions",
        "read,cast,run",
    ]);
    let created = create.output().expect("runed token create");
    assert!(created.status.success(), "{created:?}");
    let token = String::from_utf8(created.stdout).expect("a token");
    let mut server = Server::spawn(command, &[]);
    server.set_token(token.trim());
    let marker = tmp.path().join("ran");
    let ws = Workspace::new().file(
        "svc.yaml",
        &format!(
            "service:\n  name: job\n  process:\n    command: /bin/sh\n    args: [\"-c\", \"touch {}; exec sleep 600\"]\n",
            marker.display()
        ),
    );
    rune(&ws, &server, &["cast", "svc.yaml"], 0);
    let reason = eventually("the instance to be refused", &server, || {
        let status = runner_status(&server);
        let instance = &service(&status, "job")["instances"][0];
        (instance["state"] == "Failed").then(|| instance["reason"].as_str().unwrap().to_owned())
    });
    assert!(
        reason.contains("`process:` services are refused")
            && reason.contains("not root")
            && reason.contains("cannot be isolated"),
        "{reason}"
    );
    let status = runner_status(&server);
    assert_eq!(status["mountNamespaces"], false, "{status:#}");
    let events = status["services"][0]["instances"][0]["events"].to_string();
    assert!(events.contains("refused"), "{events}");
    assert!(
        server.log().contains("`process:` services are REFUSED"),
        "{}",
        server.log()
    );
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(!marker.exists(), "the command ran anyway");
    let described = rune(&ws, &server, &["describe", "service", "job"], 0);
    assert!(described.contains("services are refused"), "{described}");
}

fn which(program: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .chain(["/usr/bin".into(), "/bin".into()])
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
}

/// In open mode (loopback, no token) anyone who reaches the port could run commands: runed
/// says so at start, and `rune cast` of a `process:` service is refused (exit 3) with a message
/// that says why; once a token exists the same cast works and the instance runs.
#[test]
fn open_mode_refuses_process_services_until_a_token_exists() {
    let setup = Setup::new();
    let mut server = setup.start();
    if !isolation(&server) {
        return;
    }
    assert!(
        server
            .log()
            .contains("`process:` services are refused until then"),
        "{}",
        server.log()
    );
    let ws = Workspace::new().file(
        "svc.yaml",
        "service:\n  name: job\n  process:\n    command: /bin/sh\n    args: [\"-c\", \"echo ran; exec sleep 600\"]\n",
    );
    let refused = ws
        .rune()
        .args(["cast", "svc.yaml", "--server", &server.url("")])
        .output()
        .expect("run rune");
    assert_eq!(refused.status.code(), Some(3), "{refused:?}");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("without authentication") && stderr.contains("runed token create"),
        "{stderr}"
    );
    let status = runner_status(&server);
    assert!(
        status["services"].as_array().unwrap().is_empty(),
        "{status:#}"
    );

    server.authenticate(&setup.data());
    rune(&ws, &server, &["cast", "svc.yaml"], 0);
    eventually("the instance to start once a token exists", &server, || {
        (rune(&ws, &server, &["logs", "job"], 0) == "ran\n").then_some(())
    });
}
