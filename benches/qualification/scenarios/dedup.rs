//! Scenario **dedup**: the duplicate check of one qualification, in-process, against growing
//! numbers of accounts and contacts.

use std::time::Instant;

use anyhow::{Result, anyhow};
use entity::Role;
use leadq::config::Settings;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::common::{Salt, now, percentile, round, us};
use crate::options::Options;
use crate::rawdb::Databases;
use crate::rawdb::rows::{dedup_account_name, dedup_contact_email, make_lead};
use crate::rawdb::seed::{Seeder, seed_accounts_and_contacts};

/// Duplicate checks run (untimed) before each measured dedup size.
pub const DEDUP_WARMUP: usize = 50;
/// Offset of the counters of dedup candidates (far from every seeded record's).
pub const CANDIDATE_BASE: u64 = 9_000_000_000;

pub async fn run(dbs: &Databases, options: &Options) -> Result<Vec<Value>> {
    progress!(
        "dedup: sizes {:?}, {} samples each",
        options.dedup_sizes,
        options.dedup_samples
    );
    let fresh = dbs.fresh("dedup").await?;
    let db = leadq::startup::connect_and_migrate(&Settings::for_database(&fresh.url)).await?;
    let owner = leadq::service::users::upsert_by_name(&db, "bench", &[Role::SystemAdministrator])
        .await
        .map_err(|e| anyhow!("cannot create the bench user: {}", e.message()))?
        .id;
    let mut seeder = Seeder::open(&fresh).await?;
    let salt = Salt::new();
    let candidate_salt = Salt::new();
    let mut rng = rand::rngs::StdRng::from_os_rng();
    let mut have = 0;
    let mut counter = CANDIDATE_BASE;
    let mut results = Vec::new();
    for &size in &options.dedup_sizes {
        let seed_started = Instant::now();
        seed_accounts_and_contacts(&mut seeder, have, size, &salt, owner).await?;
        let seed_seconds = seed_started.elapsed().as_secs_f64();
        have = size;
        let (mut expected, mut found, mut unexpected) = (0u64, 0u64, 0u64);
        let mut latencies = Vec::with_capacity(options.dedup_samples);
        for i in 0..DEDUP_WARMUP + options.dedup_samples {
            counter += 1;
            let now = now();
            let mut l = make_lead(counter, &candidate_salt, owner, now);
            let shares = i % 10 == 5;
            if shares {
                let k = rng.random_range(0..size);
                if (i / 10) % 2 == 0 {
                    l.company_name = Some(dedup_account_name(k, &salt));
                } else {
                    l.email = Some(dedup_contact_email(k, &salt));
                }
            }
            let mappings = leadq::domain::qualification::Mappings::default();
            let none = std::collections::HashMap::new();
            let account =
                leadq::domain::qualification::mapped_account(&l, &none, owner, now, &mappings)
                    .map_err(|e| anyhow!("mapped_account: {}", e.message()))?;
            let contact =
                leadq::domain::qualification::mapped_contact(&l, &none, owner, now, &mappings)
                    .map_err(|e| anyhow!("mapped_contact: {}", e.message()))?;
            let started = Instant::now();
            let accounts = leadq::service::duplicates::account_matches(&db.read, &account)
                .await
                .map_err(|e| anyhow!("account_matches: {}", e.message()))?;
            let contacts = leadq::service::duplicates::contact_matches(&db.read, &contact)
                .await
                .map_err(|e| anyhow!("contact_matches: {}", e.message()))?;
            let elapsed = started.elapsed();
            if i < DEDUP_WARMUP {
                continue;
            }
            latencies.push(elapsed);
            let matched = !accounts.is_empty() || !contacts.is_empty();
            match (shares, matched) {
                (true, true) => {
                    expected += 1;
                    found += 1;
                }
                (true, false) => expected += 1,
                (false, true) => unexpected += 1,
                (false, false) => {}
            }
        }
        latencies.sort_unstable();
        let (p50, p99) = (percentile(&latencies, 50.0), percentile(&latencies, 99.0));
        if found != expected || unexpected > 0 {
            progress!(
                "  ERROR at {size}: {found} of {expected} planted duplicates found, {unexpected} unexpected matches"
            );
        }
        progress!(
            "  {size} accounts + {size} contacts: p50 {:.0} µs, p99 {:.0} µs ({found}/{expected} planted duplicates found)",
            us(p50),
            us(p99)
        );
        results.push(json!({
            "size": size,
            "samples": latencies.len(),
            "p50_us": round(us(p50), 1),
            "p99_us": round(us(p99), 1),
            "max_us": round(us(latencies.last().copied().unwrap_or_default()), 1),
            "planted_duplicates": expected,
            "planted_found": found,
            "unexpected_matches": unexpected,
            "seed_seconds": round(seed_seconds, 1),
        }));
    }
    seeder.close().await;
    db.close().await;
    Ok(results)
}
