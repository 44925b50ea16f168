//! Mutations of accounts, contacts, notes and stakeholders.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use crate::domain::records::limits;
use crate::domain::values;
use crate::error::AppError;
use crate::graphql::types::custom_fields::{CustomFieldInput, CustomFieldValue, value_inputs};
use crate::graphql::types::inputs::{CreateAccountInput, CreateContactInput};
use crate::graphql::types::{Account, Contact, Note, RecordType, Stakeholder, StakeholderRole};
use crate::graphql::{actor, db};
use crate::service::{self, stakeholders::StakeholderOf};

#[derive(Default)]
pub struct RecordMutation;

/// Custom values to set on one record.
#[derive(InputObject)]
pub struct SetCustomFieldValuesInput {
    /// The lead, account, contact or opportunity (one the caller may work on).
    pub record_id: ID,
    /// The values to set; a null value clears the field (a required one cannot be cleared).
    /// Fields not listed keep their values.
    pub custom_fields: Vec<CustomFieldInput>,
}

/// The record's custom values after the change.
#[derive(SimpleObject)]
pub struct SetCustomFieldValuesPayload {
    /// The record.
    pub record_id: ID,
    /// Its kind (LEAD, ACCOUNT, CONTACT or OPPORTUNITY).
    pub record_type: RecordType,
    /// All its custom values now, in definition order.
    pub custom_fields: Vec<CustomFieldValue>,
}

/// The new account.
#[derive(SimpleObject)]
pub struct CreateAccountPayload {
    /// The account as stored.
    pub account: Account,
}

/// The new contact.
#[derive(SimpleObject)]
pub struct CreateContactPayload {
    /// The contact as stored.
    pub contact: Contact,
}

/// A note for a record's timeline.
#[derive(InputObject)]
pub struct AddNoteInput {
    /// The lead, account, contact or opportunity the note is about.
    pub regarding_id: ID,
    /// Subject line (≤ 500 characters).
    pub subject: Option<String>,
    /// Body (≤ 100000 characters). A note needs a subject or a text.
    pub text: Option<String>,
}

/// The new note.
#[derive(SimpleObject)]
pub struct AddNotePayload {
    /// The note as stored.
    pub note: Note,
}

/// A contact to connect to an open lead or to an opportunity.
#[derive(InputObject)]
pub struct AddStakeholderInput {
    /// The lead (give this or `opportunityId`).
    pub lead_id: Option<ID>,
    /// The opportunity (give this or `leadId`).
    pub opportunity_id: Option<ID>,
    /// The person.
    pub contact_id: ID,
    /// The part the person plays (default: STAKEHOLDER).
    #[graphql(default_with = "StakeholderRole::Stakeholder")]
    pub role: StakeholderRole,
}

/// The new connection.
#[derive(SimpleObject)]
pub struct AddStakeholderPayload {
    /// The stakeholder as stored.
    pub stakeholder: Stakeholder,
}

#[Object]
impl RecordMutation {
    /// Creates an account owned by the caller.
    async fn create_account(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The CreateAccount request; see `CreateAccountInput`.")]
        input: CreateAccountInput,
    ) -> async_graphql::Result<CreateAccountPayload> {
        let actor = actor(ctx)?;
        let (account, primary_contact) = input.parse()?;
        let account = service::accounts::create(db(ctx)?, actor, account, primary_contact).await?;
        Ok(CreateAccountPayload {
            account: Account(account),
        })
    }

    /// Creates a contact owned by the caller.
    async fn create_contact(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The CreateContact request; see `CreateContactInput`.")]
        input: CreateContactInput,
    ) -> async_graphql::Result<CreateContactPayload> {
        let actor = actor(ctx)?;
        let contact = service::contacts::create(db(ctx)?, actor, input.parse()?).await?;
        Ok(CreateContactPayload {
            contact: Contact(contact),
        })
    }

    /// Sets or clears custom field values of a lead, account, contact or opportunity, checked
    /// against the definitions (`BAD_USER_INPUT` naming `customFields.<name>`); audited on the
    /// record. Accounts, contacts and opportunities have no other update, so this is how their
    /// custom values change after creation.
    async fn set_custom_field_values(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The record and its values.")] input: SetCustomFieldValuesInput,
    ) -> async_graphql::Result<SetCustomFieldValuesPayload> {
        let actor = actor(ctx)?;
        let record_id = values::parse_id("recordId", &input.record_id)?;
        let inputs = value_inputs(Some(input.custom_fields));
        let db = db(ctx)?;
        let record_type = service::custom_fields::set_values(db, actor, record_id, &inputs).await?;
        let custom_fields = service::custom_fields::values_of(&db.read, &[record_id])
            .await?
            .remove(&record_id)
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect();
        Ok(SetCustomFieldValuesPayload {
            record_id: input.record_id,
            record_type: record_type.into(),
            custom_fields,
        })
    }

    /// Adds a note to the timeline of a lead, account, contact or opportunity.
    async fn add_note(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The AddNote request; see `AddNoteInput`.")] input: AddNoteInput,
    ) -> async_graphql::Result<AddNotePayload> {
        let actor = actor(ctx)?;
        let regarding = values::parse_id("regardingId", &input.regarding_id)?;
        let subject = values::text("subject", input.subject, limits::NOTE_SUBJECT)?;
        let text = values::text("text", input.text, limits::NOTE_TEXT)?;
        let note = service::notes::add(db(ctx)?, actor, regarding, subject, text).await?;
        Ok(AddNotePayload { note: Note(note) })
    }

    /// Connects a contact to an open lead or an opportunity as a stakeholder.
    async fn add_stakeholder(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The AddStakeholder request; see `AddStakeholderInput`.")]
        input: AddStakeholderInput,
    ) -> async_graphql::Result<AddStakeholderPayload> {
        let actor = actor(ctx)?;
        let lead = values::parse_opt_id("leadId", input.lead_id.as_deref())?;
        let opportunity = values::parse_opt_id("opportunityId", input.opportunity_id.as_deref())?;
        let of = match (lead, opportunity) {
            (Some(lead), None) => StakeholderOf::Lead(lead),
            (None, Some(opportunity)) => StakeholderOf::Opportunity(opportunity),
            _ => {
                return Err(AppError::bad_input(
                    "leadId",
                    "give exactly one of leadId and opportunityId",
                )
                .into());
            }
        };
        let contact = values::parse_id("contactId", &input.contact_id)?;
        let stakeholder =
            service::stakeholders::add(db(ctx)?, actor, of, contact, input.role.into()).await?;
        Ok(AddStakeholderPayload {
            stakeholder: Stakeholder(stakeholder),
        })
    }
}
