//! One failing and one passing fixture per diagnostic code, and the snapshots that pin how each
//! finding reads.
//!
//! `fixtures/invalid/<code>.yaml` triggers exactly its code; `fixtures/valid/<code>.yaml` is the
//! same runefile fixed, and lints with no finding at all. The text and JSON output of every
//! invalid fixture are snapshots in `tests/snapshots/`: they are the spec of our messages, so a
//! change in wording shows in review. Secret values in the fixtures carry the marker `S3CRET`,
//! which no output may ever contain.
//!
//! The fixtures are linted in a scratch copy (see [`repo`]): `rune lint` refuses plaintext secret
//! values in files that git tracks, and in this repository git tracks every fixture.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rune::diag::{Code, Severity};
use rune::resource::{DataSource, Spec};
use serde_json::Value;

use crate::util::{files_under, git_ok, root, rune};

/// What every secret value in the fixtures contains, so that a leak is easy to spot.
const MARKER: &str = "S3CRET";

/// `fixtures/<dir>/<code in lower case>.yaml`, relative to the repository root.
fn fixture(dir: &str, code: Code) -> String {
    format!("fixtures/{dir}/{}.yaml", code.as_str().to_ascii_lowercase())
}

/// Every `*.yaml` in `fixtures/<dir>`, relative to the repository root, sorted.
fn fixtures_in(dir: &str) -> Vec<String> {
    let mut found: Vec<String> = std::fs::read_dir(root().join("fixtures").join(dir))
        .expect("the fixture directory exists")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .map(|path| {
            let name = path.file_name().expect("a file name").to_string_lossy();
            format!("fixtures/{dir}/{name}")
        })
        .collect();
    found.sort();
    found
}

/// The file name without `.yaml`: `e-data-file`.
fn stem(path: &str) -> &str {
    Path::new(path)
        .file_stem()
        .and_then(|s| s.to_str())
        .expect("a UTF-8 file name")
}

/// The fixtures that git holds in the scratch repository: only `E-SECRET-PLAINTEXT`'s, so that
/// the plaintext guard fires exactly where it is meant to.
const STAGED: [&str; 2] = [
    "fixtures/invalid/e-secret-plaintext.yaml",
    "fixtures/valid/e-secret-plaintext.yaml",
];

/// A git repository holding a copy of `fixtures/` (same relative paths, so findings still read
/// `fixtures/…`) with only [`STAGED`] staged. It is built once per content of the fixtures,
/// under cargo's target directory, and shared by the tests of every run until they change.
fn repo() -> &'static Path {
    static REPO: OnceLock<PathBuf> = OnceLock::new();
    REPO.get_or_init(|| {
        let files = files_below(&root().join("fixtures"));
        let mut hasher = DefaultHasher::new();
        STAGED.hash(&mut hasher);
        UNCHECKED.hash(&mut hasher);
        for file in &files {
            file.hash(&mut hasher);
            std::fs::read(root().join(file))
                .expect("read a fixture")
                .hash(&mut hasher);
        }
        let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let dir = base.join(format!("fixtures-repo-{:016x}", hasher.finish()));
        if dir.join(".git").is_dir() {
            return dir;
        }
        let staging = base.join(format!("fixtures-repo.{}.tmp", std::process::id()));
        let _ = std::fs::remove_dir_all(&staging);
        for file in &files {
            let to = staging.join(file);
            std::fs::create_dir_all(to.parent().expect("a parent")).expect("create a directory");
            std::fs::copy(root().join(file), &to).expect("copy a fixture");
        }
        git_ok(&staging, &["init", "-q"]);
        git_ok(&staging, &[&["add", "--"][..], &STAGED[..]].concat());
        unreadable_repository(&staging);
        // Another test process may have finished the same copy first; either will do.
        if std::fs::rename(&staging, &dir).is_err() {
            let _ = std::fs::remove_dir_all(&staging);
        }
        for entry in std::fs::read_dir(base).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("fixtures-repo-") && entry.path() != dir {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        dir
    })
}

