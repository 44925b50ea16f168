//! Seeded records and their match keys, as rows in table column order.

use chrono::{DateTime, Utc};
use entity::{
    DuplicateRecordType, LeadRating, LeadSource, LeadState, LeadStatusReason, ProcessStage,
    PurchaseProcess, PurchaseTimeframe, RecordState, account, contact, lead,
};
use leadq::domain::matching::{fields_of, match_key};
use uuid::Uuid;

use super::{P, ot, ou, t, tm, u};
use crate::common::Salt;

/// A word of `len` letters, different for every `(n, which)` as far as a hash goes: names made
/// of it are unlike each other, as real people's and companies' are (a running number in a
/// fixed name would make every record a near duplicate of the next to a FUZZY rule).
fn word(n: u64, which: u64, len: usize) -> String {
    fn mix(mut z: u64) -> u64 {
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    // A splitmix64 stream seeded by a hash of (n, which): the stream of n + 1 is not the stream
    // of n shifted by one letter (which made neighbours' names near duplicates to FUZZY).
    let mut x = mix(n
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(which.wrapping_mul(0xD1B5_4A32_D192_ED03)));
    let mut letters = String::with_capacity(len);
    for i in 0..len {
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let z = mix(x);
        let c = (b'a' + (z % 26) as u8) as char;
        letters.push(if i == 0 { c.to_ascii_uppercase() } else { c });
    }
    letters
}

/// A North American number unique for every `n` below 78,900,000 (ten area codes, every
/// exchange from 201, every line), as valid numbers compare in E.164.
fn phone(n: u64) -> String {
    const AREAS: [u64; 10] = [206, 425, 503, 512, 303, 617, 312, 404, 602, 919];
    let line = n % 10_000;
    let exchange = 201 + (n / 10_000) % 789;
    let area = AREAS[((n / 7_890_000) % 10) as usize];
    format!("+1 ({area}) {exchange}-{line:04}")
}

/// An open lead (the defaults of a new lead) with values unique within the run, and names,
/// streets and postal codes unlike each other's; websites on their own registrable domain and
/// phones that parse, so that rules on those compare distinct values.
pub fn make_lead(n: u64, salt: &Salt, owner: Uuid, now: DateTime<Utc>) -> lead::Model {
    let s = &salt.text;
    let mixed = n ^ (u64::from(salt.digits) << 40);
    lead::Model {
        id: Uuid::now_v7(),
        topic: format!("Bench opportunity {n}"),
        first_name: Some(word(mixed, 1, 7)),
        last_name: word(mixed, 2, 9),
        job_title: Some("Purchasing Manager".to_owned()),
        business_phone: Some(phone(n)),
        mobile_phone: None,
        email: Some(format!("lead{n}.{s}@bench.example.com")),
        company_name: Some(format!("{} {}", word(mixed, 3, 9), word(mixed, 4, 6))),
        website: Some(format!("https://www.company{n}-{s}.com/")),
        street1: Some(format!("{} {} Street", n % 9_999 + 1, word(mixed, 5, 8))),
        street2: None,
        street3: None,
        city: Some("Springfield".to_owned()),
        state_or_province: Some("IL".to_owned()),
        postal_code: Some(format!("{:05}", 10_000 + (n * 7_919) % 90_000)),
        country_or_region: Some("United States".to_owned()),
        description: Some("Seeded by the qualification benchmark".to_owned()),
        industry: None,
        lead_source: Some(LeadSource::Web),
        rating: Some(LeadRating::Warm),
        preferred_contact_method: None,
        purchase_timeframe: Some(PurchaseTimeframe::ThisQuarter),
        purchase_process: Some(PurchaseProcess::Committee),
        budget_amount_cents: Some(((n % 1_000) as i64 + 1) * 100_000),
        decision_maker: Some(n.is_multiple_of(2)),
        currency_code: None,
        existing_account_id: None,
        existing_contact_id: None,
        owner_id: owner,
        state: LeadState::Open,
        status_reason: LeadStatusReason::New,
        process_stage: ProcessStage::Qualify,
        qualified_account_id: None,
        qualified_contact_id: None,
        qualifying_opportunity_id: None,
        created_at: now,
        modified_at: now,
        qualified_at: None,
    }
}

pub fn lead_row(l: &lead::Model) -> Vec<P> {
    vec![
        u(l.id),
        t(&l.topic),
        ot(l.first_name.as_deref()),
        t(&l.last_name),
        ot(l.job_title.as_deref()),
        ot(l.business_phone.as_deref()),
        ot(l.mobile_phone.as_deref()),
        ot(l.email.as_deref()),
        ot(l.company_name.as_deref()),
        ot(l.website.as_deref()),
        ot(l.street1.as_deref()),
        ot(l.street2.as_deref()),
        ot(l.street3.as_deref()),
        ot(l.city.as_deref()),
        ot(l.state_or_province.as_deref()),
        ot(l.postal_code.as_deref()),
        ot(l.country_or_region.as_deref()),
        ot(l.description.as_deref()),
        ot(l.lead_source.map(|v| v.as_str())),
        ot(l.rating.map(|v| v.as_str())),
        ot(l.purchase_timeframe.map(|v| v.as_str())),
        ot(l.purchase_process.map(|v| v.as_str())),
        P::I64(l.budget_amount_cents),
        P::Bool(l.decision_maker),
        ot(l.currency_code.as_deref()),
        u(l.owner_id),
        t(l.state.as_str()),
        t(l.status_reason.as_str()),
        t(l.process_stage.as_str()),
        tm(l.created_at),
        tm(l.modified_at),
    ]
}

pub fn account_row(a: &account::Model) -> Vec<P> {
    vec![
        u(a.id),
        t(&a.name),
        ot(a.website.as_deref()),
        ot(a.phone.as_deref()),
        ot(a.email.as_deref()),
        ot(a.street1.as_deref()),
        ot(a.street2.as_deref()),
        ot(a.street3.as_deref()),
        ot(a.city.as_deref()),
        ot(a.state_or_province.as_deref()),
        ot(a.postal_code.as_deref()),
        ot(a.country_or_region.as_deref()),
        ou(a.primary_contact_id),
        ou(a.originating_lead_id),
        u(a.owner_id),
        t(a.state.as_str()),
        tm(a.created_at),
        tm(a.modified_at),
    ]
}

pub fn contact_row(c: &contact::Model) -> Vec<P> {
    vec![
        u(c.id),
        ot(c.first_name.as_deref()),
        t(&c.last_name),
        ot(c.job_title.as_deref()),
        ot(c.business_phone.as_deref()),
        ot(c.mobile_phone.as_deref()),
        ot(c.email.as_deref()),
        ot(c.street1.as_deref()),
        ot(c.street2.as_deref()),
        ot(c.street3.as_deref()),
        ot(c.city.as_deref()),
        ot(c.state_or_province.as_deref()),
        ot(c.postal_code.as_deref()),
        ot(c.country_or_region.as_deref()),
        ou(c.parent_account_id),
        ou(c.originating_lead_id),
        u(c.owner_id),
        t(c.state.as_str()),
        tm(c.created_at),
        tm(c.modified_at),
    ]
}

/// The value of a matchable field (as `service::duplicates` reads it). An unknown field stops the
/// benchmark: leadq gained a matchable field the seeding would silently leave out.
pub fn lead_value<'a>(l: &'a lead::Model, field: &str) -> Option<&'a str> {
    match field {
        "firstName" => l.first_name.as_deref(),
        "lastName" => Some(l.last_name.as_str()),
        "email" => l.email.as_deref(),
        "companyName" => l.company_name.as_deref(),
        "businessPhone" => l.business_phone.as_deref(),
        "mobilePhone" => l.mobile_phone.as_deref(),
        "website" => l.website.as_deref(),
        "street1" => l.street1.as_deref(),
        "city" => l.city.as_deref(),
        "stateOrProvince" => l.state_or_province.as_deref(),
        "postalCode" => l.postal_code.as_deref(),
        "countryOrRegion" => l.country_or_region.as_deref(),
        other => panic!("unknown matchable lead field {other:?}: teach the benchmark"),
    }
}

