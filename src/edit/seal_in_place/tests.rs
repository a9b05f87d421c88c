//! The rewriter on real texts with real age keys: what changes is exactly the sealed entries,
//! and every sealed value opens to its place and its value.

use std::collections::BTreeMap;

use super::{File, Holds, RewriteError, Rewritten};
use crate::parse::{Loaded, load_texts};
use crate::resource::{DataSource, Spec};
use crate::secrets::{Keys, Place};
use crate::validate::{Options, Validated, validate};

const BEGIN: &str = "-----BEGIN AGE ENCRYPTED FILE-----";
const END: &str = "-----END AGE ENCRYPTED FILE-----";

/// A well-formed armor that no key opens (validation checks the form only).
const FOREIGN: &str = "-----BEGIN AGE ENCRYPTED FILE-----\n          YWJjZGVm\n          -----END AGE ENCRYPTED FILE-----";

/// Validation options that let `file:` entries read the temporary directory (the tests' files
/// live there, outside any runefile's root).
fn options() -> Options {
    Options {
        allow_file_roots: vec![std::fs::canonicalize(std::env::temp_dir()).expect("temp dir")],
        ..Options::default()
    }
}

fn load(text: &str) -> (Loaded, Validated) {
    let loaded = load_texts([("s.yaml".to_owned(), text.to_owned())]);
    let validated = validate(&loaded, &options());
    assert!(
        !validated.diagnostics.has_errors(),
        "the input must validate: {:?}",
        validated.diagnostics
    );
    (loaded, validated)
}

/// `seal --in-place` over `text`, checked by the safety net.
#[track_caller]
fn seal_all(text: &str, keys: &Keys) -> Rewritten {
    let (loaded, validated) = load(text);
    let file = File::new(&loaded, &validated, loaded.files[0].source);
    let out = file.seal_plaintext(&keys.recipients()).expect("rewrites");
    out.verify(&options()).expect("the safety net passes");
    out
}

/// `seal NAME KEY --in-place` over `text`, checked by the safety net.
#[track_caller]
fn seal_one(text: &str, place: &Place, value: &str, keys: &Keys) -> Rewritten {
    let (loaded, validated) = load(text);
    let file = File::new(&loaded, &validated, loaded.files[0].source);
    let out = file
        .slot(place)
        .expect("the secret is declared")
        .seal(value, &keys.recipients())
        .expect("rewrites");
    out.verify(&options()).expect("the safety net passes");
    out
}

/// The text with each armor (block lines or an escaped flow string) shown as `<sealed>`.
fn masked(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let Some(end) = rest[start..].find(END) else {
            break;
        };
        out.push_str(&rest[..start]);
        out.push_str("<sealed>");
        rest = &rest[start + end + END.len()..];
    }
    out.push_str(rest);
    out
}

/// Every sealed entry of `text` that `keys` open, as place → value.
fn opened(text: &str, keys: &Keys) -> BTreeMap<String, String> {
    let (_, validated) = load(text);
    let mut values = BTreeMap::new();
    for resource in &validated.resources {
        let Spec::Secret(data) = &resource.spec else {
            continue;
        };
        for entry in &data.entries {
            if let DataSource::Sealed(armor) = &entry.source
                && let Ok(opened) = keys.unseal(armor)
            {
                let expected = Place::new(
                    resource.namespace_name(),
                    &resource.name.value,
                    &entry.key.value,
                );
                assert_eq!(opened.place, expected, "sealed for its own place");
                values.insert(expected.to_string(), opened.value.expose().clone());
            }
        }
    }
    values
}

fn places(text: &[(&str, &str)]) -> BTreeMap<String, String> {
    text.iter()
        .map(|(place, value)| ((*place).to_owned(), (*value).to_owned()))
        .collect()
}

/// Comments, blank lines, key order and quoting outside the sealed fields stay; `file:`,
/// `sealed:` and configmap entries are kept byte for byte.
#[test]
fn only_plaintext_fields_change() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("token.txt"), "t").expect("write");
    let text = format!(
        "# Database credentials
secrets:
  - name: db          # the main database
    namespace: prod

    data:
      # who connects
      - key: username
        value: admin   # not really secret
      - value: \"hunter2\"
        key: password

      - key: token
        file: {}
      - key: cert
        sealed: |
          {FOREIGN}
configmaps:
  - name: app
    data:
      - key: log-level
        value: info
",
        dir.path().join("token.txt").display()
    );
    let keys = Keys::generate();
    let out = seal_all(&text, &keys);
    let expected = text
        .replace(
            "value: admin   # not really secret",
            "sealed: |   # not really secret\n          <sealed>",
        )
        .replace("- value: \"hunter2\"", "- sealed: |\n          <sealed>");
    assert_eq!(masked(&out.text), masked(&expected));
    assert!(out.text.contains(FOREIGN), "the sealed entry is kept");
    assert_eq!(
        opened(&out.text, &keys),
        places(&[
            ("secret `prod/db` key `password`", "hunter2"),
            ("secret `prod/db` key `username`", "admin"),
        ])
    );
    assert_eq!(out.sealed.len(), 2);
}

