//! Opportunities: read and list (they are created by qualification).

use entity::opportunity;
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::paging::{Cursor, Page, PageRequest, after_cursor, page_from_rows};
use crate::db::Db;
use crate::error::{AppError, AppResult};

/// An opportunity by id, or `NOT_FOUND`.
pub async fn get(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<opportunity::Model> {
    opportunity::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("opportunity", id))
}

/// One page of opportunities, newest first.
pub async fn list(db: &Db, page: PageRequest) -> AppResult<Page<opportunity::Model>> {
    let mut query = opportunity::Entity::find();
    let total_count = query.clone().count(&db.read).await?;
    if let Some(after) = &page.after {
        query = query.filter(after_cursor(
            opportunity::Column::Id,
            after.id.into(),
            opportunity::Column::Id,
            after.id,
            true,
        ));
    }
    let rows = query
        .order_by_desc(opportunity::Column::Id)
        .limit(page.first + 1)
        .all(&db.read)
        .await?;
    Ok(page_from_rows(rows, page.first, total_count, |o| Cursor {
        key: String::new(),
        id: o.id,
    }))
}
