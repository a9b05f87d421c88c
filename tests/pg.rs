//! runed on PostgreSQL (SPEC §4.5, issue #16), against a throwaway cluster the tests start
//! themselves ([`crate::pg_cluster`]): replicas sharing one database, tokens honoured by every
//! replica at once, concurrent casts through both without a lost update, a schema newer than
//! runed, TLS that must not fall back to plaintext, and `runed store copy` from redb.

use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use serde_json::Value;

use crate::pg_cluster;
use crate::util::{Server, runed_command, runed_once};

const SENTINEL: &str = "pg-sentinel-4f1c9b2e";

/// One database, a server runefile naming it (`url-file`), a KEK shared by the replicas.
pub(crate) struct Db {
    dir: tempfile::TempDir,
    url: String,
}

impl Db {
    /// A fresh database; a test fails when PostgreSQL cannot start.
    pub(crate) fn new() -> Self {
        let url = pg_cluster::required(pg_cluster::database());
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pg-url"), &url).unwrap();
        std::fs::write(
            dir.path().join("runed.yaml"),
            format!(
                "storage:\n  backend: postgres\n  postgres:\n    url-file: {}\n    pool-size: 4\n",
                dir.path().join("pg-url").display()
            ),
        )
        .unwrap();
        let kek = dir.path().join("kek");
        std::fs::write(
            &kek,
            base64::engine::general_purpose::STANDARD.encode([7u8; 32]),
        )
        .unwrap();
        rune::fs::restrict_to_owner(&kek).unwrap();
        Self { dir, url }
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("runed.yaml")
    }

    pub(crate) fn kek(&self) -> PathBuf {
        self.dir.path().join("kek")
    }

    /// A replica's own data directory (logs, the runner's files).
    fn data_dir(&self, replica: &str) -> PathBuf {
        self.dir.path().join(replica)
    }

    /// The flags that put runed on this database.
    fn args(&self) -> [String; 4] {
        [
            "--config".into(),
            self.config().display().to_string(),
            "--kek-file".into(),
            self.kek().display().to_string(),
        ]
    }

    pub(crate) fn replica(&self, name: &str) -> Server {
        let args = self.args();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Server::start(&self.data_dir(name), &args)
    }

    /// `runed --config … ARGS…` to completion.
    fn runed(&self, args: &[&str]) -> std::process::Output {
        let config = self.config().display().to_string();
        let mut all = vec!["--config", config.as_str()];
        all.extend(args);
        runed_once(&self.data_dir("tool"), &all)
    }

    pub(crate) fn token(&self, name: &str) -> String {
        let output = self.runed(&[
            "token",
            "create",
            name,
            "--permissions",
            "read,cast,run,admin",
        ]);
        assert!(output.status.success(), "token create: {output:?}");
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    }

    /// The database's URL (`postgres://…@127.0.0.1:PORT/…`).
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.url, postgres::NoTls).unwrap()
    }
}

/// `rune --server URL [--token T] ARGS…` in `dir`.
pub(crate) fn rune_at(
    dir: &Path,
    server: &Server,
    token: Option<&str>,
    args: &[&str],
) -> std::process::Output {
    let mut command = crate::util::rune_process(dir);
    command.args(["--server", &server.url("")]);
    if let Some(token) = token {
        command.args(["--token", token]);
    }
    command.args(args).stdin(std::process::Stdio::null());
    assert_cmd::Command::from_std(command)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap()
}

fn runefile(dir: &Path, value: &str) {
    std::fs::write(
        dir.join("app.yaml"),
        format!(
            "secrets:\n  - name: db\n    namespace: default\n    allowPlaintext: true\n    data:\n      - key: password\n        value: {SENTINEL}\n---\nconfigmaps:\n  - name: settings\n    namespace: default\n    data:\n      - key: value\n        value: \"{value}\"\n"
        ),
    )
    .unwrap();
}

