//! Files that must never be seen half-written or by the wrong user: private files (mode 0600)
//! and directories (0700) for keys, tokens and logs, and atomic replacement for everything that
//! is rewritten in place (the config file, the token file, runefiles, the git hook); and the
//! confinement of paths a runefile names to its file root ([`confine`]).
//!
//! In: a path and the bytes it should hold. Out: the file, complete, or the old file untouched.
//! Must not happen here: a file holding a secret created with a mode that lets others read it,
//! even for a moment (modes are given at creation, not set after the bytes are written).
//!
//! Inside the crate this module is `crate::fs`; the standard library's is spelled `std::fs`.

mod atomic;
pub mod confine;
mod private;

pub use atomic::{replace_executable, replace_keeping_mode, replace_private};
pub use private::{
    create_private, create_private_dirs, ensure_private_dir, open_private_append, restrict_to_owner,
};
