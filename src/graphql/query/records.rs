//! Queries of accounts, contacts, opportunities and the caller.

use async_graphql::{Context, ID, Object};

use crate::domain::values;
use crate::error::AppError;
use crate::graphql::loaders::{AccountId, ContactId, OpportunityId, UserId};
use crate::graphql::types::audit::AuditEvent;
use crate::graphql::types::connection::{
    AccountConnection, ContactConnection, OpportunityConnection,
};
use crate::graphql::types::{Account, Contact, Opportunity, User};
use crate::graphql::{actor, db, loaders};
use crate::service::{self, paging::PageRequest};

#[derive(Default)]
pub struct RecordQuery;

#[Object]
impl RecordQuery {
    /// The caller.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        let actor = actor(ctx)?;
        loaders(ctx)?
            .load_one(UserId(actor.user_id))
            .await?
            .map(User)
            .ok_or_else(|| {
                AppError::Unauthenticated("the token's user no longer exists".into()).into()
            })
    }

    /// The audit trail of a record, oldest first. The qualification settings' trail is under
    /// the nil id `00000000-0000-0000-0000-000000000000`.
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The record's id.")] record_id: ID,
    ) -> async_graphql::Result<Vec<AuditEvent>> {
        actor(ctx)?;
        let id = values::parse_id("recordId", &record_id)?;
        let events = service::audit::events_for(&db(ctx)?.read, id).await?;
        Ok(events.into_iter().map(AuditEvent).collect())
    }

    /// An account by id; null when there is none.
    async fn account(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The record's id.")] id: ID,
    ) -> async_graphql::Result<Option<Account>> {
        actor(ctx)?;
        let id = values::parse_id("id", &id)?;
        Ok(loaders(ctx)?.load_one(AccountId(id)).await?.map(Account))
    }

    /// A page of accounts, newest first.
    async fn accounts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Text found, ignoring case, in the name, e-mail or website.")]
        search: Option<String>,
        #[graphql(desc = "Page size (0 to 500, default 50).")] first: Option<i32>,
        #[graphql(desc = "Continue after this cursor.")] after: Option<String>,
    ) -> async_graphql::Result<AccountConnection> {
        actor(ctx)?;
        let page = PageRequest::parse(first, after.as_deref())?;
        let had_cursor = page.after.is_some();
        let page = service::accounts::list(db(ctx)?, search.as_deref(), page).await?;
        Ok(AccountConnection::from_page(page, had_cursor))
    }

    /// A contact by id; null when there is none.
    async fn contact(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The record's id.")] id: ID,
    ) -> async_graphql::Result<Option<Contact>> {
        actor(ctx)?;
        let id = values::parse_id("id", &id)?;
        Ok(loaders(ctx)?.load_one(ContactId(id)).await?.map(Contact))
    }

    /// A page of contacts, newest first.
    async fn contacts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Text found, ignoring case, in the names or e-mail.")] search: Option<
            String,
        >,
        #[graphql(desc = "Page size (0 to 500, default 50).")] first: Option<i32>,
        #[graphql(desc = "Continue after this cursor.")] after: Option<String>,
    ) -> async_graphql::Result<ContactConnection> {
        actor(ctx)?;
        let page = PageRequest::parse(first, after.as_deref())?;
        let had_cursor = page.after.is_some();
        let page = service::contacts::list(db(ctx)?, search.as_deref(), page).await?;
        Ok(ContactConnection::from_page(page, had_cursor))
    }

    /// An opportunity by id; null when there is none.
    async fn opportunity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The record's id.")] id: ID,
    ) -> async_graphql::Result<Option<Opportunity>> {
        actor(ctx)?;
        let id = values::parse_id("id", &id)?;
        Ok(loaders(ctx)?
            .load_one(OpportunityId(id))
            .await?
            .map(Opportunity))
    }

    /// A page of opportunities, newest first.
    async fn opportunities(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (0 to 500, default 50).")] first: Option<i32>,
        #[graphql(desc = "Continue after this cursor.")] after: Option<String>,
    ) -> async_graphql::Result<OpportunityConnection> {
        actor(ctx)?;
        let page = PageRequest::parse(first, after.as_deref())?;
        let had_cursor = page.after.is_some();
        let page = service::opportunities::list(db(ctx)?, page).await?;
        Ok(OpportunityConnection::from_page(page, had_cursor))
    }
}
