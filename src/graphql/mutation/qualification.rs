//! Qualification mutations.

use async_graphql::{Context, Object, SimpleObject};

use crate::graphql::types::bulk::{QualifyLeadsInput, QualifyLeadsPayload};
use crate::graphql::types::qualification::{
    QualificationSettings, QualifyLeadInput, QualifyLeadPayload, UpdateQualificationSettingsInput,
};
use crate::graphql::{actor, db};
use crate::service;
use crate::service::qualification::Qualifier;

#[derive(Default)]
pub struct QualificationMutation;

/// The settings after the change.
#[derive(SimpleObject)]
pub struct UpdateQualificationSettingsPayload {
    /// The settings now in force.
    pub settings: QualificationSettings,
}

#[Object]
impl QualificationMutation {
    /// Qualifies an open lead into an account, a contact and opportunities, as the settings and
    /// the choices say, in one transaction. Duplicates stop it before anything is written
    /// (outcome DUPLICATES_FOUND).
    async fn qualify_lead(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The lead and the choices.")] input: QualifyLeadInput,
    ) -> async_graphql::Result<QualifyLeadPayload> {
        let actor = actor(ctx)?;
        let request = input.parse()?;
        let qualifier = ctx.data::<Qualifier>()?;
        Ok(qualifier.qualify_lead(actor, request).await?.into())
    }

    /// Qualifies many leads with one set of choices, results in input order; each lead is
    /// qualified or left untouched as a whole, and one lead's failure never stops another. An
    /// oversized batch (BATCH_TOO_LARGE) or a repeated id (BAD_USER_INPUT) is refused before
    /// anything runs.
    async fn qualify_leads(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The leads and the choices.")] input: QualifyLeadsInput,
    ) -> async_graphql::Result<QualifyLeadsPayload> {
        let actor = actor(ctx)?;
        let request = input.parse()?;
        let qualifier = ctx.data::<Qualifier>()?;
        Ok(qualifier.qualify_leads(actor, request).await?.into())
    }

    /// Changes the lead qualification settings (System Administrators only).
    async fn update_qualification_settings(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The settings to change.")] input: UpdateQualificationSettingsInput,
    ) -> async_graphql::Result<UpdateQualificationSettingsPayload> {
        let actor = actor(ctx)?;
        let changes = input.parse()?;
        let settings = service::settings::update(db(ctx)?, actor, changes).await?;
        Ok(UpdateQualificationSettingsPayload {
            settings: QualificationSettings(settings),
        })
    }
}
