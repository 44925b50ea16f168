//! The GraphQL types: scalars, enums, records, connections, inputs and payloads.

pub mod audit;
pub mod bulk;
pub mod connection;
pub mod custom_fields;
pub mod duplicates;
pub mod enums;
pub mod inputs;
pub mod jobs;
pub mod qualification;
pub mod records;
pub mod scalars;

pub use enums::*;
pub use records::*;
pub use scalars::*;
