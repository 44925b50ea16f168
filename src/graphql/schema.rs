//! The schema: built once at startup, shared by every request.

use async_graphql::{EmptySubscription, Schema, SchemaBuilder};

use super::mutation::MutationRoot;
use super::query::QueryRoot;
use crate::db::Db;
use crate::service::qualification::Qualifier;

/// The leadq GraphQL schema.
pub type AppSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Deepest selection nesting accepted.
pub const MAX_DEPTH: usize = 12;
/// Highest query complexity accepted (each field counts 1; lists count their page size).
pub const MAX_COMPLEXITY: usize = 5_000;

/// The schema with its limits, without run-time data (what `leadq schema` prints).
pub fn schema_builder() -> SchemaBuilder<QueryRoot, MutationRoot, EmptySubscription> {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        EmptySubscription,
    )
    .limit_depth(MAX_DEPTH)
    .limit_complexity(MAX_COMPLEXITY)
    .limit_recursive_depth(64)
    .limit_directives(10)
}

/// The schema served at run time, with the application's database and qualification use cases.
pub fn build(db: Db, introspection: bool, qualifier: Qualifier) -> AppSchema {
    let mut builder = schema_builder().data(db).data(qualifier);
    if !introspection {
        builder = builder.disable_introspection().disable_suggestions();
    }
    builder.finish()
}

/// The schema's SDL, as committed in `schema.graphql`.
pub fn sdl() -> String {
    schema_builder().finish().sdl()
}
