//! Permissions on tokens and fail-closed authentication (SPEC §4.4, issue #11), against the
//! real runed: a namespace-limited `read,cast` token reaches nothing of another namespace
//! through any route of `schemas/openapi.json` or any field of a batch, and learns nothing of
//! what exists there; `process:` services, restart and logs need `run`; storage classes need
//! `admin`; revoking every token, or deleting the token file, never reopens the server; open
//! mode refuses `process:` services; an old token file keeps working with `read,cast,run`.

use std::path::Path;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::runed::Setup;
use crate::util::{Server, Workspace, create_token, create_token_with, root, runed_once};

/// `rune`'s exit code for a refused permission.
const PERMISSION: i32 = 3;

fn secret(ns: &str, name: &str) -> Value {
    json!({"kind": "secret", "namespace": ns, "name": name, "spec": {"data": {"a": "1"}}})
}

fn namespace(name: &str) -> Value {
    json!({"kind": "namespace", "name": name, "spec": {}})
}

fn process_service(ns: &str, name: &str) -> Value {
    json!({"kind": "service", "namespace": ns, "name": name,
           "spec": {"process": {"command": "/bin/sleep", "args": ["600"]}, "scale": 1}})
}

fn storage_class(name: &str) -> Value {
    json!({"kind": "storageClass", "name": name, "spec": {"provisioner": "local"}})
}

/// A body for a namespaced kind's path segment.
fn object(segment: &str, ns: &str, name: &str) -> Value {
    let (kind, spec) = match segment {
        "secrets" => ("secret", json!({"data": {"a": "1"}})),
        "configmaps" => ("configmap", json!({"data": {"a": "1"}})),
        "services" => ("service", json!({"image": "nginx", "scale": 1})),
        "volumes" => ("volume", json!({"storageClassName": "fast", "size": "1Gi"})),
        other => panic!("no body for {other}"),
    };
    json!({"kind": kind, "namespace": ns, "name": name, "spec": spec})
}

/// The stored names of namespaced objects that exist in `other` (by path segment).
const EXISTING: [(&str, &str); 4] = [
    ("secrets", "db"),
    ("configmaps", "app"),
    ("services", "web"),
    ("volumes", "vol"),
];

/// runed with namespaces `team` and `other`, objects of every kind in `other`, a storage class,
/// and an all-powerful token as the default bearer.
fn populated(setup: &Setup) -> Server {
    let mut server = setup.start();
    server.authenticate(&setup.data());
    for ns in ["team", "other"] {
        server.post("/v1/namespaces", &namespace(ns)).expect(201);
    }
    server
        .post("/v1/storageclasses", &storage_class("fast"))
        .expect(201);
    for (segment, name) in EXISTING {
        server
            .post(
                &format!("/v1/namespaces/other/{segment}"),
                &object(segment, "other", name),
            )
            .expect(201);
    }
    server
        .post(
            "/v1/namespaces/other/services",
            &process_service("other", "job"),
        )
        .expect(201);
    server
}

/// What a refusal says, with the probed name made neutral: an answer about an existing object
/// and one about a missing object must be the same.
fn refusal(reply: &crate::util::Reply, name: &str) -> (u16, String) {
    let body = reply.json();
    let text = format!("{} {}", body["code"], body["message"]).replace(name, "NAME");
    (reply.status, text)
}

/// Every route of `schemas/openapi.json`, called by a `team`-only `read,cast` token against
/// `other`'s objects (and against names that exist nowhere): 403 or a listing without them,
/// never an answer that differs between an existing and a missing object. A route the table
/// below does not know fails the test, so a new route must be classified here.
#[test]
fn a_scoped_token_reaches_nothing_of_another_namespace_through_any_route() {
    let setup = Setup::new();
    let server = populated(&setup);
    let team = create_token_with(&setup.data(), "team", &["team"], "read,cast");
    let spec: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("schemas/openapi.json")).expect("the OpenAPI file"),
    )
    .expect("JSON");
    let call = |method: &str, path: &str, body: Option<&Value>| {
        let method: &'static str = match method {
            "get" => "GET",
            "post" => "POST",
            "put" => "PUT",
            "delete" => "DELETE",
            other => panic!("method {other}"),
        };
        let request = server.request(method, path).bearer(&team);
        match body {
            Some(body) => request.json(body).send(),
            None => request.send(),
        }
    };
    // The description has one path per kind (`/v1/namespaces/{ns}/secrets`, …); each family is
    // checked once, for every kind, under its `{kind}` template.
    let mut routes = std::collections::BTreeSet::new();
    for (template, methods) in spec["paths"].as_object().expect("paths") {
        for method in methods.as_object().unwrap().keys() {
            if method != "parameters" {
                routes.insert((kind_template(template), method.clone()));
            }
        }
    }
    for (template, method) in &routes {
        check_route(template, method, &call);
    }
    assert!(routes.len() >= 15, "only {} routes", routes.len());
    // Nothing of `other` reached the log as a success for this token either.
    assert!(
        !server.log().contains("/v1/namespaces/other/secrets/db 200"),
        "{}",
        server.log()
    );
}

