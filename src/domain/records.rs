//! The writable fields of leads, accounts and contacts, already parsed.
//!
//! A [`Change<T>`] is `None` when the client did not send the field (leave it as it is),
//! `Some(None)` when it sent null or blank text (clear it), `Some(Some(v))` for a new value.

use entity::{LeadRating, LeadSource, PreferredContactMethod, PurchaseProcess, PurchaseTimeframe};
use uuid::Uuid;

use super::values::{CurrencyCode, Email, Money, Name, Phone, Topic, Website};

/// A field of an update: absent, cleared or set.
pub type Change<T> = Option<Option<T>>;

/// Postal address fields ("Address 1" on accounts and contacts).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressChanges {
    pub street1: Change<String>,
    pub street2: Change<String>,
    pub street3: Change<String>,
    pub city: Change<String>,
    pub state_or_province: Change<String>,
    pub postal_code: Change<String>,
    pub country_or_region: Change<String>,
}

/// The writable fields of a lead, for create and update alike.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeadChanges {
    pub topic: Change<Topic>,
    pub first_name: Change<Name>,
    pub last_name: Change<Name>,
    pub job_title: Change<String>,
    pub business_phone: Change<Phone>,
    pub mobile_phone: Change<Phone>,
    pub email: Change<Email>,
    pub company_name: Change<Name>,
    pub website: Change<Website>,
    pub address: AddressChanges,
    pub description: Change<String>,
    pub industry: Change<String>,
    pub lead_source: Change<LeadSource>,
    pub rating: Change<LeadRating>,
    pub preferred_contact_method: Change<PreferredContactMethod>,
    pub purchase_timeframe: Change<PurchaseTimeframe>,
    pub purchase_process: Change<PurchaseProcess>,
    pub budget_amount: Change<Money>,
    pub decision_maker: Change<bool>,
    pub currency_code: Change<CurrencyCode>,
    pub existing_account_id: Change<Uuid>,
    pub existing_contact_id: Change<Uuid>,
    /// Custom field values to set (or clear, with null).
    pub custom_fields: Vec<super::custom_field::ValueInput>,
}

/// A new account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccount {
    pub name: Name,
    pub website: Option<Website>,
    pub phone: Option<Phone>,
    pub email: Option<Email>,
    pub address: AddressChanges,
    /// Custom field values.
    pub custom_fields: Vec<super::custom_field::ValueInput>,
}

/// A new contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewContact {
    pub first_name: Option<Name>,
    pub last_name: Name,
    pub job_title: Option<String>,
    pub business_phone: Option<Phone>,
    pub mobile_phone: Option<Phone>,
    pub email: Option<Email>,
    pub address: AddressChanges,
    pub parent_account_id: Option<Uuid>,
    /// Custom field values.
    pub custom_fields: Vec<super::custom_field::ValueInput>,
}

/// Field length limits, in characters (the product's own where it documents them).
pub mod limits {
    pub const TOPIC: usize = 300;
    pub const FIRST_NAME: usize = 50;
    pub const LAST_NAME: usize = 50;
    pub const JOB_TITLE: usize = 100;
    pub const BUSINESS_PHONE: usize = 50;
    pub const MOBILE_PHONE: usize = 20;
    pub const COMPANY_NAME: usize = 100;
    pub const EMAIL: usize = 100;
    pub const WEBSITE: usize = 200;
    pub const ACCOUNT_NAME: usize = 160;
    pub const DESCRIPTION: usize = 2000;
    pub const INDUSTRY: usize = 100;
    pub const STREET: usize = 250;
    pub const CITY: usize = 80;
    pub const STATE_OR_PROVINCE: usize = 50;
    pub const POSTAL_CODE: usize = 20;
    pub const COUNTRY_OR_REGION: usize = 80;
    pub const NOTE_SUBJECT: usize = 500;
    pub const NOTE_TEXT: usize = 100_000;
    pub const USER_NAME: usize = 100;
}
