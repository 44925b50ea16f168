//! Scenario **concurrent**: C clients each qualifying single leads with `qualifyLead` for a fixed
//! time, against P server processes on one database (`--processes`, default 1; PostgreSQL, and
//! SQLite too: several processes on one file). The clients are spread round-robin over the
//! processes (client i talks to process i mod P), as a load balancer with sticky connections
//! would. Each process count in `--processes 1,2` gets its own fresh database, seeded alike, and
//! runs every client level.
//!
//! A response is a success only if it is HTTP 200 with no `errors`; every other one is an error,
//! counted by its code: `errors[0].extensions.code` (e.g. `SERVER_BUSY`, HTTP 503 when the
//! server's single-call queue is full or a call waited past its deadline), `HTTP <status>`
//! without a code, `TRANSPORT` when no response came. Errors are not retried.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::{Salt, ms, percentile, round};
use crate::options::Options;
use crate::rawdb::Databases;
use crate::rawdb::seed::seed_leads;
use crate::server::{Server, prepare, token};

/// Warm-up before each measured client level.
const CONCURRENT_WARMUP: Duration = Duration::from_secs(2);
/// Open leads seeded per client level: enough for the warm-up and the measured time at this
/// many qualifications per second (the level stops early, and says so, if they run out).
const POOL_RATE: usize = 4_000;
/// The fewest open leads seeded per client level.
const POOL_MIN: usize = 10_000;
const QUALIFY_LEAD: &str = "mutation($i: QualifyLeadInput!) { qualifyLead(input: $i) { outcome } }";

/// Open leads seeded for each client level.
fn pool_per_level(seconds: u64) -> usize {
    let seconds = seconds as usize + CONCURRENT_WARMUP.as_secs() as usize;
    (seconds * POOL_RATE).max(POOL_MIN)
}

/// What one client (or, merged, one timed run of C clients) measured.
#[derive(Default)]
struct Measured {
    latencies: Vec<Duration>,
    successes: u64,
    not_qualified: u64,
    errors: u64,
    errors_by_code: BTreeMap<String, u64>,
    error_samples: Vec<String>,
}

impl Measured {
    fn fail(&mut self, code: String, sample: String, keep: usize) {
        self.errors += 1;
        *self.errors_by_code.entry(code).or_default() += 1;
        if self.error_samples.len() < keep {
            self.error_samples.push(sample);
        }
    }

    fn merge(&mut self, other: Measured) {
        self.latencies.extend(other.latencies);
        self.successes += other.successes;
        self.not_qualified += other.not_qualified;
        self.errors += other.errors;
        for (code, n) in other.errors_by_code {
            *self.errors_by_code.entry(code).or_default() += n;
        }
        for s in other.error_samples {
            if self.error_samples.len() < 5 {
                self.error_samples.push(s);
            }
        }
    }

    /// `SERVER_BUSY 3, HTTP 500 1`, or `-`.
    fn codes(&self) -> String {
        if self.errors_by_code.is_empty() {
            return "-".to_owned();
        }
        let parts: Vec<String> = self
            .errors_by_code
            .iter()
            .map(|(code, n)| format!("{code} {n}"))
            .collect();
        parts.join(", ")
    }
}

/// Shared by the client tasks of one run.
struct Shared {
    client: reqwest::Client,
    token: String,
    ids: Arc<Vec<String>>,
    next: AtomicUsize,
    end: usize,
    exhausted: AtomicBool,
}

/// One request: whether the lead was QUALIFIED, or the error's code and a sample message.
async fn qualify(shared: &Shared, url: &str, lead: &str) -> Result<bool, (String, String)> {
    let body = json!({ "query": QUALIFY_LEAD, "variables": { "i": { "leadId": lead } } });
    let response = shared
        .client
        .post(url)
        .bearer_auth(&shared.token)
        .json(&body)
        .send()
        .await
        .map_err(|e| ("TRANSPORT".to_owned(), format!("transport: {e}")))?;
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|e| ("TRANSPORT".to_owned(), format!("body: {e}")))?;
    let http = || format!("HTTP {}", status.as_u16());
    let value: Value =
        serde_json::from_str(&text).map_err(|_| (http(), format!("HTTP {status}: {text:.200}")))?;
    if let Some(errors) = value.get("errors") {
        let code = errors[0]["extensions"]["code"]
            .as_str()
            .map_or_else(http, str::to_owned);
        return Err((code, format!("HTTP {status}: {text:.300}")));
    }
    if status != reqwest::StatusCode::OK {
        return Err((http(), format!("HTTP {status}: {text:.300}")));
    }
    Ok(value["data"]["qualifyLead"]["outcome"] == "QUALIFIED")
}

/// One client: qualify the next lead of the pool through `url` until the deadline (or the pool
/// is empty).
async fn client_loop(shared: Arc<Shared>, url: String, deadline: Instant) -> Measured {
    let mut measured = Measured::default();
    while Instant::now() < deadline {
        let i = shared.next.fetch_add(1, Ordering::Relaxed);
        if i >= shared.end {
            shared.exhausted.store(true, Ordering::Relaxed);
            break;
        }
        let started = Instant::now();
        let result = qualify(&shared, &url, &shared.ids[i]).await;
        let elapsed = started.elapsed();
        match result {
            Ok(qualified) => {
                measured.successes += 1;
                if !qualified {
                    measured.not_qualified += 1;
                }
                measured.latencies.push(elapsed);
            }
            Err((code, sample)) => measured.fail(code, sample, 3),
        }
    }
    measured
}