/// `E-GIT-UNCHECKED`'s invalid fixture: moved into `unchecked/`, a repository nested in the
/// scratch one whose index git cannot read, and linked back from its usual path, so that the
/// plaintext guard cannot ask git about it.
const UNCHECKED: &str = "fixtures/invalid/e-git-unchecked.yaml";

fn unreadable_repository(scratch: &Path) {
    let nested = scratch.join("unchecked");
    std::fs::create_dir_all(&nested).expect("create a directory");
    git_ok(&nested, &["init", "-q"]);
    std::fs::write(nested.join(".git/index"), "not an index, not at all")
        .expect("corrupt the index");
    std::fs::rename(scratch.join(UNCHECKED), nested.join("e-git-unchecked.yaml"))
        .expect("move the fixture");
    std::os::unix::fs::symlink(
        "../../unchecked/e-git-unchecked.yaml",
        scratch.join(UNCHECKED),
    )
    .expect("link the fixture back");
}

/// Every file below `dir`, relative to the repository root, sorted.
fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = files_under(dir)
        .into_iter()
        .map(|path| {
            path.strip_prefix(root())
                .expect("below the root")
                .to_path_buf()
        })
        .collect();
    files.sort();
    files
}

/// The fixtures' own age identity: sealed values in the fixtures are sealed for it, so that
/// lint opens and checks them as it would with a developer's key file.
const KEY_FILE: &str = "fixtures/keys/fixtures.key";

/// Runs `rune lint <path> [--format <format>]` from the scratch repository's root, with the
/// fixtures' key.
fn lint(path: &str, format: Option<&str>) -> (i32, String, String) {
    let mut command = rune(repo());
    command.env("RUNE_KEY_FILE", KEY_FILE).args(["lint", path]);
    // The one finding about the command line: its fixtures are linted with `-n`.
    if path.contains("w-namespace-mismatch") {
        command.args(["-n", "staging"]);
    }
    if let Some(format) = format {
        command.args(["--format", format]);
    }
    let output = command.output().expect("rune runs");
    (
        output.status.code().expect("rune exits with a code"),
        String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    )
}

/// The JSON report of a fixture, parsed.
#[track_caller]
fn lint_json(path: &str) -> (i32, Value) {
    let (code, stdout, stderr) = lint(path, Some("json"));
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!("{path}: the JSON output does not parse ({e}); stderr: {stderr}")
    });
    (code, json)
}

/// The codes a JSON report holds, in order.
fn codes_in(json: &Value) -> Vec<String> {
    json["diagnostics"]
        .as_array()
        .expect("`diagnostics` is a list")
        .iter()
        .map(|d| d["code"].as_str().expect("`code` is a string").to_owned())
        .collect()
}

/// Runs `check` for every case and fails once at the end, listing every case that failed, so
/// that one broken fixture or snapshot does not hide the others.
#[track_caller]
fn for_each<T>(
    cases: impl IntoIterator<Item = T>,
    name: impl Fn(&T) -> String,
    check: impl Fn(&T),
) {
    let mut failed = Vec::new();
    for case in cases {
        if catch_unwind(AssertUnwindSafe(|| check(&case))).is_err() {
            failed.push(name(&case));
        }
    }
    assert!(failed.is_empty(), "failed cases: {}", failed.join(", "));
}

/// Codes that only the server's findings carry (`rune cast` maps them to the runefiles): no
/// offline check reports them, so they have no lint fixture.
const SERVER_ONLY: [Code; 1] = [Code::ServerRejected];

/// The codes that `rune lint` reports.
fn lint_codes() -> impl Iterator<Item = Code> {
    Code::ALL
        .iter()
        .copied()
        .filter(|code| !SERVER_ONLY.contains(code))
}

