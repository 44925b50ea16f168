//! Notes on the timeline of a lead, account, contact or opportunity.

use entity::{RecordType, note};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use uuid::Uuid;

use crate::auth::Actor;
use crate::db::Db;
use crate::error::{AppError, AppResult};

/// Adds a note; at least one of subject and text is needed.
pub async fn add(
    db: &Db,
    actor: &Actor,
    regarding_id: Uuid,
    subject: Option<String>,
    text: Option<String>,
) -> AppResult<note::Model> {
    if subject.is_none() && text.is_none() {
        return Err(AppError::bad_input(
            "text",
            "a note needs a subject or a text",
        ));
    }
    let txn = db.begin_write().await?;
    let (regarding_type, _) = super::record_of(&txn, regarding_id).await?;
    let note = insert(
        &txn,
        Some(actor.user_id),
        regarding_type,
        regarding_id,
        subject,
        text,
    )
    .await?;
    txn.commit().await?;
    Ok(note)
}

/// Inserts a note inside the caller's transaction.
pub async fn insert(
    conn: &impl ConnectionTrait,
    created_by: Option<Uuid>,
    regarding_type: RecordType,
    regarding_id: Uuid,
    subject: Option<String>,
    text: Option<String>,
) -> AppResult<note::Model> {
    Ok(
        new_note(created_by, regarding_type, regarding_id, subject, text)
            .insert(conn)
            .await?,
    )
}

/// A note, not yet stored (batched writers insert many with `service::insert_all`).
pub fn new_note(
    created_by: Option<Uuid>,
    regarding_type: RecordType,
    regarding_id: Uuid,
    subject: Option<String>,
    text: Option<String>,
) -> note::ActiveModel {
    note::ActiveModel {
        id: Set(super::new_id()),
        regarding_type: Set(regarding_type),
        regarding_id: Set(regarding_id),
        subject: Set(subject),
        text: Set(text),
        created_by: Set(created_by),
        created_at: Set(super::now()),
    }
}
