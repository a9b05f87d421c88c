//! A [`Caller`] and what it may touch: namespaces (a token may be limited to some) and
//! permissions (`read`, `cast`, `run`, `admin`, SPEC §4.4).
//!
//! In: the caller that authentication found and the object or action a handler is about to
//! reach. Out: `Ok`, or a 403 that names the namespace or the permission missing. Must not
//! happen here: a decision that depends on whether an object exists (the checks look at keys
//! only, so a refusal never reveals what is stored outside the caller's reach).

use crate::resource::Kind;
use crate::server::http::error::ApiError;
use crate::server::tokens::{Permission, Permissions, TokenInfo};
use crate::wire::object::ObjectKey;

/// Who is calling: nobody (open mode) or the holder of a token.
#[derive(Clone)]
pub enum Caller {
    Open,
    Token(TokenInfo),
}

/// Names the token only: its stored hash is an unkeyed hash of a credential.
impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Caller::Open => f.write_str("Open"),
            Caller::Token(token) => f.debug_tuple("Token").field(&token.name).finish(),
        }
    }
}

impl Caller {
    /// What this caller may do; open mode has everything but `run`.
    pub(crate) fn permissions(&self) -> Permissions {
        match self {
            Caller::Open => Permissions::OPEN,
            Caller::Token(token) => token.permissions(),
        }
    }

    /// Whether this caller holds `permission`.
    pub(crate) fn may(&self, permission: Permission) -> bool {
        self.permissions().contains(permission)
    }

    /// `Ok` when this caller holds `permission`; otherwise a 403 that names it and says what
    /// needed it (`action`, e.g. "restarting a service").
    pub(crate) fn require(&self, permission: Permission, action: &str) -> Result<(), ApiError> {
        if self.may(permission) {
            return Ok(());
        }
        Err(ApiError::forbidden(match self {
            Caller::Open => format!(
                "{action} needs the `{permission}` permission, which runed never grants while it serves without authentication (open mode: no token was ever created and the listener is loopback); create a token with `runed token create NAME --permissions read,cast,{permission}` and use it"
            ),
            Caller::Token(token) => format!(
                "token `{}` lacks the `{permission}` permission, which {action} needs (it has {}); an operator creates a token with it: `runed token create NAME --permissions {},{permission}`",
                token.name,
                token.permissions(),
                token.permissions(),
            ),
        }))
    }

    /// Whether this caller may see and act in `namespace` (an open server allows everything).
    pub(crate) fn allows(&self, namespace: &str) -> bool {
        match self {
            Caller::Open => true,
            Caller::Token(token) => token.allows(namespace),
        }
    }

    pub(crate) fn check_namespace(&self, namespace: &str) -> Result<(), ApiError> {
        match self {
            Caller::Token(token) if !token.allows(namespace) => Err(ApiError::forbidden(format!(
                "token `{}` may not act in namespace `{namespace}`",
                token.name
            ))),
            _ => Ok(()),
        }
    }

    /// The `castBy` of what this caller applies; an open server knows nobody.
    pub(crate) fn identity(&self) -> Option<String> {
        match self {
            Caller::Open => None,
            Caller::Token(token) => Some(format!("token:{}", token.name)),
        }
    }

    fn check_cluster(&self) -> Result<(), ApiError> {
        match self {
            Caller::Token(token) if token.is_scoped() => Err(ApiError::forbidden(format!(
                "token `{}` is limited to namespaces and may not change cluster-scoped objects",
                token.name
            ))),
            _ => Ok(()),
        }
    }

    /// Whether a listing shows `key` to this caller: the same rule as [`Caller::check_read`].
    pub(crate) fn sees(&self, key: &ObjectKey) -> bool {
        match key.kind.0 {
            Kind::Namespace => self.allows(&key.name),
            kind if kind.is_namespaced() => self.allows(&key.namespace),
            _ => true,
        }
    }

