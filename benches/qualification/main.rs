//! Lead-qualification benchmark (issues #7 and #11): bulk throughput against raw SQL (a baseline
//! with leadq's duplicate lookups, and the engine's fastest raw writes as the ceiling), single
//! qualifications under concurrency on one or more server processes, and how the duplicate check
//! scales with the number of accounts and contacts.
//!
//! Run on demand, never part of the test suite (`harness = false`):
//!
//! ```text
//! cargo bench --bench qualification                       # SQLite, every scenario
//! cargo bench --bench qualification -- --processes 1,2    # concurrent on 1, then 2 processes
//! cargo bench --bench qualification -- --leads 100000 --scenarios bulk,limit
//! cargo bench --bench qualification -- --database-url postgres://postgres@127.0.0.1:5432/test \
//!     --processes 1,2
//! ```
//!
//! Flags:
//!
//! - `--database-url URL`: PostgreSQL (default: SQLite files in a temporary directory);
//! - `--leads N` (10,000): leads of bulk, baseline and limit;
//! - `--scenarios bulk,baseline,limit,concurrent,dedup` (the default), plus `job` and `rules`
//!   on demand (`rules`: bulk with the default duplicate rules, then with the recommended set
//!   published, in one run; goal >= 0.9, issue #15);
//! - `--clients 32,64`, `--seconds S` (10): client levels and measured time of concurrent;
//! - `--processes 1,2` (1): server processes of concurrent; the scenario runs once per count,
//!   each on its own fresh database, and a count above one is compared with one process when
//!   `1` is in the list;
//! - `--dedup-sizes 1000,100000,1000000`, `--dedup-samples K` (300);
//! - `--baseline-chunk L` (1): leads per baseline transaction (the issue #7 baseline is one lead
//!   per transaction; `--baseline-chunk 250` compares with leadq's chunked transactions);
//! - `--limit-technique copy|unnest` (copy): how limit writes on PostgreSQL.
//!
//! Every scenario gets its own fresh database (an SQLite file, or a `bench_<uuid>` schema dropped
//! at the end), seeded with raw multi-row SQL (`UNNEST` arrays on PostgreSQL, match-key indexes
//! dropped during the load and rebuilt from their own definitions), never through the API. On
//! PostgreSQL the seeded tables are then `VACUUM ANALYZE`d, the state autovacuum soon reaches.
//!
//! - **bulk** ([`scenarios::bulk`]): N open leads qualified through `qualifyLeads` over HTTP, in
//!   batches of 10,000, by the real release server binary started as a child process; leads/s,
//!   and the server's RSS after each batch and at its peak.
//! - **baseline** ([`scenarios::baseline`]): the same writes done with raw SQL (sqlx, no leadq
//!   service code): read the leads 500 at a time, then per transaction (one lead by default) the
//!   default duplicate lookups, the account, contact, opportunity, their match keys, the four
//!   audit rows, the account's primary contact and the guarded lead update (the row counts of
//!   every scenario are printed: they must agree).
//! - **limit** ([`scenarios::limit`]): the ceiling: the same rows (the baseline's row builders)
//!   written with the fastest raw technique of the engine, 250 leads per transaction on one
//!   connection, no duplicate lookups, no leadq code: on SQLite prepared multi-row
//!   `INSERT ... VALUES` (one statement per table shape, prepared once and reused) and
//!   `UPDATE ... FROM (VALUES ...)`; on PostgreSQL binary `COPY ... FROM STDIN` per table (or
//!   `INSERT ... SELECT FROM unnest(...)`) and `UPDATE ... FROM unnest(...)`. Bulk is judged by
//!   `bulk / limit`, which survives a noisy machine better than absolute figures.
//! - **concurrent** ([`scenarios::concurrent`]): C clients each qualifying single leads with
//!   `qualifyLead` for a fixed time against P server processes on one database, clients spread
//!   round-robin over the processes; qualifications/s, p50/p95/p99 latency, and errors counted
//!   by code (a success is HTTP 200 with no `errors`; `SERVER_BUSY`, HTTP 503 from a full queue
//!   or a missed queue deadline, is an error).
//! - **dedup** ([`scenarios::dedup`]): in-process, the duplicate check one qualification runs
//!   (`account_matches` + `contact_matches` for the candidates a lead maps to) with 1,000 to
//!   1,000,000 accounts and contacts in the database; p50/p99 per size and their ratio
//!   largest/smallest. One check in ten shares a company name or an e-mail with an existing
//!   record, so the "found" path runs too.
//!
//! Goals (issue #11; [`report`]): bulk >= 0.6 x limit on both engines; bulk >= 5,000 leads/s
//! on SQLite, >= 3,000 on PostgreSQL; at 32 clients >= 2,000 qualifications/s with p99 <= 25 ms
//! on SQLite, >= 1,200/s with p99 <= 50 ms on PostgreSQL, zero errors; more clients at least
//! the throughput of fewer (64 >= 32); N processes at least the throughput of one; dedup p50 and
//! p99 ratio largest/smallest <= 2. Kept from issue #7: server RSS after ten batches <= 1.3 x
//! after the first.
//!
//! Layout: [`options`] (flags), [`common`] (helpers), [`rawdb`] (raw sqlx connections, tables,
//! row building, seeding, binary COPY), [`server`] (the child-process server and its RSS),
//! [`scenarios`] (one module each), [`report`] (goals, table, JSON).
//!
//! Output: progress on stderr; a table (figure, value, goal, pass/miss) on stdout and, last, one
//! line of JSON with every figure.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Result;
use serde_json::Value;

