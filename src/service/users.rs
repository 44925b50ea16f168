//! Users and the server's own secrets.

use entity::{Role, user};
use rand::RngCore;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, Statement,
};
use uuid::Uuid;

use crate::db::Db;
use crate::domain::records::limits;
use crate::domain::values;
use crate::error::{AppError, AppResult};

/// The user the development playground acts as.
pub const DEVELOPMENT_ADMIN: &str = "Development Administrator";

/// A user by id.
pub async fn find(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<Option<user::Model>> {
    Ok(user::Entity::find_by_id(id).one(conn).await?)
}

/// The user called `name`, created with `roles` if there is none; an existing user's roles are
/// replaced by `roles`.
pub async fn upsert_by_name(db: &Db, name: &str, roles: &[Role]) -> AppResult<user::Model> {
    let name = values::required_text("name", Some(name.to_owned()), limits::USER_NAME)?;
    if roles.is_empty() {
        return Err(AppError::bad_input("role", "at least one role is required"));
    }
    let roles = roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let txn = db.begin_write().await?;
    let existing = user::Entity::find()
        .filter(user::Column::Name.eq(&name))
        .one(&txn)
        .await?;
    let user = match existing {
        Some(user) if user.roles == roles => user,
        Some(user) => {
            let mut active: user::ActiveModel = user.into();
            active.roles = Set(roles);
            active.update(&txn).await?
        }
        None => {
            user::ActiveModel {
                id: Set(super::new_id()),
                name: Set(name),
                email: Set(None),
                roles: Set(roles),
                created_at: Set(super::now()),
            }
            .insert(&txn)
            .await?
        }
    };
    txn.commit().await?;
    Ok(user)
}

/// The development System Administrator, created on first use.
pub async fn development_admin(db: &Db) -> AppResult<user::Model> {
    let existing = user::Entity::find()
        .filter(user::Column::Name.eq(DEVELOPMENT_ADMIN))
        .one(&db.read)
        .await?;
    match existing {
        Some(user) => Ok(user),
        None => upsert_by_name(db, DEVELOPMENT_ADMIN, &[Role::SystemAdministrator]).await,
    }
}

/// The secret called `name`, generated (32 random bytes, hex) and stored on first use. Every
/// server process on the same database gets the same value.
pub async fn server_secret(db: &Db, name: &str) -> AppResult<String> {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let fresh: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let backend = db.backend();
    let txn = db.begin_write().await?;
    txn.execute_raw(Statement::from_sql_and_values(
        backend,
        match backend {
            sea_orm::DbBackend::Postgres => {
                "INSERT INTO server_secrets (name, value, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO NOTHING"
            }
            _ => {
                "INSERT INTO server_secrets (name, value, created_at) VALUES (?, ?, ?) \
                 ON CONFLICT (name) DO NOTHING"
            }
        },
        [name.into(), fresh.into(), super::now().into()],
    ))
    .await?;
    let row = txn
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            match backend {
                sea_orm::DbBackend::Postgres => "SELECT value FROM server_secrets WHERE name = $1",
                _ => "SELECT value FROM server_secrets WHERE name = ?",
            },
            [name.into()],
        ))
        .await?
        .ok_or_else(|| AppError::internal("server secret vanished"))?;
    txn.commit().await?;
    Ok(row.try_get::<String>("", "value")?)
}
