//! Runner failover between replicas of one PostgreSQL database (SPEC §4.5, issue #16): only
//! the replica holding the runner lock runs `process:` services; a standby names it; when the
//! holder is killed (SIGKILL), another replica runs them within 15 seconds, and the killed one,
//! restarted, rejoins as a standby.

use std::time::{Duration, Instant};

use crate::pg::{Db, ok, rune_at};
use crate::util::Server;

/// A service that says it is ready, then sleeps (dying with its runed).
const SERVICE: &str = "service:\n  name: web\n  process:\n    command: /bin/sh\n    args: [\"-c\", \"echo READY; exec sleep 600\"]\n";

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
    let Some(db) = Db::new() else { return };
    let mut a = db.replica("a");
    let token = db.token("ci");
    a.set_token(&token);
    if !crate::services::isolation(&a) {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("web.yaml"), SERVICE).unwrap();
    ok(&rune_at(
        work.path(),
        &a,
        Some(&token),
        &["cast", "web.yaml"],
    ));
    ready(work.path(), &a, &token, Duration::from_secs(30));

    let b = db.replica("b");
    std::thread::sleep(Duration::from_secs(3));
    let standby = status(work.path(), &b, &token);
    assert!(standby.contains("standby"), "{standby}");
    assert!(
        standby.contains(&format!(
            ":{} (pid",
            a.url("").rsplit(':').next().unwrap().trim_end_matches('/')
        )),
        "the standby does not name the replica that runs the services: {standby}"
    );
    let logs = rune_at(work.path(), &b, Some(&token), &["logs", "web"]);
    assert!(
        !String::from_utf8_lossy(&logs.stdout).contains("READY"),
        "{logs:?}"
    );

    a.kill();
    let took = ready(work.path(), &b, &token, Duration::from_secs(15));
    assert!(took < Duration::from_secs(15), "failover took {took:?}");

    let again = db.replica("a");
    std::thread::sleep(Duration::from_secs(3));
    let rejoined = status(work.path(), &again, &token);
    assert!(rejoined.contains("standby"), "{rejoined}");
}
