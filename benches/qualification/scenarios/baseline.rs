//! Scenario **baseline**: the same writes as bulk done with raw SQL, with the default duplicate
//! lookups.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use entity::LeadState;
use serde_json::{Value, json};
use uuid::Uuid;

use super::writes::{Condition, audit_rows, build, read_batch};
use crate::common::{MAX_BATCH, READ_CHUNK, Salt, now, round};
use crate::options::Options;
use crate::rawdb::rows::{account_keys, account_row, contact_keys, contact_row};
use crate::rawdb::seed::seed_leads;
use crate::rawdb::tables::{
    ACCOUNTS, AUDIT_EVENTS, CONTACTS, MATCH_KEYS, OPPORTUNITIES, insert_rows, table_counts,
};
use crate::rawdb::{BaseLead, Conn, Databases, Pool, Purpose, t, tm, u};
use crate::server::prepare;

#[derive(Debug, Default)]
pub struct RawOutcome {
    pub qualified: u64,
    pub duplicates: u64,
    pub closed: u64,
}

/// Qualifies leads with raw SQL in one transaction (one lead per call is the baseline the issue
/// asks for), writing exactly what leadq writes: the default duplicate lookups (one exact
/// `(record_type, field, key_folded)` index lookup per condition field, for all the leads of
/// the call at once), the accounts, contacts, their match keys, the opportunities, the audit
/// rows, each account's primary contact and each lead's guarded update.
pub async fn qualify_raw(
    conn: &mut Conn,
    leads: &[BaseLead],
    actor: Uuid,
    currency: &str,
) -> Result<RawOutcome> {
    let now = now();
    let mut outcome = RawOutcome::default();
    let mut built = Vec::with_capacity(leads.len());
    for l in leads {
        if l.state == LeadState::Open.as_str() {
            built.push(build(l, currency, now).with_rules());
        } else {
            outcome.closed += 1;
        }
    }
    if built.is_empty() {
        return Ok(outcome);
    }
    conn.begin().await?;

    let mut wanted: BTreeMap<(&'static str, &'static str), Vec<String>> = BTreeMap::new();
    for b in &built {
        for (record, field, key) in b.rules.iter().flatten() {
            wanted
                .entry((*record, *field))
                .or_default()
                .push(key.clone());
        }
    }
    let mut existing: HashMap<Condition, Vec<Uuid>> = HashMap::new();
    for ((record, field), keys) in wanted {
        for chunk in keys.chunks(READ_CHUNK) {
            let sql = format!(
                "SELECT key_folded, record_id FROM match_keys WHERE record_type = ? AND field = ? AND key_folded IN ({})",
                vec!["?"; chunk.len()].join(", ")
            );
            let mut params = vec![t(record), t(field)];
            params.extend(chunk.iter().map(|k| t(k.as_str())));
            for (key, id) in conn.keys_and_ids(&sql, params).await? {
                existing.entry((record, field, key)).or_default().push(id);
            }
        }
    }
    // Each lead in turn: a rule matches when every condition finds a common record, existing
    // or created by an earlier lead of this call.
    let mut keep = Vec::with_capacity(built.len());
    for b in built {
        let duplicate = b.rules.iter().any(|rule| {
            let mut common: Option<Vec<Uuid>> = None;
            for condition in rule {
                let found = existing.get(condition).cloned().unwrap_or_default();
                common = Some(match common {
                    None => found,
                    Some(previous) => previous
                        .into_iter()
                        .filter(|id| found.contains(id))
                        .collect(),
                });
            }
            common.is_some_and(|ids| !ids.is_empty())
        });
        if duplicate {
            outcome.duplicates += 1;
            continue;
        }
        for condition in b.rules.iter().flatten() {
            let id = if condition.0 == "ACCOUNT" {
                b.account.id
            } else {
                b.contact.id
            };
            existing.entry(condition.clone()).or_default().push(id);
        }
        keep.push(b);
    }
    if keep.is_empty() {
        conn.rollback().await?;
        return Ok(outcome);
    }

    insert_rows(
        conn,
        &ACCOUNTS,
        keep.iter().map(|b| account_row(&b.account)).collect(),
    )
    .await?;
    insert_rows(
        conn,
        &CONTACTS,
        keep.iter().map(|b| contact_row(&b.contact)).collect(),
    )
    .await?;
    insert_rows(
        conn,
        &MATCH_KEYS,
        keep.iter()
            .flat_map(|b| {
                let mut keys = account_keys(&b.account);
                keys.extend(contact_keys(&b.contact));
                keys
            })
            .collect(),
    )
    .await?;
    for b in &keep {
        conn.exec(
            "UPDATE accounts SET primary_contact_id = ? WHERE id = ?",
            vec![u(b.contact.id), u(b.account.id)],
        )
        .await?;
    }
    insert_rows(
        conn,
        &OPPORTUNITIES,
        keep.iter_mut()
            .map(|b| std::mem::take(&mut b.opportunity))
            .collect(),
    )
    .await?;
    insert_rows(
        conn,
        &AUDIT_EVENTS,
        keep.iter()
            .flat_map(|b| audit_rows(b, actor, now))
            .collect(),
    )
    .await?;
    for b in &keep {
        let updated = conn
            .exec(
                "UPDATE leads SET state = 'QUALIFIED', status_reason = 'QUALIFIED', process_stage = 'DEVELOP',
                    qualified_at = ?, modified_at = ?, qualified_account_id = ?, qualified_contact_id = ?,
                    qualifying_opportunity_id = ?
                 WHERE id = ? AND state = 'OPEN'",
                vec![
                    tm(now),
                    tm(now),
                    u(b.account.id),
                    u(b.contact.id),
                    u(b.opportunity_id),
                    u(b.lead),
                ],
            )
            .await?;
        if updated != 1 {
            conn.rollback().await?;
            bail!("lead {} was closed by someone else", b.lead);
        }
    }
    conn.commit().await?;
    outcome.qualified = keep.len() as u64;
    Ok(outcome)
}

