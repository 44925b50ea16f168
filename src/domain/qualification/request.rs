//! What a caller asks of a qualification, parsed: one lead with its choices
//! ([`QualifyRequest`]), or many leads with one set of choices ([`BulkRequest`]).

use std::collections::HashSet;

use entity::{PurchaseProcess, PurchaseTimeframe};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::values::{CurrencyCode, Money, Topic};
use crate::error::{AppError, AppResult};

/// What the caller asks for one record type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RecordAction {
    CreateNew,
    UseExisting,
    Skip,
}

/// The caller's choice for an account, contact or opportunity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordChoice {
    pub action: RecordAction,
    /// With `UseExisting`: the record to link (default: the lead's existing one).
    pub existing_id: Option<Uuid>,
    /// With `CreateNew`: create even if duplicates match.
    pub ignore_duplicates: bool,
}

/// An opportunity the seller drafts (multiple opportunities, or to adjust the single one).
/// Fields left `None` come from the lead.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpportunityDraft {
    pub topic: Option<Topic>,
    pub budget_amount: Option<Money>,
    pub purchase_timeframe: Option<PurchaseTimeframe>,
    pub purchase_process: Option<PurchaseProcess>,
    pub decision_maker: Option<bool>,
    pub description: Option<String>,
}

impl OpportunityDraft {
    /// The API names of the fields the draft sets (checked against the form's fields).
    pub fn given_fields(&self) -> Vec<&'static str> {
        [
            ("topic", self.topic.is_some()),
            ("budgetAmount", self.budget_amount.is_some()),
            ("purchaseTimeframe", self.purchase_timeframe.is_some()),
            ("purchaseProcess", self.purchase_process.is_some()),
            ("decisionMaker", self.decision_maker.is_some()),
            ("description", self.description.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, given)| given.then_some(name))
        .collect()
    }
}

/// What to do when records to be created match existing ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum DuplicatePolicy {
    /// Report the matches for that lead; write nothing for it.
    #[default]
    Report,
    /// Exactly one match per record: link it; several: report.
    LinkSingleMatch,
    /// Create new records regardless (the product's grid behaviour).
    CreateAnyway,
}

/// A qualification request for one lead, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QualifyRequest {
    pub lead_id: Uuid,
    pub account: Option<RecordChoice>,
    pub contact: Option<RecordChoice>,
    pub opportunity: Option<RecordChoice>,
    pub drafts: Option<Vec<OpportunityDraft>>,
    pub currency_code: Option<CurrencyCode>,
    /// Not part of the request's identity (a replay sends the same request under the same key).
    #[serde(skip)]
    pub idempotency_key: Option<String>,
}

/// A bulk qualification request, parsed: one set of choices for every listed lead.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkRequest {
    pub lead_ids: Vec<Uuid>,
    pub account: Option<RecordAction>,
    pub contact: Option<RecordAction>,
    pub opportunity: Option<RecordAction>,
    pub duplicate_policy: DuplicatePolicy,
    pub currency_code: Option<CurrencyCode>,
    #[serde(skip)]
    pub idempotency_key: Option<String>,
}

impl BulkRequest {
    /// Checks the batch before anything runs: at least one lead, at most `max`, none twice.
    pub fn validate(&self, max: usize) -> AppResult<()> {
        if self.lead_ids.is_empty() {
            return Err(AppError::bad_input("leadIds", "list at least one lead"));
        }
        if self.lead_ids.len() > max {
            return Err(AppError::BatchTooLarge {
                max,
                given: self.lead_ids.len(),
            });
        }
        let mut seen = HashSet::with_capacity(self.lead_ids.len());
        if let Some(repeated) = self.lead_ids.iter().find(|id| !seen.insert(**id)) {
            return Err(AppError::bad_input(
                "leadIds",
                format!("lead {repeated} is listed twice"),
            ));
        }
        Ok(())
    }

    /// The request for one lead of the batch: the batch's choices (USE_EXISTING meaning the
    /// lead's own existing record; CREATE_ANYWAY meaning new records ignore duplicates).
    pub fn for_lead(&self, lead_id: Uuid) -> QualifyRequest {
        let create_anyway = self.duplicate_policy == DuplicatePolicy::CreateAnyway;
        let choice = |action: Option<RecordAction>, ignore_duplicates: bool| {
            action.map(|action| RecordChoice {
                action,
                existing_id: None,
                ignore_duplicates,
            })
        };
        QualifyRequest {
            lead_id,
            account: choice(self.account, create_anyway),
            contact: choice(self.contact, create_anyway),
            opportunity: choice(self.opportunity, false),
            drafts: None,
            currency_code: self.currency_code,
            idempotency_key: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_is_checked_before_anything_runs() {
        let id = Uuid::now_v7();
        let batch = |ids: Vec<Uuid>| BulkRequest {
            lead_ids: ids,
            ..Default::default()
        };
        assert!(batch(vec![]).validate(10).is_err());
        assert!(matches!(
            batch(vec![Uuid::now_v7(), Uuid::now_v7()]).validate(1),
            Err(AppError::BatchTooLarge { max: 1, given: 2 })
        ));
        assert!(batch(vec![id, id]).validate(10).is_err());
        assert!(batch(vec![id]).validate(10).is_ok());
    }

    #[test]
    fn create_anyway_makes_every_new_record_ignore_duplicates() {
        let batch = BulkRequest {
            lead_ids: vec![Uuid::now_v7()],
            account: Some(RecordAction::CreateNew),
            contact: Some(RecordAction::CreateNew),
            opportunity: Some(RecordAction::Skip),
            duplicate_policy: DuplicatePolicy::CreateAnyway,
            ..Default::default()
        };
        let single = batch.for_lead(batch.lead_ids[0]);
        assert!(single.account.unwrap().ignore_duplicates);
        assert!(single.contact.unwrap().ignore_duplicates);
        assert!(!single.opportunity.unwrap().ignore_duplicates);
    }
}
