//! Duplicate detection against existing records: match keys, rule evaluation and the reports
//! qualification, lead creation and the lead form's lookups use. The rules themselves are data
//! (`duplicate_rules`), managed in `service::duplicate_rules`; normalization and operators are in
//! `domain::matching`.
//!
//! Every account, contact and lead keeps one `match_keys` row per non-blank matchable field,
//! written in the same transaction as the record. A check looks a rule up through the
//! `(record_type, field, key)` index of its driving condition (the one its lock is taken on;
//! others only when that key is shared by very many records), so the cost grows with the number
//! of matches, not of records, then evaluates every condition of the rule on what it found in
//! Rust, where case sensitivity, similarity, blanks and inactive records are decided.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use entity::{
    DuplicateRecordType, LeadState, MatchOperator, RecordState, account, config_version, contact,
    duplicate_rule, duplicate_rule_condition, lead, match_block, match_key, qualification_settings,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Set, Statement,
};
use uuid::Uuid;

use crate::domain::matching::{
    self, Condition, MatchKey, Normalizer, PhoneRegion, match_field, match_key,
};
pub use crate::domain::matching::{DuplicateReport, Match, MatchedRule};
use crate::error::{AppError, AppResult};

/// Most records a report lists per rule, and the length of a capped index lookup (a key shared
/// by more records is "broad": the rule's other conditions narrow the search instead).
const MAX_CANDIDATES: u64 = 200;

/// A record whose fields can be matched.
#[derive(Debug, Clone, Copy)]
pub enum Record<'a> {
    Account(&'a account::Model),
    Contact(&'a contact::Model),
    Lead(&'a lead::Model),
}

impl Record<'_> {
    pub fn id(&self) -> Uuid {
        match self {
            Record::Account(a) => a.id,
            Record::Contact(c) => c.id,
            Record::Lead(l) => l.id,
        }
    }

    pub fn record_type(&self) -> DuplicateRecordType {
        match self {
            Record::Account(_) => DuplicateRecordType::Account,
            Record::Contact(_) => DuplicateRecordType::Contact,
            Record::Lead(_) => DuplicateRecordType::Lead,
        }
    }

    /// The value of a matchable field (see `domain::matching::MATCH_FIELDS`).
    fn value(&self, field: &str) -> Option<&str> {
        match (self, field) {
            (Record::Account(a), "name") => Some(a.name.as_str()),
            (Record::Account(a), "email") => a.email.as_deref(),
            (Record::Account(a), "phone") => a.phone.as_deref(),
            (Record::Account(a), "website") => a.website.as_deref(),
            (Record::Contact(c), "firstName") => c.first_name.as_deref(),
            (Record::Contact(c), "lastName") => Some(c.last_name.as_str()),
            (Record::Contact(c), "email") => c.email.as_deref(),
            (Record::Contact(c), "businessPhone") => c.business_phone.as_deref(),
            (Record::Contact(c), "mobilePhone") => c.mobile_phone.as_deref(),
            (Record::Lead(l), "firstName") => l.first_name.as_deref(),
            (Record::Lead(l), "lastName") => Some(l.last_name.as_str()),
            (Record::Lead(l), "email") => l.email.as_deref(),
            (Record::Lead(l), "companyName") => l.company_name.as_deref(),
            (Record::Lead(l), "businessPhone") => l.business_phone.as_deref(),
            (Record::Lead(l), "mobilePhone") => l.mobile_phone.as_deref(),
            (Record::Lead(l), "website") => l.website.as_deref(),
            (Record::Account(a), "street1") => a.street1.as_deref(),
            (Record::Account(a), "city") => a.city.as_deref(),
            (Record::Account(a), "stateOrProvince") => a.state_or_province.as_deref(),
            (Record::Account(a), "postalCode") => a.postal_code.as_deref(),
            (Record::Account(a), "countryOrRegion") => a.country_or_region.as_deref(),
            (Record::Contact(c), "street1") => c.street1.as_deref(),
            (Record::Contact(c), "city") => c.city.as_deref(),
            (Record::Contact(c), "stateOrProvince") => c.state_or_province.as_deref(),
            (Record::Contact(c), "postalCode") => c.postal_code.as_deref(),
            (Record::Contact(c), "countryOrRegion") => c.country_or_region.as_deref(),
            (Record::Lead(l), "street1") => l.street1.as_deref(),
            (Record::Lead(l), "city") => l.city.as_deref(),
            (Record::Lead(l), "stateOrProvince") => l.state_or_province.as_deref(),
            (Record::Lead(l), "postalCode") => l.postal_code.as_deref(),
            (Record::Lead(l), "countryOrRegion") => l.country_or_region.as_deref(),
            _ => None,
        }
    }

    /// Inactive accounts and contacts, and closed leads, are "inactive" for
    /// "exclude inactive matching records".
    pub fn is_active(&self) -> bool {
        match self {
            Record::Account(a) => a.state == RecordState::Active,
            Record::Contact(c) => c.state == RecordState::Active,
            Record::Lead(l) => l.state == LeadState::Open,
        }
    }

    fn key(&self, field: &str, normalizer: &Normalizer) -> Option<MatchKey> {
        let kind = match_field(self.record_type(), field)?.kind;
        match_key(kind, self.value(field), normalizer)
    }
}

/// A stored record that can be matched.
pub trait AsRecord {
    /// The record as a [`Record`].
    fn as_record(&self) -> Record<'_>;
}

impl AsRecord for account::Model {
    fn as_record(&self) -> Record<'_> {
        Record::Account(self)
    }
}

impl AsRecord for contact::Model {
    fn as_record(&self) -> Record<'_> {
        Record::Contact(self)
    }
}

impl AsRecord for lead::Model {
    fn as_record(&self) -> Record<'_> {
        Record::Lead(self)
    }
}

/// The match-key rows of a record, and the blocking-key rows of its fields a published FUZZY
/// condition compares.
fn key_rows(
    record: Record<'_>,
    normalizer: &Normalizer,
    fuzzy: &FuzzyFields,
    keys: &mut Vec<match_key::ActiveModel>,
    blocks: &mut Vec<match_block::ActiveModel>,
) {
    let active = record.is_active();
    for field in matching::fields_of(record.record_type()) {
        let Some(key) = match_key(field.kind, record.value(field.name), normalizer) else {
            continue;
        };
        if field.kind.fuzzy() && fuzzy.contains(record.record_type(), field.name) {
            for block in key.blocks() {
                blocks.push(match_block::ActiveModel {
                    record_type: Set(record.record_type()),
                    field: Set(field.name.to_owned()),
                    block: Set(block),
                    record_id: Set(record.id()),
                    active: Set(active),
                });
            }
        }
        keys.push(match_key::ActiveModel {
            record_type: Set(record.record_type()),
            record_id: Set(record.id()),
            field: Set(field.name.to_owned()),
            key: Set(key.exact),
            key_folded: Set(key.folded),
            key_reversed: Set(key.reversed),
            active: Set(active),
        });
    }
}

/// How values are normalized under the settings in force (the organization's phone region).
pub async fn normalizer(conn: &impl ConnectionTrait) -> AppResult<Normalizer> {
    let region: Option<String> = qualification_settings::Entity::find_by_id(1)
        .select_only()
        .column(qualification_settings::Column::PhoneRegion)
        .into_tuple()
        .one(conn)
        .await?;
    Ok(normalizer_of(region.as_deref()))
}

/// The normalizer of a stored phone region (the default region when it is unknown).
pub fn normalizer_of(region: Option<&str>) -> Normalizer {
    Normalizer {
        phone_region: region.and_then(PhoneRegion::parse).unwrap_or_default(),
    }
}

/// The fields whose blocking keys are kept, on the matching side (the stored records a rule
/// reads): the field of each published rule's driving condition ([`lock_condition`]) where
/// that condition is FUZZY (every FUZZY field of the rule where the driving condition may be
/// blank). A rule finds its candidates through its driving condition alone and computes the
/// similarities of its other conditions on them, so no other field needs blocking keys; when
/// the driving key is shared by very many records, the rule reads it in full. Blocking keys are
/// several rows per value, so they are written only where a published rule reads them;
/// publishing such a rule (or changing one) rebuilds them ([`sync_blocks`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FuzzyFields(Vec<(DuplicateRecordType, &'static str)>);

