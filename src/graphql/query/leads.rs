//! Lead queries.

use async_graphql::{Context, ID, Object};

use crate::domain::values;
use crate::graphql::types::connection::LeadConnection;
use crate::graphql::types::inputs::{LeadFilter, LeadOrder};
use crate::graphql::types::{Lead, LeadView};
use crate::graphql::{actor, db};
use crate::service::{self, paging::PageRequest};

#[derive(Default)]
pub struct LeadQuery;

#[Object]
impl LeadQuery {
    /// A lead by id; null when there is none.
    async fn lead(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The record's id.")] id: ID,
    ) -> async_graphql::Result<Option<Lead>> {
        actor(ctx)?;
        let id = values::parse_id("id", &id)?;
        Ok(service::leads::find(db(ctx)?, id).await?.map(Lead))
    }

    /// A page of leads in a view, optionally filtered and sorted (default: newest first).
    async fn leads(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            default_with = "Some(LeadView::AllLeads)",
            desc = "Which leads: the caller's open leads, open, closed or all."
        )]
        view: Option<LeadView>,
        #[graphql(desc = "Narrows the view.")] filter: Option<LeadFilter>,
        #[graphql(desc = "Sort order; ties are broken by id.")] order_by: Option<LeadOrder>,
        #[graphql(desc = "Page size (0 to 500, default 50).")] first: Option<i32>,
        #[graphql(desc = "Continue after this cursor.")] after: Option<String>,
    ) -> async_graphql::Result<LeadConnection> {
        let actor = actor(ctx)?;
        let page = PageRequest::parse(first, after.as_deref())?;
        let had_cursor = page.after.is_some();
        let filter = filter.unwrap_or_default().parse()?;
        let order = order_by.map(Into::into).unwrap_or_default();
        let page = service::leads::list(
            db(ctx)?,
            actor,
            view.unwrap_or(LeadView::AllLeads).into(),
            filter,
            order,
            page,
        )
        .await?;
        Ok(LeadConnection::from_page(page, had_cursor))
    }
}
