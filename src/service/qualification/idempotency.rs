//! Idempotency keys of `qualifyLead` and `qualifyLeads`.
//!
//! - A keyed call **reserves** its key before it runs ([`reserve`]): one row per caller,
//!   operation and key, naming the run that holds it. A concurrent call with the same key finds
//!   the row and waits until the holder finishes, then replays its results; it never runs the
//!   work twice. Another input under the same key is `CONFLICT`.
//! - Results are **kept in the transaction that makes them** ([`keep`]), one row per lead (its
//!   position in the input): a bulk call cut off midway (a crash, a restart) keeps what it
//!   finished, and the same call again replays that and runs only the rest.
//! - The holder renews its reservation (a heartbeat) with every transaction; a reservation
//!   whose holder stopped renewing it for the lease (30 seconds by default) is taken over by
//!   the next call with the key.
//!   The renewal also checks that the run still holds the key, so a run that was taken over
//!   cannot keep results beside its successor's.
//! - A single qualification keeps only a success: when it ends otherwise (duplicates found, an
//!   error) its key is released, so the caller can retry with the same key after fixing things.
//! - Keys expire after the configured time (default 24 hours) and are then deleted
//!   ([`delete_expired`], run periodically).

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::{account, contact, idempotency_key, idempotency_result, lead, opportunity};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::pipeline::Item;
use crate::auth::Actor;
use crate::db::Db;
use crate::domain::qualification::{ItemResult, Outcome, Qualified, Warning};
use crate::error::{AppError, AppResult};
use crate::service::duplicates::{DuplicateReport, Match, MatchedRule};
use crate::service::{by_ids, insert_all};

/// How long a call waits for another holding the same key before answering `SERVER_BUSY`.
const MAX_WAIT: Duration = Duration::from_secs(120);

/// Where a run keeps one item's result.
#[derive(Debug, Clone)]
pub struct Keep {
    pub actor_id: Uuid,
    pub operation: &'static str,
    pub key: String,
    /// The run holding the key.
    pub owner: Uuid,
    /// The item's position in the call's input.
    pub position: i32,
    /// Keep every outcome (a bulk call), or only a success (a single call).
    pub every_outcome: bool,
}

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
    },
}

impl StoredItem {
    fn of(lead_id: Uuid, result: &AppResult<Outcome>) -> Self {
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
            },
        }
    }
}

