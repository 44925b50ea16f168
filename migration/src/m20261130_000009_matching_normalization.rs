//! Duplicate matching that catches real-world duplicates (issue 15).
//!
//! - `qualification_settings.phone_region`: the region of phone numbers written without a
//!   country code (ISO 3166 alpha-2, default `US`).
//! - `duplicate_rule_conditions.similarity`: the threshold of a FUZZY condition.
//! - `match_keys.active`: whether the record is active (accounts and contacts) or open (leads),
//!   with partial indexes on the active keys, so that a rule excluding inactive records reads
//!   only active ones and inactive records can never fill a capped read.
//! - `match_blocks`: the FUZZY blocking keys of every value FUZZY may compare (see
//!   `leadq::domain::matching::fuzzy`), indexed for exact lookups.
//! - The recommended rule set, unpublished (`publishDuplicateRules` publishes it).
//! - `config_versions.match_keys = 1`: the stored keys were written by the old normalization;
//!   `leadq serve` and `leadq migrate` recompute them at startup (the normalization is Rust code
//!   of the application, which the migrations cannot call) and set the version.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::sql::execute;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000009_matching_normalization"
    }
}

/// A recommended condition: (base field, matching field, operator, similarity).
type RecommendedCondition = (&'static str, &'static str, &'static str, Option<f64>);

/// A recommended rule: (id, name, base, matching, conditions).
type RecommendedRule = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [RecommendedCondition],
);