/// `/v1/namespaces/{ns}/secrets/{name}` → `/v1/namespaces/{ns}/{kind}/{name}`, and
/// `/v1/storageclasses` → `/v1/{kind}`: the per-kind paths of the description as the families
/// this test knows. A path of another shape stays as it is (and fails unless classified).
fn kind_template(template: &str) -> String {
    const NAMESPACED: [&str; 4] = ["configmaps", "secrets", "services", "volumes"];
    let parts: Vec<&str> = template.split('/').collect();
    let generic: Vec<&str> = match parts.as_slice() {
        ["", "v1", "namespaces", "{ns}", kind, rest @ ..]
            if NAMESPACED.contains(kind) && rest.len() <= 1 =>
        {
            ["", "v1", "namespaces", "{ns}", "{kind}"]
                .into_iter()
                .chain(rest.iter().copied())
                .collect()
        }
        ["", "v1", "storageclasses", rest @ ..] => ["", "v1", "{kind}"]
            .into_iter()
            .chain(rest.iter().copied())
            .collect(),
        _ => parts,
    };
    generic.join("/")
}

/// The routes of issue #15, if `template` is one: history and rollback answer for `other`'s
/// objects exactly as for missing ones (403); admin routes refuse a `read,cast` token before
/// anything is read.
fn check_ops_route(
    template: &str,
    method: &str,
    call: &dyn Fn(&str, &str, Option<&Value>) -> crate::util::Reply,
) -> bool {
    match (template, method) {
        ("/v1/history/{ns}/secrets/{name}" | "/v1/history/{ns}/configmaps/{name}", "get")
        | ("/v1/rollback/{ns}/secrets/{name}" | "/v1/rollback/{ns}/configmaps/{name}", "post") => {
            let kind = if template.contains("secrets") {
                "secrets"
            } else {
                "configmaps"
            };
            let name = EXISTING.iter().find(|(s, _)| *s == kind).unwrap().1;
            let verb = if method == "get" {
                "history"
            } else {
                "rollback"
            };
            let body = (method == "post").then(|| json!({"toVersion": 1}));
            let existing = call(
                method,
                &format!("/v1/{verb}/other/{kind}/{name}"),
                body.as_ref(),
            );
            let missing = call(
                method,
                &format!("/v1/{verb}/other/{kind}/nope"),
                body.as_ref(),
            );
            assert_eq!(
                existing.status,
                403,
                "{method} {template}: {:?}",
                existing.json()
            );
            assert_eq!(refusal(&existing, name), refusal(&missing, "nope"));
            true
        }
        ("/v1/admin/kek" | "/v1/audit" | "/v1/admin/seal-identity", "get")
        | ("/v1/admin/kek/rewrap" | "/v1/admin/seal-identity/rotate" | "/v1/reseal", "post") => {
            let body = match (template, method) {
                ("/v1/reseal", _) => Some(json!({"recipients": [], "values": []})),
                (_, "post") => Some(json!({})),
                _ => None,
            };
            let reply = call(method, template, body.as_ref());
            assert_eq!(reply.status, 403, "{method} {template}: {:?}", reply.json());
            assert!(
                reply.json()["message"]
                    .as_str()
                    .unwrap()
                    .contains("`admin`")
            );
            true
        }
        _ => false,
    }
}

