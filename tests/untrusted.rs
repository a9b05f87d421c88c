//! Untrusted runefiles (issue #12, SPEC §2.3): a runefile from a pull request must not read a
//! file outside its file root into any output — not by an absolute path, a `..` escape, a
//! symbolic link committed into the repository, or `/proc/self/environ` — in any command or
//! format; `--allow-file-root` opens a directory on purpose. `rune seal --in-place` does not
//! write through a link that leads outside.

use std::path::{Path, PathBuf};

use rune::secrets::Keys;

use crate::util::{git_ok, rune};

/// What every file outside the root holds, and the environment of every run: it must appear in
/// no output.
const SENTINEL: &str = "OutsideSentinel-7f3a";
const VALIDATION: i32 = 6;

/// `top/` holds `outside.txt` (the sentinel) and `repo/`, a git work tree with a link out.
struct Scratch {
    _dir: tempfile::TempDir,
    top: PathBuf,
}

impl Scratch {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let top = std::fs::canonicalize(dir.path()).expect("canonical");
        std::fs::create_dir_all(top.join("repo/deploy")).expect("mkdir");
        git_ok(&top.join("repo"), &["init", "-q"]);
        std::fs::write(top.join("outside.txt"), SENTINEL).expect("write");
        std::fs::write(top.join("repo/deploy/inside.txt"), "inside").expect("write");
        std::os::unix::fs::symlink(top.join("outside.txt"), top.join("repo/deploy/link.txt"))
            .expect("symlink");
        Self { _dir: dir, top }
    }

    fn repo(&self) -> PathBuf {
        self.top.join("repo")
    }

    /// `deploy/app.yaml`: a configmap whose `file:` entry is `path`.
    fn runefile(&self, path: &str) {
        std::fs::write(
            self.repo().join("deploy/app.yaml"),
            format!("configmap:\n  name: app\n  data:\n    - key: leaked\n      file: {path}\n"),
        )
        .expect("write the runefile");
    }

    /// `rune ARGS…` in the repository, with the sentinel in its environment too.
    fn run(&self, args: &[&str]) -> (i32, String) {
        let output = rune(&self.repo())
            .env("CANARY", SENTINEL)
            .args(args)
            .output()
            .expect("rune runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            !text.contains(SENTINEL),
            "`rune {}` printed the outside file's content:\n{text}",
            args.join(" ")
        );
        (output.status.code().expect("an exit code"), text)
    }
}

/// Every way of reading the runefile, in every output format.
fn commands(data_dir: &str) -> Vec<Vec<String>> {
    let file = "deploy/app.yaml";
    let mut all: Vec<Vec<&str>> = vec![
        vec!["lint", file],
        vec!["lint", file, "--format", "json"],
        vec!["lint", file, "--format", "sarif"],
        vec!["lint", file, "--format", "github"],
        vec!["cast", "--dry-run", file],
        vec!["cast", "--dry-run", file, "-o", "json"],
        vec!["cast", "--offline", file],
        vec!["cast", "--offline", file, "-o", "json"],
        vec!["diff", file],
        vec!["diff", file, "-o", "json"],
        vec!["seal", "--in-place", file, "--recipient"],
    ];
    let recipient = Keys::generate().recipients()[0].to_string();
    all.last_mut().expect("seal").push(&recipient);
    all.into_iter()
        .map(|args| {
            let mut args: Vec<String> = args.into_iter().map(str::to_owned).collect();
            if args[0] != "lint" && args[0] != "seal" {
                args.extend(["--data-dir".to_owned(), data_dir.to_owned()]);
            }
            args
        })
        .collect()
}

