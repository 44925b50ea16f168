//! Field mappings as data (`field_mappings`): the standard rows the migrations seed (System
//! Administrators disable and re-enable them) and the administrators' own, from a lead field
//! (standard or custom) onto a field of the account, contact or opportunity (standard or
//! custom). At most one enabled mapping fills a field (a partial unique index backs the checks
//! here): a standard field's own row is disabled before another mapping may fill it. Type
//! compatibility (`domain::custom_field::compatible`) is checked when a mapping is saved, and
//! again when a source field's options grow, never at qualification time. Every change is
//! audited and counted in `config_versions.custom_fields`; [`compile`] turns the rows into the
//! typed [`Mappings`] a qualification run applies.

use entity::{MappingTargetType, RecordType, field_mapping as mapping};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set,
};
use serde_json::json;
use uuid::Uuid;

use super::access::ensure_admin;
use super::audit::{self, action};
use super::custom_fields;
use super::qualification::load::{CUSTOM_FIELDS_VERSION, bump};
use crate::auth::Actor;
use crate::db::Db;
use crate::domain::custom_field::{self, Definition};
use crate::domain::field_mapping::{FIELD_MAPPINGS, LeadField, TargetField, TargetRecord};
use crate::domain::qualification::{CustomMapping, CustomSource, Mappings, StandardTargetMapping};
use crate::error::{AppError, AppResult};

/// Every mapping: the standard ones in table order, then the added ones, oldest first.
pub async fn list(conn: &impl ConnectionTrait) -> AppResult<Vec<mapping::Model>> {
    let mut rows = mapping::Entity::find()
        .order_by_asc(mapping::Column::CreatedAt)
        .order_by_asc(mapping::Column::Id)
        .all(conn)
        .await?;
    // The seeded ids are in table order; added ones are time-ordered (v7) after them.
    rows.sort_by_key(|r| (!r.standard, r.id));
    Ok(rows)
}

fn record_type(target: TargetRecord) -> RecordType {
    match target {
        MappingTargetType::Account => RecordType::Account,
        MappingTargetType::Contact => RecordType::Contact,
        MappingTargetType::Opportunity => RecordType::Opportunity,
    }
}

/// The mappings in force: enabled rows whose fields exist and are not archived.
pub async fn compile(conn: &impl ConnectionTrait) -> AppResult<Mappings> {
    let rows = list(conn).await?;
    let definitions = custom_fields::definitions(conn).await?;
    Ok(compile_rows(&rows, &definitions))
}

/// [`compile`] on rows already read.
pub fn compile_rows(rows: &[mapping::Model], definitions: &[Definition]) -> Mappings {
    let live = |record: RecordType, name: &str| {
        definitions
            .iter()
            .find(|d| d.record_type == record && d.name == name && !d.archived)
    };
    let mut mappings = Mappings {
        standard: Vec::new(),
        onto_standard: Vec::new(),
        custom: Vec::new(),
        required: definitions
            .iter()
            .filter(|d| d.required && !d.archived)
            .filter_map(|d| {
                let record = match d.record_type {
                    RecordType::Account => MappingTargetType::Account,
                    RecordType::Contact => MappingTargetType::Contact,
                    RecordType::Opportunity => MappingTargetType::Opportunity,
                    _ => return None,
                };
                Some((record, d.clone()))
            })
            .collect(),
    };
    for row in rows.iter().filter(|r| r.enabled) {
        if row.standard {
            let standard = TargetField::from_api_name(row.target, &row.target_field)
                .and_then(crate::domain::field_mapping::standard_for)
                .filter(|m| m.source.api_name() == row.source_field);
            match standard {
                Some(m) => mappings.standard.push(m),
                None => tracing::error!(id = %row.id, "a standard mapping row is not in the table"),
            }
            continue;
        }
        let source = match LeadField::from_api_name(&row.source_field) {
            Some(field) => CustomSource::Lead(field),
            None => match live(RecordType::Lead, &row.source_field) {
                Some(d) => CustomSource::Custom(d.clone()),
                None => continue,
            },
        };
        if let Some(target) = TargetField::from_api_name(row.target, &row.target_field) {
            mappings
                .onto_standard
                .push(StandardTargetMapping { source, target });
            continue;
        }
        let Some(target) = live(record_type(row.target), &row.target_field) else {
            continue;
        };
        mappings.custom.push(CustomMapping {
            source,
            target: target.clone(),
            record: row.target,
        });
    }
    // Table order for the standard rows, whatever the stored order.
    mappings.standard.sort_by_key(|m| {
        FIELD_MAPPINGS
            .iter()
            .position(|s| std::ptr::eq(s, *m))
            .unwrap_or(usize::MAX)
    });
    mappings
}