/// The recommended rule set: exact comparisons of the strong identifiers (which normalization
/// now makes reliable), and FUZZY names only together with a second field that tells people
/// and companies of similar names apart. At most five per base record type, so the whole set
/// can be published at once in place of the defaults.
pub const RECOMMENDED_RULES: &[RecommendedRule] = &[
    (
        "019ad000-0000-7000-8000-000000000001",
        "Recommended: accounts with the same name",
        "ACCOUNT",
        "ACCOUNT",
        &[("name", "name", "EXACT", None)],
    ),
    (
        "019ad000-0000-7000-8000-000000000002",
        "Recommended: accounts with the same website domain",
        "ACCOUNT",
        "ACCOUNT",
        &[("website", "website", "EXACT", None)],
    ),
    (
        "019ad000-0000-7000-8000-000000000003",
        "Recommended: accounts with the same phone number",
        "ACCOUNT",
        "ACCOUNT",
        &[("phone", "phone", "EXACT", None)],
    ),
    (
        "019ad000-0000-7000-8000-000000000004",
        "Recommended: accounts with a similar name at the same postal code",
        "ACCOUNT",
        "ACCOUNT",
        &[
            ("name", "name", "FUZZY", Some(0.92)),
            ("postalCode", "postalCode", "EXACT", None),
        ],
    ),
    (
        "019ad000-0000-7000-8000-000000000005",
        "Recommended: accounts with a similar name at a similar street address",
        "ACCOUNT",
        "ACCOUNT",
        &[
            ("name", "name", "FUZZY", Some(0.92)),
            ("street1", "street1", "FUZZY", Some(0.9)),
        ],
    ),
    (
        "019ad000-0000-7000-8000-000000000011",
        "Recommended: contacts with the same e-mail address",
        "CONTACT",
        "CONTACT",
        &[("email", "email", "EXACT", None)],
    ),
    (
        "019ad000-0000-7000-8000-000000000012",
        "Recommended: contacts with the same mobile phone",
        "CONTACT",
        "CONTACT",
        &[("mobilePhone", "mobilePhone", "EXACT", None)],
    ),
    (
        "019ad000-0000-7000-8000-000000000013",
        "Recommended: contacts with similar names and the same business phone",
        "CONTACT",
        "CONTACT",
        &[
            ("lastName", "lastName", "FUZZY", Some(0.85)),
            ("businessPhone", "businessPhone", "EXACT", None),
        ],
    ),
    (
        "019ad000-0000-7000-8000-000000000014",
        "Recommended: contacts with similar names at the same postal code",
        "CONTACT",
        "CONTACT",
        &[
            ("lastName", "lastName", "FUZZY", Some(0.88)),
            ("firstName", "firstName", "FUZZY", Some(0.85)),
            ("postalCode", "postalCode", "EXACT", None),
        ],
    ),
    (
        "019ad000-0000-7000-8000-000000000015",
        "Recommended: contacts with first and last name swapped at the same postal code",
        "CONTACT",
        "CONTACT",
        &[
            ("firstName", "lastName", "EXACT", None),
            ("lastName", "firstName", "EXACT", None),
            ("postalCode", "postalCode", "EXACT", None),
        ],
    ),
    (
        "019ad000-0000-7000-8000-000000000021",
        "Recommended: leads with the same e-mail address",
        "LEAD",
        "LEAD",
        &[("email", "email", "EXACT", None)],
    ),
    (
        "019ad000-0000-7000-8000-000000000022",
        "Recommended: leads with similar names at a similar company",
        "LEAD",
        "LEAD",
        &[
            ("lastName", "lastName", "FUZZY", Some(0.88)),
            ("firstName", "firstName", "FUZZY", Some(0.85)),
            ("companyName", "companyName", "FUZZY", Some(0.9)),
        ],
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
        let (collate, truth) = if backend == DbBackend::Postgres {
            (" COLLATE \"C\"", "TRUE")
        } else {
            ("", "1")
        };
        execute(
            manager,
            &format!(
                "ALTER TABLE qualification_settings ADD COLUMN phone_region TEXT NOT NULL DEFAULT 'US';
                ALTER TABLE duplicate_rule_conditions ADD COLUMN similarity DOUBLE PRECISION;
                ALTER TABLE match_keys ADD COLUMN active BOOLEAN NOT NULL DEFAULT {truth};
                UPDATE match_keys SET active = FALSE
                    WHERE (record_type = 'ACCOUNT'
                           AND record_id IN (SELECT id FROM accounts WHERE state <> 'ACTIVE'))
                       OR (record_type = 'CONTACT'
                           AND record_id IN (SELECT id FROM contacts WHERE state <> 'ACTIVE'))
                       OR (record_type = 'LEAD'
                           AND record_id IN (SELECT id FROM leads WHERE state <> 'OPEN'));
                CREATE INDEX ix_match_keys_folded_active
                    ON match_keys (record_type, field, key_folded, record_id) WHERE active;
                CREATE INDEX ix_match_keys_reversed_active
                    ON match_keys (record_type, field, key_reversed, record_id) WHERE active;
                CREATE TABLE match_blocks (
                    record_type TEXT NOT NULL,
                    field TEXT NOT NULL,
                    block TEXT{collate} NOT NULL,
                    record_id UUID NOT NULL,
                    active BOOLEAN NOT NULL DEFAULT {truth},
                    PRIMARY KEY (record_type, field, block, record_id)
                );
                CREATE INDEX ix_match_blocks_record ON match_blocks (record_type, record_id);
                CREATE INDEX ix_match_blocks_active
                    ON match_blocks (record_type, field, block, record_id) WHERE active;
                INSERT INTO config_versions (name, version) VALUES ('match_keys', 1)"
            ),
        )
        .await?;
        for (i, (id, name, base, matching, conditions)) in RECOMMENDED_RULES.iter().enumerate() {
            execute(
                manager,
                &format!(
                    "INSERT INTO duplicate_rules (id, name, description, base_record_type,
                        matching_record_type, case_sensitive, exclude_inactive, published,
                        created_at, modified_at)
                     VALUES ({}, '{name}', 'A recommended rule (issue 15)', '{base}',
                        '{matching}', FALSE, TRUE, FALSE, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
                    uuid_literal(backend, id)
                ),
            )
            .await?;
            for (position, (base_field, matching_field, operator, similarity)) in
                conditions.iter().enumerate()
            {
                let condition_id =
                    format!("019ad000-0000-7000-8001-{:06}{:06}", i + 1, position + 1);
                let similarity = similarity.map_or("NULL".to_owned(), |s| s.to_string());
                execute(
                    manager,
                    &format!(
                        "INSERT INTO duplicate_rule_conditions (id, rule_id, position, base_field,
                            matching_field, operator, character_count, ignore_blank, similarity)
                         VALUES ({}, {}, {position}, '{base_field}', '{matching_field}',
                            '{operator}', NULL, TRUE, {similarity})",
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
        let backend = manager.get_database_backend();
        let ids: Vec<String> = RECOMMENDED_RULES
            .iter()
            .map(|(id, ..)| uuid_literal(backend, id))
            .collect();
        let ids = ids.join(", ");
        execute(
            manager,
            &format!(
                "DELETE FROM duplicate_rule_conditions WHERE rule_id IN ({ids});
                DELETE FROM duplicate_rules WHERE id IN ({ids});
                DELETE FROM config_versions WHERE name = 'match_keys';
                DROP TABLE match_blocks;
                DROP INDEX ix_match_keys_folded_active;
                DROP INDEX ix_match_keys_reversed_active;
                ALTER TABLE match_keys DROP COLUMN active;
                ALTER TABLE duplicate_rule_conditions DROP COLUMN similarity;
                ALTER TABLE qualification_settings DROP COLUMN phone_region"
            ),
        )
        .await
    }
}
