//! The reads of a qualification run: the configuration (settings, published duplicate rules
//! and field mappings, cached per process and checked against `config_versions` in every transaction), the
//! leads (locked on PostgreSQL), the existing records to link, the stakeholders to copy and
//! the notes to count.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use entity::{
    DuplicateRecordType, account, config_version, contact, lead, note, qualification_settings,
    stakeholder,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::domain::qualification::Mappings;
use crate::error::{AppError, AppResult};
use crate::service::duplicates::{self, LoadedRule};
use crate::service::{self, MAX_BINDS};

/// The names of the versioned configurations.
pub const SETTINGS_VERSION: &str = "qualification_settings";
pub const RULES_VERSION: &str = "duplicate_rules";
/// Custom field definitions and field mappings (one counter: mappings depend on definitions).
pub const CUSTOM_FIELDS_VERSION: &str = "custom_fields";

/// What every qualification of a run is decided under.
#[derive(Debug)]
pub struct Config {
    pub settings: qualification_settings::Model,
    /// Published account → account rules (checked for new accounts).
    pub account_rules: Vec<LoadedRule>,
    /// Published contact → contact rules (checked for new contacts).
    pub contact_rules: Vec<LoadedRule>,
    /// The field mappings in force (standard and custom).
    pub mappings: Mappings,
}

impl Config {
    /// The rules whose keys a run locks (both sides of the checks it makes).
    pub fn checked_rules(&self) -> impl Iterator<Item = &LoadedRule> {
        self.account_rules.iter().chain(&self.contact_rules)
    }
}

/// The versions of (settings, duplicate rules, custom fields) a configuration was read at.
type Versions = (i64, i64, i64);

/// A configuration and the versions it was read at.
type Cached = Option<(Versions, Arc<Config>)>;

/// The configuration as last read, with the versions it was read at. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct ConfigCache {
    cached: Arc<RwLock<Cached>>,
}

impl ConfigCache {
    /// The configuration in force for `conn`'s transaction: one small query when nothing
    /// changed since the last read, a full read otherwise.
    pub async fn load(&self, conn: &impl ConnectionTrait) -> AppResult<Arc<Config>> {
        let versions = versions(conn).await?;
        if let Ok(cached) = self.cached.read()
            && let Some((at, config)) = cached.as_ref()
            && *at == versions
        {
            return Ok(config.clone());
        }
        let config = Arc::new(Config {
            settings: service::settings::get(conn).await?,
            account_rules: duplicates::published_rules(
                conn,
                DuplicateRecordType::Account,
                DuplicateRecordType::Account,
            )
            .await?,
            contact_rules: duplicates::published_rules(
                conn,
                DuplicateRecordType::Contact,
                DuplicateRecordType::Contact,
            )
            .await?,
            mappings: service::field_mappings::compile(conn).await?,
        });
        if let Ok(mut cached) = self.cached.write() {
            *cached = Some((versions, config.clone()));
        }
        Ok(config)
    }
}

/// The change counters of the settings, the duplicate rules and the custom fields.
async fn versions(conn: &impl ConnectionTrait) -> AppResult<Versions> {
    let rows = config_version::Entity::find().all(conn).await?;
    let version = |name: &str| {
        rows.iter()
            .find(|r| r.name == name)
            .map(|r| r.version)
            .ok_or_else(|| AppError::internal(format!("config_versions has no row {name}")))
    };
    Ok((
        version(SETTINGS_VERSION)?,
        version(RULES_VERSION)?,
        version(CUSTOM_FIELDS_VERSION)?,
    ))
}

/// Counts a change of the configuration `name` (inside the transaction that makes it).
pub async fn bump(conn: &impl ConnectionTrait, name: &str) -> AppResult<()> {
    use sea_orm::sea_query::{Expr, ExprTrait};
    config_version::Entity::update_many()
        .col_expr(
            config_version::Column::Version,
            Expr::col(config_version::Column::Version).add(Expr::val(1)),
        )
        .filter(config_version::Column::Name.eq(name))
        .exec(conn)
        .await?;
    Ok(())
}

/// The leads with these ids; with `lock`, locked `FOR UPDATE` in id order (PostgreSQL; on
/// SQLite the write transaction already excludes every other writer), so two runs that share
/// leads never deadlock and the later one sees the earlier one's outcome.
pub async fn leads(
    conn: &impl ConnectionTrait,
    ids: &[Uuid],
    lock: bool,
) -> AppResult<HashMap<Uuid, lead::Model>> {
    let mut found = HashMap::with_capacity(ids.len());
    let mut sorted = ids.to_vec();
    sorted.sort();
    for chunk in sorted.chunks(MAX_BINDS) {
        let mut query = lead::Entity::find()
            .filter(lead::Column::Id.is_in(chunk.iter().copied()))
            .order_by_asc(lead::Column::Id);
        if lock {
            query = query.lock_exclusive();
        }
        for lead in query.all(conn).await? {
            found.insert(lead.id, lead);
        }
    }
    Ok(found)
}

/// Existing accounts and contacts by id (the records a run links).
pub async fn existing(
    conn: &impl ConnectionTrait,
    account_ids: Vec<Uuid>,
    contact_ids: Vec<Uuid>,
) -> AppResult<(HashMap<Uuid, account::Model>, HashMap<Uuid, contact::Model>)> {
    Ok((
        service::by_ids::<account::Entity>(conn, account_ids).await?,
        service::by_ids::<contact::Entity>(conn, contact_ids).await?,
    ))
}

/// The stakeholders of each lead (copied to the opportunities a qualification creates).
pub async fn stakeholders_of(
    conn: &impl ConnectionTrait,
    lead_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<stakeholder::Model>>> {
    let mut by_lead: HashMap<Uuid, Vec<stakeholder::Model>> = HashMap::new();
    for chunk in lead_ids.chunks(MAX_BINDS) {
        for s in stakeholder::Entity::find()
            .filter(stakeholder::Column::LeadId.is_in(chunk.iter().copied()))
            .order_by_asc(stakeholder::Column::CreatedAt)
            .order_by_asc(stakeholder::Column::Id)
            .all(conn)
            .await?
        {
            if let Some(lead_id) = s.lead_id {
                by_lead.entry(lead_id).or_default().push(s);
            }
        }
    }
    Ok(by_lead)
}

/// How many notes each lead has (the summary mentions them).
pub async fn note_counts(
    conn: &impl ConnectionTrait,
    lead_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, u64>> {
    let mut counts = HashMap::new();
    for chunk in lead_ids.chunks(MAX_BINDS) {
        let rows: Vec<(Uuid, i64)> = note::Entity::find()
            .select_only()
            .column(note::Column::RegardingId)
            .column_as(note::Column::Id.count(), "count")
            .filter(note::Column::RegardingId.is_in(chunk.iter().copied()))
            .group_by(note::Column::RegardingId)
            .into_tuple()
            .all(conn)
            .await?;
        for (id, count) in rows {
            counts.insert(id, u64::try_from(count).unwrap_or(0));
        }
    }
    Ok(counts)
}