/// Block scalars end at their last content line; what follows them (a comment less indented,
/// blank lines, the next entry) stays.
#[test]
fn block_scalar_values_are_replaced_whole() {
    let text = "secret:\n  name: tls\n  data:\n    - key: cert\n      value: |  # PEM\n        line one\n\n        line three\n\n      # after the value\n    - key: folded\n      value: >-\n        a\n        b\n    - key: explicit\n      value: |2-\n          two more\n        less\n    - key: last\n      value: |+\n        kept\n\n";
    let keys = Keys::generate();
    let out = seal_all(text, &keys);
    assert_eq!(
        masked(&out.text),
        "secret:\n  name: tls\n  data:\n    - key: cert\n      sealed: |  # PEM\n        <sealed>\n\n      # after the value\n    - key: folded\n      sealed: |\n        <sealed>\n    - key: explicit\n      sealed: |\n        <sealed>\n    - key: last\n      sealed: |\n        <sealed>\n\n"
    );
    assert_eq!(
        opened(&out.text, &keys),
        places(&[
            (
                "secret `default/tls` key `cert`",
                "line one\n\nline three\n"
            ),
            ("secret `default/tls` key `explicit`", "  two more\nless"),
            ("secret `default/tls` key `folded`", "a b"),
            ("secret `default/tls` key `last`", "kept\n\n"),
        ])
    );
}

/// Every document of a file is rewritten where it stands; `---`, `...` and the documents
/// without secrets stay.
#[test]
fn other_documents_stay() {
    let text = "configmap:\n  name: app\n  data: {a: b}\n---\n# second\nsecret:\n  name: one\n  namespace: team\n  data:\n    - key: k\n      value: v1\n...\n---\nsecret:\n  name: two\n  data:\n    - key: k\n      value: v2\n";
    let keys = Keys::generate();
    let out = seal_all(text, &keys);
    assert_eq!(
        masked(&out.text),
        "configmap:\n  name: app\n  data: {a: b}\n---\n# second\nsecret:\n  name: one\n  namespace: team\n  data:\n    - key: k\n      sealed: |\n        <sealed>\n...\n---\nsecret:\n  name: two\n  data:\n    - key: k\n      sealed: |\n        <sealed>\n"
    );
    assert_eq!(
        opened(&out.text, &keys),
        places(&[
            ("secret `default/two` key `k`", "v2"),
            ("secret `team/one` key `k`", "v1"),
        ])
    );
}

/// A CRLF file gets CRLF line breaks in what is inserted, and keeps them elsewhere.
#[test]
fn crlf_files_stay_crlf() {
    let text = "secret:\r\n  name: db\r\n  data:\r\n    - key: password\r\n      value: hunter2 # c\r\n    - key: cert\r\n      value: |\r\n        x\r\n        y\r\n";
    let keys = Keys::generate();
    let out = seal_all(text, &keys);
    assert_eq!(
        out.text.matches('\n').count(),
        out.text.matches("\r\n").count()
    );
    assert!(
        masked(&out.text).starts_with(
            "secret:\r\n  name: db\r\n  data:\r\n    - key: password\r\n      sealed: | # c\r\n        <sealed>\r\n    - key: cert\r\n      sealed: |\r\n        <sealed>\r\n"
        ),
        "{:?}",
        masked(&out.text)
    );
    assert_eq!(
        opened(&out.text, &keys),
        places(&[
            ("secret `default/db` key `cert`", "x\ny\n"),
            ("secret `default/db` key `password`", "hunter2"),
        ])
    );
}

