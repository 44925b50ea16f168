//! The lead → account / contact / opportunity field mappings.
//!
//! Mappings are data (`field_mappings`, see `service::field_mappings`): the standard rows are
//! seeded by the migrations from the same list as [`FIELD_MAPPINGS`] (a test checks both agree),
//! and administrators add their own, onto custom fields. This module is the typed side of the
//! standard rows: every standard field is a variant of [`LeadField`], [`AccountField`],
//! [`ContactField`] or [`OpportunityField`], with its API name, so qualification matches on
//! enums (`domain::qualification::mapping`) and the compiler checks every column it copies.
//! Strings are only parsed where a client's mapping names a field, once, when it is saved.

use entity::{LeadRating, MappingTargetType, lead};
use sea_orm::Iterable;
use serde_json::Value;

use super::custom_field::{FieldType, Shape};
use super::records::limits;
use super::values::format_cents;

/// The kind of record a lead field is mapped to.
pub type TargetRecord = MappingTargetType;

macro_rules! fields {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $api:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant,)+
        }

        impl $name {
            /// Every field.
            pub const ALL: &[Self] = &[$(Self::$variant,)+];

            /// The field's API name (as in the GraphQL types).
            pub fn api_name(self) -> &'static str {
                match self {
                    $(Self::$variant => $api,)+
                }
            }

            /// The field with this API name.
            pub fn from_api_name(name: &str) -> Option<Self> {
                match name {
                    $($api => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

fields!(
    /// A lead's standard fields that may be the source of a mapping.
    LeadField {
        Topic = "topic",
        FirstName = "firstName",
        LastName = "lastName",
        JobTitle = "jobTitle",
        BusinessPhone = "businessPhone",
        MobilePhone = "mobilePhone",
        Email = "email",
        CompanyName = "companyName",
        Website = "website",
        Street1 = "street1",
        Street2 = "street2",
        Street3 = "street3",
        City = "city",
        StateOrProvince = "stateOrProvince",
        PostalCode = "postalCode",
        CountryOrRegion = "countryOrRegion",
        Description = "description",
        Industry = "industry",
        LeadSource = "leadSource",
        Rating = "rating",
        PurchaseTimeframe = "purchaseTimeframe",
        PurchaseProcess = "purchaseProcess",
        BudgetAmount = "budgetAmount",
        DecisionMaker = "decisionMaker",
        CurrencyCode = "currencyCode",
    }
);

fields!(
    /// An account's standard fields that mappings may fill.
    AccountField {
        Name = "name",
        Website = "website",
        Phone = "phone",
        Email = "email",
        Street1 = "street1",
        Street2 = "street2",
        Street3 = "street3",
        City = "city",
        StateOrProvince = "stateOrProvince",
        PostalCode = "postalCode",
        CountryOrRegion = "countryOrRegion",
    }
);

fields!(
    /// A contact's standard fields that mappings may fill.
    ContactField {
        FirstName = "firstName",
        LastName = "lastName",
        JobTitle = "jobTitle",
        BusinessPhone = "businessPhone",
        MobilePhone = "mobilePhone",
        Email = "email",
        Street1 = "street1",
        Street2 = "street2",
        Street3 = "street3",
        City = "city",
        StateOrProvince = "stateOrProvince",
        PostalCode = "postalCode",
        CountryOrRegion = "countryOrRegion",
    }
);

fields!(
    /// An opportunity's standard fields that mappings may fill.
    OpportunityField {
        Topic = "topic",
        Contact = "contact",
        Account = "account",
        BudgetAmount = "budgetAmount",
        PurchaseTimeframe = "purchaseTimeframe",
        PurchaseProcess = "purchaseProcess",
        DecisionMaker = "decisionMaker",
        Description = "description",
    }
);

fn options<E: Iterable + Copy>(name: impl Fn(E) -> &'static str) -> Shape {
    Shape {
        field_type: FieldType::Choice,
        max_length: None,
        options: E::iter().map(|e| name(e).to_owned()).collect(),
    }
}

impl LeadField {
    /// The field's type, for the compatibility check of a mapping from it.
    pub fn shape(self) -> Shape {
        use LeadField::*;
        match self {
            Topic => Shape::text(limits::TOPIC),
            FirstName => Shape::text(limits::FIRST_NAME),
            LastName => Shape::text(limits::LAST_NAME),
            JobTitle => Shape::text(limits::JOB_TITLE),
            BusinessPhone => Shape::text(limits::BUSINESS_PHONE),
            MobilePhone => Shape::text(limits::MOBILE_PHONE),
            Email => Shape::text(limits::EMAIL),
            CompanyName => Shape::text(limits::COMPANY_NAME),
            Website => Shape::text(limits::WEBSITE),
            Street1 | Street2 | Street3 => Shape::text(limits::STREET),
            City => Shape::text(limits::CITY),
            StateOrProvince => Shape::text(limits::STATE_OR_PROVINCE),
            PostalCode => Shape::text(limits::POSTAL_CODE),
            CountryOrRegion => Shape::text(limits::COUNTRY_OR_REGION),
            Description => Shape::text(limits::DESCRIPTION),
            Industry => Shape::text(limits::INDUSTRY),
            CurrencyCode => Shape::text(3),
            LeadSource => options(entity::LeadSource::as_str),
            Rating => options(LeadRating::as_str),
            PurchaseTimeframe => options(entity::PurchaseTimeframe::as_str),
            PurchaseProcess => options(entity::PurchaseProcess::as_str),
            BudgetAmount => Shape::of(FieldType::Decimal),
            DecisionMaker => Shape::of(FieldType::Boolean),
        }
    }

    /// The lead's text in this field (text fields; `None` for the others and when empty).
    pub fn text(self, lead: &lead::Model) -> Option<String> {
        use LeadField::*;
        let text = match self {
            Topic => Some(&lead.topic),
            FirstName => lead.first_name.as_ref(),
            LastName => Some(&lead.last_name),
            JobTitle => lead.job_title.as_ref(),
            BusinessPhone => lead.business_phone.as_ref(),
            MobilePhone => lead.mobile_phone.as_ref(),
            Email => lead.email.as_ref(),
            CompanyName => lead.company_name.as_ref(),
            Website => lead.website.as_ref(),
            Street1 => lead.street1.as_ref(),
            Street2 => lead.street2.as_ref(),
            Street3 => lead.street3.as_ref(),
            City => lead.city.as_ref(),
            StateOrProvince => lead.state_or_province.as_ref(),
            PostalCode => lead.postal_code.as_ref(),
            CountryOrRegion => lead.country_or_region.as_ref(),
            Description => lead.description.as_ref(),
            Industry => lead.industry.as_ref(),
            CurrencyCode => lead.currency_code.as_ref(),
            LeadSource | Rating | PurchaseTimeframe | PurchaseProcess | BudgetAmount
            | DecisionMaker => None,
        };
        text.filter(|t| !t.is_empty()).cloned()
    }

    /// The lead's value in this field in the canonical JSON of [`Self::shape`] (for mappings
    /// onto custom fields); `None` when empty.
    pub fn json(self, lead: &lead::Model) -> Option<Value> {
        use LeadField::*;
        match self {
            LeadSource => lead.lead_source.map(|v| Value::from(v.as_str())),
            Rating => lead.rating.map(|v| Value::from(v.as_str())),
            PurchaseTimeframe => lead.purchase_timeframe.map(|v| Value::from(v.as_str())),
            PurchaseProcess => lead.purchase_process.map(|v| Value::from(v.as_str())),
            BudgetAmount => lead
                .budget_amount_cents
                .map(|c| Value::from(format_cents(c))),
            DecisionMaker => lead.decision_maker.map(Value::Bool),
            _ => self.text(lead).map(Value::String),
        }
    }
}

/// A standard field of a target record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TargetField {
    Account(AccountField),
    Contact(ContactField),
    Opportunity(OpportunityField),
}

impl TargetField {
    /// The record type the field belongs to.
    pub fn record(self) -> TargetRecord {
        match self {
            Self::Account(_) => TargetRecord::Account,
            Self::Contact(_) => TargetRecord::Contact,
            Self::Opportunity(_) => TargetRecord::Opportunity,
        }
    }

    /// The field's API name.
    pub fn api_name(self) -> &'static str {
        match self {
            Self::Account(f) => f.api_name(),
            Self::Contact(f) => f.api_name(),
            Self::Opportunity(f) => f.api_name(),
        }
    }

    /// The field's type, for the compatibility check of an added mapping onto it; `None` for
    /// the opportunity's `account` and `contact`, which only the resulting records fill.
    pub fn shape(self) -> Option<Shape> {
        use limits::*;
        let text = |max| Some(Shape::text(max));
        match self {
            Self::Account(f) => match f {
                AccountField::Name => text(ACCOUNT_NAME),
                AccountField::Website => text(WEBSITE),
                AccountField::Phone => text(BUSINESS_PHONE),
                AccountField::Email => text(EMAIL),
                AccountField::Street1 | AccountField::Street2 | AccountField::Street3 => {
                    text(STREET)
                }
                AccountField::City => text(CITY),
                AccountField::StateOrProvince => text(STATE_OR_PROVINCE),
                AccountField::PostalCode => text(POSTAL_CODE),
                AccountField::CountryOrRegion => text(COUNTRY_OR_REGION),
            },
            Self::Contact(f) => match f {
                ContactField::FirstName => text(FIRST_NAME),
                ContactField::LastName => text(LAST_NAME),
                ContactField::JobTitle => text(JOB_TITLE),
                ContactField::BusinessPhone => text(BUSINESS_PHONE),
                ContactField::MobilePhone => text(MOBILE_PHONE),
                ContactField::Email => text(EMAIL),
                ContactField::Street1 | ContactField::Street2 | ContactField::Street3 => {
                    text(STREET)
                }
                ContactField::City => text(CITY),
                ContactField::StateOrProvince => text(STATE_OR_PROVINCE),
                ContactField::PostalCode => text(POSTAL_CODE),
                ContactField::CountryOrRegion => text(COUNTRY_OR_REGION),
            },
            Self::Opportunity(f) => match f {
                OpportunityField::Topic => text(TOPIC),
                OpportunityField::Description => text(DESCRIPTION),
                OpportunityField::BudgetAmount => Some(Shape::of(FieldType::Decimal)),
                OpportunityField::PurchaseTimeframe => {
                    Some(options(entity::PurchaseTimeframe::as_str))
                }
                OpportunityField::PurchaseProcess => Some(options(entity::PurchaseProcess::as_str)),
                OpportunityField::DecisionMaker => Some(Shape::of(FieldType::Boolean)),
                OpportunityField::Account | OpportunityField::Contact => None,
            },
        }
    }

    /// An e-mail address field: only the lead's `email` (validated as an address) may fill it.
    pub fn is_email(self) -> bool {
        matches!(
            self,
            Self::Account(AccountField::Email) | Self::Contact(ContactField::Email)
        )
    }

    /// The standard field of `record` with this API name.
    pub fn from_api_name(record: TargetRecord, name: &str) -> Option<Self> {
        match record {
            TargetRecord::Account => AccountField::from_api_name(name).map(Self::Account),
            TargetRecord::Contact => ContactField::from_api_name(name).map(Self::Contact),
            TargetRecord::Opportunity => {
                OpportunityField::from_api_name(name).map(Self::Opportunity)
            }
        }
    }
}

/// Where a mapped value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A field of the lead.
    Lead(LeadField),
    /// The account that results from the qualification (created or existing).
    ResultingAccount,
    /// The contact that results from the qualification (created or existing).
    ResultingContact,
}

