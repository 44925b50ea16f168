//! `users`: who works in leadq. `roles` is a comma-separated list of [`crate::Role`] values.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub email: Option<String>,
    pub roles: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The user's roles; unknown spellings are ignored.
    pub fn role_list(&self) -> Vec<crate::Role> {
        self.roles
            .split(',')
            .filter_map(|r| crate::Role::parse(r.trim()))
            .collect()
    }
}
