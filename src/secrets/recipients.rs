//! Whom a value is sealed for (SPEC §6): the server's recipient (or the `--recipient` and
//! `--recipients-file` given instead of it) plus every recipient the repository lists in
//! `.rune/recipients`, as one ordered set in which each recipient appears once.
//!
//! Which repository holds a runefile is git's question ([`crate::git::Repo::discover`]); here
//! the work tree's root is given.

use std::path::Path;

use age::x25519::Recipient;

use crate::secrets::key_file::KeyFileError;

/// Where a repository keeps the recipients every sealed value is also encrypted for.
pub const REPOSITORY_FILE: &str = ".rune/recipients";

/// A set of recipients in the order they were first added; a repeated one is dropped.
#[derive(Clone, Debug, Default)]
pub struct Recipients(Vec<Recipient>);

impl Recipients {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a recipient unless it is in the set already.
    pub fn add(&mut self, recipient: Recipient) {
        if !self.0.contains(&recipient) {
            self.0.push(recipient);
        }
    }

    pub fn extend(&mut self, recipients: impl IntoIterator<Item = Recipient>) {
        for recipient in recipients {
            self.add(recipient);
        }
    }

    #[must_use]
    pub fn as_slice(&self) -> &[Recipient] {
        &self.0
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Parses a recipients file (`.rune/recipients`, `--recipients-file`): one `age1…` per line;
/// blank lines and `#` comments are skipped.
pub fn parse_recipients(text: &str, path: &Path) -> Result<Vec<Recipient>, KeyFileError> {
    let mut recipients = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        recipients.push(
            parse_recipient(line).ok_or_else(|| KeyFileError::BadRecipient {
                path: path.to_path_buf(),
                line: index + 1,
                text: line.to_owned(),
            })?,
        );
    }
    Ok(recipients)
}

pub fn load_recipients(path: &Path) -> Result<Vec<Recipient>, KeyFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| KeyFileError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_recipients(&text, path)
}

pub fn parse_recipient(text: &str) -> Option<Recipient> {
    text.trim().parse().ok()
}

/// The recipients the work tree at `root` lists in [`REPOSITORY_FILE`]; none without the file.
pub fn of_work_tree(root: &Path) -> Result<Vec<Recipient>, KeyFileError> {
    let file = root.join(REPOSITORY_FILE);
    if file.is_file() {
        load_recipients(&file)
    } else {
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::Keys;

    /// Adding a recipient twice keeps the first.
    #[test]
    fn a_recipient_is_kept_once() {
        let keys = Keys::generate();
        let other = Keys::generate();
        let mut set = Recipients::new();
        set.extend(keys.recipients());
        set.extend(other.recipients());
        set.extend(keys.recipients());
        assert_eq!(set.len(), 2);
        assert_eq!(
            set.as_slice()[0].to_string(),
            keys.recipients()[0].to_string()
        );
    }

    /// A work tree's file is read when it is there; without it the tree adds nobody.
    #[test]
    fn the_work_tree_file_is_read_when_present() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(of_work_tree(dir.path()).expect("no file").len(), 0);
        let keys = Keys::generate();
        std::fs::create_dir_all(dir.path().join(".rune")).expect("mkdir");
        std::fs::write(
            dir.path().join(REPOSITORY_FILE),
            format!("# the team\n{}\n", keys.recipients()[0]),
        )
        .expect("write");
        assert_eq!(of_work_tree(dir.path()).expect("reads").len(), 1);
    }

    /// A line that is no recipient is named by its number, comments and blanks counted.
    #[test]
    fn bad_recipients_are_named_by_line() {
        assert!(matches!(
            parse_recipients("# team\n\nage1nope\n", Path::new("r")),
            Err(KeyFileError::BadRecipient { line: 3, .. })
        ));
    }
}
