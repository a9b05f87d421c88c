//! Store I/O failures (issue #12): which of them mean a full disk, and the state a store reports
//! for `/healthz`.
//!
//! In: the operating system's I/O errors as a backend meets them. Out: an [`IoFailure`] —
//! whether the storage is full (ENOSPC, EDQUOT: HTTP 507) or failing otherwise (HTTP 503) and
//! the system's own words for it — and a [`Health`]. Must not happen here: a path or any stored
//! byte in the cause; the cause is what clients are told.

use std::fmt;

/// The backend could not read or write its storage.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct IoFailure {
    /// The storage is full (no space left, or the quota is used up): freeing space fixes it.
    pub full: bool,
    /// The operating system's words (`No space left on device (os error 28)`), without a path.
    pub cause: String,
}

impl IoFailure {
    pub fn from_io(error: &std::io::Error) -> Self {
        Self {
            full: is_full(error),
            cause: error.to_string(),
        }
    }
}

impl fmt::Display for IoFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.full {
            write!(f, "the server's storage is full ({})", self.cause)
        } else {
            write!(
                f,
                "the server's storage cannot be read or written ({})",
                self.cause
            )
        }
    }
}

/// Whether an I/O error says the storage has no room: no space left, or the quota is used up.
pub fn is_full(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    ) || error
        .raw_os_error()
        .is_some_and(|code| code == nix::libc::ENOSPC || code == nix::libc::EDQUOT)
}

/// What a store says about itself.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum Health {
    /// Reads and writes work, as far as the store knows.
    Ok,
    /// The last I/O failed, and a fresh attempt (reopening, a probe write) failed too.
    Degraded(IoFailure),
}

#[cfg(test)]
mod tests {
    use super::{IoFailure, is_full};

    #[test]
    fn a_full_disk_and_a_used_quota_are_full_and_other_errors_are_not() {
        let full = std::io::Error::from_raw_os_error(nix::libc::ENOSPC);
        let quota = std::io::Error::from_raw_os_error(nix::libc::EDQUOT);
        let broken = std::io::Error::from_raw_os_error(nix::libc::EIO);
        assert!(is_full(&full) && is_full(&quota));
        assert!(!is_full(&broken));
        let failure = IoFailure::from_io(&full);
        assert!(failure.to_string().contains("storage is full"), "{failure}");
    }
}
