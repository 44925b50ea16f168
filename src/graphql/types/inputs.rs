//! Input types and their parsing into domain values.
//!
//! `CreateLeadInput` and `UpdateLeadInput` carry the same writable fields; they are declared once
//! in [`lead_inputs!`] so the two cannot drift. On update an omitted field is left as it is and
//! `null` clears it.

use async_graphql::{ID, InputObject, MaybeUndefined};

use super::custom_fields::{CustomFieldInput, value_inputs};
use super::enums::*;
use super::scalars::Decimal;
use crate::domain::records::{AddressChanges, Change, LeadChanges, NewAccount, NewContact, limits};
use crate::domain::values::{self, CurrencyCode, Email, Money, Name, Phone, Topic, Website};
use crate::error::AppResult;

/// A postal address.
#[derive(InputObject, Debug, Clone, Default)]
pub struct AddressInput {
    /// First line of the street address (≤ 250 characters).
    pub street1: MaybeUndefined<String>,
    /// Second line of the street address (≤ 250 characters).
    pub street2: MaybeUndefined<String>,
    /// Third line of the street address (≤ 250 characters).
    pub street3: MaybeUndefined<String>,
    /// City (≤ 80 characters).
    pub city: MaybeUndefined<String>,
    /// State or province (≤ 50 characters).
    pub state_or_province: MaybeUndefined<String>,
    /// ZIP or postal code (≤ 20 characters).
    pub postal_code: MaybeUndefined<String>,
    /// Country or region (≤ 80 characters).
    pub country_or_region: MaybeUndefined<String>,
}

/// `MaybeUndefined` → [`Change`].
fn change<T>(value: MaybeUndefined<T>) -> Change<T> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(v)),
    }
}

/// Parses a text change with [`values::text`]-like parser `parse`.
fn text_change(
    field: &str,
    value: Change<String>,
    parse: impl Fn(&str, Option<String>) -> AppResult<Option<String>>,
) -> AppResult<Change<String>> {
    value.map(|v| parse(field, v)).transpose()
}

/// Parses a change with a newtype's parser (which takes the optional text).
fn parse_change<T>(
    value: Change<String>,
    parse: impl Fn(Option<String>) -> AppResult<Option<T>>,
) -> AppResult<Change<T>> {
    value.map(parse).transpose()
}

fn plain(max: usize) -> impl Fn(&str, Option<String>) -> AppResult<Option<String>> {
    move |field, v| values::text(field, v, max)
}

impl AddressInput {
    /// Parses the address fields, naming them `{prefix}.{field}` in errors.
    pub fn parse(self, prefix: &str) -> AppResult<AddressChanges> {
        let f = |name: &str| format!("{prefix}.{name}");
        Ok(AddressChanges {
            street1: text_change(&f("street1"), change(self.street1), plain(limits::STREET))?,
            street2: text_change(&f("street2"), change(self.street2), plain(limits::STREET))?,
            street3: text_change(&f("street3"), change(self.street3), plain(limits::STREET))?,
            city: text_change(&f("city"), change(self.city), plain(limits::CITY))?,
            state_or_province: text_change(
                &f("stateOrProvince"),
                change(self.state_or_province),
                plain(limits::STATE_OR_PROVINCE),
            )?,
            postal_code: text_change(
                &f("postalCode"),
                change(self.postal_code),
                plain(limits::POSTAL_CODE),
            )?,
            country_or_region: text_change(
                &f("countryOrRegion"),
                change(self.country_or_region),
                plain(limits::COUNTRY_OR_REGION),
            )?,
        })
    }
}

/// The lead's writable fields, unparsed, as [`Change`]s.
pub struct RawLead {
    pub topic: Change<String>,
    pub first_name: Change<String>,
    pub last_name: Change<String>,
    pub job_title: Change<String>,
    pub business_phone: Change<String>,
    pub mobile_phone: Change<String>,
    pub email: Change<String>,
    pub company_name: Change<String>,
    pub website: Change<String>,
    pub address: Change<AddressInput>,
    pub description: Change<String>,
    pub industry: Change<String>,
    pub lead_source: Change<LeadSource>,
    pub rating: Change<LeadRating>,
    pub preferred_contact_method: Change<PreferredContactMethod>,
    pub purchase_timeframe: Change<PurchaseTimeframe>,
    pub purchase_process: Change<PurchaseProcess>,
    pub budget_amount: Change<Decimal>,
    pub decision_maker: Change<bool>,
    pub currency_code: Change<String>,
    pub existing_account_id: Change<ID>,
    pub existing_contact_id: Change<ID>,
    pub custom_fields: Vec<crate::domain::custom_field::ValueInput>,
}

