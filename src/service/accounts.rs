//! Accounts: create, read, list.

use entity::{RecordState, RecordType, account, contact};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde_json::json;
use uuid::Uuid;

use super::audit::{self, action};
use super::paging::{Cursor, Page, PageRequest, after_cursor, page_from_rows, text_search};
use crate::auth::Actor;
use crate::db::Db;
use crate::domain::records::NewAccount;
use crate::domain::values::{Email, Phone, Website};
use crate::error::{AppError, AppResult};

/// An account by id, or `NOT_FOUND`.
pub async fn get(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<account::Model> {
    account::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("account", id))
}

/// Creates an account owned by the caller.
pub async fn create(
    db: &Db,
    actor: &Actor,
    new: NewAccount,
    primary_contact_id: Option<Uuid>,
) -> AppResult<account::Model> {
    let now = super::now();
    let txn = db.begin_write().await?;
    if let Some(contact_id) = primary_contact_id {
        super::contacts::get(&txn, contact_id).await?;
    }
    let a = new.address;
    let account = account::ActiveModel {
        id: Set(super::new_id()),
        name: Set(new.name.into_inner()),
        website: Set(new.website.map(Website::into_inner)),
        phone: Set(new.phone.map(Phone::into_inner)),
        email: Set(new.email.map(Email::into_inner)),
        street1: Set(a.street1.flatten()),
        street2: Set(a.street2.flatten()),
        street3: Set(a.street3.flatten()),
        city: Set(a.city.flatten()),
        state_or_province: Set(a.state_or_province.flatten()),
        postal_code: Set(a.postal_code.flatten()),
        country_or_region: Set(a.country_or_region.flatten()),
        primary_contact_id: Set(primary_contact_id),
        originating_lead_id: Set(None),
        owner_id: Set(actor.user_id),
        state: Set(RecordState::Active),
        created_at: Set(now),
        modified_at: Set(now),
    }
    .insert(&txn)
    .await?;
    super::duplicates::insert_keys_of_new(&txn, &[super::duplicates::Record::Account(&account)])
        .await?;
    let custom = super::custom_fields::write_values(
        &txn,
        RecordType::Account,
        account.id,
        &new.custom_fields,
        true,
    )
    .await?;
    audit::record(
        &txn,
        Some(actor),
        RecordType::Account,
        account.id,
        action::CREATED,
        json!({ "name": account.name, "customFields": custom }),
    )
    .await?;
    txn.commit().await?;
    Ok(account)
}

/// One page of accounts, newest first, optionally searched by name, e-mail or website.
pub async fn list(
    db: &Db,
    search: Option<&str>,
    page: PageRequest,
) -> AppResult<Page<account::Model>> {
    let mut query = account::Entity::find();
    if let Some(text) = search.map(str::trim).filter(|t| !t.is_empty()) {
        query = query.filter(text_search(
            db.backend(),
            "accounts",
            text,
            &[
                account::Column::Name,
                account::Column::Email,
                account::Column::Website,
            ],
        ));
    }
    let total_count = query.clone().count(&db.read).await?;
    if let Some(after) = &page.after {
        query = query.filter(after_cursor(
            account::Column::Id,
            after.id.into(),
            account::Column::Id,
            after.id,
            true,
        ));
    }
    let rows = query
        .order_by_desc(account::Column::Id)
        .limit(page.first + 1)
        .all(&db.read)
        .await?;
    Ok(page_from_rows(rows, page.first, total_count, |a| Cursor {
        key: String::new(),
        id: a.id,
    }))
}

/// The contacts whose parent is one of `account_ids`.
pub async fn contacts_of(
    conn: &impl ConnectionTrait,
    account_ids: &[Uuid],
) -> AppResult<Vec<contact::Model>> {
    Ok(contact::Entity::find()
        .filter(contact::Column::ParentAccountId.is_in(account_ids.iter().copied()))
        .order_by_asc(contact::Column::Id)
        .all(conn)
        .await?)
}
