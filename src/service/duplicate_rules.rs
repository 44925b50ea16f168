//! Managing duplicate detection rules (System Administrators only). Rules are data: a base record
//! type, a matching record type and AND-ed conditions. At most five rules per base record type
//! are published at once. Match keys are kept for every matchable field whatever the rules say,
//! so changing a rule never leaves stale keys and needs no recomputation.

use entity::{
    DuplicateRecordType, MatchOperator, RecordType, duplicate_rule, duplicate_rule_condition,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};
use serde_json::json;
use uuid::Uuid;

use super::access::ensure_admin;
use super::audit;
use crate::auth::Actor;
use crate::db::Db;
use crate::domain::matching::fuzzy::DEFAULT_SIMILARITY;
use crate::domain::matching::match_field;
use crate::error::{AppError, AppResult};

/// Most rules published per base record type.
pub const MAX_PUBLISHED_PER_BASE: u64 = 5;
/// Most conditions in one rule.
pub const MAX_CONDITIONS: usize = 10;
/// Largest N for "same first/last N characters".
pub const MAX_CHARACTER_COUNT: i32 = 100;

/// A condition as a client sends it.
#[derive(Debug, Clone)]
pub struct NewCondition {
    pub base_field: String,
    pub matching_field: String,
    pub operator: MatchOperator,
    pub character_count: Option<i32>,
    pub ignore_blank: bool,
    /// The threshold of a FUZZY condition (0 to 1; default 0.85).
    pub similarity: Option<f64>,
}

/// A rule as a client sends it.
#[derive(Debug, Clone)]
pub struct NewRule {
    pub name: String,
    pub description: Option<String>,
    pub base_record_type: DuplicateRecordType,
    pub matching_record_type: DuplicateRecordType,
    pub case_sensitive: bool,
    pub exclude_inactive: bool,
    pub conditions: Vec<NewCondition>,
}

/// A rule with its conditions.
pub type RuleWithConditions = (duplicate_rule::Model, Vec<duplicate_rule_condition::Model>);

/// Every rule, published first, with its conditions.
pub async fn list(conn: &impl ConnectionTrait) -> AppResult<Vec<RuleWithConditions>> {
    let rules = duplicate_rule::Entity::find()
        .order_by_desc(duplicate_rule::Column::Published)
        .order_by_asc(duplicate_rule::Column::BaseRecordType)
        .order_by_asc(duplicate_rule::Column::CreatedAt)
        .order_by_asc(duplicate_rule::Column::Id)
        .all(conn)
        .await?;
    let mut conditions = duplicate_rule_condition::Entity::find()
        .order_by_asc(duplicate_rule_condition::Column::Position)
        .all(conn)
        .await?;
    Ok(rules
        .into_iter()
        .map(|rule| {
            let mine = conditions
                .extract_if(.., |c| c.rule_id == rule.id)
                .collect();
            (rule, mine)
        })
        .collect())
}

async fn get(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<RuleWithConditions> {
    let rule = duplicate_rule::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("duplicate rule", id))?;
    let conditions = duplicate_rule_condition::Entity::find()
        .filter(duplicate_rule_condition::Column::RuleId.eq(id))
        .order_by_asc(duplicate_rule_condition::Column::Position)
        .all(conn)
        .await?;
    Ok((rule, conditions))
}

