//! Leads: listing, reading, creating (with auto-population), updating, assigning and deleting.
//! Qualification lives in `service::qualification`.

use chrono::{DateTime, Utc};
use entity::{
    LeadState, LeadStatusReason, ProcessStage, RecordType, account, contact, lead, note, user,
};
use sea_orm::DbBackend;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::json;
use uuid::Uuid;

use super::access::{ensure_can_assign, ensure_can_work};
use super::audit::{self, action};
use super::events::{Events, LeadEvent, LeadEventKind};
use super::paging::{Cursor, Page, PageRequest, after_cursor, page_from_rows, text_search};
use crate::auth::Actor;
use crate::db::Db;
use crate::domain::lead_state::{self, Transition};
use crate::domain::records::{Change, LeadChanges};
use crate::domain::values::{Email, Money, Name, Phone, Topic, Website};
use crate::error::{AppError, AppResult};

/// The lead views of the product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LeadView {
    /// Open leads owned by the caller.
    MyOpenLeads,
    /// All open leads.
    OpenLeads,
    /// Qualified and disqualified leads.
    ClosedLeads,
    /// Every lead.
    #[default]
    AllLeads,
}

/// Narrows a lead list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeadFilter {
    pub states: Option<Vec<LeadState>>,
    pub owner_id: Option<Uuid>,
    /// Matched, case-insensitively, anywhere in topic, names, company name and e-mail.
    pub text: Option<String>,
    /// Conditions on custom field values (all must hold).
    pub custom_fields: Vec<CustomFilter>,
}

/// A condition on a lead custom field's value: equal to a value, and/or within a range
/// (numbers, dates, date-times, text by its sort order).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomFilter {
    pub name: String,
    pub equals: Option<Projection>,
    pub min: Option<Projection>,
    pub max: Option<Projection>,
}

/// A filter value in the form the indexed columns of `custom_field_values` hold it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Projection {
    /// Compared with `text_value` (text, choices, booleans, dates, date-times).
    Text(String),
    /// Compared with `number_value` (integers, decimals).
    Number(rust_decimal::Decimal),
}

/// The leads whose custom field `filter.name` satisfies the filter: a subquery on
/// `custom_field_values` that the partial `(field_id, text_value | number_value, record_id)`
/// indexes on lead values answer, after the definition is found through its unique `(record_type, name)`.
fn custom_condition(filter: &CustomFilter) -> sea_orm::sea_query::SimpleExpr {
    use entity::{custom_field_definition as d, custom_field_value as v};
    use rust_decimal::prelude::ToPrimitive;
    use sea_orm::sea_query::Query;
    let mut select = Query::select();
    select
        .column((v::Entity, v::Column::RecordId))
        .from(v::Entity)
        .inner_join(
            d::Entity,
            Expr::col((d::Entity, d::Column::Id)).equals((v::Entity, v::Column::FieldId)),
        )
        .and_where(Expr::col((d::Entity, d::Column::RecordType)).eq(RecordType::Lead.as_str()))
        .and_where(Expr::col((d::Entity, d::Column::Name)).eq(filter.name.clone()))
        .and_where(Expr::col((d::Entity, d::Column::Archived)).eq(false))
        // A literal, not a parameter: the value indexes are partial on exactly this condition
        // (migration 000011), and a planner only uses them when the query states it.
        .and_where(Expr::cust("custom_field_values.record_type = 'LEAD'"));
    let compare =
        |projection: &Projection,
         op: fn(Expr, sea_orm::Value) -> sea_orm::sea_query::SimpleExpr| match projection {
            Projection::Text(text) => op(
                Expr::col((v::Entity, v::Column::TextValue)),
                text.clone().into(),
            ),
            Projection::Number(n) => op(
                Expr::col((v::Entity, v::Column::NumberValue)),
                n.to_f64().unwrap_or(f64::NAN).into(),
            ),
        };
    use sea_orm::sea_query::ExprTrait;
    if let Some(equals) = &filter.equals {
        select.and_where(compare(equals, |e, x| e.eq(x)));
    }
    if let Some(min) = &filter.min {
        select.and_where(compare(min, |e, x| e.gte(x)));
    }
    if let Some(max) = &filter.max {
        select.and_where(compare(max, |e, x| e.lte(x)));
    }
    Expr::col((lead::Entity, lead::Column::Id)).in_subquery(select)
}