/// Every code in the registry that lint reports has an invalid and a valid fixture; a missing
/// one is named.
#[test]
fn every_code_has_both_fixtures() {
    let missing: Vec<String> = lint_codes()
        .flat_map(|code| {
            [
                (code, fixture("invalid", code)),
                (code, fixture("valid", code)),
            ]
        })
        .filter(|(_, path)| !root().join(path).is_file())
        .map(|(code, path)| format!("{} ({path})", code.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "missing fixtures: {}",
        missing.join(", ")
    );
}

/// Each invalid fixture reports its own code and nothing else; errors exit 6, a fixture with
/// only warnings exits 0.
#[test]
fn invalid_fixtures_report_their_code() {
    for_each(
        lint_codes(),
        |code| code.as_str().to_owned(),
        |&code| {
            let path = fixture("invalid", code);
            let (exit, json) = lint_json(&path);
            let codes = codes_in(&json);
            assert!(
                codes.iter().any(|c| c == code.as_str()),
                "{path} does not report {code:?}: {codes:?}"
            );
            assert!(
                codes.iter().all(|c| c == code.as_str()),
                "{path} reports other codes than {}: {codes:?}",
                code.as_str()
            );
            let expected = match code.severity() {
                Severity::Error => 6,
                Severity::Warning => 0,
            };
            assert_eq!(exit, expected, "{path}: exit code");
        },
    );
}

/// Every valid fixture (one per code, plus the server runefile) exits 0 with no finding at all,
/// not even a warning.
#[test]
fn valid_fixtures_are_clean() {
    let fixtures = fixtures_in("valid");
    assert!(
        fixtures.len() > lint_codes().count(),
        "valid fixtures: {fixtures:?}"
    );
    for_each(fixtures, Clone::clone, |path| {
        let (exit, json) = lint_json(path);
        assert_eq!(codes_in(&json), Vec::<String>::new(), "{path}");
        assert_eq!(exit, 0, "{path}: exit code");
    });
}

/// The broken server runefile reports each of its mistakes: a bad value early in a section
/// does not hide the findings after it (the missing `key-file` follows a bad `listen`).
#[test]
fn invalid_server_runefile_reports_every_mistake() {
    let (exit, json) = lint_json("fixtures/invalid/server.yaml");
    assert_eq!(exit, 6);
    assert_eq!(
        codes_in(&json),
        [
            "E-FIELD-VALUE",
            "E-FIELD-REQUIRED",
            "E-FIELD-TYPE",
            "E-FIELD-VALUE",
            "E-FIELD-UNKNOWN",
            "E-FIELD-VALUE",
            "E-FIELD-UNKNOWN",
        ]
    );
}

/// Snapshot settings shared by the rendered outputs: no module-specific expression, and the
/// command that produced the output as the description.
fn snapshot_settings(path: &str, command: &str) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_description(command);
    settings.set_input_file(root().join(path));
    settings.set_omit_expression(true);
    settings.set_prepend_module_to_snapshot(false);
    settings
}

/// The human report of every invalid fixture, as a person sees it (no colour, 100 columns):
/// one snapshot per fixture, `tests/snapshots/text__<fixture>.snap`.
#[test]
fn text_snapshots() {
    for_each(fixtures_in("invalid"), Clone::clone, |path| {
        let (_, stdout, stderr) = lint(path, None);
        assert_eq!(stderr, "", "{path}: stderr");
        snapshot_settings(path, &format!("rune lint {path}")).bind(|| {
            insta::assert_snapshot!(format!("text__{}", stem(path)), stdout);
        });
    });
}

/// The JSON report of every invalid fixture (SPEC §3.2): one snapshot per fixture,
/// `tests/snapshots/json__<fixture>.snap`.
#[test]
fn json_snapshots() {
    for_each(fixtures_in("invalid"), Clone::clone, |path| {
        let (_, stdout, stderr) = lint(path, Some("json"));
        assert_eq!(stderr, "", "{path}: stderr");
        snapshot_settings(path, &format!("rune lint {path} --format json")).bind(|| {
            insta::assert_snapshot!(format!("json__{}", stem(path)), stdout);
        });
    });
}