pub fn account_value<'a>(a: &'a account::Model, field: &str) -> Option<&'a str> {
    match field {
        "name" => Some(a.name.as_str()),
        "email" => a.email.as_deref(),
        "phone" => a.phone.as_deref(),
        "website" => a.website.as_deref(),
        "street1" => a.street1.as_deref(),
        "city" => a.city.as_deref(),
        "stateOrProvince" => a.state_or_province.as_deref(),
        "postalCode" => a.postal_code.as_deref(),
        "countryOrRegion" => a.country_or_region.as_deref(),
        other => panic!("unknown matchable account field {other:?}: teach the benchmark"),
    }
}

pub fn contact_value<'a>(c: &'a contact::Model, field: &str) -> Option<&'a str> {
    match field {
        "firstName" => c.first_name.as_deref(),
        "lastName" => Some(c.last_name.as_str()),
        "email" => c.email.as_deref(),
        "businessPhone" => c.business_phone.as_deref(),
        "mobilePhone" => c.mobile_phone.as_deref(),
        "street1" => c.street1.as_deref(),
        "city" => c.city.as_deref(),
        "stateOrProvince" => c.state_or_province.as_deref(),
        "postalCode" => c.postal_code.as_deref(),
        "countryOrRegion" => c.country_or_region.as_deref(),
        other => panic!("unknown matchable contact field {other:?}: teach the benchmark"),
    }
}