/// What one timed run of C clients measured.
struct ClientRun {
    measured: Measured,
    elapsed: Duration,
    exhausted: bool,
}

/// Runs `clients` clients for `duration`, client i on `urls[i % urls.len()]`.
async fn run_clients(
    shared: &Arc<Shared>,
    urls: &[String],
    clients: usize,
    duration: Duration,
) -> Result<ClientRun> {
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = urls
        .iter()
        .cycle()
        .take(clients)
        .map(|url| tokio::spawn(client_loop(shared.clone(), url.clone(), deadline)))
        .collect();
    let mut measured = Measured::default();
    for task in tasks {
        measured.merge(task.await.map_err(|e| anyhow!("a client task: {e}"))?);
    }
    measured.latencies.sort_unstable();
    Ok(ClientRun {
        measured,
        elapsed: started.elapsed(),
        exhausted: shared.exhausted.load(Ordering::Relaxed),
    })
}

pub async fn run(dbs: &Databases, options: &Options) -> Result<Vec<Value>> {
    let mut results = Vec::new();
    for &processes in &options.processes {
        results.extend(run_processes(dbs, options, processes).await?);
    }
    Ok(results)
}

/// Every client level against `processes` server processes on one fresh database.
async fn run_processes(dbs: &Databases, options: &Options, processes: usize) -> Result<Vec<Value>> {
    let pool = pool_per_level(options.seconds);
    progress!(
        "concurrent: {processes} server process(es), clients {:?}, {} s each, qualifyLead",
        options.clients,
        options.seconds
    );
    let fresh = dbs.fresh(&format!("concurrent-{processes}p")).await?;
    let (user, settings_needed) = prepare(&fresh).await?;
    let ids = seed_leads(&fresh, user, pool * options.clients.len(), &Salt::new()).await?;
    let ids: Arc<Vec<String>> = Arc::new(ids.iter().map(Uuid::to_string).collect());
    let token = token(user)?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .pool_max_idle_per_host(256)
        .build()?;
    let mut servers = Vec::with_capacity(processes);
    for _ in 0..processes {
        let server = Server::start(&fresh.url).await?;
        // Once, through the first process, before the others start.
        if settings_needed && servers.is_empty() {
            server.ensure_settings(&client, &token).await?;
        }
        servers.push(server);
    }
    let urls: Vec<String> = servers.iter().map(Server::graphql_url).collect();
    let mut results = Vec::new();
    for (level, &clients) in options.clients.iter().enumerate() {
        let shared = Arc::new(Shared {
            client: client.clone(),
            token: token.clone(),
            ids: ids.clone(),
            next: AtomicUsize::new(level * pool),
            end: (level + 1) * pool,
            exhausted: AtomicBool::new(false),
        });
        let label = format!("{clients} clients on {processes} process(es)");
        let warmup = run_clients(&shared, &urls, clients, CONCURRENT_WARMUP).await?;
        progress!(
            "  {label}: warm-up {} requests, {} errors",
            warmup.measured.successes + warmup.measured.errors,
            warmup.measured.errors
        );
        let before = shared.next.load(Ordering::Relaxed).min(shared.end);
        let run = run_clients(
            &shared,
            &urls,
            clients,
            Duration::from_secs(options.seconds),
        )
        .await?;
        let used = shared.next.load(Ordering::Relaxed).min(shared.end) - before;
        let m = &run.measured;
        let seconds = run.elapsed.as_secs_f64();
        let qps = m.successes as f64 / seconds;
        let (p50, p95, p99) = (
            percentile(&m.latencies, 50.0),
            percentile(&m.latencies, 95.0),
            percentile(&m.latencies, 99.0),
        );
        if run.exhausted {
            progress!("  {label}: the pool of {pool} leads ran out: stopped early");
        }
        for s in &m.error_samples {
            progress!("  ERROR {s}");
        }
        progress!(
            "  {label}: {} ok ({} not QUALIFIED), {} errors ({}) in {seconds:.2}s: {qps:.0}/s, p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms",
            m.successes,
            m.not_qualified,
            m.errors,
            m.codes(),
            ms(p50),
            ms(p95),
            ms(p99)
        );
        results.push(json!({
            "processes": processes,
            "clients": clients,
            "seconds": round(seconds, 3),
            "requests": m.successes + m.errors,
            "successes": m.successes,
            "not_qualified": m.not_qualified,
            "errors": m.errors,
            "errors_by_code": m.errors_by_code,
            "error_samples": m.error_samples,
            "leads_used": used,
            "pool_exhausted": run.exhausted,
            "qps": round(qps, 1),
            "p50_ms": round(ms(p50), 3),
            "p95_ms": round(ms(p95), 3),
            "p99_ms": round(ms(p99), 3),
            "max_ms": round(ms(m.latencies.last().copied().unwrap_or_default()), 3),
            "server_rss_mb": servers.iter().map(|s| round(s.memory().rss_mb, 1)).collect::<Vec<_>>(),
        }));
    }
    let peaks: Vec<f64> = servers
        .iter()
        .map(|s| round(s.memory().peak_mb, 1))
        .collect();
    drop(servers);
    for r in &mut results {
        r["server_peak_rss_mb"] = json!(peaks);
    }
    Ok(results)
}
