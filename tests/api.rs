//! runed's request bodies are closed: an unknown property anywhere — at the top, in the batch
//! options, in a spec, in a nested mount, in an expectation — is a 400 that names the field's
//! path, never its value; a body of another kind than its route is a 400 too (issue #17).

use serde_json::{Value, json};

use crate::runed::Setup;
use crate::util::Server;

/// A value no answer may contain.
const MARK: &str = "PlainTextMarker-api-7Qz";

fn started() -> (Setup, Server) {
    let setup = Setup::new();
    let server = setup.start();
    server
        .post(
            "/v1/namespaces",
            &json!({"kind": "namespace", "name": "team"}),
        )
        .expect(201);
    (setup, server)
}

/// Asserts a 400 whose `details.path` is `path`, named in the message, with no value echoed.
#[track_caller]
fn refused_at(server: &Server, method: &'static str, route: &str, body: &Value, path: &str) {
    let reply = server.request(method, route).json(body).send();
    let details = reply.error(400, "invalid");
    assert_eq!(details["path"], path, "{method} {route}: {}", reply.text);
    let message = reply.json()["message"].as_str().unwrap().to_owned();
    assert!(message.contains(path), "{message}");
    assert!(
        !reply.text.contains(MARK),
        "a value was echoed: {}",
        reply.text
    );
}

fn service(spec: &Value) -> Value {
    json!({"kind": "service", "name": "web", "spec": spec})
}

#[test]
fn unknown_properties_are_refused_with_their_path() {
    let (_setup, server) = started();
    let secrets = "/v1/namespaces/team/secrets";
    let top =
        json!({"kind": "secret", "name": "db", "spec": {"data": {"pw": MARK}}, "extra": MARK});
    refused_at(&server, "POST", secrets, &top, "extra");
    let spec = json!({"kind": "secret", "name": "db", "spec": {"data": {"pw": MARK}, "dta": {}}});
    refused_at(&server, "POST", secrets, &spec, "spec.dta");

    let mount = json!({"name": "m", "source": "db", "mountPath": "/run/db", "readOnly": MARK});
    let nested = service(&json!({"scale": 1, "secretMounts": [mount]}));
    let services = "/v1/namespaces/team/services";
    refused_at(
        &server,
        "POST",
        services,
        &nested,
        "spec.secretMounts[0].readOnly",
    );
    let port = service(&json!({"scale": 1, "ports": [{"port": 80, "protocol": "TCP", "x": 1}]}));
    refused_at(&server, "POST", services, &port, "spec.ports[0].x");
    let volume = json!({"kind": "volume", "name": "v",
        "spec": {"size": "1Gi", "storageClassName": "fast", "sise": "2Gi"}});
    refused_at(
        &server,
        "POST",
        "/v1/namespaces/team/volumes",
        &volume,
        "spec.sise",
    );
    let class = json!({"kind": "storageClass", "name": "fast",
        "spec": {"provisioner": "local", "reclaim": "keep"}});
    refused_at(
        &server,
        "POST",
        "/v1/storageclasses",
        &class,
        "spec.reclaim",
    );
    let ns = json!({"kind": "namespace", "name": "other", "spec": {"descr": "x"}});
    refused_at(&server, "POST", "/v1/namespaces", &ns, "spec.descr");
    let provenance = json!({"kind": "namespace", "name": "other", "provenance": {"author": MARK}});
    refused_at(
        &server,
        "POST",
        "/v1/namespaces",
        &provenance,
        "provenance.author",
    );

    // Batches: options, objects deep down, expectations and deletions.
    let options = json!({"objects": [], "options": {"createNamespace": true}});
    refused_at(
        &server,
        "POST",
        "/v1/plan",
        &options,
        "options.createNamespace",
    );
    refused_at(
        &server,
        "POST",
        "/v1/apply",
        &options,
        "options.createNamespace",
    );
    let mut deep = service(&json!({"scale": 1, "process": {"command": "/bin/true", "cwd": "/"}}));
    deep["namespace"] = json!("team");
    let batch = json!({"objects": [{"kind": "namespace", "name": "team"}, deep]});
    refused_at(
        &server,
        "POST",
        "/v1/plan",
        &batch,
        "objects[1].spec.process.cwd",
    );
    let expectation = json!({"objects": [], "expected": [
        {"kind": "secret", "namespace": "team", "name": "db", "revision": null, "rev": 1}]});
    refused_at(
        &server,
        "POST",
        "/v1/apply",
        &expectation,
        "expected[0].rev",
    );
    let deletion = json!({"objects": [], "delete": [
        {"kind": "secret", "namespace": "team", "name": "db", "force": true}]});
    refused_at(&server, "POST", "/v1/apply", &deletion, "delete[0].force");
    refused_at(
        &server,
        "POST",
        "/v1/apply",
        &json!({"objects": [], "oops": 1}),
        "oops",
    );

    // Required fields are named by the object that lacks them.
    let unscaled = service(&json!({"process": {"command": "/bin/true"}}));
    refused_at(&server, "POST", services, &unscaled, "spec");
    let revisionless = json!({"objects": [], "expected": [
        {"kind": "secret", "namespace": "team", "name": "db"}]});
    refused_at(&server, "POST", "/v1/apply", &revisionless, "expected[0]");

    // Nothing of it was stored.
    let listed = server.get("/v1/namespaces/team/secrets").expect(200);
    assert_eq!(listed["items"], json!([]));
    server.get("/v1/namespaces/other").error(404, "not_found");
}

