//! What a token may do (SPEC §4.4): `read`, `cast`, `run`, `admin`.
//!
//! In: the `--permissions` of `runed token create`, or a token file entry. Out: a
//! [`Permissions`] set that the API asks before it acts. Must not happen here: a default wider
//! than `read,cast` for a new token.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One thing a token may do.
#[derive(Clone, Copy, Debug, Eq, PartialEq, Ord, PartialOrd, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Permission {
    /// Get, list, describe, status, history, plan, the seal recipient.
    Read,
    /// Write and delete namespaces, secrets, configmaps, volumes, services without `process:`.
    Cast,
    /// Write `process:` services, restart, logs (a service's output may hold what it read).
    Run,
    /// Tokens, cluster-scoped kinds, KEK and seal-identity operations, audit, reseal.
    Admin,
}

impl Permission {
    pub const ALL: [Permission; 4] = [
        Permission::Read,
        Permission::Cast,
        Permission::Run,
        Permission::Admin,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Permission::Read => "read",
            Permission::Cast => "cast",
            Permission::Run => "run",
            Permission::Admin => "admin",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of [`Permission`]s; written as a list (`["read","cast"]`) in the token file and as
/// `read,cast` on the command line.
#[derive(Clone, Copy, Debug, Eq, PartialEq, Serialize, Deserialize)]
#[serde(into = "Vec<Permission>", from = "Vec<Permission>")]
pub struct Permissions(u8);

impl Permissions {
    /// What `runed token create` gives without `--permissions`.
    pub const DEFAULT: Permissions = Permissions::of(&[Permission::Read, Permission::Cast]);

    /// What a token file entry written before permissions existed gets: what its holder could
    /// do before, except `admin` (then: storage classes), which needs a new token.
    pub const LEGACY: Permissions =
        Permissions::of(&[Permission::Read, Permission::Cast, Permission::Run]);

    /// Open mode (loopback, no token ever): everything but `run` — whoever reaches the port
    /// must not run commands on the machine.
    pub const OPEN: Permissions =
        Permissions::of(&[Permission::Read, Permission::Cast, Permission::Admin]);

    pub const ALL: Permissions = Permissions::of(&Permission::ALL);

    pub const fn of(permissions: &[Permission]) -> Self {
        let mut bits = 0;
        let mut i = 0;
        while i < permissions.len() {
            bits |= 1 << (permissions[i] as u8);
            i += 1;
        }
        Self(bits)
    }

    pub fn contains(self, permission: Permission) -> bool {
        self.0 & permission.bit() != 0
    }

    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL
            .into_iter()
            .filter(move |p| self.contains(*p))
    }

    /// `read,cast,run,admin` in any order; an unknown or empty list is refused.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut bits = 0;
        for word in text.split(',').map(str::trim) {
            let permission = Permission::ALL
                .into_iter()
                .find(|p| p.name().eq_ignore_ascii_case(word))
                .ok_or_else(|| format!("`{word}` is not a permission (read, cast, run, admin)"))?;
            bits |= permission.bit();
        }
        Ok(Self(bits))
    }
}

/// `read,cast`, as SPEC §4.4 says.
impl Default for Permissions {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl From<Vec<Permission>> for Permissions {
    fn from(list: Vec<Permission>) -> Self {
        Self::of(&list)
    }
}

impl From<Permissions> for Vec<Permission> {
    fn from(set: Permissions) -> Self {
        set.iter().collect()
    }
}

impl fmt::Display for Permissions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Permission::name).collect();
        if names.is_empty() {
            f.write_str("none")
        } else {
            f.write_str(&names.join(","))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_parse_print_and_serialise_as_a_list() {
        let set = Permissions::parse("run, READ").unwrap();
        assert!(set.contains(Permission::Read) && set.contains(Permission::Run));
        assert!(!set.contains(Permission::Cast));
        assert_eq!(set.to_string(), "read,run");
        assert_eq!(Permissions::DEFAULT.to_string(), "read,cast");
        assert_eq!(Permissions::LEGACY.to_string(), "read,cast,run");
        assert_eq!(serde_json::to_string(&set).unwrap(), r#"["read","run"]"#);
        let back: Permissions = serde_json::from_str(r#"["admin"]"#).unwrap();
        assert_eq!(back.to_string(), "admin");
        assert!(Permissions::parse("read,root").is_err());
        assert!(Permissions::parse("").is_err());
        assert!(serde_json::from_str::<Permissions>(r#"["root"]"#).is_err());
    }
}
