//! Custom field and field mapping mutations (System Administrators only).

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use crate::domain::values;
use crate::graphql::types::custom_fields::CustomFieldDefinition;
use crate::graphql::types::qualification::{FieldMapping, MappingTarget};
use crate::graphql::types::{CustomFieldType, RecordType};
use crate::graphql::{actor, db};
use crate::service::custom_fields::{self, FieldChanges, NewField};
use crate::service::field_mappings::{self, NewMapping};

#[derive(Default)]
pub struct CustomFieldMutation;

/// A new custom field.
#[derive(InputObject)]
pub struct CreateCustomFieldInput {
    /// The record type (LEAD, ACCOUNT, CONTACT or OPPORTUNITY).
    pub record_type: RecordType,
    /// The API name: a lower-case letter, then letters and digits (at most 50); unique per
    /// record type and never a standard field's name.
    pub name: String,
    /// The label forms show (at most 100 characters).
    pub label: String,
    /// The type of its values (cannot change later).
    #[graphql(name = "type")]
    pub field_type: CustomFieldType,
    /// Whether records must have a value (default false).
    #[graphql(default = false)]
    pub required: bool,
    /// TEXT: the longest value allowed (1 to 10000, default 255; cannot change later).
    pub max_length: Option<i32>,
    /// CHOICE and MULTI_CHOICE: the values allowed (more can be added later).
    pub options: Option<Vec<String>>,
    /// What the field is for (at most 1000 characters).
    pub description: Option<String>,
}

/// Changes to a custom field; omitted properties stay as they are.
#[derive(InputObject)]
pub struct UpdateCustomFieldInput {
    /// The field.
    pub id: ID,
    /// A new label.
    pub label: Option<String>,
    /// A new description.
    pub description: Option<String>,
    /// The options, all of them: the existing ones (in any order) plus new ones.
    pub options: Option<Vec<String>>,
    /// Whether records must have a value.
    pub required: Option<bool>,
}

/// Which custom field.
#[derive(InputObject)]
pub struct CustomFieldIdInput {
    /// The field.
    pub id: ID,
}

/// The custom field after the change.
#[derive(SimpleObject)]
pub struct CustomFieldPayload {
    /// The definition.
    pub definition: CustomFieldDefinition,
}

/// A new mapping from a lead field onto a field of the account, contact or opportunity.
#[derive(InputObject)]
pub struct AddFieldMappingInput {
    /// The record type that receives the value.
    pub target: MappingTarget,
    /// The lead field: a standard field's API name or a lead custom field's name.
    pub source_field: String,
    /// The target record's field: a standard field's API name (whose own standard mapping, if
    /// any, is disabled first) or a custom field's name.
    pub target_field: String,
}

/// Which mapping.
#[derive(InputObject)]
pub struct FieldMappingIdInput {
    /// The mapping.
    pub id: ID,
}

/// A mapping to turn on or off.
#[derive(InputObject)]
pub struct SetFieldMappingEnabledInput {
    /// The mapping.
    pub id: ID,
    /// Whether qualification applies it.
    pub enabled: bool,
}

/// The mapping after the change (as it was, for a removal).
#[derive(SimpleObject)]
pub struct FieldMappingPayload {
    /// The mapping.
    pub mapping: FieldMapping,
}

#[Object]
impl CustomFieldMutation {
    /// Adds a custom field to a record type.
    async fn create_custom_field(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new field.")] input: CreateCustomFieldInput,
    ) -> async_graphql::Result<CustomFieldPayload> {
        let actor = actor(ctx)?;
        let new = NewField {
            record_type: input.record_type.into(),
            name: input.name,
            label: input.label,
            field_type: input.field_type.into(),
            required: input.required,
            max_length: input.max_length,
            options: input.options.unwrap_or_default(),
            description: input.description,
        };
        let saved = custom_fields::create(db(ctx)?, actor, new).await?;
        Ok(CustomFieldPayload {
            definition: CustomFieldDefinition(saved),
        })
    }

    /// Changes a custom field's label, description, options (added only) or requiredness.
    async fn update_custom_field(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The changes.")] input: UpdateCustomFieldInput,
    ) -> async_graphql::Result<CustomFieldPayload> {
        let actor = actor(ctx)?;
        let id = values::parse_id("id", &input.id)?;
        let changes = FieldChanges {
            label: input.label,
            description: input.description.map(Some),
            options: input.options,
            required: input.required,
        };
        let saved = custom_fields::update(db(ctx)?, actor, id, changes).await?;
        Ok(CustomFieldPayload {
            definition: CustomFieldDefinition(saved),
        })
    }

    /// Archives a custom field: hidden from records, inputs and mappings; values kept.
    async fn archive_custom_field(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The field.")] input: CustomFieldIdInput,
    ) -> async_graphql::Result<CustomFieldPayload> {
        let actor = actor(ctx)?;
        let id = values::parse_id("id", &input.id)?;
        let saved = custom_fields::set_archived(db(ctx)?, actor, id, true).await?;
        Ok(CustomFieldPayload {
            definition: CustomFieldDefinition(saved),
        })
    }

    /// Restores an archived custom field, with the values it had.
    async fn restore_custom_field(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The field.")] input: CustomFieldIdInput,
    ) -> async_graphql::Result<CustomFieldPayload> {
        let actor = actor(ctx)?;
        let id = values::parse_id("id", &input.id)?;
        let saved = custom_fields::set_archived(db(ctx)?, actor, id, false).await?;
        Ok(CustomFieldPayload {
            definition: CustomFieldDefinition(saved),
        })
    }

    /// Maps a lead field (standard or custom) onto a field (standard or custom) of the account,
    /// contact or opportunity qualification creates. The types must be compatible
    /// (`BAD_USER_INPUT` naming both fields otherwise); an e-mail field only takes the lead's
    /// `email`; the opportunity's `account` and `contact` only come from the resulting records.
    /// At most one enabled mapping fills a field: a standard field's own mapping must be
    /// disabled first (`BAD_USER_INPUT` on `targetField` otherwise).
    async fn add_field_mapping(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mapping.")] input: AddFieldMappingInput,
    ) -> async_graphql::Result<FieldMappingPayload> {
        let actor = actor(ctx)?;
        let new = NewMapping {
            target: input.target.into(),
            source_field: input.source_field,
            target_field: input.target_field,
        };
        let saved = field_mappings::add(db(ctx)?, actor, new).await?;
        Ok(FieldMappingPayload {
            mapping: FieldMapping(saved),
        })
    }

    /// Removes a mapping an administrator added (standard ones can only be disabled).
    async fn remove_field_mapping(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mapping.")] input: FieldMappingIdInput,
    ) -> async_graphql::Result<FieldMappingPayload> {
        let actor = actor(ctx)?;
        let id = values::parse_id("id", &input.id)?;
        let removed = field_mappings::remove(db(ctx)?, actor, id).await?;
        Ok(FieldMappingPayload {
            mapping: FieldMapping(removed),
        })
    }

    /// Disables or re-enables a mapping (standard or added). Re-enabling one whose field
    /// another enabled mapping fills is refused (`BAD_USER_INPUT` on `id`).
    async fn set_field_mapping_enabled(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mapping and its new state.")] input: SetFieldMappingEnabledInput,
    ) -> async_graphql::Result<FieldMappingPayload> {
        let actor = actor(ctx)?;
        let id = values::parse_id("id", &input.id)?;
        let saved = field_mappings::set_enabled(db(ctx)?, actor, id, input.enabled).await?;
        Ok(FieldMappingPayload {
            mapping: FieldMapping(saved),
        })
    }
}
