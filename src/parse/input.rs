//! Turning command-line paths into source texts: files, directories (`-r` recurses), globs and
//! `-` for standard input.
//!
//! In: the command line's paths. Out: each file's text, registered once in the source map. A
//! file is read once however many times and ways it is named (`a.yaml` and `./a.yaml`, a
//! directory and a glob, a symlink and its target): files are told apart by device and inode,
//! in a hash set, so that tens of thousands of files cost linear time. A walk with `-r` never
//! enters a directory twice (again by device and inode), so a symlink loop ends. std's
//! `MetadataExt` gives both ids; rune runs on Unix only (see `nix`), so no crate is needed.

use std::collections::HashSet;
use std::io::Read;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

use crate::diag::{Code, Diagnostic};
use crate::source::{SourceId, SourceMap, Span};

/// A path that could not be turned into runefiles: the invocation is wrong (exit 2) or the
/// file system failed (exit 8).
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("`{0}` does not exist")]
    NotFound(PathBuf),
    #[error("the pattern `{pattern}` is not a valid glob: {message}")]
    BadGlob { message: String, pattern: String },
    #[error("the pattern `{0}` matches no files")]
    NoMatch(String),
    #[error("`{0}` is a directory; pass `-r` to read the runefiles below it")]
    Directory(PathBuf),
    #[error("cannot read `{path}`: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no runefiles given: pass files, directories, globs or `-` for standard input")]
    Nothing,
}

/// One file read into the source map.
#[derive(Clone, Debug)]
pub struct InputFile {
    /// `None` for standard input.
    pub path: Option<PathBuf>,
    pub source: SourceId,
}

impl InputFile {
    /// The directory `file:` entries of this file are relative to.
    #[must_use]
    pub fn base_dir(&self) -> Option<&Path> {
        self.path.as_deref().and_then(Path::parent)
    }
}

