//! The query root, merged from one object per area.

mod custom_fields;
mod jobs;
mod leads;
mod qualification;
mod records;

use async_graphql::MergedObject;

/// Everything a client can read.
#[derive(MergedObject, Default)]
pub struct QueryRoot(
    leads::LeadQuery,
    records::RecordQuery,
    qualification::QualificationQuery,
    jobs::JobQuery,
    custom_fields::CustomFieldQuery,
);
