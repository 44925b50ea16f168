//! Bulk loading of a fresh database: open leads, and the accounts and contacts of the dedup
//! scenario, with their match keys.

use std::time::{Duration, Instant};

use anyhow::Result;
use entity::{account, contact, lead};
use uuid::Uuid;

use super::rows::{
    account_keys, account_row, contact_keys, contact_row, lead_keys, lead_row, make_account,
    make_contact, make_lead,
};
use super::tables::{
    ACCOUNTS, CONTACTS, LEADS, MATCH_KEYS, Table, drop_indexes, insert_rows, recreate_indexes,
    vacuum,
};
use super::{Conn, Fresh, Kind, P, Pool, Purpose};
use crate::common::{Salt, now};

/// Leads seeded per transaction.
pub const SEED_CHUNK: usize = 10_000;
/// Accounts (and as many contacts) seeded per transaction in the dedup scenario.
pub const DEDUP_SEED_CHUNK: usize = 20_000;

/// Bulk loading: records and their match keys in big transactions. On PostgreSQL the match keys
/// load on a second connection beside the records, so the server uses both cores.
pub struct Seeder {
    pub pool: Pool,
    pub main: Conn,
    pub side: Option<Conn>,
}

impl Seeder {
    pub async fn open(fresh: &Fresh) -> Result<Self> {
        let pool = Pool::connect(fresh, Purpose::Seed).await?;
        let main = pool.acquire(Purpose::Seed).await?;
        let side = match fresh.kind {
            Kind::Postgres => Some(pool.acquire(Purpose::Seed).await?),
            Kind::Sqlite => None,
        };
        Ok(Self { pool, main, side })
    }

    /// Inserts one chunk: `records` (table by table, in order) and `keys` (match keys).
    pub async fn load(
        &mut self,
        records: Vec<(&'static Table, Vec<Vec<P>>)>,
        keys: Vec<Vec<P>>,
    ) -> Result<()> {
        let Seeder { main, side, .. } = self;
        let (inline_keys, side_keys) = match side {
            Some(_) => (Vec::new(), keys),
            None => (keys, Vec::new()),
        };
        let load_records = async {
            main.begin().await?;
            for (table, rows) in records {
                insert_rows(main, table, rows).await?;
            }
            insert_rows(main, &MATCH_KEYS, inline_keys).await?;
            main.commit().await
        };
        match side {
            None => load_records.await,
            Some(side) => {
                let load_keys = async {
                    side.begin().await?;
                    insert_rows(side, &MATCH_KEYS, side_keys).await?;
                    side.commit().await
                };
                tokio::try_join!(load_records, load_keys).map(|_| ())
            }
        }
    }

    pub async fn close(self) {
        drop(self.main);
        drop(self.side);
        self.pool.close().await;
    }
}

/// Seeds `count` open leads owned by `owner` with their match keys; their ids, in order.
pub async fn seed_leads(
    fresh: &Fresh,
    owner: Uuid,
    count: usize,
    salt: &Salt,
) -> Result<Vec<Uuid>> {
    let started = Instant::now();
    let mut seeder = Seeder::open(fresh).await?;
    let indexes = drop_indexes(&mut seeder.main, "match_keys").await?;
    let now = now();
    let mut ids = Vec::with_capacity(count);
    for start in (0..count).step_by(SEED_CHUNK) {
        let end = (start + SEED_CHUNK).min(count);
        let leads: Vec<lead::Model> = (start..end)
            .map(|n| make_lead(n as u64, salt, owner, now))
            .collect();
        seeder
            .load(
                vec![(&LEADS, leads.iter().map(lead_row).collect())],
                leads.iter().flat_map(lead_keys).collect(),
            )
            .await?;
        ids.extend(leads.iter().map(|l| l.id));
        if end.is_multiple_of(50_000) || end == count {
            progress!("  seeded {end}/{count} leads");
        }
    }
    recreate_indexes(&mut seeder.main, &indexes).await?;
    vacuum(&mut seeder.main, &["leads", "match_keys"]).await?;
    seeder.close().await;
    progress!(
        "  seeded {count} leads in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    Ok(ids)
}

/// Seeds accounts and contacts `from..to` (one contact per account) with their match keys.
pub async fn seed_accounts_and_contacts(
    seeder: &mut Seeder,
    from: usize,
    to: usize,
    salt: &Salt,
    owner: Uuid,
) -> Result<()> {
    let started = Instant::now();
    let now = now();
    let mut dropped = Vec::new();
    for table in ["match_keys", "accounts", "contacts"] {
        dropped.extend(drop_indexes(&mut seeder.main, table).await?);
    }
    let mut last_report = Instant::now();
    for start in (from..to).step_by(DEDUP_SEED_CHUNK) {
        let end = (start + DEDUP_SEED_CHUNK).min(to);
        let accounts: Vec<account::Model> = (start..end)
            .map(|k| make_account(k, salt, owner, now))
            .collect();
        let contacts: Vec<contact::Model> = accounts
            .iter()
            .zip(start..end)
            .map(|(a, k)| make_contact(k, salt, a.id, owner, now))
            .collect();
        let mut keys: Vec<Vec<P>> = accounts.iter().flat_map(account_keys).collect();
        keys.extend(contacts.iter().flat_map(contact_keys));
        seeder
            .load(
                vec![
                    (&ACCOUNTS, accounts.iter().map(account_row).collect()),
                    (&CONTACTS, contacts.iter().map(contact_row).collect()),
                ],
                keys,
            )
            .await?;
        if last_report.elapsed() > Duration::from_secs(10) || end == to {
            last_report = Instant::now();
            let done = end - from;
            progress!(
                "  seeded {end}/{to} accounts and contacts ({:.0} pairs/s)",
                done as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    progress!("  rebuilding {} indexes", dropped.len());
    recreate_indexes(&mut seeder.main, &dropped).await?;
    vacuum(&mut seeder.main, &["accounts", "contacts", "match_keys"]).await?;
    progress!(
        "  seeding to {to} took {:.1}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