impl FuzzyFields {
    /// The fields `rules` look up through blocking keys.
    pub fn of(rules: &[LoadedRule]) -> Self {
        let mut fields: Vec<(DuplicateRecordType, &'static str)> = Vec::new();
        for rule in rules {
            let Some((_, drive)) = lock_condition(rule) else {
                continue;
            };
            // A driving condition that may be blank hands the lookup to the others (rare:
            // every condition of the rule compares blanks), so they keep blocking keys too.
            let blank_driver = !drive.ignore_blank && rule.conditions.len() > 1;
            let looked_up: Vec<&Condition> = match (drive.operator, blank_driver) {
                (_, true) => rule.conditions.iter().collect(),
                (MatchOperator::Fuzzy, false) => vec![drive],
                _ => Vec::new(),
            };
            for condition in looked_up
                .into_iter()
                .filter(|c| c.operator == MatchOperator::Fuzzy)
            {
                let field = (
                    rule.rule.matching_record_type,
                    condition.matching_field.name,
                );
                if !fields.contains(&field) {
                    fields.push(field);
                }
            }
        }
        fields.sort_by_key(|(record_type, field)| (record_type.as_str(), *field));
        Self(fields)
    }

    fn contains(&self, record_type: DuplicateRecordType, field: &str) -> bool {
        self.0.iter().any(|(t, f)| *t == record_type && *f == field)
    }
}

/// The fields the published rules look up through blocking keys (see [`FuzzyFields`]).
pub async fn fuzzy_fields(conn: &impl ConnectionTrait) -> AppResult<FuzzyFields> {
    let published = duplicate_rule::Entity::find()
        .filter(duplicate_rule::Column::Published.eq(true))
        .all(conn)
        .await?;
    if published.is_empty() {
        return Ok(FuzzyFields::default());
    }
    Ok(FuzzyFields::of(&load_rules(conn, published).await?))
}

/// After a change to duplicate rules (inside its transaction): when the fields published FUZZY
/// conditions compare are no longer `before`, every stored key is rewritten, so the blocking keys
/// are exactly those the published rules read (records stored before a FUZZY rule was published
/// are found by it at once).
pub async fn sync_blocks(conn: &impl ConnectionTrait, before: &FuzzyFields) -> AppResult<()> {
    if fuzzy_fields(conn).await? != *before {
        let normalizer = normalizer(conn).await?;
        recompute_all(conn, &normalizer).await?;
    }
    Ok(())
}

/// Writes the match keys of new records (inside the caller's transaction).
pub async fn insert_keys(conn: &impl ConnectionTrait, records: &[Record<'_>]) -> AppResult<()> {
    if records.is_empty() {
        return Ok(());
    }
    let normalizer = normalizer(conn).await?;
    let fuzzy = fuzzy_fields(conn).await?;
    insert_keys_with(conn, &normalizer, &fuzzy, records).await
}

/// Writes the match keys of new records under `normalizer`, with blocking keys for `fuzzy`.
pub async fn insert_keys_with(
    conn: &impl ConnectionTrait,
    normalizer: &Normalizer,
    fuzzy: &FuzzyFields,
    records: &[Record<'_>],
) -> AppResult<()> {
    let mut keys = Vec::new();
    let mut blocks = Vec::new();
    for record in records {
        key_rows(*record, normalizer, fuzzy, &mut keys, &mut blocks);
    }
    // 7 and 5 columns a row: stay far below every database's bind-variable limit.
    for chunk in keys.chunks(1000) {
        match_key::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(conn)
            .await?;
    }
    for chunk in blocks.chunks(1000) {
        match_block::Entity::insert_many(chunk.to_vec())
            .on_conflict_do_nothing()
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// Marks the match keys of records as active or not (a lead qualified, disqualified or
/// reactivated), inside the caller's transaction.
pub async fn set_active(
    conn: &impl ConnectionTrait,
    record_type: DuplicateRecordType,
    ids: &[Uuid],
    active: bool,
) -> AppResult<()> {
    use sea_orm::sea_query::Expr;
    for chunk in ids.chunks(crate::service::MAX_BINDS) {
        match_key::Entity::update_many()
            .col_expr(match_key::Column::Active, Expr::value(active))
            .filter(match_key::Column::RecordType.eq(record_type))
            .filter(match_key::Column::RecordId.is_in(chunk.iter().copied()))
            .exec(conn)
            .await?;
        match_block::Entity::update_many()
            .col_expr(match_block::Column::Active, Expr::value(active))
            .filter(match_block::Column::RecordType.eq(record_type))
            .filter(match_block::Column::RecordId.is_in(chunk.iter().copied()))
            .exec(conn)
            .await?;
    }
    Ok(())
}

/// Rewrites the match keys of a changed record.
pub async fn replace_keys(conn: &impl ConnectionTrait, record: Record<'_>) -> AppResult<()> {
    delete_keys(conn, record.record_type(), record.id()).await?;
    insert_keys(conn, &[record]).await
}

/// Removes a deleted record's match keys.
pub async fn delete_keys(
    conn: &impl ConnectionTrait,
    record_type: DuplicateRecordType,
    id: Uuid,
) -> AppResult<()> {
    match_key::Entity::delete_many()
        .filter(match_key::Column::RecordType.eq(record_type))
        .filter(match_key::Column::RecordId.eq(id))
        .exec(conn)
        .await?;
    match_block::Entity::delete_many()
        .filter(match_block::Column::RecordType.eq(record_type))
        .filter(match_block::Column::RecordId.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

/// The `config_versions` row holding the normalization version of the stored match keys.
pub const MATCH_KEYS_VERSION: &str = "match_keys";

/// Rewrites every stored match key and blocking key under `normalizer` (inside the caller's
/// transaction): after the normalization rules changed, or the organization's phone region.
pub async fn recompute_all(conn: &impl ConnectionTrait, normalizer: &Normalizer) -> AppResult<()> {
    let fuzzy = fuzzy_fields(conn).await?;
    match_key::Entity::delete_many().exec(conn).await?;
    match_block::Entity::delete_many().exec(conn).await?;
    const PAGE: u64 = 1_000;
    macro_rules! rekey {
        ($entity:ident, $variant:ident) => {{
            let mut after: Option<Uuid> = None;
            loop {
                let mut query = $entity::Entity::find()
                    .order_by_asc($entity::Column::Id)
                    .limit(PAGE);
                if let Some(after) = after {
                    query = query.filter($entity::Column::Id.gt(after));
                }
                let page = query.all(conn).await?;
                let Some(last) = page.last() else { break };
                after = Some(last.id);
                let records: Vec<Record<'_>> = page.iter().map(Record::$variant).collect();
                insert_keys_with(conn, normalizer, &fuzzy, &records).await?;
            }
        }};
    }
    rekey!(account, Account);
    rekey!(contact, Contact);
    rekey!(lead, Lead);
    Ok(())
}

/// Recomputes the stored match keys when they were written by an older normalization
/// ([`matching::NORMALIZATION_VERSION`]); run at startup after the migrations
/// (`startup::connect_and_migrate`).
/// Whether it recomputed them.
pub async fn refresh_match_keys(db: &crate::db::Db) -> AppResult<bool> {
    let txn = db.begin_write().await?;
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        // Processes starting together recompute one after the other: the later ones then find
        // the keys current.
        txn.execute_unprepared("SELECT pg_advisory_xact_lock(7300415001)")
            .await?;
    }
    let stored = config_version::Entity::find_by_id(MATCH_KEYS_VERSION.to_owned())
        .one(&txn)
        .await?;
    if stored
        .as_ref()
        .is_some_and(|v| v.version >= matching::NORMALIZATION_VERSION)
    {
        return Ok(false);
    }
    let normalizer = normalizer(&txn).await?;
    recompute_all(&txn, &normalizer).await?;
    let row = config_version::ActiveModel {
        name: Set(MATCH_KEYS_VERSION.to_owned()),
        version: Set(matching::NORMALIZATION_VERSION),
    };
    if stored.is_some() {
        config_version::Entity::update(row).exec(&txn).await?;
    } else {
        config_version::Entity::insert(row)
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(true)
}

/// A published rule with its conditions.
#[derive(Debug, Clone)]
pub struct LoadedRule {
    pub rule: duplicate_rule::Model,
    pub conditions: Vec<Condition>,
    /// How values are normalized under the settings the rule was loaded with.
    pub normalizer: Normalizer,
}

/// Loads rules with their conditions; conditions naming unknown fields are skipped.
pub async fn load_rules(
    conn: &impl ConnectionTrait,
    rules: Vec<duplicate_rule::Model>,
) -> AppResult<Vec<LoadedRule>> {
    let conditions = duplicate_rule_condition::Entity::find()
        .filter(duplicate_rule_condition::Column::RuleId.is_in(rules.iter().map(|r| r.id)))
        .order_by_asc(duplicate_rule_condition::Column::Position)
        .all(conn)
        .await?;
    let mut by_rule: HashMap<Uuid, Vec<Condition>> = HashMap::new();
    for (c, rule) in conditions
        .iter()
        .filter_map(|c| rules.iter().find(|r| r.id == c.rule_id).map(|r| (c, r)))
    {
        let (Some(base_field), Some(matching_field)) = (
            match_field(rule.base_record_type, &c.base_field),
            match_field(rule.matching_record_type, &c.matching_field),
        ) else {
            continue;
        };
        by_rule.entry(c.rule_id).or_default().push(Condition {
            base_field,
            matching_field,
            operator: c.operator,
            character_count: c.character_count.and_then(|n| usize::try_from(n).ok()),
            ignore_blank: c.ignore_blank,
            similarity: c.similarity.unwrap_or(matching::fuzzy::DEFAULT_SIMILARITY),
        });
    }
    let normalizer = normalizer(conn).await?;
    Ok(rules
        .into_iter()
        .filter_map(|rule| {
            let conditions = by_rule.remove(&rule.id)?;
            Some(LoadedRule {
                rule,
                conditions,
                normalizer,
            })
        })
        .collect())
}

/// The published rules from `base` to `matching`.
pub async fn published_rules(
    conn: &impl ConnectionTrait,
    base: DuplicateRecordType,
    matching: DuplicateRecordType,
) -> AppResult<Vec<LoadedRule>> {
    let rules = duplicate_rule::Entity::find()
        .filter(duplicate_rule::Column::Published.eq(true))
        .filter(duplicate_rule::Column::BaseRecordType.eq(base))
        .filter(duplicate_rule::Column::MatchingRecordType.eq(matching))
        .order_by_asc(duplicate_rule::Column::CreatedAt)
        .order_by_asc(duplicate_rule::Column::Id)
        .all(conn)
        .await?;
    load_rules(conn, rules).await
}

/// Ranges read per statement: SQLite allows 500 terms in a compound `SELECT`; PostgreSQL gets
/// them as one JSON parameter, so its statements can be larger.
const SQLITE_RANGES_PER_STATEMENT: usize = 400;
const POSTGRES_RANGES_PER_STATEMENT: usize = 2_000;

/// One index range a check reads: the match keys of `matching` records whose `field` key
/// (folded, or reversed for "same last N characters") equals `key`, or starts with it; or, for
/// FUZZY (`blocks`), the records with the blocking key `key`. `active_only` reads only the keys
/// of active records (a rule that excludes inactive ones), so inactive records never fill a
/// capped read.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Range {
    pub matching: DuplicateRecordType,
    pub field: &'static str,
    pub reversed: bool,
    pub prefix: bool,
    pub key: String,
    pub blocks: bool,
    pub active_only: bool,
}

impl Range {
    fn of(
        matching: DuplicateRecordType,
        condition: &Condition,
        key: String,
        active_only: bool,
    ) -> Self {
        Self {
            matching,
            field: condition.matching_field.name,
            reversed: condition.operator == MatchOperator::SameLastCharacters,
            prefix: matches!(
                condition.operator,
                MatchOperator::SameFirstCharacters | MatchOperator::SameLastCharacters
            ),
            key,
            blocks: condition.operator == MatchOperator::Fuzzy,
            active_only,
        }
    }

    /// The table and key column the range reads.
    fn source(&self) -> (&'static str, &'static str) {
        if self.blocks {
            ("match_blocks", "block")
        } else if self.reversed {
            ("match_keys", "key_reversed")
        } else {
            ("match_keys", "key_folded")
        }
    }

    /// The largest key in the range: `key` itself, or (for a prefix) every key starting with
    /// `key` sorts between it and `key` followed by the largest character.
    fn upper(&self) -> String {
        if self.prefix {
            format!("{}\u{10FFFF}", self.key)
        } else {
            self.key.clone()
        }
    }
}

/// The statement that reads `ranges`, each capped at `MAX_CANDIDATES + 1` records, as rows of
/// `(probe, record_id)` where `probe` is the range's position. Each range is its own capped
/// index range, so the cost is the number of ranges, never the number of records sharing a key.
///
/// SQLite: a `UNION ALL` of capped subqueries (at most [`SQLITE_RANGES_PER_STATEMENT`]).
/// PostgreSQL: the ranges as one JSON parameter, each read by a `LATERAL` index-only scan, so
/// planning does not grow with the number of ranges.
pub fn lookup_statement(backend: DbBackend, ranges: &[Range]) -> Statement {
    let cap = MAX_CANDIDATES + 1;
    match backend {
        DbBackend::Postgres => {
            let rows: Vec<serde_json::Value> = ranges
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let (table, _) = r.source();
                    serde_json::json!({
                        "i": i, "rt": r.matching.as_str(), "f": r.field,
                        "rev": r.reversed, "blk": table == "match_blocks",
                        "a": r.active_only, "lo": r.key, "hi": r.upper(),
                    })
                })
                .collect();
            let branch = |table: &str, column: &str, reversed: bool, blocks: bool, active: bool| {
                let active_test = if active { " AND active" } else { "" };
                format!(
                    "SELECT q.i AS probe, m.record_id FROM q CROSS JOIN LATERAL \
                     (SELECT record_id FROM {table} WHERE record_type = q.rt AND field = q.f \
                     AND {column} >= q.lo AND {column} <= q.hi{active_test} ORDER BY {column} \
                     LIMIT {cap}) m WHERE q.rev = {reversed} AND q.blk = {blocks} AND q.a = {active}"
                )
            };
            let mut branches = Vec::with_capacity(6);
            for active in [false, true] {
                branches.push(branch("match_keys", "key_folded", false, false, active));
                branches.push(branch("match_keys", "key_reversed", true, false, active));
                branches.push(branch("match_blocks", "block", false, true, active));
            }
            let sql = format!(
                "WITH q AS (SELECT * FROM json_to_recordset($1::json) \
                 AS q(i INT, rt TEXT, f TEXT, rev BOOLEAN, blk BOOLEAN, a BOOLEAN, lo TEXT, \
                 hi TEXT)) {}",
                branches.join(" UNION ALL ")
            );
            Statement::from_sql_and_values(
                backend,
                sql,
                [serde_json::Value::Array(rows).to_string().into()],
            )
        }
        _ => {
            let mut values: Vec<sea_orm::Value> = Vec::with_capacity(ranges.len() * 4);
            let branches: Vec<String> = ranges
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let (table, column) = r.source();
                    values.push(r.matching.as_str().into());
                    values.push(r.field.into());
                    values.push(r.key.as_str().into());
                    let test = if r.prefix {
                        values.push(r.upper().into());
                        format!("{column} >= ? AND {column} <= ?")
                    } else {
                        format!("{column} = ?")
                    };
                    let active = if r.active_only { " AND active" } else { "" };
                    format!(
                        "SELECT {i} AS probe, record_id FROM (SELECT record_id FROM {table} \
                         WHERE record_type = ? AND field = ? AND {test}{active} LIMIT {cap}) AS k{i}"
                    )
                })
                .collect();
            Statement::from_sql_and_values(backend, branches.join(" UNION ALL "), values)
        }
    }
}

/// The records one range found.
#[derive(Debug, Clone, Default)]
struct Hits {
    ids: BTreeSet<Uuid>,
    /// Whether `ids` holds every record with the key (a capped read may stop short).
    complete: bool,
}

/// Reads every range, in as few statements as the backend allows.
async fn read_ranges(conn: &impl ConnectionTrait, ranges: &[Range]) -> AppResult<Vec<Hits>> {
    let backend = conn.get_database_backend();
    let per_statement = match backend {
        DbBackend::Postgres => POSTGRES_RANGES_PER_STATEMENT,
        _ => SQLITE_RANGES_PER_STATEMENT,
    };
    let mut hits: Vec<Hits> = vec![Hits::default(); ranges.len()];
    for (chunk_index, chunk) in ranges.chunks(per_statement).enumerate() {
        let offset = chunk_index * per_statement;
        for row in conn.query_all_raw(lookup_statement(backend, chunk)).await? {
            let probe: i32 = row.try_get("", "probe")?;
            let id: Uuid = row.try_get("", "record_id")?;
            if let Some(h) = usize::try_from(probe)
                .ok()
                .and_then(|p| hits.get_mut(offset + p))
            {
                h.ids.insert(id);
            }
        }
    }
    for h in &mut hits {
        h.complete = h.ids.len() as u64 <= MAX_CANDIDATES;
    }
    Ok(hits)
}

/// What one condition of a rule looks up for one candidate.
enum Probe {
    /// The candidate's key, or the first/last N characters of it, or its FUZZY blocking keys.
    Keys(Vec<String>),
    /// The candidate's field is blank and the condition compares blanks: checked afterwards.
    Blank,
}

/// The lookups a rule needs for a candidate; `None` when the rule cannot match it (a blank the
/// rule ignores, or a value shorter than N characters).
fn probes(rule: &LoadedRule, candidate: Record<'_>) -> Option<Vec<Probe>> {
    let single = rule.conditions.len() == 1;
    let mut probes = Vec::with_capacity(rule.conditions.len());
    for condition in &rule.conditions {
        match candidate.key(condition.base_field.name, &rule.normalizer) {
            None if condition.ignore_blank || single => return None,
            None => probes.push(Probe::Blank),
            Some(key) => {
                let keys = matching::lookup_keys(condition, &key);
                if keys.is_empty() {
                    return None;
                }
                probes.push(Probe::Keys(keys));
            }
        }
    }
    // At least one condition must narrow the search through the index.
    probes
        .iter()
        .any(|p| matches!(p, Probe::Keys(_)))
        .then_some(probes)
}

/// Every range a batch of checks reads, each once.
#[derive(Debug, Default)]
pub struct Ranges {
    list: Vec<Range>,
    index: HashMap<Range, usize>,
}

impl Ranges {
    fn add(&mut self, range: Range) -> usize {
        if let Some(i) = self.index.get(&range) {
            return *i;
        }
        self.list.push(range.clone());
        self.index.insert(range, self.list.len() - 1);
        self.list.len() - 1
    }
}

/// What a check does with one condition of a rule for one candidate.
enum Lookup {
    /// The candidate's field is blank and the condition compares blanks: checked afterwards.
    Blank,
    /// Looked up in the batch's statement: the positions of its ranges in [`Ranges`].
    Now(Vec<usize>),
    /// Looked up only if the rule's driving condition finds too many records (see
    /// [`candidate_ids`]); otherwise checked on the records that condition found.
    Later(Vec<Range>),
    /// A FUZZY condition without blocking keys to look up (see [`FuzzyFields`]): only
    /// checked on the records the other conditions found.
    Unindexed,
}

/// The lookups of each condition of a rule for one candidate.
type Slot = Vec<Lookup>;

/// The checks of one kind of candidate against `rules`, with the ranges they need registered
/// in a shared [`Ranges`] (so accounts and contacts are looked up by one statement).
pub struct Check<'a> {
    rules: &'a [LoadedRule],
    candidates: Vec<Record<'a>>,
    /// Per rule, per candidate: the lookups of each condition, or `None` when the rule cannot
    /// match the candidate.
    slots: Vec<Vec<Option<Slot>>>,
}

impl<'a> Check<'a> {
    /// Registers the lookups `rules` need for `candidates`.
    ///
    /// Each rule is looked up through one *driving* condition, the one its advisory lock is
    /// taken on ([`lock_condition`]: an exact-style condition where the rule has one, else its
    /// first FUZZY one), so that every record the check can find shares the lock with the
    /// candidate. Its range holds every record that may match (a superset); all conditions are
    /// then evaluated on those records. The other conditions are looked up only when the
    /// driving range stops short (a key shared by very many records), or when the candidate's
    /// driving field is blank.
    pub fn new(rules: &'a [LoadedRule], candidates: Vec<Record<'a>>, ranges: &mut Ranges) -> Self {
        let blocked = FuzzyFields::of(rules);
        let slots = rules
            .iter()
            .map(|rule| {
                let drive = lock_condition(rule).map(|(i, _)| i);
                candidates
                    .iter()
                    .map(|candidate| {
                        let probes = probes(rule, *candidate)?;
                        let driven =
                            drive.is_some_and(|d| matches!(probes.get(d), Some(Probe::Keys(_))));
                        Some(
                            rule.conditions
                                .iter()
                                .zip(probes)
                                .enumerate()
                                .map(|(i, (condition, probe))| {
                                    let Probe::Keys(keys) = probe else {
                                        return Lookup::Blank;
                                    };
                                    if condition.operator == MatchOperator::Fuzzy
                                        && !blocked.contains(
                                            rule.rule.matching_record_type,
                                            condition.matching_field.name,
                                        )
                                    {
                                        return Lookup::Unindexed;
                                    }
                                    let ranges_of = keys.into_iter().map(|key| {
                                        Range::of(
                                            rule.rule.matching_record_type,
                                            condition,
                                            key,
                                            rule.rule.exclude_inactive,
                                        )
                                    });
                                    if driven && Some(i) != drive {
                                        Lookup::Later(ranges_of.collect())
                                    } else {
                                        Lookup::Now(ranges_of.map(|r| ranges.add(r)).collect())
                                    }
                                })
                                .collect(),
                        )
                    })
                    .collect()
            })
            .collect();
        Self {
            rules,
            candidates,
            slots,
        }
    }

