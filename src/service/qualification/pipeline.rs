//! The one qualification pipeline. Every qualification, of one lead or many, from `qualifyLead`,
//! `qualifyLeads` or `previewQualification`, runs these steps, for a whole run at once:
//!
//! 1. **load and lock**: the configuration, and the run's leads (`FOR UPDATE` in id order on
//!    PostgreSQL) ([`super::load`]);
//! 2. **plan** each lead (pure: `domain::qualification::plan`), after the access rule and the
//!    lead state machine (`domain::lead_state`) allow it;
//! 3. **lock the match keys** of the records to be created and checked (PostgreSQL; see
//!    `service::duplicates`), so that concurrent runs, in this process or another, can never
//!    both pass a duplicate check that one of them would fail after the other;
//! 4. **one batched duplicate check** of every record to be created, against stored records
//!    (one statement for all index ranges) and against the records of the leads before it in
//!    the run (`duplicates::Pending`): each lead is decided as if it ran alone, in order;
//! 5. **build** the writes (pure: `domain::qualification::build`);
//! 6. **store** them with multi-row statements ([`super::store`]) and keep keyed results
//!    ([`super::idempotency`]), in the same transaction; **audit** entries are part of the writes.
//!
//! A preview stops after step 5 and writes nothing. A run whose transaction fails as a whole is
//! retried by this same pipeline on halves, down to single leads, so one bad lead costs only
//! itself; errors that say "the database is unavailable" or "busy" are not retried (splitting
//! would not help) and reach every lead of the run.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use entity::{account, contact, lead};
use uuid::Uuid;

use super::idempotency::{self, Keyed};
use super::jobs::{self, JobItem};
use super::load::{self, Config, ConfigCache};
use super::store;
use crate::auth::Actor;
use crate::db::Db;
use crate::domain::lead_state::Transition;
use crate::domain::qualification::{
    Context, Decision, DuplicatePolicy, Outcome, Plan, PlanError, QualifyRequest, Resolved, Writes,
    build, mapped_account, mapped_contact, plan_with_policy,
};
use crate::domain::summary::LeadSummarizer;
use crate::error::{AppError, AppResult};
use crate::service::access::ensure_can_work;
use crate::service::duplicates::{self, DuplicateReport, Match, Pending, Record};
use crate::service::events::{Events, LeadEvent, LeadEventKind};

/// Where a run keeps an item's result, in the transaction that qualifies it.
#[derive(Debug, Clone)]
pub enum Keep {
    /// Under an idempotency key (`qualifyLead`, `qualifyLeads`).
    Key(Keyed),
    /// As the result of one lead of a qualification job.
    Job(JobItem),
}

/// One qualification of a run.
#[derive(Debug, Clone)]
pub struct Item {
    pub actor: Actor,
    pub request: QualifyRequest,
    pub policy: DuplicatePolicy,
    /// Where the result is kept for an idempotent replay, if anywhere.
    pub keep: Option<Keep>,
}

/// What the pipeline decided for one lead (before anything is stored).
// A run holds at most a few hundred of these, briefly; boxing more would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Decided {
    /// Not qualified: missing, not the caller's, closed, or the plan failed (`lead` when it
    /// exists).
    Refused {
        lead: Option<lead::Model>,
        /// The plan, when the lead was refused after planning (a record to link is missing).
        plan: Option<Plan>,
        error: PlanError,
    },
    /// Records to be created match others; nothing will be written for this lead.
    Duplicates {
        lead: lead::Model,
        plan: Plan,
        report: DuplicateReport,
        account: Option<account::Model>,
        contact: Option<contact::Model>,
    },
    /// Ready to store; `lead` is the lead as it was read.
    Ready {
        lead: Box<lead::Model>,
        plan: Plan,
        writes: Box<Writes>,
    },
}

/// Whether a run stores what it decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Store,
    Preview,
}

