//! Duplicate rule mutations (System Administrators only).

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use crate::domain::values;
use crate::graphql::types::duplicates::{DuplicateRule, DuplicateRuleInput};
use crate::graphql::{actor, db};
use crate::service::duplicate_rules;

#[derive(Default)]
pub struct DuplicateRuleMutation;

/// A new rule.
#[derive(InputObject)]
pub struct CreateDuplicateRuleInput {
    /// The definition; the rule starts unpublished.
    pub rule: DuplicateRuleInput,
}

/// A rule's new definition.
#[derive(InputObject)]
pub struct UpdateDuplicateRuleInput {
    /// The rule.
    pub id: ID,
    /// The new definition (replaces the old one; publication is kept).
    pub rule: DuplicateRuleInput,
}

/// Which rule.
#[derive(InputObject)]
pub struct DuplicateRuleIdInput {
    /// The rule.
    pub id: ID,
}

/// The rule after the change.
#[derive(SimpleObject)]
pub struct DuplicateRulePayload {
    /// The rule.
    pub rule: DuplicateRule,
}

/// The deleted rule's id.
#[derive(SimpleObject)]
pub struct DeleteDuplicateRulePayload {
    /// The id the rule had.
    pub deleted_id: ID,
}

#[Object]
impl DuplicateRuleMutation {
    /// Defines a new, unpublished duplicate detection rule.
    async fn create_duplicate_rule(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The rule.")] input: CreateDuplicateRuleInput,
    ) -> async_graphql::Result<DuplicateRulePayload> {
        let actor = actor(ctx)?;
        let rule = duplicate_rules::create(db(ctx)?, actor, input.rule.parse()?).await?;
        Ok(DuplicateRulePayload { rule: rule.into() })
    }

    /// Replaces a rule's definition.
    async fn update_duplicate_rule(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The rule and its new definition.")] input: UpdateDuplicateRuleInput,
    ) -> async_graphql::Result<DuplicateRulePayload> {
        let actor = actor(ctx)?;
        let id = values::parse_id("id", &input.id)?;
        let rule = duplicate_rules::update(db(ctx)?, actor, id, input.rule.parse()?).await?;
        Ok(DuplicateRulePayload { rule: rule.into() })
    }

    /// Publishes a rule (at most 5 per base record type; CONFLICT beyond).
    async fn publish_duplicate_rule(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The rule.")] input: DuplicateRuleIdInput,
    ) -> async_graphql::Result<DuplicateRulePayload> {
        let actor = actor(ctx)?;
        let id = values::parse_id("id", &input.id)?;
        let rule = duplicate_rules::set_published(db(ctx)?, actor, id, true).await?;
        Ok(DuplicateRulePayload { rule: rule.into() })
    }

    /// Unpublishes a rule: it stops being applied.
    async fn unpublish_duplicate_rule(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The rule.")] input: DuplicateRuleIdInput,
    ) -> async_graphql::Result<DuplicateRulePayload> {
        let actor = actor(ctx)?;
        let id = values::parse_id("id", &input.id)?;
        let rule = duplicate_rules::set_published(db(ctx)?, actor, id, false).await?;
        Ok(DuplicateRulePayload { rule: rule.into() })
    }

    /// Deletes a rule.
    async fn delete_duplicate_rule(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The rule.")] input: DuplicateRuleIdInput,
    ) -> async_graphql::Result<DeleteDuplicateRulePayload> {
        let actor = actor(ctx)?;
        let id = values::parse_id("id", &input.id)?;
        let deleted = duplicate_rules::delete(db(ctx)?, actor, id).await?;
        Ok(DeleteDuplicateRulePayload {
            deleted_id: ID(deleted.to_string()),
        })
    }
}