pub async fn run(dbs: &Databases, options: &Options) -> Result<Value> {
    let per_txn = options.baseline_chunk;
    progress!(
        "baseline: {} leads with raw SQL, {per_txn} lead(s) per transaction",
        options.leads
    );
    let fresh = dbs.fresh("baseline").await?;
    let (user, _) = prepare(&fresh).await?;
    let ids = seed_leads(&fresh, user, options.leads, &Salt::new()).await?;
    let pool = Pool::connect(&fresh, Purpose::LikeLeadq).await?;
    let mut conn = pool.acquire(Purpose::LikeLeadq).await?;
    let mut outcome = RawOutcome::default();
    let mut missing = 0u64;
    let mut total = Duration::ZERO;
    let batches = ids.len().div_ceil(MAX_BATCH);
    for (i, batch) in ids.chunks(MAX_BATCH).enumerate() {
        let started = Instant::now();
        let (currency, leads) = read_batch(&mut conn, batch).await?;
        missing += (batch.len() - leads.len()) as u64;
        for chunk in leads.chunks(per_txn) {
            let done = qualify_raw(&mut conn, chunk, user, &currency).await?;
            outcome.qualified += done.qualified;
            outcome.duplicates += done.duplicates;
            outcome.closed += done.closed;
        }
        let elapsed = started.elapsed();
        total += elapsed;
        progress!(
            "  batch {}/{batches}: {} leads in {:.2}s ({:.0} leads/s)",
            i + 1,
            batch.len(),
            elapsed.as_secs_f64(),
            batch.len() as f64 / elapsed.as_secs_f64()
        );
    }
    drop(conn);
    pool.close().await;
    let rows = table_counts(&fresh).await?;
    progress!("  rows written: {rows}");
    let errors = outcome.duplicates + outcome.closed + missing;
    if errors > 0 {
        progress!(
            "  ERROR duplicates {}, closed {}, missing {missing}",
            outcome.duplicates,
            outcome.closed
        );
    }
    Ok(json!({
        "leads": ids.len(),
        "leads_per_transaction": per_txn,
        "batches": batches,
        "seconds": round(total.as_secs_f64(), 3),
        "leads_per_s": round(ids.len() as f64 / total.as_secs_f64(), 1),
        "qualified": outcome.qualified,
        "duplicates_found": outcome.duplicates,
        "errors": errors,
        "rows": rows,
    }))
}