pub(crate) fn ok(output: &std::process::Output) -> String {
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn json(output: &std::process::Output) -> Value {
    serde_json::from_str(&ok(output)).unwrap()
}

/// Create through A, read through B; a token made with `runed token create` against the
/// database works on both at once, and its revocation too.
#[test]
fn replicas_share_objects_and_tokens() {
    let db = Db::new();
    let a = db.replica("a");
    let b = db.replica("b");
    let work = tempfile::tempdir().unwrap();
    runefile(work.path(), "one");
    let token = db.token("ci");
    // No replica is open any more: the latch is in the database.
    let refused = rune_at(
        work.path(),
        &b,
        None,
        &["get", "secret", "db", "-n", "default"],
    );
    assert!(!refused.status.success(), "{refused:?}");
    ok(&rune_at(
        work.path(),
        &a,
        Some(&token),
        &["cast", "app.yaml"],
    ));
    let got = json(&rune_at(
        work.path(),
        &b,
        Some(&token),
        &[
            "get",
            "configmap",
            "settings",
            "-n",
            "default",
            "-o",
            "json",
        ],
    ));
    assert_eq!(got["data"]["value"], "one", "{got}");
    // What one replica wrote to the history and the audit, the other reads (issue #15's
    // records live in the database too).
    let history = json(&rune_at(
        work.path(),
        &b,
        Some(&token),
        &["history", "secret", "db", "-n", "default", "-o", "json"],
    ));
    assert_eq!(history["versions"][0]["castBy"], "token:ci", "{history}");
    let audit = ok(&rune_at(
        work.path(),
        &b,
        Some(&token),
        &["audit", "-o", "json"],
    ));
    assert!(audit.contains("token:ci"), "{audit}");
    assert!(!audit.contains(SENTINEL), "{audit}");
    let revoked = db.runed(&["token", "revoke", "ci"]);
    assert!(revoked.status.success(), "{revoked:?}");
    for replica in [&a, &b] {
        let after = rune_at(
            work.path(),
            replica,
            Some(&token),
            &["get", "configmap", "settings", "-n", "default"],
        );
        assert!(
            !after.status.success(),
            "a revoked token still works: {after:?}"
        );
    }
    let listed = db.runed(&["token", "list"]);
    assert!(
        !String::from_utf8_lossy(&listed.stdout).contains("ci\t"),
        "{listed:?}"
    );
}

/// Four casters spread over two replicas: every cast ends 0 or 5 (a conflict), and the data
/// version counts exactly the casts that succeeded — no update is lost.
#[test]
fn concurrent_casts_through_two_replicas_lose_nothing() {
    let db = Db::new();
    let replicas = [db.replica("a"), db.replica("b")];
    let token = db.token("ci");
    let base = tempfile::tempdir().unwrap();
    runefile(base.path(), "start");
    ok(&rune_at(
        base.path(),
        &replicas[0],
        Some(&token),
        &["cast", "app.yaml"],
    ));
    let successes = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|caster| {
                let replica = &replicas[caster % 2];
                let token = &token;
                scope.spawn(move || {
                    let dir = tempfile::tempdir().unwrap();
                    let mut successes = 0;
                    for round in 0..5 {
                        runefile(dir.path(), &format!("{caster}-{round}"));
                        let out = rune_at(dir.path(), replica, Some(token), &["cast", "app.yaml"]);
                        match out.status.code() {
                            Some(0) => successes += 1,
                            Some(5) => {}
                            _ => panic!("caster {caster}: {out:?}"),
                        }
                    }
                    successes
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum::<u64>()
    });
    assert!(successes > 0);
    for replica in &replicas {
        let got = json(&rune_at(
            base.path(),
            replica,
            Some(&token),
            &[
                "get",
                "configmap",
                "settings",
                "-n",
                "default",
                "-o",
                "json",
            ],
        ));
        assert_eq!(got["version"].as_u64(), Some(1 + successes), "{got}");
    }
}

/// A database migrated by a newer runed is refused at start; so is `sslmode=require` against a
/// server without TLS (no fallback to plaintext).
#[test]
fn newer_schema_and_missing_tls_refuse_to_start() {
    let db = Db::new();
    drop(db.replica("a"));
    db.client()
        .batch_execute("UPDATE rune_schema SET version = version + 1")
        .unwrap();
    let args = db.args();
    let mut refused = runed_command(&db.data_dir("b"));
    refused.args(&args).args(["--listen", "127.0.0.1:0"]);
    let out = assert_cmd::Command::from_std(refused)
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert!(!out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("newer than this runed knows"), "{stderr}");

    let tls = Db::new();
    let url = format!("{}&sslmode=require&password=hunter2-url", tls.url);
    std::fs::write(tls.dir.path().join("pg-url"), &url).unwrap();
    let args = tls.args();
    let mut refused = runed_command(&tls.data_dir("a"));
    refused.args(&args).args(["--listen", "127.0.0.1:0"]);
    let out = assert_cmd::Command::from_std(refused)
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert!(!out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("hunter2-url"),
        "the URL's password leaked: {stderr}"
    );
}

/// A redb store with secrets and tokens, copied into PostgreSQL: everything is there, a
/// re-cast is a no-op, the old token works, and no plaintext is in a dump of the database.
#[test]
fn store_copy_moves_a_redb_store() {
    let db = Db::new();
    let old = db.data_dir("old");
    let kek = db.kek().display().to_string();
    let work = tempfile::tempdir().unwrap();
    runefile(work.path(), "copied");
    let token = {
        let server = Server::start(&old, &["--kek-file", &kek]);
        let token = crate::util::create_token(&old, "ci", &[]);
        ok(&rune_at(
            work.path(),
            &server,
            Some(&token),
            &["cast", "app.yaml"],
        ));
        token
    };
    let copied = db.runed(&[
        "--kek-file",
        &kek,
        "store",
        "copy",
        "--from-data-dir",
        &old.display().to_string(),
    ]);
    let said = ok(&copied);
    assert!(said.contains("1 tokens"), "{said}");
    let replica = db.replica("a");
    let again = ok(&rune_at(
        work.path(),
        &replica,
        Some(&token),
        &["cast", "app.yaml"],
    ));
    assert!(again.contains("No changes"), "{again}");
    let secret = json(&rune_at(
        work.path(),
        &replica,
        Some(&token),
        &["get", "secret", "db", "-n", "default", "-o", "json"],
    ));
    assert_eq!(secret["version"], 1, "{secret}");
    // A second copy into a store that now holds objects is refused.
    let twice = db.runed(&[
        "--kek-file",
        &kek,
        "store",
        "copy",
        "--from-data-dir",
        &old.display().to_string(),
    ]);
    assert!(!twice.status.success(), "{twice:?}");
    let dump = pg_cluster::shared().unwrap().dump(&db.url).unwrap();
    let text = String::from_utf8_lossy(&dump);
    assert!(text.contains("rune_versions"), "the dump holds the tables");
    assert!(!text.contains(SENTINEL), "plaintext in the database");
}

/// PostgreSQL stopped under a running runed: a cast fails and leaves nothing; once the database
/// is back, the same runed serves again (its pool replaces the broken connections) and the cast
/// goes through whole.
#[test]
fn runed_recovers_when_postgres_comes_back() {
    let cluster = pg_cluster::required(pg_cluster::Cluster::start());
    let db = Db::new();
    let url = cluster.create_database().unwrap();
    std::fs::write(db.dir.path().join("pg-url"), &url).unwrap();
    let replica = db.replica("a");
    let token = db.token("ci");
    let work = tempfile::tempdir().unwrap();
    runefile(work.path(), "before");
    ok(&rune_at(
        work.path(),
        &replica,
        Some(&token),
        &["cast", "app.yaml"],
    ));
    cluster.stop();
    runefile(work.path(), "during");
    let failed = rune_at(work.path(), &replica, Some(&token), &["cast", "app.yaml"]);
    assert!(!failed.status.success(), "{failed:?}");
    // The token check meets the database first: 503, "server unreachable".
    assert_eq!(failed.status.code(), Some(8), "{failed:?}");
    cluster.restart().unwrap();
    let settings = |replica: &Server| {
        json(&rune_at(
            work.path(),
            replica,
            Some(&token),
            &[
                "get",
                "configmap",
                "settings",
                "-n",
                "default",
                "-o",
                "json",
            ],
        ))
    };
    let got = settings(&replica);
    assert_eq!(got["data"]["value"], "before", "{got}");
    assert_eq!(got["version"], 1, "{got}");
    ok(&rune_at(
        work.path(),
        &replica,
        Some(&token),
        &["cast", "app.yaml"],
    ));
    let got = settings(&replica);
    assert_eq!(got["data"]["value"], "during", "{got}");
    assert_eq!(got["version"], 2, "{got}");
}

/// TLS to a database with its own CA: `sslmode=require` with `storage.postgres.ca-file`
/// connects and serves; without the CA file the certificate is not trusted and runed refuses
/// to start (it never falls back to plaintext).
#[test]
fn tls_to_the_database_with_its_own_ca() {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    let cert = certified.cert.pem();
    let cluster = pg_cluster::required(pg_cluster::Cluster::start_tls(
        &cert,
        &certified.signing_key.serialize_pem(),
    ));
    let db = Db::new();
    let url = format!("{}&sslmode=require", cluster.create_database().unwrap());
    std::fs::write(db.dir.path().join("pg-url"), &url).unwrap();
    let start = |data: &str| {
        let mut command = runed_command(&db.data_dir(data));
        command.args(db.args()).args(["--listen", "127.0.0.1:0"]);
        assert_cmd::Command::from_std(command)
            .timeout(Duration::from_secs(30))
            .output()
            .unwrap()
    };
    let untrusted = start("untrusted");
    assert!(!untrusted.status.success(), "{untrusted:?}");
    let said = String::from_utf8_lossy(&untrusted.stderr);
    assert!(said.contains("TLS handshake"), "{said}");
    let ca = db.dir.path().join("db-ca.pem");
    std::fs::write(&ca, &cert).unwrap();
    let config = std::fs::read_to_string(db.config()).unwrap();
    std::fs::write(
        db.config(),
        format!("{config}    ca-file: {}\n", ca.display()),
    )
    .unwrap();
    let replica = db.replica("a");
    let token = db.token("ci");
    let work = tempfile::tempdir().unwrap();
    runefile(work.path(), "over-tls");
    ok(&rune_at(
        work.path(),
        &replica,
        Some(&token),
        &["cast", "app.yaml"],
    ));
    let ssl: bool = postgres::Client::connect(&cluster.url("postgres"), postgres::NoTls)
        .unwrap()
        .query_one(
            "SELECT bool_and(ssl) FROM pg_stat_ssl JOIN pg_stat_activity USING (pid)
             WHERE application_name = 'runed'",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(ssl, "runed's connections are not encrypted");
}
