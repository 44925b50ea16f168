//! Scenario **custom** (issue 16): bulk qualification through `qualifyLeads` with ten custom
//! fields on every record type, each lead field mapped onto the account, contact and
//! opportunity fields of the same name and set on every lead, beside the same run without them
//! (a fresh database each, in this run), and the ratio of the two throughputs (the bar:
//! at least 0.85).

use anyhow::{Context, Result, anyhow};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::options::Options;
use crate::rawdb::{Databases, Fresh, P, Pool, Purpose, t, u};
use crate::scenarios::bulk;
use crate::server::Server;

/// Custom fields per record type.
pub const CUSTOM_FIELDS: usize = 10;
/// Lead values inserted per statement.
const ROWS_PER_STATEMENT: usize = 1_000;

const CREATE_FIELD: &str =
    "mutation($i: CreateCustomFieldInput!) { createCustomField(input: $i) { definition { id } } }";
const ADD_MAPPING: &str =
    "mutation($i: AddFieldMappingInput!) { addFieldMapping(input: $i) { mapping { id } } }";

pub async fn run(dbs: &Databases, options: &Options) -> Result<Value> {
    let without = bulk::run_with(dbs, options, bulk::RuleSet::Default, 0).await?;
    let with = bulk::run_with(dbs, options, bulk::RuleSet::Default, CUSTOM_FIELDS).await?;
    let rate = |v: &Value| v["leads_per_s"].as_f64().unwrap_or(0.0);
    let ratio = if rate(&without) > 0.0 {
        rate(&with) / rate(&without)
    } else {
        0.0
    };
    progress!(
        "custom: {:.1} leads/s with {CUSTOM_FIELDS} mapped custom fields per record type, \
         {:.1} without: ratio {ratio:.3}",
        rate(&with),
        rate(&without)
    );
    Ok(json!({
        "custom_fields_per_record_type": CUSTOM_FIELDS,
        "without": without,
        "with_custom_fields": with,
        "ratio_with_to_without": crate::common::round(ratio, 3),
    }))
}

/// Defines `count` TEXT fields on every record type through the API, maps each lead field onto
/// its namesakes, and gives every lead a value of each (straight into the database).
pub async fn set_up(
    fresh: &Fresh,
    server: &Server,
    client: &reqwest::Client,
    token: &str,
    leads: &[Uuid],
    count: usize,
) -> Result<()> {
    let mut lead_fields = Vec::with_capacity(count);
    for i in 0..count {
        for record_type in ["LEAD", "ACCOUNT", "CONTACT", "OPPORTUNITY"] {
            let body = server
                .graphql(
                    client,
                    token,
                    CREATE_FIELD,
                    json!({ "i": { "recordType": record_type, "name": format!("bench{i}"),
                                   "label": format!("Bench {i}"), "type": "TEXT",
                                   "maxLength": 100 } }),
                )
                .await?;
            let id = body["data"]["createCustomField"]["definition"]["id"]
                .as_str()
                .ok_or_else(|| anyhow!("createCustomField: {body}"))?;
            if record_type == "LEAD" {
                lead_fields.push(Uuid::parse_str(id)?);
            }
        }
        for target in ["ACCOUNT", "CONTACT", "OPPORTUNITY"] {
            let body = server
                .graphql(
                    client,
                    token,
                    ADD_MAPPING,
                    json!({ "i": { "target": target, "sourceField": format!("bench{i}"),
                                   "targetField": format!("bench{i}") } }),
                )
                .await?;
            if body.get("errors").is_some() {
                return Err(anyhow!("addFieldMapping: {body}"));
            }
        }
    }
    let pool = Pool::connect(fresh, Purpose::Seed).await?;
    let mut conn = pool.acquire(Purpose::Seed).await?;
    conn.begin().await?;
    let rows: Vec<(Uuid, Uuid, usize)> = leads
        .iter()
        .enumerate()
        .flat_map(|(n, lead)| lead_fields.iter().map(move |field| (*lead, *field, n)))
        .collect();
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let mut sql = String::from(
            "INSERT INTO custom_field_values (record_id, field_id, record_type, value, \
             text_value, number_value) VALUES ",
        );
        let mut params: Vec<P> = Vec::with_capacity(chunk.len() * 5);
        for (k, (lead, field, n)) in chunk.iter().enumerate() {
            if k > 0 {
                sql.push_str(", ");
            }
            sql.push_str("(?, ?, ?, ?, ?, NULL)");
            let text = format!("value {n}");
            params.extend([
                u(*lead),
                u(*field),
                t("LEAD"),
                t(Value::String(text.clone()).to_string()),
                t(text),
            ]);
        }
        conn.exec(&sql, params)
            .await
            .context("custom field values")?;
    }
    conn.commit().await?;
    drop(conn);
    pool.close().await;
    progress!(
        "  {} custom values on {} leads, {} mappings",
        rows.len(),
        leads.len(),
        3 * count
    );
    Ok(())
}
