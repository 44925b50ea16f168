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

children!(
    /// The notes regarding a record, oldest first.
    NotesRegarding, note, RegardingId, CreatedAt, |n| Some(n.regarding_id)
);
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
