//! The lead → account / contact / opportunity field mappings, as one table.
//!
//! Qualification copies each row's lead column into the new record's column (see
//! `service::qualification`); `fieldMappings` lists the same rows. To carry another field over,
//! add a row here: nothing else in the code names mapped fields. Column names are the entities'
//! (snake case); a unit test checks that every one exists and that the types agree.

/// The kind of record a lead field is mapped to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TargetRecord {
    Account,
    Contact,
    Opportunity,
}

/// Where a mapped value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A column of the lead.
    LeadColumn(&'static str),
    /// The account that results from the qualification (created or existing).
    ResultingAccount,
    /// The contact that results from the qualification (created or existing).
    ResultingContact,
}

/// One row of the mapping table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldMapping {
    pub target: TargetRecord,
    /// The field's name on the lead form.
    pub source_label: &'static str,
    /// The field's name on the target form.
    pub target_label: &'static str,
    pub source: Source,
    /// The target entity's column.
    pub target_column: &'static str,
    /// In the product's documented table (the rest are leadq's additions, carried over too).
    pub documented: bool,
}

const fn lead(
    target: TargetRecord,
    source_label: &'static str,
    source_column: &'static str,
    target_label: &'static str,
    target_column: &'static str,
    documented: bool,
) -> FieldMapping {
    FieldMapping {
        target,
        source_label,
        target_label,
        source: Source::LeadColumn(source_column),
        target_column,
        documented,
    }
}

use TargetRecord::{Account, Contact, Opportunity};

/// Every mapping applied when a lead is qualified.
pub const FIELD_MAPPINGS: &[FieldMapping] = &[
    // Lead → opportunity.
    lead(Opportunity, "Topic", "topic", "Topic", "topic", true),
    FieldMapping {
        target: Opportunity,
        source_label: "Contact",
        target_label: "Contact",
        source: Source::ResultingContact,
        target_column: "contact_id",
        documented: true,
    },
    FieldMapping {
        target: Opportunity,
        source_label: "Account",
        target_label: "Account",
        source: Source::ResultingAccount,
        target_column: "account_id",
        documented: true,
    },
    lead(
        Opportunity,
        "Budget Amount",
        "budget_amount_cents",
        "Budget Amount",
        "budget_amount_cents",
        false,
    ),
    lead(
        Opportunity,
        "Purchase Timeframe",
        "purchase_timeframe",
        "Purchase Timeframe",
        "purchase_timeframe",
        false,
    ),
    lead(
        Opportunity,
        "Purchase Process",
        "purchase_process",
        "Purchase Process",
        "purchase_process",
        false,
    ),
    lead(
        Opportunity,
        "Decision Maker?",
        "decision_maker",
        "Decision Maker?",
        "decision_maker",
        false,
    ),
    lead(
        Opportunity,
        "Description",
        "description",
        "Description",
        "description",
        false,
    ),
    // Lead → account.
    lead(
        Account,
        "Company",
        "company_name",
        "Account Name",
        "name",
        true,
    ),
    lead(Account, "Website", "website", "Website", "website", true),
    lead(
        Account,
        "Business Phone",
        "business_phone",
        "Phone",
        "phone",
        true,
    ),
    lead(
        Account,
        "Street 1",
        "street1",
        "Address 1: Street 1",
        "street1",
        true,
    ),
    lead(
        Account,
        "Street 2",
        "street2",
        "Address 1: Street 2",
        "street2",
        true,
    ),
    lead(
        Account,
        "Street 3",
        "street3",
        "Address 1: Street 3",
        "street3",
        true,
    ),
    lead(Account, "City", "city", "Address 1: City", "city", true),
    lead(
        Account,
        "State/Province",
        "state_or_province",
        "Address 1: State/Province",
        "state_or_province",
        true,
    ),
    lead(
        Account,
        "ZIP/Postal Code",
        "postal_code",
        "Address 1: ZIP/Postal Code",
        "postal_code",
        true,
    ),
    lead(
        Account,
        "Country/Region",
        "country_or_region",
        "Address 1: Country/Region",
        "country_or_region",
        true,
    ),
    // Lead → contact.
    lead(
        Contact,
        "First Name",
        "first_name",
        "First Name",
        "first_name",
        true,
    ),
    lead(
        Contact,
        "Last Name",
        "last_name",
        "Last Name",
        "last_name",
        true,
    ),
    lead(
        Contact,
        "Job Title",
        "job_title",
        "Job Title",
        "job_title",
        true,
    ),
    lead(
        Contact,
        "Business Phone",
        "business_phone",
        "Phone",
        "business_phone",
        true,
    ),
    lead(
        Contact,
        "Mobile Phone",
        "mobile_phone",
        "Mobile Phone",
        "mobile_phone",
        true,
    ),
    lead(Contact, "Email", "email", "Email", "email", true),
    lead(
        Contact,
        "Street 1",
        "street1",
        "Address 1: Street 1",
        "street1",
        true,
    ),
    lead(
        Contact,
        "Street 2",
        "street2",
        "Address 1: Street 2",
        "street2",
        true,
    ),
    lead(
        Contact,
        "Street 3",
        "street3",
        "Address 1: Street 3",
        "street3",
        true,
    ),
    lead(Contact, "City", "city", "Address 1: City", "city", true),
    lead(
        Contact,
        "State/Province",
        "state_or_province",
        "Address 1: State/Province",
        "state_or_province",
        true,
    ),
    lead(
        Contact,
        "ZIP/Postal Code",
        "postal_code",
        "Address 1: ZIP/Postal Code",
        "postal_code",
        true,
    ),
    lead(
        Contact,
        "Country/Region",
        "country_or_region",
        "Address 1: Country/Region",
        "country_or_region",
        true,
    ),
];

/// The rows for one target record.
pub fn mappings_for(target: TargetRecord) -> impl Iterator<Item = &'static FieldMapping> {
    FIELD_MAPPINGS.iter().filter(move |m| m.target == target)
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use sea_orm::{ColumnTrait, ColumnType};

    use super::*;

    fn lead_type(column: &str) -> ColumnType {
        entity::lead::Column::from_str(column)
            .unwrap_or_else(|_| panic!("lead has no column {column}"))
            .def()
            .get_column_type()
            .clone()
    }

    fn target_type(target: TargetRecord, column: &str) -> ColumnType {
        let parsed = match target {
            Account => entity::account::Column::from_str(column).map(|c| c.def()),
            Contact => entity::contact::Column::from_str(column).map(|c| c.def()),
            Opportunity => entity::opportunity::Column::from_str(column).map(|c| c.def()),
        };
        parsed
            .unwrap_or_else(|_| panic!("{target:?} has no column {column}"))
            .get_column_type()
            .clone()
    }

    #[test]
    fn every_mapped_column_exists_with_the_same_type_on_both_sides() {
        for mapping in FIELD_MAPPINGS {
            let target = target_type(mapping.target, mapping.target_column);
            if let Source::LeadColumn(column) = mapping.source {
                assert_eq!(lead_type(column), target, "{mapping:?}");
            }
        }
    }

    #[test]
    fn the_documented_tables_are_complete() {
        let count = |t| mappings_for(t).filter(|m| m.documented).count();
        assert_eq!(count(Opportunity), 3);
        assert_eq!(count(Account), 10);
        assert_eq!(count(Contact), 13);
    }

    #[test]
    fn a_target_column_is_mapped_at_most_once() {
        let mut seen = std::collections::HashSet::new();
        for m in FIELD_MAPPINGS {
            assert!(seen.insert((m.target, m.target_column)), "{m:?} twice");
        }
    }
}
