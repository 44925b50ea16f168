//! Duplicate detection against existing records.

use entity::{account, contact, lead};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::error::AppResult;

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

/// Existing accounts that match an account about to be created.
pub async fn account_matches(
    _conn: &impl ConnectionTrait,
    _candidate: &account::Model,
) -> AppResult<Vec<Match<account::Model>>> {
    Ok(Vec::new())
}

/// Existing contacts that match a contact about to be created.
pub async fn contact_matches(
    _conn: &impl ConnectionTrait,
    _candidate: &contact::Model,
) -> AppResult<Vec<Match<contact::Model>>> {
    Ok(Vec::new())
}

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