/// What a lead list is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LeadOrderField {
    #[default]
    CreatedAt,
    ModifiedAt,
    Topic,
    LastName,
}

/// Sort order of a lead list; ties are broken by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeadOrder {
    pub field: LeadOrderField,
    pub descending: bool,
}

impl Default for LeadOrder {
    fn default() -> Self {
        Self {
            field: LeadOrderField::CreatedAt,
            descending: true,
        }
    }
}

/// A lead by id, or `NOT_FOUND`.
pub async fn get(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<lead::Model> {
    lead::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("lead", id))
}

/// How many leads there are.
pub async fn count(db: &Db) -> AppResult<u64> {
    Ok(lead::Entity::find().count(&db.read).await?)
}

/// A lead by id, if any.
pub async fn find(db: &Db, id: Uuid) -> AppResult<Option<lead::Model>> {
    Ok(lead::Entity::find_by_id(id).one(&db.read).await?)
}

/// The leads a filter matches (states, owner, text), as a query condition for `backend`.
pub fn filter_condition(backend: DbBackend, filter: &LeadFilter) -> Condition {
    let mut condition = Condition::all();
    if let Some(states) = filter.states.clone() {
        condition = condition.add(lead::Column::State.is_in(states));
    }
    if let Some(owner) = filter.owner_id {
        condition = condition.add(lead::Column::OwnerId.eq(owner));
    }
    if let Some(text) = filter
        .text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        condition = condition.add(text_search(
            backend,
            "leads",
            text,
            &[
                lead::Column::Topic,
                lead::Column::FirstName,
                lead::Column::LastName,
                lead::Column::CompanyName,
                lead::Column::Email,
            ],
        ));
    }
    for custom in &filter.custom_fields {
        condition = condition.add(custom_condition(custom));
    }
    condition
}

/// One page of a lead view.
pub async fn list(
    db: &Db,
    actor: &Actor,
    view: LeadView,
    filter: LeadFilter,
    order: LeadOrder,
    page: PageRequest,
) -> AppResult<Page<lead::Model>> {
    let mut condition = Condition::all();
    match view {
        LeadView::MyOpenLeads => {
            condition = condition
                .add(lead::Column::State.eq(LeadState::Open))
                .add(lead::Column::OwnerId.eq(actor.user_id));
        }
        LeadView::OpenLeads => condition = condition.add(lead::Column::State.eq(LeadState::Open)),
        LeadView::ClosedLeads => {
            condition = condition.add(lead::Column::State.ne(LeadState::Open));
        }
        LeadView::AllLeads => {}
    }
    condition = condition.add(filter_condition(db.backend(), &filter));

    let total_count = lead::Entity::find()
        .filter(condition.clone())
        .count(&db.read)
        .await?;

    let column = match order.field {
        LeadOrderField::CreatedAt => lead::Column::CreatedAt,
        LeadOrderField::ModifiedAt => lead::Column::ModifiedAt,
        LeadOrderField::Topic => lead::Column::Topic,
        LeadOrderField::LastName => lead::Column::LastName,
    };
    let mut query = lead::Entity::find().filter(condition);
    if let Some(after) = &page.after {
        let key: sea_orm::Value = match order.field {
            LeadOrderField::CreatedAt | LeadOrderField::ModifiedAt => {
                parse_time_key(&after.key)?.into()
            }
            LeadOrderField::Topic | LeadOrderField::LastName => after.key.clone().into(),
        };
        query = query.filter(after_cursor(
            column,
            key,
            lead::Column::Id,
            after.id,
            order.descending,
        ));
    }
    let direction = if order.descending {
        sea_orm::Order::Desc
    } else {
        sea_orm::Order::Asc
    };
    let rows = query
        .order_by(column, direction.clone())
        .order_by(lead::Column::Id, direction)
        .limit(page.first + 1)
        .all(&db.read)
        .await?;
    Ok(page_from_rows(rows, page.first, total_count, |lead| {
        Cursor {
            key: match order.field {
                LeadOrderField::CreatedAt => lead.created_at.to_rfc3339(),
                LeadOrderField::ModifiedAt => lead.modified_at.to_rfc3339(),
                LeadOrderField::Topic => lead.topic.clone(),
                LeadOrderField::LastName => lead.last_name.clone(),
            },
            id: lead.id,
        }
    }))
}