/// The `match_keys` rows of a record: one per non-blank matchable field, normalized by leadq's
/// own `domain::matching` (as `key_rows` in `service::duplicates`).
pub fn key_rows<'a>(
    record_type: DuplicateRecordType,
    id: Uuid,
    value: impl Fn(&str) -> Option<&'a str>,
) -> Vec<Vec<P>> {
    fields_of(record_type)
        .filter_map(|field| {
            let key = match_key(field.kind, value(field.name), &Default::default())?;
            Some(vec![
                t(record_type.as_str()),
                u(id),
                t(field.name),
                t(key.exact),
                t(key.folded),
                t(key.reversed),
            ])
        })
        .collect()
}

pub fn lead_keys(l: &lead::Model) -> Vec<Vec<P>> {
    key_rows(DuplicateRecordType::Lead, l.id, |f| lead_value(l, f))
}

pub fn account_keys(a: &account::Model) -> Vec<Vec<P>> {
    key_rows(DuplicateRecordType::Account, a.id, |f| account_value(a, f))
}

pub fn contact_keys(c: &contact::Model) -> Vec<Vec<P>> {
    key_rows(DuplicateRecordType::Contact, c.id, |f| contact_value(c, f))
}

pub fn dedup_account_name(k: usize, salt: &Salt) -> String {
    format!("Dedup Account {} {k}", salt.text)
}

pub fn dedup_contact_email(k: usize, salt: &Salt) -> String {
    format!("contact{k}.{}@dedup.example.net", salt.text)
}

pub fn make_account(k: usize, salt: &Salt, owner: Uuid, now: DateTime<Utc>) -> account::Model {
    let s = &salt.text;
    account::Model {
        id: Uuid::now_v7(),
        name: dedup_account_name(k, salt),
        website: Some(format!("https://account{k}-{s}.example.net")),
        phone: Some(format!("+44 20 {:03} {k:010}", salt.digits)),
        email: Some(format!("info{k}.{s}@dedup.example.net")),
        street1: Some(format!("{k} High Street")),
        street2: None,
        street3: None,
        city: Some("London".to_owned()),
        state_or_province: None,
        postal_code: Some("EC1A 1BB".to_owned()),
        country_or_region: Some("United Kingdom".to_owned()),
        primary_contact_id: None,
        originating_lead_id: None,
        owner_id: owner,
        state: RecordState::Active,
        created_at: now,
        modified_at: now,
    }
}

pub fn make_contact(
    k: usize,
    salt: &Salt,
    account: Uuid,
    owner: Uuid,
    now: DateTime<Utc>,
) -> contact::Model {
    let s = &salt.text;
    contact::Model {
        id: Uuid::now_v7(),
        first_name: Some(format!("Dfirst{s}x{k}")),
        last_name: format!("Dlast{s}x{k}"),
        job_title: Some("Buyer".to_owned()),
        business_phone: Some(format!("+49 30 {:03} {k:010}", salt.digits)),
        mobile_phone: Some(format!("+33 6 {:03} {k:010}", salt.digits)),
        email: Some(dedup_contact_email(k, salt)),
        street1: Some(format!("{k} Hauptstrasse")),
        street2: None,
        street3: None,
        city: Some("Berlin".to_owned()),
        state_or_province: None,
        postal_code: Some("10115".to_owned()),
        country_or_region: Some("Germany".to_owned()),
        parent_account_id: Some(account),
        originating_lead_id: None,
        owner_id: owner,
        state: RecordState::Active,
        created_at: now,
        modified_at: now,
    }
}
