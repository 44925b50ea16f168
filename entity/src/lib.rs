//! sea-orm entities of leadq, one module per table.
//!
//! No GraphQL derives live here: the public schema is written by hand in the `leadq` crate, so a
//! column can change without changing the API.

pub mod account;
pub mod audit_event;
pub mod config_version;
pub mod contact;
pub mod custom_field_definition;
pub mod custom_field_value;
pub mod duplicate_rule;
pub mod duplicate_rule_condition;
pub mod enums;
pub mod field_mapping;
pub mod idempotency_key;
pub mod idempotency_result;
pub mod lead;
pub mod match_block;
pub mod match_key;
pub mod note;
pub mod opportunity;
pub mod persisted_operation;
pub mod qualification_job;
pub mod qualification_job_chunk;
pub mod qualification_job_item;
pub mod qualification_settings;
pub mod stakeholder;
pub mod user;

pub use enums::*;