fn parse_time_key(key: &str) -> AppResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(key)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| AppError::bad_input("after", "after is not a cursor for this ordering"))
}

/// A new lead: what `createLead` returns.
#[derive(Debug, Clone)]
pub struct CreatedLead {
    pub lead: lead::Model,
    /// Other leads that look like the same person (by the published lead duplicate rules).
    pub possible_duplicates: Vec<lead::Model>,
}

/// Creates a lead owned by the caller, or by `owner_id` when a manager assigns it.
///
/// An existing contact fills first name, last name, job title, phones and e-mail, and an
/// existing account the company name, only where the input left them empty, and only here.
pub async fn create(
    db: &Db,
    events: &Events,
    actor: &Actor,
    mut changes: LeadChanges,
    owner_id: Option<Uuid>,
) -> AppResult<CreatedLead> {
    let owner_id = match owner_id {
        Some(owner) if owner != actor.user_id => {
            ensure_can_assign(actor)?;
            ensure_user_exists(&db.read, owner, "ownerId").await?;
            owner
        }
        _ => actor.user_id,
    };
    let now = super::now();
    let mut model = lead::ActiveModel {
        id: Set(super::new_id()),
        owner_id: Set(owner_id),
        state: Set(LeadState::Open),
        status_reason: Set(LeadStatusReason::New),
        process_stage: Set(ProcessStage::Qualify),
        qualified_account_id: Set(None),
        qualified_contact_id: Set(None),
        qualifying_opportunity_id: Set(None),
        created_at: Set(now),
        modified_at: Set(now),
        qualified_at: Set(None),
        ..empty_lead()
    };
    let custom = std::mem::take(&mut changes.custom_fields);
    apply_changes(&mut model, changes);

    let txn = db.begin_write().await?;
    auto_populate(&txn, &mut model).await?;
    require_lead_fields(&model)?;
    let lead = model.insert(&txn).await?;
    let mut custom = custom;
    let existing: Vec<_> = [
        (
            crate::domain::field_mapping::TargetRecord::Contact,
            lead.existing_contact_id,
        ),
        (
            crate::domain::field_mapping::TargetRecord::Account,
            lead.existing_account_id,
        ),
    ]
    .into_iter()
    .filter_map(|(record, id)| id.map(|id| (record, id)))
    .collect();
    super::custom_fields::reverse_fill(&txn, &mut custom, &existing).await?;
    let custom =
        super::custom_fields::write_values(&txn, RecordType::Lead, lead.id, &custom, true).await?;
    super::duplicates::insert_keys(&txn, &[super::duplicates::Record::Lead(&lead)]).await?;
    let mut created = audit::diff(
        &json!({}),
        &serde_json::to_value(&lead).map_err(AppError::internal)?,
    );
    with_custom(&mut created, custom);
    audit::record(
        &txn,
        Some(actor),
        RecordType::Lead,
        lead.id,
        action::CREATED,
        created,
    )
    .await?;
    txn.commit().await?;
    publish(events, LeadEventKind::Created, &lead, actor).await;

    let possible_duplicates = super::duplicates::lead_duplicates_of(&db.read, &lead).await?;
    Ok(CreatedLead {
        lead,
        possible_duplicates,
    })
}