impl Source {
    /// The source's API name (`qualifiedAccount` / `qualifiedContact` for the resulting
    /// records, as the lead's fields that point at them are named).
    pub fn api_name(self) -> &'static str {
        match self {
            Self::Lead(f) => f.api_name(),
            Self::ResultingAccount => "qualifiedAccount",
            Self::ResultingContact => "qualifiedContact",
        }
    }
}

/// One standard mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldMapping {
    pub source: Source,
    pub target: TargetField,
    /// The field's name on the lead form.
    pub source_label: &'static str,
    /// The field's name on the target form.
    pub target_label: &'static str,
    /// In the product's documented table (the rest are leadq's additions, carried over too).
    pub documented: bool,
}

const fn row(
    source: Source,
    target: TargetField,
    source_label: &'static str,
    target_label: &'static str,
    documented: bool,
) -> FieldMapping {
    FieldMapping {
        source,
        target,
        source_label,
        target_label,
        documented,
    }
}

use AccountField as A;
use ContactField as C;
use LeadField as L;
use OpportunityField as O;
use Source::Lead as Lf;
use TargetField::{Account as ToAccount, Contact as ToContact, Opportunity as ToOpportunity};

/// The standard mappings, in the order the migrations seed them.
pub const FIELD_MAPPINGS: &[FieldMapping] = &[
    // Lead → opportunity.
    row(
        Lf(L::Topic),
        ToOpportunity(O::Topic),
        "Topic",
        "Topic",
        true,
    ),
    row(
        Source::ResultingContact,
        ToOpportunity(O::Contact),
        "Contact",
        "Contact",
        true,
    ),
    row(
        Source::ResultingAccount,
        ToOpportunity(O::Account),
        "Account",
        "Account",
        true,
    ),
    row(
        Lf(L::BudgetAmount),
        ToOpportunity(O::BudgetAmount),
        "Budget Amount",
        "Budget Amount",
        false,
    ),
    row(
        Lf(L::PurchaseTimeframe),
        ToOpportunity(O::PurchaseTimeframe),
        "Purchase Timeframe",
        "Purchase Timeframe",
        false,
    ),
    row(
        Lf(L::PurchaseProcess),
        ToOpportunity(O::PurchaseProcess),
        "Purchase Process",
        "Purchase Process",
        false,
    ),
    row(
        Lf(L::DecisionMaker),
        ToOpportunity(O::DecisionMaker),
        "Decision Maker?",
        "Decision Maker?",
        false,
    ),
    row(
        Lf(L::Description),
        ToOpportunity(O::Description),
        "Description",
        "Description",
        false,
    ),
    // Lead → account.
    row(
        Lf(L::CompanyName),
        ToAccount(A::Name),
        "Company",
        "Account Name",
        true,
    ),
    row(
        Lf(L::Website),
        ToAccount(A::Website),
        "Website",
        "Website",
        true,
    ),
    row(
        Lf(L::BusinessPhone),
        ToAccount(A::Phone),
        "Business Phone",
        "Phone",
        true,
    ),
    row(
        Lf(L::Street1),
        ToAccount(A::Street1),
        "Street 1",
        "Address 1: Street 1",
        true,
    ),
    row(
        Lf(L::Street2),
        ToAccount(A::Street2),
        "Street 2",
        "Address 1: Street 2",
        true,
    ),
    row(
        Lf(L::Street3),
        ToAccount(A::Street3),
        "Street 3",
        "Address 1: Street 3",
        true,
    ),
    row(
        Lf(L::City),
        ToAccount(A::City),
        "City",
        "Address 1: City",
        true,
    ),
    row(
        Lf(L::StateOrProvince),
        ToAccount(A::StateOrProvince),
        "State/Province",
        "Address 1: State/Province",
        true,
    ),
    row(
        Lf(L::PostalCode),
        ToAccount(A::PostalCode),
        "ZIP/Postal Code",
        "Address 1: ZIP/Postal Code",
        true,
    ),
    row(
        Lf(L::CountryOrRegion),
        ToAccount(A::CountryOrRegion),
        "Country/Region",
        "Address 1: Country/Region",
        true,
    ),
    // Lead → contact.
    row(
        Lf(L::FirstName),
        ToContact(C::FirstName),
        "First Name",
        "First Name",
        true,
    ),
    row(
        Lf(L::LastName),
        ToContact(C::LastName),
        "Last Name",
        "Last Name",
        true,
    ),
    row(
        Lf(L::JobTitle),
        ToContact(C::JobTitle),
        "Job Title",
        "Job Title",
        true,
    ),
    row(
        Lf(L::BusinessPhone),
        ToContact(C::BusinessPhone),
        "Business Phone",
        "Phone",
        true,
    ),
    row(
        Lf(L::MobilePhone),
        ToContact(C::MobilePhone),
        "Mobile Phone",
        "Mobile Phone",
        true,
    ),
    row(Lf(L::Email), ToContact(C::Email), "Email", "Email", true),
    row(
        Lf(L::Street1),
        ToContact(C::Street1),
        "Street 1",
        "Address 1: Street 1",
        true,
    ),
    row(
        Lf(L::Street2),
        ToContact(C::Street2),
        "Street 2",
        "Address 1: Street 2",
        true,
    ),
    row(
        Lf(L::Street3),
        ToContact(C::Street3),
        "Street 3",
        "Address 1: Street 3",
        true,
    ),
    row(
        Lf(L::City),
        ToContact(C::City),
        "City",
        "Address 1: City",
        true,
    ),
    row(
        Lf(L::StateOrProvince),
        ToContact(C::StateOrProvince),
        "State/Province",
        "Address 1: State/Province",
        true,
    ),
    row(
        Lf(L::PostalCode),
        ToContact(C::PostalCode),
        "ZIP/Postal Code",
        "Address 1: ZIP/Postal Code",
        true,
    ),
    row(
        Lf(L::CountryOrRegion),
        ToContact(C::CountryOrRegion),
        "Country/Region",
        "Address 1: Country/Region",
        true,
    ),
];