    /// Reading is wider than writing: a namespace-limited token reads its namespaces, what is in
    /// them, and cluster-scoped objects (as listing them already allows).
    pub(crate) fn check_read(&self, key: &ObjectKey) -> Result<(), ApiError> {
        match key.kind.0 {
            Kind::Namespace => self.check_namespace(&key.name),
            kind if kind.is_namespaced() => self.check_namespace(&key.namespace),
            _ => Ok(()),
        }
    }

    /// Writing: a namespace-limited token writes only inside its namespaces; creating or
    /// deleting a namespace, or a cluster-scoped object, needs an unlimited one.
    pub(crate) fn check_key(&self, key: &ObjectKey) -> Result<(), ApiError> {
        if key.kind.0 == Kind::Namespace {
            return self
                .check_namespace(&key.name)
                .and_then(|()| self.check_cluster());
        }
        if key.kind.0.is_namespaced() {
            self.check_namespace(&key.namespace)
        } else {
            self.check_cluster()
        }
    }

    /// A write or deletion of `key`, short of `process:`: its reach ([`Caller::check_key`]),
    /// `cast`, and `admin` for a cluster-scoped kind (storage classes). Whether a `process:`
    /// service is involved (then `run`) is [`Caller::check_run_service`]'s.
    pub(crate) fn check_write(&self, key: &ObjectKey) -> Result<(), ApiError> {
        self.check_key(key)?;
        self.require(Permission::Cast, "writing or deleting objects")?;
        if key.kind.0 != Kind::Namespace && !key.kind.0.is_namespaced() {
            self.require(
                Permission::Admin,
                &format!("writing or deleting a cluster-scoped object ({key})"),
            )?;
        }
        Ok(())
    }

    /// Writing, changing or deleting a `process:` service needs `run`: it runs commands, and
    /// its output may hold what it read.
    pub(crate) fn check_run_service(&self, key: &ObjectKey) -> Result<(), ApiError> {
        self.require(
            Permission::Run,
            &format!("writing or deleting a `process:` service ({key})"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::object::{KindName, namespace_key};

    fn token(namespaces: &[&str], permissions: &str) -> Caller {
        Caller::Token(TokenInfo {
            created_at: String::new(),
            expires_at: None,
            hash: String::new(),
            name: "t".to_owned(),
            namespaces: namespaces.iter().map(|n| (*n).to_owned()).collect(),
            permissions: Some(Permissions::parse(permissions).unwrap()),
        })
    }

    fn key(kind: Kind, namespace: &str, name: &str) -> ObjectKey {
        ObjectKey {
            kind: KindName(kind),
            name: name.to_owned(),
            namespace: namespace.to_owned(),
        }
    }

    /// Each permission gates its own operations, and a refusal names what is missing.
    #[test]
    fn permissions_gate_writes_and_name_what_is_missing() {
        let secret = key(Kind::Secret, "team", "db");
        let class = key(Kind::StorageClass, "", "fast");
        let reader = token(&[], "read");
        let error = reader.check_write(&secret).unwrap_err();
        assert!(format!("{error:?}").contains("`cast`"), "{error:?}");
        let caster = token(&[], "read,cast");
        caster.check_write(&secret).unwrap();
        caster.check_write(&namespace_key("team")).unwrap();
        let error = caster.check_write(&class).unwrap_err();
        assert!(format!("{error:?}").contains("`admin`"), "{error:?}");
        assert!(caster.check_run_service(&secret).is_err());
        token(&[], "cast,admin").check_write(&class).unwrap();
        token(&[], "run").check_run_service(&secret).unwrap();
        let error = Caller::Open.check_run_service(&secret).unwrap_err();
        assert!(format!("{error:?}").contains("open mode"), "{error:?}");
        Caller::Open.check_write(&class).unwrap();
        let scoped = token(&["team"], "read,cast,run,admin");
        assert!(
            scoped
                .check_write(&key(Kind::Secret, "other", "db"))
                .is_err()
        );
        assert!(scoped.check_write(&class).is_err());
    }
}
