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

use std::collections::{BTreeSet, HashMap};

use entity::{
    DuplicateRecordType, LeadState, MatchOperator, RecordState, account, contact, duplicate_rule,
    duplicate_rule_condition, lead, match_key,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, Select, Set, Statement,
};
use uuid::Uuid;

use crate::domain::matching::{self, Condition, MatchKey, match_field, match_key};
use crate::error::{AppError, AppResult};

/// A rule that matched, and on which fields.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
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

/// Most candidates one condition lookup returns (a rule that matches more is too broad to help).
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

/// The index lookup for one condition: ids of `matching` records whose `field` key equals the
/// candidate's, or shares its first (or, on the reversed key, last) characters.
pub fn lookup_query(
    matching: DuplicateRecordType,
    condition: &Condition,
    prefix: &str,
) -> Select<match_key::Entity> {
    let query = match_key::Entity::find()
        .select_only()
        .column(match_key::Column::RecordId)
        .filter(match_key::Column::RecordType.eq(matching))
        .filter(match_key::Column::Field.eq(condition.matching_field.name));
    let column = match condition.operator {
        MatchOperator::SameLastCharacters => match_key::Column::KeyReversed,
        _ => match_key::Column::KeyFolded,
    };
    let query = match condition.operator {
        MatchOperator::Exact => query.filter(column.eq(prefix)),
        // Every key starting with `prefix` sorts between it and `prefix` + the largest char.
        _ => query
            .filter(column.gte(prefix))
            .filter(column.lte(format!("{prefix}\u{10FFFF}"))),
    };
    query.limit(MAX_CANDIDATES)
}

/// The SQL of [`lookup_query`] (tests show its query plan).
pub fn lookup_statement(
    backend: DbBackend,
    matching: DuplicateRecordType,
    condition: &Condition,
    prefix: &str,
) -> Statement {
    lookup_query(matching, condition, prefix).build(backend)
}

/// Ids of records the rule may match, from the index; `None` when the rule cannot match.
async fn candidate_ids(
    conn: &impl ConnectionTrait,
    rule: &LoadedRule,
    candidate: Record<'_>,
) -> AppResult<Option<BTreeSet<Uuid>>> {
    let single = rule.conditions.len() == 1;
    let mut ids: Option<BTreeSet<Uuid>> = None;
    for condition in &rule.conditions {
        let Some(key) = candidate.key(condition.base_field.name) else {
            if condition.ignore_blank || single {
                return Ok(None);
            }
            continue; // blank = blank, checked on the candidates below
        };
        let Some(prefix) = matching::lookup_prefix(condition, &key) else {
            return Ok(None); // shorter than N characters: cannot share N
        };
        let found: BTreeSet<Uuid> =
            lookup_query(rule.rule.matching_record_type, condition, &prefix)
                .into_tuple::<Uuid>()
                .all(conn)
                .await?
                .into_iter()
                .collect();
        ids = Some(match ids {
            None => found,
            Some(previous) => previous.intersection(&found).copied().collect(),
        });
    }
    Ok(ids)
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

/// Runs `rules` for `candidate`, loading candidates with `load`; the candidate itself and
/// `exclude` never match.
async fn run_rules<C, T, F, Fut>(
    conn: &C,
    rules: &[LoadedRule],
    candidate: Record<'_>,
    exclude: &[Uuid],
    load: F,
) -> AppResult<Vec<Match<T>>>
where
    C: ConnectionTrait,
    T: Clone + AsRecord,
    F: Fn(Vec<Uuid>) -> Fut,
    Fut: std::future::Future<Output = AppResult<Vec<T>>>,
{
    let mut matches: Vec<Match<T>> = Vec::new();
    let mut positions: HashMap<Uuid, usize> = HashMap::new();
    for rule in rules {
        let Some(ids) = candidate_ids(conn, rule, candidate).await? else {
            continue;
        };
        let ids: Vec<Uuid> = ids
            .into_iter()
            .filter(|id| *id != candidate.id() && !exclude.contains(id))
            .collect();
        if ids.is_empty() {
            continue;
        }
        for record in load(ids).await? {
            let other = record.as_record();
            if rule.rule.exclude_inactive && !other.is_active() {
                continue;
            }
            let Some(fields) = evaluate(rule, candidate, other) else {
                continue;
            };
            let matched = MatchedRule {
                rule_name: rule.rule.name.clone(),
                fields,
            };
            match positions.get(&other.id()) {
                Some(&i) => matches[i].rules.push(matched),
                None => {
                    positions.insert(other.id(), matches.len());
                    matches.push(Match {
                        record: record.clone(),
                        rules: vec![matched],
                    });
                }
            }
        }
    }
    Ok(matches)
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
    run_rules(conn, rules, Record::Account(candidate), &[], |ids| {
        load_accounts(conn, ids)
    })
    .await
}

/// Existing contacts that match a contact about to be created, by the given contact rules.
pub async fn contact_matches_with(
    conn: &impl ConnectionTrait,
    rules: &[LoadedRule],
    candidate: &contact::Model,
) -> AppResult<Vec<Match<contact::Model>>> {
    run_rules(conn, rules, Record::Contact(candidate), &[], |ids| {
        load_contacts(conn, ids)
    })
    .await
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
    run_rules(conn, &rules, Record::Lead(lead), &[], |ids| {
        load_leads(conn, ids)
    })
    .await
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
    run_rules(conn, &rules, Record::Lead(lead), &[], |ids| {
        load_accounts(conn, ids)
    })
    .await
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
    run_rules(conn, &rules, Record::Lead(lead), &[], |ids| {
        load_contacts(conn, ids)
    })
    .await
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
