//! Results kept for later: one lead's outcome as stored (ids, not records) by a keyed call or a
//! job, and how it is shown to a client again (the records read as they are now).

use entity::{ItemOutcome, account, contact, lead, opportunity};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::Db;
use crate::domain::qualification::{ItemResult, Outcome, Qualified, Warning};
use crate::error::{AppError, AppResult};
use crate::service::by_ids;
use crate::service::duplicates::{DuplicateReport, Match, MatchedRule};

/// One result as kept: ids, not records (they are read again on replay).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum StoredItem {
    Qualified {
        lead_id: Uuid,
        account_id: Option<Uuid>,
        contact_id: Option<Uuid>,
        opportunity_ids: Vec<Uuid>,
        warnings: Vec<Warning>,
    },
    DuplicatesFound {
        lead_id: Uuid,
        accounts: Vec<(Uuid, Vec<MatchedRule>)>,
        contacts: Vec<(Uuid, Vec<MatchedRule>)>,
    },
    Failed {
        lead_id: Uuid,
        code: String,
        message: String,
        /// Absent in results stored before it was kept.
        #[serde(default)]
        field: Option<String>,
    },
}

impl StoredItem {
    /// How the lead's qualification ended.
    pub fn outcome(&self) -> ItemOutcome {
        match self {
            Self::Qualified { .. } => ItemOutcome::Qualified,
            Self::DuplicatesFound { .. } => ItemOutcome::DuplicatesFound,
            Self::Failed { .. } => ItemOutcome::Failed,
        }
    }

    /// The stored form of one lead's result.
    pub fn of(lead_id: Uuid, result: &AppResult<Outcome>) -> Self {
        match result {
            Ok(Outcome::Qualified(q)) => Self::Qualified {
                lead_id: q.lead.id,
                account_id: q.account.as_ref().map(|a| a.id),
                contact_id: q.contact.as_ref().map(|c| c.id),
                opportunity_ids: q.opportunities.iter().map(|o| o.id).collect(),
                warnings: q.warnings.clone(),
            },
            Ok(Outcome::DuplicatesFound { lead, report }) => Self::DuplicatesFound {
                lead_id: lead.id,
                accounts: report
                    .accounts
                    .iter()
                    .map(|m| (m.record.id, m.rules.clone()))
                    .collect(),
                contacts: report
                    .contacts
                    .iter()
                    .map(|m| (m.record.id, m.rules.clone()))
                    .collect(),
            },
            Err(error) => Self::Failed {
                lead_id,
                code: error.code().to_owned(),
                message: error.message(),
                field: error.field().map(str::to_owned),
            },
        }
    }
}

/// Kept results as a client sees them again: the records as they are now (nothing runs).
pub async fn replay(db: &Db, items: Vec<StoredItem>) -> AppResult<Vec<ItemResult>> {
    let conn = &db.read;
    let (mut lead_ids, mut account_ids, mut contact_ids, mut opportunity_ids) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for item in &items {
        match item {
            StoredItem::Qualified {
                lead_id,
                account_id,
                contact_id,
                opportunity_ids: opportunities,
                ..
            } => {
                lead_ids.push(*lead_id);
                account_ids.extend(*account_id);
                contact_ids.extend(*contact_id);
                opportunity_ids.extend(opportunities.iter().copied());
            }
            StoredItem::DuplicatesFound {
                lead_id,
                accounts,
                contacts,
            } => {
                lead_ids.push(*lead_id);
                account_ids.extend(accounts.iter().map(|(id, _)| *id));
                contact_ids.extend(contacts.iter().map(|(id, _)| *id));
            }
            StoredItem::Failed { .. } => {}
        }
    }
    let leads = by_ids::<lead::Entity>(conn, lead_ids).await?;
    let accounts = by_ids::<account::Entity>(conn, account_ids).await?;
    let contacts = by_ids::<contact::Entity>(conn, contact_ids).await?;
    let opportunities = by_ids::<opportunity::Entity>(conn, opportunity_ids).await?;
    let gone = |lead_id: Uuid| {
        ItemResult::from_outcome(lead_id, Err(AppError::not_found("lead", lead_id)))
    };
    Ok(items
        .into_iter()
        .map(|item| match item {
            StoredItem::Qualified {
                lead_id,
                account_id,
                contact_id,
                opportunity_ids,
                warnings,
            } => match leads.get(&lead_id) {
                None => gone(lead_id),
                Some(lead) => ItemResult::Qualified(Box::new(Qualified {
                    lead: lead.clone(),
                    account: account_id.and_then(|id| accounts.get(&id).cloned()),
                    contact: contact_id.and_then(|id| contacts.get(&id).cloned()),
                    opportunities: opportunity_ids
                        .iter()
                        .filter_map(|id| opportunities.get(id).cloned())
                        .collect(),
                    warnings,
                })),
            },
            StoredItem::DuplicatesFound {
                lead_id,
                accounts: matched_accounts,
                contacts: matched_contacts,
            } => match leads.get(&lead_id) {
                None => gone(lead_id),
                Some(lead) => ItemResult::DuplicatesFound {
                    lead: lead.clone(),
                    report: DuplicateReport {
                        accounts: matched_accounts
                            .into_iter()
                            .filter_map(|(id, rules)| {
                                Some(Match {
                                    record: accounts.get(&id)?.clone(),
                                    rules,
                                })
                            })
                            .collect(),
                        contacts: matched_contacts
                            .into_iter()
                            .filter_map(|(id, rules)| {
                                Some(Match {
                                    record: contacts.get(&id)?.clone(),
                                    rules,
                                })
                            })
                            .collect(),
                    },
                },
            },
            StoredItem::Failed {
                lead_id,
                code,
                message,
                field,
            } => ItemResult::Failed {
                lead_id,
                code,
                message,
                field,
            },
        })
        .collect())
}
