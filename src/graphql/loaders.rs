//! Batched loading of related records, so that listing 100 leads with their owners costs one
//! query for the leads and one for the owners, not one per lead.
//!
//! One [`RecordLoader`] serves every relation: each key newtype below is a relation, and
//! async-graphql's `DataLoader` batches the keys of each type separately. The loader is built per
//! request without a cache, so a mutation never reads a stale record.

use std::collections::HashMap;
use std::hash::Hash;

use async_graphql::dataloader::{DataLoader, Loader};
use entity::{account, contact, lead, note, opportunity, stakeholder, user};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::db::Db;
use crate::error::AppError;

/// Loads records on behalf of one request.
pub struct RecordLoader {
    db: Db,
}

/// The per-request loader.
pub type Loaders = DataLoader<RecordLoader>;

/// A new loader for one request.
pub fn loaders(db: Db) -> Loaders {
    DataLoader::new(RecordLoader { db }, tokio::spawn)
}

/// The error a loader reports (turned into a GraphQL error with its code).
pub type LoadError = async_graphql::Error;

fn load_error(err: sea_orm::DbErr) -> LoadError {
    AppError::from(err).into()
}

macro_rules! by_id {
    ($(#[$doc:meta])* $key:ident, $entity:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $key(pub Uuid);

        impl Loader<$key> for RecordLoader {
            type Value = $entity::Model;
            type Error = LoadError;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Self::Value>, Self::Error> {
                let rows = $entity::Entity::find()
                    .filter($entity::Column::Id.is_in(keys.iter().map(|k| k.0)))
                    .all(&self.db.read)
                    .await
                    .map_err(load_error)?;
                Ok(rows.into_iter().map(|r| ($key(r.id), r)).collect())
            }
        }
    };
}

by_id!(
    /// A user by id.
    UserId, user
);
by_id!(
    /// An account by id.
    AccountId, account
);
by_id!(
    /// A contact by id.
    ContactId, contact
);
by_id!(
    /// A lead by id.
    LeadId, lead
);
by_id!(
    /// An opportunity by id.
    OpportunityId, opportunity
);

/// Groups `rows` by `parent`, keeping the query's order.
fn group<K: Hash + Eq, T>(rows: Vec<T>, parent: impl Fn(&T) -> Option<K>) -> HashMap<K, Vec<T>> {
    let mut groups: HashMap<K, Vec<T>> = HashMap::new();
    for row in rows {
        if let Some(key) = parent(&row) {
            groups.entry(key).or_default().push(row);
        }
    }
    groups
}

macro_rules! children {
    ($(#[$doc:meta])* $key:ident, $entity:ident, $column:ident, $order:ident, |$row:ident| $parent:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $key(pub Uuid);

        impl Loader<$key> for RecordLoader {
            type Value = Vec<$entity::Model>;
            type Error = LoadError;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Self::Value>, Self::Error> {
                let rows = $entity::Entity::find()
                    .filter($entity::Column::$column.is_in(keys.iter().map(|k| k.0)))
                    .order_by_asc($entity::Column::$order)
                    .order_by_asc($entity::Column::Id)
                    .all(&self.db.read)
                    .await
                    .map_err(load_error)?;
                Ok(group(rows, |$row: &$entity::Model| $parent.map($key)))
            }
        }
    };
}

/// The custom field values of a record (lead, account, contact or opportunity).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CustomValuesOf(pub Uuid);

impl Loader<CustomValuesOf> for RecordLoader {
    type Value = Vec<crate::service::custom_fields::FieldValue>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[CustomValuesOf],
    ) -> Result<HashMap<CustomValuesOf, Self::Value>, Self::Error> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let values = crate::service::custom_fields::values_of(&self.db.read, &ids).await?;
        Ok(values
            .into_iter()
            .map(|(id, v)| (CustomValuesOf(id), v))
            .collect())
    }
}

children!(
    /// The notes regarding a record, oldest first.
    NotesRegarding, note, RegardingId, CreatedAt, |n| Some(n.regarding_id)
);

