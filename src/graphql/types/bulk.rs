//! Types of bulk qualification.

use async_graphql::{Enum, ID, InputObject, SimpleObject};

use super::qualification::{DuplicateReport, ItemError, RecordAction};
use super::records::{Account, Contact, Lead, Opportunity};
use crate::domain::qualification::{BulkRequest, ItemResult};
use crate::domain::values;
use crate::error::AppResult;

/// What to do, per lead, when records to be created match existing ones.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::domain::qualification::DuplicatePolicy")]
pub enum DuplicatePolicy {
    /// Report the matches (outcome DUPLICATES_FOUND) and write nothing for that lead.
    Report,
    /// Exactly one match per record: link it; several: report.
    LinkSingleMatch,
    /// Create new records regardless (the product's grid behaviour; on request only).
    CreateAnyway,
}

/// How one lead of a bulk qualification ended.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::ItemOutcome")]
pub enum BulkOutcome {
    /// Qualified, with its records.
    Qualified,
    /// Matches found; nothing written for this lead.
    DuplicatesFound,
    /// Not qualified; see `error`.
    Failed,
}

/// Many leads, one set of choices.
#[derive(InputObject)]
pub struct QualifyLeadsInput {
    /// The leads, each at most once (at most LEADQ_MAX_BULK_LEADS, default 10,000).
    pub lead_ids: Vec<ID>,
    /// For every lead: CREATE_NEW, USE_EXISTING (the lead's own existing account) or SKIP;
    /// omitted: what the settings and each lead imply.
    pub account: Option<RecordAction>,
    /// For every lead: CREATE_NEW, USE_EXISTING (the lead's own existing contact) or SKIP.
    pub contact: Option<RecordAction>,
    /// For every lead: CREATE_NEW or SKIP.
    pub opportunity: Option<RecordAction>,
    /// What to do with duplicates (default REPORT).
    #[graphql(default_with = "DuplicatePolicy::Report")]
    pub duplicate_policy: DuplicatePolicy,
    /// ISO 4217 currency of the opportunities (default: each lead's, else the base currency).
    pub currency_code: Option<String>,
    /// A key of the caller's choosing (at most 200 characters, kept 24 hours): the same call
    /// with the same key replays its results instead of running again (a concurrent repeat
    /// waits for the first; a call cut off midway replays what it finished and runs the rest);
    /// another input under the same key is refused with CONFLICT.
    pub idempotency_key: Option<String>,
}

impl QualifyLeadsInput {
    /// Parses the input.
    pub fn parse(self) -> AppResult<BulkRequest> {
        Ok(BulkRequest {
            lead_ids: self
                .lead_ids
                .iter()
                .enumerate()
                .map(|(i, id)| values::parse_id(&format!("leadIds.{i}"), id))
                .collect::<AppResult<_>>()?,
            account: self.account.map(Into::into),
            contact: self.contact.map(Into::into),
            opportunity: self.opportunity.map(Into::into),
            duplicate_policy: self.duplicate_policy.into(),
            currency_code: values::CurrencyCode::parse("currencyCode", self.currency_code)?,
            idempotency_key: values::text("idempotencyKey", self.idempotency_key, 200)?,
        })
    }
}

/// The result for one lead, in input order.
#[derive(SimpleObject)]
pub struct QualifyLeadsResult {
    /// The lead's id as sent.
    pub lead_id: ID,
    /// Qualified, duplicates found, or failed.
    pub outcome: BulkOutcome,
    /// The lead (null when it does not exist).
    pub lead: Option<Lead>,
    /// The account it was qualified to.
    pub account: Option<Account>,
    /// The contact it was qualified to.
    pub contact: Option<Contact>,
    /// The opportunities created, primary first.
    pub opportunities: Vec<Opportunity>,
    /// Set when outcome is DUPLICATES_FOUND.
    pub duplicates: Option<DuplicateReport>,
    /// Set when outcome is FAILED.
    pub error: Option<ItemError>,
}

/// The results of `qualifyLeads`.
#[derive(SimpleObject)]
pub struct QualifyLeadsPayload {
    /// One result per listed lead, in input order.
    pub results: Vec<QualifyLeadsResult>,
    /// How many were qualified.
    pub qualified_count: i32,
    /// How many found duplicates.
    pub duplicates_found_count: i32,
    /// How many failed.
    pub failed_count: i32,
}

impl From<ItemResult> for QualifyLeadsResult {
    fn from(item: ItemResult) -> Self {
        match item {
            ItemResult::Qualified(q) => {
                let q = *q;
                Self {
                    lead_id: ID(q.lead.id.to_string()),
                    outcome: BulkOutcome::Qualified,
                    lead: Some(Lead(q.lead)),
                    account: q.account.map(Account),
                    contact: q.contact.map(Contact),
                    opportunities: q.opportunities.into_iter().map(Opportunity).collect(),
                    duplicates: None,
                    error: None,
                }
            }
            ItemResult::DuplicatesFound { lead, report } => Self {
                lead_id: ID(lead.id.to_string()),
                outcome: BulkOutcome::DuplicatesFound,
                lead: Some(Lead(lead)),
                account: None,
                contact: None,
                opportunities: Vec::new(),
                duplicates: Some(report.into()),
                error: None,
            },
            ItemResult::Failed {
                lead_id,
                code,
                message,
                field,
            } => Self {
                lead_id: ID(lead_id.to_string()),
                outcome: BulkOutcome::Failed,
                lead: None,
                account: None,
                contact: None,
                opportunities: Vec::new(),
                duplicates: None,
                error: Some(ItemError {
                    code,
                    message,
                    field,
                }),
            },
        }
    }
}

impl From<Vec<ItemResult>> for QualifyLeadsPayload {
    fn from(items: Vec<ItemResult>) -> Self {
        let results: Vec<QualifyLeadsResult> = items.into_iter().map(Into::into).collect();
        let count = |outcome| results.iter().filter(|r| r.outcome == outcome).count() as i32;
        Self {
            qualified_count: count(BulkOutcome::Qualified),
            duplicates_found_count: count(BulkOutcome::DuplicatesFound),
            failed_count: count(BulkOutcome::Failed),
            results,
        }
    }
}
