//! Stakeholders: contacts connected to a lead or an opportunity, with a role.

use entity::{StakeholderRole, stakeholder};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use uuid::Uuid;

use super::access::ensure_can_work;
use crate::auth::Actor;
use crate::db::Db;
use crate::domain::lead_state::Transition;
use crate::error::{AppError, AppResult};

/// The record a stakeholder is connected to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StakeholderOf {
    Lead(Uuid),
    Opportunity(Uuid),
}

/// Connects a contact to a lead (while it is open) or an opportunity, once per role.
pub async fn add(
    db: &Db,
    actor: &Actor,
    of: StakeholderOf,
    contact_id: Uuid,
    role: StakeholderRole,
) -> AppResult<stakeholder::Model> {
    let txn = db.begin_write().await?;
    let (lead_id, opportunity_id) = match of {
        StakeholderOf::Lead(id) => {
            let lead = super::leads::get(&txn, id).await?;
            ensure_can_work(actor, lead.owner_id, "lead")?;
            Transition::Edit.check(lead.state)?;
            (Some(id), None)
        }
        StakeholderOf::Opportunity(id) => {
            let opportunity = super::opportunities::get(&txn, id).await?;
            ensure_can_work(actor, opportunity.owner_id, "opportunity")?;
            (None, Some(id))
        }
    };
    super::contacts::get(&txn, contact_id).await?;
    let same = stakeholder::Entity::find()
        .filter(stakeholder::Column::ContactId.eq(contact_id))
        .filter(stakeholder::Column::Role.eq(role))
        .filter(match of {
            StakeholderOf::Lead(id) => stakeholder::Column::LeadId.eq(id),
            StakeholderOf::Opportunity(id) => stakeholder::Column::OpportunityId.eq(id),
        })
        .count(&txn)
        .await?;
    if same > 0 {
        return Err(AppError::Conflict(
            "this contact is already a stakeholder with that role".to_owned(),
        ));
    }
    let stakeholder = stakeholder::ActiveModel {
        id: Set(super::new_id()),
        lead_id: Set(lead_id),
        opportunity_id: Set(opportunity_id),
        contact_id: Set(contact_id),
        role: Set(role),
        created_at: Set(super::now()),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(stakeholder)
}