#[test]
fn a_body_of_another_kind_than_its_route_is_refused() {
    let (_setup, server) = started();
    let secret = json!({"kind": "secret", "name": "x", "spec": {"data": {"pw": MARK}}});
    for route in [
        "/v1/namespaces/team/volumes",
        "/v1/namespaces/team/configmaps",
        "/v1/storageclasses",
        "/v1/namespaces",
    ] {
        let reply = server.post(route, &secret);
        reply.error(400, "invalid");
        assert!(!reply.text.contains(MARK), "{}", reply.text);
    }
    server
        .put("/v1/namespaces/team/volumes/x", &secret)
        .error(400, "invalid");
    server
        .put("/v1/storageclasses/x", &secret)
        .error(400, "invalid");
    let listed = server.get("/v1/namespaces/team/secrets").expect(200);
    assert_eq!(listed["items"], json!([]));
}

/// A PUT takes the name from its path; a body may repeat it, but only as the path has it.
#[test]
fn a_put_takes_its_name_from_the_path() {
    let (_setup, server) = started();
    let app = json!({"kind": "configmap", "name": "app", "spec": {"data": {"mode": "fast"}}});
    server
        .post("/v1/namespaces/team/configmaps", &app)
        .expect(201);
    let nameless = json!({"kind": "configmap", "spec": {"data": {"mode": "slow"}}});
    let updated = server
        .put("/v1/namespaces/team/configmaps/app", &nameless)
        .expect(200);
    assert_eq!(updated["name"], "app");
    assert_eq!(updated["data"]["mode"], "slow");
    server
        .put("/v1/namespaces/team/configmaps/other", &app)
        .error(400, "invalid");
}

/// A well-formed write that needs what the store lacks is a 409 `unresolved` with the engine's
/// violations, not a 400: the request is fine, the namespace or the secret is missing.
#[test]
fn missing_prerequisites_are_conflicts() {
    let (_setup, server) = started();
    let secret = json!({"kind": "secret", "name": "db", "spec": {"data": {"pw": MARK}}});
    let details = server
        .post("/v1/namespaces/nowhere/secrets", &secret)
        .error(409, "unresolved");
    let message = details["violations"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("namespace `nowhere` does not exist"),
        "{message}"
    );
    let web = service(&json!({"image": "nginx", "scale": 1, "envFrom": [{"secretRef": "db"}]}));
    let details = server
        .post("/v1/namespaces/team/services", &web)
        .error(409, "unresolved");
    let message = details["violations"][0]["message"].as_str().unwrap();
    assert!(message.contains("secret `team/db`"), "{message}");
    let mut in_batch = web.clone();
    in_batch["namespace"] = json!("team");
    server
        .post("/v1/plan", &json!({"objects": [in_batch]}))
        .error(409, "unresolved");
    // With the secret in the same batch, nothing is missing.
    let mut db = secret.clone();
    db["namespace"] = json!("team");
    server
        .post("/v1/plan", &json!({"objects": [in_batch, db]}))
        .expect(200);
    // A path name that no object can have: reads are 404s, writes 400s (before If-Match).
    server
        .get("/v1/namespaces/Team/secrets")
        .error(404, "not_found");
    server
        .request("PUT", "/v1/namespaces/team/configmaps/Not_A_Name")
        .header("if-match", "3")
        .json(&json!({"kind": "configmap"}))
        .send()
        .error(400, "invalid");
}