use crate::common::stamp;
use crate::options::{Scenario, USAGE, parse_options};
use crate::rawdb::Databases;

macro_rules! progress {
    ($($arg:tt)*) => { eprintln!("{} {}", $crate::common::stamp(), format_args!($($arg)*)) };
}

mod common;
mod options;
mod rawdb;
mod report;
mod scenarios;
mod server;

async fn run(options: options::Options, dbs: Arc<Databases>) -> Result<()> {
    let started = Instant::now();
    let kind = dbs.kind();
    progress!(
        "leadq qualification benchmark on {} ({} leads, {} cores)",
        kind.name(),
        options.leads,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let mut results: BTreeMap<&'static str, Value> = BTreeMap::new();
    if options.runs(Scenario::Bulk) {
        results.insert("bulk", scenarios::bulk::run(&dbs, &options).await?);
    }
    if options.runs(Scenario::Baseline) {
        results.insert("baseline", scenarios::baseline::run(&dbs, &options).await?);
    }
    if options.runs(Scenario::Limit) {
        results.insert("limit", scenarios::limit::run(&dbs, &options).await?);
    }
    if options.runs(Scenario::Concurrent) {
        results.insert(
            "concurrent",
            Value::Array(scenarios::concurrent::run(&dbs, &options).await?),
        );
    }
    if options.runs(Scenario::Dedup) {
        results.insert(
            "dedup",
            Value::Array(scenarios::dedup::run(&dbs, &options).await?),
        );
    }
    if options.runs(Scenario::Rules) {
        results.insert("rules", scenarios::bulk::run_rules(&dbs, &options).await?);
    }
    if options.runs(Scenario::Custom) {
        results.insert("custom", scenarios::custom::run(&dbs, &options).await?);
    }
    if options.runs(Scenario::Job) {
        results.insert(
            "job",
            Value::Array(scenarios::job::run(&dbs, &options).await?),
        );
    }
    let (lines, json) = report::report(kind, &options, &results, started.elapsed());
    println!();
    println!(
        "leadq qualification benchmark: {} ({} s)",
        kind.name(),
        started.elapsed().as_secs()
    );
    report::print_table(&lines);
    println!("{json}");
    Ok(())
}

fn main() {
    let options = match parse_options(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) if message.is_empty() => {
            println!("{USAGE}");
            return;
        }
        Err(message) => {
            eprintln!("{message}\n{USAGE}");
            std::process::exit(2);
        }
    };
    let _ = stamp();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let code = runtime.block_on(async {
        let dbs = Arc::new(Databases {
            base: options.database_url.clone(),
            schemas: Mutex::new(Vec::new()),
        });
        // In a task, so a panic still reaches the cleanup below (the server is killed by its
        // Drop as the task unwinds).
        let outcome = tokio::spawn(run(options, dbs.clone())).await;
        dbs.drop_all().await;
        match outcome {
            Ok(Ok(())) => 0,
            Ok(Err(err)) => {
                eprintln!("benchmark failed: {err:#}");
                1
            }
            Err(err) => {
                eprintln!("benchmark panicked: {err}");
                101
            }
        }
    });
    std::process::exit(code);
}