/// Adds the custom values written (`{name: value}`) to an audit diff, under `customFields`.
fn with_custom(diff: &mut serde_json::Value, custom: serde_json::Value) {
    if let (Some(map), false) = (
        diff.as_object_mut(),
        custom.as_object().is_none_or(|c| c.is_empty()),
    ) {
        map.insert("customFields".to_owned(), custom);
    }
}

/// Publishes one event of a committed change.
async fn publish(events: &Events, kind: LeadEventKind, lead: &lead::Model, actor: &Actor) {
    events
        .publish(vec![LeadEvent::new(kind, lead, Some(actor))])
        .await;
}

/// Every optional column empty.
fn empty_lead() -> lead::ActiveModel {
    lead::ActiveModel {
        topic: Set(String::new()),
        first_name: Set(None),
        last_name: Set(String::new()),
        job_title: Set(None),
        business_phone: Set(None),
        mobile_phone: Set(None),
        email: Set(None),
        company_name: Set(None),
        website: Set(None),
        street1: Set(None),
        street2: Set(None),
        street3: Set(None),
        city: Set(None),
        state_or_province: Set(None),
        postal_code: Set(None),
        country_or_region: Set(None),
        description: Set(None),
        industry: Set(None),
        lead_source: Set(None),
        rating: Set(None),
        preferred_contact_method: Set(None),
        purchase_timeframe: Set(None),
        purchase_process: Set(None),
        budget_amount_cents: Set(None),
        decision_maker: Set(None),
        currency_code: Set(None),
        existing_account_id: Set(None),
        existing_contact_id: Set(None),
        ..Default::default()
    }
}

/// Fills empty fields from the lead's existing contact and account (create only).
async fn auto_populate(
    conn: &impl ConnectionTrait,
    model: &mut lead::ActiveModel,
) -> AppResult<()> {
    if let Some(contact_id) = model.existing_contact_id.clone().take().flatten() {
        let contact = contact::Entity::find_by_id(contact_id)
            .one(conn)
            .await?
            .ok_or_else(|| AppError::not_found("contact", contact_id))?;
        fill(&mut model.first_name, contact.first_name);
        if model.last_name.as_ref().is_empty() {
            model.last_name = Set(contact.last_name);
        }
        fill(&mut model.job_title, contact.job_title);
        fill(&mut model.business_phone, contact.business_phone);
        fill(&mut model.mobile_phone, contact.mobile_phone);
        fill(&mut model.email, contact.email);
    }
    if let Some(account_id) = model.existing_account_id.clone().take().flatten() {
        let account = account::Entity::find_by_id(account_id)
            .one(conn)
            .await?
            .ok_or_else(|| AppError::not_found("account", account_id))?;
        fill(&mut model.company_name, Some(account.name));
    }
    Ok(())
}

fn fill(field: &mut sea_orm::ActiveValue<Option<String>>, value: Option<String>) {
    if field.as_ref().is_none() && value.is_some() {
        *field = Set(value);
    }
}

fn require_lead_fields(model: &lead::ActiveModel) -> AppResult<()> {
    if model.topic.as_ref().is_empty() {
        return Err(AppError::bad_input("topic", "topic is required"));
    }
    if model.last_name.as_ref().is_empty() {
        return Err(AppError::bad_input("lastName", "lastName is required"));
    }
    Ok(())
}

async fn ensure_user_exists(conn: &impl ConnectionTrait, id: Uuid, field: &str) -> AppResult<()> {
    match user::Entity::find_by_id(id).one(conn).await? {
        Some(_) => Ok(()),
        None => Err(AppError::NotFound {
            record: "user",
            id: format!("{id} ({field})"),
        }),
    }
}

