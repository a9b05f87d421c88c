//! One set of rules on both sides (issue #12, SPEC §4.4): every object `rune lint` refuses is
//! refused by runed too, when it is sent straight to the API (no CLI in between), with the same
//! diagnostic code and the field path of the value — on the batch routes (`/v1/plan`,
//! `/v1/apply`), on the object routes (PUT), and by the embedded engine. Nothing is stored.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::runed::Setup;
use crate::util::{Server, Workspace};

/// One invalid object: the runefile lint refuses, the same object on the wire, the code both
/// sides give and the field runed names.
struct Case {
    what: &'static str,
    runefile: String,
    object: Value,
    code: &'static str,
    field: String,
}

fn service(name: &str, spec: &Value) -> Value {
    json!({"kind": "service", "namespace": "default", "name": name, "spec": spec})
}

/// 65 entries `{prefix}0: x` … as a JSON map and as YAML lines indented by four.
fn many(prefix: &str) -> (serde_json::Map<String, Value>, String) {
    let map = (0..65)
        .map(|i| (format!("{prefix}{i}"), Value::from("x")))
        .collect();
    let yaml = (0..65).fold(String::new(), |mut yaml, i| {
        let _ = writeln!(yaml, "    {prefix}{i}: x");
        yaml
    });
    (map, yaml)
}

fn cases() -> Vec<Case> {
    let mut cases = service_cases();
    cases.extend(other_cases());
    cases
}

fn service_cases() -> Vec<Case> {
    vec![
        Case {
            what: "both image and process",
            runefile: "service:\n  name: both\n  image: nginx\n  process:\n    command: /bin/true\n".into(),
            object: service("both", &json!({"image": "nginx", "process": {"command": "/bin/true"}, "scale": 1})),
            code: "E-FIELD-CONFLICT",
            field: "spec.process".into(),
        },
        Case {
            what: "neither image nor process",
            runefile: "service:\n  name: neither\n".into(),
            object: service("neither", &json!({"scale": 1})),
            code: "E-FIELD-REQUIRED",
            field: "spec.image".into(),
        },
        Case {
            what: "an env name with `=`",
            runefile: "service:\n  name: eq\n  image: nginx\n  env:\n    \"A=B\": x\n".into(),
            object: service("eq", &json!({"image": "nginx", "env": {"A=B": "x"}, "scale": 1})),
            code: "E-ENV-NAME-INVALID",
            field: "spec.env.A=B".into(),
        },
        Case {
            what: "an env name with NUL",
            runefile: "service:\n  name: nul\n  image: nginx\n  env:\n    \"A\\0B\": x\n".into(),
            object: service("nul", &json!({"image": "nginx", "env": {"A\u{0}B": "x"}, "scale": 1})),
            code: "E-ENV-NAME-INVALID",
            field: "spec.env.A\u{0}B".into(),
        },
        Case {
            what: "scale 4294967295",
            runefile: "service:\n  name: huge\n  image: nginx\n  scale: 4294967295\n".into(),
            object: service("huge", &json!({"image": "nginx", "scale": 4_294_967_295_u64})),
            code: "E-FIELD-VALUE",
            field: "spec.scale".into(),
        },
        Case {
            what: "port 0",
            runefile: "service:\n  name: port\n  image: nginx\n  ports:\n    - port: 0\n".into(),
            object: service("port", &json!({"image": "nginx", "scale": 1, "ports": [{"port": 0, "protocol": "tcp"}]})),
            code: "E-FIELD-VALUE",
            field: "spec.ports[0].port".into(),
        },
        Case {
            what: "a relative mount path",
            runefile: "service:\n  name: mount\n  image: nginx\n  secretMounts:\n    - name: db\n      secretName: db\n      mountPath: etc/db\n".into(),
            object: service("mount", &json!({"image": "nginx", "scale": 1, "secretMounts": [{"name": "db", "source": "db", "mountPath": "etc/db"}]})),
            code: "E-MOUNT-PATH-INVALID",
            field: "spec.secretMounts[0].mountPath".into(),
        },
    ]
}

