//! What qualifying one lead writes, built in memory from the lead (the benchmark's own mapping,
//! no leadq code), and how the raw scenarios read the leads: shared by baseline and limit.

use chrono::{DateTime, Utc};
use entity::{ProcessStage, RecordState, account, contact};
use leadq::domain::matching::match_key;
use serde_json::{Value, json};
use uuid::Uuid;

use std::collections::HashMap;

use anyhow::Result;

use crate::common::READ_CHUNK;
use crate::rawdb::{BaseLead, Conn, P, ot, t, tm, u};

/// Reads a batch of leads as the bulk service does: the base currency, then the leads
/// [`READ_CHUNK`] per `SELECT`, in the batch's order (missing ones left out).
pub async fn read_batch(conn: &mut Conn, batch: &[Uuid]) -> Result<(String, Vec<BaseLead>)> {
    let currency = conn
        .text("SELECT base_currency_code FROM qualification_settings WHERE id = 1")
        .await?;
    let mut by_id: HashMap<Uuid, BaseLead> = HashMap::with_capacity(batch.len());
    for chunk in batch.chunks(READ_CHUNK) {
        by_id.extend(conn.leads(chunk).await?.into_iter().map(|l| (l.id, l)));
    }
    let leads = batch.iter().filter_map(|id| by_id.remove(id)).collect();
    Ok((currency, leads))
}

/// One condition of a duplicate rule with the candidate's key: (record type, field, folded key).
pub type Condition = (&'static str, &'static str, String);

/// The published default rules that apply to a lead's new account and contact, with the
/// candidate's keys; a rule with a blank key is left out (the default rules ignore blanks). The
/// account e-mail rule never applies: a lead maps no e-mail to its account.
pub fn default_rules(account: &account::Model, contact: &contact::Model) -> Vec<Vec<Condition>> {
    use leadq::domain::matching::KeyKind;
    let key =
        |kind, value: Option<&str>| match_key(kind, value, &Default::default()).map(|k| k.folded);
    let rules = [
        vec![(
            "ACCOUNT",
            "name",
            key(KeyKind::Company, Some(&account.name)),
        )],
        vec![(
            "ACCOUNT",
            "email",
            key(KeyKind::Email, account.email.as_deref()),
        )],
        vec![(
            "CONTACT",
            "email",
            key(KeyKind::Email, contact.email.as_deref()),
        )],
        vec![
            (
                "CONTACT",
                "firstName",
                key(KeyKind::FirstName, contact.first_name.as_deref()),
            ),
            (
                "CONTACT",
                "lastName",
                key(KeyKind::Text, Some(&contact.last_name)),
            ),
        ],
        vec![(
            "CONTACT",
            "businessPhone",
            key(KeyKind::Phone, contact.business_phone.as_deref()),
        )],
    ];
    rules
        .into_iter()
        .filter_map(|conditions| {
            conditions
                .into_iter()
                .map(|(record, field, key)| key.map(|key| (record, field, key)))
                .collect::<Option<Vec<_>>>()
        })
        .collect()
}

/// What qualifying one lead writes, built in memory from the lead as leadq's field mappings do.
pub struct Built {
    pub lead: Uuid,
    pub topic: String,
    pub account: account::Model,
    pub contact: contact::Model,
    pub opportunity_id: Uuid,
    pub opportunity: Vec<P>,
    /// The default duplicate rules' conditions with this lead's keys: filled only by
    /// [`Built::with_rules`] (the baseline looks duplicates up, the limit does not).
    pub rules: Vec<Vec<Condition>>,
}

impl Built {
    pub fn with_rules(mut self) -> Self {
        self.rules = default_rules(&self.account, &self.contact);
        self
    }
}

pub fn build(l: &BaseLead, currency: &str, now: DateTime<Utc>) -> Built {
    let account = account::Model {
        id: Uuid::now_v7(),
        name: l.company_name.clone().unwrap_or_default(),
        website: l.website.clone(),
        phone: l.business_phone.clone(),
        email: None,
        street1: l.street1.clone(),
        street2: l.street2.clone(),
        street3: l.street3.clone(),
        city: l.city.clone(),
        state_or_province: l.state_or_province.clone(),
        postal_code: l.postal_code.clone(),
        country_or_region: l.country_or_region.clone(),
        primary_contact_id: None,
        originating_lead_id: Some(l.id),
        owner_id: l.owner_id,
        state: RecordState::Active,
        created_at: now,
        modified_at: now,
    };
    let contact = contact::Model {
        id: Uuid::now_v7(),
        first_name: l.first_name.clone(),
        last_name: l.last_name.clone(),
        job_title: l.job_title.clone(),
        business_phone: l.business_phone.clone(),
        mobile_phone: l.mobile_phone.clone(),
        email: l.email.clone(),
        street1: l.street1.clone(),
        street2: l.street2.clone(),
        street3: l.street3.clone(),
        city: l.city.clone(),
        state_or_province: l.state_or_province.clone(),
        postal_code: l.postal_code.clone(),
        country_or_region: l.country_or_region.clone(),
        parent_account_id: Some(account.id),
        originating_lead_id: Some(l.id),
        owner_id: l.owner_id,
        state: RecordState::Active,
        created_at: now,
        modified_at: now,
    };
    let opportunity_id = Uuid::now_v7();
    let opportunity = vec![
        u(opportunity_id),
        t(&l.topic),
        ot(l.description.as_deref()),
        u(account.id),
        u(contact.id),
        u(l.id),
        t(l.currency_code.as_deref().unwrap_or(currency)),
        P::I64(l.budget_amount_cents),
        ot(l.purchase_timeframe.as_deref()),
        ot(l.purchase_process.as_deref()),
        P::Bool(l.decision_maker),
        t(ProcessStage::Develop.as_str()),
        u(l.owner_id),
        t("OPEN"),
        tm(now),
        tm(now),
    ];
    Built {
        lead: l.id,
        topic: l.topic.clone(),
        account,
        contact,
        opportunity_id,
        opportunity,
        rules: Vec::new(),
    }
}

/// The four audit rows leadq writes for a qualification.
pub fn audit_rows(b: &Built, actor: Uuid, now: DateTime<Utc>) -> Vec<Vec<P>> {
    let row = |record_type: &str, record_id: Uuid, action: &str, changes: Value| {
        vec![
            u(Uuid::now_v7()),
            tm(now),
            u(actor),
            t(record_type),
            u(record_id),
            t(action),
            t(changes.to_string()),
        ]
    };
    vec![
        row(
            "ACCOUNT",
            b.account.id,
            "CREATED",
            json!({ "name": b.account.name, "originatingLeadId": b.lead }),
        ),
        row(
            "CONTACT",
            b.contact.id,
            "CREATED",
            json!({ "lastName": b.contact.last_name, "originatingLeadId": b.lead }),
        ),
        row(
            "OPPORTUNITY",
            b.opportunity_id,
            "CREATED",
            json!({ "topic": b.topic, "originatingLeadId": b.lead }),
        ),
        row(
            "LEAD",
            b.lead,
            "QUALIFIED",
            json!({
                "state": { "from": "OPEN", "to": "QUALIFIED" },
                "accountId": b.account.id,
                "contactId": b.contact.id,
                "opportunityIds": [b.opportunity_id],
                "warnings": [],
            }),
        ),
    ]
}
