//! The record types clients read: Lead, Account, Contact, Opportunity, Note, Stakeholder, User.
//! Related records resolve through the request's loaders.

use async_graphql::{Context, ID, Object, SimpleObject, Union};
use chrono::{DateTime, Utc};
use entity::{account, contact, lead, note, opportunity, stakeholder, user};

use super::enums::*;
use super::scalars::Decimal;
use crate::domain::values::format_cents;
use crate::graphql::limits::{NOTE_TEXT_WEIGHT, charged};
use crate::graphql::loaders::*;

/// A postal address.
#[derive(SimpleObject, Debug, Clone, Default)]
pub struct Address {
    /// First line of the street address.
    pub street1: Option<String>,
    /// Second line of the street address.
    pub street2: Option<String>,
    /// Third line of the street address.
    pub street3: Option<String>,
    /// City.
    pub city: Option<String>,
    /// State or province.
    pub state_or_province: Option<String>,
    /// ZIP or postal code.
    pub postal_code: Option<String>,
    /// Country or region.
    pub country_or_region: Option<String>,
}

macro_rules! address_of {
    ($m:expr) => {
        Address {
            street1: $m.street1.clone(),
            street2: $m.street2.clone(),
            street3: $m.street3.clone(),
            city: $m.city.clone(),
            state_or_province: $m.state_or_province.clone(),
            postal_code: $m.postal_code.clone(),
            country_or_region: $m.country_or_region.clone(),
        }
    };
}

fn full_name(first: Option<&str>, last: &str) -> String {
    match first {
        Some(first) if !first.is_empty() => format!("{first} {last}"),
        _ => last.to_owned(),
    }
}

fn money(cents: Option<i64>) -> Option<Decimal> {
    cents.map(|c| Decimal(format_cents(c)))
}

pub(crate) async fn user_of(
    ctx: &Context<'_>,
    id: Option<uuid::Uuid>,
) -> async_graphql::Result<Option<User>> {
    let Some(id) = id else { return Ok(None) };
    Ok(crate::graphql::loaders(ctx)?
        .load_one(UserId(id))
        .await?
        .map(User))
}

async fn account_of(
    ctx: &Context<'_>,
    id: Option<uuid::Uuid>,
) -> async_graphql::Result<Option<Account>> {
    let Some(id) = id else { return Ok(None) };
    Ok(crate::graphql::loaders(ctx)?
        .load_one(AccountId(id))
        .await?
        .map(Account))
}

async fn contact_of(
    ctx: &Context<'_>,
    id: Option<uuid::Uuid>,
) -> async_graphql::Result<Option<Contact>> {
    let Some(id) = id else { return Ok(None) };
    Ok(crate::graphql::loaders(ctx)?
        .load_one(ContactId(id))
        .await?
        .map(Contact))
}

async fn lead_of(ctx: &Context<'_>, id: Option<uuid::Uuid>) -> async_graphql::Result<Option<Lead>> {
    let Some(id) = id else { return Ok(None) };
    Ok(crate::graphql::loaders(ctx)?
        .load_one(LeadId(id))
        .await?
        .map(Lead))
}

async fn opportunity_of(
    ctx: &Context<'_>,
    id: Option<uuid::Uuid>,
) -> async_graphql::Result<Option<Opportunity>> {
    let Some(id) = id else { return Ok(None) };
    Ok(crate::graphql::loaders(ctx)?
        .load_one(OpportunityId(id))
        .await?
        .map(Opportunity))
}

/// A page of the notes regarding `ids` together, oldest first: at most `first` (default
/// [`DEFAULT_NOTES_PAGE`], at most [`MAX_NOTES_PAGE`]), after the note `after`.
async fn notes_of(
    ctx: &Context<'_>,
    ids: &[uuid::Uuid],
    first: Option<i32>,
    after: Option<ID>,
) -> async_graphql::Result<Vec<Note>> {
    let first = match first {
        None => DEFAULT_NOTES_PAGE,
        Some(n) if n >= 0 && (n as u64) <= MAX_NOTES_PAGE => n as u64,
        Some(n) => {
            return Err(crate::error::AppError::bad_input(
                "first",
                format!("first must be between 0 and {MAX_NOTES_PAGE}, got {n}"),
            )
            .into());
        }
    };
    let after = crate::domain::values::parse_opt_id("after", after.as_deref())?;
    let loaded = crate::graphql::loaders(ctx)?
        .load_many(ids.iter().map(|&regarding| NotesPage {
            regarding,
            first,
            after,
        }))
        .await?;
    let mut notes: Vec<note::Model> = loaded.into_values().flatten().collect();
    notes.sort_by_key(|n| (n.created_at, n.id));
    notes.truncate(first as usize);
    Ok(notes.into_iter().map(Note).collect())
}

