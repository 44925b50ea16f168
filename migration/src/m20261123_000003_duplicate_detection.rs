//! Duplicate detection: match keys and the default rules.
//!
//! `match_keys` holds one row per matchable field of every account, contact and lead, normalized
//! by the application (`domain::matching`): `key` keeps case, `key_folded` does not, and
//! `key_reversed` is `key_folded` backwards, so exact, "same first N" and "same last N
//! characters" comparisons are all index range lookups. On PostgreSQL the key columns use the
//! "C" collation so that a range is a byte-wise prefix, as on SQLite.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::sql::execute;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000003_duplicate_detection"
    }
}

/// A default rule: (id, name, base, matching, [(base field, matching field)]).
type DefaultRule = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

/// The default rules.
const DEFAULT_RULES: &[DefaultRule] = &[
    (
        "019ab000-0000-7000-8000-000000000001",
        "Accounts with the same account name",
        "ACCOUNT",
        "ACCOUNT",
        &[("name", "name")],
    ),
    (
        "019ab000-0000-7000-8000-000000000002",
        "Accounts with the same e-mail address",
        "ACCOUNT",
        "ACCOUNT",
        &[("email", "email")],
    ),
    (
        "019ab000-0000-7000-8000-000000000003",
        "Contacts with the same e-mail address",
        "CONTACT",
        "CONTACT",
        &[("email", "email")],
    ),
    (
        "019ab000-0000-7000-8000-000000000004",
        "Contacts with the same first and last name",
        "CONTACT",
        "CONTACT",
        &[("firstName", "firstName"), ("lastName", "lastName")],
    ),
    (
        "019ab000-0000-7000-8000-000000000005",
        "Contacts with the same phone number",
        "CONTACT",
        "CONTACT",
        &[("businessPhone", "businessPhone")],
    ),
    (
        "019ab000-0000-7000-8000-000000000006",
        "Leads with the same e-mail address",
        "LEAD",
        "LEAD",
        &[("email", "email")],
    ),
    (
        "019ab000-0000-7000-8000-000000000007",
        "Accounts with the company name of the lead",
        "LEAD",
        "ACCOUNT",
        &[("companyName", "name")],
    ),
    (
        "019ab000-0000-7000-8000-000000000008",
        "Contacts with the e-mail address of the lead",
        "LEAD",
        "CONTACT",
        &[("email", "email")],
    ),
];

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
        let collate = if backend == DbBackend::Postgres {
            " COLLATE \"C\""
        } else {
            ""
        };
        execute(
            manager,
            &format!(
                "CREATE TABLE match_keys (
                    record_type TEXT NOT NULL,
                    record_id UUID NOT NULL,
                    field TEXT NOT NULL,
                    key TEXT NOT NULL,
                    key_folded TEXT{collate} NOT NULL,
                    key_reversed TEXT{collate} NOT NULL,
                    PRIMARY KEY (record_type, record_id, field)
                );
                CREATE INDEX ix_match_keys_folded ON match_keys (record_type, field, key_folded);
                CREATE INDEX ix_match_keys_reversed ON match_keys (record_type, field, key_reversed)"
            ),
        )
        .await?;
        for (i, (id, name, base, matching, conditions)) in DEFAULT_RULES.iter().enumerate() {
            execute(
                manager,
                &format!(
                    "INSERT INTO duplicate_rules (id, name, description, base_record_type,
                        matching_record_type, case_sensitive, exclude_inactive, published,
                        created_at, modified_at)
                     VALUES ({}, '{name}', 'A default rule', '{base}', '{matching}', FALSE, TRUE,
                        TRUE, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
                    uuid_literal(backend, id)
                ),
            )
            .await?;
            for (position, (base_field, matching_field)) in conditions.iter().enumerate() {
                let condition_id =
                    format!("019ab000-0000-7000-8001-{:06}{:06}", i + 1, position + 1);
                execute(
                    manager,
                    &format!(
                        "INSERT INTO duplicate_rule_conditions (id, rule_id, position, base_field,
                            matching_field, operator, character_count, ignore_blank)
                         VALUES ({}, {}, {position}, '{base_field}', '{matching_field}', 'EXACT',
                            NULL, TRUE)",
                        uuid_literal(backend, &condition_id),
                        uuid_literal(backend, id)
                    ),
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute(
            manager,
            "DROP TABLE match_keys; DELETE FROM duplicate_rule_conditions; DELETE FROM duplicate_rules",
        )
        .await
    }
}
