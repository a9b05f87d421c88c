//! `runed` end to end: the real binary on a loopback port, driven over HTTP (SPEC §4). Versions,
//! retention, limits, tokens, conflicts, the KEK checks, crash safety, the `OpenAPI`
//! description, and the promise that no secret value ever reaches the disk in plaintext, an API
//! response or the log.
//!
//! The harness, [`Server`], lives in `tests/util.rs`: it spawns `runed --data-dir D --listen
//! 127.0.0.1:0`, waits for the `listening on http://127.0.0.1:PORT` line on stderr, keeps
//! collecting the log, and records every response body it receives (so a test can assert over
//! all of them at once).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::Instant;

use serde_json::{Value, json};

use crate::util::{Server, create_token, files_under, root, runed_once};

/// Every secret value the tests write starts with this, so one search finds any leaked value,
/// whole or in part. Object names and data keys never contain it.
const MARK: &str = "PlainTextMarker";

/// A distinctive secret value.
fn marker(i: usize) -> String {
    format!("{MARK}-{i:05}-q7Zx")
}

// ---------------------------------------------------------------------------------------------
// Setup
// ---------------------------------------------------------------------------------------------

/// A temporary directory with a data directory inside (not created: runed creates it) and room
/// for a server runefile.
pub(crate) struct Setup {
    tmp: tempfile::TempDir,
}

