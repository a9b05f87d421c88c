//! The JSON Schemas in `schemas/`: they compile, they accept the fixtures, they list exactly the
//! fields the validator accepts, they reject what `rune lint` rejects, and the lint schema
//! describes the real `rune lint --format json` output.
//!
//! YAML is read with rune's own parser (`rune::parse`) and turned into JSON, so the schema sees
//! the same values the validator sees (YAML 1.2 core schema, plain keys as text).

use std::collections::BTreeSet;
use std::path::Path;

use rune::parse::node::{Node, Value as Yaml};
use rune::resource::Kind;
use rune::validate::document::{SERVER_SECTIONS, allowed_fields};
use rune::validate::fields::allowed;
use rune::validate::server_config::allowed as server;
use serde_json::{Map, Value};

use crate::util::{Workspace, root};

const RUNEFILE: &str = "runefile.schema.json";
const SERVER_RUNEFILE: &str = "server-runefile.schema.json";
const LINT_OUTPUT: &str = "lint-output.schema.json";
const ERROR_OUTPUT: &str = "error-output.schema.json";
const SCHEMAS: [&str; 4] = [RUNEFILE, SERVER_RUNEFILE, LINT_OUTPUT, ERROR_OUTPUT];

/// A schema file of `schemas/`, parsed.
fn schema(name: &str) -> Value {
    let path = root().join("schemas").join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"))
}

fn validator(name: &str) -> jsonschema::Validator {
    jsonschema::draft202012::new(&schema(name))
        .unwrap_or_else(|e| panic!("{name} does not compile: {e}"))
}