fn validate(rule: &NewRule) -> AppResult<()> {
    if rule.conditions.is_empty() || rule.conditions.len() > MAX_CONDITIONS {
        return Err(AppError::bad_input(
            "conditions",
            format!("a rule needs 1 to {MAX_CONDITIONS} conditions"),
        ));
    }
    for (i, c) in rule.conditions.iter().enumerate() {
        let base = match_field(rule.base_record_type, &c.base_field).ok_or_else(|| {
            super::duplicates::unknown_field(
                &format!("conditions.{i}.baseField"),
                rule.base_record_type,
                &c.base_field,
            )
        })?;
        let matching =
            match_field(rule.matching_record_type, &c.matching_field).ok_or_else(|| {
                super::duplicates::unknown_field(
                    &format!("conditions.{i}.matchingField"),
                    rule.matching_record_type,
                    &c.matching_field,
                )
            })?;
        if !base.kind.compatible(matching.kind) {
            return Err(AppError::bad_input(
                format!("conditions.{i}.matchingField"),
                format!(
                    "{} and {} hold different kinds of values",
                    c.base_field, c.matching_field
                ),
            ));
        }
        match (c.operator, c.similarity) {
            (MatchOperator::Fuzzy, Some(s)) if !(0.0..=1.0).contains(&s) || s.is_nan() => {
                return Err(AppError::bad_input(
                    format!("conditions.{i}.similarity"),
                    "similarity must be between 0 and 1",
                ));
            }
            (MatchOperator::Fuzzy, _) if !(base.kind.fuzzy() && matching.kind.fuzzy()) => {
                return Err(AppError::bad_input(
                    format!("conditions.{i}.operator"),
                    format!(
                        "FUZZY compares names, company names, streets and cities, not {}",
                        c.base_field
                    ),
                ));
            }
            (MatchOperator::Fuzzy, _) | (_, None) => {}
            (_, Some(_)) => {
                return Err(AppError::bad_input(
                    format!("conditions.{i}.similarity"),
                    "similarity goes with FUZZY",
                ));
            }
        }
        match (c.operator, c.character_count) {
            (MatchOperator::Exact | MatchOperator::Fuzzy, None) => {}
            (MatchOperator::Exact | MatchOperator::Fuzzy, Some(_)) => {
                return Err(AppError::bad_input(
                    format!("conditions.{i}.characterCount"),
                    "characterCount goes with SAME_FIRST_CHARACTERS or SAME_LAST_CHARACTERS",
                ));
            }
            (_, Some(n)) if (1..=MAX_CHARACTER_COUNT).contains(&n) => {}
            _ => {
                return Err(AppError::bad_input(
                    format!("conditions.{i}.characterCount"),
                    format!("characterCount must be between 1 and {MAX_CHARACTER_COUNT}"),
                ));
            }
        }
    }
    Ok(())
}

async fn write_conditions(
    conn: &impl ConnectionTrait,
    rule_id: Uuid,
    conditions: &[NewCondition],
) -> AppResult<()> {
    duplicate_rule_condition::Entity::delete_many()
        .filter(duplicate_rule_condition::Column::RuleId.eq(rule_id))
        .exec(conn)
        .await?;
    let single = conditions.len() == 1;
    for (position, c) in conditions.iter().enumerate() {
        duplicate_rule_condition::ActiveModel {
            id: Set(super::new_id()),
            rule_id: Set(rule_id),
            position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
            base_field: Set(c.base_field.clone()),
            matching_field: Set(c.matching_field.clone()),
            operator: Set(c.operator),
            character_count: Set(c.character_count),
            // A single-condition rule always ignores blank values.
            ignore_blank: Set(c.ignore_blank || single),
            similarity: Set(match c.operator {
                MatchOperator::Fuzzy => Some(c.similarity.unwrap_or(DEFAULT_SIMILARITY)),
                _ => None,
            }),
        }
        .insert(conn)
        .await?;
    }
    Ok(())
}

