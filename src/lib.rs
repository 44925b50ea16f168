//! leadq: a lead-qualification backend. A GraphQL API (async-graphql on actix-web) over a sea-orm
//! service layer, on SQLite or PostgreSQL.
//!
//! Data flows one way: HTTP → [`graphql`] (parse input into [`domain`] types, call one service
//! function, map the result) → [`service`] (rules and transactions) → `entity` / database.

pub mod auth;
pub mod config;
pub mod db;
pub mod db_limits;
pub mod domain;
pub mod error;
pub mod graphql;
pub mod http;
pub mod metrics;
pub mod playground;
pub mod protocol;
pub mod seed;
pub mod service;
pub mod spa;
pub mod startup;
pub mod telemetry;
pub mod ws;