/// Reads every file the arguments name. Non-UTF-8 files are read lossily and reported.
///
/// # Errors
/// An [`InputError`] for a path that names nothing or cannot be read.
pub fn read_all(
    args: &[String],
    recursive: bool,
    sources: &mut SourceMap,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Vec<InputFile>, InputError> {
    if args.is_empty() {
        return Err(InputError::Nothing);
    }
    let mut paths: Vec<Option<PathBuf>> = Vec::new();
    let mut seen = HashSet::new();
    let mut stdin = false;
    for arg in args {
        if arg == "-" {
            if !std::mem::replace(&mut stdin, true) {
                paths.push(None);
            }
            continue;
        }
        // A repository with one resource per file is thousands of files: the system calls
        // that tell them apart and read them run on every core.
        let expanded = expand(arg, recursive)?;
        let identities = crate::par::map(&expanded, |path| identity(path));
        for (path, identity) in expanded.into_iter().zip(identities) {
            if seen.insert(identity) {
                paths.push(Some(path));
            }
        }
    }
    let read = crate::par::map(&paths, |path| read_bytes(path.as_deref()));
    paths
        .into_iter()
        .zip(read)
        .map(|(path, bytes)| {
            let bytes = bytes?;
            let name = path
                .as_ref()
                .map_or_else(|| "<stdin>".to_owned(), |p| p.display().to_string());
            let source = register(sources, name, bytes, diagnostics);
            Ok(InputFile { path, source })
        })
        .collect()
}

/// What tells files apart: device and inode (symlinks followed), or the path as written when
/// it cannot be read (reading it will then report why).
#[derive(Debug, Eq, Hash, PartialEq)]
enum Identity {
    File { dev: u64, ino: u64 },
    Unreadable(PathBuf),
}

fn identity(path: &Path) -> Identity {
    match std::fs::metadata(path) {
        Ok(meta) => Identity::File {
            dev: meta.dev(),
            ino: meta.ino(),
        },
        Err(_) => Identity::Unreadable(path.to_path_buf()),
    }
}

fn expand(arg: &str, recursive: bool) -> Result<Vec<PathBuf>, InputError> {
    let path = PathBuf::from(arg);
    if path.is_dir() {
        if !recursive {
            let files = runefiles_in(&path, false, &mut HashSet::new())?;
            if files.is_empty() {
                return Err(InputError::Directory(path));
            }
            return Ok(files);
        }
        return runefiles_in(&path, true, &mut HashSet::new());
    }
    if path.exists() {
        return Ok(vec![path]);
    }
    if !arg.contains(['*', '?', '[']) {
        return Err(InputError::NotFound(path));
    }
    let matches = glob::glob(arg).map_err(|e| InputError::BadGlob {
        message: e.msg.to_owned(),
        pattern: arg.to_owned(),
    })?;
    let mut files = Vec::new();
    let mut visited = HashSet::new();
    for entry in matches {
        let entry = entry.map_err(|e| InputError::Io {
            path: e.path().to_path_buf(),
            source: std::io::Error::new(e.error().kind(), e.error().to_string()),
        })?;
        if entry.is_dir() {
            files.extend(runefiles_in(&entry, recursive, &mut visited)?);
        } else {
            files.push(entry);
        }
    }
    if files.is_empty() {
        return Err(InputError::NoMatch(arg.to_owned()));
    }
    Ok(files)
}

/// The `.yaml`/`.yml` files in a directory, sorted so that output is stable. `visited` holds
/// the directories (device and inode) this walk has entered: one reached again through a
/// symlink is not entered twice.
fn runefiles_in(
    dir: &Path,
    recursive: bool,
    visited: &mut HashSet<(u64, u64)>,
) -> Result<Vec<PathBuf>, InputError> {
    let io = |source| InputError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(dir).map_err(io)?;
    if !visited.insert((meta.dev(), meta.ino())) {
        return Ok(Vec::new());
    }
    // The entry's own type costs no system call; only a symbolic link is followed to learn
    // whether it leads to a directory.
    let mut entries: Vec<(PathBuf, bool)> = std::fs::read_dir(dir)
        .map_err(io)?
        .map(|e| {
            e.map(|e| {
                let path = e.path();
                let is_dir = match e.file_type() {
                    Ok(kind) if !kind.is_symlink() => kind.is_dir(),
                    _ => path.is_dir(),
                };
                (path, is_dir)
            })
        })
        .collect::<Result<_, _>>()
        .map_err(io)?;
    entries.sort();
    let mut files = Vec::new();
    for (entry, is_dir) in entries {
        let hidden = entry
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if is_dir {
            if recursive && !hidden {
                files.extend(runefiles_in(&entry, true, visited)?);
            }
        } else if entry.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            files.push(entry);
        }
    }
    Ok(files)
}

fn read_bytes(path: Option<&Path>) -> Result<Vec<u8>, InputError> {
    match path {
        Some(path) => std::fs::read(path).map_err(|source| InputError::Io {
            path: path.to_path_buf(),
            source,
        }),
        None => {
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .map_err(|source| InputError::Io {
                    path: PathBuf::from("<stdin>"),
                    source,
                })?;
            Ok(bytes)
        }
    }
}

/// Adds a file's bytes to the source map; bytes that are not UTF-8 are read lossily and reported.
pub(crate) fn register(
    sources: &mut SourceMap,
    name: String,
    bytes: Vec<u8>,
    diagnostics: &mut Vec<Diagnostic>,
) -> SourceId {
    match String::from_utf8(bytes) {
        Ok(text) => sources.add(name, text),
        Err(error) => {
            let valid_up_to = error.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(error.as_bytes()).into_owned();
            let id = sources.add(name, text);
            let at = u32::try_from(valid_up_to).unwrap_or(u32::MAX);
            diagnostics.push(
                Diagnostic::new(
                    Code::InputEncoding,
                    Span::new(id, at, at),
                    "the file is not valid UTF-8",
                )
                .label("invalid byte")
                .help("save the runefile as UTF-8; rune reads nothing else"),
            );
            id
        }
    }
}
