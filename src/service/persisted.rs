//! Persisted operations: GraphQL documents stored under their SHA-256 in the database, so that
//! every server process on it knows them.
//!
//! Two ways in: `leadq persist FILE.graphql` registers a client's documents ahead of time
//! ([`register`]: what `LEADQ_PERSISTED_ONLY` lets run); Apollo's automatic persisted queries
//! ([`remember`]) store a document a client sent once in full with its hash, so that later it
//! sends the hash alone.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use entity::persisted_operation;
use sea_orm::sea_query::OnConflict;
use sea_orm::{EntityTrait, Set};
use sha2::{Digest, Sha256};

use crate::db::Db;
use crate::error::{AppError, AppResult};

/// The SHA-256 of `document`, in lowercase hex (what clients send as `sha256Hash`).
pub fn sha256_hex(document: &str) -> String {
    hex::encode(Sha256::digest(document.as_bytes()))
}

/// Whether `hash` looks like a SHA-256 in hex.
pub fn is_sha256_hex(hash: &str) -> bool {
    hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A stored document.
#[derive(Debug, Clone)]
pub struct Stored {
    pub document: Arc<str>,
    /// Registered ahead of time (`leadq persist`), not only sent once by a client.
    pub registered: bool,
}

/// The documents looked up lately (a hash names its document for good, so they never go stale;
/// only `registered` may change, from false to true, and is read again when it matters).
#[derive(Debug, Default)]
pub struct Cache(Mutex<HashMap<String, Stored>>);

/// Most documents a [`Cache`] holds; past that it starts over.
const CACHE_ENTRIES: usize = 1_000;

impl Cache {
    fn get(&self, hash: &str) -> Option<Stored> {
        self.0.lock().ok()?.get(hash).cloned()
    }

    fn put(&self, hash: &str, stored: Stored) {
        if let Ok(mut cache) = self.0.lock() {
            if cache.len() >= CACHE_ENTRIES {
                cache.clear();
            }
            cache.insert(hash.to_owned(), stored);
        }
    }
}

/// The document stored under `hash`, if any; `registered_only`: only one registered ahead of
/// time counts.
pub async fn find(
    db: &Db,
    cache: &Cache,
    hash: &str,
    registered_only: bool,
) -> AppResult<Option<Stored>> {
    if let Some(stored) = cache.get(hash)
        && (stored.registered || !registered_only)
    {
        return Ok(Some(stored));
    }
    let found = persisted_operation::Entity::find_by_id(hash.to_owned())
        .one(&db.read)
        .await?
        .map(|row| Stored {
            document: Arc::from(row.document),
            registered: row.registered,
        });
    if let Some(stored) = &found {
        cache.put(hash, stored.clone());
    }
    Ok(found.filter(|s| s.registered || !registered_only))
}

/// Stores a document a client sent with its hash (automatic persisted queries); a document
/// already stored stays as it is.
pub async fn remember(db: &Db, hash: &str, document: &str) -> AppResult<()> {
    let row = persisted_operation::ActiveModel {
        sha256: Set(hash.to_owned()),
        document: Set(document.to_owned()),
        registered: Set(false),
        created_at: Set(chrono::Utc::now()),
    };
    persisted_operation::Entity::insert(row)
        .on_conflict(
            OnConflict::column(persisted_operation::Column::Sha256)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&db.write)
        .await?;
    Ok(())
}

/// What [`register`] stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    pub sha256: String,
    /// The names of its operations (`anonymous` for one without a name).
    pub operations: Vec<String>,
}

/// Registers a client's operation document ahead of time (`leadq persist`): it must parse and
/// hold at least one operation. Registering it again changes nothing.
pub async fn register(db: &Db, document: &str) -> AppResult<Registered> {
    let parsed = async_graphql::parser::parse_query(document).map_err(|e| {
        AppError::bad_input("document", format!("the document does not parse: {e}"))
    })?;
    let operations: Vec<String> = parsed
        .operations
        .iter()
        .map(|(name, _)| name.map_or_else(|| "anonymous".to_owned(), |n| n.to_string()))
        .collect();
    if operations.is_empty() {
        return Err(AppError::bad_input(
            "document",
            "the document holds no operation (only fragments?)",
        ));
    }
    let sha256 = sha256_hex(document);
    let row = persisted_operation::ActiveModel {
        sha256: Set(sha256.clone()),
        document: Set(document.to_owned()),
        registered: Set(true),
        created_at: Set(chrono::Utc::now()),
    };
    persisted_operation::Entity::insert(row)
        .on_conflict(
            OnConflict::column(persisted_operation::Column::Sha256)
                .update_column(persisted_operation::Column::Registered)
                .to_owned(),
        )
        .exec_without_returning(&db.write)
        .await?;
    Ok(Registered { sha256, operations })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_lowercase_hex_sha256() {
        assert_eq!(
            sha256_hex("{ __typename }"),
            "7f56e67dd21ab3f30d1ff8b7bed08893f0a0db86449836189b361dd1e56ddb4b"
        );
        assert!(is_sha256_hex(&sha256_hex("x")));
        assert!(!is_sha256_hex("abc"));
    }
}
