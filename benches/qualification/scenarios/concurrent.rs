//! Scenario **concurrent**: clients each qualifying single leads with `qualifyLead`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Result;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::{Salt, ms, percentile, round};
use crate::options::Options;
use crate::rawdb::Databases;
use crate::rawdb::seed::seed_leads;
use crate::server::{Server, prepare, token};

/// Open leads seeded for each client level of the concurrent scenario.
pub const CONCURRENT_POOL: usize = 40_000;
/// Warm-up before each measured client level.
pub const CONCURRENT_WARMUP: Duration = Duration::from_secs(2);
pub const QUALIFY_LEAD: &str =
    "mutation($i: QualifyLeadInput!) { qualifyLead(input: $i) { outcome } }";

/// What one timed run of C clients measured.
pub struct ClientRun {
    pub latencies: Vec<Duration>,
    pub successes: u64,
    pub not_qualified: u64,
    pub errors: u64,
    pub error_samples: Vec<String>,
    pub elapsed: Duration,
    pub exhausted: bool,
}

/// Shared by the client tasks of one run.
pub struct Shared {
    pub client: reqwest::Client,
    pub url: String,
    pub token: String,
    pub ids: Arc<Vec<String>>,
    pub next: AtomicUsize,
    pub end: usize,
    pub exhausted: AtomicBool,
}

/// One client: qualify the next lead of the pool until the deadline (or the pool is empty).
pub async fn client_loop(
    shared: Arc<Shared>,
    deadline: Instant,
) -> (Vec<Duration>, u64, u64, u64, Vec<String>) {
    let (mut latencies, mut ok, mut not_qualified, mut errors) = (Vec::new(), 0, 0, 0);
    let mut samples = Vec::new();
    while Instant::now() < deadline {
        let i = shared.next.fetch_add(1, Ordering::Relaxed);
        if i >= shared.end {
            shared.exhausted.store(true, Ordering::Relaxed);
            break;
        }
        let body =
            json!({ "query": QUALIFY_LEAD, "variables": { "i": { "leadId": shared.ids[i] } } });
        let started = Instant::now();
        let result = async {
            let response = shared
                .client
                .post(&shared.url)
                .bearer_auth(&shared.token)
                .json(&body)
                .send()
                .await
                .map_err(|e| format!("transport: {e}"))?;
            let status = response.status();
            let text = response.text().await.map_err(|e| format!("body: {e}"))?;
            let value: Value =
                serde_json::from_str(&text).map_err(|_| format!("HTTP {status}: {text:.200}"))?;
            if status != reqwest::StatusCode::OK || value.get("errors").is_some() {
                return Err(format!("HTTP {status}: {text:.300}"));
            }
            Ok(value["data"]["qualifyLead"]["outcome"] == "QUALIFIED")
        }
        .await;
        let elapsed = started.elapsed();
        match result {
            Ok(qualified) => {
                ok += 1;
                if !qualified {
                    not_qualified += 1;
                }
                latencies.push(elapsed);
            }
            Err(message) => {
                errors += 1;
                if samples.len() < 3 {
                    samples.push(message);
                }
            }
        }
    }
    (latencies, ok, not_qualified, errors, samples)
}

pub async fn run_clients(shared: &Arc<Shared>, clients: usize, duration: Duration) -> ClientRun {
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..clients)
        .map(|_| tokio::spawn(client_loop(shared.clone(), deadline)))
        .collect();
    let mut run = ClientRun {
        latencies: Vec::new(),
        successes: 0,
        not_qualified: 0,
        errors: 0,
        error_samples: Vec::new(),
        elapsed: Duration::ZERO,
        exhausted: false,
    };
    for task in tasks {
        let (latencies, ok, not_qualified, errors, samples) = task.await.expect("a client task");
        run.latencies.extend(latencies);
        run.successes += ok;
        run.not_qualified += not_qualified;
        run.errors += errors;
        for s in samples {
            if run.error_samples.len() < 5 {
                run.error_samples.push(s);
            }
        }
    }
    run.elapsed = started.elapsed();
    run.exhausted = shared.exhausted.load(Ordering::Relaxed);
    run.latencies.sort_unstable();
    run
}

pub async fn run(dbs: &Databases, options: &Options) -> Result<Vec<Value>> {
    progress!(
        "concurrent: clients {:?}, {} s each, qualifyLead",
        options.clients,
        options.seconds
    );
    let fresh = dbs.fresh("concurrent").await?;
    let (user, settings_needed) = prepare(&fresh).await?;
    let total = CONCURRENT_POOL * options.clients.len();
    let ids = seed_leads(&fresh, user, total, &Salt::new()).await?;
    let ids: Arc<Vec<String>> = Arc::new(ids.iter().map(Uuid::to_string).collect());
    let token = token(user)?;
    let server = Server::start(&fresh.url).await?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .pool_max_idle_per_host(256)
        .build()?;
    if settings_needed {
        server.ensure_settings(&client, &token).await?;
    }
    let mut results = Vec::new();
    for (level, &clients) in options.clients.iter().enumerate() {
        let shared = Arc::new(Shared {
            client: client.clone(),
            url: server.graphql_url(),
            token: token.clone(),
            ids: ids.clone(),
            next: AtomicUsize::new(level * CONCURRENT_POOL),
            end: (level + 1) * CONCURRENT_POOL,
            exhausted: AtomicBool::new(false),
        });
        let warmup = run_clients(&shared, clients, CONCURRENT_WARMUP).await;
        progress!(
            "  {clients} clients: warm-up {} requests, {} errors",
            warmup.successes + warmup.errors,
            warmup.errors
        );
        let before = shared.next.load(Ordering::Relaxed).min(shared.end);
        let run = run_clients(&shared, clients, Duration::from_secs(options.seconds)).await;
        let used = shared.next.load(Ordering::Relaxed).min(shared.end) - before;
        let seconds = run.elapsed.as_secs_f64();
        let qps = run.successes as f64 / seconds;
        let (p50, p95, p99) = (
            percentile(&run.latencies, 50.0),
            percentile(&run.latencies, 95.0),
            percentile(&run.latencies, 99.0),
        );
        if run.exhausted {
            progress!(
                "  {clients} clients: the pool of {CONCURRENT_POOL} leads ran out: stopped early"
            );
        }
        for s in &run.error_samples {
            progress!("  ERROR {s}");
        }
        progress!(
            "  {clients} clients: {} ok ({} not QUALIFIED), {} errors in {seconds:.2}s: {qps:.0}/s, p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms",
            run.successes,
            run.not_qualified,
            run.errors,
            ms(p50),
            ms(p95),
            ms(p99)
        );
        results.push(json!({
            "clients": clients,
            "seconds": round(seconds, 3),
            "requests": run.successes + run.errors,
            "successes": run.successes,
            "not_qualified": run.not_qualified,
            "errors": run.errors,
            "error_samples": run.error_samples,
            "leads_used": used,
            "pool_exhausted": run.exhausted,
            "qps": round(qps, 1),
            "p50_ms": round(ms(p50), 3),
            "p95_ms": round(ms(p95), 3),
            "p99_ms": round(ms(p99), 3),
            "max_ms": round(ms(run.latencies.last().copied().unwrap_or_default()), 3),
            "server_rss_mb": round(server.memory().rss_mb, 1),
        }));
    }
    let peak = server.memory().peak_mb;
    drop(server);
    for r in &mut results {
        r["server_peak_rss_mb"] = json!(round(peak, 1));
    }
    Ok(results)
}