/// The standard mapping that fills `target` (each standard target field has exactly one).
pub fn standard_for(target: TargetField) -> Option<&'static FieldMapping> {
    FIELD_MAPPINGS.iter().find(|m| m.target == target)
}

/// The standard rows for one target record.
pub fn mappings_for(target: TargetRecord) -> impl Iterator<Item = &'static FieldMapping> {
    FIELD_MAPPINGS
        .iter()
        .filter(move |m| m.target.record() == target)
}

#[cfg(test)]
mod tests {
    use migration::m20261130_000010_custom_fields::STANDARD_MAPPINGS;

    use super::*;

    #[test]
    fn the_migration_seeds_exactly_this_table() {
        let ours: Vec<(&str, &str, &str)> = FIELD_MAPPINGS
            .iter()
            .map(|m| {
                (
                    m.target.record().as_str(),
                    m.source.api_name(),
                    m.target.api_name(),
                )
            })
            .collect();
        assert_eq!(ours, STANDARD_MAPPINGS.to_vec());
    }

    #[test]
    fn the_documented_tables_are_complete() {
        let count = |t| mappings_for(t).filter(|m| m.documented).count();
        assert_eq!(count(TargetRecord::Opportunity), 3);
        assert_eq!(count(TargetRecord::Account), 10);
        assert_eq!(count(TargetRecord::Contact), 13);
    }

