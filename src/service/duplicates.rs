//! Duplicate detection against existing records: match keys, rule evaluation and the reports
//! qualification, lead creation and the lead form's lookups use. The rules themselves are data
//! (`duplicate_rules`), managed in `service::duplicate_rules`; normalization and operators are in
//! `domain::matching`.
//!
//! Every account, contact and lead keeps one `match_keys` row per non-blank matchable field,
//! written in the same transaction as the record. A check looks each condition up through the
//! `(record_type, field, key)` indexes (cost grows with the number of matches, not of records),
//! then evaluates every condition of the rule on the candidates in Rust, where case sensitivity,
//! blanks and inactive records are decided.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use entity::{
    DuplicateRecordType, LeadState, MatchOperator, RecordState, account, contact, duplicate_rule,
    duplicate_rule_condition, lead, match_key,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Set, Statement,
};
use uuid::Uuid;

use crate::domain::matching::{self, Condition, MatchKey, match_field, match_key};
use crate::error::{AppError, AppResult};

/// A rule that matched, and on which fields.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MatchedRule {
    pub rule_name: String,
    pub fields: Vec<String>,
}

/// An existing record that matched, with the rules that matched it.
#[derive(Debug, Clone, PartialEq)]
pub struct Match<T> {
    pub record: T,
    pub rules: Vec<MatchedRule>,
}

/// The existing accounts and contacts a qualification would duplicate.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DuplicateReport {
    pub accounts: Vec<Match<account::Model>>,
    pub contacts: Vec<Match<contact::Model>>,
}