/// Creates an unpublished rule.
pub async fn create(db: &Db, actor: &Actor, rule: NewRule) -> AppResult<RuleWithConditions> {
    ensure_admin(actor, "duplicate detection rules")?;
    validate(&rule)?;
    let txn = db.begin_write().await?;
    let fuzzy_before = super::duplicates::fuzzy_fields(&txn).await?;
    let now = super::now();
    let stored = duplicate_rule::ActiveModel {
        id: Set(super::new_id()),
        name: Set(rule.name.clone()),
        description: Set(rule.description.clone()),
        base_record_type: Set(rule.base_record_type),
        matching_record_type: Set(rule.matching_record_type),
        case_sensitive: Set(rule.case_sensitive),
        exclude_inactive: Set(rule.exclude_inactive),
        published: Set(false),
        created_at: Set(now),
        modified_at: Set(now),
    }
    .insert(&txn)
    .await?;
    write_conditions(&txn, stored.id, &rule.conditions).await?;
    audit::record(
        &txn,
        Some(actor),
        RecordType::DuplicateRule,
        stored.id,
        audit::action::CREATED,
        json!({ "name": rule.name }),
    )
    .await?;
    let result = get(&txn, stored.id).await?;
    super::duplicates::sync_blocks(&txn, &fuzzy_before).await?;
    super::qualification::load::bump(&txn, super::qualification::load::RULES_VERSION).await?;
    txn.commit().await?;
    Ok(result)
}

/// Replaces a rule's definition; a published rule stays published.
pub async fn update(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    rule: NewRule,
) -> AppResult<RuleWithConditions> {
    ensure_admin(actor, "duplicate detection rules")?;
    validate(&rule)?;
    let txn = db.begin_write().await?;
    let fuzzy_before = super::duplicates::fuzzy_fields(&txn).await?;
    let (before, _) = get(&txn, id).await?;
    if before.published && before.base_record_type != rule.base_record_type {
        ensure_room(&txn, rule.base_record_type).await?;
    }
    let mut model: duplicate_rule::ActiveModel = before.into();
    model.name = Set(rule.name.clone());
    model.description = Set(rule.description.clone());
    model.base_record_type = Set(rule.base_record_type);
    model.matching_record_type = Set(rule.matching_record_type);
    model.case_sensitive = Set(rule.case_sensitive);
    model.exclude_inactive = Set(rule.exclude_inactive);
    model.modified_at = Set(super::now());
    model.update(&txn).await?;
    write_conditions(&txn, id, &rule.conditions).await?;
    audit::record(
        &txn,
        Some(actor),
        RecordType::DuplicateRule,
        id,
        audit::action::UPDATED,
        json!({ "name": rule.name }),
    )
    .await?;
    let result = get(&txn, id).await?;
    super::duplicates::sync_blocks(&txn, &fuzzy_before).await?;
    super::qualification::load::bump(&txn, super::qualification::load::RULES_VERSION).await?;
    txn.commit().await?;
    Ok(result)
}

async fn ensure_room(conn: &impl ConnectionTrait, base: DuplicateRecordType) -> AppResult<()> {
    let published = duplicate_rule::Entity::find()
        .filter(duplicate_rule::Column::Published.eq(true))
        .filter(duplicate_rule::Column::BaseRecordType.eq(base))
        .count(conn)
        .await?;
    if published >= MAX_PUBLISHED_PER_BASE {
        return Err(AppError::Conflict(format!(
            "at most {MAX_PUBLISHED_PER_BASE} rules may be published for {}; unpublish one first",
            base.as_str()
        )));
    }
    Ok(())
}

/// Publishes or unpublishes a rule.
pub async fn set_published(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    published: bool,
) -> AppResult<RuleWithConditions> {
    ensure_admin(actor, "duplicate detection rules")?;
    let txn = db.begin_write().await?;
    let fuzzy_before = super::duplicates::fuzzy_fields(&txn).await?;
    let (rule, _) = get(&txn, id).await?;
    if published && !rule.published {
        ensure_room(&txn, rule.base_record_type).await?;
    }
    let mut model: duplicate_rule::ActiveModel = rule.into();
    model.published = Set(published);
    model.modified_at = Set(super::now());
    model.update(&txn).await?;
    audit::record(
        &txn,
        Some(actor),
        RecordType::DuplicateRule,
        id,
        audit::action::UPDATED,
        json!({ "published": published }),
    )
    .await?;
    let result = get(&txn, id).await?;
    super::duplicates::sync_blocks(&txn, &fuzzy_before).await?;
    super::qualification::load::bump(&txn, super::qualification::load::RULES_VERSION).await?;
    txn.commit().await?;
    Ok(result)
}