/// Copies the given fields onto the model.
fn apply_changes(model: &mut lead::ActiveModel, c: LeadChanges) {
    fn put<T: Into<sea_orm::Value>>(field: &mut sea_orm::ActiveValue<T>, change: Option<T>) {
        if let Some(value) = change {
            *field = Set(value);
        }
    }
    // Required text: a clear is kept as "" so that `require_lead_fields` names the field.
    fn inner<T>(change: Change<T>, into: impl Fn(T) -> String) -> Change<String> {
        change.map(|v| v.map(into))
    }
    put(
        &mut model.topic,
        inner(c.topic, Topic::into_inner).map(Option::unwrap_or_default),
    );
    put(
        &mut model.last_name,
        inner(c.last_name, Name::into_inner).map(Option::unwrap_or_default),
    );
    put(&mut model.first_name, inner(c.first_name, Name::into_inner));
    put(&mut model.job_title, c.job_title);
    put(
        &mut model.business_phone,
        inner(c.business_phone, Phone::into_inner),
    );
    put(
        &mut model.mobile_phone,
        inner(c.mobile_phone, Phone::into_inner),
    );
    put(&mut model.email, inner(c.email, Email::into_inner));
    put(
        &mut model.company_name,
        inner(c.company_name, Name::into_inner),
    );
    put(&mut model.website, inner(c.website, Website::into_inner));
    put(&mut model.street1, c.address.street1);
    put(&mut model.street2, c.address.street2);
    put(&mut model.street3, c.address.street3);
    put(&mut model.city, c.address.city);
    put(&mut model.state_or_province, c.address.state_or_province);
    put(&mut model.postal_code, c.address.postal_code);
    put(&mut model.country_or_region, c.address.country_or_region);
    put(&mut model.description, c.description);
    put(&mut model.industry, c.industry);
    put(&mut model.lead_source, c.lead_source);
    put(&mut model.rating, c.rating);
    put(
        &mut model.preferred_contact_method,
        c.preferred_contact_method,
    );
    put(&mut model.purchase_timeframe, c.purchase_timeframe);
    put(&mut model.purchase_process, c.purchase_process);
    put(
        &mut model.budget_amount_cents,
        c.budget_amount.map(|v| v.map(Money::cents)),
    );
    put(&mut model.decision_maker, c.decision_maker);
    put(
        &mut model.currency_code,
        c.currency_code
            .map(|v| v.map(|code| code.as_str().to_owned())),
    );
    put(&mut model.existing_account_id, c.existing_account_id);
    put(&mut model.existing_contact_id, c.existing_contact_id);
}

/// Updates an open lead. A qualified or disqualified lead is read-only (`LEAD_CLOSED`).
pub async fn update(
    db: &Db,
    events: &Events,
    actor: &Actor,
    id: Uuid,
    mut changes: LeadChanges,
) -> AppResult<lead::Model> {
    let custom = std::mem::take(&mut changes.custom_fields);
    let txn = db.begin_write().await?;
    let before = get(&txn, id).await?;
    ensure_can_work(actor, before.owner_id, "lead")?;
    Transition::Edit.check(before.state)?;
    for (field, change) in [
        ("existingAccountId", &changes.existing_account_id),
        ("existingContactId", &changes.existing_contact_id),
    ] {
        if let Some(Some(target)) = change {
            ensure_exists(&txn, field, *target).await?;
        }
    }
    let mut model: lead::ActiveModel = before.clone().into();
    apply_changes(&mut model, changes);
    require_lead_fields(&model)?;
    model.modified_at = Set(super::now());
    let after = guarded_update(&txn, model).await?;
    super::duplicates::replace_keys(&txn, super::duplicates::Record::Lead(&after)).await?;
    let custom =
        super::custom_fields::write_values(&txn, RecordType::Lead, id, &custom, false).await?;
    let mut changes = audit::diff(
        &serde_json::to_value(&before).map_err(AppError::internal)?,
        &serde_json::to_value(&after).map_err(AppError::internal)?,
    );
    with_custom(&mut changes, custom);
    audit::record(
        &txn,
        Some(actor),
        RecordType::Lead,
        id,
        action::UPDATED,
        changes,
    )
    .await?;
    txn.commit().await?;
    publish(events, LeadEventKind::Updated, &after, actor).await;
    Ok(after)
}

