//! Duplicate detection rules as clients read and write them.

use async_graphql::{Enum, ID, InputObject, SimpleObject};
use entity::{duplicate_rule, duplicate_rule_condition};

use crate::domain::values;
use crate::error::AppResult;
use crate::service::duplicate_rules::{NewCondition, NewRule, RuleWithConditions};

/// Record types duplicate rules compare.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::DuplicateRecordType")]
pub enum DuplicateRecordType {
    /// Accounts (fields: name, email, phone, website, and the address fields street1, city,
    /// stateOrProvince, postalCode, countryOrRegion).
    Account,
    /// Contacts (fields: firstName, lastName, email, businessPhone, mobilePhone, and the
    /// address fields).
    Contact,
    /// Leads (fields: firstName, lastName, email, companyName, businessPhone, mobilePhone,
    /// website, and the address fields).
    Lead,
}

/// How a condition compares two values, after normalization: text case-folded without
/// diacritics, first names through a nickname table, company names without legal forms,
/// phones in E.164, websites by registrable domain, street abbreviations spelled out.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::MatchOperator")]
pub enum MatchOperator {
    /// The whole values are equal.
    Exact,
    /// The first `characterCount` characters are equal.
    SameFirstCharacters,
    /// The last `characterCount` characters are equal.
    SameLastCharacters,
    /// The values are similar: the Jaro-Winkler similarity of the normalized values is at
    /// least the condition's `similarity` (default 0.85). Names, company names, streets and
    /// cities only; candidates are found through blocking keys, so it stays an index lookup.
    Fuzzy,
}

/// One condition of a rule; all conditions of a rule must hold.
#[derive(SimpleObject)]
pub struct DuplicateRuleCondition {
    /// The field of the record being checked.
    pub base_field: String,
    /// The field of the existing record it is compared with.
    pub matching_field: String,
    /// How the values are compared.
    pub operator: MatchOperator,
    /// N for the first/last N characters operators.
    pub character_count: Option<i32>,
    /// Blank values never match (always true for a single-condition rule).
    pub ignore_blank_values: bool,
    /// For FUZZY: the least similarity (0 to 1) that counts as a match.
    pub similarity: Option<f64>,
}

/// A duplicate detection rule: any published rule that matches makes a match.
#[derive(SimpleObject)]
pub struct DuplicateRule {
    /// The rule's id.
    pub id: ID,
    /// The rule's name, shown in duplicate reports.
    pub name: String,
    /// What the rule is for.
    pub description: Option<String>,
    /// The kind of record being checked.
    pub base_record_type: DuplicateRecordType,
    /// The kind of existing record it is compared with.
    pub matching_record_type: DuplicateRecordType,
    /// Compare text with its case (off: "Contoso" matches "contoso").
    pub case_sensitive: bool,
    /// Inactive accounts and contacts (and closed leads) never match.
    pub exclude_inactive: bool,
    /// Only published rules are applied (at most 5 per base record type).
    pub published: bool,
    /// The conditions, all of which must hold.
    pub conditions: Vec<DuplicateRuleCondition>,
}

impl From<RuleWithConditions> for DuplicateRule {
    fn from((rule, conditions): RuleWithConditions) -> Self {
        let duplicate_rule::Model {
            id,
            name,
            description,
            base_record_type,
            matching_record_type,
            case_sensitive,
            exclude_inactive,
            published,
            ..
        } = rule;
        Self {
            id: ID(id.to_string()),
            name,
            description,
            base_record_type: base_record_type.into(),
            matching_record_type: matching_record_type.into(),
            case_sensitive,
            exclude_inactive,
            published,
            conditions: conditions
                .into_iter()
                .map(
                    |c: duplicate_rule_condition::Model| DuplicateRuleCondition {
                        base_field: c.base_field,
                        matching_field: c.matching_field,
                        operator: c.operator.into(),
                        character_count: c.character_count,
                        ignore_blank_values: c.ignore_blank,
                        similarity: c.similarity,
                    },
                )
                .collect(),
        }
    }
}

/// A condition to define.
#[derive(InputObject)]
pub struct DuplicateRuleConditionInput {
    /// A field of the base record type.
    pub base_field: String,
    /// A field of the matching record type holding the same kind of value.
    pub matching_field: String,
    /// How to compare (default EXACT).
    #[graphql(default_with = "MatchOperator::Exact")]
    pub operator: MatchOperator,
    /// N (1 to 100) for SAME_FIRST_CHARACTERS / SAME_LAST_CHARACTERS.
    pub character_count: Option<i32>,
    /// Blank values never match (default true; always true for a single-condition rule).
    #[graphql(default = true)]
    pub ignore_blank_values: bool,
    /// For FUZZY: the least similarity (0 to 1, default 0.85) that counts as a match.
    pub similarity: Option<f64>,
}

/// A rule's definition.
#[derive(InputObject)]
pub struct DuplicateRuleInput {
    /// The rule's name (required, ≤ 100 characters).
    pub name: String,
    /// What the rule is for (≤ 500 characters).
    pub description: Option<String>,
    /// The kind of record being checked.
    pub base_record_type: DuplicateRecordType,
    /// The kind of existing record it is compared with.
    pub matching_record_type: DuplicateRecordType,
    /// Compare text with its case (default false).
    #[graphql(default = false)]
    pub case_sensitive: bool,
    /// Ignore inactive matching records (default true).
    #[graphql(default = true)]
    pub exclude_inactive: bool,
    /// The conditions (1 to 10), all of which must hold.
    pub conditions: Vec<DuplicateRuleConditionInput>,
}

impl DuplicateRuleInput {
    /// Parses the definition.
    pub fn parse(self) -> AppResult<NewRule> {
        Ok(NewRule {
            name: values::required_text("name", Some(self.name), 100)?,
            description: values::text("description", self.description, 500)?,
            base_record_type: self.base_record_type.into(),
            matching_record_type: self.matching_record_type.into(),
            case_sensitive: self.case_sensitive,
            exclude_inactive: self.exclude_inactive,
            conditions: self
                .conditions
                .into_iter()
                .map(|c| NewCondition {
                    base_field: c.base_field.trim().to_owned(),
                    matching_field: c.matching_field.trim().to_owned(),
                    operator: c.operator.into(),
                    character_count: c.character_count,
                    ignore_blank: c.ignore_blank_values,
                    similarity: c.similarity,
                })
                .collect(),
        })
    }
}
