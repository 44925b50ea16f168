//! The schema: built once at startup, shared by every request.

use async_graphql::{Schema, SchemaBuilder};

use std::sync::Arc;

use super::limits::{CostLimit, SchemaShape};
use super::mutation::MutationRoot;
use super::query::QueryRoot;
use super::subscription::SubscriptionRoot;
use crate::db::Db;
use crate::error::AppError;
use crate::service::qualification::Qualifier;

/// The leadq GraphQL schema.
pub type AppSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Deepest selection nesting accepted (introspection has its own rules: see
/// [`super::limits::check_depth`]).
pub const MAX_DEPTH: usize = 12;

/// The schema with its limits, without run-time data (what `leadq schema` prints). The depth
/// limit is not async-graphql's `limit_depth`, which counts introspection like any other field
/// and so refuses graphql-js's standard introspection query: it is checked by [`CostLimit`],
/// with introspection measured by its own rules.
pub fn schema_builder() -> SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot> {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot,
    )
    .limit_recursive_depth(64)
    .limit_directives(10)
}

/// The schema served at run time, with the application's database and qualification use
/// cases, and the cost model of [`super::limits`] refusing requests above `max_cost`.
pub fn build(
    db: Db,
    introspection: bool,
    qualifier: Qualifier,
    max_cost: u64,
) -> Result<AppSchema, AppError> {
    let shape = Arc::new(SchemaShape::from_sdl(&sdl())?);
    let mut builder = schema_builder()
        .extension(CostLimit::new(shape, max_cost, MAX_DEPTH, introspection))
        .data(db)
        .data(qualifier);
    if !introspection {
        builder = builder.disable_introspection().disable_suggestions();
    }
    Ok(builder.finish())
}

/// The schema's SDL, as committed in `schema.graphql`.
pub fn sdl() -> String {
    schema_builder().finish().sdl()
}