/// Map-form data becomes list form in place: comment lines between entries stay, a trailing
/// comment moves onto `sealed: |`, keys YAML would read as numbers are quoted.
#[test]
fn map_form_becomes_list_form() {
    let text = "secret:\n  name: api\n  data:\n    # keys for the API\n    api-key: abc123   # rotated monthly\n    '1.5': x\n\n    cert: |\n      -----BEGIN CERT-----\n      xyz\n    # the end\n";
    let keys = Keys::generate();
    let out = seal_all(text, &keys);
    assert_eq!(
        masked(&out.text),
        "secret:\n  name: api\n  data:\n    # keys for the API\n    - key: api-key\n      sealed: |   # rotated monthly\n        <sealed>\n    - key: '1.5'\n      sealed: |\n        <sealed>\n\n    - key: cert\n      sealed: |\n        <sealed>\n    # the end\n"
    );
    assert_eq!(
        opened(&out.text, &keys),
        places(&[
            ("secret `default/api` key `1.5`", "x"),
            ("secret `default/api` key `api-key`", "abc123"),
            (
                "secret `default/api` key `cert`",
                "-----BEGIN CERT-----\nxyz\n"
            ),
        ])
    );
}

/// Flow collections get flow entries with the armor as a double-quoted scalar.
#[test]
fn flow_entries_stay_flow() {
    let text = "secrets:\n  - name: a\n    data: [{key: x, value: one}, {key: y, value: \"two\"}]\n  - name: b\n    data: {p: q, r: s}\n  - name: c\n    data:\n      - {key: z, value: three}\n";
    let keys = Keys::generate();
    let out = seal_all(text, &keys);
    assert_eq!(
        masked(&out.text),
        "secrets:\n  - name: a\n    data: [{key: x, sealed: \"<sealed>\\n\"}, {key: y, sealed: \"<sealed>\\n\"}]\n  - name: b\n    data: [{key: p, sealed: \"<sealed>\\n\"}, {key: r, sealed: \"<sealed>\\n\"}]\n  - name: c\n    data:\n      - {key: z, sealed: \"<sealed>\\n\"}\n"
    );
    assert_eq!(opened(&out.text, &keys).len(), 5);
}

/// `allowPlaintext: true` opts a secret out; configmaps are never sealed; empty values cannot
/// be sealed and stay (a map-form one as a `value:` entry).
#[test]
fn opted_out_and_empty_values_stay() {
    let text = "secret:\n  name: dev\n  allowPlaintext: true\n  data:\n    - key: k\n      value: v\n---\nconfigmap:\n  name: app\n  data:\n    - key: k\n      value: v\n";
    let keys = Keys::generate();
    let out = seal_all(text, &keys);
    assert!(out.is_unchanged());
    assert!(out.sealed.is_empty());

    let text = "secret:\n  name: db\n  data:\n    empty: \"\"\n    full: v\n";
    let out = seal_all(text, &keys);
    assert_eq!(
        masked(&out.text),
        "secret:\n  name: db\n  data:\n    - key: empty\n      value: \"\"\n    - key: full\n      sealed: |\n        <sealed>\n"
    );
    assert_eq!(out.empty, [Place::new("default", "db", "empty")]);
}

fn db_password() -> Place {
    Place::new("default", "db", "password")
}

/// One key: an existing `value:` is replaced where it stands.
#[test]
fn one_key_replaces_its_entry() {
    let text = "secret:\n  name: db\n  data:\n    - key: password\n      value: old # c\n    - key: user\n      value: admin\n";
    let keys = Keys::generate();
    let out = seal_one(text, &db_password(), "new", &keys);
    assert_eq!(
        masked(&out.text),
        "secret:\n  name: db\n  data:\n    - key: password\n      sealed: | # c\n        <sealed>\n    - key: user\n      value: admin\n"
    );
    assert_eq!(
        opened(&out.text, &keys),
        places(&[("secret `default/db` key `password`", "new")])
    );
}

/// One key: appended at the end of a block list, of a flow list, into `data: []`, under a
/// bare `data:`, and into a secret without `data`.
#[test]
fn one_key_is_added_where_it_is_missing() {
    let keys = Keys::generate();
    let cases = [
        (
            "secret:\n  name: db\n  data:\n    - key: user\n      value: |\n        admin\n    # end of data\nconfigmap:\n  name: x\n",
            "secret:\n  name: db\n  data:\n    - key: user\n      value: |\n        admin\n    - key: password\n      sealed: |\n        <sealed>\n    # end of data\nconfigmap:\n  name: x\n",
        ),
        (
            "secret: {name: db, data: [{key: user, value: admin}]}\n",
            "secret: {name: db, data: [{key: user, value: admin}, {key: password, sealed: \"<sealed>\\n\"}]}\n",
        ),
        (
            "secret:\n  name: db\n  data: []\n",
            "secret:\n  name: db\n  data: [{key: password, sealed: \"<sealed>\\n\"}]\n",
        ),
        (
            "secret:\n  name: db\n  data:   # none yet\n  labels: {a: b}\n",
            "secret:\n  name: db\n  data: # none yet\n    - key: password\n      sealed: |\n        <sealed>\n  labels: {a: b}\n",
        ),
        (
            "secrets:\n- name: db # the db\n  labels: {a: b}\n",
            "secrets:\n- name: db # the db\n  data:\n    - key: password\n      sealed: |\n        <sealed>\n  labels: {a: b}\n",
        ),
        (
            "secret: {name: db}\n",
            "secret: {name: db, data: [{key: password, sealed: \"<sealed>\\n\"}]}\n",
        ),
        (
            "secret:\n  name: db\n  data:\n    - {key: user, value: admin}  # flow item\n",
            "secret:\n  name: db\n  data:\n    - {key: user, value: admin}  # flow item\n    - key: password\n      sealed: |\n        <sealed>\n",
        ),
    ];
    for (text, expected) in cases {
        let out = seal_one(text, &db_password(), "s3cret", &keys);
        assert_eq!(masked(&out.text), expected, "from {text:?}");
        assert_eq!(
            opened(&out.text, &keys),
            places(&[("secret `default/db` key `password`", "s3cret")])
        );
    }
}