async fn ensure_exists(conn: &impl ConnectionTrait, field: &str, id: Uuid) -> AppResult<()> {
    let found = match field {
        "existingAccountId" => account::Entity::find_by_id(id).one(conn).await?.is_some(),
        _ => contact::Entity::find_by_id(id).one(conn).await?.is_some(),
    };
    if found {
        Ok(())
    } else {
        Err(AppError::not_found(
            if field == "existingAccountId" {
                "account"
            } else {
                "contact"
            },
            id,
        ))
    }
}

/// Writes the changed columns of an open lead, only while it is still open: a concurrent
/// qualification that closed it in between makes this `LEAD_CLOSED` instead of a lost update.
async fn guarded_update(
    conn: &impl ConnectionTrait,
    model: lead::ActiveModel,
) -> AppResult<lead::Model> {
    let id = model
        .id
        .clone()
        .take()
        .ok_or_else(|| AppError::internal("lead update without an id"))?;
    let result = lead::Entity::update_many()
        .set(model)
        .filter(lead::Column::Id.eq(id))
        .filter(lead::Column::State.is_in(Transition::Edit.from_states().iter().copied()))
        .exec(conn)
        .await?;
    if result.rows_affected != 1 {
        return Err(Transition::Edit.lost_race());
    }
    get(conn, id).await
}

/// Gives a lead to another user (Sales Managers and System Administrators).
pub async fn assign(
    db: &Db,
    events: &Events,
    actor: &Actor,
    id: Uuid,
    owner_id: Uuid,
) -> AppResult<lead::Model> {
    ensure_can_assign(actor)?;
    let txn = db.begin_write().await?;
    let before = get(&txn, id).await?;
    ensure_user_exists(&txn, owner_id, "ownerId").await?;
    let mut model: lead::ActiveModel = before.clone().into();
    model.owner_id = Set(owner_id);
    model.modified_at = Set(super::now());
    let after = model.update(&txn).await?;
    audit::record(
        &txn,
        Some(actor),
        RecordType::Lead,
        id,
        action::ASSIGNED,
        json!({ "ownerId": { "from": before.owner_id, "to": owner_id } }),
    )
    .await?;
    txn.commit().await?;
    publish(events, LeadEventKind::Assigned, &after, actor).await;
    Ok(after)
}

/// Deletes a lead with its notes and stakeholder links. Records created from it stay; their
/// originating lead is cleared (by the foreign keys' `ON DELETE SET NULL`).
pub async fn delete(db: &Db, events: &Events, actor: &Actor, id: Uuid) -> AppResult<Uuid> {
    let txn = db.begin_write().await?;
    let lead = get(&txn, id).await?;
    ensure_can_work(actor, lead.owner_id, "lead")?;
    note::Entity::delete_many()
        .filter(note::Column::RegardingId.eq(id))
        .exec(&txn)
        .await?;
    lead::Entity::delete_by_id(id).exec(&txn).await?;
    super::duplicates::delete_keys(&txn, entity::DuplicateRecordType::Lead, id).await?;
    super::custom_fields::delete_values(&txn, id).await?;
    audit::record(
        &txn,
        Some(actor),
        RecordType::Lead,
        id,
        action::DELETED,
        json!({ "topic": lead.topic, "lastName": lead.last_name }),
    )
    .await?;
    txn.commit().await?;
    publish(events, LeadEventKind::Deleted, &lead, actor).await;
    Ok(id)
}