/// What the pipeline needs; cheap to clone.
#[derive(Clone)]
pub struct Pipeline {
    pub db: Db,
    pub config: ConfigCache,
    pub summarizer: Arc<dyn LeadSummarizer>,
    /// Where QUALIFIED lead events go once a run committed.
    pub events: Events,
}

/// Why a run's transaction wrote nothing.
struct Failure {
    error: AppError,
    /// Whether running the leads in smaller parts may succeed.
    splittable: bool,
}

impl Pipeline {
    /// Qualifies the items (each lead at most once), one result per item in order: in one
    /// transaction, or, if that fails as a whole, in halves (recursively).
    pub async fn run(&self, items: &[Item]) -> Vec<AppResult<Outcome>> {
        let results = self.run_splitting(items).await;
        for result in &results {
            count(result);
        }
        results
    }

    /// [`Self::run`], halving the run when it rolled back for a reason one lead may cause.
    async fn run_splitting(&self, items: &[Item]) -> Vec<AppResult<Outcome>> {
        match self.attempt(items).await {
            Ok(results) => results,
            Err(failure) if failure.splittable && items.len() > 1 => {
                tracing::warn!(
                    error = ?failure.error,
                    leads = items.len(),
                    "a qualification run rolled back; running it again in halves"
                );
                let (first, second) = items.split_at(items.len() / 2);
                let mut results = Box::pin(self.run_splitting(first)).await;
                results.extend(Box::pin(self.run_splitting(second)).await);
                results
            }
            Err(failure) => {
                if let AppError::Internal(cause) = &failure.error {
                    tracing::error!(%cause, leads = items.len(), "a qualification run failed");
                }
                items.iter().map(|_| Err(failure.error.clone())).collect()
            }
        }
    }

    /// One transaction for every item.
    async fn attempt(&self, items: &[Item]) -> Result<Vec<AppResult<Outcome>>, Failure> {
        let whole = |error: sea_orm::DbErr| Failure {
            error: error.into(),
            splittable: false,
        };
        let txn = self.db.begin_write().await.map_err(whole)?;
        let result = async {
            let config = self.config.load(&txn).await?;
            let now = crate::domain::now();
            let decided = decide(&txn, &config, items, Mode::Store, now, &*self.summarizer).await?;
            let mut writes = Vec::new();
            let mut results = Vec::with_capacity(decided.len());
            for d in decided {
                results.push(match d {
                    Decided::Ready { writes: w, .. } => {
                        let outcome = Ok(Outcome::Qualified(w.qualified.clone()));
                        writes.push(*w);
                        outcome
                    }
                    Decided::Duplicates { lead, report, .. } => {
                        Ok(Outcome::DuplicatesFound { lead, report })
                    }
                    Decided::Refused { error, .. } => Err(AppError::from(error)),
                });
            }
            store::store(&txn, &writes, now).await?;
            idempotency::keep(&txn, items, &results, now).await?;
            jobs::keep(&txn, items, &results, now).await?;
            Ok::<_, AppError>(results)
        }
        .await;
        match result {
            Ok(results) => {
                txn.commit().await.map_err(whole)?;
                let qualified = items
                    .iter()
                    .zip(&results)
                    .filter_map(|(item, result)| match result {
                        Ok(Outcome::Qualified(q)) => Some(LeadEvent::new(
                            LeadEventKind::Qualified,
                            &q.lead,
                            Some(&item.actor),
                        )),
                        _ => None,
                    })
                    .collect();
                self.events.publish(qualified).await;
                Ok(results)
            }
            Err(error) => {
                if let Err(rollback) = txn.rollback().await {
                    tracing::warn!(%rollback, "rolling back a qualification run failed");
                }
                let splittable = !matches!(
                    error,
                    AppError::DatabaseUnavailable { .. } | AppError::ServerBusy { .. }
                );
                Err(Failure { error, splittable })
            }
        }
    }

