//! Scenario **bulk**: open leads qualified through `qualifyLeads` over HTTP.
//!
//! Scenario **rules** (issue #15) runs it twice on fresh databases, once with the default
//! duplicate rules and once with the recommended set published in their place
//! (`publishDuplicateRules(ids, unpublishOthers: true)`), so the two figures share one run.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::{MAX_BATCH, Salt, round};
use crate::options::Options;
use crate::rawdb::Databases;
use crate::rawdb::seed::seed_leads;
use crate::rawdb::tables::table_counts;
use crate::server::{Server, prepare, token};

pub const QUALIFY_LEADS: &str = "mutation($i: QualifyLeadsInput!) { qualifyLeads(input: $i) { qualifiedCount duplicatesFoundCount failedCount } }";

/// Which duplicate rules are published while the leads are qualified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleSet {
    /// The rules a new database starts with.
    Default,
    /// The recommended set (issue #15) in place of the defaults.
    Recommended,
}

pub async fn run(dbs: &Databases, options: &Options) -> Result<Value> {
    run_with(dbs, options, RuleSet::Default, 0).await
}

/// Scenario **rules**: bulk with the default rules, then with the recommended set.
pub async fn run_rules(dbs: &Databases, options: &Options) -> Result<Value> {
    let default = run_with(dbs, options, RuleSet::Default, 0).await?;
    let recommended = run_with(dbs, options, RuleSet::Recommended, 0).await?;
    Ok(json!({ "default": default, "recommended": recommended }))
}

/// Publishes the recommended duplicate rules and unpublishes every other one.
async fn publish_recommended(server: &Server, client: &reqwest::Client, token: &str) -> Result<()> {
    let body = server
        .graphql(client, token, "{ duplicateRules { id name } }", json!({}))
        .await?;
    let ids: Vec<&str> = body["data"]["duplicateRules"]
        .as_array()
        .ok_or_else(|| anyhow::anyhow!("duplicateRules: {body}"))?
        .iter()
        .filter(|r| {
            r["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("Recommended:"))
        })
        .filter_map(|r| r["id"].as_str())
        .collect();
    anyhow::ensure!(!ids.is_empty(), "no recommended rules: {body}");
    let body = server
        .graphql(
            client,
            token,
            "mutation($i: PublishDuplicateRulesInput!) { publishDuplicateRules(input: $i) { rules { name published } } }",
            json!({ "i": { "ids": ids, "unpublishOthers": true } }),
        )
        .await?;
    anyhow::ensure!(
        body.get("errors").is_none(),
        "publishDuplicateRules: {body}"
    );
    progress!(
        "  published {} recommended rules in place of the others",
        ids.len()
    );
    Ok(())
}

/// The bulk scenario with `rules` published and `custom_fields` custom fields on every record
/// type, each lead field mapped onto the account, contact and opportunity fields of the same
/// name and set on every lead (0: none; see the **custom** scenario).
pub async fn run_with(
    dbs: &Databases,
    options: &Options,
    rules: RuleSet,
    custom_fields: usize,
) -> Result<Value> {
    progress!(
        "bulk: {} leads through qualifyLeads ({rules:?} duplicate rules, {custom_fields} custom fields mapped per record type)",
        options.leads,
    );
    let fresh = dbs
        .fresh(if custom_fields == 0 {
            "bulk"
        } else {
            "bulk_custom"
        })
        .await?;
    let (user, settings_needed) = prepare(&fresh).await?;
    let ids = seed_leads(&fresh, user, options.leads, &Salt::new()).await?;
    let token = token(user)?;
    let server = Server::start(&fresh.url).await?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(3_600))
        .build()?;
    if settings_needed {
        server.ensure_settings(&client, &token).await?;
    }
    if rules == RuleSet::Recommended {
        publish_recommended(&server, &client, &token).await?;
    }
    if custom_fields > 0 {
        crate::scenarios::custom::set_up(&fresh, &server, &client, &token, &ids, custom_fields)
            .await?;
    }
    let mut batch_seconds = Vec::new();
    let mut rss_after = Vec::new();
    let (mut qualified, mut duplicates, mut failed) = (0u64, 0u64, 0u64);
    let mut errors = Vec::new();
    let mut total = Duration::ZERO;
    let batches = ids.len().div_ceil(MAX_BATCH);
    for (i, batch) in ids.chunks(MAX_BATCH).enumerate() {
        let lead_ids: Vec<String> = batch.iter().map(Uuid::to_string).collect();
        let started = Instant::now();
        let body = server
            .graphql(
                &client,
                &token,
                QUALIFY_LEADS,
                json!({ "i": { "leadIds": lead_ids } }),
            )
            .await
            .with_context(|| format!("qualifyLeads batch {}", i + 1))?;
        let elapsed = started.elapsed();
        total += elapsed;
        let memory = server.memory();
        let payload = &body["data"]["qualifyLeads"];
        let count = |name: &str| payload[name].as_u64().unwrap_or(0);
        let (q, d, f) = (
            count("qualifiedCount"),
            count("duplicatesFoundCount"),
            count("failedCount"),
        );
        qualified += q;
        duplicates += d;
        failed += f;
        if let Some(errs) = body.get("errors") {
            errors.push(format!("batch {}: {errs}", i + 1));
        } else if q != batch.len() as u64 {
            errors.push(format!(
                "batch {}: qualifiedCount {q} of {} (duplicates {d}, failed {f})",
                i + 1,
                batch.len()
            ));
        }
        batch_seconds.push(round(elapsed.as_secs_f64(), 3));
        rss_after.push(round(memory.rss_mb, 1));
        progress!(
            "  batch {}/{batches}: {} leads in {:.2}s ({:.0} leads/s), qualified {q}, RSS {:.1} MB",
            i + 1,
            batch.len(),
            elapsed.as_secs_f64(),
            batch.len() as f64 / elapsed.as_secs_f64(),
            memory.rss_mb
        );
    }
    let peak = server.memory().peak_mb;
    drop(server);
    for e in &errors {
        progress!("  ERROR {e}");
    }
    let rows = table_counts(&fresh).await?;
    progress!("  rows written: {rows}");
    let leads_per_s = ids.len() as f64 / total.as_secs_f64();
    let rss_first = rss_after.first().copied().unwrap_or(0.0);
    let rss_last = rss_after.last().copied().unwrap_or(0.0);
    Ok(json!({
        "leads": ids.len(),
        "batches": batches,
        "seconds": round(total.as_secs_f64(), 3),
        "leads_per_s": round(leads_per_s, 1),
        "qualified": qualified,
        "duplicates_found": duplicates,
        "failed": failed,
        "errors": errors.len(),
        "error_messages": errors,
        "batch_seconds": batch_seconds,
        "rss_mb_after_batch": rss_after,
        "rss_first_mb": rss_first,
        "rss_last_mb": rss_last,
        "rss_ratio_last_first": if rss_first > 0.0 { round(rss_last / rss_first, 3) } else { 0.0 },
        "peak_rss_mb": round(peak, 1),
        "rows": rows,
    }))
}
