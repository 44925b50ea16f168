//! Contacts: create, read, list.

use entity::{RecordState, RecordType, contact};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde_json::json;
use uuid::Uuid;

use super::audit::{self, action};
use super::paging::{Cursor, Page, PageRequest, after_cursor, page_from_rows, text_search};
use crate::auth::Actor;
use crate::db::Db;
use crate::domain::records::NewContact;
use crate::domain::values::{Email, Name, Phone};
use crate::error::{AppError, AppResult};

/// A contact by id, or `NOT_FOUND`.
pub async fn get(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<contact::Model> {
    contact::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("contact", id))
}

/// Creates a contact owned by the caller.
pub async fn create(db: &Db, actor: &Actor, new: NewContact) -> AppResult<contact::Model> {
    let now = super::now();
    let txn = db.begin_write().await?;
    if let Some(account_id) = new.parent_account_id {
        super::accounts::get(&txn, account_id).await?;
    }
    let a = new.address;
    let contact = contact::ActiveModel {
        id: Set(super::new_id()),
        first_name: Set(new.first_name.map(Name::into_inner)),
        last_name: Set(new.last_name.into_inner()),
        job_title: Set(new.job_title),
        business_phone: Set(new.business_phone.map(Phone::into_inner)),
        mobile_phone: Set(new.mobile_phone.map(Phone::into_inner)),
        email: Set(new.email.map(Email::into_inner)),
        street1: Set(a.street1.flatten()),
        street2: Set(a.street2.flatten()),
        street3: Set(a.street3.flatten()),
        city: Set(a.city.flatten()),
        state_or_province: Set(a.state_or_province.flatten()),
        postal_code: Set(a.postal_code.flatten()),
        country_or_region: Set(a.country_or_region.flatten()),
        parent_account_id: Set(new.parent_account_id),
        originating_lead_id: Set(None),
        owner_id: Set(actor.user_id),
        state: Set(RecordState::Active),
        created_at: Set(now),
        modified_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let custom = super::custom_fields::write_values(
        &txn,
        RecordType::Contact,
        contact.id,
        &new.custom_fields,
        true,
    )
    .await?;
    super::duplicates::insert_keys_of_new(&txn, &[super::duplicates::Record::Contact(&contact)])
        .await?;
    audit::record(
        &txn,
        Some(actor),
        RecordType::Contact,
        contact.id,
        action::CREATED,
        json!({ "firstName": contact.first_name, "lastName": contact.last_name,
                "customFields": custom }),
    )
    .await?;
    txn.commit().await?;
    Ok(contact)
}

/// One page of contacts, newest first, optionally searched by name or e-mail.
pub async fn list(
    db: &Db,
    search: Option<&str>,
    page: PageRequest,
) -> AppResult<Page<contact::Model>> {
    let mut query = contact::Entity::find();
    if let Some(text) = search.map(str::trim).filter(|t| !t.is_empty()) {
        query = query.filter(text_search(
            db.backend(),
            "contacts",
            text,
            &[
                contact::Column::FirstName,
                contact::Column::LastName,
                contact::Column::Email,
            ],
        ));
    }
    let total_count = query.clone().count(&db.read).await?;
    if let Some(after) = &page.after {
        query = query.filter(after_cursor(
            contact::Column::Id,
            after.id.into(),
            contact::Column::Id,
            after.id,
            true,
        ));
    }
    let rows = query
        .order_by_desc(contact::Column::Id)
        .limit(page.first + 1)
        .all(&db.read)
        .await?;
    Ok(page_from_rows(rows, page.first, total_count, |c| Cursor {
        key: String::new(),
        id: c.id,
    }))
}