macro_rules! lead_inputs {
    ($( $(#[$doc:meta])* $field:ident : $ty:ty ),+ $(,)?) => {
        /// A new lead. `topic` and `lastName` are required (`lastName` may come from
        /// `existingContactId`); the lead starts Open / New at the Qualify stage, owned by the
        /// caller unless a manager gives `ownerId`.
        #[derive(InputObject)]
        pub struct CreateLeadInput {
            $( $(#[$doc])* pub $field: Option<$ty>, )+
            /// The user who will work the lead (Sales Managers and System Administrators only);
            /// default: the caller.
            pub owner_id: Option<ID>,
            /// Values of the lead's custom fields (required ones must be given).
            pub custom_fields: Option<Vec<CustomFieldInput>>,
        }

        /// Changes to an open lead: omitted fields stay as they are, `null` clears a field.
        #[derive(InputObject)]
        pub struct UpdateLeadInput {
            /// The lead to change.
            pub id: ID,
            $( $(#[$doc])* pub $field: MaybeUndefined<$ty>, )+
            /// Custom field values to set; a null value clears one (not a required one).
            pub custom_fields: Option<Vec<CustomFieldInput>>,
        }

        impl CreateLeadInput {
            /// The fields as changes to an empty lead.
            pub fn raw(self) -> RawLead {
                RawLead {
                    $( $field: self.$field.map(Some), )+
                    custom_fields: value_inputs(self.custom_fields),
                }
            }
        }

        impl UpdateLeadInput {
            /// The fields as changes to the stored lead.
            pub fn raw(self) -> RawLead {
                RawLead {
                    $( $field: change(self.$field), )+
                    custom_fields: value_inputs(self.custom_fields),
                }
            }
        }
    };
}

lead_inputs! {
    /// What the lead is interested in (required, ≤ 300 characters).
    topic: String,
    /// First name (≤ 50 characters).
    first_name: String,
    /// Last name (required, ≤ 50 characters).
    last_name: String,
    /// Job title (≤ 100 characters).
    job_title: String,
    /// Business phone (≤ 50 characters).
    business_phone: String,
    /// Mobile phone (≤ 20 characters).
    mobile_phone: String,
    /// E-mail address (≤ 100 characters).
    email: String,
    /// Company name (≤ 100 characters); needed to create an account on qualification.
    company_name: String,
    /// Website (≤ 200 characters).
    website: String,
    /// Postal address.
    address: AddressInput,
    /// Description (≤ 2000 characters).
    description: String,
    /// Industry (≤ 100 characters).
    industry: String,
    /// Where the lead came from.
    lead_source: LeadSource,
    /// How promising the lead is.
    rating: LeadRating,
    /// How the person prefers to be contacted.
    preferred_contact_method: PreferredContactMethod,
    /// When the customer means to buy.
    purchase_timeframe: PurchaseTimeframe,
    /// How the customer decides.
    purchase_process: PurchaseProcess,
    /// Estimated budget, 0 to 1000000000000 with at most two decimals.
    budget_amount: Decimal,
    /// Whether the decision maker is identified.
    decision_maker: bool,
    /// ISO 4217 currency of the budget, e.g. "EUR".
    currency_code: String,
    /// The account the lead comes from; on create, fills an empty company name.
    existing_account_id: ID,
    /// The contact the lead is; on create, fills empty names, job title, phones and e-mail.
    existing_contact_id: ID,
}

fn id_change(field: &str, value: Change<ID>) -> AppResult<Change<uuid::Uuid>> {
    value
        .map(|v| v.map(|id| values::parse_id(field, &id)).transpose())
        .transpose()
}

impl RawLead {
    /// Parses every field; the first invalid one is a `BAD_USER_INPUT` error naming it.
    pub fn parse(self) -> AppResult<LeadChanges> {
        Ok(LeadChanges {
            topic: parse_change(self.topic, |v| Topic::parse("topic", v))?,
            first_name: parse_change(self.first_name, |v| {
                Name::parse("firstName", v, limits::FIRST_NAME)
            })?,
            last_name: parse_change(self.last_name, |v| {
                Name::parse("lastName", v, limits::LAST_NAME)
            })?,
            job_title: text_change("jobTitle", self.job_title, plain(limits::JOB_TITLE))?,
            business_phone: parse_change(self.business_phone, |v| {
                Phone::parse("businessPhone", v, limits::BUSINESS_PHONE)
            })?,
            mobile_phone: parse_change(self.mobile_phone, |v| {
                Phone::parse("mobilePhone", v, limits::MOBILE_PHONE)
            })?,
            email: parse_change(self.email, |v| Email::parse("email", v))?,
            company_name: parse_change(self.company_name, |v| {
                Name::parse("companyName", v, limits::COMPANY_NAME)
            })?,
            website: parse_change(self.website, |v| Website::parse("website", v))?,
            address: match self.address {
                None => AddressChanges::default(),
                Some(None) => AddressChanges {
                    street1: Some(None),
                    street2: Some(None),
                    street3: Some(None),
                    city: Some(None),
                    state_or_province: Some(None),
                    postal_code: Some(None),
                    country_or_region: Some(None),
                },
                Some(Some(address)) => address.parse("address")?,
            },
            description: text_change("description", self.description, plain(limits::DESCRIPTION))?,
            industry: text_change("industry", self.industry, plain(limits::INDUSTRY))?,
            lead_source: self.lead_source.map(|v| v.map(Into::into)),
            rating: self.rating.map(|v| v.map(Into::into)),
            preferred_contact_method: self.preferred_contact_method.map(|v| v.map(Into::into)),
            purchase_timeframe: self.purchase_timeframe.map(|v| v.map(Into::into)),
            purchase_process: self.purchase_process.map(|v| v.map(Into::into)),
            budget_amount: self
                .budget_amount
                .map(|v| Money::parse("budgetAmount", v.as_ref().map(|d| d.0.as_str())))
                .transpose()?,
            decision_maker: self.decision_maker,
            currency_code: parse_change(self.currency_code, |v| {
                CurrencyCode::parse("currencyCode", v)
            })?,
            existing_account_id: id_change("existingAccountId", self.existing_account_id)?,
            existing_contact_id: id_change("existingContactId", self.existing_contact_id)?,
            custom_fields: self.custom_fields,
        })
    }
}

/// A new account, owned by the caller.
#[derive(InputObject)]
pub struct CreateAccountInput {
    /// The organization's name (required, ≤ 160 characters).
    pub name: Option<String>,
    /// Website (≤ 200 characters).
    pub website: Option<String>,
    /// Main phone (≤ 50 characters).
    pub phone: Option<String>,
    /// Main e-mail address (≤ 100 characters).
    pub email: Option<String>,
    /// Address 1.
    pub address: Option<AddressInput>,
    /// The account's primary contact.
    pub primary_contact_id: Option<ID>,
    /// Values of the account's custom fields (required ones must be given).
    pub custom_fields: Option<Vec<CustomFieldInput>>,
}

impl CreateAccountInput {
    /// Parses the input; the first invalid field is a `BAD_USER_INPUT` error naming it.
    pub fn parse(self) -> AppResult<(NewAccount, Option<uuid::Uuid>)> {
        let account = NewAccount {
            name: Name::parse_required("name", self.name, limits::ACCOUNT_NAME)?,
            website: Website::parse("website", self.website)?,
            phone: Phone::parse("phone", self.phone, limits::BUSINESS_PHONE)?,
            email: Email::parse("email", self.email)?,
            address: self.address.unwrap_or_default().parse("address")?,
            custom_fields: value_inputs(self.custom_fields),
        };
        let primary = values::parse_opt_id("primaryContactId", self.primary_contact_id.as_deref())?;
        Ok((account, primary))
    }
}

/// A new contact, owned by the caller.
#[derive(InputObject)]
pub struct CreateContactInput {
    /// First name (≤ 50 characters).
    pub first_name: Option<String>,
    /// Last name (required, ≤ 50 characters).
    pub last_name: Option<String>,
    /// Job title (≤ 100 characters).
    pub job_title: Option<String>,
    /// Business phone (≤ 50 characters).
    pub business_phone: Option<String>,
    /// Mobile phone (≤ 20 characters).
    pub mobile_phone: Option<String>,
    /// E-mail address (≤ 100 characters).
    pub email: Option<String>,
    /// Address 1.
    pub address: Option<AddressInput>,
    /// The account the person works for.
    pub parent_account_id: Option<ID>,
    /// Values of the contact's custom fields (required ones must be given).
    pub custom_fields: Option<Vec<CustomFieldInput>>,
}

impl CreateContactInput {
    /// Parses the input; the first invalid field is a `BAD_USER_INPUT` error naming it.
    pub fn parse(self) -> AppResult<NewContact> {
        Ok(NewContact {
            first_name: Name::parse("firstName", self.first_name, limits::FIRST_NAME)?,
            last_name: Name::parse_required("lastName", self.last_name, limits::LAST_NAME)?,
            job_title: values::text("jobTitle", self.job_title, limits::JOB_TITLE)?,
            business_phone: Phone::parse(
                "businessPhone",
                self.business_phone,
                limits::BUSINESS_PHONE,
            )?,
            mobile_phone: Phone::parse("mobilePhone", self.mobile_phone, limits::MOBILE_PHONE)?,
            email: Email::parse("email", self.email)?,
            address: self.address.unwrap_or_default().parse("address")?,
            parent_account_id: values::parse_opt_id(
                "parentAccountId",
                self.parent_account_id.as_deref(),
            )?,
            custom_fields: value_inputs(self.custom_fields),
        })
    }
}

/// Narrows a lead list.
#[derive(InputObject, Default)]
pub struct LeadFilter {
    /// Only leads in these states.
    pub states: Option<Vec<LeadState>>,
    /// Only leads owned by this user.
    pub owner_id: Option<ID>,
    /// Text found, ignoring case, in the topic, names, company name or e-mail.
    pub text: Option<String>,
    /// Conditions on the leads' custom field values (all must hold).
    pub custom_fields: Option<Vec<CustomFieldFilter>>,
}

/// A condition on a lead custom field's value. Numbers (INTEGER, DECIMAL) are compared as JSON
/// numbers; dates, date-times, text and choices as strings (dates and date-times in their
/// canonical form, which sorts in time order); booleans as true/false.
#[derive(InputObject, Default)]
pub struct CustomFieldFilter {
    /// The custom field's name.
    pub name: String,
    /// Only leads whose value equals this one.
    pub equals: Option<async_graphql::Json<serde_json::Value>>,
    /// Only leads whose value is at least this one.
    pub min: Option<async_graphql::Json<serde_json::Value>>,
    /// Only leads whose value is at most this one.
    pub max: Option<async_graphql::Json<serde_json::Value>>,
}

/// A filter value as the indexed columns hold it.
fn projection(
    field: &str,
    value: Option<async_graphql::Json<serde_json::Value>>,
) -> AppResult<Option<crate::service::leads::Projection>> {
    use crate::service::leads::Projection;
    use serde_json::Value;
    let Some(value) = value.map(|v| v.0) else {
        return Ok(None);
    };
    let projection = match value {
        Value::Null => return Ok(None),
        Value::Bool(b) => Projection::Text(b.to_string()),
        Value::Number(n) => Projection::Number(n.to_string().parse().map_err(|_| {
            crate::error::AppError::bad_input(field, format!("{field} is not a usable number"))
        })?),
        Value::String(s) => {
            Projection::Text(match chrono::DateTime::parse_from_rfc3339(s.trim()) {
                Ok(at) => crate::domain::custom_field::format_datetime(at.to_utc()),
                Err(_) => s,
            })
        }
        _ => {
            return Err(crate::error::AppError::bad_input(
                field,
                format!("{field} must be a string, number or boolean"),
            ));
        }
    };
    Ok(Some(projection))
}

impl LeadFilter {
    /// Parses the filter.
    pub fn parse(self) -> AppResult<crate::service::leads::LeadFilter> {
        Ok(crate::service::leads::LeadFilter {
            states: self.states.map(|s| s.into_iter().map(Into::into).collect()),
            owner_id: values::parse_opt_id("filter.ownerId", self.owner_id.as_deref())?,
            text: values::text("filter.text", self.text, 200)?,
            custom_fields: self
                .custom_fields
                .unwrap_or_default()
                .into_iter()
                .enumerate()
                .map(|(i, f)| {
                    let at = |what: &str| format!("filter.customFields.{i}.{what}");
                    Ok(crate::service::leads::CustomFilter {
                        name: f.name,
                        equals: projection(&at("equals"), f.equals)?,
                        min: projection(&at("min"), f.min)?,
                        max: projection(&at("max"), f.max)?,
                    })
                })
                .collect::<AppResult<_>>()?,
        })
    }
}

/// Sort order of a lead list.
#[derive(InputObject)]
pub struct LeadOrder {
    /// The sort key.
    pub field: LeadOrderField,
    /// The direction (default: descending).
    #[graphql(default_with = "OrderDirection::Desc")]
    pub direction: OrderDirection,
}

impl From<LeadOrder> for crate::service::leads::LeadOrder {
    fn from(order: LeadOrder) -> Self {
        use crate::service::leads::LeadOrderField as F;
        Self {
            field: match order.field {
                LeadOrderField::CreatedAt => F::CreatedAt,
                LeadOrderField::ModifiedAt => F::ModifiedAt,
                LeadOrderField::Topic => F::Topic,
                LeadOrderField::LastName => F::LastName,
            },
            descending: order.direction == OrderDirection::Desc,
        }
    }
}
