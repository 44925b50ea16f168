//! Types of custom fields: definitions, values on records, and the inputs that set them.

use async_graphql::{ID, InputObject, Json, Object, SimpleObject};
use entity::custom_field_definition;

use super::enums::{CustomFieldType, RecordType};
use crate::service::custom_fields::{FieldValue, ValueInput};

/// A field an administrator added to a record type.
pub struct CustomFieldDefinition(pub custom_field_definition::Model);

/// A field an administrator added to leads, accounts, contacts or opportunities. Records show
/// its value in `customFields`; create and update inputs set it through `customFields`.
#[Object]
impl CustomFieldDefinition {
    /// The definition's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The record type the field belongs to.
    async fn record_type(&self) -> RecordType {
        self.0.record_type.into()
    }
    /// The API name (unique per record type; never a standard field's name).
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The label forms show.
    async fn label(&self) -> &str {
        &self.0.label
    }
    /// The type of its values.
    #[graphql(name = "type")]
    async fn field_type(&self) -> CustomFieldType {
        self.0.field_type.into()
    }
    /// Whether records must have a value (checked when a client creates or updates a record).
    async fn required(&self) -> bool {
        self.0.required
    }
    /// TEXT: the longest value allowed.
    async fn max_length(&self) -> Option<i32> {
        self.0.max_length
    }
    /// CHOICE and MULTI_CHOICE: the values allowed, in order.
    async fn options(&self) -> Vec<String> {
        serde_json::from_str(&self.0.options).unwrap_or_default()
    }
    /// What the field is for.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// Archived: hidden from records and inputs, values kept; restoreCustomField shows it again.
    async fn archived(&self) -> bool {
        self.0.archived
    }
}

/// A record's value of one custom field.
#[derive(SimpleObject)]
pub struct CustomFieldValue {
    /// The field's API name.
    pub name: String,
    /// The field's type.
    #[graphql(name = "type")]
    pub field_type: CustomFieldType,
    /// The value as JSON (see `CustomFieldType` for each type's form).
    pub value: Option<Json<serde_json::Value>>,
}

impl From<FieldValue> for CustomFieldValue {
    fn from(v: FieldValue) -> Self {
        Self {
            name: v.name,
            field_type: v.field_type.into(),
            value: Some(Json(v.value)),
        }
    }
}

/// A custom field's value on a create or update input.
#[derive(InputObject, Clone, Debug)]
pub struct CustomFieldInput {
    /// The field's API name.
    pub name: String,
    /// The value as JSON (see `CustomFieldType`); null clears it.
    pub value: Option<Json<serde_json::Value>>,
}

/// The service's form of custom field inputs.
pub fn value_inputs(inputs: Option<Vec<CustomFieldInput>>) -> Vec<ValueInput> {
    inputs
        .unwrap_or_default()
        .into_iter()
        .map(|i| ValueInput {
            name: i.name,
            value: i.value.map_or(serde_json::Value::Null, |v| v.0),
        })
        .collect()
}