fn other_cases() -> Vec<Case> {
    let (many_labels, many_labels_yaml) = many("l");
    let (many_keys, many_keys_yaml) = many("k");
    vec![
        Case {
            what: "a label key with NUL",
            runefile: "configmap:\n  name: nul-label\n  labels:\n    \"a\\0b\": x\n  data:\n    k: v\n".into(),
            object: json!({"kind": "configmap", "namespace": "default", "name": "nul-label", "labels": {"a\u{0}b": "x"}, "spec": {"data": {"k": "v"}}}),
            code: "E-LABEL-INVALID",
            field: "labels.a\u{0}b".into(),
        },
        Case {
            what: "65 labels",
            runefile: format!("configmap:\n  name: labelled\n  labels:\n{many_labels_yaml}  data:\n    k: v\n"),
            object: json!({"kind": "configmap", "namespace": "default", "name": "labelled", "labels": many_labels, "spec": {"data": {"k": "v"}}}),
            code: "E-LIMIT-LABELS",
            field: "labels".into(),
        },
        Case {
            what: "a name that is not a DNS-1123 label",
            runefile: "configmap:\n  name: My_DB\n  data:\n    k: v\n".into(),
            object: json!({"kind": "configmap", "namespace": "default", "name": "My_DB", "spec": {"data": {"k": "v"}}}),
            code: "E-NAME-DNS1123",
            field: "name".into(),
        },
        Case {
            what: "a data key with `/`",
            runefile: "configmap:\n  name: slash\n  data:\n    a/b: v\n".into(),
            object: json!({"kind": "configmap", "namespace": "default", "name": "slash", "spec": {"data": {"a/b": "v"}}}),
            code: "E-DATA-KEY-INVALID",
            field: "spec.data.a/b".into(),
        },
        Case {
            what: "65 data keys",
            runefile: format!("configmap:\n  name: wide\n  data:\n{many_keys_yaml}"),
            object: json!({"kind": "configmap", "namespace": "default", "name": "wide", "spec": {"data": many_keys}}),
            code: "E-LIMIT-KEYS",
            field: "spec.data".into(),
        },
        Case {
            what: "a volume size that is not a size",
            runefile: "volume:\n  name: disk\n  storageClassName: fast\n  size: ten\n".into(),
            object: json!({"kind": "volume", "namespace": "default", "name": "disk", "spec": {"storageClassName": "fast", "size": "ten"}}),
            code: "E-FIELD-VALUE",
            field: "spec.size".into(),
        },
        Case {
            what: "a malformed secret reference",
            runefile: "storageClass:\n  name: fast\n  provisioner: local\n  parameters:\n    password: secret:db\n".into(),
            object: json!({"kind": "storageClass", "name": "fast", "spec": {"provisioner": "local", "parameters": {"password": "secret:db"}}}),
            code: "E-REF-SYNTAX",
            field: "spec.parameters.password".into(),
        },
    ]
}

/// The route of one object, for PUT and GET.
fn route(object: &Value) -> String {
    let kind = object["kind"].as_str().unwrap().to_ascii_lowercase();
    let name = object["name"].as_str().unwrap();
    match object["namespace"].as_str() {
        Some(ns) => format!("/v1/namespaces/{ns}/{kind}s/{name}"),
        None => format!("/v1/{kind}es/{name}"),
    }
}

/// The violations of a refusal, which must be a 400 `invalid` or 413 `limit_exceeded`.
#[track_caller]
fn violations(status: u16, body: &Value, what: &str) -> Vec<Value> {
    let expected = match body["code"].as_str() {
        Some("invalid") => 400,
        Some("limit_exceeded") => 413,
        other => panic!("{what}: not a validation refusal ({other:?}): {body}"),
    };
    assert_eq!(status, expected, "{what}: {body}");
    body["details"]["violations"]
        .as_array()
        .unwrap_or_else(|| panic!("{what}: no violations: {body}"))
        .clone()
}

#[track_caller]
fn assert_has(violations: &[Value], code: &str, field: &str, what: &str) {
    assert!(
        violations
            .iter()
            .any(|v| v["code"] == code && v["field"] == field),
        "{what}: no violation {code} at `{field}`: {violations:?}"
    );
    for v in violations {
        assert!(
            v["code"]
                .as_str()
                .is_some_and(|c| c.starts_with("E-") || c.starts_with("W-")),
            "{what}: a violation without a code: {v}"
        );
        assert!(
            v["field"].is_string(),
            "{what}: a violation without a field: {v}"
        );
    }
}

#[test]
fn runed_refuses_what_lint_refuses_with_the_same_code_and_field() {
    let setup = Setup::new();
    let mut server: Server = setup.start();
    server.authenticate(&setup.data());
    for case in cases() {
        let what = case.what;
        // The CLI side: lint refuses the runefile with the code.
        let ws = Workspace::new().file("rune.yaml", &case.runefile);
        let out = ws
            .rune()
            .args(["lint", "rune.yaml"])
            .output()
            .expect("run rune");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(6), "{what}: lint\n{text}");
        assert!(text.contains(case.code), "{what}: lint says\n{text}");

        // The API side, every route that takes the object.
        for (method, path, body) in [
            (
                "POST",
                "/v1/plan".to_owned(),
                json!({"objects": [case.object]}),
            ),
            (
                "POST",
                "/v1/apply".to_owned(),
                json!({"objects": [case.object]}),
            ),
            ("PUT", route(&case.object), case.object.clone()),
        ] {
            let reply = server.request(method, &path).json(&body).send();
            let found = violations(
                reply.status,
                &reply.json(),
                &format!("{what}: {method} {path}"),
            );
            assert_has(
                &found,
                case.code,
                &case.field,
                &format!("{what}: {method} {path}"),
            );
        }
        server.get(&route(&case.object)).expect(404);
    }
}

