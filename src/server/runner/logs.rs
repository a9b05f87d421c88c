//! Instance logs: stdout and stderr of each instance, appended as they arrive to
//! `<data-dir>/logs/<namespace>/<service>/<instance>.log`, rotated by size ([`MAX_SIZE`], the
//! current file plus [`KEPT`] older ones: `.log.1` is the newest of those).
//!
//! The directories are private to runed's user (0700, files 0600): a service may print what it
//! likes, including values it was given; runed itself writes nothing here.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// A log file is rotated once it would grow past this.
pub const MAX_SIZE: u64 = 1024 * 1024;
/// Rotated files kept besides the current one.
pub const KEPT: u32 = 3;

/// The current log file of an instance.
pub fn path(data_dir: &Path, namespace: &str, service: &str, instance: u32) -> PathBuf {
    service_dir(data_dir, namespace, service).join(format!("{instance}.log"))
}

/// The directory of a service's logs (removed with the service).
pub fn service_dir(data_dir: &Path, namespace: &str, service: &str) -> PathBuf {
    data_dir.join("logs").join(namespace).join(service)
}

fn rotated(path: &Path, n: u32) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

/// An open, size-rotated log.
#[derive(Debug)]
pub struct LogFile {
    file: std::fs::File,
    path: PathBuf,
    size: u64,
}

impl LogFile {
    pub fn open(path: &Path) -> std::io::Result<Self> {
        if let Some(dir) = path.parent() {
            crate::fs::create_private_dirs(dir)?;
        }
        let file = open_append(path)?;
        let size = file.metadata()?.len();
        Ok(Self {
            file,
            path: path.to_path_buf(),
            size,
        })
    }

    /// Appends `bytes`, rotating first when the current file would grow past [`MAX_SIZE`].
    pub fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if self.size > 0 && self.size + bytes.len() as u64 > MAX_SIZE {
            self.rotate()?;
        }
        self.file.write_all(bytes)?;
        self.size += bytes.len() as u64;
        Ok(())
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        let _ = std::fs::remove_file(rotated(&self.path, KEPT));
        for n in (1..KEPT).rev() {
            let from = rotated(&self.path, n);
            if from.exists() {
                std::fs::rename(&from, rotated(&self.path, n + 1))?;
            }
        }
        std::fs::rename(&self.path, rotated(&self.path, 1))?;
        self.file = open_append(&self.path)?;
        self.size = 0;
        Ok(())
    }
}

fn open_append(path: &Path) -> std::io::Result<std::fs::File> {
    crate::fs::open_private_append(path)
}

/// Reads a log. Without `offset`: every kept file, oldest first. With it: the current file from
/// that byte on (from 0 when the file is now shorter: it was rotated). Returns the bytes and the
/// offset to ask for next.
pub fn read(path: &Path, offset: Option<u64>) -> std::io::Result<(Vec<u8>, u64)> {
    let mut out = Vec::new();
    if offset.is_none() {
        for n in (1..=KEPT).rev() {
            match std::fs::read(rotated(path, n)) {
                Ok(bytes) => out.extend(bytes),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
    }
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((out, 0)),
        Err(e) => return Err(e),
    };
    let len = file.metadata()?.len();
    let start = offset.filter(|o| *o <= len).unwrap_or(0);
    file.seek(SeekFrom::Start(start))?;
    let read = file.take(len - start).read_to_end(&mut out)?;
    Ok((out, start + read as u64))
}

#[cfg(test)]
mod tests {
    /// Writing past the size limit rotates; reading without an offset returns everything kept,
    /// oldest first; an offset reads on from where the last read stopped.
    #[test]
    fn rotates_and_reads_with_offsets() {
        let dir = tempfile::tempdir().unwrap();
        let path = super::path(dir.path(), "ns", "svc", 0);
        let mut log = super::LogFile::open(&path).unwrap();
        let chunk = vec![b'a'; 700 * 1024];
        log.write(&chunk).unwrap();
        log.write(&vec![b'b'; 700 * 1024]).unwrap();
        log.write(b"tail\n").unwrap();
        let (all, offset) = super::read(&path, None).unwrap();
        assert_eq!(all.len(), 1400 * 1024 + 5);
        assert_eq!(all[0], b'a');
        assert!(all.ends_with(b"btail\n"));
        log.write(b"more\n").unwrap();
        let (next, _) = super::read(&path, Some(offset)).unwrap();
        assert_eq!(next, b"more\n");
        for _ in 0..10 {
            log.write(&chunk).unwrap();
        }
        assert!(!super::rotated(&path, super::KEPT + 1).exists());
        assert!(super::rotated(&path, super::KEPT).exists());
    }
}
