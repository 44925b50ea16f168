//! Who may do what: the record-level access rules, in one place.
//!
//! Every authenticated user reads everything. A lead is worked (updated, deleted, qualified,
//! disqualified, reactivated) by its owner, a Sales Manager or a System Administrator.
//! Qualification settings and duplicate rules are for System Administrators only.

use entity::Role;
use uuid::Uuid;

use crate::auth::Actor;
use crate::error::{AppError, AppResult};

/// The caller may work a record owned by `owner_id`.
pub fn ensure_can_work(actor: &Actor, owner_id: Uuid, what: &str) -> AppResult<()> {
    if actor.user_id == owner_id || actor.is_manager() {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "only the owner of this {what}, a Sales Manager or a System Administrator may change it"
        )))
    }
}

/// The caller may give records to other users.
pub fn ensure_can_assign(actor: &Actor) -> AppResult<()> {
    if actor.is_manager() {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "only a Sales Manager or a System Administrator may assign records to other users"
                .to_owned(),
        ))
    }
}

/// The caller is a System Administrator.
pub fn ensure_admin(actor: &Actor, what: &str) -> AppResult<()> {
    if actor.has_role(Role::SystemAdministrator) {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "only a System Administrator may change {what}"
        )))
    }
}
