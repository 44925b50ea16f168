//! Custom fields and administrator-defined field mappings (issue 16).
//!
//! - `custom_field_definitions`: the fields an administrator adds to leads, accounts, contacts
//!   and opportunities; `name` is unique per record type; archived definitions keep their values.
//! - `custom_field_values`: one row per record and field (a side table rather than a JSON column
//!   per record, so that `leads` can filter on a value through an index on both engines). `value`
//!   is the canonical JSON text (read back whole, never queried inside, so TEXT on both engines); `text_value` (text, choices, booleans, dates and date-times in a
//!   sortable form) and `number_value` (integers and decimals) are its indexed projections.
//! - `field_mappings`: the lead → account / contact / opportunity mappings as data. The standard
//!   rows are seeded here from [`STANDARD_MAPPINGS`] (the table `leadq::domain::field_mapping`
//!   applies; a unit test there checks both agree); administrators add their own.
//! - `config_versions.custom_fields`: counts changes of definitions and mappings, so that every
//!   server process caches them and still sees another's change at once.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::sql::execute;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000010_custom_fields"
    }
}

/// The standard mappings: (target record, lead field, target field), by API name.
pub const STANDARD_MAPPINGS: &[(&str, &str, &str)] = &[
    ("OPPORTUNITY", "topic", "topic"),
    ("OPPORTUNITY", "qualifiedContact", "contact"),
    ("OPPORTUNITY", "qualifiedAccount", "account"),
    ("OPPORTUNITY", "budgetAmount", "budgetAmount"),
    ("OPPORTUNITY", "purchaseTimeframe", "purchaseTimeframe"),
    ("OPPORTUNITY", "purchaseProcess", "purchaseProcess"),
    ("OPPORTUNITY", "decisionMaker", "decisionMaker"),
    ("OPPORTUNITY", "description", "description"),
    ("ACCOUNT", "companyName", "name"),
    ("ACCOUNT", "website", "website"),
    ("ACCOUNT", "businessPhone", "phone"),
    ("ACCOUNT", "street1", "street1"),
    ("ACCOUNT", "street2", "street2"),
    ("ACCOUNT", "street3", "street3"),
    ("ACCOUNT", "city", "city"),
    ("ACCOUNT", "stateOrProvince", "stateOrProvince"),
    ("ACCOUNT", "postalCode", "postalCode"),
    ("ACCOUNT", "countryOrRegion", "countryOrRegion"),
    ("CONTACT", "firstName", "firstName"),
    ("CONTACT", "lastName", "lastName"),
    ("CONTACT", "jobTitle", "jobTitle"),
    ("CONTACT", "businessPhone", "businessPhone"),
    ("CONTACT", "mobilePhone", "mobilePhone"),
    ("CONTACT", "email", "email"),
    ("CONTACT", "street1", "street1"),
    ("CONTACT", "street2", "street2"),
    ("CONTACT", "street3", "street3"),
    ("CONTACT", "city", "city"),
    ("CONTACT", "stateOrProvince", "stateOrProvince"),
    ("CONTACT", "postalCode", "postalCode"),
    ("CONTACT", "countryOrRegion", "countryOrRegion"),
];

/// The id of the `i`th standard mapping (stable, so tests and clients may name them).
pub fn standard_mapping_id(i: usize) -> String {
    format!("019ad000-0000-7000-8002-{:012}", i + 1)
}

fn uuid_literal(backend: DbBackend, uuid: &str) -> String {
    match backend {
        DbBackend::Postgres => format!("'{uuid}'::uuid"),
        _ => format!("X'{}'", uuid.replace('-', "")),
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        execute(
            manager,
            "CREATE TABLE custom_field_definitions (
                    id UUID PRIMARY KEY,
                    record_type TEXT NOT NULL,
                    name TEXT NOT NULL,
                    label TEXT NOT NULL,
                    field_type TEXT NOT NULL,
                    required BOOLEAN NOT NULL,
                    max_length INTEGER,
                    options TEXT NOT NULL,
                    description TEXT,
                    archived BOOLEAN NOT NULL,
                    created_at TIMESTAMPTZ NOT NULL,
                    modified_at TIMESTAMPTZ NOT NULL,
                    UNIQUE (record_type, name)
                );
                CREATE TABLE custom_field_values (
                    record_id UUID NOT NULL,
                    field_id UUID NOT NULL REFERENCES custom_field_definitions (id),
                    record_type TEXT NOT NULL,
                    value TEXT NOT NULL,
                    text_value TEXT,
                    number_value DOUBLE PRECISION,
                    PRIMARY KEY (record_id, field_id)
                );
                CREATE INDEX ix_custom_field_values_text
                    ON custom_field_values (field_id, text_value, record_id);
                CREATE INDEX ix_custom_field_values_number
                    ON custom_field_values (field_id, number_value, record_id);
                CREATE TABLE field_mappings (
                    id UUID PRIMARY KEY,
                    target TEXT NOT NULL,
                    source_field TEXT NOT NULL,
                    target_field TEXT NOT NULL,
                    standard BOOLEAN NOT NULL,
                    enabled BOOLEAN NOT NULL,
                    created_at TIMESTAMPTZ NOT NULL,
                    UNIQUE (target, target_field)
                );
                INSERT INTO config_versions (name, version) VALUES ('custom_fields', 0)",
        )
        .await?;
        for (i, (target, source, target_field)) in STANDARD_MAPPINGS.iter().enumerate() {
            execute(
                manager,
                &format!(
                    "INSERT INTO field_mappings (id, target, source_field, target_field, standard,
                        enabled, created_at)
                     VALUES ({}, '{target}', '{source}', '{target_field}', TRUE, TRUE,
                        CURRENT_TIMESTAMP)",
                    uuid_literal(backend, &standard_mapping_id(i))
                ),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute(
            manager,
            "DELETE FROM config_versions WHERE name = 'custom_fields';
             DROP TABLE field_mappings;
             DROP TABLE custom_field_values;
             DROP TABLE custom_field_definitions",
        )
        .await
    }
}