/// A record's custom field values, through the request's loader (one query per request).
async fn custom_fields_of(
    ctx: &Context<'_>,
    id: uuid::Uuid,
) -> async_graphql::Result<Vec<super::custom_fields::CustomFieldValue>> {
    let loaded = crate::graphql::loaders(ctx)?
        .load_one(CustomValuesOf(id))
        .await?;
    Ok(loaded
        .unwrap_or_default()
        .into_iter()
        .map(Into::into)
        .collect())
}

/// A potential customer, to be qualified into an account, a contact and opportunities or
/// disqualified.
pub struct Lead(pub lead::Model);

/// A potential customer, to be qualified into an account, a contact and opportunities or
/// disqualified.
#[Object]
impl Lead {
    /// The lead's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// What the lead is interested in; becomes the opportunity's topic.
    async fn topic(&self) -> &str {
        &self.0.topic
    }
    /// First name of the person.
    async fn first_name(&self) -> Option<&str> {
        self.0.first_name.as_deref()
    }
    /// Last name of the person.
    async fn last_name(&self) -> &str {
        &self.0.last_name
    }
    /// First and last name.
    async fn full_name(&self) -> String {
        full_name(self.0.first_name.as_deref(), &self.0.last_name)
    }
    /// Job title of the person.
    async fn job_title(&self) -> Option<&str> {
        self.0.job_title.as_deref()
    }
    /// Business phone number.
    async fn business_phone(&self) -> Option<&str> {
        self.0.business_phone.as_deref()
    }
    /// Mobile phone number.
    async fn mobile_phone(&self) -> Option<&str> {
        self.0.mobile_phone.as_deref()
    }
    /// E-mail address.
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    /// The person's company; becomes the account's name.
    async fn company_name(&self) -> Option<&str> {
        self.0.company_name.as_deref()
    }
    /// The company's website.
    async fn website(&self) -> Option<&str> {
        self.0.website.as_deref()
    }
    /// Postal address.
    async fn address(&self) -> Address {
        address_of!(self.0)
    }
    /// Free-text description.
    async fn description(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        charged(ctx, self.0.description.as_deref(), 1)
    }
    /// The company's industry.
    async fn industry(&self) -> Option<&str> {
        self.0.industry.as_deref()
    }
    /// Where the lead came from.
    async fn lead_source(&self) -> Option<LeadSource> {
        self.0.lead_source.map(Into::into)
    }
    /// How promising the lead is.
    async fn rating(&self) -> Option<LeadRating> {
        self.0.rating.map(Into::into)
    }
    /// How the person prefers to be contacted.
    async fn preferred_contact_method(&self) -> Option<PreferredContactMethod> {
        self.0.preferred_contact_method.map(Into::into)
    }
    /// When the customer means to buy.
    async fn purchase_timeframe(&self) -> Option<PurchaseTimeframe> {
        self.0.purchase_timeframe.map(Into::into)
    }
    /// How the customer decides.
    async fn purchase_process(&self) -> Option<PurchaseProcess> {
        self.0.purchase_process.map(Into::into)
    }
    /// Estimated budget, exact, in `currencyCode`.
    async fn budget_amount(&self) -> Option<Decimal> {
        money(self.0.budget_amount_cents)
    }
    /// ISO 4217 currency of the budget.
    async fn currency_code(&self) -> Option<&str> {
        self.0.currency_code.as_deref()
    }
    /// Whether the decision maker is identified.
    async fn decision_maker(&self) -> Option<bool> {
        self.0.decision_maker
    }
    /// The account this lead comes from, if it is from an existing customer.
    async fn existing_account(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Account>> {
        account_of(ctx, self.0.existing_account_id).await
    }
    /// The contact this lead is, if the person is already a contact.
    async fn existing_contact(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Contact>> {
        contact_of(ctx, self.0.existing_contact_id).await
    }
    /// The user who works the lead.
    async fn owner(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        user_of(ctx, Some(self.0.owner_id))
            .await?
            .ok_or_else(|| crate::error::AppError::internal("lead owner missing").into())
    }
    /// Open, qualified or disqualified.
    async fn state(&self) -> LeadState {
        self.0.state.into()
    }
    /// Why the lead is in its state.
    async fn status_reason(&self) -> LeadStatusReason {
        self.0.status_reason.into()
    }
    /// Stage of the sales process.
    async fn process_stage(&self) -> ProcessStage {
        self.0.process_stage.into()
    }
    /// The account the lead was qualified to (created or existing).
    async fn qualified_account(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Account>> {
        account_of(ctx, self.0.qualified_account_id).await
    }
    /// The contact the lead was qualified to (created or existing).
    async fn qualified_contact(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Contact>> {
        contact_of(ctx, self.0.qualified_contact_id).await
    }
    /// The primary opportunity created when the lead was qualified.
    async fn qualifying_opportunity(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Opportunity>> {
        opportunity_of(ctx, self.0.qualifying_opportunity_id).await
    }
    /// Every opportunity that originated from this lead, oldest first.
    async fn opportunities(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Opportunity>> {
        let loaded = crate::graphql::loaders(ctx)?
            .load_one(OpportunitiesOfLead(self.0.id))
            .await?;
        Ok(loaded
            .unwrap_or_default()
            .into_iter()
            .map(Opportunity)
            .collect())
    }
    /// Notes on the lead's timeline, oldest first.
    async fn notes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many notes (0 to 100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Continue after this note (the last note's id of the previous page).")]
        after: Option<ID>,
    ) -> async_graphql::Result<Vec<Note>> {
        notes_of(ctx, &[self.0.id], first, after).await
    }
    /// Contacts involved in the decision.
    async fn stakeholders(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Stakeholder>> {
        let loaded = crate::graphql::loaders(ctx)?
            .load_one(StakeholdersOfLead(self.0.id))
            .await?;
        Ok(loaded
            .unwrap_or_default()
            .into_iter()
            .map(Stakeholder)
            .collect())
    }
    /// Accounts that match this lead by the published LEAD → ACCOUNT rules: the candidates for
    /// Existing Account. (A lookup per lead: ask for it on one lead, not on a long list.)
    async fn matching_accounts(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<super::qualification::AccountMatch>> {
        let found = crate::service::duplicates::accounts_matching_lead(
            &crate::graphql::db(ctx)?.read,
            &self.0,
        )
        .await?;
        Ok(found
            .into_iter()
            .map(|m| super::qualification::AccountMatch {
                account: Account(m.record),
                rules: super::qualification::matched_rules(m.rules),
            })
            .collect())
    }
    /// Contacts that match this lead by the published LEAD → CONTACT rules: the candidates for
    /// Existing Contact.
    async fn matching_contacts(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<super::qualification::ContactMatch>> {
        let found = crate::service::duplicates::contacts_matching_lead(
            &crate::graphql::db(ctx)?.read,
            &self.0,
        )
        .await?;
        Ok(found
            .into_iter()
            .map(|m| super::qualification::ContactMatch {
                contact: Contact(m.record),
                rules: super::qualification::matched_rules(m.rules),
            })
            .collect())
    }
    /// Other leads that match this lead by the published LEAD → LEAD rules.
    async fn matching_leads(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<super::qualification::LeadMatch>> {
        let found =
            crate::service::duplicates::lead_matches(&crate::graphql::db(ctx)?.read, &self.0)
                .await?;
        Ok(found
            .into_iter()
            .map(|m| super::qualification::LeadMatch {
                lead: Lead(m.record),
                rules: super::qualification::matched_rules(m.rules),
            })
            .collect())
    }
    /// The values of the custom fields an administrator added (archived fields hidden).
    async fn custom_fields(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<super::custom_fields::CustomFieldValue>> {
        custom_fields_of(ctx, self.0.id).await
    }
    /// When the lead was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the lead was last changed.
    async fn modified_at(&self) -> DateTime<Utc> {
        self.0.modified_at
    }
    /// When the lead was qualified (cleared when it is reactivated).
    async fn qualified_at(&self) -> Option<DateTime<Utc>> {
        self.0.qualified_at
    }
}

/// An organization the sales team sells to.
pub struct Account(pub account::Model);

/// An organization the sales team sells to.
#[Object]
impl Account {
    /// The account's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The organization's name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Website.
    async fn website(&self) -> Option<&str> {
        self.0.website.as_deref()
    }
    /// Main phone number.
    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }
    /// Main e-mail address.
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    /// Address 1.
    async fn address(&self) -> Address {
        address_of!(self.0)
    }
    /// The main person to talk to.
    async fn primary_contact(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Contact>> {
        contact_of(ctx, self.0.primary_contact_id).await
    }
    /// The lead this account was created from.
    async fn originating_lead(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Lead>> {
        lead_of(ctx, self.0.originating_lead_id).await
    }
    /// The user who owns the account.
    async fn owner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        user_of(ctx, Some(self.0.owner_id)).await
    }
    /// Active or inactive.
    async fn state(&self) -> RecordState {
        self.0.state.into()
    }
    /// Contacts whose parent is this account.
    async fn contacts(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Contact>> {
        let loaded = crate::graphql::loaders(ctx)?
            .load_one(ContactsOfAccount(self.0.id))
            .await?;
        Ok(loaded
            .unwrap_or_default()
            .into_iter()
            .map(Contact)
            .collect())
    }
    /// Opportunities with this account.
    async fn opportunities(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Opportunity>> {
        let loaded = crate::graphql::loaders(ctx)?
            .load_one(OpportunitiesOfAccount(self.0.id))
            .await?;
        Ok(loaded
            .unwrap_or_default()
            .into_iter()
            .map(Opportunity)
            .collect())
    }
    /// Notes on the account's timeline.
    async fn notes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many notes (0 to 100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Continue after this note (the last note's id of the previous page).")]
        after: Option<ID>,
    ) -> async_graphql::Result<Vec<Note>> {
        notes_of(ctx, &[self.0.id], first, after).await
    }
    /// The values of the custom fields an administrator added (archived fields hidden).
    async fn custom_fields(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<super::custom_fields::CustomFieldValue>> {
        custom_fields_of(ctx, self.0.id).await
    }
    /// When the account was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the account was last changed.
    async fn modified_at(&self) -> DateTime<Utc> {
        self.0.modified_at
    }
}

/// A person the sales team deals with.
pub struct Contact(pub contact::Model);

/// A person the sales team deals with.
#[Object]
impl Contact {
    /// The contact's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// First name.
    async fn first_name(&self) -> Option<&str> {
        self.0.first_name.as_deref()
    }
    /// Last name.
    async fn last_name(&self) -> &str {
        &self.0.last_name
    }
    /// First and last name.
    async fn full_name(&self) -> String {
        full_name(self.0.first_name.as_deref(), &self.0.last_name)
    }
    /// Job title.
    async fn job_title(&self) -> Option<&str> {
        self.0.job_title.as_deref()
    }
    /// Business phone number.
    async fn business_phone(&self) -> Option<&str> {
        self.0.business_phone.as_deref()
    }
    /// Mobile phone number.
    async fn mobile_phone(&self) -> Option<&str> {
        self.0.mobile_phone.as_deref()
    }
    /// E-mail address.
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    /// Address 1.
    async fn address(&self) -> Address {
        address_of!(self.0)
    }
    /// The account the person works for.
    async fn parent_account(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Account>> {
        account_of(ctx, self.0.parent_account_id).await
    }
    /// The lead this contact was created from.
    async fn originating_lead(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Lead>> {
        lead_of(ctx, self.0.originating_lead_id).await
    }
    /// The user who owns the contact.
    async fn owner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        user_of(ctx, Some(self.0.owner_id)).await
    }
    /// Active or inactive.
    async fn state(&self) -> RecordState {
        self.0.state.into()
    }
    /// Notes on the contact's timeline.
    async fn notes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many notes (0 to 100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Continue after this note (the last note's id of the previous page).")]
        after: Option<ID>,
    ) -> async_graphql::Result<Vec<Note>> {
        notes_of(ctx, &[self.0.id], first, after).await
    }
    /// The values of the custom fields an administrator added (archived fields hidden).
    async fn custom_fields(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<super::custom_fields::CustomFieldValue>> {
        custom_fields_of(ctx, self.0.id).await
    }
    /// When the contact was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the contact was last changed.
    async fn modified_at(&self) -> DateTime<Utc> {
        self.0.modified_at
    }
}

/// Who an opportunity is with: an account, else a contact.
#[derive(Union)]
pub enum Customer {
    /// The customer is an organization.
    Account(Account),
    /// The customer is a person.
    Contact(Contact),
}

/// A potential sale.
pub struct Opportunity(pub opportunity::Model);

/// A potential sale.
#[Object]
impl Opportunity {
    /// The opportunity's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// What is being sold.
    async fn topic(&self) -> &str {
        &self.0.topic
    }
    /// Free-text description.
    async fn description(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        charged(ctx, self.0.description.as_deref(), 1)
    }
    /// The account the opportunity is with.
    async fn account(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Account>> {
        account_of(ctx, self.0.account_id).await
    }
    /// The contact the opportunity is with.
    async fn contact(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Contact>> {
        contact_of(ctx, self.0.contact_id).await
    }
    /// The potential customer: the account if there is one, else the contact.
    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Customer>> {
        if let Some(account) = account_of(ctx, self.0.account_id).await? {
            return Ok(Some(Customer::Account(account)));
        }
        Ok(contact_of(ctx, self.0.contact_id)
            .await?
            .map(Customer::Contact))
    }
    /// The lead this opportunity was created from.
    async fn originating_lead(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Lead>> {
        lead_of(ctx, self.0.originating_lead_id).await
    }
    /// ISO 4217 currency of the amounts.
    async fn currency_code(&self) -> &str {
        &self.0.currency_code
    }
    /// Estimated budget, exact.
    async fn budget_amount(&self) -> Option<Decimal> {
        money(self.0.budget_amount_cents)
    }
    /// When the customer means to buy.
    async fn purchase_timeframe(&self) -> Option<PurchaseTimeframe> {
        self.0.purchase_timeframe.map(Into::into)
    }
    /// How the customer decides.
    async fn purchase_process(&self) -> Option<PurchaseProcess> {
        self.0.purchase_process.map(Into::into)
    }
    /// Whether the decision maker is identified.
    async fn decision_maker(&self) -> Option<bool> {
        self.0.decision_maker
    }
    /// Stage of the sales process.
    async fn process_stage(&self) -> ProcessStage {
        self.0.process_stage.into()
    }
    /// Open, won or lost.
    async fn state(&self) -> OpportunityState {
        self.0.state.into()
    }
    /// The user who owns the opportunity.
    async fn owner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        user_of(ctx, Some(self.0.owner_id)).await
    }
    /// Notes on the opportunity's timeline and on its originating lead's, oldest first, so
    /// nothing learnt while working the lead is lost.
    async fn notes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many notes (0 to 100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Continue after this note (the last note's id of the previous page).")]
        after: Option<ID>,
    ) -> async_graphql::Result<Vec<Note>> {
        let mut ids = vec![self.0.id];
        ids.extend(self.0.originating_lead_id);
        let mut notes = notes_of(ctx, &ids, first, after).await?;
        // The lead summary is written to both timelines; show the opportunity's copy once.
        let own: Vec<(Option<String>, Option<String>)> = notes
            .iter()
            .filter(|n| n.0.regarding_id == self.0.id && n.0.created_by.is_none())
            .map(|n| (n.0.subject.clone(), n.0.text.clone()))
            .collect();
        notes.retain(|n| {
            n.0.regarding_id == self.0.id
                || n.0.created_by.is_some()
                || !own.contains(&(n.0.subject.clone(), n.0.text.clone()))
        });
        Ok(notes)
    }
    /// Contacts involved in the decision.
    async fn stakeholders(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Stakeholder>> {
        let loaded = crate::graphql::loaders(ctx)?
            .load_one(StakeholdersOfOpportunity(self.0.id))
            .await?;
        Ok(loaded
            .unwrap_or_default()
            .into_iter()
            .map(Stakeholder)
            .collect())
    }
    /// The values of the custom fields an administrator added (archived fields hidden).
    async fn custom_fields(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<super::custom_fields::CustomFieldValue>> {
        custom_fields_of(ctx, self.0.id).await
    }
    /// When the opportunity was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A note on a record's timeline.
pub struct Note(pub note::Model);

/// A note on a record's timeline.
#[Object]
impl Note {
    /// The note's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Subject line.
    async fn subject(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        charged(ctx, self.0.subject.as_deref(), NOTE_TEXT_WEIGHT)
    }
    /// Body.
    async fn text(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        charged(ctx, self.0.text.as_deref(), NOTE_TEXT_WEIGHT)
    }
    /// The kind of record the note is regarding.
    async fn regarding_type(&self) -> RecordType {
        self.0.regarding_type.into()
    }
    /// The id of the record the note is regarding.
    async fn regarding_id(&self) -> ID {
        ID(self.0.regarding_id.to_string())
    }
    /// When the note was written.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Who wrote the note (none for notes the system wrote).
    async fn created_by(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        user_of(ctx, self.0.created_by).await
    }
}

/// A contact involved in a lead's or opportunity's decision.
pub struct Stakeholder(pub stakeholder::Model);

/// A contact involved in a lead's or opportunity's decision.
#[Object]
impl Stakeholder {
    /// The connection's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The person.
    async fn contact(&self, ctx: &Context<'_>) -> async_graphql::Result<Contact> {
        contact_of(ctx, Some(self.0.contact_id))
            .await?
            .ok_or_else(|| crate::error::AppError::internal("stakeholder contact missing").into())
    }
    /// The part the person plays.
    async fn role(&self) -> StakeholderRole {
        self.0.role.into()
    }
}

/// Someone who works in leadq.
pub struct User(pub user::Model);

/// Someone who works in leadq.
#[Object]
impl User {
    /// The user's id (a token's subject).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Security roles.
    async fn roles(&self) -> Vec<Role> {
        self.0.role_list().into_iter().map(Into::into).collect()
    }
}