/// One route: the expectation for its template and method.
fn check_route(
    template: &str,
    method: &str,
    call: &dyn Fn(&str, &str, Option<&Value>) -> crate::util::Reply,
) {
    let same_for_existing_and_missing =
        |existing: &str,
         missing: &str,
         name: &str,
         body: Option<&Value>,
         body_missing: Option<&Value>| {
            let a = call(method, existing, body);
            let b = call(method, missing, body_missing);
            assert_eq!(a.status, 403, "{method} {existing}: {:?}", a.json());
            assert_eq!(
                refusal(&a, name),
                refusal(&b, "nope"),
                "{method} {existing} and {missing} answer differently"
            );
        };
    if check_ops_route(template, method, call) {
        return;
    }
    match (template, method) {
        ("/healthz", "get") => assert_eq!(call(method, template, None).status, 200),
        ("/v1/namespaces", "get") => {
            let listed = call(method, template, None).expect(200);
            let names: Vec<&Value> = listed["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| &n["name"])
                .collect();
            assert_eq!(names, [&json!("team")], "{listed}");
        }
        ("/v1/namespaces", "post") => {
            let a = call(method, template, Some(&namespace("other")));
            let b = call(method, template, Some(&namespace("nope")));
            assert_eq!(a.status, 403);
            assert_eq!(refusal(&a, "other"), refusal(&b, "nope"));
        }
        ("/v1/plan" | "/v1/apply", "post") => {
            let body = |name| json!({"objects": [secret("other", name)]});
            same_for_existing_and_missing(
                template,
                template,
                "db",
                Some(&body("db")),
                Some(&body("nope")),
            );
        }
        ("/v1/{kind}", "get") => {
            // Cluster-scoped objects are readable by every token; no namespace is listed here.
            let listed = call(method, "/v1/storageclasses", None).expect(200);
            assert!(!listed.to_string().contains("\"other\""), "{listed}");
        }
        ("/v1/{kind}", "post") => {
            let a = call(method, "/v1/storageclasses", Some(&storage_class("fast")));
            let b = call(method, "/v1/storageclasses", Some(&storage_class("nope")));
            assert_eq!(a.status, 403);
            assert_eq!(refusal(&a, "fast"), refusal(&b, "nope"));
        }
        ("/v1/{kind}/{name}", "get") => {
            call(method, "/v1/storageclasses/fast", None).expect(200);
        }
        ("/v1/{kind}/{name}", "put" | "delete") => {
            let body = (method == "put").then(|| storage_class("fast"));
            let body_missing = (method == "put").then(|| storage_class("nope"));
            same_for_existing_and_missing(
                "/v1/storageclasses/fast",
                "/v1/storageclasses/nope",
                "fast",
                body.as_ref(),
                body_missing.as_ref(),
            );
        }
        ("/v1/status", "get") => {
            let status = call(method, "/v1/status", None).expect(200);
            assert!(!status.to_string().contains("\"other\""), "{status}");
            let scoped = call(method, "/v1/status?namespace=other", None);
            let missing = call(method, "/v1/status?namespace=nope", None);
            assert_eq!(scoped.status, 403);
            assert_eq!(refusal(&scoped, "other"), refusal(&missing, "nope"));
        }
        ("/v1/seal-recipient", "get") => {
            call(method, template, None).expect(200);
        }
        (template, method) => check_namespaced_route(template, method, call),
    }
}

/// The routes under `/v1/namespaces/{ns}`, called for `other` (and for a namespace and names that
/// exist nowhere): always the same 403.
fn check_namespaced_route(
    template: &str,
    method: &str,
    call: &dyn Fn(&str, &str, Option<&Value>) -> crate::util::Reply,
) {
    let same_for_existing_and_missing =
        |existing: &str,
         missing: &str,
         name: &str,
         body: Option<&Value>,
         body_missing: Option<&Value>| {
            let a = call(method, existing, body);
            let b = call(method, missing, body_missing);
            assert_eq!(a.status, 403, "{method} {existing}: {:?}", a.json());
            assert_eq!(
                refusal(&a, name),
                refusal(&b, "nope"),
                "{method} {existing} and {missing} answer differently"
            );
        };
    match (template, method) {
        ("/v1/namespaces/{ns}", "get" | "delete") => same_for_existing_and_missing(
            "/v1/namespaces/other",
            "/v1/namespaces/nope",
            "other",
            None,
            None,
        ),
        ("/v1/namespaces/{ns}/{kind}", "get") => {
            for (segment, _) in EXISTING {
                same_for_existing_and_missing(
                    &format!("/v1/namespaces/other/{segment}"),
                    &format!("/v1/namespaces/nope/{segment}"),
                    "other",
                    None,
                    None,
                );
            }
        }
        ("/v1/namespaces/{ns}/{kind}", "post") => {
            for (segment, name) in EXISTING {
                let path = format!("/v1/namespaces/other/{segment}");
                same_for_existing_and_missing(
                    &path,
                    &path,
                    name,
                    Some(&object(segment, "other", name)),
                    Some(&object(segment, "other", "nope")),
                );
            }
        }
        ("/v1/namespaces/{ns}/{kind}/{name}", "get" | "put" | "delete") => {
            for (segment, name) in EXISTING {
                let body = (method == "put").then(|| object(segment, "other", name));
                let body_missing = (method == "put").then(|| object(segment, "other", "nope"));
                same_for_existing_and_missing(
                    &format!("/v1/namespaces/other/{segment}/{name}"),
                    &format!("/v1/namespaces/other/{segment}/nope"),
                    name,
                    body.as_ref(),
                    body_missing.as_ref(),
                );
            }
        }
        ("/v1/namespaces/{ns}/services/{name}/restart", "post")
        | ("/v1/namespaces/{ns}/services/{name}/logs", "get") => {
            let suffix = template.rsplit('/').next().unwrap();
            let suffix = if suffix == "restart" {
                "restart?wait=false"
            } else {
                suffix
            };
            same_for_existing_and_missing(
                &format!("/v1/namespaces/other/services/job/{suffix}"),
                &format!("/v1/namespaces/other/services/nope/{suffix}"),
                "job",
                Some(&json!({})).filter(|_| method == "post"),
                Some(&json!({})).filter(|_| method == "post"),
            );
        }
        (template, method) => {
            panic!("{method} {template} is in schemas/openapi.json but not classified by this test")
        }
    }
}

/// Every field of a batch: plan objects, a plan's prune candidates, apply objects, deletions
/// and `expected` revisions. A `team` token never sees or touches `other`, and a refusal is the
/// same whether the object exists or not.
#[test]
fn a_scoped_token_reaches_nothing_of_another_namespace_through_batch_fields() {
    let setup = Setup::new();
    let server = populated(&setup);
    // Both namespaces hold objects cast from the source set `repo`.
    let from_repo = |ns: &str, name: &str| {
        let mut object = secret(ns, name);
        object["provenance"] = json!({"sourceSet": "repo"});
        object
    };
    server
        .post(
            "/v1/apply",
            &json!({"objects": [from_repo("team", "old"), from_repo("other", "gone")]}),
        )
        .expect(200);
    let team = create_token_with(&setup.data(), "team", &["team"], "read,cast");
    let as_team =
        |path: &str, body: &Value| server.request("POST", path).bearer(&team).json(body).send();

    // Prune: the admin's plan would delete both; the team's plan shows only its own.
    let prune =
        json!({"objects": [from_repo("team", "keep")], "options": {"pruneSourceSet": "repo"}});
    let everything = server.post("/v1/plan", &prune).expect(200);
    assert!(everything.to_string().contains("\"gone\""), "{everything}");
    let plan = as_team("/v1/plan", &prune).expect(200);
    let deletes: Vec<String> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] == "delete")
        .map(|c| {
            format!(
                "{}/{}",
                c["namespace"].as_str().unwrap_or(""),
                c["name"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(deletes, ["team/old"], "{plan}");
    assert!(!plan.to_string().contains("other"), "{plan}");

    // Plan objects, apply objects, deletions and expected revisions in `other`.
    let key = |name: &str| json!({"kind": "secret", "namespace": "other", "name": name});
    let expected = move |name: &str| {
        let mut e = key(name);
        e["revision"] = json!(1);
        e
    };
    let probes: [(&str, Probe); 4] = [
        (
            "/v1/plan",
            Box::new(|n: &str| json!({"objects": [secret("other", n)]})),
        ),
        (
            "/v1/apply",
            Box::new(|n: &str| json!({"objects": [secret("other", n)]})),
        ),
        (
            "/v1/apply",
            Box::new(move |n: &str| json!({"objects": [], "delete": [key(n)]})),
        ),
        (
            "/v1/apply",
            Box::new(
                move |n: &str| json!({"objects": [secret("team", "x")], "expected": [expected(n)]}),
            ),
        ),
    ];
    for (path, body) in &probes {
        let existing = as_team(path, &body("db"));
        let missing = as_team(path, &body("nope"));
        assert_eq!(existing.status, 403, "{path} {:?}", existing.json());
        assert_eq!(
            refusal(&existing, "db"),
            refusal(&missing, "nope"),
            "{path}"
        );
        assert!(
            existing.json()["message"]
                .as_str()
                .unwrap()
                .contains("namespace `other`"),
            "{:?}",
            existing.json()
        );
    }
    // Nothing was written by any of them.
    server.get("/v1/namespaces/other/secrets/db").expect(200);
    server
        .get("/v1/namespaces/team/secrets/x")
        .error(404, "not_found");
}

/// A request body made for an object name.
type Probe = Box<dyn Fn(&str) -> Value>;

/// `rune cast` of a runefile as `token`, in `ws`; the whole output.
fn cast(ws: &Workspace, server: &Server, token: &str, file: &str) -> std::process::Output {
    let mut command = ws.rune();
    command.args(["cast", file, "--server", &server.url(""), "--token", token]);
    command.output().expect("run rune")
}

const PROCESS_RUNEFILE: &str = "service:\n  name: web\n  namespace: team\n  scale: 1\n  process:\n    command: /bin/sleep\n    args: [\"600\"]\n";

fn post(server: &Server, token: &str, path: &str, body: &Value) -> crate::util::Reply {
    server.request("POST", path).bearer(token).json(body).send()
}

/// Asserts a 403 whose message contains `what` (the permission missing).
#[track_caller]
fn says(reply: &crate::util::Reply, what: &str) {
    reply.error(403, "forbidden");
    let message = reply.json()["message"].as_str().unwrap().to_owned();
    assert!(message.contains(what), "{message}");
}

/// `read` reads and plans but cannot write (naming `cast`); storage classes need `admin` (`run`
/// does not stand in for it); `token list` shows each token's permissions, `read,cast` by
/// default.
#[test]
fn read_cast_and_admin_gate_their_operations() {
    let setup = Setup::new();
    let server = populated(&setup);
    let data = setup.data();
    let reader = create_token_with(&data, "reader", &["team"], "read");
    create_token_with(&data, "caster", &["team"], "read,cast");
    let unscoped = create_token_with(&data, "unscoped", &[], "read,cast,run");
    let admin = create_token_with(&data, "admin", &[], "read,cast,admin");
    let post = |token: &str, path: &str, body: &Value| post(&server, token, path, body);
    let says = |reply: crate::util::Reply, what: &str| says(&reply, what);
    server
        .request("GET", "/v1/namespaces/team/secrets")
        .bearer(&reader)
        .send()
        .expect(200);
    says(
        post(
            &reader,
            "/v1/apply",
            &json!({"objects": [secret("team", "a")]}),
        ),
        "`cast`",
    );
    says(
        post(&reader, "/v1/namespaces/team/secrets", &secret("team", "a")),
        "`cast`",
    );
    server
        .request("POST", "/v1/plan")
        .bearer(&reader)
        .json(&json!({"objects": [secret("team", "a")]}))
        .send()
        .expect(200);

    // Storage classes need `admin`; `run` does not stand in for it.
    says(
        post(&unscoped, "/v1/storageclasses", &storage_class("slow")),
        "`admin`",
    );
    post(&admin, "/v1/storageclasses", &storage_class("slow")).expect(201);

    let listed = runed_once(&data, &["token", "list"]);
    let listed = String::from_utf8_lossy(&listed.stdout);
    let line = |name: &str| {
        listed
            .lines()
            .find(|l| l.starts_with(&format!("{name}\t")))
            .unwrap_or_else(|| panic!("no {name} in {listed}"))
            .to_owned()
    };
    assert!(line("reader").contains("\tread\t"), "{listed}");
    assert!(line("caster").contains("\tread,cast\t"), "{listed}");
    assert!(line("admin").contains("\tread,cast,admin\t"), "{listed}");
    let default = runed_once(&data, &["token", "create", "plain"]);
    assert!(default.status.success(), "{default:?}");
    let listed =
        String::from_utf8_lossy(&runed_once(&data, &["token", "list"]).stdout).into_owned();
    assert!(listed.contains("plain\t*\tread,cast\t"), "{listed}");
}

/// `read,cast` cannot write a `process:` service (API, apply, and `rune cast` with exit 3, all
/// naming `run`), change one into an image service, delete one, restart or read logs; a
/// `read,cast,run` token can.
#[test]
fn process_services_restart_and_logs_need_run() {
    let setup = Setup::new();
    let server = populated(&setup);
    let data = setup.data();
    let caster = create_token_with(&data, "caster", &["team"], "read,cast");
    let runner = create_token_with(&data, "runner", &["team"], "read,cast,run");
    let post = |token: &str, path: &str, body: &Value| post(&server, token, path, body);
    let says = |reply: crate::util::Reply, what: &str| says(&reply, what);
    post(&caster, "/v1/namespaces/team/secrets", &secret("team", "a")).expect(201);
    says(
        post(
            &caster,
            "/v1/namespaces/team/services",
            &process_service("team", "web"),
        ),
        "`run`",
    );
    says(
        post(
            &caster,
            "/v1/apply",
            &json!({"objects": [process_service("team", "web")]}),
        ),
        "`run`",
    );
    let ws = Workspace::new().file("svc.yaml", PROCESS_RUNEFILE);
    let refused = cast(&ws, &server, &caster, "svc.yaml");
    assert_eq!(refused.status.code(), Some(PERMISSION), "{refused:?}");
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("`run`"),
        "{refused:?}"
    );
    let done = cast(&ws, &server, &runner, "svc.yaml");
    assert_eq!(done.status.code(), Some(0), "{done:?}");

    // A `process:` service, once there, is changed or deleted only with `run`.
    let image = object("services", "team", "web");
    says(
        server
            .request("PUT", "/v1/namespaces/team/services/web")
            .bearer(&caster)
            .json(&image)
            .send(),
        "`run`",
    );
    says(
        server
            .request("DELETE", "/v1/namespaces/team/services/web")
            .bearer(&caster)
            .send(),
        "`run`",
    );
    let key = json!({"kind": "service", "namespace": "team", "name": "web"});
    says(
        post(
            &caster,
            "/v1/apply",
            &json!({"objects": [], "delete": [key]}),
        ),
        "`run`",
    );

    // Restart and logs need `run`.
    let restart = "/v1/namespaces/team/services/web/restart?wait=false";
    let logs = "/v1/namespaces/team/services/web/logs";
    says(post(&caster, restart, &json!({})), "`run`");
    says(server.request("GET", logs).bearer(&caster).send(), "`run`");
    let restarted = post(&runner, restart, &json!({}));
    assert!(
        matches!(restarted.status, 200 | 202),
        "{:?}",
        restarted.json()
    );
    server
        .request("GET", logs)
        .bearer(&runner)
        .send()
        .expect(200);
}

/// Revoking every token, deleting the token file, then deleting the marker file too and
/// restarting: anonymous requests stay 401 throughout; the log says when the state changed.
#[test]
fn revoking_every_token_or_deleting_the_token_file_never_reopens_the_server() {
    let setup = Setup::new();
    let data = setup.data();
    let mut server = setup.start();
    server.get("/v1/namespaces").expect(200);
    let token = create_token(&data, "only", &[]);
    server.get("/v1/namespaces").error(401, "unauthorized");
    assert!(
        server
            .log_with("leaving open mode for good")
            .contains("leaving open mode for good"),
        "{}",
        server.log()
    );
    server
        .request("GET", "/v1/namespaces")
        .bearer(&token)
        .send()
        .expect(200);
    let revoked = runed_once(&data, &["token", "revoke", "only"]);
    assert!(revoked.status.success(), "{revoked:?}");
    server.get("/v1/namespaces").error(401, "unauthorized");
    std::fs::remove_file(data.join("tokens.json")).expect("delete tokens.json");
    server.get("/v1/namespaces").error(401, "unauthorized");
    server
        .post(
            "/v1/namespaces/default/services",
            &process_service("default", "web"),
        )
        .error(401, "unauthorized");

    server.stop();
    let server = setup.start();
    server.get("/v1/namespaces").error(401, "unauthorized");
    assert!(
        server
            .log_with("a token was created for this store")
            .contains("a token was created for this store"),
        "{}",
        server.log()
    );
    assert!(
        !server.log().contains("WITHOUT authentication"),
        "{}",
        server.log()
    );

    // The store keeps the fact even without the marker file.
    drop(server);
    std::fs::remove_file(data.join("auth-required")).expect("delete the marker");
    let server = setup.start();
    server.get("/v1/namespaces").error(401, "unauthorized");
    assert!(
        !server.log().contains("WITHOUT authentication"),
        "{}",
        server.log()
    );
}

/// Open mode writes objects but refuses `process:` services (API and `rune cast`, exit 3), and
/// restart and logs, with a message that says why and what to do.
#[test]
fn open_mode_refuses_process_services() {
    let setup = Setup::new();
    let server = setup.start();
    server
        .post("/v1/namespaces", &namespace("team"))
        .expect(201);
    server
        .post("/v1/namespaces/team/secrets", &secret("team", "db"))
        .expect(201);
    let refused = server.post(
        "/v1/namespaces/team/services",
        &process_service("team", "web"),
    );
    refused.error(403, "forbidden");
    let refused = refused.json();
    let message = refused["message"].as_str().unwrap();
    assert!(
        message.contains("open mode") && message.contains("runed token create"),
        "{message}"
    );
    server
        .post(
            "/v1/namespaces/team/services",
            &object("services", "team", "img"),
        )
        .expect(201);
    server
        .post(
            "/v1/namespaces/team/services/img/restart?wait=false",
            &json!({}),
        )
        .error(403, "forbidden");
    server
        .get("/v1/namespaces/team/services/img/logs")
        .error(403, "forbidden");

    let ws = Workspace::new().file("svc.yaml", PROCESS_RUNEFILE);
    let output = ws
        .rune()
        .args(["cast", "svc.yaml", "--server", &server.url("")])
        .output()
        .expect("run rune");
    assert_eq!(output.status.code(), Some(PERMISSION), "{output:?}");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("open mode"),
        "{output:?}"
    );
}

/// A token file from before permissions: its tokens keep working with `read,cast,run` (a
/// `process:` service, restart), not `admin`; runed's log and `token list` say so.
#[test]
fn old_token_files_get_read_cast_run() {
    let setup = Setup::new();
    let data = setup.data();
    let token = "rune_an-old-token-from-before-permissions";
    write_old_token_file(&data, token);
    let server = setup.start();
    assert!(
        server
            .log()
            .contains("token `old` was created before tokens had permissions"),
        "{}",
        server.log()
    );
    server.get("/v1/namespaces").error(401, "unauthorized");
    let post =
        |path: &str, body: &Value| server.request("POST", path).bearer(token).json(body).send();
    post(
        "/v1/namespaces/default/services",
        &process_service("default", "web"),
    )
    .expect(201);
    let restarted = post(
        "/v1/namespaces/default/services/web/restart?wait=false",
        &json!({}),
    );
    assert!(
        matches!(restarted.status, 200 | 202),
        "{:?}",
        restarted.json()
    );
    let refused = post("/v1/storageclasses", &storage_class("fast"));
    refused.error(403, "forbidden");
    let refused = refused.json();
    assert!(
        refused["message"].as_str().unwrap().contains("`admin`"),
        "{refused}"
    );
    let listed = runed_once(&data, &["token", "list"]);
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.contains("old\t*\tread,cast,run (legacy)\t"),
        "{listed}"
    );
}

/// `tokens.json` as runed wrote it before permissions (and before expiry).
fn write_old_token_file(data: &Path, token: &str) {
    let hash = Sha256::digest(token.as_bytes())
        .iter()
        .fold(String::new(), |mut hex, b| {
            use std::fmt::Write;
            let _ = write!(hex, "{b:02x}");
            hex
        });
    std::fs::create_dir_all(data).expect("data dir");
    let file = json!({"tokens": [{"createdAt": "2026-01-01T00:00:00Z", "hash": hash, "name": "old", "namespaces": []}]});
    std::fs::write(data.join("tokens.json"), file.to_string()).expect("write tokens.json");
}