/// Default number of notes a record's `notes` returns.
pub const DEFAULT_NOTES_PAGE: u64 = 20;
/// Most notes one `notes` list returns.
pub const MAX_NOTES_PAGE: u64 = 100;

/// One page of the notes regarding a record, oldest first: at most `first`, after the note
/// `after` when given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NotesPage {
    pub regarding: Uuid,
    pub first: u64,
    pub after: Option<Uuid>,
}

impl Loader<NotesPage> for RecordLoader {
    type Value = Vec<note::Model>;
    type Error = LoadError;

    /// One statement per distinct (`first`, `after`) among the keys: a window over the records'
    /// notes keeps the first `first` of each, so a record with thousands of notes costs a page.
    async fn load(
        &self,
        keys: &[NotesPage],
    ) -> Result<HashMap<NotesPage, Self::Value>, Self::Error> {
        use sea_orm::{DbBackend, FromQueryResult, Statement};
        let mut groups: HashMap<(u64, Option<Uuid>), Vec<Uuid>> = HashMap::new();
        for key in keys {
            groups
                .entry((key.first, key.after))
                .or_default()
                .push(key.regarding);
        }
        let backend = self.db.read.get_database_backend();
        let mut pages = HashMap::with_capacity(keys.len());
        for ((first, after), regarding) in groups {
            for chunk in regarding.chunks(crate::service::MAX_BINDS / 2) {
                let mut values: Vec<sea_orm::Value> = Vec::with_capacity(chunk.len() + 2);
                let mut mark = |value: sea_orm::Value| {
                    values.push(value);
                    match backend {
                        DbBackend::Postgres => format!("${}", values.len()),
                        _ => "?".to_owned(),
                    }
                };
                let ids: Vec<String> = chunk.iter().map(|id| mark((*id).into())).collect();
                let after_clause = match after {
                    Some(after) => {
                        let a = mark(after.into());
                        let b = mark(after.into());
                        let c = mark(after.into());
                        format!(
                            " AND (created_at > (SELECT created_at FROM notes WHERE id = {a}) \
                              OR (created_at = (SELECT created_at FROM notes WHERE id = {b}) \
                                  AND id > {c}))"
                        )
                    }
                    None => String::new(),
                };
                let limit = mark(i64::try_from(first).unwrap_or(i64::MAX).into());
                let sql = format!(
                    "SELECT * FROM (SELECT notes.*, ROW_NUMBER() OVER \
                     (PARTITION BY regarding_id ORDER BY created_at, id) AS page_row \
                     FROM notes WHERE regarding_id IN ({}){after_clause}) AS paged \
                     WHERE page_row <= {limit} ORDER BY regarding_id, page_row",
                    ids.join(", ")
                );
                let rows = note::Model::find_by_statement(Statement::from_sql_and_values(
                    backend, sql, values,
                ))
                .all(&self.db.read)
                .await
                .map_err(load_error)?;
                for row in rows {
                    pages
                        .entry(NotesPage {
                            regarding: row.regarding_id,
                            first,
                            after,
                        })
                        .or_insert_with(Vec::new)
                        .push(row);
                }
            }
        }
        Ok(pages)
    }
}
children!(
    /// The opportunities that originated from a lead.
    OpportunitiesOfLead, opportunity, OriginatingLeadId, CreatedAt, |o| o.originating_lead_id
);
children!(
    /// The opportunities of an account.
    OpportunitiesOfAccount, opportunity, AccountId, CreatedAt, |o| o.account_id
);
children!(
    /// The contacts whose parent is an account.
    ContactsOfAccount, contact, ParentAccountId, CreatedAt, |c| c.parent_account_id
);
children!(
    /// The stakeholders of a lead.
    StakeholdersOfLead, stakeholder, LeadId, CreatedAt, |s| s.lead_id
);
children!(
    /// The stakeholders of an opportunity.
    StakeholdersOfOpportunity, stakeholder, OpportunityId, CreatedAt, |s| s.opportunity_id
);