/// The registry of codes with their severities and descriptions: codes are API, so renaming,
/// removing or rewording one shows in review.
#[test]
fn code_list_snapshot() {
    let mut list = String::new();
    for code in Code::ALL {
        let severity = match code.severity() {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let _ = writeln!(
            list,
            "{:<26} {severity:<8} {}",
            code.as_str(),
            code.description()
        );
    }
    insta::with_settings!({prepend_module_to_snapshot => false, omit_expression => true}, {
        insta::assert_snapshot!("diagnostic_codes", list);
    });
}

/// Every code has a section in `docs/diagnostics.md` headed exactly `## <CODE>`, and the
/// document has no section for a code that does not exist.
#[test]
fn every_code_is_documented() {
    let docs = std::fs::read_to_string(root().join("docs/diagnostics.md"))
        .expect("docs/diagnostics.md exists");
    let headings: BTreeSet<&str> = docs
        .lines()
        .filter_map(|line| line.strip_prefix("## "))
        .map(str::trim)
        .filter(|h| h.starts_with("E-") || h.starts_with("W-"))
        .collect();
    let codes: BTreeSet<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
    let undocumented: Vec<&&str> = codes.difference(&headings).collect();
    let unknown: Vec<&&str> = headings.difference(&codes).collect();
    assert!(
        undocumented.is_empty(),
        "codes without a `## <CODE>` section: {undocumented:?}"
    );
    assert!(
        unknown.is_empty(),
        "sections for codes that do not exist: {unknown:?}"
    );
}

/// No output format ever prints a secret value: every invalid fixture, linted in every format,
/// leaves no trace of the `S3CRET` marker on stdout or stderr.
#[test]
fn no_secret_value_in_any_output() {
    let cases: Vec<(String, &str)> = fixtures_in("invalid")
        .into_iter()
        .flat_map(|path| ["text", "json", "sarif", "github"].map(|f| (path.clone(), f)))
        .collect();
    for_each(
        cases,
        |(path, format)| format!("{path} --format {format}"),
        |(path, format)| {
            let (_, stdout, stderr) = lint(path, Some(format));
            assert!(
                !stdout.contains(MARKER),
                "{path} --format {format} printed a secret:\n{stdout}"
            );
            assert!(
                !stderr.contains(MARKER),
                "{path} --format {format} printed a secret:\n{stderr}"
            );
        },
    );
}

/// The secret-safety test proves something only if the fixtures' secret values carry the
/// marker: every plaintext secret value that decodes, in every fixture, contains `S3CRET`.
#[test]
fn fixture_secret_values_carry_the_marker() {
    let paths: Vec<String> = ["invalid", "valid"]
        .into_iter()
        .flat_map(fixtures_in)
        .map(|p| root().join(p).display().to_string())
        .collect();
    let loaded = rune::parse::load(&paths, false).expect("the fixtures load");
    let validated = rune::validate::validate(&loaded, &rune::validate::Options::default());
    let mut secrets = 0;
    for resource in &validated.resources {
        let Spec::Secret(data) = &resource.spec else {
            continue;
        };
        for entry in &data.entries {
            if let DataSource::Value(value) = &entry.source {
                secrets += 1;
                let file = loaded.sources.get(resource.origin.source).name();
                assert!(
                    value.expose().contains(MARKER),
                    "{file}: the value of `{}` in {} lacks the `{MARKER}` marker",
                    entry.key.value,
                    resource.display_name()
                );
            }
        }
    }
    assert!(secrets > 0, "no secret values found in the fixtures");
}

/// Companion files of valid fixtures must not end in `.yaml`: other tests glob
/// `fixtures/valid/*.yaml` as runefiles.
#[test]
fn companion_files_are_not_runefiles() {
    let companions: Vec<PathBuf> = ["invalid", "valid"]
        .iter()
        .flat_map(|dir| {
            std::fs::read_dir(root().join("fixtures").join(dir).join("files"))
                .into_iter()
                .flatten()
                .map(|e| e.expect("a directory entry").path())
        })
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    assert!(companions.is_empty(), "companion runefiles: {companions:?}");
}