    /// The matches of each candidate (in candidate order), given what the ranges found;
    /// matched records are read with `load`, once for all rules and candidates.
    pub async fn finish<C, T, F, Fut>(
        self,
        conn: &C,
        found: &Found,
        load: F,
    ) -> AppResult<Vec<Vec<Match<T>>>>
    where
        C: ConnectionTrait,
        T: Clone + AsRecord,
        F: Fn(Vec<Uuid>) -> Fut,
        Fut: std::future::Future<Output = AppResult<Vec<T>>>,
    {
        // Each rule's candidate ids per candidate: what every complete range found.
        let mut ids: Vec<Vec<Vec<Uuid>>> = Vec::with_capacity(self.rules.len());
        for (rule, slots) in self.rules.iter().zip(&self.slots) {
            let mut per_candidate = Vec::with_capacity(self.candidates.len());
            for (candidate, slot) in self.candidates.iter().zip(slots) {
                let found = match slot {
                    None => BTreeSet::new(),
                    Some(slot) => candidate_ids(conn, rule, slot, found).await?,
                };
                per_candidate.push(
                    found
                        .into_iter()
                        .filter(|id| *id != candidate.id())
                        .collect(),
                );
            }
            ids.push(per_candidate);
        }
        let wanted: BTreeSet<Uuid> = ids.iter().flatten().flatten().copied().collect();
        let mut results: Vec<Vec<Match<T>>> = self.candidates.iter().map(|_| Vec::new()).collect();
        if wanted.is_empty() {
            return Ok(results);
        }
        let wanted: Vec<Uuid> = wanted.into_iter().collect();
        let mut records: HashMap<Uuid, T> = HashMap::with_capacity(wanted.len());
        for chunk in wanted.chunks(crate::service::MAX_BINDS) {
            for record in load(chunk.to_vec()).await? {
                records.insert(record.as_record().id(), record);
            }
        }
        for (rule, per_candidate) in self.rules.iter().zip(&ids) {
            for ((candidate, ids), matches) in self
                .candidates
                .iter()
                .zip(per_candidate)
                .zip(results.iter_mut())
            {
                let mut matched = 0;
                for id in ids {
                    if matched == MAX_CANDIDATES {
                        break; // a report lists at most this many records per rule
                    }
                    if let Some(other) = records.get(id)
                        && judge(matches, rule, *candidate, other)
                    {
                        matched += 1;
                    }
                }
            }
        }
        Ok(results)
    }
}

/// What the registered ranges found.
#[derive(Debug)]
pub struct Found {
    ranges: Vec<Range>,
    hits: Vec<Hits>,
}

/// Reads every registered range (one statement for up to hundreds of ranges).
pub async fn read(conn: &impl ConnectionTrait, ranges: Ranges) -> AppResult<Found> {
    let hits = read_ranges(conn, &ranges.list).await?;
    Ok(Found {
        ranges: ranges.list,
        hits,
    })
}

/// The ids a rule may match for one candidate: the intersection of what its looked-up
/// conditions' complete ranges found (a FUZZY condition's ranges, one per blocking key, are
/// united). When every condition looked up so far stopped short (its key is shared by very many
/// records), the conditions left for later are read now. When all of them stopped short too, a
/// rule with one condition keeps what it found (all of them match; reports are capped anyway),
/// and a rule with several reads its first condition's ranges in full.
async fn candidate_ids(
    conn: &impl ConnectionTrait,
    rule: &LoadedRule,
    slot: &[Lookup],
    found: &Found,
) -> AppResult<BTreeSet<Uuid>> {
    // Per looked-up condition: its ranges, what they found, and whether that is everything.
    let mut looked: Vec<(Vec<Range>, BTreeSet<Uuid>, bool)> = Vec::new();
    for lookup in slot {
        if let Lookup::Now(positions) = lookup {
            let mut united = BTreeSet::new();
            let mut complete = true;
            let mut ranges = Vec::with_capacity(positions.len());
            for position in positions {
                let hits = found.hits.get(*position).cloned().unwrap_or_default();
                complete &= hits.complete;
                united.extend(hits.ids);
                ranges.extend(found.ranges.get(*position).cloned());
            }
            looked.push((ranges, united, complete));
        }
    }
    if !looked.iter().any(|(_, _, complete)| *complete) {
        for lookup in slot {
            if let Lookup::Later(ranges) = lookup {
                let hits = read_ranges(conn, ranges).await?;
                let complete = hits.iter().all(|h| h.complete);
                let united = hits.into_iter().flat_map(|h| h.ids).collect();
                looked.push((ranges.clone(), united, complete));
            }
        }
    }
    let mut ids: Option<BTreeSet<Uuid>> = None;
    for (_, united, _) in looked.iter().filter(|(_, _, complete)| *complete) {
        ids = Some(match ids {
            None => united.clone(),
            Some(previous) => previous.intersection(united).copied().collect(),
        });
    }
    if let Some(ids) = ids {
        return Ok(ids);
    }
    match (looked.as_slice(), rule.conditions.len()) {
        ([], _) => Ok(BTreeSet::new()),
        ([(_, hits, _)], 1) => Ok(hits.clone()),
        ([(ranges, _, _), ..], _) => {
            // Rare: every key of the rule is shared by very many records. Read the first
            // condition's ranges in full; the rule's conditions are then checked on each record.
            let mut all = BTreeSet::new();
            for range in ranges {
                all.extend(read_full(conn, range).await?);
            }
            Ok(all)
        }
    }
}

/// Every record in a range, uncapped.
async fn read_full(conn: &impl ConnectionTrait, range: &Range) -> AppResult<BTreeSet<Uuid>> {
    if range.blocks {
        let mut query = match_block::Entity::find()
            .select_only()
            .column(match_block::Column::RecordId)
            .filter(match_block::Column::RecordType.eq(range.matching))
            .filter(match_block::Column::Field.eq(range.field))
            .filter(match_block::Column::Block.eq(range.key.as_str()));
        if range.active_only {
            query = query.filter(match_block::Column::Active.eq(true));
        }
        return Ok(query
            .into_tuple::<Uuid>()
            .all(conn)
            .await?
            .into_iter()
            .collect());
    }
    let column = if range.reversed {
        match_key::Column::KeyReversed
    } else {
        match_key::Column::KeyFolded
    };
    let mut query = match_key::Entity::find()
        .select_only()
        .column(match_key::Column::RecordId)
        .filter(match_key::Column::RecordType.eq(range.matching))
        .filter(match_key::Column::Field.eq(range.field));
    if range.active_only {
        query = query.filter(match_key::Column::Active.eq(true));
    }
    let query = if range.prefix {
        query
            .filter(column.gte(range.key.as_str()))
            .filter(column.lte(range.upper()))
    } else {
        query.filter(column.eq(range.key.as_str()))
    };
    Ok(query
        .into_tuple::<Uuid>()
        .all(conn)
        .await?
        .into_iter()
        .collect())
}

/// Whether every condition of the rule holds between the candidate and `other`; the matched
/// fields when it does, and the lowest similarity of its FUZZY conditions.
fn evaluate(
    rule: &LoadedRule,
    candidate: Record<'_>,
    other: Record<'_>,
) -> Option<(Vec<String>, Option<f64>)> {
    let single = rule.conditions.len() == 1;
    let mut fields = Vec::new();
    let mut similarity: Option<f64> = None;
    for condition in &rule.conditions {
        let a = candidate.key(condition.base_field.name, &rule.normalizer);
        let b = other.key(condition.matching_field.name, &rule.normalizer);
        let found = match (&a, &b) {
            (Some(a), Some(b)) => matching::compare(condition, rule.rule.case_sensitive, a, b)?,
            (None, None) if !(condition.ignore_blank || single) => 1.0,
            _ => return None,
        };
        if condition.operator == MatchOperator::Fuzzy {
            similarity = Some(similarity.map_or(found, |s: f64| s.min(found)));
        }
        if !fields.contains(&condition.matching_field.name.to_owned()) {
            fields.push(condition.matching_field.name.to_owned());
        }
    }
    Some((fields, similarity))
}

/// Adds `other` to `matches` when the rule matches it (merging rules per record); whether it
/// did.
fn judge<T: Clone + AsRecord>(
    matches: &mut Vec<Match<T>>,
    rule: &LoadedRule,
    candidate: Record<'_>,
    other: &T,
) -> bool {
    let record = other.as_record();
    if record.id() == candidate.id() || (rule.rule.exclude_inactive && !record.is_active()) {
        return false;
    }
    let Some((fields, similarity)) = evaluate(rule, candidate, record) else {
        return false;
    };
    let matched = MatchedRule {
        rule_name: rule.rule.name.clone(),
        fields,
        similarity,
    };
    match matches
        .iter_mut()
        .find(|m| m.record.as_record().id() == record.id())
    {
        Some(existing) => existing.rules.push(matched),
        None => matches.push(Match {
            record: other.clone(),
            rules: vec![matched],
        }),
    }
    true
}

/// Runs `rules` for many candidates of one kind, loading matched records with `load`: one
/// statement reads every range, one load reads every matched record. The candidates themselves
/// never match. Results are in candidate order.
async fn run_rules<C, T, F, Fut>(
    conn: &C,
    rules: &[LoadedRule],
    candidates: &[Record<'_>],
    load: F,
) -> AppResult<Vec<Vec<Match<T>>>>
where
    C: ConnectionTrait,
    T: Clone + AsRecord,
    F: Fn(Vec<Uuid>) -> Fut,
    Fut: std::future::Future<Output = AppResult<Vec<T>>>,
{
    let mut ranges = Ranges::default();
    let check = Check::new(rules, candidates.to_vec(), &mut ranges);
    let found = read(conn, ranges).await?;
    check.finish(conn, &found, load).await
}

/// Records about to be created in the same batch, matched like stored ones (the bulk path
/// checks each lead's new records against those of the leads before it in its chunk). The keys
/// are kept in ordered maps, so the lookups are the same exact, prefix and blocking-key ranges
/// as the index's.
#[derive(Debug)]
pub struct Pending<T> {
    normalizer: Normalizer,
    records: Vec<T>,
    active: Vec<bool>,
    folded: BTreeMap<(&'static str, String), Vec<usize>>,
    reversed: BTreeMap<(&'static str, String), Vec<usize>>,
    blocks: BTreeMap<(&'static str, String), Vec<usize>>,
}

impl<T> Default for Pending<T> {
    fn default() -> Self {
        Self::new(Normalizer::default())
    }
}

impl<T> Pending<T> {
    /// No records yet; keys are normalized by `normalizer` (the settings in force).
    pub fn new(normalizer: Normalizer) -> Self {
        Self {
            normalizer,
            records: Vec::new(),
            active: Vec::new(),
            folded: BTreeMap::new(),
            reversed: BTreeMap::new(),
            blocks: BTreeMap::new(),
        }
    }
}

impl<T: Clone + AsRecord> Pending<T> {
    /// Adds a record about to be created.
    pub fn add(&mut self, record: T) {
        let position = self.records.len();
        let as_record = record.as_record();
        for field in matching::fields_of(as_record.record_type()) {
            if let Some(key) = match_key(field.kind, as_record.value(field.name), &self.normalizer)
            {
                if field.kind.fuzzy() {
                    for block in key.blocks() {
                        self.blocks
                            .entry((field.name, block))
                            .or_default()
                            .push(position);
                    }
                }
                self.folded
                    .entry((field.name, key.folded))
                    .or_default()
                    .push(position);
                self.reversed
                    .entry((field.name, key.reversed))
                    .or_default()
                    .push(position);
            }
        }
        self.active.push(as_record.is_active());
        self.records.push(record);
    }

    fn lookup(&self, condition: &Condition, key: &str) -> BTreeSet<usize> {
        let field = condition.matching_field.name;
        let map = match condition.operator {
            MatchOperator::SameLastCharacters => &self.reversed,
            MatchOperator::Fuzzy => &self.blocks,
            _ => &self.folded,
        };
        match condition.operator {
            MatchOperator::Exact | MatchOperator::Fuzzy => map
                .get(&(field, key.to_owned()))
                .into_iter()
                .flatten()
                .copied()
                .collect(),
            _ => map
                .range((field, key.to_owned())..)
                .take_while(|((f, k), _)| *f == field && k.starts_with(key))
                .flat_map(|(_, positions)| positions.iter().copied())
                .collect(),
        }
    }

    /// The pending records that `rules` match for `candidate`.
    pub fn matches(&self, rules: &[LoadedRule], candidate: Record<'_>) -> Vec<Match<T>> {
        let mut matches = Vec::new();
        if self.records.is_empty() {
            return matches;
        }
        for rule in rules {
            let Some(probes) = probes(rule, candidate) else {
                continue;
            };
            // As for stored records (`Check::new`): through the driving condition alone when
            // the candidate has a key for it, else through every condition it has a key for.
            let drive = lock_condition(rule)
                .map(|(i, _)| i)
                .filter(|d| matches!(probes.get(*d), Some(Probe::Keys(_))));
            let mut positions: Option<BTreeSet<usize>> = None;
            for (i, (condition, probe)) in rule.conditions.iter().zip(&probes).enumerate() {
                let Probe::Keys(keys) = probe else { continue };
                if drive.is_some_and(|d| d != i) {
                    continue;
                }
                let hits: BTreeSet<usize> = keys
                    .iter()
                    .flat_map(|key| self.lookup(condition, key))
                    .collect();
                positions = Some(match positions {
                    None => hits,
                    Some(previous) => previous.intersection(&hits).copied().collect(),
                });
            }
            for position in positions.unwrap_or_default() {
                if rule.rule.exclude_inactive && !self.active.get(position).copied().unwrap_or(true)
                {
                    continue;
                }
                if let Some(other) = self.records.get(position) {
                    judge(&mut matches, rule, candidate, other);
                }
            }
        }
        matches
    }
}

/// The duplicates of new accounts and new contacts about to be created, each checked against
/// its rules, in candidate order: one statement reads the index ranges of both kinds, one load
/// per kind reads the matched records.
pub async fn matches_of_new(
    conn: &impl ConnectionTrait,
    account_rules: &[LoadedRule],
    accounts: &[&account::Model],
    contact_rules: &[LoadedRule],
    contacts: &[&contact::Model],
) -> AppResult<(
    Vec<Vec<Match<account::Model>>>,
    Vec<Vec<Match<contact::Model>>>,
)> {
    let mut ranges = Ranges::default();
    let account_check = Check::new(
        account_rules,
        accounts.iter().map(|a| Record::Account(a)).collect(),
        &mut ranges,
    );
    let contact_check = Check::new(
        contact_rules,
        contacts.iter().map(|c| Record::Contact(c)).collect(),
        &mut ranges,
    );
    let found = read(conn, ranges).await?;
    let accounts = account_check
        .finish(conn, &found, |ids| load_accounts(conn, ids))
        .await?;
    let contacts = contact_check
        .finish(conn, &found, |ids| load_contacts(conn, ids))
        .await?;
    Ok((accounts, contacts))
}

// ---------------------------------------------------------------------------------------------
// Duplicate detection across concurrent transactions (PostgreSQL).
//
// A check reads committed records only, so two transactions that each create a record the
// other would match could both pass it. Each transaction therefore takes transaction-scoped
// advisory locks (`pg_advisory_xact_lock`) *before* its lookups, on the keys its records would
// be matched by:
//
// - for every record it checks (the base side of a rule), and for every record it creates,
//   checked or not (the matching side: other checks must see it), and for every published rule
//   between their types, one lock on (rule, condition, the condition's lookup key): the whole
//   folded key for EXACT, its first N characters for SAME_FIRST_CHARACTERS, its last N for
//   SAME_LAST_CHARACTERS (`domain::matching::lookup_prefix`, the very key the index lookup uses),
//   or a "blank" marker where the condition lets two blanks match;
// - one condition per rule suffices: records that match under a rule satisfy all of its
//   conditions, so they produce the same key for the chosen one (a condition that ignores
//   blanks is preferred, so that blank values do not all share one lock).
//
// So if X (being created by T1) and Y (being created by T2) match under some rule, T1 and T2
// both lock the same key: the later one waits until the earlier commits (or rolls back), and
// its lookups, which start after it got the lock, see the earlier one's committed records
// (READ COMMITTED takes a new snapshot per statement). Locks are taken in ascending key order
// in one statement, after the transaction's row locks on leads, and a transaction takes no
// further row locks on leads after them, so no two transactions can wait on each other in a
// cycle. A hash collision between unrelated keys only makes one transaction wait. SQLite needs
// none of this: its one writer runs every check-and-write transaction alone.
// ---------------------------------------------------------------------------------------------

/// The namespace of advisory-lock keys (a fixed, random UUID), so that keys are the same in
/// every process and every build.
const LOCK_NAMESPACE: Uuid = Uuid::from_u128(0x8f4c_2a1e_6b3d_4e5f_9a0b_1c2d_3e4f_5a6b);

/// The condition of `rule` whose key is locked: one that ignores blanks, an exact-style one
/// rather than FUZZY where there is a choice (one lock instead of one per blocking key).
fn lock_condition(rule: &LoadedRule) -> Option<(usize, &Condition)> {
    let locks_blanks_apart = |c: &Condition| c.ignore_blank || rule.conditions.len() == 1;
    rule.conditions
        .iter()
        .enumerate()
        .find(|(_, c)| locks_blanks_apart(c) && c.operator != MatchOperator::Fuzzy)
        .or_else(|| {
            rule.conditions
                .iter()
                .enumerate()
                .find(|(_, c)| locks_blanks_apart(c))
        })
        .or_else(|| rule.conditions.iter().enumerate().next())
}

/// The lock keys of one side of `rule` for `record` (none if the rule cannot match it at all):
/// the key its index lookup uses, or for FUZZY one per blocking key — a check only finds
/// records that share a blocking key with the candidate, so matching records share a lock.
fn lock_key(rule: &LoadedRule, record: Record<'_>, base_side: bool) -> Vec<i64> {
    let Some((index, condition)) = lock_condition(rule) else {
        return Vec::new();
    };
    let field = if base_side {
        condition.base_field
    } else {
        condition.matching_field
    };
    let blank_matches = !condition.ignore_blank && rule.conditions.len() > 1;
    let shaped = match record.key(field.name, &rule.normalizer) {
        Some(key) => matching::lookup_keys(condition, &key),
        None if blank_matches => vec!["\u{0}blank".to_owned()],
        None => Vec::new(),
    };
    shaped
        .iter()
        .map(|shaped| {
            let name = format!("{}\u{0}{index}\u{0}{shaped}", rule.rule.id);
            let digest = Uuid::new_v5(&LOCK_NAMESPACE, name.as_bytes());
            let mut first = [0u8; 8];
            first.copy_from_slice(digest.as_bytes().get(..8).unwrap_or(&[0; 8]));
            i64::from_be_bytes(first)
        })
        .collect()
}

/// The advisory-lock keys for checking `checked` and creating `created` under `rules`, sorted
/// and without repeats.
pub fn lock_keys<'r>(
    rules: impl IntoIterator<Item = &'r LoadedRule>,
    checked: &[Record<'_>],
    created: &[Record<'_>],
) -> Vec<i64> {
    let mut keys = BTreeSet::new();
    for rule in rules {
        for record in checked
            .iter()
            .filter(|r| r.record_type() == rule.rule.base_record_type)
        {
            keys.extend(lock_key(rule, *record, true));
        }
        for record in created
            .iter()
            .filter(|r| r.record_type() == rule.rule.matching_record_type)
        {
            keys.extend(lock_key(rule, *record, false));
        }
    }
    keys.into_iter().collect()
}

/// Takes the advisory locks `keys` (ascending) until the end of the transaction; PostgreSQL
/// only (on SQLite the single writer already serializes every write transaction).
pub async fn lock(conn: &impl ConnectionTrait, keys: &[i64]) -> AppResult<()> {
    if keys.is_empty() || conn.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    // Numbers only, so they are safe to inline; array order is the order the locks are taken.
    let list = keys
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    conn.execute_unprepared(&format!(
        "SELECT count(pg_advisory_xact_lock(k)) FROM unnest(ARRAY[{list}]::int8[]) AS t(k)"
    ))
    .await?;
    Ok(())
}

/// The published rules whose matching side is an account or a contact (the rules a new
/// account or contact can be matched by).
pub async fn rules_matching_records(conn: &impl ConnectionTrait) -> AppResult<Vec<LoadedRule>> {
    let rules = duplicate_rule::Entity::find()
        .filter(duplicate_rule::Column::Published.eq(true))
        .filter(
            duplicate_rule::Column::MatchingRecordType
                .is_in([DuplicateRecordType::Account, DuplicateRecordType::Contact]),
        )
        .order_by_asc(duplicate_rule::Column::CreatedAt)
        .order_by_asc(duplicate_rule::Column::Id)
        .all(conn)
        .await?;
    load_rules(conn, rules).await
}

/// Writes the match keys of accounts or contacts created outside qualification (which checks
/// nothing), after taking their matching-side locks, so that a concurrent qualification's
/// check either sees them or finishes before they commit.
pub async fn insert_keys_of_new(
    conn: &impl ConnectionTrait,
    records: &[Record<'_>],
) -> AppResult<()> {
    if conn.get_database_backend() == DbBackend::Postgres {
        let rules = rules_matching_records(conn).await?;
        lock(conn, &lock_keys(&rules, &[], records)).await?;
    }
    insert_keys(conn, records).await
}

pub async fn load_accounts(
    conn: &impl ConnectionTrait,
    ids: Vec<Uuid>,
) -> AppResult<Vec<account::Model>> {
    Ok(account::Entity::find()
        .filter(account::Column::Id.is_in(ids))
        .order_by_asc(account::Column::Id)
        .all(conn)
        .await?)
}

pub async fn load_contacts(
    conn: &impl ConnectionTrait,
    ids: Vec<Uuid>,
) -> AppResult<Vec<contact::Model>> {
    Ok(contact::Entity::find()
        .filter(contact::Column::Id.is_in(ids))
        .order_by_asc(contact::Column::Id)
        .all(conn)
        .await?)
}

async fn load_leads(conn: &impl ConnectionTrait, ids: Vec<Uuid>) -> AppResult<Vec<lead::Model>> {
    Ok(lead::Entity::find()
        .filter(lead::Column::Id.is_in(ids))
        .order_by_asc(lead::Column::Id)
        .all(conn)
        .await?)
}

/// Existing accounts that match an account about to be created, by the given account rules.
pub async fn account_matches_with(
    conn: &impl ConnectionTrait,
    rules: &[LoadedRule],
    candidate: &account::Model,
) -> AppResult<Vec<Match<account::Model>>> {
    let mut found = account_matches_many(conn, rules, &[candidate]).await?;
    Ok(found.pop().unwrap_or_default())
}

/// Existing accounts that match each of many accounts about to be created (in their order).
pub async fn account_matches_many(
    conn: &impl ConnectionTrait,
    rules: &[LoadedRule],
    candidates: &[&account::Model],
) -> AppResult<Vec<Vec<Match<account::Model>>>> {
    let records: Vec<Record<'_>> = candidates.iter().map(|a| Record::Account(a)).collect();
    run_rules(conn, rules, &records, |ids| load_accounts(conn, ids)).await
}

/// Existing contacts that match a contact about to be created, by the given contact rules.
pub async fn contact_matches_with(
    conn: &impl ConnectionTrait,
    rules: &[LoadedRule],
    candidate: &contact::Model,
) -> AppResult<Vec<Match<contact::Model>>> {
    let mut found = contact_matches_many(conn, rules, &[candidate]).await?;
    Ok(found.pop().unwrap_or_default())
}

/// Existing contacts that match each of many contacts about to be created (in their order).
pub async fn contact_matches_many(
    conn: &impl ConnectionTrait,
    rules: &[LoadedRule],
    candidates: &[&contact::Model],
) -> AppResult<Vec<Vec<Match<contact::Model>>>> {
    let records: Vec<Record<'_>> = candidates.iter().map(|c| Record::Contact(c)).collect();
    run_rules(conn, rules, &records, |ids| load_contacts(conn, ids)).await
}

/// Existing accounts that match an account about to be created.
pub async fn account_matches(
    conn: &impl ConnectionTrait,
    candidate: &account::Model,
) -> AppResult<Vec<Match<account::Model>>> {
    let rules = published_rules(
        conn,
        DuplicateRecordType::Account,
        DuplicateRecordType::Account,
    )
    .await?;
    account_matches_with(conn, &rules, candidate).await
}

/// Existing contacts that match a contact about to be created.
pub async fn contact_matches(
    conn: &impl ConnectionTrait,
    candidate: &contact::Model,
) -> AppResult<Vec<Match<contact::Model>>> {
    let rules = published_rules(
        conn,
        DuplicateRecordType::Contact,
        DuplicateRecordType::Contact,
    )
    .await?;
    contact_matches_with(conn, &rules, candidate).await
}

/// Other leads that match a lead, by the published lead rules.
pub async fn lead_duplicates_of(
    conn: &impl ConnectionTrait,
    lead: &lead::Model,
) -> AppResult<Vec<lead::Model>> {
    Ok(lead_matches(conn, lead)
        .await?
        .into_iter()
        .map(|m| m.record)
        .collect())
}

/// Other leads that match a lead, with the rules that matched.
pub async fn lead_matches(
    conn: &impl ConnectionTrait,
    lead: &lead::Model,
) -> AppResult<Vec<Match<lead::Model>>> {
    let rules = published_rules(conn, DuplicateRecordType::Lead, DuplicateRecordType::Lead).await?;
    let mut found = run_rules(conn, &rules, &[Record::Lead(lead)], |ids| {
        load_leads(conn, ids)
    })
    .await?;
    Ok(found.pop().unwrap_or_default())
}

/// Accounts that match a lead (the candidates for its Existing Account).
pub async fn accounts_matching_lead(
    conn: &impl ConnectionTrait,
    lead: &lead::Model,
) -> AppResult<Vec<Match<account::Model>>> {
    let rules = published_rules(
        conn,
        DuplicateRecordType::Lead,
        DuplicateRecordType::Account,
    )
    .await?;
    let mut found = run_rules(conn, &rules, &[Record::Lead(lead)], |ids| {
        load_accounts(conn, ids)
    })
    .await?;
    Ok(found.pop().unwrap_or_default())
}

/// Contacts that match a lead (the candidates for its Existing Contact).
pub async fn contacts_matching_lead(
    conn: &impl ConnectionTrait,
    lead: &lead::Model,
) -> AppResult<Vec<Match<contact::Model>>> {
    let rules = published_rules(
        conn,
        DuplicateRecordType::Lead,
        DuplicateRecordType::Contact,
    )
    .await?;
    let mut found = run_rules(conn, &rules, &[Record::Lead(lead)], |ids| {
        load_contacts(conn, ids)
    })
    .await?;
    Ok(found.pop().unwrap_or_default())
}

/// An error for a rule that names a field the record type does not have.
pub fn unknown_field(field: &str, record: DuplicateRecordType, name: &str) -> AppError {
    let known: Vec<&str> = matching::fields_of(record).map(|f| f.name).collect();
    AppError::bad_input(
        field,
        format!(
            "{name:?} is not a matchable field of {}; use one of {}",
            record.as_str(),
            known.join(", ")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(
        base: DuplicateRecordType,
        matching: DuplicateRecordType,
        conditions: &[(&str, &str, MatchOperator, Option<usize>, bool)],
    ) -> LoadedRule {
        let now = chrono::Utc::now();
        LoadedRule {
            rule: duplicate_rule::Model {
                id: Uuid::now_v7(),
                name: "test rule".into(),
                description: None,
                base_record_type: base,
                matching_record_type: matching,
                case_sensitive: false,
                exclude_inactive: false,
                published: true,
                created_at: now,
                modified_at: now,
            },
            conditions: conditions
                .iter()
                .map(|(b, m, operator, n, ignore_blank)| Condition {
                    base_field: match_field(base, b).unwrap(),
                    matching_field: match_field(matching, m).unwrap(),
                    operator: *operator,
                    character_count: *n,
                    ignore_blank: *ignore_blank,
                    similarity: matching::fuzzy::DEFAULT_SIMILARITY,
                })
                .collect(),
            normalizer: Normalizer::default(),
        }
    }

    fn account(name: &str, website: Option<&str>) -> account::Model {
        let now = chrono::Utc::now();
        account::Model {
            id: Uuid::now_v7(),
            name: name.into(),
            website: website.map(Into::into),
            phone: None,
            email: None,
            street1: None,
            street2: None,
            street3: None,
            city: None,
            state_or_province: None,
            postal_code: None,
            country_or_region: None,
            primary_contact_id: None,
            originating_lead_id: None,
            owner_id: Uuid::now_v7(),
            state: RecordState::Active,
            created_at: now,
            modified_at: now,
        }
    }

    /// The keys a transaction checking and creating `record` locks.
    fn locks(rules: &[LoadedRule], record: &account::Model) -> BTreeSet<i64> {
        let r = Record::Account(record);
        lock_keys(rules, &[r], &[r]).into_iter().collect()
    }

    /// Whether two transactions, each checking and creating one of the records, share a lock.
    fn collide(rules: &[LoadedRule], a: &account::Model, b: &account::Model) -> bool {
        !locks(rules, a).is_disjoint(&locks(rules, b))
    }

    /// Whether a rule matches `b` for `a` (the check a transaction would make).
    fn matches(rule: &LoadedRule, a: &account::Model, b: &account::Model) -> bool {
        evaluate(rule, Record::Account(a), Record::Account(b)).is_some()
    }

    use DuplicateRecordType::Account;
    use MatchOperator::{Exact, Fuzzy, SameFirstCharacters, SameLastCharacters};

    #[test]
    fn records_that_match_under_any_operator_always_share_a_lock() {
        let rules = [
            rule(Account, Account, &[("name", "name", Exact, None, true)]),
            rule(
                Account,
                Account,
                &[("name", "name", SameFirstCharacters, Some(7), true)],
            ),
            rule(
                Account,
                Account,
                &[("name", "name", SameLastCharacters, Some(4), true)],
            ),
        ];
        let pairs = [
            ("Contoso", "  CONTOSO "),
            ("Contoso East", "Contoso West"),
            ("Alpha Corp", "Beta Corp"),
            ("Fabrikam", "Northwind"),
        ];
        for (a, b) in pairs {
            let (a, b) = (account(a, None), account(b, None));
            for rule in &rules {
                if matches(rule, &a, &b) {
                    assert!(
                        collide(std::slice::from_ref(rule), &a, &b),
                        "{} / {}",
                        a.name,
                        b.name
                    );
                }
            }
        }
        // And records that match under no rule take different locks.
        assert!(!collide(
            &rules,
            &account("Fabrikam", None),
            &account("Northwind", None)
        ));
    }

    #[test]
    fn a_rule_of_several_conditions_locks_one_of_them_and_matching_records_share_it() {
        let rules = [rule(
            Account,
            Account,
            &[
                ("website", "website", Exact, None, false),
                ("name", "name", Exact, None, true),
            ],
        )];
        // Same name, both websites blank (blanks match for a condition that does not ignore
        // them): the rule matches, so the locks must meet.
        let (a, b) = (account("Twin", None), account("twin", None));
        assert!(matches(&rules[0], &a, &b));
        assert!(collide(&rules, &a, &b));
        // The condition that ignores blanks is the one locked: other names, other locks.
        assert!(!collide(&rules, &a, &account("Other", None)));
    }

    #[test]
    fn a_rule_comparing_two_different_fields_locks_each_side_on_its_own_field() {
        // A new account whose city equals an existing account's state (two fields of one kind:
        // names and websites are no longer normalized alike, so a rule cannot compare them).
        let rules = [rule(
            Account,
            Account,
            &[("city", "stateOrProvince", Exact, None, true)],
        )];
        let mut checked = account("Contoso", None);
        checked.city = Some("Washington".into());
        let mut created = account("Someone", None);
        created.state_or_province = Some(" WASHINGTON ".into());
        assert!(matches(&rules[0], &checked, &created));
        let base: BTreeSet<i64> = lock_keys(&rules, &[Record::Account(&checked)], &[])
            .into_iter()
            .collect();
        let matching: BTreeSet<i64> = lock_keys(&rules, &[], &[Record::Account(&created)])
            .into_iter()
            .collect();
        assert!(!base.is_disjoint(&matching));
    }

    #[test]
    fn records_that_match_under_fuzzy_share_a_lock_through_a_blocking_key() {
        let rules = [rule(
            Account,
            Account,
            &[("name", "name", Fuzzy, None, true)],
        )];
        for (a, b) in [
            ("Contoso Pharmaceuticals", "Contoso Pharmaceutcals"),
            ("Fabrikam", "Fabrikma Inc."),
            ("Northwind Traders", "Nortwind Traders"),
        ] {
            let (a, b) = (account(a, None), account(b, None));
            assert!(matches(&rules[0], &a, &b), "{} / {}", a.name, b.name);
            assert!(collide(&rules, &a, &b), "{} / {}", a.name, b.name);
        }
        assert!(!collide(
            &rules,
            &account("Fabrikam", None),
            &account("Northwind", None)
        ));
    }

    #[test]
    fn lock_keys_are_sorted_and_never_repeated() {
        let rules = [rule(
            Account,
            Account,
            &[("name", "name", Exact, None, true)],
        )];
        let (a, b) = (account("Same", None), account("SAME", None));
        let keys = lock_keys(
            &rules,
            &[Record::Account(&a), Record::Account(&b)],
            &[Record::Account(&a), Record::Account(&b)],
        );
        assert_eq!(keys.len(), 1);
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        assert_eq!(keys, sorted);
    }
}
