//! The use cases. Each public function is one use case: it checks the rules, owns its
//! transaction and knows nothing of GraphQL. Helpers that run inside a caller's transaction take
//! `&impl ConnectionTrait`.

pub mod access;
pub mod accounts;
pub mod audit;
pub mod bulk;
pub mod contacts;
pub mod duplicate_rules;
pub mod duplicates;
pub mod leads;
pub mod notes;
pub mod opportunities;
pub mod paging;
pub mod qualification;
pub mod settings;
pub mod stakeholders;
pub mod summary;
pub mod users;

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Iterable};
use uuid::Uuid;

use crate::error::AppResult;

/// Most bind variables one statement uses: below SQLite's limit (32,766) and PostgreSQL's
/// (65,535), so a batch never fails for its size.
pub const MAX_BINDS: usize = 30_000;

/// A new time-ordered record id.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

/// The current time, to the microsecond (what both databases store).
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// Inserts `rows` with as few multi-row `INSERT` statements as the bind-variable limit allows
/// (inside the caller's transaction).
pub async fn insert_all<A>(conn: &impl ConnectionTrait, rows: Vec<A>) -> AppResult<()>
where
    A: ActiveModelTrait + Send,
{
    if rows.is_empty() {
        return Ok(());
    }
    let columns = <A::Entity as EntityTrait>::Column::iter().count().max(1);
    let per_statement = (MAX_BINDS / columns).max(1);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(per_statement).collect();
        <A::Entity as EntityTrait>::insert_many(chunk)
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}
