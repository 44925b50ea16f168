//! leadq's integration tests: one binary, one file per area. Every test spawns the real
//! application on a free port against a fresh database (SQLite by default, PostgreSQL when
//! `TEST_DATABASE_URL` is set) and talks to it over HTTP, as a client would.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod access;
mod auth;
mod custom_fields;
mod duplicates;
mod edge;
mod health;
mod leads;
mod lifecycle;
mod matching;
mod process;
mod qualification;
mod records;
mod schema;
mod security;
mod subscriptions;
