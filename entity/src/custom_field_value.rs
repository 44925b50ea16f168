//! `custom_field_values`: one custom field's value on one record. `value` is the canonical JSON
//! text; `text_value` / `number_value` are its indexed projections (for `leads` filters).

use sea_orm::entity::prelude::*;

use crate::RecordType;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "custom_field_values")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub record_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub field_id: Uuid,
    pub record_type: RecordType,
    pub value: String,
    pub text_value: Option<String>,
    pub number_value: Option<f64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