/// Publishes several rules at once (the recommended set, say); with `unpublish_others`, every
/// other rule of the same base record types is unpublished in the same transaction, so a set
/// can replace the rules in force. The limit of published rules per base record type holds
/// for the result; nothing changes when it would not.
pub async fn publish_many(
    db: &Db,
    actor: &Actor,
    ids: &[Uuid],
    unpublish_others: bool,
) -> AppResult<Vec<RuleWithConditions>> {
    ensure_admin(actor, "duplicate detection rules")?;
    if ids.is_empty() {
        return Err(AppError::bad_input("ids", "give at least one rule id"));
    }
    let txn = db.begin_write().await?;
    let fuzzy_before = super::duplicates::fuzzy_fields(&txn).await?;
    let mut chosen = Vec::with_capacity(ids.len());
    for id in ids {
        let (rule, _) = get(&txn, *id).await?;
        if !chosen
            .iter()
            .any(|r: &duplicate_rule::Model| r.id == rule.id)
        {
            chosen.push(rule);
        }
    }
    let now = super::now();
    if unpublish_others {
        let bases: Vec<DuplicateRecordType> = chosen.iter().map(|r| r.base_record_type).collect();
        let others = duplicate_rule::Entity::find()
            .filter(duplicate_rule::Column::Published.eq(true))
            .filter(duplicate_rule::Column::BaseRecordType.is_in(bases))
            .filter(duplicate_rule::Column::Id.is_not_in(chosen.iter().map(|r| r.id)))
            .all(&txn)
            .await?;
        for other in others {
            let id = other.id;
            let mut model: duplicate_rule::ActiveModel = other.into();
            model.published = Set(false);
            model.modified_at = Set(now);
            model.update(&txn).await?;
            audit::record(
                &txn,
                Some(actor),
                RecordType::DuplicateRule,
                id,
                audit::action::UPDATED,
                json!({ "published": false }),
            )
            .await?;
        }
    }
    for rule in chosen.iter().filter(|r| !r.published) {
        ensure_room(&txn, rule.base_record_type).await?;
        let id = rule.id;
        let mut model: duplicate_rule::ActiveModel = rule.clone().into();
        model.published = Set(true);
        model.modified_at = Set(now);
        model.update(&txn).await?;
        audit::record(
            &txn,
            Some(actor),
            RecordType::DuplicateRule,
            id,
            audit::action::UPDATED,
            json!({ "published": true }),
        )
        .await?;
    }
    let mut result = Vec::with_capacity(chosen.len());
    for rule in &chosen {
        result.push(get(&txn, rule.id).await?);
    }
    super::duplicates::sync_blocks(&txn, &fuzzy_before).await?;
    super::qualification::load::bump(&txn, super::qualification::load::RULES_VERSION).await?;
    txn.commit().await?;
    Ok(result)
}

/// Deletes a rule.
pub async fn delete(db: &Db, actor: &Actor, id: Uuid) -> AppResult<Uuid> {
    ensure_admin(actor, "duplicate detection rules")?;
    let txn = db.begin_write().await?;
    let fuzzy_before = super::duplicates::fuzzy_fields(&txn).await?;
    get(&txn, id).await?;
    duplicate_rule::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        Some(actor),
        RecordType::DuplicateRule,
        id,
        audit::action::DELETED,
        json!({}),
    )
    .await?;
    super::duplicates::sync_blocks(&txn, &fuzzy_before).await?;
    super::qualification::load::bump(&txn, super::qualification::load::RULES_VERSION).await?;
    txn.commit().await?;
    Ok(id)
}
