//! Lead mutations: create, update, assign, delete.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use crate::domain::values;
use crate::graphql::types::inputs::{CreateLeadInput, UpdateLeadInput};
use crate::graphql::types::{Lead, LeadStatusReason};
use crate::graphql::{actor, db, events};
use crate::service;

#[derive(Default)]
pub struct LeadMutation;

/// The new lead.
#[derive(SimpleObject)]
pub struct CreateLeadPayload {
    /// The lead as stored (with auto-populated fields).
    pub lead: Lead,
    /// Other leads that may be the same person (by the published lead duplicate rules). They do
    /// not stop the lead from being created.
    pub possible_duplicates: Vec<Lead>,
}

/// The changed lead.
#[derive(SimpleObject)]
pub struct UpdateLeadPayload {
    /// The lead as stored.
    pub lead: Lead,
}

/// Which lead to delete.
#[derive(InputObject)]
pub struct DeleteLeadInput {
    /// The lead.
    pub id: ID,
}

/// The deleted lead's id.
#[derive(SimpleObject)]
pub struct DeleteLeadPayload {
    /// The id the lead had.
    pub deleted_id: ID,
}

/// A lead and its new owner.
#[derive(InputObject)]
pub struct AssignLeadInput {
    /// The lead.
    pub lead_id: ID,
    /// The user who will work it.
    pub owner_id: ID,
}

/// The reassigned lead.
#[derive(SimpleObject)]
pub struct AssignLeadPayload {
    /// The lead with its new owner.
    pub lead: Lead,
}

#[Object]
impl LeadMutation {
    /// Creates a lead. An existing contact or account fills empty fields (names, job title,
    /// phones, e-mail; company name); given values are never overwritten.
    async fn create_lead(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The CreateLead request; see `CreateLeadInput`.")] input: CreateLeadInput,
    ) -> async_graphql::Result<CreateLeadPayload> {
        let actor = actor(ctx)?;
        let owner_id = values::parse_opt_id("ownerId", input.owner_id.as_deref())?;
        let changes = input.raw().parse()?;
        let created =
            service::leads::create(db(ctx)?, events(ctx)?, actor, changes, owner_id).await?;
        Ok(CreateLeadPayload {
            lead: Lead(created.lead),
            possible_duplicates: created.possible_duplicates.into_iter().map(Lead).collect(),
        })
    }

    /// Changes an open lead; a qualified or disqualified lead is read-only (`LEAD_CLOSED`).
    async fn update_lead(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The UpdateLead request; see `UpdateLeadInput`.")] input: UpdateLeadInput,
    ) -> async_graphql::Result<UpdateLeadPayload> {
        let actor = actor(ctx)?;
        let id = values::parse_id("id", &input.id)?;
        let changes = input.raw().parse()?;
        let lead = service::leads::update(db(ctx)?, events(ctx)?, actor, id, changes).await?;
        Ok(UpdateLeadPayload { lead: Lead(lead) })
    }

    /// Gives a lead to another user (Sales Managers and System Administrators).
    async fn assign_lead(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The AssignLead request; see `AssignLeadInput`.")] input: AssignLeadInput,
    ) -> async_graphql::Result<AssignLeadPayload> {
        let actor = actor(ctx)?;
        let id = values::parse_id("leadId", &input.lead_id)?;
        let owner = values::parse_id("ownerId", &input.owner_id)?;
        let lead = service::leads::assign(db(ctx)?, events(ctx)?, actor, id, owner).await?;
        Ok(AssignLeadPayload { lead: Lead(lead) })
    }

    /// Deletes a lead with its notes and stakeholder links. Accounts, contacts and
    /// opportunities created from it stay, with their originating lead cleared.
    async fn delete_lead(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The DeleteLead request; see `DeleteLeadInput`.")] input: DeleteLeadInput,
    ) -> async_graphql::Result<DeleteLeadPayload> {
        let actor = actor(ctx)?;
        let id = values::parse_id("id", &input.id)?;
        let deleted = service::leads::delete(db(ctx)?, events(ctx)?, actor, id).await?;
        Ok(DeleteLeadPayload {
            deleted_id: ID(deleted.to_string()),
        })
    }
}

/// A lead to disqualify.
#[derive(InputObject)]
pub struct DisqualifyLeadInput {
    /// The open lead.
    pub lead_id: ID,
    /// LOST (default), CANNOT_CONTACT, NO_LONGER_INTERESTED or CANCELED.
    #[graphql(default_with = "LeadStatusReason::Lost")]
    pub status_reason: LeadStatusReason,
}

/// The disqualified lead.
#[derive(SimpleObject)]
pub struct DisqualifyLeadPayload {
    /// The lead, now DISQUALIFIED.
    pub lead: Lead,
}

/// A lead to reactivate.
#[derive(InputObject)]
pub struct ReactivateLeadInput {
    /// The qualified or disqualified lead.
    pub lead_id: ID,
}

/// The reactivated lead.
#[derive(SimpleObject)]
pub struct ReactivateLeadPayload {
    /// The lead, now OPEN / NEW at the QUALIFY stage.
    pub lead: Lead,
}

#[derive(Default)]
pub struct LeadStateMutation;

#[Object]
impl LeadStateMutation {
    /// Disqualifies an open lead with no associated opportunity; it stays as a record with its
    /// notes and stakeholders.
    async fn disqualify_lead(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The lead and the reason.")] input: DisqualifyLeadInput,
    ) -> async_graphql::Result<DisqualifyLeadPayload> {
        let actor = actor(ctx)?;
        let id = values::parse_id("leadId", &input.lead_id)?;
        let lead = service::leads::disqualify(
            db(ctx)?,
            events(ctx)?,
            actor,
            id,
            Some(input.status_reason.into()),
        )
        .await?;
        Ok(DisqualifyLeadPayload { lead: Lead(lead) })
    }

    /// Reopens a qualified or disqualified lead (OPEN / NEW at QUALIFY) so it can be worked and
    /// qualified again; records from earlier qualifications stay.
    async fn reactivate_lead(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The lead.")] input: ReactivateLeadInput,
    ) -> async_graphql::Result<ReactivateLeadPayload> {
        let actor = actor(ctx)?;
        let id = values::parse_id("leadId", &input.lead_id)?;
        let lead = service::leads::reactivate(db(ctx)?, events(ctx)?, actor, id).await?;
        Ok(ReactivateLeadPayload { lead: Lead(lead) })
    }
}
