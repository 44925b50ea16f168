//! Qualification queries: settings, preview, field mappings.

use async_graphql::{Context, Object};

use crate::graphql::types::duplicates::DuplicateRule;
use crate::graphql::types::qualification::{
    FieldMapping, QualificationPreview, QualificationSettings, QualifyLeadInput,
};
use crate::graphql::{actor, db};
use crate::service;

#[derive(Default)]
pub struct QualificationQuery;

#[Object]
impl QualificationQuery {
    /// The organization's lead qualification settings.
    async fn qualification_settings(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<QualificationSettings> {
        actor(ctx)?;
        Ok(QualificationSettings(
            service::settings::get(&db(ctx)?.read).await?,
        ))
    }

    /// What `qualifyLead` would do with the same input: records, mapped values, required
    /// choices, duplicates and warnings. Writes nothing.
    async fn preview_qualification(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The same input qualifyLead takes.")] input: QualifyLeadInput,
    ) -> async_graphql::Result<QualificationPreview> {
        let actor = actor(ctx)?;
        let request = input.parse()?;
        let qualifier = ctx.data::<service::qualification::Qualifier>()?;
        Ok(qualifier.preview(actor, request).await?.into())
    }

    /// Every duplicate detection rule, published first.
    async fn duplicate_rules(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<DuplicateRule>> {
        actor(ctx)?;
        let rules = service::duplicate_rules::list(&db(ctx)?.read).await?;
        Ok(rules.into_iter().map(Into::into).collect())
    }

    /// Every field mapping (how lead fields are carried over to the account, contact and
    /// opportunity on qualification), standard ones first, with `standard` and `enabled`.
    async fn field_mappings(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<FieldMapping>> {
        actor(ctx)?;
        let rows = service::field_mappings::list(&db(ctx)?.read).await?;
        Ok(rows.into_iter().map(FieldMapping).collect())
    }
}
