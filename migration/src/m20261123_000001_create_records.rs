//! The records of the domain: users, accounts, contacts, leads, opportunities, notes, stakeholders,
//! the organization's qualification settings, duplicate detection rules and the audit trail.

use sea_orm_migration::prelude::*;

use crate::sql::{ForwardKey, add_forward_keys, create_table, execute};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000001_create_records"
    }
}

/// References to tables created later in this step (see [`crate::sql`]).
const FORWARD_KEYS: &[ForwardKey] = &[
    ForwardKey {
        table: "accounts",
        column: "primary_contact_id",
        references: "contacts",
        on_delete: "SET NULL",
    },
    ForwardKey {
        table: "accounts",
        column: "originating_lead_id",
        references: "leads",
        on_delete: "SET NULL",
    },
    ForwardKey {
        table: "contacts",
        column: "originating_lead_id",
        references: "leads",
        on_delete: "SET NULL",
    },
    ForwardKey {
        table: "leads",
        column: "qualifying_opportunity_id",
        references: "opportunities",
        on_delete: "SET NULL",
    },
];

/// The address columns shared by leads, accounts ("Address 1") and contacts.
const ADDRESS: &str = "
    street1 TEXT,
    street2 TEXT,
    street3 TEXT,
    city TEXT,
    state_or_province TEXT,
    postal_code TEXT,
    country_or_region TEXT";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_table(
            manager,
            "users",
            "    id UUID PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    email TEXT,
    roles TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL",
            FORWARD_KEYS,
        )
        .await?;

        create_table(
            manager,
            "accounts",
            &format!(
                "    id UUID PRIMARY KEY,
    name TEXT NOT NULL,
    website TEXT,
    phone TEXT,
    email TEXT,{ADDRESS},
    primary_contact_id UUID,
    originating_lead_id UUID,
    owner_id UUID NOT NULL REFERENCES users (id),
    state TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    modified_at TIMESTAMPTZ NOT NULL"
            ),
            FORWARD_KEYS,
        )
        .await?;

        create_table(
            manager,
            "contacts",
            &format!(
                "    id UUID PRIMARY KEY,
    first_name TEXT,
    last_name TEXT NOT NULL,
    job_title TEXT,
    business_phone TEXT,
    mobile_phone TEXT,
    email TEXT,{ADDRESS},
    parent_account_id UUID REFERENCES accounts (id) ON DELETE SET NULL,
    originating_lead_id UUID,
    owner_id UUID NOT NULL REFERENCES users (id),
    state TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    modified_at TIMESTAMPTZ NOT NULL"
            ),
            FORWARD_KEYS,
        )
        .await?;

        create_table(
            manager,
            "leads",
            &format!(
                "    id UUID PRIMARY KEY,
    topic TEXT NOT NULL,
    first_name TEXT,
    last_name TEXT NOT NULL,
    job_title TEXT,
    business_phone TEXT,
    mobile_phone TEXT,
    email TEXT,
    company_name TEXT,
    website TEXT,{ADDRESS},
    description TEXT,
    industry TEXT,
    lead_source TEXT,
    rating TEXT,
    preferred_contact_method TEXT,
    purchase_timeframe TEXT,
    purchase_process TEXT,
    budget_amount_cents BIGINT,
    decision_maker BOOLEAN,
    currency_code TEXT,
    existing_account_id UUID REFERENCES accounts (id) ON DELETE SET NULL,
    existing_contact_id UUID REFERENCES contacts (id) ON DELETE SET NULL,
    owner_id UUID NOT NULL REFERENCES users (id),
    state TEXT NOT NULL,
    status_reason TEXT NOT NULL,
    process_stage TEXT NOT NULL,
    qualified_account_id UUID REFERENCES accounts (id) ON DELETE SET NULL,
    qualified_contact_id UUID REFERENCES contacts (id) ON DELETE SET NULL,
    qualifying_opportunity_id UUID,
    created_at TIMESTAMPTZ NOT NULL,
    modified_at TIMESTAMPTZ NOT NULL,
    qualified_at TIMESTAMPTZ,
    CHECK (budget_amount_cents IS NULL OR budget_amount_cents BETWEEN 0 AND 100000000000000)"
            ),
            FORWARD_KEYS,
        )
        .await?;

        create_table(
            manager,
            "opportunities",
            "    id UUID PRIMARY KEY,
    topic TEXT NOT NULL,
    description TEXT,
    account_id UUID REFERENCES accounts (id) ON DELETE SET NULL,
    contact_id UUID REFERENCES contacts (id) ON DELETE SET NULL,
    originating_lead_id UUID REFERENCES leads (id) ON DELETE SET NULL,
    currency_code TEXT NOT NULL,
    budget_amount_cents BIGINT,
    purchase_timeframe TEXT,
    purchase_process TEXT,
    decision_maker BOOLEAN,
    process_stage TEXT NOT NULL,
    owner_id UUID NOT NULL REFERENCES users (id),
    state TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    modified_at TIMESTAMPTZ NOT NULL,
    CHECK (budget_amount_cents IS NULL OR budget_amount_cents BETWEEN 0 AND 100000000000000)",
            FORWARD_KEYS,
        )
        .await?;

        add_forward_keys(manager, FORWARD_KEYS).await?;

        // Notes are "regarding" any of four record types, so the reference is by (type, id) and
        // the service removes a deleted lead's notes itself.
        create_table(
            manager,
            "notes",
            "    id UUID PRIMARY KEY,
    regarding_type TEXT NOT NULL,
    regarding_id UUID NOT NULL,
    subject TEXT,
    text TEXT,
    created_by UUID REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL",
            FORWARD_KEYS,
        )
        .await?;

        // A connection between a contact and either a lead or an opportunity.
        create_table(
            manager,
            "stakeholders",
            "    id UUID PRIMARY KEY,
    lead_id UUID REFERENCES leads (id) ON DELETE CASCADE,
    opportunity_id UUID REFERENCES opportunities (id) ON DELETE CASCADE,
    contact_id UUID NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    CHECK ((lead_id IS NULL) <> (opportunity_id IS NULL))",
            FORWARD_KEYS,
        )
        .await?;

        // One organization-wide row (id = 1); its defaults reproduce the product out of the box.
        create_table(
            manager,
            "qualification_settings",
            "    id INTEGER PRIMARY KEY CHECK (id = 1),
    experience TEXT NOT NULL,
    auto_create_records BOOLEAN NOT NULL,
    account_creation TEXT NOT NULL,
    contact_creation TEXT NOT NULL,
    opportunity_creation TEXT NOT NULL,
    allow_multiple_opportunities BOOLEAN NOT NULL,
    max_opportunities_per_lead INTEGER NOT NULL,
    summarize_lead BOOLEAN NOT NULL,
    opportunity_form_fields TEXT NOT NULL,
    base_currency_code TEXT NOT NULL,
    modified_at TIMESTAMPTZ NOT NULL,
    modified_by UUID REFERENCES users (id) ON DELETE SET NULL",
            FORWARD_KEYS,
        )
        .await?;
        execute(
            manager,
            "INSERT INTO qualification_settings (id, experience, auto_create_records, account_creation,
                contact_creation, opportunity_creation, allow_multiple_opportunities,
                max_opportunities_per_lead, summarize_lead, opportunity_form_fields,
                base_currency_code, modified_at)
             VALUES (1, 'LEGACY', TRUE, 'AUTOMATIC', 'AUTOMATIC', 'AUTOMATIC', FALSE, 5, FALSE,
                '[\"topic\",\"budgetAmount\",\"purchaseTimeframe\",\"purchaseProcess\",\"decisionMaker\",\"description\"]',
                'USD', CURRENT_TIMESTAMP)",
        )
        .await?;

        create_table(
            manager,
            "duplicate_rules",
            "    id UUID PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT,
    base_record_type TEXT NOT NULL,
    matching_record_type TEXT NOT NULL,
    case_sensitive BOOLEAN NOT NULL,
    exclude_inactive BOOLEAN NOT NULL,
    published BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    modified_at TIMESTAMPTZ NOT NULL",
            FORWARD_KEYS,
        )
        .await?;
        create_table(
            manager,
            "duplicate_rule_conditions",
            "    id UUID PRIMARY KEY,
    rule_id UUID NOT NULL REFERENCES duplicate_rules (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    base_field TEXT NOT NULL,
    matching_field TEXT NOT NULL,
    operator TEXT NOT NULL,
    character_count INTEGER,
    ignore_blank BOOLEAN NOT NULL,
    CHECK (character_count IS NULL OR character_count >= 1)",
            FORWARD_KEYS,
        )
        .await?;

        // Secrets the server generates for itself (the development token secret), shared by
        // every server process on the same database.
        create_table(
            manager,
            "server_secrets",
            "    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL",
            FORWARD_KEYS,
        )
        .await?;

        // Append-only: nothing in the API updates or deletes these rows.
        create_table(
            manager,
            "audit_events",
            "    id UUID PRIMARY KEY,
    occurred_at TIMESTAMPTZ NOT NULL,
    actor_id UUID REFERENCES users (id) ON DELETE SET NULL,
    record_type TEXT NOT NULL,
    record_id UUID NOT NULL,
    action TEXT NOT NULL,
    changes TEXT NOT NULL",
            FORWARD_KEYS,
        )
        .await?;

        execute(
            manager,
            "CREATE INDEX ix_accounts_owner ON accounts (owner_id);
             CREATE INDEX ix_accounts_primary_contact ON accounts (primary_contact_id);
             CREATE INDEX ix_accounts_originating_lead ON accounts (originating_lead_id);
             CREATE INDEX ix_contacts_parent_account ON contacts (parent_account_id);
             CREATE INDEX ix_contacts_originating_lead ON contacts (originating_lead_id);
             CREATE INDEX ix_contacts_owner ON contacts (owner_id);
             CREATE INDEX ix_leads_state ON leads (state, id);
             CREATE INDEX ix_leads_owner_state ON leads (owner_id, state, id);
             CREATE INDEX ix_leads_existing_account ON leads (existing_account_id);
             CREATE INDEX ix_leads_existing_contact ON leads (existing_contact_id);
             CREATE INDEX ix_leads_qualified_account ON leads (qualified_account_id);
             CREATE INDEX ix_leads_qualified_contact ON leads (qualified_contact_id);
             CREATE INDEX ix_leads_qualifying_opportunity ON leads (qualifying_opportunity_id);
             CREATE INDEX ix_opportunities_account ON opportunities (account_id);
             CREATE INDEX ix_opportunities_contact ON opportunities (contact_id);
             CREATE INDEX ix_opportunities_originating_lead ON opportunities (originating_lead_id);
             CREATE INDEX ix_opportunities_owner ON opportunities (owner_id);
             CREATE INDEX ix_notes_regarding ON notes (regarding_id, created_at);
             CREATE INDEX ix_notes_created_by ON notes (created_by);
             CREATE INDEX ix_stakeholders_lead ON stakeholders (lead_id);
             CREATE INDEX ix_stakeholders_opportunity ON stakeholders (opportunity_id);
             CREATE INDEX ix_stakeholders_contact ON stakeholders (contact_id);
             CREATE INDEX ix_duplicate_rule_conditions_rule ON duplicate_rule_conditions (rule_id, position);
             CREATE INDEX ix_audit_events_record ON audit_events (record_id, occurred_at);
             CREATE INDEX ix_audit_events_actor ON audit_events (actor_id);
             CREATE INDEX ix_qualification_settings_modified_by ON qualification_settings (modified_by)",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == sea_orm_migration::sea_orm::DbBackend::Postgres {
            execute(
                manager,
                "ALTER TABLE accounts DROP CONSTRAINT fk_accounts_primary_contact_id;
                 ALTER TABLE accounts DROP CONSTRAINT fk_accounts_originating_lead_id;
                 ALTER TABLE contacts DROP CONSTRAINT fk_contacts_originating_lead_id;
                 ALTER TABLE leads DROP CONSTRAINT fk_leads_qualifying_opportunity_id",
            )
            .await?;
        }
        execute(
            manager,
            "DROP TABLE server_secrets;
             DROP TABLE audit_events;
             DROP TABLE duplicate_rule_conditions;
             DROP TABLE duplicate_rules;
             DROP TABLE qualification_settings;
             DROP TABLE stakeholders;
             DROP TABLE notes;
             DROP TABLE opportunities;
             DROP TABLE leads;
             DROP TABLE contacts;
             DROP TABLE accounts;
             DROP TABLE users",
        )
        .await
    }
}