impl DuplicateReport {
    /// Whether nothing matched.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty() && self.contacts.is_empty()
    }
}

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
    fn id(&self) -> Uuid {
        match self {
            Record::Account(a) => a.id,
            Record::Contact(c) => c.id,
            Record::Lead(l) => l.id,
        }
    }

    fn record_type(&self) -> DuplicateRecordType {
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
            _ => None,
        }
    }

    /// Inactive accounts and contacts, and closed leads, are "inactive" for
    /// "exclude inactive matching records".
    fn is_active(&self) -> bool {
        match self {
            Record::Account(a) => a.state == RecordState::Active,
            Record::Contact(c) => c.state == RecordState::Active,
            Record::Lead(l) => l.state == LeadState::Open,
        }
    }

    fn key(&self, field: &str) -> Option<MatchKey> {
        let kind = match_field(self.record_type(), field)?.kind;
        match_key(kind, self.value(field))
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

/// The match-key rows of a record.
fn key_rows(record: Record<'_>) -> Vec<match_key::ActiveModel> {
    matching::fields_of(record.record_type())
        .filter_map(|field| {
            let key = match_key(field.kind, record.value(field.name))?;
            Some(match_key::ActiveModel {
                record_type: Set(record.record_type()),
                record_id: Set(record.id()),
                field: Set(field.name.to_owned()),
                key: Set(key.exact),
                key_folded: Set(key.folded),
                key_reversed: Set(key.reversed),
            })
        })
        .collect()
}

/// Writes the match keys of new records (inside the caller's transaction).
pub async fn insert_keys(conn: &impl ConnectionTrait, records: &[Record<'_>]) -> AppResult<()> {
    let rows: Vec<_> = records.iter().flat_map(|r| key_rows(*r)).collect();
    // 6 columns a row: stay far below every database's bind-variable limit.
    for chunk in rows.chunks(1000) {
        match_key::Entity::insert_many(chunk.to_vec())
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
    Ok(())
}

/// A published rule with its conditions.
#[derive(Debug, Clone)]
pub struct LoadedRule {
    pub rule: duplicate_rule::Model,
    pub conditions: Vec<Condition>,
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
        });
    }
    Ok(rules
        .into_iter()
        .filter_map(|rule| {
            let conditions = by_rule.remove(&rule.id)?;
            Some(LoadedRule { rule, conditions })
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

/// Keys looked up per statement: SQLite allows 500 terms in a compound `SELECT`.
const KEYS_PER_STATEMENT: usize = 400;

/// The index lookup for one condition and many keys, as one statement: for each key, the
/// `(record_id, key)` of at most `MAX_CANDIDATES + 1` `matching` records whose `field` key
/// equals it (exact match) or starts with it ("same first/last N characters", on the reversed
/// key for the last ones). Each key is its own capped index range (`UNION ALL` of subqueries),
/// so the cost is the number of keys, never the number of records sharing one.
pub fn lookup_statement(
    backend: DbBackend,
    matching: DuplicateRecordType,
    condition: &Condition,
    keys: &[String],
) -> Statement {
    let column = match condition.operator {
        MatchOperator::SameLastCharacters => "key_reversed",
        _ => "key_folded",
    };
    let mut values: Vec<sea_orm::Value> = Vec::with_capacity(keys.len() * 4);
    let mut placeholder = |value: sea_orm::Value| {
        values.push(value);
        match backend {
            DbBackend::Postgres => format!("${}", values.len()),
            _ => "?".to_owned(),
        }
    };
    let branches: Vec<String> = keys
        .iter()
        .enumerate()
        .map(|(i, key)| {
            let record_type = placeholder(matching.as_str().into());
            let field = placeholder(condition.matching_field.name.into());
            let test = match condition.operator {
                MatchOperator::Exact => format!("{column} = {}", placeholder(key.as_str().into())),
                // Every key starting with `key` sorts between it and `key` + the largest char.
                _ => format!(
                    "{column} >= {} AND {column} <= {}",
                    placeholder(key.as_str().into()),
                    placeholder(format!("{key}\u{10FFFF}").into())
                ),
            };
            format!(
                "SELECT * FROM (SELECT record_id, {column} AS key FROM match_keys \
                 WHERE record_type = {record_type} AND field = {field} AND {test} \
                 LIMIT {}) AS k{i}",
                MAX_CANDIDATES + 1
            )
        })
        .collect();
    Statement::from_sql_and_values(backend, branches.join(" UNION ALL "), values)
}

/// What one condition of a rule looks up for one candidate.
enum Probe {
    /// The candidate's key, or the first/last N characters of it.
    Key(String),
    /// The candidate's field is blank and the condition compares blanks: checked afterwards.
    Blank,
}

/// The lookups a rule needs for a candidate; `None` when the rule cannot match it (a blank the
/// rule ignores, or a value shorter than N characters).
fn probes(rule: &LoadedRule, candidate: Record<'_>) -> Option<Vec<Probe>> {
    let single = rule.conditions.len() == 1;
    let mut probes = Vec::with_capacity(rule.conditions.len());
    for condition in &rule.conditions {
        match candidate.key(condition.base_field.name) {
            None if condition.ignore_blank || single => return None,
            None => probes.push(Probe::Blank),
            Some(key) => probes.push(Probe::Key(matching::lookup_prefix(condition, &key)?)),
        }
    }
    // At least one condition must narrow the search through the index.
    probes
        .iter()
        .any(|p| matches!(p, Probe::Key(_)))
        .then_some(probes)
}

/// The records one key found.
#[derive(Debug, Clone, Default)]
struct Hits {
    ids: BTreeSet<Uuid>,
    /// Whether `ids` holds every record with the key (a capped lookup may stop short).
    complete: bool,
}

/// The records whose key for `condition` is each of `keys` (or starts with it), from the
/// index, [`KEYS_PER_STATEMENT`] keys per statement. A key shared by more than
/// [`MAX_CANDIDATES`] records (a common first name) is marked incomplete: the rule's other
/// conditions narrow the search instead.
async fn lookup(
    conn: &impl ConnectionTrait,
    matching: DuplicateRecordType,
    condition: &Condition,
    keys: Vec<String>,
) -> AppResult<HashMap<String, Hits>> {
    let mut found: HashMap<String, Hits> = keys
        .iter()
        .map(|k| {
            let hits = Hits {
                ids: BTreeSet::new(),
                complete: true,
            };
            (k.clone(), hits)
        })
        .collect();
    for chunk in keys.chunks(KEYS_PER_STATEMENT) {
        let statement = lookup_statement(conn.get_database_backend(), matching, condition, chunk);
        for row in conn.query_all_raw(statement).await? {
            let id: Uuid = row.try_get("", "record_id")?;
            let key: String = row.try_get("", "key")?;
            let probe = match condition.operator {
                MatchOperator::Exact => Some(key),
                MatchOperator::SameFirstCharacters | MatchOperator::SameLastCharacters => {
                    let n = condition.character_count.unwrap_or(1);
                    Some(key.chars().take(n).collect())
                }
            };
            if let Some(hits) = probe.and_then(|p| found.get_mut(&p)) {
                hits.ids.insert(id);
            }
        }
    }
    for hits in found.values_mut() {
        if hits.ids.len() as u64 > MAX_CANDIDATES {
            hits.complete = false;
        }
    }
    Ok(found)
}

/// The ids a rule may match for one candidate: the intersection of what its complete lookups
/// found. When every lookup stopped short (each key is shared by very many records), a rule
/// with one condition keeps what it found (all of them match; reports are capped anyway), and
/// a rule with several looks its first key up in full.
async fn candidate_ids(
    conn: &impl ConnectionTrait,
    rule: &LoadedRule,
    probes: &[Probe],
    found: &[HashMap<String, Hits>],
) -> AppResult<BTreeSet<Uuid>> {
    let mut ids: Option<BTreeSet<Uuid>> = None;
    let mut broad = Vec::new();
    for (i, probe) in probes.iter().enumerate() {
        let Probe::Key(key) = probe else { continue };
        let hits = found[i].get(key).cloned().unwrap_or_default();
        if !hits.complete {
            broad.push((i, key, hits));
            continue;
        }
        ids = Some(match ids {
            None => hits.ids,
            Some(previous) => previous.intersection(&hits.ids).copied().collect(),
        });
    }
    if let Some(ids) = ids {
        return Ok(ids);
    }
    match (broad.as_slice(), rule.conditions.len()) {
        ([], _) => Ok(BTreeSet::new()),
        ([(_, _, hits)], 1) => Ok(hits.ids.clone()),
        ([(i, key, _), ..], _) => {
            // Rare: every key of the rule is shared by very many records. Read the first in
            // full; the rule's conditions are then checked on each record.
            let condition = &rule.conditions[*i];
            let column = match condition.operator {
                MatchOperator::SameLastCharacters => match_key::Column::KeyReversed,
                _ => match_key::Column::KeyFolded,
            };
            let query = match_key::Entity::find()
                .select_only()
                .column(match_key::Column::RecordId)
                .filter(match_key::Column::RecordType.eq(rule.rule.matching_record_type))
                .filter(match_key::Column::Field.eq(condition.matching_field.name));
            let query = match condition.operator {
                MatchOperator::Exact => query.filter(column.eq(key.as_str())),
                _ => query
                    .filter(column.gte(key.as_str()))
                    .filter(column.lte(format!("{key}\u{10FFFF}"))),
            };
            Ok(query
                .into_tuple::<Uuid>()
                .all(conn)
                .await?
                .into_iter()
                .collect())
        }
    }
}

/// Whether every condition of the rule holds between the candidate and `other`; the matched
/// fields when it does.
fn evaluate(rule: &LoadedRule, candidate: Record<'_>, other: Record<'_>) -> Option<Vec<String>> {
    let single = rule.conditions.len() == 1;
    let mut fields = Vec::new();
    for condition in &rule.conditions {
        let a = candidate.key(condition.base_field.name);
        let b = other.key(condition.matching_field.name);
        let holds = match (&a, &b) {
            (Some(a), Some(b)) => matching::keys_match(condition, rule.rule.case_sensitive, a, b),
            (None, None) => !(condition.ignore_blank || single),
            _ => false,
        };
        if !holds {
            return None;
        }
        if !fields.contains(&condition.matching_field.name.to_owned()) {
            fields.push(condition.matching_field.name.to_owned());
        }
    }
    Some(fields)
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
    let Some(fields) = evaluate(rule, candidate, record) else {
        return false;
    };
    let matched = MatchedRule {
        rule_name: rule.rule.name.clone(),
        fields,
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

/// Runs `rules` for many candidates at once, loading matched records with `load`: one index
/// query per rule condition (per chunk of keys), one load per rule, whatever the number of
/// candidates. The candidates themselves never match. Results are in candidate order.
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
    let mut results: Vec<Vec<Match<T>>> = candidates.iter().map(|_| Vec::new()).collect();
    for rule in rules {
        let probes: Vec<Option<Vec<Probe>>> = candidates.iter().map(|c| probes(rule, *c)).collect();
        // Each condition's distinct keys, looked up together.
        let mut found = Vec::with_capacity(rule.conditions.len());
        for (i, condition) in rule.conditions.iter().enumerate() {
            let keys: BTreeSet<String> = probes
                .iter()
                .flatten()
                .filter_map(|p| match &p[i] {
                    Probe::Key(key) => Some(key.clone()),
                    Probe::Blank => None,
                })
                .collect();
            found.push(
                lookup(
                    conn,
                    rule.rule.matching_record_type,
                    condition,
                    keys.into_iter().collect(),
                )
                .await?,
            );
        }
        // Each candidate's ids: those every complete lookup found.
        let mut ids_per_candidate: Vec<Vec<Uuid>> = Vec::with_capacity(candidates.len());
        for (candidate, probes) in candidates.iter().zip(&probes) {
            let ids = match probes {
                None => BTreeSet::new(),
                Some(probes) => candidate_ids(conn, rule, probes, &found).await?,
            };
            let ids: Vec<Uuid> = ids.into_iter().filter(|id| *id != candidate.id()).collect();
            ids_per_candidate.push(ids);
        }
        let wanted: BTreeSet<Uuid> = ids_per_candidate.iter().flatten().copied().collect();
        if wanted.is_empty() {
            continue;
        }
        let mut records: HashMap<Uuid, T> = HashMap::with_capacity(wanted.len());
        let wanted: Vec<Uuid> = wanted.into_iter().collect();
        for chunk in wanted.chunks(crate::service::MAX_BINDS) {
            for record in load(chunk.to_vec()).await? {
                records.insert(record.as_record().id(), record);
            }
        }
        for ((candidate, ids), matches) in candidates
            .iter()
            .zip(&ids_per_candidate)
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

/// Records about to be created in the same batch, matched like stored ones (the bulk path
/// checks each lead's new records against those of the leads before it in its chunk). The keys
/// are kept in ordered maps, so the lookups are the same exact and prefix ranges as the index's.
#[derive(Debug)]
pub struct Pending<T> {
    records: Vec<T>,
    folded: BTreeMap<(&'static str, String), Vec<usize>>,
    reversed: BTreeMap<(&'static str, String), Vec<usize>>,
}

impl<T> Default for Pending<T> {
    fn default() -> Self {
        Self {
            records: Vec::new(),
            folded: BTreeMap::new(),
            reversed: BTreeMap::new(),
        }
    }
}

impl<T: Clone + AsRecord> Pending<T> {
    /// Adds a record about to be created.
    pub fn add(&mut self, record: T) {
        let position = self.records.len();
        let as_record = record.as_record();
        for field in matching::fields_of(as_record.record_type()) {
            if let Some(key) = match_key(field.kind, as_record.value(field.name)) {
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
        self.records.push(record);
    }

    fn lookup(&self, condition: &Condition, key: &str) -> BTreeSet<usize> {
        let field = condition.matching_field.name;
        let map = match condition.operator {
            MatchOperator::SameLastCharacters => &self.reversed,
            _ => &self.folded,
        };
        match condition.operator {
            MatchOperator::Exact => map
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
            let mut positions: Option<BTreeSet<usize>> = None;
            for (condition, probe) in rule.conditions.iter().zip(&probes) {
                let Probe::Key(key) = probe else { continue };
                let hits = self.lookup(condition, key);
                positions = Some(match positions {
                    None => hits,
                    Some(previous) => previous.intersection(&hits).copied().collect(),
                });
            }
            for position in positions.unwrap_or_default() {
                if let Some(other) = self.records.get(position) {
                    judge(&mut matches, rule, candidate, other);
                }
            }
        }
        matches
    }
}

async fn load_accounts(
    conn: &impl ConnectionTrait,
    ids: Vec<Uuid>,
) -> AppResult<Vec<account::Model>> {
    Ok(account::Entity::find()
        .filter(account::Column::Id.is_in(ids))
        .order_by_asc(account::Column::Id)
        .all(conn)
        .await?)
}

async fn load_contacts(
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
