//! The mutation root, merged from one object per area. Every mutation takes one `input`
//! argument and returns a `...Payload`.

mod custom_fields;
mod duplicates;
mod jobs;
mod leads;
mod qualification;
mod records;

use async_graphql::MergedObject;

/// Everything a client can change.
#[derive(MergedObject, Default)]
pub struct MutationRoot(
    leads::LeadMutation,
    leads::LeadStateMutation,
    records::RecordMutation,
    qualification::QualificationMutation,
    duplicates::DuplicateRuleMutation,
    jobs::JobMutation,
    custom_fields::CustomFieldMutation,
);
