//! Runner failover between replicas of one PostgreSQL database (SPEC §4.5, issue #16): only
//! the replica holding the runner lock runs `process:` services; a standby names it; when the
//! holder is killed (SIGKILL), another replica runs them within 15 seconds, and the killed one,
//! restarted, rejoins as a standby.

use std::time::{Duration, Instant};

use crate::pg::{Db, ok, rune_at};
use serde_json::Value;

use crate::util::Server;

/// A service that says it is ready, then sleeps (dying with its runed).
const SERVICE: &str = "service:\n  name: web\n  process:\n    command: /bin/sh\n    args: [\"-c\", \"echo READY; exec sleep 600\"]\n";

/// Casts [`SERVICE`] through `replica` from a new working directory, which it returns; `None`
/// when service isolation cannot run here (said loudly; a failure under CI).
pub(crate) fn cast_web(replica: &Server, token: &str) -> Option<tempfile::TempDir> {
    if !crate::services::isolation(replica) {
        return None;
    }
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("web.yaml"), SERVICE).unwrap();
    ok(&rune_at(
        work.path(),
        replica,
        Some(token),
        &["cast", "web.yaml"],
    ));
    Some(work)
}

/// Polls `rune logs web` through `replica` until it shows READY; the time it took.
fn ready(dir: &std::path::Path, replica: &Server, token: &str, within: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let out = rune_at(dir, replica, Some(token), &["logs", "web"]);
        if String::from_utf8_lossy(&out.stdout).contains("READY") {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < within,
            "no READY within {within:?}: {out:?}\nruned's log:\n{}",
            replica.log()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn status(dir: &std::path::Path, replica: &Server, token: &str) -> String {
    ok(&rune_at(dir, replica, Some(token), &["status"]))
}

#[test]
fn services_fail_over_to_another_replica() {
    let db = Db::new();
    let mut a = db.replica("a");
    let token = db.token("ci");
    a.set_token(&token);
    let Some(work) = cast_web(&a, &token) else {
        return;
    };
    ready(work.path(), &a, &token, Duration::from_secs(30));

    let b = db.replica("b");
    std::thread::sleep(Duration::from_secs(3));
    // Through the holder itself and through the standby: the same replica, the running
    // instance as the holder sees it (published in the database).
    let a_name = format!(":{} (pid {})", port(&a), a.pid());
    let holder = status_json(work.path(), &a, &token);
    assert!(replica_of(&holder).ends_with(&a_name), "{holder}");
    let table = status(work.path(), &a, &token);
    assert!(table.contains(&format!("{a_name}` runs")), "{table}");
    let standby = wait_for(Duration::from_secs(10), || {
        let json = status_json(work.path(), &b, &token);
        (replica_of(&json).ends_with(&a_name) && running(&json) == 1).then_some(json)
    });
    assert_eq!(
        standby["services"][0]["instances"][0]["pid"], holder["services"][0]["instances"][0]["pid"],
        "the standby shows another instance than the holder's: {standby}"
    );
    let table = status(work.path(), &b, &token);
    assert!(
        table.contains("Running") && table.contains(&format!("{a_name}` runs")),
        "the standby does not show the holder's instance and name: {table}"
    );
    let logs = rune_at(work.path(), &b, Some(&token), &["logs", "web"]);
    assert!(
        !String::from_utf8_lossy(&logs.stdout).contains("READY"),
        "{logs:?}"
    );

    a.kill();
    let took = ready(work.path(), &b, &token, Duration::from_secs(15));
    assert!(took < Duration::from_secs(15), "failover took {took:?}");
    let b_name = format!(":{} (pid {})", port(&b), b.pid());
    let after = status_json(work.path(), &b, &token);
    assert!(replica_of(&after).ends_with(&b_name), "{after}");

    let again = db.replica("a");
    std::thread::sleep(Duration::from_secs(3));
    let rejoined = wait_for(Duration::from_secs(10), || {
        let json = status_json(work.path(), &again, &token);
        (replica_of(&json).ends_with(&b_name) && running(&json) == 1).then_some(json)
    });
    let reason = rejoined["services"][0]["reason"]
        .as_str()
        .unwrap_or_default();
    assert!(reason.contains("standby"), "{rejoined}");
}

fn status_json(dir: &std::path::Path, replica: &Server, token: &str) -> Value {
    serde_json::from_str(&ok(&rune_at(
        dir,
        replica,
        Some(token),
        &["status", "-o", "json"],
    )))
    .unwrap()
}

fn replica_of(status: &Value) -> &str {
    status["replica"].as_str().unwrap_or_default()
}

/// Instances in state Running.
fn running(status: &Value) -> usize {
    status["services"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["instances"].as_array().into_iter().flatten())
        .filter(|i| i["state"] == "Running")
        .count()
}

fn port(server: &Server) -> String {
    server.url("").rsplit(':').next().unwrap().to_owned()
}

/// Polls `probe` until it returns something, failing after `within`.
fn wait_for<T>(within: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(found) = probe() {
            return found;
        }
        assert!(start.elapsed() < within, "not within {within:?}");
        std::thread::sleep(Duration::from_millis(500));
    }
}