/// Disqualifies an open lead with a disqualified status reason (LOST by default). Refused with
/// `LEAD_HAS_OPPORTUNITY` while any opportunity is associated with the lead. The record, its
/// notes and stakeholders stay.
pub async fn disqualify(
    db: &Db,
    events: &Events,
    actor: &Actor,
    id: Uuid,
    reason: Option<LeadStatusReason>,
) -> AppResult<lead::Model> {
    let transition = lead_state::disqualify(reason)?;
    let txn = db.begin_write().await?;
    let lead = get(&txn, id).await?;
    ensure_can_work(actor, lead.owner_id, "lead")?;
    transition.check(lead.state)?;
    let opportunities = entity::opportunity::Entity::find()
        .filter(entity::opportunity::Column::OriginatingLeadId.eq(id))
        .count(&txn)
        .await?;
    if opportunities > 0 {
        return Err(AppError::LeadHasOpportunity);
    }
    let (state, reason) = transition
        .target()
        .ok_or_else(|| AppError::internal("a disqualification has a target state"))?;
    let now = super::now();
    let changed = lead::Entity::update_many()
        .col_expr(lead::Column::State, Expr::value(state))
        .col_expr(lead::Column::StatusReason, Expr::value(reason))
        .col_expr(lead::Column::ModifiedAt, Expr::value(now))
        .filter(lead::Column::Id.eq(id))
        .filter(lead::Column::State.is_in(transition.from_states().iter().copied()))
        .exec(&txn)
        .await?;
    if changed.rows_affected != 1 {
        return Err(transition.lost_race());
    }
    super::duplicates::set_active(&txn, entity::DuplicateRecordType::Lead, &[id], false).await?;
    audit::record(
        &txn,
        Some(actor),
        RecordType::Lead,
        id,
        action::DISQUALIFIED,
        json!({ "state": { "from": lead.state, "to": state },
                "statusReason": { "from": lead.status_reason, "to": reason } }),
    )
    .await?;
    let after = get(&txn, id).await?;
    txn.commit().await?;
    publish(events, LeadEventKind::Disqualified, &after, actor).await;
    Ok(after)
}

/// Reactivates a qualified or disqualified lead: Open / New at the Qualify stage, ready to be
/// qualified again. Records created by an earlier qualification stay (and stay linked to it as
/// its opportunities); the lead's links to its qualified account, contact and opportunity are
/// cleared so a new qualification starts afresh.
pub async fn reactivate(
    db: &Db,
    events: &Events,
    actor: &Actor,
    id: Uuid,
) -> AppResult<lead::Model> {
    let txn = db.begin_write().await?;
    let lead = get(&txn, id).await?;
    ensure_can_work(actor, lead.owner_id, "lead")?;
    let transition = Transition::Reactivate;
    transition.check(lead.state)?;
    let (state, reason) = transition
        .target()
        .ok_or_else(|| AppError::internal("a reactivation has a target state"))?;
    let changed = lead::Entity::update_many()
        .col_expr(lead::Column::State, Expr::value(state))
        .col_expr(lead::Column::StatusReason, Expr::value(reason))
        .col_expr(
            lead::Column::ProcessStage,
            Expr::value(ProcessStage::Qualify),
        )
        .col_expr(
            lead::Column::QualifiedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            lead::Column::QualifiedAccountId,
            Expr::value(Option::<Uuid>::None),
        )
        .col_expr(
            lead::Column::QualifiedContactId,
            Expr::value(Option::<Uuid>::None),
        )
        .col_expr(
            lead::Column::QualifyingOpportunityId,
            Expr::value(Option::<Uuid>::None),
        )
        .col_expr(lead::Column::ModifiedAt, Expr::value(super::now()))
        .filter(lead::Column::Id.eq(id))
        .filter(lead::Column::State.eq(lead.state))
        .exec(&txn)
        .await?;
    if changed.rows_affected != 1 {
        return Err(transition.lost_race());
    }
    super::duplicates::set_active(&txn, entity::DuplicateRecordType::Lead, &[id], true).await?;
    audit::record(
        &txn,
        Some(actor),
        RecordType::Lead,
        id,
        action::REACTIVATED,
        json!({ "state": { "from": lead.state, "to": state } }),
    )
    .await?;
    let after = get(&txn, id).await?;
    txn.commit().await?;
    publish(events, LeadEventKind::Reactivated, &after, actor).await;
    Ok(after)
}
