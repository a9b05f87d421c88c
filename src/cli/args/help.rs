//! The long texts of `--help`: the exit codes, `rune seal`'s modes, and every command's
//! examples (SPEC §3: every command's `--help` ends with examples).

/// The examples of `rune -h` and `rune --help`.
macro_rules! root_examples {
    () => {
        "Examples:
  rune lint -r .                         # check every runefile below here, offline
  rune diff -r .                         # what a cast would change (exit 1 when something would)
  rune cast -r .                         # apply them
  rune get secrets -n prod               # secrets' metadata, never their values
  rune login prod --server https://runed.example --token-stdin < token.txt"
    };
}

/// The end of `rune --help`.
pub const ROOT: &str = concat!(
    "Exit codes:
  0  success; for `diff`/`--exit-code`: no changes
  1  changes pending (`diff`, `cast --dry-run --exit-code` only)
  2  usage error
  3  authentication or permission failure
  4  not found
  5  conflict
  6  validation failed
  7  timeout
  8  server unreachable / I/O failure
  9  any other error
  130  interrupted (Ctrl-C) while applying: the apply may have committed; `rune diff` tells

Documentation: the README and docs/ in rune's repository (docs/diagnostics.md explains every
finding's code).

",
    root_examples!()
);

/// The end of `rune -h`.
pub const ROOT_SHORT: &str = root_examples!();

/// The end of `rune seal --help`.
pub const SEAL: &str = "\
Modes:
  rune seal NAME KEY [-n NS]                  print a `- key: KEY` + `sealed: |` entry to paste
  rune seal NAME KEY --in-place FILE          set KEY of secret NAME in FILE (replaced, or added)
  rune seal --in-place FILE…                  every plaintext secret value in the files is sealed
  rune seal --reseal FILE…                    every sealed value sealed again for the current
                                              recipients (after `rune admin seal-identity rotate`)

The value comes from --from-literal, --from-file (exactly as the file is), or standard input:
taken exactly as given when piped, one line without its line break when typed at a terminal
(not echoed). Empty values are refused. rune never prints a value.

Recipients: the server's own (`GET /v1/seal-recipient`; with no server configured, the embedded
engine's), or instead only those given with --recipient/--recipients-file (then no server is
contacted: offline use). Always added: every `age1…` line of `.rune/recipients` at the root of
the git repository holding the runefile (print mode: the current directory).

A sealed value is bound to its place, `(namespace, name, key)`: the server refuses it under any
other secret or key. The namespace is the document's `namespace:`, else -n, else the context's,
else `default`.

--in-place keeps the rest of each file byte for byte (comments, order, formatting, other
documents, CRLF). Map-form `data:` becomes list form. `sealed:` and `file:` entries, configmaps
and secrets with `allowPlaintext: true` are left alone. With NAME KEY, an existing sealed entry
that the local key file opens to the same value is left unchanged, so git sees no diff. A file
that does not validate is not touched (exit 6); a secret the file does not declare is exit 4.

--reseal keeps each value and its place and changes only the `sealed:` blocks. A value the local
key file (--key-file, RUNE_KEY_FILE) opens is sealed again here; the others are sent to the
server (`POST /v1/reseal`, needs `admin`), which opens and seals them again without the value
leaving it. A value sealed for another place is refused, never re-sealed (E-SEALED-PLACE); a file
with a value that cannot be re-sealed is left as it was, naming the file and line (exit 6).

