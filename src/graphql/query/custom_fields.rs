//! Custom field queries.

use async_graphql::{Context, Object};

use crate::graphql::types::RecordType;
use crate::graphql::types::custom_fields::CustomFieldDefinition;
use crate::graphql::{actor, db};
use crate::service;

#[derive(Default)]
pub struct CustomFieldQuery;

#[Object]
impl CustomFieldQuery {
    /// The custom field definitions, archived ones included, oldest first.
    async fn custom_field_definitions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the fields of this record type.")] record_type: Option<RecordType>,
    ) -> async_graphql::Result<Vec<CustomFieldDefinition>> {
        actor(ctx)?;
        let rows =
            service::custom_fields::list(&db(ctx)?.read, record_type.map(Into::into)).await?;
        Ok(rows.into_iter().map(CustomFieldDefinition).collect())
    }
}