    /// Decides one lead without storing anything (`previewQualification`), on a read
    /// connection; with the configuration it was decided under.
    pub async fn preview(
        &self,
        actor: &Actor,
        request: QualifyRequest,
    ) -> AppResult<(Decided, Arc<Config>)> {
        let conn = &self.db.read;
        let config = self.config.load(conn).await?;
        let item = Item {
            actor: actor.clone(),
            request,
            policy: DuplicatePolicy::Report,
            keep: None,
        };
        let now = crate::domain::now();
        let mut decided = decide(
            conn,
            &config,
            std::slice::from_ref(&item),
            Mode::Preview,
            now,
            &*self.summarizer,
        )
        .await?;
        let decided = decided
            .pop()
            .ok_or_else(|| AppError::internal("the preview decided nothing"))?;
        Ok((decided, config))
    }
}

/// A lead that may be qualified unless duplicates stop it.
struct Planned {
    position: usize,
    lead: lead::Model,
    plan: Plan,
    new_account: Option<account::Model>,
    new_contact: Option<contact::Model>,
}

/// Steps 1 to 5 for every item, in order (see the module documentation).
pub async fn decide(
    conn: &impl sea_orm::ConnectionTrait,
    config: &Config,
    items: &[Item],
    mode: Mode,
    now: DateTime<Utc>,
    summarizer: &dyn LeadSummarizer,
) -> AppResult<Vec<Decided>> {
    let settings = &config.settings;
    let ids: Vec<Uuid> = items.iter().map(|i| i.request.lead_id).collect();
    if ids.iter().collect::<HashSet<_>>().len() != ids.len() {
        return Err(AppError::internal("a lead appears twice in one run"));
    }
    let mut leads = load::leads(conn, &ids, mode == Mode::Store).await?;
    // The custom values of the leads that mappings read (they may fill standard fields the
    // duplicate check compares).
    let mut lead_custom = match config.mappings.reads_lead_custom_fields() && !leads.is_empty() {
        true => {
            let ids: Vec<Uuid> = leads.keys().copied().collect();
            let fields = config.mappings.lead_custom_fields();
            crate::service::custom_fields::raw_values(conn, &ids, &fields).await?
        }
        false => HashMap::new(),
    };
    let no_values = HashMap::new();

    // 2. Plan.
    let mut decided: Vec<Option<Decided>> = Vec::with_capacity(items.len());
    let mut planned = Vec::new();
    for (position, item) in items.iter().enumerate() {
        let id = item.request.lead_id;
        let Some(lead) = leads.remove(&id) else {
            decided.push(Some(Decided::Refused {
                lead: None,
                plan: None,
                error: AppError::not_found("lead", id).into(),
            }));
            continue;
        };
        let allowed = ensure_can_work(&item.actor, lead.owner_id, "lead")
            .and_then(|()| Transition::Qualify.check(lead.state));
        let plan = match allowed {
            Err(error) => Err(PlanError::Other(error)),
            Ok(()) => plan_with_policy(settings, &lead, &item.request, item.policy),
        };
        match plan {
            Err(error) => decided.push(Some(Decided::Refused {
                lead: Some(lead),
                plan: None,
                error,
            })),
            Ok(plan) => {
                let custom = lead_custom.get(&lead.id).unwrap_or(&no_values);
                let new_account = match plan.account {
                    Decision::CreateNew { .. } => Some(mapped_account(
                        &lead,
                        custom,
                        lead.owner_id,
                        now,
                        &config.mappings,
                    )?),
                    _ => None,
                };
                let new_contact = match plan.contact {
                    Decision::CreateNew { .. } => Some(mapped_contact(
                        &lead,
                        custom,
                        lead.owner_id,
                        now,
                        &config.mappings,
                    )?),
                    _ => None,
                };
                decided.push(None);
                planned.push(Planned {
                    position,
                    lead,
                    plan,
                    new_account,
                    new_contact,
                });
            }
        }
    }

    // 3. Lock the match keys of what will be checked and created.
    let account_candidates: Vec<&account::Model> = planned
        .iter()
        .filter(|p| p.plan.account.checks_duplicates())
        .filter_map(|p| p.new_account.as_ref())
        .collect();
    let contact_candidates: Vec<&contact::Model> = planned
        .iter()
        .filter(|p| p.plan.contact.checks_duplicates())
        .filter_map(|p| p.new_contact.as_ref())
        .collect();
    if mode == Mode::Store {
        let checked: Vec<Record<'_>> = account_candidates
            .iter()
            .map(|a| Record::Account(a))
            .chain(contact_candidates.iter().map(|c| Record::Contact(c)))
            .collect();
        let created: Vec<Record<'_>> = planned
            .iter()
            .flat_map(|p| {
                p.new_account
                    .iter()
                    .map(Record::Account)
                    .chain(p.new_contact.iter().map(Record::Contact))
            })
            .collect();
        let keys = duplicates::lock_keys(config.checked_rules(), &checked, &created);
        duplicates::lock(conn, &keys).await?;
    }

    // 4. Duplicates among stored records, for the whole run at once.
    let (account_matches, contact_matches) = duplicates::matches_of_new(
        conn,
        &config.account_rules,
        &account_candidates,
        &config.contact_rules,
        &contact_candidates,
    )
    .await?;
    let mut stored_account_matches: HashMap<Uuid, Vec<Match<account::Model>>> = account_candidates
        .iter()
        .map(|a| a.id)
        .zip(account_matches)
        .collect();
    let mut stored_contact_matches: HashMap<Uuid, Vec<Match<contact::Model>>> = contact_candidates
        .iter()
        .map(|c| c.id)
        .zip(contact_matches)
        .collect();

    // The existing records to link, the stakeholders to copy, the notes to count.
    let (existing_accounts, existing_contacts) = load::existing(
        conn,
        planned
            .iter()
            .filter_map(|p| match p.plan.account {
                Decision::UseExisting(id) => Some(id),
                _ => None,
            })
            .collect(),
        planned
            .iter()
            .filter_map(|p| match p.plan.contact {
                Decision::UseExisting(id) => Some(id),
                _ => None,
            })
            .collect(),
    )
    .await?;
    let with_opportunities: Vec<Uuid> = planned
        .iter()
        .filter(|p| !p.plan.opportunities.is_empty())
        .map(|p| p.lead.id)
        .collect();
    let mut stakeholders = match with_opportunities.is_empty() {
        true => HashMap::new(),
        false => load::stakeholders_of(conn, &with_opportunities).await?,
    };
    let note_counts = match settings.summarize_lead && !planned.is_empty() {
        true => {
            let ids: Vec<Uuid> = planned.iter().map(|p| p.lead.id).collect();
            load::note_counts(conn, &ids).await?
        }
        false => HashMap::new(),
    };

    // 5. Each lead in turn, as if alone: its duplicates include the records created by the
    //    leads before it in this run; then its writes.
    let normalizer = duplicates::normalizer_of(Some(&config.settings.phone_region));
    let mut pending_accounts: Pending<account::Model> = Pending::new(normalizer);
    let mut pending_contacts: Pending<contact::Model> = Pending::new(normalizer);
    for p in planned {
        let item = &items[p.position];
        let mut report = DuplicateReport::default();
        if let (Some(candidate), true) = (&p.new_account, p.plan.account.checks_duplicates()) {
            report.accounts = stored_account_matches
                .remove(&candidate.id)
                .unwrap_or_default();
            report.accounts.extend(
                pending_accounts.matches(&config.account_rules, Record::Account(candidate)),
            );
        }
        if let (Some(candidate), true) = (&p.new_contact, p.plan.contact.checks_duplicates()) {
            report.contacts = stored_contact_matches
                .remove(&candidate.id)
                .unwrap_or_default();
            report.contacts.extend(
                pending_contacts.matches(&config.contact_rules, Record::Contact(candidate)),
            );
        }
        let link = item.policy == DuplicatePolicy::LinkSingleMatch
            && report.accounts.len() <= 1
            && report.contacts.len() <= 1;
        if !report.is_empty() && !link {
            decided[p.position] = Some(Decided::Duplicates {
                lead: p.lead,
                plan: p.plan,
                report,
                account: p.new_account,
                contact: p.new_contact,
            });
            continue;
        }
        // No matches, or exactly one per record type to link.
        let refuse = |error: AppError, lead: lead::Model, plan: Plan| Decided::Refused {
            lead: Some(lead),
            plan: Some(plan),
            error: error.into(),
        };
        let account = match (report.accounts.pop(), p.new_account, p.plan.account) {
            (Some(matched), _, _) => Resolved::Existing(matched.record),
            (None, Some(new), _) => Resolved::New(new),
            (None, None, Decision::UseExisting(id)) => match existing_accounts.get(&id) {
                Some(existing) => Resolved::Existing(existing.clone()),
                None => {
                    decided[p.position] =
                        Some(refuse(AppError::not_found("account", id), p.lead, p.plan));
                    continue;
                }
            },
            (None, None, _) => Resolved::None,
        };
        let contact = match (report.contacts.pop(), p.new_contact, p.plan.contact) {
            (Some(matched), _, _) => Resolved::Existing(matched.record),
            (None, Some(new), _) => Resolved::New(new),
            (None, None, Decision::UseExisting(id)) => match existing_contacts.get(&id) {
                Some(existing) => Resolved::Existing(existing.clone()),
                None => {
                    decided[p.position] =
                        Some(refuse(AppError::not_found("contact", id), p.lead, p.plan));
                    continue;
                }
            },
            (None, None, _) => Resolved::None,
        };
        let lead_stakeholders = stakeholders.remove(&p.lead.id).unwrap_or_default();
        let note_count = note_counts.get(&p.lead.id).copied().unwrap_or(0);
        let ctx = Context {
            actor: &item.actor,
            settings,
            summarizer,
            now,
            mappings: &config.mappings,
        };
        let custom = lead_custom.remove(&p.lead.id).unwrap_or_default();
        let built = build(
            ctx,
            &p.lead,
            &custom,
            p.plan.clone(),
            account,
            contact,
            &lead_stakeholders,
            note_count,
        );
        let writes = match built {
            Ok(writes) => writes,
            // This lead's values cannot fill the new records (a required custom field left
            // empty, a mapped budget that is no amount): refused alone, the run goes on.
            Err(error @ AppError::BadUserInput { .. }) => {
                decided[p.position] = Some(refuse(error, p.lead, p.plan));
                continue;
            }
            Err(error) => return Err(error),
        };
        // Later leads of the run match (and may link) these records, links included.
        if writes.new_account
            && let Some(new) = &writes.qualified.account
        {
            pending_accounts.add(new.clone());
        }
        if writes.new_contact
            && let Some(new) = &writes.qualified.contact
        {
            pending_contacts.add(new.clone());
        }
        decided[p.position] = Some(Decided::Ready {
            lead: Box::new(p.lead),
            plan: p.plan,
            writes: Box::new(writes),
        });
    }
    decided
        .into_iter()
        .map(|d| d.ok_or_else(|| AppError::internal("a lead of the run has no decision")))
        .collect()
}

/// The metrics of one lead's way through the pipeline: its outcome, and on duplicates the rules
/// that matched.
fn count(result: &AppResult<Outcome>) {
    match result {
        Ok(Outcome::Qualified(_)) => crate::metrics::qualification("QUALIFIED"),
        Ok(Outcome::DuplicatesFound { report, .. }) => {
            crate::metrics::qualification("DUPLICATES_FOUND");
            let rules = report
                .accounts
                .iter()
                .flat_map(|m| &m.rules)
                .chain(report.contacts.iter().flat_map(|m| &m.rules));
            for rule in rules {
                crate::metrics::duplicate_match(&rule.rule_name);
            }
        }
        Err(_) => crate::metrics::qualification("FAILED"),
    }
}
