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

/// Rules to publish at once.
#[derive(InputObject)]
pub struct PublishDuplicateRulesInput {
    /// The rules (for example the recommended set).
    pub ids: Vec<ID>,
    /// Also unpublish every other rule of the same base record types, so the given rules
    /// replace the ones in force (default false).
    #[graphql(default = false)]
    pub unpublish_others: bool,
}

/// The rules after publishing.
#[derive(SimpleObject)]
pub struct PublishDuplicateRulesPayload {
    /// The published rules, in the order given.
    pub rules: Vec<DuplicateRule>,
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

    /// Publishes several rules in one transaction (at most 5 per base record type in the
    /// result; CONFLICT beyond, and then nothing changes).
    async fn publish_duplicate_rules(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The rules.")] input: PublishDuplicateRulesInput,
    ) -> async_graphql::Result<PublishDuplicateRulesPayload> {
        let actor = actor(ctx)?;
        let ids = input
            .ids
            .iter()
            .enumerate()
            .map(|(i, id)| values::parse_id(&format!("ids.{i}"), id))
            .collect::<Result<Vec<_>, _>>()?;
        let rules =
            duplicate_rules::publish_many(db(ctx)?, actor, &ids, input.unpublish_others).await?;
        Ok(PublishDuplicateRulesPayload {
            rules: rules.into_iter().map(Into::into).collect(),
        })
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
