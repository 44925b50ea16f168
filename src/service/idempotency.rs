//! Idempotency keys: a keyed call's result is kept per caller and operation; the same call
//! again replays it, another input under the same key is `CONFLICT`.

use entity::idempotency_key;
use sea_orm::{EntityTrait, Set};
use serde::Serialize;

use crate::auth::Actor;
use crate::db::Db;
use crate::error::{AppError, AppResult};

/// The kept response for `key`, if any: `CONFLICT` when it was kept for another input
/// (`canonical` is the request as serialized when it was kept).
pub async fn kept_response(
    db: &Db,
    actor: &Actor,
    operation: &str,
    key: &str,
    canonical: &str,
) -> AppResult<Option<String>> {
    let Some(stored) =
        idempotency_key::Entity::find_by_id((actor.user_id, operation.to_owned(), key.to_owned()))
            .one(&db.read)
            .await?
    else {
        return Ok(None);
    };
    if stored.request != canonical {
        return Err(AppError::Conflict(format!(
            "idempotency key {key:?} was already used with a different input"
        )));
    }
    Ok(Some(stored.response))
}

/// The row that keeps a keyed call's `response` for replay (inserted by the caller, inside the
/// transaction that made the result).
pub fn row(
    actor: &Actor,
    operation: &str,
    key: &str,
    canonical: &str,
    response: &impl Serialize,
) -> AppResult<idempotency_key::ActiveModel> {
    Ok(idempotency_key::ActiveModel {
        actor_id: Set(actor.user_id),
        operation: Set(operation.to_owned()),
        key: Set(key.to_owned()),
        request: Set(canonical.to_owned()),
        response: Set(serde_json::to_string(response).map_err(AppError::internal)?),
        created_at: Set(super::now()),
    })
}
