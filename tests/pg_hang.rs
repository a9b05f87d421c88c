//! Fail closed under a hung database connection (SPEC §4.5, issue #16): a holder of the runner
//! lock whose connection neither answers nor fails — here a proxy that stops forwarding while
//! keeping both sockets open, so no TCP timeout fires — stops its `process:` services within
//! the lease (6 s) instead of running them while another replica might.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::pg::{Db, ok, rune_at};
use crate::util::Server;

/// A TCP proxy to `upstream` that forwards until `frozen` is set, then holds everything.
fn proxy(upstream: String, frozen: Arc<AtomicBool>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = TcpStream::connect(&upstream) else {
                continue;
            };
            for (from, to) in [
                (client.try_clone().unwrap(), server.try_clone().unwrap()),
                (server, client),
            ] {
                let frozen = Arc::clone(&frozen);
                std::thread::spawn(move || pump(from, to, &frozen));
            }
        }
    });
    port
}

fn pump(mut from: TcpStream, mut to: TcpStream, frozen: &AtomicBool) {
    from.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut buf = [0u8; 16 * 1024];
    loop {
        if frozen.load(Ordering::SeqCst) {
            // Hold both sockets open and read nothing: the peer's kernel keeps acknowledging.
            std::thread::sleep(Duration::from_millis(100));
            continue;
        }
        match from.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    return;
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return,
        }
    }
}

fn alive(pid: i32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
}

#[test]
fn a_holder_whose_database_hangs_stops_its_services() {
    let db = Db::new();
    let frozen = Arc::new(AtomicBool::new(false));
    let (host_port, rest) = db
        .url()
        .trim_start_matches("postgres://postgres@")
        .split_once('/')
        .unwrap();
    let port = proxy(host_port.to_owned(), Arc::clone(&frozen));
    let dir = tempfile::tempdir().unwrap();
    let url_file = dir.path().join("pg-url");
    std::fs::write(
        &url_file,
        format!("postgres://postgres@127.0.0.1:{port}/{rest}"),
    )
    .unwrap();
    let config = dir.path().join("runed.yaml");
    std::fs::write(
        &config,
        format!(
            "storage:\n  backend: postgres\n  postgres:\n    url-file: {}\n    pool-size: 4\n",
            url_file.display()
        ),
    )
    .unwrap();
    let token = db.token("ci");
    let mut a = Server::start(
        &dir.path().join("a"),
        &[
            "--config",
            config.to_str().unwrap(),
            "--kek-file",
            db.kek().to_str().unwrap(),
        ],
    );
    a.set_token(&token);
    let Some(work) = crate::pg_failover::cast_web(&a, &token) else {
        return;
    };
    let start = Instant::now();
    let pid = loop {
        let status: serde_json::Value = serde_json::from_str(&ok(&rune_at(
            work.path(),
            &a,
            Some(&token),
            &["status", "-o", "json"],
        )))
        .unwrap();
        if let Some(pid) = status["services"][0]["instances"][0]["pid"].as_i64() {
            break i32::try_from(pid).unwrap();
        }
        assert!(start.elapsed() < Duration::from_secs(30), "{status}");
        std::thread::sleep(Duration::from_millis(250));
    };
    assert!(alive(pid));

    frozen.store(true, Ordering::SeqCst);
    let frozen_at = Instant::now();
    while alive(pid) {
        assert!(
            frozen_at.elapsed() < Duration::from_secs(20),
            "the holder still runs its service {:?} after its database hung\nruned's log:\n{}",
            frozen_at.elapsed(),
            a.log()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    let took = frozen_at.elapsed();
    assert!(
        a.log().contains("could not confirm the runner lock"),
        "{}",
        a.log()
    );
    // Lease (6 s) + one watchdog tick + SIGTERM to a `sleep`.
    assert!(took < Duration::from_secs(12), "stopped after {took:?}");
    a.kill();
}