/// A new mapping (`addFieldMapping`), not yet checked.
#[derive(Debug, Clone)]
pub struct NewMapping {
    pub target: TargetRecord,
    pub source_field: String,
    pub target_field: String,
}

/// Adds a mapping from a lead field onto a field of the target record: a custom field, or a
/// standard one whose own standard mapping (if it has one) is disabled.
pub async fn add(db: &Db, actor: &Actor, new: NewMapping) -> AppResult<mapping::Model> {
    ensure_admin(actor, "field mappings")?;
    let txn = db.begin_write().await?;
    let definitions = custom_fields::definitions(&txn).await?;
    let target_type = record_type(new.target);
    let standard_target = TargetField::from_api_name(new.target, &new.target_field);
    let target_shape = match standard_target {
        Some(field) => field.shape().ok_or_else(|| {
            AppError::bad_input(
                "targetField",
                format!(
                    "{}.{} is set from the qualification's resulting record; no lead field can \
                     be mapped onto it",
                    new.target.as_str(),
                    new.target_field
                ),
            )
        })?,
        None => match definitions
            .iter()
            .find(|d| d.record_type == target_type && d.name == new.target_field && !d.archived)
        {
            Some(target) => target.shape.clone(),
            None => {
                return Err(AppError::bad_input(
                    "targetField",
                    format!(
                        "{} has no standard or custom field named {}",
                        new.target.as_str(),
                        new.target_field
                    ),
                ));
            }
        },
    };
    let source_shape = match LeadField::from_api_name(&new.source_field) {
        Some(field) => field.shape(),
        None => match definitions.iter().find(|d| {
            d.record_type == RecordType::Lead && d.name == new.source_field && !d.archived
        }) {
            Some(d) => d.shape.clone(),
            None => {
                return Err(AppError::bad_input(
                    "sourceField",
                    format!("the lead has no mappable field named {}", new.source_field),
                ));
            }
        },
    };
    if standard_target.is_some_and(TargetField::is_email)
        && LeadField::from_api_name(&new.source_field) != Some(LeadField::Email)
    {
        return Err(AppError::bad_input(
            "sourceField",
            format!(
                "LEAD.{} cannot be mapped onto {}.{}: an e-mail field only takes the lead's \
                 email, which is checked as an address",
                new.source_field,
                new.target.as_str(),
                new.target_field
            ),
        ));
    }
    if !custom_field::compatible(&source_shape, &target_shape) {
        return Err(incompatible(
            &new.source_field,
            &source_shape,
            new.target,
            &new.target_field,
            &target_shape,
        ));
    }
    if let Some(filling) = enabled_onto(&txn, new.target, &new.target_field).await? {
        return Err(already_filled(&filling));
    }
    let saved = mapping::Model {
        id: super::new_id(),
        target: new.target,
        source_field: new.source_field,
        target_field: new.target_field,
        standard: false,
        enabled: true,
        created_at: super::now(),
    }
    .into_active_model()
    .insert(&txn)
    .await?;
    bump(&txn, CUSTOM_FIELDS_VERSION).await?;
    audit::record(
        &txn,
        Some(actor),
        RecordType::FieldMapping,
        saved.id,
        action::CREATED,
        serde_json::to_value(&saved).map_err(AppError::internal)?,
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

fn incompatible(
    source: &str,
    source_shape: &custom_field::Shape,
    target: TargetRecord,
    target_field: &str,
    target_shape: &custom_field::Shape,
) -> AppError {
    AppError::bad_input(
        "sourceField",
        format!(
            "LEAD.{source} ({}) cannot be mapped onto {}.{target_field} ({}): the types, \
             lengths or options do not fit",
            describe(source_shape),
            target.as_str(),
            describe(target_shape)
        ),
    )
}

fn describe(shape: &custom_field::Shape) -> String {
    match (shape.max_length, shape.options.is_empty()) {
        (Some(max), _) => format!("{} of at most {max}", shape.field_type.as_str()),
        (None, false) => format!(
            "{} of {}",
            shape.field_type.as_str(),
            shape.options.join("|")
        ),
        _ => shape.field_type.as_str().to_owned(),
    }
}

/// The enabled mapping that fills `target.field`, if any.
async fn enabled_onto(
    conn: &impl ConnectionTrait,
    target: TargetRecord,
    field: &str,
) -> AppResult<Option<mapping::Model>> {
    Ok(mapping::Entity::find()
        .filter(mapping::Column::Target.eq(target))
        .filter(mapping::Column::TargetField.eq(field))
        .filter(mapping::Column::Enabled.eq(true))
        .one(conn)
        .await?)
}

fn already_filled(filling: &mapping::Model) -> AppError {
    let how = match filling.standard {
        true => "its standard mapping; disable that one first",
        false => "an added mapping; remove or disable that one first",
    };
    AppError::bad_input(
        "targetField",
        format!(
            "{}.{} is already filled from LEAD.{} by {how}",
            filling.target.as_str(),
            filling.target_field,
            filling.source_field
        ),
    )
}

async fn get(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<mapping::Model> {
    mapping::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("field mapping", id))
}

/// Removes an added mapping (standard ones can only be disabled).
pub async fn remove(db: &Db, actor: &Actor, id: Uuid) -> AppResult<mapping::Model> {
    ensure_admin(actor, "field mappings")?;
    let txn = db.begin_write().await?;
    let row = get(&txn, id).await?;
    if row.standard {
        return Err(AppError::bad_input(
            "id",
            "a standard mapping cannot be removed; disable it instead",
        ));
    }
    mapping::Entity::delete_by_id(id).exec(&txn).await?;
    bump(&txn, CUSTOM_FIELDS_VERSION).await?;
    audit::record(
        &txn,
        Some(actor),
        RecordType::FieldMapping,
        id,
        action::DELETED,
        serde_json::to_value(&row).map_err(AppError::internal)?,
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// Disables or re-enables a mapping.
pub async fn set_enabled(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    enabled: bool,
) -> AppResult<mapping::Model> {
    ensure_admin(actor, "field mappings")?;
    let txn = db.begin_write().await?;
    let before = get(&txn, id).await?;
    if enabled
        && !before.enabled
        && let Some(filling) = enabled_onto(&txn, before.target, &before.target_field).await?
    {
        return Err(AppError::bad_input(
            "id",
            already_filled(&filling).message(),
        ));
    }
    let mut model = before.clone().into_active_model();
    model.enabled = Set(enabled);
    let saved = model.update(&txn).await?;
    bump(&txn, CUSTOM_FIELDS_VERSION).await?;
    audit::record(
        &txn,
        Some(actor),
        RecordType::FieldMapping,
        id,
        action::UPDATED,
        json!({ "enabled": { "from": before.enabled, "to": enabled } }),
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

/// Refuses a change of a lead field's options that a mapping from it could no longer carry
/// (inside the transaction that changes the definition).
pub async fn check_source_change(
    conn: &impl ConnectionTrait,
    source: &Definition,
) -> AppResult<()> {
    if source.record_type != RecordType::Lead {
        return Ok(());
    }
    let rows = mapping::Entity::find()
        .filter(mapping::Column::SourceField.eq(source.name.clone()))
        .filter(mapping::Column::Standard.eq(false))
        .all(conn)
        .await?;
    if rows.is_empty() {
        return Ok(());
    }
    let definitions = custom_fields::definitions(conn).await?;
    for row in rows {
        let target_type = record_type(row.target);
        if let Some(target) = definitions
            .iter()
            .find(|d| d.record_type == target_type && d.name == row.target_field)
            && !custom_field::compatible(&source.shape, &target.shape)
        {
            return Err(AppError::bad_input(
                "options",
                format!(
                    "LEAD.{} is mapped onto {}.{}, which lacks some of the new options; add \
                     them there first",
                    source.name,
                    row.target.as_str(),
                    row.target_field
                ),
            ));
        }
    }
    Ok(())
}
