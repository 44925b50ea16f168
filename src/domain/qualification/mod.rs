//! The pure parts of qualifying leads, in the order the pipeline (`service::qualification`)
//! runs them: the parsed [`request`], the [`plan`] (what happens to account, contact and
//! opportunities), the records the field [`mapping`]s produce, and the [`writes`] built in
//! memory before they are stored. Nothing here does I/O, so every step is unit-testable and
//! `previewQualification` runs exactly the same decisions as `qualifyLead`.

pub mod mapping;
pub mod plan;
pub mod request;
pub mod writes;

pub use mapping::{
    CustomMapping, CustomSource, MappedRecord, MappedValue, Mappings, StandardTargetMapping,
    mapped_account, mapped_contact, mapped_opportunity, mapped_values, standard_value,
};
pub use plan::{
    Decision, Plan, PlanError, RequiredChoice, Warning, creation_modes, form_fields, plan,
    plan_with_policy,
};
pub use request::{
    BulkRequest, DuplicatePolicy, OpportunityDraft, QualifyRequest, RecordAction, RecordChoice,
};
pub use writes::{
    Context, ItemResult, Outcome, Qualified, Resolved, Writes, build, custom_value_row,
};
