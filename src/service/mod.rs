//! The use cases. Each public function is one use case: it checks the rules, owns its
//! transaction and knows nothing of GraphQL. Helpers that run inside a caller's transaction take
//! `&impl ConnectionTrait`.

pub mod access;
pub mod accounts;
pub mod audit;
pub mod contacts;
pub mod custom_fields;
pub mod duplicate_rules;
pub mod duplicates;
pub mod events;
pub mod field_mappings;
pub mod leads;
pub mod notes;
pub mod opportunities;
pub mod paging;
pub mod persisted;
pub mod qualification;
pub mod settings;
pub mod stakeholders;
pub mod users;

use std::collections::HashMap;

use entity::{account, contact, lead, opportunity};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, Iterable, QueryFilter};
use uuid::Uuid;

use crate::error::AppResult;

/// Most bind variables one statement uses: below SQLite's limit (32,766) and PostgreSQL's
/// (65,535), so a batch never fails for its size.
pub const MAX_BINDS: usize = 30_000;

pub use crate::domain::{new_id, now};

/// What kind of record `id` is (a lead, account, contact or opportunity) and who owns it, or
/// `NOT_FOUND`.
pub async fn record_of(
    conn: &impl ConnectionTrait,
    id: Uuid,
) -> AppResult<(entity::RecordType, Uuid)> {
    use entity::RecordType;
    if let Some(l) = lead::Entity::find_by_id(id).one(conn).await? {
        return Ok((RecordType::Lead, l.owner_id));
    }
    if let Some(o) = opportunity::Entity::find_by_id(id).one(conn).await? {
        return Ok((RecordType::Opportunity, o.owner_id));
    }
    if let Some(a) = account::Entity::find_by_id(id).one(conn).await? {
        return Ok((RecordType::Account, a.owner_id));
    }
    if let Some(c) = contact::Entity::find_by_id(id).one(conn).await? {
        return Ok((RecordType::Contact, c.owner_id));
    }
    Err(crate::error::AppError::NotFound {
        record: "lead, account, contact or opportunity",
        id: id.to_string(),
    })
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

/// Records of one kind by id, read in chunks.
pub async fn by_ids<E>(
    conn: &impl ConnectionTrait,
    ids: Vec<Uuid>,
) -> AppResult<HashMap<Uuid, E::Model>>
where
    E: EntityTrait,
    E::Model: HasId,
    E::Column: IdColumn,
{
    let mut found = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(MAX_BINDS) {
        for model in E::find()
            .filter(E::Column::id().is_in(chunk.iter().copied()))
            .all(conn)
            .await?
        {
            found.insert(model.id(), model);
        }
    }
    Ok(found)
}

/// A model's id.
pub trait HasId {
    fn id(&self) -> Uuid;
}

/// An entity's id column.
pub trait IdColumn: ColumnTrait {
    fn id() -> Self;
}

macro_rules! with_id {
    ($($module:ident),+) => {$(
        impl HasId for $module::Model {
            fn id(&self) -> Uuid {
                self.id
            }
        }
        impl IdColumn for $module::Column {
            fn id() -> Self {
                $module::Column::Id
            }
        }
    )+};
}
with_id!(lead, account, contact, opportunity);