/// Every reason `instance` fails `validator`, one per line (empty when it is valid). The reasons
/// come from every branch of an `anyOf`, so that a resource that is neither valid nor skipped
/// shows what is wrong with it.
fn failures(validator: &jsonschema::Validator, instance: &Value) -> String {
    if validator.is_valid(instance) {
        return String::new();
    }
    validator
        .evaluate(instance)
        .iter_errors()
        .map(|e| {
            format!(
                "  at `{}`: {} (schema {})",
                e.instance_location, e.error, e.schema_location
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A YAML node as the JSON value an editor would check against the schema.
fn to_json(node: &Node) -> Value {
    match &node.value {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(*b),
        Yaml::Int(n) => i64::try_from(*n).map_or_else(
            |_| u64::try_from(*n).map_or_else(|_| float(*n as f64), Value::from),
            Value::from,
        ),
        Yaml::Float(f) => float(*f),
        Yaml::String(s) => Value::String(s.clone()),
        // An editor sees a `!!binary` scalar as its base64 text.
        Yaml::Binary(bytes) => {
            use base64::Engine as _;
            Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
        }
        Yaml::Seq(items) => Value::Array(items.iter().map(to_json).collect()),
        Yaml::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(key, value)| {
                    let key = match &key.value {
                        Yaml::String(s) => s.clone(),
                        other => format!("{other:?}"),
                    };
                    (key, to_json(value))
                })
                .collect::<Map<_, _>>(),
        ),
    }
}

fn float(f: f64) -> Value {
    serde_json::Number::from_f64(f)
        .map(Value::Number)
        .expect("test documents hold no NaN or infinity")
}

/// The documents of a runefile's text as JSON, in order; panics on a YAML syntax error.
fn documents(name: &str, text: &str) -> Vec<Value> {
    let loaded = rune::parse::load_texts([(name.to_owned(), text.to_owned())]);
    assert!(
        loaded.diagnostics.is_empty(),
        "{name} does not parse: {:?}",
        loaded.diagnostics
    );
    loaded.documents.iter().map(|d| to_json(&d.root)).collect()
}

/// Whether a document is a server runefile: its top-level keys are server sections (SPEC §2.1).
fn is_server_document(document: &Value) -> bool {
    document
        .as_object()
        .is_some_and(|map| map.keys().any(|k| SERVER_SECTIONS.contains(&k.as_str())))
}

/// How many error-level findings `rune lint`'s validator reports for one runefile text.
fn lint_errors(text: &str) -> usize {
    let loaded = rune::parse::load_texts([("sample.yaml".to_owned(), text.to_owned())]);
    rune::validate::validate(&loaded, &rune::validate::Options::default())
        .diagnostics
        .errors()
}

/// The property names of the object schema at `pointer`.
fn property_names(schema: &Value, pointer: &str) -> BTreeSet<String> {
    schema
        .pointer(pointer)
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
        .unwrap_or_else(|| panic!("no `properties` at {pointer}"))
        .keys()
        .cloned()
        .collect()
}

fn names(table: &[&str]) -> BTreeSet<String> {
    table.iter().map(|&s| s.to_owned()).collect()
}

/// Asserts that the object schema at `pointer` lists exactly `table` and is closed.
#[track_caller]
fn assert_closed_with(schema: &Value, file: &str, pointer: &str, table: &[&str]) {
    assert_eq!(
        property_names(schema, pointer),
        names(table),
        "{file}{pointer}: the schema's properties differ from the validator's table"
    );
    assert_eq!(
        schema.pointer(&format!("{pointer}/additionalProperties")),
        Some(&Value::Bool(false)),
        "{file}{pointer} must set `additionalProperties: false`"
    );
    if let Some(required) = schema
        .pointer(&format!("{pointer}/required"))
        .and_then(Value::as_array)
    {
        for field in required {
            let field = field.as_str().unwrap_or_default();
            assert!(
                table.contains(&field),
                "{file}{pointer} requires `{field}`, which it does not allow"
            );
        }
    }
}

/// Every property of every `properties` map below `value` that is a schema object carries a
/// `description`; returns the JSON pointers of those that do not.
fn undescribed(value: &Value, pointer: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let here = format!("{pointer}/{key}");
                if key == "properties"
                    && let Some(properties) = child.as_object()
                {
                    for (name, property) in properties {
                        if property.is_object() && property.get("description").is_none() {
                            out.push(format!("{here}/{name}"));
                        }
                    }
                }
                undescribed(child, &here, out);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                undescribed(item, &format!("{pointer}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// Every `$ref` below `value`, to check that none leaves the file.
fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                if key == "$ref"
                    && let Some(target) = child.as_str()
                {
                    out.push(target);
                }
                refs(child, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| refs(item, out)),
        _ => {}
    }
}

/// Each schema file is a valid draft 2020-12 schema (it passes the meta-schema and compiles),
/// references nothing outside itself, and describes every property it declares (editors show
/// the descriptions).
#[test]
fn schemas_are_valid_draft_2020_12() {
    for name in SCHEMAS {
        let schema = schema(name);
        assert_eq!(
            schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{name} must declare draft 2020-12"
        );
        if let Err(error) = jsonschema::meta::validate(&schema) {
            panic!(
                "{name} violates the draft 2020-12 meta-schema at `{}`: {error}",
                error.instance_path()
            );
        }
        validator(name);
        let mut targets = Vec::new();
        refs(&schema, &mut targets);
        let external: Vec<&str> = targets
            .into_iter()
            .filter(|t| !t.starts_with("#/"))
            .collect();
        assert!(
            external.is_empty(),
            "{name} refers outside itself: {external:?}"
        );
        let mut missing = Vec::new();
        undescribed(&schema, "", &mut missing);
        assert!(
            missing.is_empty(),
            "{name}: properties without a description: {missing:?}"
        );
    }
}

/// The quickstart and every fixture in `fixtures/valid/` validate: runefile documents against the
/// runefile schema, server runefile documents against the server schema. (Files that are not
/// UTF-8 are left to the validator's own tests.)
#[test]
fn valid_fixtures_match_the_schemas() {
    let runefile = validator(RUNEFILE);
    let server_runefile = validator(SERVER_RUNEFILE);
    let mut paths = vec![root().join("fixtures/quickstart.yaml")];
    for pattern in ["fixtures/valid/**/*.yaml", "fixtures/valid/**/*.yml"] {
        let pattern = root().join(pattern);
        let found = glob::glob(&pattern.to_string_lossy()).expect("a valid glob pattern");
        paths.extend(found.filter_map(Result::ok));
    }
    paths.sort();
    let mut problems = Vec::new();
    let mut checked = 0;
    for path in &paths {
        let Ok(bytes) = std::fs::read(path) else {
            continue;
        };
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        };
        let shown = path.strip_prefix(root()).unwrap_or(path).display();
        for (index, document) in documents(&shown.to_string(), &text).iter().enumerate() {
            let (validator, which) = if is_server_document(document) {
                (&server_runefile, SERVER_RUNEFILE)
            } else {
                (&runefile, RUNEFILE)
            };
            let found = failures(validator, document);
            if !found.is_empty() {
                problems.push(format!(
                    "{shown}, document {}, against {which}:\n{found}",
                    index + 1
                ));
            }
            checked += 1;
        }
    }
    assert!(checked >= 3, "the quickstart's documents were not checked");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The schemas and the validator agree on every field name: each kind's `$defs` entry lists
/// exactly `allowed_fields(kind)`, each sub-object lists exactly its `fields::allowed` table, the
/// top-level keys are exactly the kinds' singular and plural keys, and every section of the
/// server schema lists exactly its `server_config::allowed` table. All of them are closed.
#[test]
fn schemas_list_exactly_the_validators_fields() {
    let runefile = schema(RUNEFILE);
    let top_level: Vec<&str> = Kind::ALL
        .iter()
        .flat_map(|k| [k.singular(), k.plural()])
        .collect();
    assert_closed_with(&runefile, RUNEFILE, "", &top_level);
    for kind in Kind::ALL {
        let pointer = format!("/$defs/{}", kind.singular());
        assert_closed_with(&runefile, RUNEFILE, &pointer, allowed_fields(kind));
        assert_eq!(
            runefile.pointer(&format!("{pointer}/required/0")),
            Some(&Value::from("name")),
            "{RUNEFILE}{pointer}: `name` comes first in `required`"
        );
    }
    for (def, table) in [
        ("dataEntry", allowed::DATA_ENTRY),
        ("secretMount", allowed::SECRET_MOUNT),
        ("configMount", allowed::CONFIG_MOUNT),
        ("envFrom", allowed::ENV_FROM),
        ("port", allowed::PORT),
        ("process", allowed::PROCESS),
    ] {
        assert_closed_with(&runefile, RUNEFILE, &format!("/$defs/{def}"), table);
    }

    let server_runefile = schema(SERVER_RUNEFILE);
    assert_eq!(names(server::ROOT), names(&SERVER_SECTIONS));
    for (pointer, table) in [
        ("", server::ROOT),
        ("/properties/server", server::SERVER),
        ("/$defs/tls", server::TLS),
        ("/properties/auth", server::AUTH),
        ("/properties/crypto", server::CRYPTO),
        ("/$defs/kek", server::KEK),
        ("/$defs/previous-kek", server::PREVIOUS_KEK),
        ("/properties/storage", server::STORAGE),
        ("/$defs/secret-limits", server::SECRET_LIMITS),
        ("/$defs/configmap-limits", server::CONFIGMAP_LIMITS),
        ("/properties/runner", server::RUNNER),
    ] {
        assert_closed_with(&server_runefile, SERVER_RUNEFILE, pointer, table);
    }
}

/// Runefile documents that `rune lint` rejects, each for one reason.
const INVALID: &[(&str, &str)] = &[
    ("an unknown field", "secret:\n  name: db\n  datas: {}\n"),
    ("an unknown top-level key", "secretz:\n  - name: db\n"),
    (
        "a name that is not a DNS-1123 label",
        "configmap:\n  name: Bad_Name\n",
    ),
    (
        "a name of 64 characters",
        concat!(
            "configmap:\n  name: ",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "\n"
        ),
    ),
    (
        "a number as a data value",
        "configmap:\n  name: app\n  data:\n    port: 8080\n",
    ),
    (
        "a boolean as a listed value",
        "secret:\n  name: db\n  data:\n    - key: on\n      value: true\n",
    ),
    ("a singular key holding a list", "secret:\n  - name: db\n"),
    ("a plural key holding a mapping", "secrets:\n  name: db\n"),
    ("a missing name", "namespace:\n  description: no name\n"),
    (
        "a configmap entry with `sealed`",
        "configmap:\n  name: app\n  data:\n    - key: k\n      sealed: |\n        -----BEGIN AGE ENCRYPTED FILE-----\n        YWJj\n        -----END AGE ENCRYPTED FILE-----\n",
    ),
    (
        "a sealed value that is not age armor",
        "secret:\n  name: db\n  data:\n    - key: k\n      sealed: hunter2\n",
    ),
    (
        "a data entry with two sources",
        "secret:\n  name: db\n  data:\n    - key: k\n      value: a\n      file: Cargo.toml\n",
    ),
    (
        "a data entry with no source",
        "secret:\n  name: db\n  data:\n    - key: k\n",
    ),
    (
        "the data key `..`",
        "configmap:\n  name: app\n  data:\n    ..: x\n",
    ),
    (
        "a data key with a slash",
        "configmap:\n  name: app\n  data:\n    - key: a/b\n      value: x\n",
    ),
    (
        "a service with both image and process",
        "service:\n  name: api\n  image: nginx\n  process:\n    command: /bin/true\n",
    ),
    (
        "a service with neither image nor process",
        "service:\n  name: api\n  scale: 2\n",
    ),
    (
        "a scale out of range",
        "service:\n  name: api\n  image: nginx\n  scale: 1001\n",
    ),
    (
        "an env name that is not a variable name",
        "service:\n  name: api\n  image: nginx\n  env:\n    log-level: info\n",
    ),
    (
        "an envFrom entry with two sources",
        "service:\n  name: api\n  image: nginx\n  envFrom:\n    - secretRef: a\n      configRef: b\n",
    ),
    (
        "a relative mount path",
        "service:\n  name: api\n  image: nginx\n  secretMounts:\n    - name: s\n      secretName: db\n      mountPath: etc/db\n",
    ),
    (
        "a mount path with `..`",
        "service:\n  name: api\n  image: nginx\n  configMounts:\n    - name: c\n      configName: app\n      mountPath: /etc/../db\n",
    ),
    (
        "port 0",
        "service:\n  name: api\n  image: nginx\n  ports:\n    - port: 0\n",
    ),
    (
        "an unknown protocol",
        "service:\n  name: api\n  image: nginx\n  ports:\n    - port: 80\n      protocol: sctp\n",
    ),
    (
        "an empty command",
        "service:\n  name: api\n  process:\n    command: '  '\n",
    ),
    (
        "a volume without size",
        "volume:\n  name: data\n  storageClassName: fast\n",
    ),
    (
        "a size that is not a quantity",
        "volume:\n  name: data\n  storageClassName: fast\n  size: 10GB\n",
    ),
    (
        "a storage class without provisioner",
        "storageClass:\n  name: fast\n",
    ),
    (
        "a shorthand secret reference in a storage class",
        "storageClass:\n  name: fast\n  provisioner: p\n  parameters:\n    token: secret:db/token\n",
    ),
    (
        "a malformed secret reference",
        "volume:\n  name: data\n  storageClassName: fast\n  size: 1Gi\n  parameters:\n    token: secret:db\n",
    ),
    (
        "a non-boolean skip",
        "namespace:\n  name: team\n  skip: yes\n",
    ),
    (
        "a namespace field on a namespace",
        "namespace:\n  name: team\n  namespace: default\n",
    ),
    (
        "allowPlaintext on a configmap",
        "configmap:\n  name: app\n  allowPlaintext: true\n",
    ),
    (
        "a non-string label",
        "namespace:\n  name: team\n  labels:\n    tier: 1\n",
    ),
];

/// Each invalid document above is rejected both by `rune lint`'s validator and by the runefile
/// schema, so the editor flags what lint flags (unknown field, bad name, number as data value,
/// singular key holding a list, configmap entry with `sealed`, service with both image and
/// process, and more).
#[test]
fn schema_rejects_what_lint_rejects() {
    let runefile = validator(RUNEFILE);
    for (what, text) in INVALID {
        assert!(
            lint_errors(text) > 0,
            "rune lint accepts {what}, so the sample proves nothing:\n{text}"
        );
        for document in documents("sample.yaml", text) {
            assert!(
                !runefile.is_valid(&document),
                "the runefile schema accepts {what}:\n{text}"
            );
        }
    }
}

/// Runefile documents that `rune lint` accepts, including the less obvious forms.
const VALID: &[(&str, &str)] = &[
    (
        "the map form of data with a numeric-looking key",
        "configmap:\n  name: app\n  data:\n    8080: open\n    LOG_LEVEL: info\n",
    ),
    (
        "the list form of data with every source",
        "secret:\n  name: db\n  allowPlaintext: true\n  data:\n    - key: password\n      value: hunter2\n    - key: cert.pem\n      file: Cargo.toml\n    - key: token\n      sealed: |\n        -----BEGIN AGE ENCRYPTED FILE-----\n        YWJjZGVm\n        -----END AGE ENCRYPTED FILE-----\n",
    ),
    ("empty data", "secret:\n  name: db\n  data:\n"),
    (
        "a skipped resource with fields lint does not check",
        "secret:\n  skip: true\n  name: Not_Checked\n  whatever: 1\n",
    ),
    (
        "a list mixing kinds and a skipped item",
        "namespaces:\n  - name: team\n    description: the team\n    labels: {owner: ops}\n  - skip: true\n---\nsecrets: []\n",
    ),
    (
        "a process service with everything",
        "service:\n  name: worker\n  namespace: team\n  process:\n    command: /usr/bin/worker\n    args: [--verbose, '1']\n    workdir: /srv\n  scale: 0\n  env:\n    _X1: a\n  envFrom:\n    - configRef: app\n      prefix: APP_\n    - secretRef: db\n      prefix: ''\n  secretMounts:\n    - name: db\n      secretName: db\n      mountPath: /etc/secrets/db\n  configMounts:\n    - name: app\n      configName: app\n      mountPath: /etc/...config\n  ports:\n    - name: http\n      port: 80\n      targetPort: 8080\n      protocol: TCP\n    - port: 53\n      protocol: udp\n  labels:\n    tier: backend\n",
    ),
    (
        "storage with secret references",
        "storageClass:\n  name: fast\n  provisioner: local\n  parameters:\n    token: secret:creds.team.rune/token\n    mode: fast\n---\nvolume:\n  name: data\n  namespace: team\n  storageClassName: fast\n  size: '1.5'\n  parameters:\n    key: secret:creds/.key\n",
    ),
    ("an empty document", "~\n"),
];

/// Each valid document above is accepted both by `rune lint`'s validator and by the runefile
/// schema: the schema is not stricter than lint on map-form data, `file:`/`sealed:` entries,
/// skipped resources, empty data, processes, ports and secret references.
#[test]
fn schema_accepts_what_lint_accepts() {
    let runefile = validator(RUNEFILE);
    for (what, text) in VALID {
        assert_eq!(
            lint_errors(text),
            0,
            "rune lint rejects {what}, so the sample proves nothing:\n{text}"
        );
        for document in documents("sample.yaml", text) {
            let found = failures(&runefile, &document);
            assert!(
                found.is_empty(),
                "the runefile schema rejects {what}:\n{text}\n{found}"
            );
        }
    }
}

/// The server schema accepts SPEC §4.1's example and rejects what the validator rejects: an
/// unknown field, an unknown KEK source, `versions-kept` out of 1..=10000, a TLS section without
/// its key file, and a string where a boolean belongs.
#[test]
fn server_schema_follows_the_validator() {
    let server_runefile = validator(SERVER_RUNEFILE);
    let example = "server:\n  listen: 127.0.0.1:7861\n  data-dir: /var/lib/rune\n  header-read-timeout: 10s\n  body-read-timeout: 1m30s\n  tls: { cert-file: c.pem, key-file: k.pem }\nauth:\n  required: false\ncrypto:\n  kek:\n    source: file\n    file-path: /var/lib/rune/kek\n    env-var: RUNE_MASTER_KEY\n    generate-if-missing: true\nstorage:\n  secret-limits:    { max-keys-per-secret: 64, max-value-size: 65536 }\n  configmap-limits: { max-keys-per-configmap: 64, max-value-size: 65536 }\n  versions-kept: 10\n";
    let postgres = "storage:\n  backend: postgres\n  postgres:\n    url-env: RUNE_POSTGRES_URL\n    pool-size: 8\n";
    assert_eq!(
        lint_errors(postgres),
        0,
        "SPEC 4.1's postgres storage lints with errors"
    );
    for document in documents("runed.yaml", postgres) {
        let found = failures(&server_runefile, &document);
        assert!(
            found.is_empty(),
            "the postgres storage fails the schema:\n{found}"
        );
    }
    assert_eq!(
        lint_errors(example),
        0,
        "the SPEC example lints with errors"
    );
    for document in documents("runed.yaml", example) {
        let found = failures(&server_runefile, &document);
        assert!(
            found.is_empty(),
            "the SPEC example fails the schema:\n{found}"
        );
    }
    for (what, text) in [
        ("an unknown field", "server:\n  port: 7861\n"),
        (
            "an unknown KEK source",
            "crypto:\n  kek:\n    source: vault\n",
        ),
        ("versions-kept 0", "storage:\n  versions-kept: 0\n"),
        ("versions-kept 10001", "storage:\n  versions-kept: 10001\n"),
        (
            "a TLS section without key-file",
            "server:\n  tls:\n    cert-file: c.pem\n",
        ),
        ("a string as a boolean", "auth:\n  required: 'yes'\n"),
        ("an unknown storage backend", "storage:\n  backend: mysql\n"),
        (
            "a pool of no connections",
            "storage:\n  backend: postgres\n  postgres:\n    pool-size: 0\n",
        ),
        (
            "two places for the database URL",
            "storage:\n  backend: postgres\n  postgres:\n    url-env: U\n    url-file: /u\n",
        ),
        (
            "a limit of zero keys",
            "storage:\n  secret-limits:\n    max-keys-per-secret: 0\n",
        ),
        (
            "a listen address without a port",
            "server:\n  listen: 127.0.0.1\n",
        ),
        (
            "a read timeout without a unit",
            "server:\n  header-read-timeout: 10\n",
        ),
        (
            "a read timeout that is no duration",
            "server:\n  body-read-timeout: one minute\n",
        ),
    ] {
        assert!(lint_errors(text) > 0, "rune lint accepts {what}");
        for document in documents("runed.yaml", text) {
            assert!(
                !server_runefile.is_valid(&document),
                "the server schema accepts {what}:\n{text}"
            );
        }
    }
}

/// Runs `rune lint --format json` on `paths` in `dir` and returns its parsed stdout.
fn lint_json(dir: &Path, paths: &[&str], code: i32) -> Value {
    let output = crate::util::rune(dir)
        .args(["lint", "--format", "json"])
        .args(paths)
        .output()
        .expect("rune runs");
    assert_eq!(
        output.status.code(),
        Some(code),
        "unexpected exit status; stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("rune lint --format json prints JSON")
}

/// The real `rune lint --format json` output validates against `schemas/lint-output.schema.json`:
/// on a runefile with an error, a warning, a finding without help and a skipped resource, and on
/// the quickstart (no findings). The schema is closed: an extra field or an unknown severity
/// fails it.
#[test]
fn lint_json_output_matches_its_schema() {
    let lint_output = validator(LINT_OUTPUT);
    let ws = Workspace::new().file(
        "app.yaml",
        "secret:\n  name: Bad_Name\n---\nconfigmap:\n  labels: {}\n---\nservice:\n  name: api\n  image: nginx\n  envFrom:\n    - secretRef: missing\n---\nnamespace:\n  name: old\n  skip: true\n",
    );
    let mixed = lint_json(ws.dir.path(), &["app.yaml"], 6);
    let found = failures(&lint_output, &mixed);
    assert!(found.is_empty(), "{mixed:#}\n{found}");
    let diagnostics = mixed["diagnostics"]
        .as_array()
        .expect("a diagnostics array");
    for (field, wanted) in [
        ("severity", Value::from("error")),
        ("severity", Value::from("warning")),
        ("help", Value::Null),
    ] {
        assert!(
            diagnostics.iter().any(|d| d[field] == wanted),
            "the sample should produce a finding with {field} = {wanted}: {mixed:#}"
        );
    }
    assert_eq!(mixed["summary"]["skipped"], 1, "{mixed:#}");

    let quickstart = lint_json(&root(), &["fixtures/quickstart.yaml"], 0);
    let found = failures(&lint_output, &quickstart);
    assert!(found.is_empty(), "{quickstart:#}\n{found}");

    let mut extra = mixed.clone();
    extra["summary"]["infos"] = Value::from(0);
    assert!(
        !lint_output.is_valid(&extra),
        "an extra summary field passes"
    );
    let mut info = mixed;
    info["diagnostics"][0]["severity"] = Value::from("info");
    assert!(!lint_output.is_valid(&info), "an unknown severity passes");
}