impl Setup {
    pub(crate) fn new() -> Self {
        Self {
            tmp: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    pub(crate) fn data(&self) -> PathBuf {
        self.tmp.path().join("data")
    }

    /// Writes a server runefile and returns its path as an argument.
    fn config(&self, text: &str) -> String {
        let path = self.tmp.path().join("runed.yaml");
        std::fs::write(&path, text).expect("write the server runefile");
        path.display().to_string()
    }

    pub(crate) fn start(&self) -> Server {
        Server::start(&self.data(), &[])
    }

    fn start_with(&self, config: &str) -> Server {
        let path = self.config(config);
        Server::start(&self.data(), &["--config", &path])
    }
}

// ---------------------------------------------------------------------------------------------
// Objects on the wire
// ---------------------------------------------------------------------------------------------

fn data(pairs: &[(&str, &str)]) -> Value {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

fn secret(ns: &str, name: &str, pairs: &[(&str, &str)]) -> Value {
    json!({"kind": "secret", "namespace": ns, "name": name, "spec": {"data": data(pairs)}})
}

fn configmap(ns: &str, name: &str, pairs: &[(&str, &str)]) -> Value {
    json!({"kind": "configmap", "namespace": ns, "name": name, "spec": {"data": data(pairs)}})
}

fn namespace(name: &str) -> Value {
    json!({"kind": "namespace", "name": name, "spec": {"description": "made by a test"}})
}

/// A `process:` service that mounts `secret` and imports `config`. runed runs it (`/bin/true`,
/// restarted with back-off); the mount point lives under `/tmp`, not in `/etc`.
fn service(ns: &str, name: &str, secret: &str, config: &str) -> Value {
    json!({
        "kind": "service", "namespace": ns, "name": name,
        "spec": {
            "process": {"command": "/bin/true"},
            "scale": 1,
            "secretMounts": [{"name": "creds", "source": secret, "mountPath": "/tmp/rune-test/creds"}],
            "envFrom": [{"configRef": config}],
        },
    })
}

fn storage_class(name: &str) -> Value {
    json!({"kind": "storageClass", "name": name, "spec": {"provisioner": "local"}})
}

/// The `expected` revisions of an apply, taken from a plan's changes.
fn expected(plan: &Value) -> Value {
    plan["changes"]
        .as_array()
        .expect("a plan has changes")
        .iter()
        .map(|c| {
            let mut e = json!({"kind": c["kind"], "name": c["name"], "revision": c["revision"]});
            if let Some(ns) = c.get("namespace") {
                e["namespace"] = ns.clone();
            }
            e
        })
        .collect()
}

fn versions(listed: &Value) -> Vec<u64> {
    listed["versions"]
        .as_array()
        .expect("a listed object has versions")
        .iter()
        .map(|v| v["version"].as_u64().expect("a version number"))
        .collect()
}

/// The files under `dir` whose raw bytes contain `needle`.
fn files_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
    files_under(dir)
        .into_iter()
        .filter(|path| {
            let bytes = std::fs::read(path).expect("read a file");
            bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Versions, revisions, plan and apply
// ---------------------------------------------------------------------------------------------

/// Single-object writes: POST creates version 1; a PUT that changes data makes version 2; a PUT
/// of the same data changes nothing (same version, same revision, same `updatedAt`); a
/// labels-only change bumps the revision but not the version. Secrets come back with key names
/// only.
#[test]
fn writes_bump_versions_only_when_data_changes() {
    let setup = Setup::new();
    let server = setup.start();
    let path = "/v1/namespaces/default/secrets/db";
    let created = server
        .post(
            "/v1/namespaces/default/secrets",
            &secret("default", "db", &[("user", "admin"), ("password", "pw-1")]),
        )
        .expect(201);
    assert_eq!(created["version"], 1);
    assert_eq!(created["revision"], 1);
    assert_eq!(created["keys"], json!(["password", "user"]));
    assert!(created.get("data").is_none(), "{created}");
    assert_eq!(server.get(path).expect(200), created);

    let changed = secret("default", "db", &[("user", "admin"), ("password", "pw-2")]);
    let updated = server.put(path, &changed).expect(200);
    assert_eq!(
        (updated["version"].as_u64(), updated["revision"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(versions(&updated), [1, 2]);

    let again = server.put(path, &changed).expect(200);
    assert_eq!(again, updated, "an unchanged PUT must not touch the object");

    let mut labelled = changed.clone();
    labelled["labels"] = json!({"team": "payments"});
    let relabelled = server.put(path, &labelled).expect(200);
    assert_eq!(relabelled["version"], 2, "labels are not data");
    assert_eq!(relabelled["revision"], 3);
    assert_eq!(relabelled["labels"], json!({"team": "payments"}));

    // Configmaps follow the same rule and carry their data.
    let cm_path = "/v1/namespaces/default/configmaps/app";
    let cm = configmap("default", "app", &[("mode", "fast")]);
    server.put(cm_path, &cm).expect(200);
    assert_eq!(server.put(cm_path, &cm).expect(200)["version"], 1);
    let cm2 = server
        .put(cm_path, &configmap("default", "app", &[("mode", "slow")]))
        .expect(200);
    assert_eq!(cm2["version"], 2);
    assert_eq!(cm2["data"], json!({"mode": "slow"}));
}

/// The batch path: `/v1/plan` reports creates and updates (secrets by key name, with the version
/// transition), `/v1/apply` with the plan's revisions as `expected` applies all of it, and a
/// re-plan of the same objects is all `unchanged`.
#[test]
fn plan_then_apply_then_replan_is_unchanged() {
    let setup = Setup::new();
    let mut server = setup.start();
    // A `process:` service is among the objects: open mode refuses those.
    server.authenticate(&setup.data());
    server
        .post(
            "/v1/namespaces/default/secrets",
            &secret("default", "db", &[("password", "pw-1")]),
        )
        .expect(201);
    let objects = json!([
        namespace("team"),
        secret("default", "db", &[("password", "pw-2"), ("user", "admin")]),
        configmap("team", "app", &[("mode", "fast")]),
        secret("team", "db", &[("password", "pw-3")]),
        service("team", "web", "db", "app"),
        storage_class("fast"),
    ]);
    let plan = server
        .post("/v1/plan", &json!({"objects": objects}))
        .expect(200);
    assert_eq!(
        plan["summary"],
        json!({"create": 5, "update": 1, "delete": 0, "unchanged": 0})
    );
    let db = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "secret" && c["namespace"] == "default")
        .expect("the plan lists default/db");
    assert_eq!(db["action"], "update");
    assert_eq!(
        db["keys"],
        json!({"added": ["user"], "changed": ["password"], "removed": []})
    );
    assert_eq!(
        (db["fromVersion"].as_u64(), db["toVersion"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(db["revision"], 1);
    assert!(
        db.get("live").is_none(),
        "a secret's plan entry carries no live object"
    );

    let applied = server
        .post(
            "/v1/apply",
            &json!({"objects": objects, "expected": expected(&plan)}),
        )
        .expect(200);
    assert_eq!(applied["applied"], 6);
    assert_eq!(applied["versions"]["secret/default/db"], 2);
    assert_eq!(applied["versions"]["service/team/web"], 1);
    assert_eq!(
        server.get("/v1/namespaces/team/services/web").expect(200)["secretMounts"][0]["source"],
        "db"
    );
    assert_eq!(
        server.get("/v1/storageclasses/fast").expect(200)["provisioner"],
        "local"
    );

    let replan = server
        .post("/v1/plan", &json!({"objects": objects}))
        .expect(200);
    assert_eq!(
        replan["summary"],
        json!({"create": 0, "update": 0, "delete": 0, "unchanged": 6})
    );
    let unchanged = server
        .post(
            "/v1/apply",
            &json!({"objects": objects, "expected": expected(&replan)}),
        )
        .expect(200);
    assert_eq!(unchanged["applied"], 0);
    assert_eq!(
        server.get("/v1/namespaces/default/secrets/db").expect(200)["version"],
        2
    );
}

/// `storage.versions-kept: 3`: after six versions only 4, 5 and 6 are listed, and the older
/// sealed versions are gone from the store itself (not just hidden).
#[test]
fn retention_keeps_only_the_newest_versions() {
    let setup = Setup::new();
    let mut server = setup.start_with("storage:\n  versions-kept: 3\n");
    let path = "/v1/namespaces/default/secrets/rotating";
    for i in 1..=6 {
        let value = format!("value-{i}");
        let listed = server
            .put(path, &secret("default", "rotating", &[("token", &value)]))
            .expect(200);
        assert_eq!(listed["version"], i);
    }
    let listed = server.get(path).expect(200);
    assert_eq!(versions(&listed), [4, 5, 6]);
    assert!(server.stop().success());

    let db = redb::Database::create(rune::server::engine::store_path(&setup.data()))
        .expect("the store opens");
    let read = redb::ReadableDatabase::begin_read(&db).expect("a read transaction");
    let table = read
        .open_table(redb::TableDefinition::<&str, &[u8]>::new("versions"))
        .expect("the versions table");
    let kept: Vec<String> = redb::ReadableTable::iter(&table)
        .expect("iterate versions")
        .map(|entry| entry.expect("an entry").0.value().to_owned())
        .filter(|key| key.starts_with("secret\0default\0rotating\0"))
        .collect();
    assert_eq!(kept.len(), 3, "sealed versions left in the store: {kept:?}");
}

// ---------------------------------------------------------------------------------------------
// Limits and validation
// ---------------------------------------------------------------------------------------------

const SMALL_LIMITS: &str = "\
storage:
  secret-limits:
    max-keys-per-secret: 2
    max-value-size: 16
  configmap-limits:
    max-keys-per-configmap: 2
    max-value-size: 16
";

/// The server's own limits (from its runefile) on every write path: a too-large value is 413
/// `limit_exceeded` naming the key and the limit (a configmap also its size, a secret never);
/// too many keys is 413; an invalid name is 400 `invalid`; and nothing of a rejected write or
/// batch is stored.
#[test]
fn limits_and_names_are_enforced_and_nothing_is_stored() {
    let setup = Setup::new();
    let server = setup.start_with(SMALL_LIMITS);
    let big = "x".repeat(17);

    let too_big = server.post(
        "/v1/namespaces/default/secrets",
        &secret("default", "big", &[("ok", "small"), ("cert", &big)]),
    );
    let details = too_big.error(413, "limit_exceeded");
    let violation = &details["violations"][0];
    assert_eq!(violation["key"], "cert");
    assert_eq!(violation["limit"], 16);
    assert_eq!(violation["name"], "big");
    assert!(
        violation.get("observed").is_none(),
        "a secret's size leaks: {violation}"
    );
    assert!(
        !too_big.text.contains("17"),
        "a secret's size leaks: {}",
        too_big.text
    );

    let cm_big = server
        .put(
            "/v1/namespaces/default/configmaps/big",
            &configmap("default", "big", &[("blob", &big)]),
        )
        .error(413, "limit_exceeded");
    assert_eq!(cm_big["violations"][0]["key"], "blob");
    assert_eq!(cm_big["violations"][0]["limit"], 16);
    assert_eq!(cm_big["violations"][0]["observed"], 17);

    let many = server
        .post(
            "/v1/namespaces/default/secrets",
            &secret("default", "many", &[("a", "1"), ("b", "2"), ("c", "3")]),
        )
        .error(413, "limit_exceeded");
    assert_eq!(many["violations"][0]["limit"], 2);
    assert!(
        many["violations"][0]["message"]
            .as_str()
            .unwrap()
            .contains("keys"),
        "{many}"
    );

    let bad_name = server
        .post(
            "/v1/namespaces/default/secrets",
            &secret("default", "Bad_Name", &[("a", "1")]),
        )
        .error(400, "invalid");
    assert!(
        bad_name["violations"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Bad_Name")
    );
    server
        .post(
            "/v1/namespaces/default/configmaps",
            &configmap("default", "keys", &[("../escape", "1")]),
        )
        .error(400, "invalid");

    // A batch with one bad object applies nothing.
    let batch = json!({"objects": [
        secret("default", "fine", &[("a", "1")]),
        secret("default", "huge", &[("a", &big)]),
    ]});
    server.post("/v1/plan", &batch).error(413, "limit_exceeded");
    server
        .post("/v1/apply", &batch)
        .error(413, "limit_exceeded");

    for path in [
        "/v1/namespaces/default/secrets/big",
        "/v1/namespaces/default/configmaps/big",
        "/v1/namespaces/default/secrets/many",
        "/v1/namespaces/default/secrets/Bad_Name",
        "/v1/namespaces/default/configmaps/keys",
        "/v1/namespaces/default/secrets/fine",
        "/v1/namespaces/default/secrets/huge",
    ] {
        server.get(path).error(404, "not_found");
    }
    let listed = server.get("/v1/namespaces/default/secrets").expect(200);
    assert_eq!(listed["items"], json!([]));
}

// ---------------------------------------------------------------------------------------------
// Authentication and scopes
// ---------------------------------------------------------------------------------------------

/// Open on loopback until the first token exists (and says so in the log); then 401 without a
/// token or with a wrong one, 200 with it. A token limited to `team` gets 403 in `default` and on
/// cluster-scoped writes, 200/201 in `team`. Revocation takes effect without a restart.
#[test]
fn tokens_gate_requests_and_scope_namespaces() {
    let setup = Setup::new();
    let server = setup.start();
    assert!(
        server.log().contains("WITHOUT authentication"),
        "{}",
        server.log()
    );
    server.get("/v1/namespaces").expect(200);

    let admin = create_token(&setup.data(), "ci", &[]);
    assert!(admin.starts_with("rune_"), "{admin}");
    server.get("/v1/namespaces").error(401, "unauthorized");
    server
        .request("GET", "/v1/namespaces")
        .bearer("rune_not-a-token")
        .send()
        .error(401, "unauthorized");
    server
        .request("GET", "/v1/namespaces")
        .bearer(&admin)
        .send()
        .expect(200);
    server.get("/healthz").expect(200);
    server
        .request("POST", "/v1/namespaces")
        .bearer(&admin)
        .json(&namespace("team"))
        .send()
        .expect(201);

    let team = create_token(&setup.data(), "team-only", &["team"]);
    let as_team = |method, path: &str| server.request(method, path).bearer(&team);
    as_team("GET", "/v1/namespaces/default/secrets")
        .send()
        .error(403, "forbidden");
    as_team("POST", "/v1/namespaces/default/secrets")
        .json(&secret("default", "x", &[("a", "1")]))
        .send()
        .error(403, "forbidden");
    as_team("POST", "/v1/storageclasses")
        .json(&storage_class("fast"))
        .send()
        .error(403, "forbidden");
    as_team("PUT", "/v1/storageclasses/fast")
        .json(&storage_class("fast"))
        .send()
        .error(403, "forbidden");
    as_team("POST", "/v1/apply")
        .json(&json!({"objects": [secret("default", "x", &[("a", "1")])]}))
        .send()
        .error(403, "forbidden");
    as_team("DELETE", "/v1/namespaces/default")
        .send()
        .error(403, "forbidden");
    as_team("POST", "/v1/namespaces/team/secrets")
        .json(&secret("team", "db", &[("a", "1")]))
        .send()
        .expect(201);
    as_team("GET", "/v1/namespaces/team/secrets")
        .send()
        .expect(200);
    as_team("GET", "/v1/namespaces/team").send().expect(200);
    let visible = as_team("GET", "/v1/namespaces").send().expect(200);
    let names: Vec<&Value> = visible["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| &n["name"])
        .collect();
    assert_eq!(names, [&json!("team")]);

    let listed = runed_once(&setup.data(), &["token", "list"]);
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.contains("ci") && listed.contains("team-only"),
        "{listed}"
    );
    assert!(
        !listed.contains(&admin) && !listed.contains(&team),
        "token list shows tokens"
    );

    let revoked = runed_once(&setup.data(), &["token", "revoke", "ci"]);
    assert!(revoked.status.success(), "{revoked:?}");
    server
        .request("GET", "/v1/namespaces")
        .bearer(&admin)
        .send()
        .error(401, "unauthorized");
    for token in [&admin, &team] {
        assert!(
            !server.log().contains(token.as_str()),
            "a token reached the log"
        );
    }
}

/// `auth.required: true`: every API request needs a token even on loopback with no token
/// created (and the log says so); `/healthz` stays open.
#[test]
fn auth_required_refuses_requests_without_tokens() {
    let setup = Setup::new();
    let server = setup.start_with("auth:\n  required: true\n");
    assert!(
        server.log().contains("every request is refused"),
        "{}",
        server.log()
    );
    server.get("/v1/namespaces").error(401, "unauthorized");
    server
        .post("/v1/namespaces", &namespace("team"))
        .error(401, "unauthorized");
    server.get("/healthz").expect(200);
    let token = create_token(&setup.data(), "ci", &[]);
    server
        .request("GET", "/v1/namespaces")
        .bearer(&token)
        .send()
        .expect(200);
}

// ---------------------------------------------------------------------------------------------
// Conflicts and preconditions
// ---------------------------------------------------------------------------------------------

/// 409 `already_exists` for a second POST; 412 for a PUT with a stale `If-Match`; 409 `conflict`
/// for an apply whose `expected` revisions moved, with nothing of the batch applied; 409
/// `in_use` for deleting a mounted secret (204 with `?force=true`); 409 for deleting a
/// non-empty namespace.
#[test]
fn conflicts_and_preconditions_are_refused() {
    let setup = Setup::new();
    let mut server = setup.start();
    // A `process:` service is among the objects: open mode refuses those.
    server.authenticate(&setup.data());
    let secrets = "/v1/namespaces/default/secrets";
    let db = "/v1/namespaces/default/secrets/db";
    server
        .post(secrets, &secret("default", "db", &[("pw", "1")]))
        .expect(201);
    let exists = server
        .post(secrets, &secret("default", "db", &[("pw", "2")]))
        .error(409, "already_exists");
    assert_eq!(exists["object"]["name"], "db");

    server
        .request("PUT", db)
        .header("if-match", "\"1\"")
        .json(&secret("default", "db", &[("pw", "2")]))
        .send()
        .expect(200);
    let stale = server
        .request("PUT", db)
        .header("if-match", "1")
        .json(&secret("default", "db", &[("pw", "3")]))
        .send()
        .error(412, "precondition_failed");
    assert_eq!(stale["revision"], 2);
    server
        .request("PUT", db)
        .header("if-match", "not-a-number")
        .json(&secret("default", "db", &[("pw", "3")]))
        .send()
        .error(400, "invalid");
    assert_eq!(server.get(db).expect(200)["version"], 2);

    // Plan, let someone else write, then apply the stale plan: nothing of it lands.
    let objects = json!([
        secret("default", "db", &[("pw", "from-the-plan")]),
        secret("default", "fresh", &[("pw", "new")]),
    ]);
    let plan = server
        .post("/v1/plan", &json!({"objects": objects}))
        .expect(200);
    server
        .put(db, &secret("default", "db", &[("pw", "meanwhile")]))
        .expect(200);
    let moved = server
        .post(
            "/v1/apply",
            &json!({"objects": objects, "expected": expected(&plan)}),
        )
        .error(409, "conflict");
    assert_eq!(
        moved["objects"],
        json!([{"kind": "secret", "name": "db", "namespace": "default"}])
    );
    server
        .get("/v1/namespaces/default/secrets/fresh")
        .error(404, "not_found");
    assert_eq!(server.get(db).expect(200)["version"], 3);

    // A secret mounted by a service.
    server
        .post(
            "/v1/namespaces/default/configmaps",
            &configmap("default", "app", &[("a", "1")]),
        )
        .expect(201);
    server
        .post(
            "/v1/namespaces/default/services",
            &service("default", "web", "db", "app"),
        )
        .expect(201);
    let in_use = server.delete(db).error(409, "in_use");
    assert_eq!(in_use["users"][0]["name"], "web");
    server
        .delete("/v1/namespaces/default/configmaps/app")
        .error(409, "in_use");
    server.get(db).expect(200);
    assert_eq!(
        server.delete(&format!("{db}?force=true")).expect(204),
        Value::Null
    );
    server.get(db).error(404, "not_found");
    server.delete(db).error(404, "not_found");

    // A namespace with something in it.
    server
        .post("/v1/namespaces", &namespace("team"))
        .expect(201);
    server
        .post(
            "/v1/namespaces/team/secrets",
            &secret("team", "s", &[("a", "1")]),
        )
        .expect(201);
    server
        .delete("/v1/namespaces/team")
        .error(409, "namespace_not_empty");
    server.delete("/v1/namespaces/team/secrets/s").expect(204);
    server.delete("/v1/namespaces/team").expect(204);
    server.get("/v1/namespaces/team").error(404, "not_found");
}

// ---------------------------------------------------------------------------------------------
// Secrets never in plaintext: on disk, in responses, in the log
// ---------------------------------------------------------------------------------------------

/// Writes (creates, updates, version GC, deletes, a rejected write) secrets with marker values,
/// stops runed, then scans the raw bytes of every file in the data directory for the markers —
/// before and after compacting the store — and finds none. Configmap values, which are stored in
/// plaintext by design, are found: the scan itself works.
#[test]
fn no_secret_value_reaches_the_disk() {
    let setup = Setup::new();
    let mut server = setup.start_with("storage:\n  versions-kept: 2\n");
    let mut next = 0;
    let mut value = || {
        next += 1;
        marker(next)
    };
    for i in 0..12 {
        let name = format!("s{i}");
        let path = format!("/v1/namespaces/default/secrets/{name}");
        let (a, b) = (value(), value());
        server
            .put(&path, &secret("default", &name, &[("a", &a), ("b", &b)]))
            .expect(200);
        // Updates make new versions; with versions-kept 2 the oldest are collected.
        for _ in 0..3 {
            let c = value();
            server
                .put(&path, &secret("default", &name, &[("a", &a), ("c", &c)]))
                .expect(200);
        }
        if i % 3 == 0 {
            server.delete(&path).expect(204);
        }
    }
    let batch: Vec<Value> = (0..20)
        .map(|i| secret("default", &format!("batch{i}"), &[("k", &value())]))
        .collect();
    server
        .post("/v1/apply", &json!({"objects": batch}))
        .expect(200);
    server
        .post(
            "/v1/namespaces/default/configmaps",
            &configmap("default", "plain", &[("k", "ConfigMapValueOnDisk")]),
        )
        .expect(201);
    assert!(server.stop().success());

    let data = setup.data();
    assert!(
        !files_containing(&data, "ConfigMapValueOnDisk").is_empty(),
        "the scan must find plaintext configmap values"
    );
    assert_eq!(files_containing(&data, MARK), Vec::<PathBuf>::new());
    for i in 1..=next {
        assert_eq!(files_containing(&data, &marker(i)), Vec::<PathBuf>::new());
    }

    let mut db =
        redb::Database::create(rune::server::engine::store_path(&data)).expect("the store opens");
    db.compact().expect("compact the store");
    drop(db);
    assert_eq!(files_containing(&data, MARK), Vec::<PathBuf>::new());

    // The store still works after compaction, and the secrets are all there.
    let server = setup.start();
    let listed = server.get("/v1/namespaces/default/secrets").expect(200);
    assert_eq!(listed["items"].as_array().unwrap().len(), 8 + 20);
}

/// Every endpoint, including error responses provoked with bodies full of secret values, answers
/// without any of them; runed's log has none either.
#[test]
fn no_secret_value_in_any_response_or_the_log() {
    let setup = Setup::new();
    let mut server = setup.start_with(SMALL_LIMITS.replace("16", "64").as_str());
    // A `process:` service is among the objects: open mode refuses those.
    server.authenticate(&setup.data());
    let m = |i| marker(i);
    let secrets = "/v1/namespaces/default/secrets";
    server
        .post(secrets, &secret("default", "db", &[("pw", &m(1))]))
        .expect(201);
    server
        .post(secrets, &secret("default", "api", &[("key", &m(2))]))
        .expect(201);
    server
        .post(
            "/v1/namespaces/default/configmaps",
            &configmap("default", "app", &[("a", "1")]),
        )
        .expect(201);
    server
        .post(
            "/v1/namespaces/default/services",
            &service("default", "web", "db", "app"),
        )
        .expect(201);
    server
        .post("/v1/storageclasses", &storage_class("fast"))
        .expect(201);

    // Reads of everything.
    server.get("/healthz").expect(200);
    server.get("/v1/namespaces").expect(200);
    server.get("/v1/namespaces/default").expect(200);
    for kind in ["secrets", "configmaps", "services", "volumes"] {
        server
            .get(&format!("/v1/namespaces/default/{kind}"))
            .expect(200);
    }
    server.get("/v1/namespaces/default/secrets/db").expect(200);
    server
        .get("/v1/namespaces/default/services/web")
        .expect(200);
    server.get("/v1/storageclasses").expect(200);
    server.get("/v1/storageclasses/fast").expect(200);

    // Writes whose bodies carry secret values.
    let objects = json!([
        secret("default", "db", &[("pw", &m(3)), ("extra", &m(4))]),
        secret("default", "new", &[("k", &m(5))]),
    ]);
    let plan = server
        .post("/v1/plan", &json!({"objects": objects}))
        .expect(200);
    server
        .post(
            "/v1/apply",
            &json!({"objects": objects, "expected": expected(&plan)}),
        )
        .expect(200);
    server
        .put(
            "/v1/namespaces/default/secrets/api",
            &secret("default", "api", &[("key", &m(6))]),
        )
        .expect(200);

    provoke_errors(&server);

    let replies = server.replies();
    assert!(replies.len() > 30, "only {} responses", replies.len());
    for reply in &replies {
        assert!(
            !reply.contains(MARK),
            "a secret value in a response: {reply}"
        );
    }
    let log = server.log();
    assert!(
        log.contains("POST /v1/apply"),
        "the log records requests: {log}"
    );
    assert!(!log.contains(MARK), "a secret value in the log:\n{log}");
}

/// Error responses of every kind, each provoked by a body that carries secret values.
fn provoke_errors(server: &Server) {
    let m = |i| marker(i);
    let secrets = "/v1/namespaces/default/secrets";
    let db = "/v1/namespaces/default/secrets/db";
    server
        .post(secrets, &secret("default", "db", &[("pw", &m(10))]))
        .error(409, "already_exists");
    server
        .request("PUT", db)
        .header("if-match", "1")
        .json(&secret("default", "db", &[("pw", &m(11))]))
        .send()
        .error(412, "precondition_failed");
    let large = m(12).repeat(8);
    server
        .post(secrets, &secret("default", "large", &[("pw", &large)]))
        .error(413, "limit_exceeded");
    server
        .post(secrets, &secret("default", "Not_A_Name", &[("pw", &m(13))]))
        .error(400, "invalid");
    server
        .post(
            "/v1/namespaces/nowhere/secrets",
            &secret("nowhere", "x", &[("pw", &m(14))]),
        )
        .error(409, "unresolved");
    let stale = json!({
        "objects": [secret("default", "db", &[("pw", &m(15))])],
        "expected": [{"kind": "secret", "namespace": "default", "name": "db", "revision": 1}],
    });
    server.post("/v1/apply", &stale).error(409, "conflict");
    server
        .post(
            "/v1/plan",
            &json!({"objects": [secret("default", "db", &[("..", &m(16))])]}),
        )
        .error(400, "invalid");
    server
        .post(
            "/v1/namespaces/default/configmaps",
            &secret("default", "db", &[("pw", &m(17))]),
        )
        .error(400, "invalid");
    server.delete(db).error(409, "in_use");
    // Bodies of the wrong shape: serde's messages must not quote the values.
    for body in [
        json!({"kind": "secret", "name": "x", "spec": {"data": m(18)}}),
        json!({"kind": "secret", "name": "x", "spec": m(19)}),
        json!({"kind": "secret", "name": "x", "spec": {"data": {"pw": [m(20)]}}}),
        json!({"kind": "secret", "name": "x", "spec": {"data": {"pw": m(21)}, "more": m(22)}}),
        json!({"kind": "secret", "name": "x", "spec": {"data": {"pw": m(23)}}, "extra": m(24)}),
        json!({"objects": m(26)}),
    ] {
        server.post(secrets, &body).error(400, "invalid");
        server.post("/v1/apply", &body).error(400, "invalid");
    }
    // A value sent as a number is not quoted back either.
    let number = json!({"kind": "secret", "name": "x", "spec": {"data": {"pin": 8_675_309}}});
    let refused = server.post(secrets, &number);
    refused.error(400, "invalid");
    assert!(!refused.text.contains("8675309"), "{}", refused.text);
    let truncated = format!(
        r#"{{"kind": "secret", "name": "x", "spec": {{"data": {{"pw": "{}"#,
        m(27)
    );
    server
        .request("POST", secrets)
        .raw(&truncated)
        .send()
        .error(400, "invalid");
    let bad_escape = format!(
        r#"{{"kind": "secret", "name": "x", "spec": {{"data": {{"pw": "{}\q"}}}}}}"#,
        m(28)
    );
    server
        .request("POST", secrets)
        .raw(&bad_escape)
        .send()
        .error(400, "invalid");
    server
        .request("POST", "/v1/namespaces/default/secrets")
        .header("authorization", &format!("Bearer {}", m(29)))
        .json(&secret("default", "y", &[("pw", &m(30))]))
        .send()
        .error(401, "unauthorized");
    server
        .get("/v1/namespaces/default/nothings")
        .error(404, "not_found");
    server
        .get("/v1/nothing/here/at/all")
        .error(404, "not_found");
}

// ---------------------------------------------------------------------------------------------
// The KEK
// ---------------------------------------------------------------------------------------------

/// A fresh data directory gets a KEK file of mode 0600 (and the directory and store are
/// private). Another valid KEK for that data directory refuses to start with a message that the
/// KEK does not match; a missing KEK refuses to start and no new KEK file appears; the right KEK
/// starts it again with the secrets intact.
#[cfg(unix)]
#[test]
fn wrong_or_missing_kek_refuses_to_start() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &Path| {
        std::fs::metadata(path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .permissions()
            .mode()
            & 0o777
    };
    let setup = Setup::new();
    let data = setup.data();
    let kek = data.join("kek");
    let mut server = setup.start();
    assert_eq!(mode(&kek), 0o600, "KEK file mode");
    assert_eq!(mode(&data), 0o700, "data directory mode");
    assert_eq!(
        mode(&rune::server::engine::store_path(&data)),
        0o600,
        "store mode"
    );
    assert!(
        server.log().contains("generated a new KEK"),
        "{}",
        server.log()
    );
    server
        .post(
            "/v1/namespaces/default/secrets",
            &secret("default", "db", &[("pw", "hunter2")]),
        )
        .expect(201);
    assert!(server.stop().success());
    let original = std::fs::read(&kek).expect("read the KEK");

    // Another well-formed key: base64 of 32 bytes.
    std::fs::write(&kek, "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n").expect("write a KEK");
    let wrong = runed_once(&data, &["--listen", "127.0.0.1:0"]);
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert!(
        !wrong.status.success(),
        "runed started with the wrong KEK: {stderr}"
    );
    assert!(stderr.contains("KEK does not match"), "{stderr}");

    std::fs::remove_file(&kek).expect("remove the KEK");
    let missing = runed_once(&data, &["--listen", "127.0.0.1:0"]);
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        !missing.status.success(),
        "runed started without its KEK: {stderr}"
    );
    assert!(
        stderr.contains("missing") && stderr.contains("refusing to generate"),
        "{stderr}"
    );
    assert!(
        !kek.exists(),
        "a new KEK was generated for an existing store"
    );

    std::fs::write(&kek, &original).expect("restore the KEK");
    let server = setup.start();
    assert_eq!(
        server.get("/v1/namespaces/default/secrets/db").expect(200)["keys"],
        json!(["pw"])
    );
}

/// `--kek-file` names a KEK outside the data directory; a malformed one is refused by name.
#[test]
fn kek_file_flag_is_used_and_malformed_keys_are_refused() {
    let setup = Setup::new();
    let kek = setup.tmp.path().join("elsewhere.kek");
    std::fs::write(&kek, "c2hvcnQ=\n").expect("write a KEK");
    let kek_arg = kek.display().to_string();
    let output = runed_once(
        &setup.data(),
        &["--listen", "127.0.0.1:0", "--kek-file", &kek_arg],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("32 bytes"), "{stderr}");
    assert!(
        !stderr.contains("c2hvcnQ"),
        "the key's text is echoed: {stderr}"
    );

    std::fs::write(&kek, "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n").expect("write a KEK");
    let server = Server::start(&setup.data(), &["--kek-file", &kek_arg]);
    assert!(
        !setup.data().join("kek").exists(),
        "the default KEK file was created"
    );
    server.get("/healthz").expect(200);
}

// ---------------------------------------------------------------------------------------------
// Crash safety
// ---------------------------------------------------------------------------------------------

/// How many secrets the crash test applies in one batch.
const CRASH_BATCH: usize = 5_000;

fn crash_batch() -> String {
    let objects: Vec<Value> = (0..CRASH_BATCH)
        .map(|i| {
            secret(
                "default",
                &format!("bulk-{i:05}"),
                &[("password", &format!("value-{i}")), ("user", "svc")],
            )
        })
        .collect();
    json!({"objects": objects}).to_string()
}

/// Sends `body` to `/v1/apply` from a thread; the thread's result is the status, or the
/// transport error when the server died first.
fn apply_in_background(server: &Server, body: &str) -> JoinHandle<Result<u16, String>> {
    let agent = server.agent.clone();
    let url = server.url("/v1/apply");
    let body = body.to_owned();
    std::thread::spawn(move || {
        let mut response = agent
            .post(&url)
            .content_type("application/json")
            .send(&body)
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let _ = response.body_mut().read_to_string();
        Ok(status)
    })
}

/// SIGKILL in the middle of a large batch apply: after a restart the store opens cleanly and
/// the batch is either entirely there or entirely absent — never a part of it. The kill is
/// timed from a measured apply of the same batch, at a few fractions of its duration.
#[test]
fn a_batch_killed_mid_apply_is_all_or_nothing() {
    let body = crash_batch();
    let calibration = Setup::new();
    let server = calibration.start();
    let started = Instant::now();
    let status = apply_in_background(&server, &body)
        .join()
        .expect("the client thread");
    let full = started.elapsed();
    assert_eq!(status, Ok(200));
    drop(server);

    let (mut mid_request, mut rewritten) = (0, false);
    for fraction in [0.3, 0.6, 0.9] {
        let setup = Setup::new();
        let mut server = setup.start();
        let client = apply_in_background(&server, &body);
        std::thread::sleep(full.mul_f64(fraction));
        server.kill();
        let outcome = client.join().expect("the client thread");
        if outcome.is_err() {
            mid_request += 1;
        }

        let server = setup.start();
        assert!(
            !server.log().contains(" ERROR "),
            "the store did not reopen cleanly:\n{}",
            server.log()
        );
        let listed = server.get("/v1/namespaces/default/secrets").expect(200);
        let count = listed["items"].as_array().expect("items").len();
        assert!(
            count == 0 || count == CRASH_BATCH,
            "killed at {fraction} of {full:?} ({outcome:?}): {count} of {CRASH_BATCH} secrets applied"
        );
        if count == 0 && !rewritten {
            // The store is writable after the crash: the same batch applies in full.
            let again = server.request("POST", "/v1/apply").raw(&body).send();
            assert_eq!(again.expect(200)["applied"], CRASH_BATCH);
            rewritten = true;
        }
    }
    assert!(
        mid_request > 0,
        "no kill landed while the apply was in flight (a full apply took {full:?})"
    );
}

// ---------------------------------------------------------------------------------------------
// The OpenAPI description
// ---------------------------------------------------------------------------------------------

/// Every route of the router, as `(method, path)`.
const ROUTES: [(&str, &str); 31] = [
    ("GET", "/healthz"),
    ("GET", "/v1/namespaces"),
    ("POST", "/v1/namespaces"),
    ("GET", "/v1/namespaces/{ns}"),
    ("DELETE", "/v1/namespaces/{ns}"),
    ("GET", "/v1/namespaces/{ns}/{kind}"),
    ("POST", "/v1/namespaces/{ns}/{kind}"),
    ("GET", "/v1/namespaces/{ns}/{kind}/{name}"),
    ("PUT", "/v1/namespaces/{ns}/{kind}/{name}"),
    ("DELETE", "/v1/namespaces/{ns}/{kind}/{name}"),
    ("GET", "/v1/namespaces/{ns}/services/{name}/logs"),
    ("POST", "/v1/namespaces/{ns}/services/{name}/restart"),
    ("GET", "/v1/status"),
    ("GET", "/v1/seal-recipient"),
    ("GET", "/v1/admin/kek"),
    ("POST", "/v1/admin/kek/rewrap"),
    ("GET", "/v1/audit"),
    ("POST", "/v1/reseal"),
    ("GET", "/v1/admin/seal-identity"),
    ("POST", "/v1/admin/seal-identity/rotate"),
    ("GET", "/v1/history/{ns}/secrets/{name}"),
    ("GET", "/v1/history/{ns}/configmaps/{name}"),
    ("POST", "/v1/rollback/{ns}/secrets/{name}"),
    ("POST", "/v1/rollback/{ns}/configmaps/{name}"),
    ("POST", "/v1/plan"),
    ("POST", "/v1/apply"),
    ("GET", "/v1/{kind}"),
    ("POST", "/v1/{kind}"),
    ("GET", "/v1/{kind}/{name}"),
    ("PUT", "/v1/{kind}/{name}"),
    ("DELETE", "/v1/{kind}/{name}"),
];

/// What the router's `{kind}` segments serve. The description spells each kind out as a path of
/// its own, so that each has its own request body (a secret on the volumes path is refused by
/// the schema as by the server).
const NAMESPACED_KINDS: [&str; 4] = ["secrets", "configmaps", "services", "volumes"];
const CLUSTER_KINDS: [&str; 1] = ["storageclasses"];

/// The documented paths of a router path: one per kind where it has a `{kind}` segment.
fn documented_paths(path: &str) -> Vec<String> {
    let kinds: &[&str] = if path.starts_with("/v1/namespaces/{ns}/{kind}") {
        &NAMESPACED_KINDS
    } else if path.starts_with("/v1/{kind}") {
        &CLUSTER_KINDS
    } else {
        return vec![path.to_owned()];
    };
    kinds.iter().map(|k| path.replace("{kind}", k)).collect()
}

const HTTP_METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn openapi() -> Value {
    let path = root().join("schemas/openapi.json");
    let text = std::fs::read_to_string(&path).expect("read schemas/openapi.json");
    serde_json::from_str(&text).expect("schemas/openapi.json is JSON")
}

/// The `(METHOD, path)` pairs of every `.route(…)` call in the router's source: the path is the
/// call's first string literal, the methods are the `get(`/`.post(`/… calls at its top level.
fn routes_in_source(source: &str) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for (start, _) in source.match_indices(".route(") {
        let call = &source[start + ".route(".len()..];
        let path = call
            .split('"')
            .nth(1)
            .expect("a route's path is a string literal");
        let (mut depth, mut word) = (1usize, String::new());
        for c in call.chars() {
            match c {
                '(' if depth == 1 && HTTP_METHODS.contains(&word.as_str()) => {
                    routes.insert((word.to_ascii_uppercase(), path.to_owned()));
                    depth += 1;
                }
                '(' | '{' | '[' => depth += 1,
                ')' | '}' | ']' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                break;
            }
            if c.is_ascii_alphanumeric() || c == '_' {
                word.push(c);
            } else {
                word.clear();
            }
        }
    }
    routes
}

/// `schemas/openapi.json` is `OpenAPI` 3.1, and its paths and methods are exactly the router's
/// routes (read from `src/server/http/router.rs`, a `{kind}` route once per kind it serves),
/// which are exactly the list above: a new route without documentation fails here.
#[test]
fn openapi_lists_exactly_the_routes_of_the_router() {
    let spec = openapi();
    let version = spec["openapi"].as_str().expect("an `openapi` version");
    assert!(version.starts_with("3.1."), "openapi {version}");
    assert!(spec["info"]["title"].is_string() && spec["info"]["version"].is_string());

    let listed: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    let source =
        std::fs::read_to_string(root().join("src/server/http/router.rs")).expect("read router.rs");
    assert_eq!(
        routes_in_source(&source),
        listed,
        "the router's routes (src/server/http/router.rs)"
    );

    let mut documented = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            if HTTP_METHODS.contains(&method.as_str()) {
                assert!(
                    operation["operationId"].is_string() && operation["responses"].is_object(),
                    "{method} {path} needs an operationId and responses"
                );
                documented.insert((method.to_ascii_uppercase(), path.clone()));
            }
        }
    }
    let expanded: BTreeSet<(String, String)> = listed
        .iter()
        .flat_map(|(m, p)| documented_paths(p).into_iter().map(|p| (m.clone(), p)))
        .collect();
    assert_eq!(documented, expanded, "the paths of schemas/openapi.json");

    // Every `$ref` points at something that exists.
    let mut pending = vec![&spec];
    while let Some(value) = pending.pop() {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    let pointer = target.strip_prefix('#').expect("local refs only");
                    assert!(spec.pointer(pointer).is_some(), "dangling $ref {target}");
                }
                pending.extend(map.values());
            }
            Value::Array(items) => pending.extend(items),
            _ => {}
        }
    }
}

/// A validator for one component schema of the `OpenAPI` description (JSON Schema 2020-12).
fn component(spec: &Value, name: &str) -> jsonschema::Validator {
    assert!(
        spec["components"]["schemas"].get(name).is_some(),
        "no component schema {name}"
    );
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": format!("#/components/schemas/{name}"),
        "components": spec["components"],
    });
    jsonschema::draft202012::new(&schema)
        .unwrap_or_else(|e| panic!("component {name} does not compile: {e}"))
}

#[track_caller]
fn assert_matches(spec: &Value, name: &str, instance: &Value) {
    let validator = component(spec, name);
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("at `{}`: {e}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{name} does not match {instance:#}:\n{}",
        errors.join("\n")
    );
}

/// Real responses of a running runed match the component schemas: objects of every kind,
/// lists, a plan, an apply result, health and error bodies; and the request bodies the tests
/// send match the request schemas.
#[test]
fn responses_match_the_openapi_schemas() {
    let spec = openapi();
    let setup = Setup::new();
    let mut server = setup.start_with(SMALL_LIMITS);
    // A `process:` service is among the objects: open mode refuses those.
    server.authenticate(&setup.data());
    let objects = json!([
        namespace("team"),
        secret("team", "db", &[("pw", "1")]),
        configmap("team", "app", &[("mode", "fast")]),
        service("team", "web", "db", "app"),
        storage_class("fast"),
        {"kind": "volume", "namespace": "team", "name": "vol",
         "spec": {"storageClassName": "fast", "size": "1Gi", "parameters": {"zone": "a"}}},
    ]);
    for object in objects.as_array().unwrap() {
        assert_matches(&spec, "DesiredObject", object);
    }
    let plan_request = json!({"objects": objects, "options": {"createNamespaces": false}});
    assert_matches(&spec, "PlanRequest", &plan_request);
    let plan = server.post("/v1/plan", &plan_request).expect(200);
    assert_matches(&spec, "Plan", &plan);
    let apply_request = json!({"objects": objects, "expected": expected(&plan), "delete": []});
    assert_matches(&spec, "ApplyRequest", &apply_request);
    let applied = server.post("/v1/apply", &apply_request).expect(200);
    assert_matches(&spec, "ApplyResult", &applied);
    let updated = json!([configmap("team", "app", &[("mode", "slow")])]);
    let replan = server
        .post("/v1/plan", &json!({"objects": updated}))
        .expect(200);
    assert!(replan["changes"][0]["live"].is_object(), "{replan}");
    assert_matches(&spec, "Plan", &replan);

    assert_matches(&spec, "Health", &server.get("/healthz").expect(200));
    assert_matches(
        &spec,
        "ObjectList",
        &server.get("/v1/namespaces").expect(200),
    );
    assert_matches(
        &spec,
        "StoredObject",
        &server.get("/v1/namespaces/team").expect(200),
    );
    for (kind, name) in [
        ("secrets", "db"),
        ("configmaps", "app"),
        ("services", "web"),
        ("volumes", "vol"),
    ] {
        let list = server
            .get(&format!("/v1/namespaces/team/{kind}"))
            .expect(200);
        assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
        assert_matches(&spec, "ObjectList", &list);
        let one = server
            .get(&format!("/v1/namespaces/team/{kind}/{name}"))
            .expect(200);
        assert_matches(&spec, "StoredObject", &one);
    }
    assert_matches(
        &spec,
        "StoredObject",
        &server.get("/v1/storageclasses/fast").expect(200),
    );
    assert_matches(
        &spec,
        "ObjectList",
        &server.get("/v1/storageclasses").expect(200),
    );

    assert_matches(
        &spec,
        "SealRecipient",
        &server.get("/v1/seal-recipient").expect(200),
    );

    // The process runner's answers.
    assert_matches(&spec, "RunnerStatus", &server.get("/v1/status").expect(200));
    assert_matches(
        &spec,
        "RunnerStatus",
        &server.get("/v1/status?namespace=team").expect(200),
    );
    assert_matches(
        &spec,
        "LogChunk",
        &server
            .get("/v1/namespaces/team/services/web/logs?instance=0&offset=0")
            .expect(200),
    );
    assert_matches(
        &spec,
        "RestartResult",
        &server
            .post(
                "/v1/namespaces/team/services/web/restart?wait=false",
                &json!({}),
            )
            .expect(202),
    );

    // A secret's stored form has no `data`: the schema itself says so.
    let mut leaky = server.get("/v1/namespaces/team/secrets/db").expect(200);
    leaky["data"] = json!({"pw": "1"});
    assert!(!component(&spec, "StoredObject").is_valid(&leaky));

    assert_error_bodies(&spec, &server);
}

/// Errors of every status, each a JSON body that matches the `Error` schema. Expects the objects
/// that [`responses_match_the_openapi_schemas`] applied.
fn assert_error_bodies(spec: &Value, server: &Server) {
    let errors = [
        server.get("/v1/namespaces/team/secrets/nope"),
        server.post(
            "/v1/namespaces/team/secrets",
            &secret("team", "db", &[("pw", "1")]),
        ),
        server.post(
            "/v1/namespaces/team/secrets",
            &secret("team", "x", &[("pw", &"x".repeat(17))]),
        ),
        server.post(
            "/v1/namespaces/team/secrets",
            &secret("team", "X", &[("pw", "1")]),
        ),
        server.delete("/v1/namespaces/team/secrets/db"),
        server.delete("/v1/namespaces/team"),
        server
            .request("PUT", "/v1/namespaces/team/secrets/db")
            .header("if-match", "7")
            .json(&secret("team", "db", &[("pw", "1")]))
            .send(),
        server.post(
            "/v1/apply",
            &json!({"objects": [], "expected": [
            {"kind": "secret", "namespace": "team", "name": "db", "revision": 9}]}),
        ),
        server.request("POST", "/v1/plan").raw("{").send(),
        server.delete("/v1/namespaces/team/secrets/db?force=maybe"),
        server.get("/nowhere"),
        server.get("/v1/namespaces/team/services/web/logs?instance=7"),
        server.get("/v1/namespaces/team/services/web/logs?instance=x"),
        server.get("/v1/namespaces/team/services/nope/logs"),
    ];
    let statuses: Vec<u16> = errors.iter().map(|e| e.status).collect();
    assert_eq!(
        statuses,
        [
            404, 409, 413, 400, 409, 409, 412, 409, 400, 400, 404, 404, 400, 404
        ]
    );
    for error in &errors {
        assert!(
            error.content_type.starts_with("application/json"),
            "{} is not JSON: {error:?}",
            error.status
        );
        assert_matches(spec, "Error", &error.json());
    }
}