#[test]
fn file_entries_outside_the_root_are_refused_everywhere() {
    let s = Scratch::new();
    let data = s.top.join("data");
    let data = data.to_str().expect("UTF-8");
    let outside = s.top.join("outside.txt");
    let cases = [
        outside.display().to_string(),
        "../../outside.txt".to_owned(),
        "link.txt".to_owned(),
        "/proc/self/environ".to_owned(),
        "inside.txt/../../../outside.txt".to_owned(),
    ];
    for case in &cases {
        s.runefile(case);
        for args in commands(data) {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let (code, text) = s.run(&args);
            assert_eq!(
                code,
                VALIDATION,
                "`file: {case}`, `rune {}`:\n{text}",
                args.join(" ")
            );
            assert!(
                text.contains("E-DATA-FILE-OUTSIDE"),
                "`file: {case}`, `rune {}`:\n{text}",
                args.join(" ")
            );
            if args.contains(&"json") && args[0] == "lint" {
                assert!(
                    text.contains(&format!("`{case}`")),
                    "names the path as written: {text}"
                );
            }
        }
    }
    assert!(
        !Path::new(data).exists(),
        "a read-only command made a data directory"
    );
}

/// The path as committed: `cast --rev` and `diff --rev` read the runefile out of git and still
/// confine its `file:` entries.
#[test]
fn revisions_are_confined_too() {
    let s = Scratch::new();
    s.runefile("link.txt");
    git_ok(&s.repo(), &["add", "."]);
    git_ok(&s.repo(), &["commit", "-q", "-m", "a link out"]);
    let data = s.top.join("data").display().to_string();
    for command in ["cast", "diff"] {
        let mut args = vec![
            command,
            "--rev",
            "HEAD",
            "deploy/app.yaml",
            "--data-dir",
            &data,
        ];
        if command == "cast" {
            args.push("--dry-run");
        }
        let (code, text) = s.run(&args);
        assert_eq!(code, VALIDATION, "{text}");
        assert!(text.contains("E-DATA-FILE-OUTSIDE"), "{text}");
    }
}

/// `--allow-file-root DIR` lets a trusted runefile read there; the file is then read.
#[test]
fn allowed_roots_open_a_directory_on_purpose() {
    let s = Scratch::new();
    let top = s.top.display().to_string();
    for case in ["../../outside.txt", "link.txt"] {
        s.runefile(case);
        let (code, text) = s.run(&["lint", "deploy/app.yaml", "--allow-file-root", &top]);
        assert_eq!(code, 0, "{text}");
        let (code, text) = s.run(&[
            "cast",
            "--offline",
            "deploy/app.yaml",
            "--allow-file-root",
            &top,
        ]);
        assert_eq!(code, 0, "{text}");
    }
    s.runefile("inside.txt");
    let (code, text) = s.run(&["lint", "deploy/app.yaml"]);
    assert_eq!(code, 0, "{text}");
    let (code, text) = s.run(&[
        "lint",
        "deploy/app.yaml",
        "--allow-file-root",
        "no-such-dir",
    ]);
    assert_eq!(code, 2, "{text}");
}

/// `rune seal --in-place` on a runefile that is a link out of the repository leaves the target
/// alone; a link inside the repository is written through.
#[test]
fn seal_in_place_does_not_write_through_a_link_out() {
    let s = Scratch::new();
    let secret = "secret:\n  name: db\n  data:\n    - key: password\n      value: hunter2\n";
    std::fs::write(s.top.join("outside.yaml"), secret).expect("write");
    std::os::unix::fs::symlink(s.top.join("outside.yaml"), s.repo().join("deploy/db.yaml"))
        .expect("symlink");
    let recipient = Keys::generate().recipients()[0].to_string();
    let args = [
        "seal",
        "--in-place",
        "deploy/db.yaml",
        "--recipient",
        &recipient,
    ];
    let (code, text) = s.run(&args);
    assert_eq!(code, VALIDATION, "{text}");
    assert!(text.contains("leads outside the file root"), "{text}");
    assert_eq!(
        std::fs::read_to_string(s.top.join("outside.yaml")).expect("read"),
        secret
    );

    std::fs::write(s.repo().join("deploy/real.yaml"), secret).expect("write");
    std::os::unix::fs::symlink("real.yaml", s.repo().join("deploy/in.yaml")).expect("symlink");
    let args = [
        "seal",
        "--in-place",
        "deploy/in.yaml",
        "--recipient",
        &recipient,
    ];
    let (code, text) = s.run(&args);
    assert_eq!(code, 0, "{text}");
    let sealed = std::fs::read_to_string(s.repo().join("deploy/real.yaml")).expect("read");
    assert!(sealed.contains("sealed:"), "{sealed}");
}

