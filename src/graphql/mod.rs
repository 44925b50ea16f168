//! The GraphQL API: schema, query and mutation roots, types and loaders.
//!
//! Resolvers are thin: they take their dependencies from the context, turn input into domain
//! values, call one service function and map the result. Errors reach clients through
//! `From<AppError>`, which always sets `extensions.code`.

pub mod limits;
pub mod loaders;
pub mod mutation;
pub mod query;
pub mod schema;
pub mod subscription;
pub mod types;

use async_graphql::Context;

use crate::auth::Actor;
use crate::db::Db;
use crate::error::AppError;
use loaders::Loaders;

/// The database handles.
pub fn db<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Db> {
    ctx.data::<Db>()
        .map_err(|_| AppError::internal("no database in the GraphQL context").into())
}

/// The caller; every operation needs one.
pub fn actor<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Actor> {
    ctx.data::<Actor>()
        .map_err(|_| AppError::Unauthenticated("a bearer token is required".to_owned()).into())
}

/// The lead event bus (through the qualification use cases, which publish to it too).
pub fn events<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a crate::service::events::Events> {
    Ok(ctx
        .data::<crate::service::qualification::Qualifier>()
        .map_err(|_| AppError::internal("no qualifier in the GraphQL context"))?
        .events())
}

/// The request's loaders.
pub fn loaders<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Loaders> {
    ctx.data::<Loaders>()
        .map_err(|_| AppError::internal("no loaders in the GraphQL context").into())
}