Examples:
  rune seal db-credentials password < password.txt        # print an entry to paste
  rune seal db-credentials password --in-place app.yaml   # set the key in the file
  rune seal --in-place secrets/*.yaml                     # seal every plaintext value
  rune seal --reseal secrets/*.yaml                       # after a seal-identity rotation
  rune seal db password --recipient age1… --from-file pw  # offline, for a given recipient";

/// The examples that end each command's help, by its path below `rune` (`config use-context`;
/// `""` is `rune` itself). A test fails for any command without.
const EXAMPLES: &[(&str, &str)] = &[
    (
        "admin",
        "Examples:
  rune admin kek status                    # what each KEK still wraps
  rune admin kek rewrap --dry-run          # the plan of a rewrap
  rune admin seal-identity rotate          # a new identity for new sealed values",
    ),
    (
        "admin kek",
        "Examples:
  rune admin kek status
  rune admin kek rewrap --dry-run
  rune admin kek rewrap                    # batches, resumable; casts keep working",
    ),
    (
        "admin kek status",
        "Examples:
  rune admin kek status
  rune admin kek status -o json",
    ),
    (
        "admin kek rewrap",
        "Examples:
  rune admin kek rewrap --dry-run          # what would be re-wrapped
  rune admin kek rewrap --batch-size 1000",
    ),
    (
        "admin seal-identity",
        "Examples:
  rune admin seal-identity status
  rune admin seal-identity rotate",
    ),
    (
        "admin seal-identity status",
        "Examples:
  rune admin seal-identity status
  rune admin seal-identity status -o json",
    ),
    (
        "admin seal-identity rotate",
        "Examples:
  rune admin seal-identity rotate          # values sealed before still open",
    ),
    (
        "audit",
        "Examples:
  rune audit --since 24h                   # the last day's records (admin)
  rune audit -n prod -o json",
    ),
    (
        "history",
        "Examples:
  rune history secret db                   # versions, who cast them, keys changed
  rune history config app -o json",
    ),
    (
        "rollback",
        "Examples:
  rune history secret db                   # find the version
  rune rollback secret db --to-version 3   # a new version with v3's data",
    ),
    (
        "import",
        "Examples:
  rune import k8s/secrets.yaml --seal --output-file runefiles/secrets.yaml
  kubectl get configmap app -o yaml | rune import -
  rune import k8s/db.yaml k8s/app.yaml --seal --output-dir runefiles/   # one runefile a file",
    ),
    (
        "cast",
        "Examples:
  rune cast app.yaml                       # plan, then apply atomically
  rune apply -f app.yaml -f db.yaml        # the same, kubectl's spelling
  rune cast -r deploy/ --dry-run           # print the plan only
  rune cast -r deploy/ --offline           # no server contact: checks and what would be cast
  rune cast -r deploy/ --prune --yes       # also delete what the files no longer declare
  rune cast -r deploy/ -o json             # the plan and result as JSON",
    ),
    (
        "diff",
        "Examples:
  rune diff -r deploy/                     # exit 0: no changes, 1: changes pending
  rune diff -f app.yaml -o json            # the plan as JSON
  rune diff -r deploy/ --rev HEAD~1        # the files as they were one commit ago",
    ),
    (
        "completion",
        "Examples:
  source <(rune completion bash)                                   # bash, this shell
  rune completion zsh > \"${fpath[1]}/_rune\"                      # zsh
  rune completion fish > ~/.config/fish/completions/rune.fish      # fish
Completion offers kinds, and names, namespaces and contexts from the configured server.",
    ),
    (
        "config",
        "Examples:
  rune config get-contexts
  rune config use-context prod
  rune config view",
    ),
    (
        "config current-context",
        "Examples:\n  rune config current-context",
    ),
    (
        "config delete-context",
        "Examples:\n  rune config delete-context staging",
    ),
    (
        "config get-contexts",
        "Examples:\n  rune config get-contexts",
    ),
    (
        "config set-context",
        "Examples:
  rune config set-context prod --server https://runed.example -n prod
  rune config set-context prod --token-stdin < token.txt",
    ),
    (
        "config use-context",
        "Examples:\n  rune config use-context prod",
    ),
    ("config view", "Examples:\n  rune config view"),
    (
        "create",
        "Examples:
  rune create namespace prod
  rune create secret db --from-literal=user=admin --from-file=password=pw.txt
  rune create config app --from-env-file=app.env",
    ),
    (
        "create config",
        "Examples:
  rune create config app --from-literal=log-level=info
  rune create config app --from-env-file=app.env --replace",
    ),
    (
        "create namespace",
        "Examples:
  rune create namespace prod --description \"production services\"",
    ),
    (
        "create secret",
        "Examples:
  rune create secret db --from-file=password=pw.txt -n prod
  rune create secret tls --from-file=cert.pem --from-file=key.pem --replace",
    ),
    (
        "delete",
        "Examples:
  rune delete secret db -n prod
  rune delete config app --force           # even while a service uses it
  rune delete namespace staging            # refused while it holds objects",
    ),
    (
        "describe",
        "Examples:
  rune describe service api -n prod",
    ),
    (
        "get",
        "Examples:
  rune get secrets                         # metadata only: never a value
  rune get secret/db -o yaml
  rune get configs -A                      # every namespace
  rune get secrets -l team=payments,tier=db
  rune get config app -o yaml > app.yaml   # round-trips into `rune cast`",
    ),
    (
        "hook",
        "Examples:\n  rune hook install\n  rune hook uninstall",
    ),
    (
        "hook install",
        "Examples:
  rune hook install                        # lint every staged runefile before each commit
  rune hook install deploy/                # only those below deploy/",
    ),
    ("hook uninstall", "Examples:\n  rune hook uninstall"),
    (
        "lint",
        "Examples:
  rune lint app.yaml
  rune lint -r .                           # every runefile below here
  rune lint --staged                       # as staged in the git index (the pre-commit hook)
  rune lint -r . --format github           # annotations for GitHub Actions
  rune lint -r . --format sarif > rune.sarif",
    ),
    (
        "login",
        "Examples:
  rune login prod --server https://runed.example --token-stdin < token.txt
  rune login dev --server http://127.0.0.1:7861 --token-stdin -n dev",
    ),
    (
        "logs",
        "Examples:
  rune logs api
  rune logs api -f --instance 0",
    ),
    (
        "restart",
        "Examples:
  rune restart api                         # waits until every instance runs again
  rune restart api --no-wait",
    ),
    (
        "seal",
        "Examples:
  rune seal db password < pw.txt           # print an entry to paste
  rune seal db password --in-place app.yaml
  rune seal --in-place secrets/*.yaml
(more with --help)",
    ),
    (
        "status",
        "Examples:\n  rune status\n  rune status -A -o json",
    ),
    (
        "version",
        "Examples:\n  rune version\n  rune version -o json",
    ),
];

/// The examples of the command at `path`, if it has any.
#[must_use]
pub fn examples(path: &str) -> Option<&'static str> {
    EXAMPLES
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, text)| *text)
}