/// A repository another user owns (git's `safe.directory` refusal, as on many CI checkouts):
/// the plaintext guard cannot ask git, so `rune lint` fails closed with `E-GIT-UNCHECKED`
/// (and says how to mark the repository safe) instead of passing; a cast records `dirty` as
/// unknown, with git's reason, instead of `false`.
#[test]
fn a_repository_git_refuses_fails_closed() {
    if !nix::unistd::geteuid().is_root() {
        crate::util::cannot_run_here("changing a repository's owner needs root");
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let top = std::fs::canonicalize(dir.path()).expect("canonical");
    let repo = top.join("repo");
    std::fs::create_dir_all(&repo).expect("mkdir");
    git_ok(&repo, &["init", "-q"]);
    std::fs::write(
        repo.join("db.yaml"),
        "secret:\n  name: db\n  data:\n    - key: password\n      value: hunter2\n",
    )
    .expect("write");
    git_ok(&repo, &["add", "db.yaml"]);
    git_ok(&repo, &["commit", "-q", "-m", "plaintext"]);
    let chown = std::process::Command::new("chown")
        .args(["-R", "65534"])
        .arg(&repo)
        .status()
        .expect("chown runs");
    assert!(chown.success());

    for format in ["text", "json", "sarif", "github"] {
        let output = rune(&repo)
            .env("HOME", &top)
            .args(["lint", "db.yaml", "--format", format])
            .output()
            .expect("rune runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(VALIDATION), "{format}: {stdout}");
        assert!(stdout.contains("E-GIT-UNCHECKED"), "{format}: {stdout}");
        assert!(!stdout.contains("hunter2"), "{format}: {stdout}");
    }
    let output = rune(&repo)
        .env("HOME", &top)
        .args(["lint", "db.yaml", "--format", "json"])
        .output()
        .expect("rune runs");
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let help = json["diagnostics"][0]["help"]
        .as_str()
        .expect("a help text");
    assert!(
        help.contains(&format!(
            "git config --global --add safe.directory {}",
            repo.display()
        )),
        "{help}"
    );

    // Marked safe, git answers again: the guard runs and finds the tracked plaintext.
    git_ok(
        &top,
        &[
            "config",
            "--global",
            "--add",
            "safe.directory",
            repo.to_str().expect("UTF-8"),
        ],
    );
    let output = rune(&repo)
        .env("HOME", &top)
        .args(["lint", "db.yaml", "--format", "json"])
        .output()
        .expect("rune runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("E-SECRET-PLAINTEXT"), "{stdout}");
    assert!(!stdout.contains("E-GIT-UNCHECKED"), "{stdout}");

    // Provenance without safe.directory: `dirty` unknown, the reason kept.
    std::fs::remove_file(top.join(".gitconfig")).expect("forget the exception");
    let data = top.join("data");
    let data = data.to_str().expect("UTF-8");
    let cast = rune(&repo)
        .env("HOME", &top)
        .args(["cast", "db.yaml", "--data-dir", data])
        .output()
        .expect("rune runs");
    assert!(cast.status.success(), "{cast:?}");
    let get = rune(&repo)
        .env("HOME", &top)
        .args(["get", "secret", "db", "-o", "json", "--data-dir", data])
        .output()
        .expect("rune runs");
    let object: serde_json::Value = serde_json::from_slice(&get.stdout).expect("JSON");
    let provenance = &object["provenance"];
    assert!(provenance.get("dirty").is_none(), "{provenance}");
    assert!(
        provenance["gitError"]
            .as_str()
            .is_some_and(|e| e.contains("not owned")),
        "{provenance}"
    );
}

/// A token in a config file that does not parse must not reach the output: the error says where
/// and which field, never the text (the parser's snippet would show the `token:` line).
#[test]
fn a_broken_config_file_never_prints_its_text() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let home = dir.path();
    std::fs::create_dir_all(home.join(".rune")).expect("mkdir");
    std::fs::write(
        home.join("app.yaml"),
        "configmap:\n  name: app\n  data: {k: v}\n",
    )
    .expect("write");
    let broken = [
        format!(
            "contexts:\n  - name: prod\n    server: http://127.0.0.1:1\n    token: [{SENTINEL}\ncurrent-context: prod\n"
        ),
        format!(
            "contexts:\n  - name: prod\n    server: http://127.0.0.1:1\n    token: {{t: {SENTINEL}}}\ncurrent-context: prod\n"
        ),
        format!(
            "contexts:\n  - name: prod\n    server: http://127.0.0.1:1\n    tokn: {SENTINEL}\ncurrent-context: prod\n"
        ),
        format!("contexts:\n  - name: prod\n    token: \"{SENTINEL}\"\n  current-context: prod\n"),
        format!("contexts: {SENTINEL}\n"),
    ];
    let recipient = Keys::generate().recipients()[0].to_string();
    let commands: [&[&str]; 7] = [
        &["lint", "app.yaml"],
        &["cast", "--dry-run", "app.yaml"],
        &["diff", "app.yaml", "-o", "json"],
        &["get", "namespaces"],
        &["config", "view"],
        &[
            "login",
            "dev",
            "--server",
            "http://127.0.0.1:1",
            "--no-verify",
        ],
        &[
            "seal",
            "db",
            "password",
            "--from-literal",
            "x",
            "--recipient",
            &recipient,
        ],
    ];
    for text in &broken {
        std::fs::write(home.join(".rune/config.yaml"), text).expect("write the config");
        for args in commands {
            let output = rune(home).args(args).output().expect("rune runs");
            let all = format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            assert!(
                !all.contains(SENTINEL),
                "`rune {}` printed the token:\n{all}",
                args.join(" ")
            );
            assert_ne!(
                output.status.code(),
                Some(0),
                "`rune {}`: {all}",
                args.join(" ")
            );
            assert!(
                all.contains("config file"),
                "`rune {}`: {all}",
                args.join(" ")
            );
        }
    }
}

/// `rune login` saves nothing until the server has taken the token; `--no-verify` skips the
/// check; a URL without a scheme is a usage error.
#[test]
fn login_checks_the_server_and_the_token() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let home = dir.path().join("home");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&home).expect("mkdir");
    let server = crate::util::Server::start(&data, &[]);
    let url = server.url("");
    let token = crate::util::create_token(&data, "ci", &[]);
    let config = home.join(".rune/config.yaml");
    let login = |args: &[&str], stdin: &str| {
        let output = rune(&home)
            .args(["login", "prod", "--server"])
            .args(args)
            .write_stdin(stdin.to_owned())
            .output()
            .expect("rune runs");
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(!all.contains(SENTINEL), "{all}");
        (output.status.code().expect("an exit code"), all)
    };

    let (code, all) = login(&[&url, "--token-stdin"], SENTINEL);
    assert_eq!(code, 3, "{all}");
    assert!(
        all.contains("--token-stdin"),
        "says where the token came from: {all}"
    );
    assert!(!config.exists(), "a refused token was saved");

    let (code, all) = login(&["127.0.0.1:1", "--token-stdin"], &token);
    assert_eq!(code, 2, "{all}");
    assert!(!config.exists());

    let (code, all) = login(&["http://127.0.0.1:1", "--token-stdin"], &token);
    assert_eq!(code, 8, "an unreachable server: {all}");
    assert!(!config.exists());

    let (code, all) = login(&[&url, "--token-stdin", "--no-verify"], SENTINEL);
    assert_eq!(code, 0, "{all}");
    assert!(
        std::fs::read_to_string(&config)
            .expect("saved")
            .contains(SENTINEL)
    );

    let (code, all) = login(&[&url, "--token-stdin"], &token);
    assert_eq!(code, 0, "{all}");
    let saved = std::fs::read_to_string(&config).expect("saved");
    assert!(
        saved.contains(&token) && !saved.contains(SENTINEL),
        "{saved}"
    );
    let listed = rune(&home)
        .args(["get", "namespaces"])
        .output()
        .expect("rune runs");
    assert!(listed.status.success(), "{listed:?}");
}
