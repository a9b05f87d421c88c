//! The plaintext guard of `rune lint` (SPEC §3, §6): a secret's plaintext value must not sit in
//! a file that git tracks or is about to commit.
//!
//! In: validated resources and a question, asked once per source file, "is this file in git?".
//! Out: one `E-SECRET-PLAINTEXT` per plaintext entry of such a file. Git itself is not read here
//! (`crate::git::tracked` answers the question), so validation stays offline and pure. Only `value:`
//! entries and map-form values are plaintext in the runefile: `file:` values live elsewhere and
//! `sealed:` values are ciphertext.

use std::collections::{HashMap, HashSet};

use crate::diag::{Code, Diagnostic};
use crate::resource::{DataSource, Resource, Spanned, Spec};
use crate::source::SourceId;

/// How git holds a runefile.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum InGit {
    /// In the index but not yet in a commit, or read from the index (`--staged`).
    Staged,
    /// In the last commit.
    Tracked,
}

impl InGit {
    fn phrase(self) -> &'static str {
        match self {
            InGit::Staged => "a file staged for commit",
            InGit::Tracked => "a file git tracks",
        }
    }
}

/// Why git could not say whether it holds a file (a `safe.directory` ownership refusal, a
/// broken repository): the guard then fails closed with `E-GIT-UNCHECKED`.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Unchecked {
    /// git's own words (they name the repository, never a value).
    pub reason: String,
    /// The work tree git refused because another user owns it: the `safe.directory` to add.
    pub safe_directory: Option<std::path::PathBuf>,
}

/// Every plaintext entry of a secret without `allowPlaintext: true` in a file `in_git` places in
/// git. `in_git` is asked at most once per source, and only for sources that hold such entries.
pub fn check(
    resources: &[Resource],
    mut in_git: impl FnMut(SourceId) -> Option<InGit>,
) -> Vec<Diagnostic> {
    check_or_refuse(resources, |source| Ok(in_git(source)))
}

/// [`check`] where git may fail to answer: a file git cannot be asked about gets one
/// `E-GIT-UNCHECKED` (at its first plaintext entry) instead of passing silently.
pub fn check_or_refuse(
    resources: &[Resource],
    mut in_git: impl FnMut(SourceId) -> Result<Option<InGit>, Unchecked>,
) -> Vec<Diagnostic> {
    let mut answers: HashMap<SourceId, Result<Option<InGit>, Unchecked>> = HashMap::new();
    let mut refused: HashSet<SourceId> = HashSet::new();
    let mut found = Vec::new();
    for resource in resources {
        let Spec::Secret(data) = &resource.spec else {
            continue;
        };
        if data.allow_plaintext {
            continue;
        }
        for entry in &data.entries {
            if !matches!(entry.source, DataSource::Value(_)) {
                continue;
            }
            let source = resource.origin.source;
            match answers.entry(source).or_insert_with(|| in_git(source)) {
                Ok(None) => {}
                Ok(Some(place)) => found.push(plaintext(&entry.key, *place)),
                Err(unchecked) => {
                    if refused.insert(source) {
                        found.push(unchecked_finding(&entry.key, unchecked));
                    }
                }
            }
        }
    }
    found
}

fn plaintext(key: &Spanned<String>, place: InGit) -> Diagnostic {
    Diagnostic::new(
        Code::SecretPlaintext,
        key.span,
        format!("plaintext value of `{}` in {}", key.value, place.phrase()),
    )
    .label("plaintext secret value")
    .help(
        "seal it with `rune seal --in-place FILE` (see `rune seal --help`), read it from a `file:` kept out of git, or set `allowPlaintext: true` on the secret if this value is not secret",
    )
}

fn unchecked_finding(key: &Spanned<String>, unchecked: &Unchecked) -> Diagnostic {
    let help = match &unchecked.safe_directory {
        Some(path) => format!(
            "git refuses a repository another user owns; if you trust it, mark it safe: `git config --global --add safe.directory {}`",
            path.display()
        ),
        None => "make the repository readable to git (`git status` says what is wrong); if another user owns it, mark it safe: `git config --global --add safe.directory PATH`; or seal the values with `rune seal --in-place FILE`".to_owned(),
    };
    Diagnostic::new(
        Code::GitUnchecked,
        key.span,
        format!(
            "cannot tell whether git tracks this file, so its plaintext secret values were not checked: {}",
            unchecked.reason
        ),
    )
    .label("plaintext secret value, unchecked")
    .help(help)
}

#[cfg(test)]
mod tests {
    use super::{InGit, check};
    use crate::diag::Code;
    use crate::validate::{Options, validate};

    fn resources(text: &str) -> Vec<crate::resource::Resource> {
        let loaded = crate::parse::load_texts(vec![("a.yaml".to_owned(), text.to_owned())]);
        validate(&loaded, &Options::default()).resources
    }

    /// List-form `value:` entries and map-form values are plaintext; `file:` is not.
    #[test]
    fn plaintext_entries_of_tracked_files_are_reported() {
        let found = check(
            &resources(
                "secrets:\n  - name: a\n    data:\n      - key: p\n        value: x\n      - key: f\n        file: a.yaml\n  - name: b\n    data: {q: y}\n",
            ),
            |_| Some(InGit::Tracked),
        );
        let keys: Vec<&str> = found.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            keys,
            [
                "plaintext value of `p` in a file git tracks",
                "plaintext value of `q` in a file git tracks"
            ]
        );
        assert!(found.iter().all(|d| d.code == Code::SecretPlaintext));
    }

    /// Untracked files, `allowPlaintext: true` and configmaps pass; git is asked once per file.
    #[test]
    fn untracked_files_and_opt_outs_pass() {
        let text = "secret:\n  name: a\n  data: {p: x, q: y}\n";
        let mut asked = 0;
        let found = check(&resources(text), |_| {
            asked += 1;
            None
        });
        assert!(found.is_empty());
        assert_eq!(asked, 1);
        let opted_out = "secret:\n  name: a\n  allowPlaintext: true\n  data: {p: x}\n---\nconfigmap:\n  name: c\n  data: {k: v}\n";
        assert!(check(&resources(opted_out), |_| Some(InGit::Staged)).is_empty());
    }
}
