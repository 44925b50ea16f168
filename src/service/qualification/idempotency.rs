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
use entity::{idempotency_key, idempotency_result};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use super::pipeline::{Item, Keep};
use super::results::StoredItem;
use crate::auth::Actor;
use crate::db::Db;
use crate::domain::qualification::Outcome;
use crate::error::{AppError, AppResult};
use crate::service::insert_all;

/// How long a call waits for another holding the same key before answering `SERVER_BUSY`.
const MAX_WAIT: Duration = Duration::from_secs(120);

/// Where a keyed call keeps one item's result.
#[derive(Debug, Clone)]
pub struct Keyed {
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

/// Keeps the results of a run's items kept under an idempotency key, and renews (and checks)
/// their calls' reservations, inside the run's transaction.
pub async fn keep(
    conn: &impl ConnectionTrait,
    items: &[Item],
    results: &[AppResult<Outcome>],
    now: DateTime<Utc>,
) -> AppResult<()> {
    let mut rows = Vec::new();
    let mut reservations: HashMap<(Uuid, &'static str, &str, Uuid), bool> = HashMap::new();
    for (item, result) in items.iter().zip(results) {
        let Some(Keep::Key(keep)) = &item.keep else {
            continue;
        };
        let qualified = matches!(result, Ok(Outcome::Qualified(_)));
        // A single call is done when it qualified; a bulk call when all its chunks ran.
        let done = reservations
            .entry((keep.actor_id, keep.operation, keep.key.as_str(), keep.owner))
            .or_insert(false);
        // (The renewal also fences a call that was taken over: see the module documentation.)
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
