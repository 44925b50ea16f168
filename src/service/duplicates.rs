//! Duplicate detection against existing records.

use entity::lead;
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::error::AppResult;

/// Other leads with the same e-mail address (ignoring case and surrounding blanks).
pub async fn lead_duplicates_of(
    conn: &impl ConnectionTrait,
    lead: &lead::Model,
) -> AppResult<Vec<lead::Model>> {
    let Some(email) = lead.email.as_deref().map(|e| e.trim().to_lowercase()) else {
        return Ok(Vec::new());
    };
    Ok(lead::Entity::find()
        .filter(Expr::expr(Func::lower(Expr::col(lead::Column::Email.as_column_ref()))).eq(email))
        .filter(lead::Column::Id.ne(lead.id))
        .order_by_asc(lead::Column::Id)
        .limit(50)
        .all(conn)
        .await?)
}
