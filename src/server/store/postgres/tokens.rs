//! Tokens in the database (SPEC §4.5): every replica reads them from there on each request,
//! so a token created or revoked with `runed token create|revoke` against the postgres
//! configuration counts at once everywhere.
//!
//! In: token metadata ([`TokenInfo`]: name, scope, permissions, hash). Out: the same, read
//! back. Creating a token records the fail-closed latch in the same transaction, so no replica
//! can see a token while the store still counts as never having had one.
//! Must not happen here: a token itself — only its hash is ever given to this store.

use crate::server::store::postgres::tx::AUTH_REQUIRED;
use crate::server::store::postgres::{PgStore, db};
use crate::server::store::{StoreError, TokenStore};
use crate::server::tokens::{TokenError, TokenInfo};

/// The `rune_tokens` table of a [`PgStore`].
#[derive(Clone, Debug)]
pub struct PgTokenStore {
    store: PgStore,
}

impl PgTokenStore {
    pub(super) fn new(store: PgStore) -> Self {
        Self { store }
    }
}

#[allow(clippy::needless_pass_by_value)] // used as `map_err(failed)`
fn failed(error: StoreError) -> TokenError {
    TokenError::Store(error.to_string())
}

/// PostgreSQL's code for a unique violation (the name is taken).
const UNIQUE_VIOLATION: &str = "23505";

impl TokenStore for PgTokenStore {
    fn entries(&self) -> Result<Vec<TokenInfo>, TokenError> {
        let rows = self
            .store
            .with_client(|client| {
                client
                    .query("SELECT info FROM rune_tokens ORDER BY name", &[])
                    .map_err(db)
            })
            .map_err(failed)?;
        rows.iter()
            .map(|row| {
                serde_json::from_str(row.get::<_, &str>(0))
                    .map_err(|e| TokenError::Store(format!("a stored token does not decode: {e}")))
            })
            .collect()
    }

    fn insert(&self, info: TokenInfo) -> Result<(), TokenError> {
        let json = serde_json::to_string(&info)
            .map_err(|e| TokenError::Store(format!("a token does not encode: {e}")))?;
        let taken = self
            .store
            .with_client(|client| {
                let mut tx = client.transaction().map_err(db)?;
                let at = crate::server::clock::now();
                tx.execute(
                    "INSERT INTO rune_meta (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    &[&AUTH_REQUIRED, &at.as_bytes()],
                )
                .map_err(db)?;
                match tx.execute(
                    "INSERT INTO rune_tokens (name, info) VALUES ($1, $2)",
                    &[&info.name, &json],
                ) {
                    Err(error)
                        if error.code().map(postgres::error::SqlState::code)
                            == Some(UNIQUE_VIOLATION) =>
                    {
                        return Ok(true);
                    }
                    other => other.map_err(db)?,
                };
                tx.commit().map_err(db)?;
                Ok(false)
            })
            .map_err(failed)?;
        if taken {
            return Err(TokenError::Exists(info.name));
        }
        Ok(())
    }

    fn remove(&self, name: &str) -> Result<(), TokenError> {
        let removed = self
            .store
            .with_client(|client| {
                client
                    .execute("DELETE FROM rune_tokens WHERE name = $1", &[&name])
                    .map_err(db)
            })
            .map_err(failed)?;
        if removed == 0 {
            return Err(TokenError::NotFound(name.to_owned()));
        }
        Ok(())
    }
}
