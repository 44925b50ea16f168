//! Custom fields: their definitions (System Administrators; every change audited and counted in
//! `config_versions.custom_fields`, which the qualification configuration cache watches) and
//! their values on leads, accounts, contacts and opportunities.
//!
//! Values live in `custom_field_values` (see `domain::custom_field` for why a side table), are
//! checked against the definitions where a record is written ([`write_values`], inside the
//! record's transaction), and are read in batches ([`values_of`]) so that listing records with
//! their custom fields costs one query, not one per record.

use std::collections::HashMap;

use entity::{RecordType, custom_field_definition as definition, custom_field_value as value};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set,
};
use serde_json::{Value, json};
use uuid::Uuid;

use super::access::ensure_admin;
use super::audit::{self, action};
use super::qualification::load::{CUSTOM_FIELDS_VERSION, bump};
use super::{MAX_BINDS, insert_all};
use crate::auth::Actor;
use crate::db::Db;
use crate::domain::custom_field::{
    self, CUSTOMIZABLE, Definition, FieldType, MAX_DESCRIPTION_LENGTH, MAX_LABEL_LENGTH, Shape,
};
use crate::domain::values;
use crate::error::{AppError, AppResult};

/// A new definition, as `createCustomField` gives it (not yet checked).
#[derive(Debug, Clone)]
pub struct NewField {
    pub record_type: RecordType,
    pub name: String,
    pub label: String,
    pub field_type: FieldType,
    pub required: bool,
    pub max_length: Option<i32>,
    pub options: Vec<String>,
    pub description: Option<String>,
}

/// Changes to a definition (`updateCustomField`); `None` leaves a property as it is. Options
/// may only be added (values and mappings may use the existing ones).
#[derive(Debug, Clone, Default)]
pub struct FieldChanges {
    pub label: Option<String>,
    pub description: Option<Option<String>>,
    pub options: Option<Vec<String>>,
    pub required: Option<bool>,
}

pub use crate::domain::custom_field::ValueInput;

/// The definitions, archived included, optionally of one record type, oldest first.
pub async fn list(
    conn: &impl ConnectionTrait,
    record_type: Option<RecordType>,
) -> AppResult<Vec<definition::Model>> {
    let mut query = definition::Entity::find()
        .order_by_asc(definition::Column::CreatedAt)
        .order_by_asc(definition::Column::Id);
    if let Some(record_type) = record_type {
        query = query.filter(definition::Column::RecordType.eq(record_type));
    }
    Ok(query.all(conn).await?)
}

/// Every definition, parsed.
pub async fn definitions(conn: &impl ConnectionTrait) -> AppResult<Vec<Definition>> {
    list(conn, None)
        .await?
        .iter()
        .map(Definition::from_model)
        .collect()
}

fn check_record_type(record_type: RecordType) -> AppResult<()> {
    if CUSTOMIZABLE.contains(&record_type) {
        Ok(())
    } else {
        Err(AppError::bad_input(
            "recordType",
            "custom fields exist on LEAD, ACCOUNT, CONTACT and OPPORTUNITY only",
        ))
    }
}

fn label(label: String) -> AppResult<String> {
    values::text("label", Some(label), MAX_LABEL_LENGTH)?
        .ok_or_else(|| AppError::bad_input("label", "label is required"))
}

fn description(description: Option<String>) -> AppResult<Option<String>> {
    values::text("description", description, MAX_DESCRIPTION_LENGTH)
}