#[test]
fn the_same_object_twice_in_one_batch_is_refused() {
    let runefile = "configmap:\n  name: twice\n  data:\n    k: v\n---\nconfigmap:\n  name: twice\n  data:\n    k: w\n";
    let ws = Workspace::new().file("rune.yaml", runefile);
    let out = ws
        .rune()
        .args(["lint", "rune.yaml"])
        .output()
        .expect("run rune");
    assert_eq!(out.status.code(), Some(6));
    assert!(String::from_utf8_lossy(&out.stdout).contains("E-RESOURCE-DUPLICATE"));

    let setup = Setup::new();
    let server = setup.start();
    let object = json!({"kind": "configmap", "namespace": "default", "name": "twice", "spec": {"data": {"k": "v"}}});
    let other = json!({"kind": "configmap", "namespace": "default", "name": "twice", "spec": {"data": {"k": "w"}}});
    for route in ["/v1/plan", "/v1/apply"] {
        let reply = server.post(route, &json!({"objects": [object, other]}));
        let found = violations(reply.status, &reply.json(), route);
        assert_has(&found, "E-RESOURCE-DUPLICATE", "name", route);
    }
    server
        .get("/v1/namespaces/default/configmaps/twice")
        .expect(404);
}

/// JSON lets an object name a key twice and serde would keep the last; lint refuses the same map
/// in a runefile (`E-DATA-KEY-DUPLICATE`), so runed refuses the body.
#[test]
fn a_data_key_twice_in_one_body_is_refused() {
    let ws = Workspace::new().file(
        "rune.yaml",
        "configmap:\n  name: twice\n  data:\n    k: v\n    k: w\n",
    );
    let out = ws
        .rune()
        .args(["lint", "rune.yaml"])
        .output()
        .expect("run rune");
    assert_eq!(out.status.code(), Some(6));
    assert!(String::from_utf8_lossy(&out.stdout).contains("E-DATA-KEY-DUPLICATE"));

    let setup = Setup::new();
    let server = setup.start();
    let object = r#"{"kind": "configmap", "namespace": "default", "name": "twice", "spec": {"data": {"k": "v", "k": "w"}}}"#;
    for (method, route, body) in [
        ("POST", "/v1/plan", format!(r#"{{"objects": [{object}]}}"#)),
        ("POST", "/v1/apply", format!(r#"{{"objects": [{object}]}}"#)),
        (
            "PUT",
            "/v1/namespaces/default/configmaps/twice",
            object.to_owned(),
        ),
    ] {
        let reply = server.request(method, route).raw(&body).send();
        assert_eq!(reply.status, 400, "{method} {route}: {:?}", reply.json());
        assert!(
            reply.json()["message"]
                .as_str()
                .unwrap_or_default()
                .contains("`k` appears twice"),
            "{method} {route}: {:?}",
            reply.json()
        );
    }
    server
        .get("/v1/namespaces/default/configmaps/twice")
        .expect(404);
}

#[test]
fn the_embedded_engine_refuses_the_same_way() {
    use rune::client::{Backend, ClientError};
    use rune::local::Local;
    use rune::wire::batch::ApplyRequest;

    let dir = tempfile::tempdir().expect("a temporary directory");
    let local = Local::open(dir.path().join("data")).expect("open the embedded engine");
    for case in cases() {
        let request: ApplyRequest =
            serde_json::from_value(json!({"objects": [case.object]})).expect("a request");
        match local.apply(&request) {
            Err(ClientError::Api(error)) => {
                let found: Vec<Value> = error
                    .violations()
                    .iter()
                    .map(|v| serde_json::to_value(v).expect("json"))
                    .collect();
                assert_has(&found, case.code, &case.field, case.what);
            }
            other => panic!("{}: not refused: {other:?}", case.what),
        }
    }
    let twice: ApplyRequest = serde_json::from_value(json!({"objects": [
        {"kind": "configmap", "namespace": "default", "name": "twice", "spec": {"data": {"k": "v"}}},
        {"kind": "configmap", "namespace": "default", "name": "twice", "spec": {"data": {"k": "v"}}},
    ]}))
    .expect("a request");
    match local.apply(&twice) {
        Err(ClientError::Api(error)) => assert!(
            error
                .violations()
                .iter()
                .any(|v| v.code.as_deref() == Some("E-RESOURCE-DUPLICATE")),
            "{error:?}"
        ),
        other => panic!("duplicates not refused: {other:?}"),
    }
    let listed = local
        .list(rune::resource::Kind::ConfigMap, None)
        .expect("list");
    assert!(listed.is_empty(), "something was stored: {listed:?}");
}