/// One key in map-form data: the map becomes list form, the other entries keep their values
/// (a multi-line one as a double-quoted scalar, since its indentation would not fit).
#[test]
fn one_key_in_map_form() {
    let text =
        "secret:\n  name: db\n  data:\n    user: 'admin'  # who\n    cert: |\n      a\n      b\n";
    let keys = Keys::generate();
    let out = seal_one(text, &db_password(), "pw", &keys);
    assert_eq!(
        masked(&out.text),
        "secret:\n  name: db\n  data:\n    - key: user\n      value: 'admin'  # who\n    - key: cert\n      value: \"a\\nb\\n\"\n    - key: password\n      sealed: |\n        <sealed>\n"
    );
    let out = seal_one(text, &Place::new("default", "db", "user"), "root", &keys);
    assert_eq!(
        masked(&out.text),
        "secret:\n  name: db\n  data:\n    - key: user\n      sealed: |  # who\n        <sealed>\n    - key: cert\n      value: \"a\\nb\\n\"\n"
    );
}

/// An existing sealed entry: the key file tells whether it already holds the value.
#[test]
fn existing_sealed_values_are_recognised() {
    let keys = Keys::generate();
    let first = seal_one(
        "secret:\n  name: db\n  data:\n    - key: password\n      value: x\n",
        &db_password(),
        "same",
        &keys,
    );
    let (loaded, validated) = load(&first.text);
    let file = File::new(&loaded, &validated, loaded.files[0].source);
    let slot = file.slot(&db_password()).expect("declared");
    assert_eq!(slot.holds("same", Some(&keys)), Holds::Same);
    assert_eq!(slot.holds("other", Some(&keys)), Holds::Different);
    assert_eq!(slot.holds("same", None), Holds::Unopened(None));
    assert!(matches!(
        slot.holds("same", Some(&Keys::generate())),
        Holds::Unopened(Some(_))
    ));
    let again = slot.seal("other", &keys.recipients()).expect("re-seals");
    again.verify(&Options::default()).expect("safe");
    assert_eq!(
        opened(&again.text, &keys),
        places(&[("secret `default/db` key `password`", "other")])
    );
    let user = file
        .slot(&Place::new("default", "db", "user"))
        .expect("declared");
    assert_eq!(user.holds("x", Some(&keys)), Holds::NotSealed);
}

/// A secret in another namespace than the one resolved is not the one asked for.
#[test]
fn a_missing_secret_is_reported() {
    let (loaded, validated) = load("secret:\n  name: db\n  namespace: prod\n");
    let file = File::new(&loaded, &validated, loaded.files[0].source);
    assert!(matches!(
        file.slot(&db_password()),
        Err(RewriteError::NoSuchSecret { .. })
    ));
    assert!(file.slot(&Place::new("prod", "db", "k")).is_ok());
}

/// The safety net refuses a text that lost an entry or gained an error.
#[test]
fn the_safety_net_catches_a_bad_rewrite() {
    let text = "secret:\n  name: db\n  data:\n    - key: a\n      value: x\n    - key: b\n      value: y\n";
    let keys = Keys::generate();
    let mut out = seal_all(text, &keys);
    let good = out.text.clone();
    out.text = good[..good.find("    - key: b").expect("b is there")].to_owned();
    assert!(matches!(
        out.verify(&Options::default()),
        Err(RewriteError::Unsafe { .. })
    ));
    out.text = good.replace("    - key: b", "  - key: b");
    assert!(out.verify(&Options::default()).is_err());
    out.text = good;
    assert!(out.verify(&Options::default()).is_ok());
}