/// Creates a definition (System Administrators).
pub async fn create(db: &Db, actor: &Actor, new: NewField) -> AppResult<definition::Model> {
    ensure_admin(actor, "custom fields")?;
    check_record_type(new.record_type)?;
    let name = custom_field::parse_name(new.record_type, &new.name)?;
    let label = label(new.label)?;
    let description = description(new.description)?;
    let max_length = match (new.field_type, new.max_length) {
        (FieldType::Text, None) => Some(custom_field::DEFAULT_TEXT_LENGTH),
        (_, None) => None,
        (_, Some(max)) => Some(
            usize::try_from(max)
                .map_err(|_| AppError::bad_input("maxLength", "maxLength must be positive"))?,
        ),
    };
    let shape = Shape {
        field_type: new.field_type,
        max_length,
        options: new.options,
    };
    custom_field::check_shape(&shape)?;
    let now = super::now();
    let model = definition::Model {
        id: super::new_id(),
        record_type: new.record_type,
        name,
        label,
        field_type: shape.field_type,
        required: new.required,
        max_length: shape.max_length.and_then(|m| i32::try_from(m).ok()),
        options: serde_json::to_string(&shape.options).map_err(AppError::internal)?,
        description,
        archived: false,
        created_at: now,
        modified_at: now,
    };
    let txn = db.begin_write().await?;
    let taken = definition::Entity::find()
        .filter(definition::Column::RecordType.eq(model.record_type))
        .filter(definition::Column::Name.eq(model.name.clone()))
        .one(&txn)
        .await?;
    if taken.is_some() {
        return Err(AppError::bad_input(
            "name",
            format!(
                "{} already has a custom field named {}",
                model.record_type.as_str(),
                model.name
            ),
        ));
    }
    let saved = model.into_active_model().insert(&txn).await?;
    bump(&txn, CUSTOM_FIELDS_VERSION).await?;
    audit::record(
        &txn,
        Some(actor),
        RecordType::CustomField,
        saved.id,
        action::CREATED,
        audit::diff(
            &json!({}),
            &serde_json::to_value(&saved).map_err(AppError::internal)?,
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

async fn get(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<definition::Model> {
    definition::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("custom field", id))
}

/// Changes a definition's label, description, options (added only) or requiredness.
pub async fn update(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    changes: FieldChanges,
) -> AppResult<definition::Model> {
    ensure_admin(actor, "custom fields")?;
    let txn = db.begin_write().await?;
    let before = get(&txn, id).await?;
    let mut after = before.clone();
    if let Some(l) = changes.label {
        after.label = label(l)?;
    }
    if let Some(d) = changes.description {
        after.description = description(d)?;
    }
    if let Some(required) = changes.required {
        after.required = required;
    }
    if let Some(options) = changes.options {
        let old = Definition::from_model(&before)?.shape;
        if let Some(dropped) = old.options.iter().find(|o| !options.contains(o)) {
            return Err(AppError::bad_input(
                "options",
                format!("options can only be added; {dropped} is missing"),
            ));
        }
        let shape = Shape { options, ..old };
        custom_field::check_shape(&shape)?;
        after.options = serde_json::to_string(&shape.options).map_err(AppError::internal)?;
        // A mapping from this field must still fit its target with the new options.
        let updated = Definition::from_model(&after)?;
        super::field_mappings::check_source_change(&txn, &updated).await?;
    }
    after.modified_at = super::now();
    let saved = save(&txn, actor, before, after, action::UPDATED).await?;
    txn.commit().await?;
    Ok(saved)
}

/// Archives (hides; values kept) or restores a definition.
pub async fn set_archived(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    archived: bool,
) -> AppResult<definition::Model> {
    ensure_admin(actor, "custom fields")?;
    let txn = db.begin_write().await?;
    let before = get(&txn, id).await?;
    let mut after = before.clone();
    after.archived = archived;
    after.modified_at = super::now();
    let what = if archived { "ARCHIVED" } else { "RESTORED" };
    let saved = save(&txn, actor, before, after, what).await?;
    txn.commit().await?;
    Ok(saved)
}

async fn save(
    txn: &sea_orm::DatabaseTransaction,
    actor: &Actor,
    before: definition::Model,
    after: definition::Model,
    what: &str,
) -> AppResult<definition::Model> {
    let mut model = before.clone().into_active_model();
    model.label = Set(after.label.clone());
    model.description = Set(after.description.clone());
    model.options = Set(after.options.clone());
    model.required = Set(after.required);
    model.archived = Set(after.archived);
    model.modified_at = Set(after.modified_at);
    let saved = model.update(txn).await?;
    bump(txn, CUSTOM_FIELDS_VERSION).await?;
    let mut diff = audit::diff(
        &serde_json::to_value(&before).map_err(AppError::internal)?,
        &serde_json::to_value(&saved).map_err(AppError::internal)?,
    );
    if let Some(map) = diff.as_object_mut() {
        map.remove("modified_at");
    }
    audit::record(
        txn,
        Some(actor),
        RecordType::CustomField,
        saved.id,
        what,
        diff,
    )
    .await?;
    Ok(saved)
}

/// Checks `inputs` against the record type's live definitions and writes them for
/// `record_id`, inside the caller's transaction. On create (`creating`), every required field
/// must get a value; on update, a required field may not be cleared. Returns the audit diff of
/// the values (`{name: value}`), empty when nothing was given.
pub async fn write_values(
    conn: &impl ConnectionTrait,
    record_type: RecordType,
    record_id: Uuid,
    inputs: &[ValueInput],
    creating: bool,
) -> AppResult<Value> {
    if inputs.is_empty() && !creating {
        return Ok(json!({}));
    }
    let live: Vec<Definition> = list(conn, Some(record_type))
        .await?
        .iter()
        .map(Definition::from_model)
        .collect::<AppResult<Vec<_>>>()?
        .into_iter()
        .filter(|d| !d.archived)
        .collect();
    let mut set: Vec<(&Definition, custom_field::Stored)> = Vec::new();
    let mut cleared: Vec<&Definition> = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let path = format!("customFields.{}", input.name);
        let Some(definition) = live.iter().find(|d| d.name == input.name) else {
            return Err(AppError::bad_input(
                format!("customFields.{i}.name"),
                format!(
                    "{} has no custom field named {}",
                    record_type.as_str(),
                    input.name
                ),
            ));
        };
        if set.iter().any(|(d, _)| d.id == definition.id)
            || cleared.iter().any(|d| d.id == definition.id)
        {
            return Err(AppError::bad_input(path, "the field is given twice"));
        }
        match custom_field::parse_value(&definition.shape, &path, &input.value)? {
            Some(stored) => set.push((definition, stored)),
            None if definition.required => {
                return Err(AppError::bad_input(
                    path,
                    format!("{} is required", definition.name),
                ));
            }
            None => cleared.push(definition),
        }
    }
    if creating
        && let Some(missing) = live
            .iter()
            .find(|d| d.required && !set.iter().any(|(s, _)| s.id == d.id))
    {
        return Err(AppError::bad_input(
            format!("customFields.{}", missing.name),
            format!("{} is required", missing.name),
        ));
    }
    let touched: Vec<Uuid> = set
        .iter()
        .map(|(d, _)| d.id)
        .chain(cleared.iter().map(|d| d.id))
        .collect();
    if !creating && !touched.is_empty() {
        value::Entity::delete_many()
            .filter(value::Column::RecordId.eq(record_id))
            .filter(value::Column::FieldId.is_in(touched))
            .exec(conn)
            .await?;
    }
    let mut diff = serde_json::Map::new();
    for d in &cleared {
        diff.insert(d.name.clone(), Value::Null);
    }
    let rows: Vec<value::ActiveModel> = set
        .into_iter()
        .map(|(d, stored)| {
            diff.insert(d.name.clone(), stored.value.clone());
            crate::domain::qualification::custom_value_row(record_type, record_id, d, stored)
                .into_active_model()
        })
        .collect();
    insert_all(conn, rows).await?;
    Ok(Value::Object(diff))
}

/// Sets (or, with null, clears) custom values of any lead, account, contact or opportunity the
/// caller may work on (`setCustomFieldValues`): checked as on update (a required field cannot
/// be cleared), the record's `modified_at` moved, the change audited on the record. Returns the
/// record's kind.
pub async fn set_values(
    db: &Db,
    actor: &Actor,
    record_id: Uuid,
    inputs: &[ValueInput],
) -> AppResult<RecordType> {
    use entity::{account, contact, lead, opportunity};
    use sea_orm::sea_query::Expr;
    if inputs.is_empty() {
        return Err(AppError::bad_input(
            "customFields",
            "give at least one custom field to set or clear",
        ));
    }
    let txn = db.begin_write().await?;
    let (record_type, owner) = super::record_of(&txn, record_id).await?;
    super::access::ensure_can_work(actor, owner, &record_type.as_str().to_lowercase())?;
    let diff = write_values(&txn, record_type, record_id, inputs, false).await?;
    let now = super::now();
    match record_type {
        RecordType::Lead => {
            lead::Entity::update_many()
                .col_expr(lead::Column::ModifiedAt, Expr::value(now))
                .filter(lead::Column::Id.eq(record_id))
                .exec(&txn)
                .await?;
        }
        RecordType::Account => {
            account::Entity::update_many()
                .col_expr(account::Column::ModifiedAt, Expr::value(now))
                .filter(account::Column::Id.eq(record_id))
                .exec(&txn)
                .await?;
        }
        RecordType::Contact => {
            contact::Entity::update_many()
                .col_expr(contact::Column::ModifiedAt, Expr::value(now))
                .filter(contact::Column::Id.eq(record_id))
                .exec(&txn)
                .await?;
        }
        _ => {
            opportunity::Entity::update_many()
                .col_expr(opportunity::Column::ModifiedAt, Expr::value(now))
                .filter(opportunity::Column::Id.eq(record_id))
                .exec(&txn)
                .await?;
        }
    }
    audit::record(
        &txn,
        Some(actor),
        record_type,
        record_id,
        action::UPDATED,
        json!({ "customFields": diff }),
    )
    .await?;
    txn.commit().await?;
    Ok(record_type)
}

/// A record's custom value as a client reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldValue {
    pub name: String,
    pub field_type: FieldType,
    pub value: Value,
}

/// The live (not archived) custom values of these records, in definition order.
pub async fn values_of(
    conn: &impl ConnectionTrait,
    record_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<FieldValue>>> {
    let mut by_record: HashMap<Uuid, Vec<FieldValue>> = HashMap::new();
    if record_ids.is_empty() {
        return Ok(by_record);
    }
    let mut rows = Vec::new();
    for chunk in record_ids.chunks(MAX_BINDS) {
        rows.extend(
            value::Entity::find()
                .filter(value::Column::RecordId.is_in(chunk.iter().copied()))
                .all(conn)
                .await?,
        );
    }
    if rows.is_empty() {
        return Ok(by_record);
    }
    let definitions = list(conn, None).await?;
    let order: HashMap<Uuid, (usize, &definition::Model)> = definitions
        .iter()
        .enumerate()
        .filter(|(_, d)| !d.archived)
        .map(|(i, d)| (d.id, (i, d)))
        .collect();
    rows.sort_by_key(|r| order.get(&r.field_id).map(|(i, _)| *i));
    for row in rows {
        let Some((_, d)) = order.get(&row.field_id) else {
            continue;
        };
        by_record
            .entry(row.record_id)
            .or_default()
            .push(FieldValue {
                name: d.name.clone(),
                field_type: d.field_type,
                value: serde_json::from_str(&row.value).map_err(AppError::internal)?,
            });
    }
    Ok(by_record)
}

/// The values of `field_ids` on these records, by record and field (what a qualification run's
/// mappings read from its leads).
pub async fn raw_values(
    conn: &impl ConnectionTrait,
    record_ids: &[Uuid],
    field_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, HashMap<Uuid, Value>>> {
    let mut by_record: HashMap<Uuid, HashMap<Uuid, Value>> = HashMap::new();
    if record_ids.is_empty() || field_ids.is_empty() {
        return Ok(by_record);
    }
    for chunk in record_ids.chunks(MAX_BINDS.saturating_sub(field_ids.len()).max(1)) {
        for row in value::Entity::find()
            .filter(value::Column::RecordId.is_in(chunk.iter().copied()))
            .filter(value::Column::FieldId.is_in(field_ids.iter().copied()))
            .all(conn)
            .await?
        {
            by_record.entry(row.record_id).or_default().insert(
                row.field_id,
                serde_json::from_str(&row.value).map_err(AppError::internal)?,
            );
        }
    }
    Ok(by_record)
}

/// Auto-population of a new lead's custom fields (domain.md, "Creating a lead"): the mappings
/// from lead custom fields onto fields of the contact or account (custom, or standard through
/// an added mapping), read in reverse, fill the lead fields the input left out from the lead's
/// existing contact (first) and account, where the reverse pair is compatible too. Given values
/// are never overwritten.
pub async fn reverse_fill(
    conn: &impl ConnectionTrait,
    given: &mut Vec<ValueInput>,
    existing: &[(crate::domain::field_mapping::TargetRecord, Uuid)],
) -> AppResult<()> {
    use crate::domain::qualification::CustomSource;
    if existing.is_empty() {
        return Ok(());
    }
    let mappings = super::field_mappings::compile(conn).await?;
    let mut pairs = Vec::new();
    for (record, id) in existing {
        for m in mappings.custom.iter().filter(|m| m.record == *record) {
            if let CustomSource::Custom(lead_field) = &m.source {
                pairs.push((lead_field, &m.target, *id));
            }
        }
    }
    reverse_fill_standard(conn, given, existing, &mappings).await?;
    if pairs.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = existing.iter().map(|(_, id)| *id).collect();
    let fields: Vec<Uuid> = pairs.iter().map(|(_, target, _)| target.id).collect();
    let stored = raw_values(conn, &ids, &fields).await?;
    for (lead_field, target, id) in pairs {
        if given.iter().any(|g| g.name == lead_field.name)
            || !custom_field::compatible(&target.shape, &lead_field.shape)
        {
            continue;
        }
        let Some(value) = stored.get(&id).and_then(|values| values.get(&target.id)) else {
            continue;
        };
        if let Some(converted) = custom_field::convert(value, &target.shape, &lead_field.shape)? {
            given.push(ValueInput {
                name: lead_field.name.clone(),
                value: converted.value,
            });
        }
    }
    Ok(())
}

/// [`reverse_fill`] for added mappings from a lead custom field onto a standard field of the
/// contact or account: the existing record's field fills the lead's custom field.
async fn reverse_fill_standard(
    conn: &impl ConnectionTrait,
    given: &mut Vec<ValueInput>,
    existing: &[(crate::domain::field_mapping::TargetRecord, Uuid)],
    mappings: &crate::domain::qualification::Mappings,
) -> AppResult<()> {
    use crate::domain::field_mapping::TargetRecord;
    use crate::domain::qualification::{CustomSource, MappedRecord, standard_value};
    for (record, id) in existing {
        let pairs: Vec<_> = mappings
            .onto_standard
            .iter()
            .filter(|m| m.target.record() == *record)
            .filter_map(|m| match &m.source {
                CustomSource::Custom(lead_field) => Some((lead_field, m.target)),
                CustomSource::Lead(_) => None,
            })
            .collect();
        if pairs.is_empty() {
            continue;
        }
        let account;
        let contact;
        let model = match record {
            TargetRecord::Account => {
                account = entity::account::Entity::find_by_id(*id).one(conn).await?;
                account.as_ref().map(MappedRecord::Account)
            }
            TargetRecord::Contact => {
                contact = entity::contact::Entity::find_by_id(*id).one(conn).await?;
                contact.as_ref().map(MappedRecord::Contact)
            }
            TargetRecord::Opportunity => None,
        };
        let Some(model) = model else { continue };
        for (lead_field, target) in pairs {
            let Some(target_shape) = target.shape() else {
                continue;
            };
            if given.iter().any(|g| g.name == lead_field.name)
                || !custom_field::compatible(&target_shape, &lead_field.shape)
            {
                continue;
            }
            let Some(text) = standard_value(&model, target) else {
                continue;
            };
            if let Some(converted) =
                custom_field::convert(&Value::String(text), &target_shape, &lead_field.shape)?
            {
                given.push(ValueInput {
                    name: lead_field.name.clone(),
                    value: converted.value,
                });
            }
        }
    }
    Ok(())
}

/// Inserts the values qualification built for new records (multi-row statements).
pub async fn insert_rows(conn: &impl ConnectionTrait, rows: Vec<value::Model>) -> AppResult<()> {
    insert_all(
        conn,
        rows.into_iter()
            .map(IntoActiveModel::into_active_model)
            .collect(),
    )
    .await
}

/// Deletes a record's custom values (when the record is deleted).
pub async fn delete_values(conn: &impl ConnectionTrait, record_id: Uuid) -> AppResult<()> {
    value::Entity::delete_many()
        .filter(value::Column::RecordId.eq(record_id))
        .exec(conn)
        .await?;
    Ok(())
}
