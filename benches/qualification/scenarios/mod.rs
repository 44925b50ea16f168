//! The scenarios, one module each, and what the raw ones share.

pub mod baseline;
pub mod bulk;
pub mod concurrent;
pub mod custom;
pub mod dedup;
pub mod job;
pub mod limit;
pub mod writes;