    #[test]
    fn a_target_field_is_mapped_at_most_once() {
        let mut seen = std::collections::HashSet::new();
        for m in FIELD_MAPPINGS {
            assert!(seen.insert(m.target), "{m:?} twice");
        }
    }

    #[test]
    fn api_names_round_trip() {
        for f in LeadField::ALL {
            assert_eq!(LeadField::from_api_name(f.api_name()), Some(*f));
        }
        for record in [
            TargetRecord::Account,
            TargetRecord::Contact,
            TargetRecord::Opportunity,
        ] {
            for m in mappings_for(record) {
                assert_eq!(
                    TargetField::from_api_name(record, m.target.api_name()),
                    Some(m.target)
                );
            }
        }
    }

    #[test]
    fn lead_fields_read_their_own_column() {
        let lead = lead::Model {
            id: uuid::Uuid::nil(),
            topic: "T".into(),
            first_name: Some("F".into()),
            last_name: "L".into(),
            job_title: None,
            business_phone: None,
            mobile_phone: None,
            email: Some("e@x.org".into()),
            company_name: Some("C".into()),
            website: None,
            street1: None,
            street2: None,
            street3: None,
            city: Some("Paris".into()),
            state_or_province: None,
            postal_code: None,
            country_or_region: None,
            description: None,
            industry: None,
            lead_source: Some(entity::LeadSource::Web),
            rating: None,
            preferred_contact_method: None,
            purchase_timeframe: None,
            purchase_process: None,
            budget_amount_cents: Some(12_550),
            decision_maker: Some(true),
            currency_code: None,
            existing_account_id: None,
            existing_contact_id: None,
            owner_id: uuid::Uuid::nil(),
            state: entity::LeadState::Open,
            status_reason: entity::LeadStatusReason::New,
            process_stage: entity::ProcessStage::Qualify,
            qualified_account_id: None,
            qualified_contact_id: None,
            qualifying_opportunity_id: None,
            created_at: chrono::Utc::now(),
            modified_at: chrono::Utc::now(),
            qualified_at: None,
        };
        assert_eq!(L::City.text(&lead).as_deref(), Some("Paris"));
        assert_eq!(L::Email.json(&lead), Some(Value::from("e@x.org")));
        assert_eq!(L::BudgetAmount.json(&lead), Some(Value::from("125.50")));
        assert_eq!(L::LeadSource.json(&lead), Some(Value::from("WEB")));
        assert_eq!(L::DecisionMaker.json(&lead), Some(Value::Bool(true)));
        assert_eq!(L::Street1.json(&lead), None);
        for f in LeadField::ALL {
            assert!(
                crate::domain::custom_field::check_shape(&f.shape()).is_ok(),
                "{f:?}"
            );
        }
    }
}