/// Keeps the results of a run's items that carry a [`Keep`], and renews (and checks) their
/// runs' reservations, inside the run's transaction.
pub async fn keep(
    conn: &impl ConnectionTrait,
    items: &[Item],
    results: &[AppResult<Outcome>],
    now: DateTime<Utc>,
) -> AppResult<()> {
    let mut rows = Vec::new();
    let mut reservations: HashMap<(Uuid, &'static str, &str, Uuid), bool> = HashMap::new();
    for (item, result) in items.iter().zip(results) {
        let Some(keep) = &item.keep else { continue };
        let qualified = matches!(result, Ok(Outcome::Qualified(_)));
        // A single call is done when it qualified; a bulk call when all its chunks ran.
        let done = reservations
            .entry((keep.actor_id, keep.operation, keep.key.as_str(), keep.owner))
            .or_insert(false);
        *done |= qualified && !keep.every_outcome;
        if !(qualified || keep.every_outcome) {
            continue;
        }
        let stored = StoredItem::of(item.request.lead_id, result);
        rows.push(idempotency_result::ActiveModel {
            actor_id: Set(keep.actor_id),
            operation: Set(keep.operation.to_owned()),
            key: Set(keep.key.clone()),
            position: Set(keep.position),
            response: Set(serde_json::to_string(&stored).map_err(AppError::internal)?),
        });
    }
    for ((actor_id, operation, key, owner), done) in reservations {
        let mut update = idempotency_key::Entity::update_many()
            .col_expr(idempotency_key::Column::HeartbeatAt, Expr::value(now));
        if done {
            update = update.col_expr(idempotency_key::Column::Done, Expr::value(true));
        }
        let renewed = update
            .filter(idempotency_key::Column::ActorId.eq(actor_id))
            .filter(idempotency_key::Column::Operation.eq(operation))
            .filter(idempotency_key::Column::Key.eq(key))
            .filter(idempotency_key::Column::Owner.eq(owner))
            .exec(conn)
            .await?;
        if renewed.rows_affected != 1 {
            return Err(AppError::Conflict(format!(
                "idempotency key {key:?} was taken over by another call after this one stalled"
            )));
        }
    }
    insert_all(conn, rows).await
}

/// A reserved key.
#[derive(Debug)]
pub enum Reservation {
    /// This call holds the key (as `owner`); `kept` are the results an earlier holder kept
    /// (a call cut off midway), by position.
    Held {
        owner: Uuid,
        kept: Vec<(i32, StoredItem)>,
    },
    /// A call with this key finished: its results, by position.
    Done(Vec<(i32, StoredItem)>),
}

/// Reserves `key` for a call of `operation` with the request `canonical`; see the module
/// documentation.
pub async fn reserve(
    db: &Db,
    actor: &Actor,
    operation: &'static str,
    key: &str,
    canonical: &str,
    ttl: Duration,
    lease: Duration,
) -> AppResult<Reservation> {
    let started = std::time::Instant::now();
    let mut pause = Duration::from_millis(10);
    let owner = crate::domain::new_id();
    let pk = (actor.user_id, operation.to_owned(), key.to_owned());
    loop {
        let now = crate::domain::now();
        let expires = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::hours(24));
        let inserted = idempotency_key::Entity::insert(idempotency_key::ActiveModel {
            actor_id: Set(actor.user_id),
            operation: Set(operation.to_owned()),
            key: Set(key.to_owned()),
            request: Set(canonical.to_owned()),
            owner: Set(owner),
            done: Set(false),
            heartbeat_at: Set(now),
            created_at: Set(now),
            expires_at: Set(now + expires),
        })
        .on_conflict(
            OnConflict::columns([
                idempotency_key::Column::ActorId,
                idempotency_key::Column::Operation,
                idempotency_key::Column::Key,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(&db.write)
        .await?;
        if inserted == 1 {
            return Ok(Reservation::Held {
                owner,
                kept: Vec::new(),
            });
        }
        let Some(row) = idempotency_key::Entity::find_by_id(pk.clone())
            .one(&db.read)
            .await?
        else {
            continue; // released or expired meanwhile: try again
        };
        if row.expires_at < now {
            delete_if_owned(db, &row).await?;
            continue;
        }
        if row.request != canonical {
            return Err(AppError::Conflict(format!(
                "idempotency key {key:?} was already used with a different input"
            )));
        }
        if row.done {
            return Ok(Reservation::Done(kept(db, &row).await?));
        }
        let lease = chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(30));
        if row.heartbeat_at + lease < now {
            // The holder stopped (a crash, a restart): take the key over.
            let taken = idempotency_key::Entity::update_many()
                .col_expr(idempotency_key::Column::Owner, Expr::value(owner))
                .col_expr(idempotency_key::Column::HeartbeatAt, Expr::value(now))
                .filter(idempotency_key::Column::ActorId.eq(row.actor_id))
                .filter(idempotency_key::Column::Operation.eq(row.operation.as_str()))
                .filter(idempotency_key::Column::Key.eq(row.key.as_str()))
                .filter(idempotency_key::Column::Owner.eq(row.owner))
                .exec(&db.write)
                .await?;
            if taken.rows_affected == 1 {
                return Ok(Reservation::Held {
                    owner,
                    kept: kept(db, &row).await?,
                });
            }
            continue;
        }
        // Another call with this key is running: wait for it.
        if started.elapsed() > MAX_WAIT {
            return Err(AppError::busy(
                format!("a call with idempotency key {key:?} is still running; try again later"),
                5,
            ));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(250));
    }
}

/// The results kept under a reservation, by position.
async fn kept(db: &Db, row: &idempotency_key::Model) -> AppResult<Vec<(i32, StoredItem)>> {
    idempotency_result::Entity::find()
        .filter(idempotency_result::Column::ActorId.eq(row.actor_id))
        .filter(idempotency_result::Column::Operation.eq(row.operation.as_str()))
        .filter(idempotency_result::Column::Key.eq(row.key.as_str()))
        .order_by_asc(idempotency_result::Column::Position)
        .all(&db.read)
        .await?
        .into_iter()
        .map(|r| {
            let item = serde_json::from_str(&r.response).map_err(AppError::internal)?;
            Ok((r.position, item))
        })
        .collect()
}

async fn delete_if_owned(db: &Db, row: &idempotency_key::Model) -> AppResult<()> {
    idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::ActorId.eq(row.actor_id))
        .filter(idempotency_key::Column::Operation.eq(row.operation.as_str()))
        .filter(idempotency_key::Column::Key.eq(row.key.as_str()))
        .filter(idempotency_key::Column::Owner.eq(row.owner))
        .exec(&db.write)
        .await?;
    Ok(())
}

/// Ends a held key's bulk call. When a result is kept for each of its `positions`, the call
/// is done (replayed from now on); otherwise some leads failed with the transaction they ran in
/// (the database unavailable, say) and kept nothing: the key is left for the next call with it
/// to take over at once and run just those.
pub async fn finish(
    db: &Db,
    actor: &Actor,
    operation: &str,
    key: &str,
    owner: Uuid,
    positions: usize,
) -> AppResult<()> {
    use sea_orm::PaginatorTrait;
    let kept = idempotency_result::Entity::find()
        .filter(idempotency_result::Column::ActorId.eq(actor.user_id))
        .filter(idempotency_result::Column::Operation.eq(operation))
        .filter(idempotency_result::Column::Key.eq(key))
        .count(&db.write)
        .await?;
    let done = kept as usize >= positions;
    let heartbeat = match done {
        true => crate::domain::now(),
        // Long ago: the lease has run out.
        false => DateTime::<Utc>::UNIX_EPOCH,
    };
    idempotency_key::Entity::update_many()
        .col_expr(idempotency_key::Column::Done, Expr::value(done))
        .col_expr(idempotency_key::Column::HeartbeatAt, Expr::value(heartbeat))
        .filter(idempotency_key::Column::ActorId.eq(actor.user_id))
        .filter(idempotency_key::Column::Operation.eq(operation))
        .filter(idempotency_key::Column::Key.eq(key))
        .filter(idempotency_key::Column::Owner.eq(owner))
        .exec(&db.write)
        .await?;
    Ok(())
}

/// Gives a held key up (a single call that did not qualify its lead), unless it is done.
pub async fn release(
    db: &Db,
    actor: &Actor,
    operation: &str,
    key: &str,
    owner: Uuid,
) -> AppResult<()> {
    idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::ActorId.eq(actor.user_id))
        .filter(idempotency_key::Column::Operation.eq(operation))
        .filter(idempotency_key::Column::Key.eq(key))
        .filter(idempotency_key::Column::Owner.eq(owner))
        .filter(idempotency_key::Column::Done.eq(false))
        .exec(&db.write)
        .await?;
    Ok(())
}

/// Deletes the keys whose time is up, with their results (by the foreign key's cascade);
/// how many.
pub async fn delete_expired(db: &Db) -> AppResult<u64> {
    let txn = db.begin_write().await?;
    let deleted = idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::ExpiresAt.lt(crate::domain::now()))
        .exec(&txn)
        .await?
        .rows_affected;
    txn.commit().await?;
    Ok(deleted)
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
            } => ItemResult::Failed {
                lead_id,
                code,
                message,
            },
        })
        .collect())
}
