//! `custom_field_definitions`: a field an administrator added to a record type. `options` is a
//! JSON array of the choices (CHOICE, MULTI_CHOICE; empty otherwise).

use sea_orm::entity::prelude::*;

use crate::{CustomFieldType, RecordType};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "custom_field_definitions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub record_type: RecordType,
    pub name: String,
    pub label: String,
    pub field_type: CustomFieldType,
    pub required: bool,
    pub max_length: Option<i32>,
    pub options: String,
    pub description: Option<String>,
    pub archived: bool,
    pub created_at: DateTimeUtc,
    pub modified_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
