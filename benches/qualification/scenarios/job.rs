//! Scenario **job**: a qualification job of every open lead (a million by default), started
//! with `startQualificationJob` (by filter) and followed through the `qualificationJobProgress`
//! subscription over WebSocket, per process count of `--processes`; then, with `--job-kill`
//! (the default), one more run with the most processes of `--processes` whose first server is
//! killed (SIGKILL) at 50 % and restarted, to show the job finishes with every lead qualified
//! exactly once. `--job-kill only` runs just that killed run (a million leads take long).
//!
//! Figures: leads/s; the time from the start call to the first progress event; the longest gap
//! between progress events; server RSS at 10 % and at 100 % (and their ratio); for the killed
//! run, the total time, when progress resumed after the kill, and the final counts.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::common::{Salt, round};
use crate::options::Options;
use crate::rawdb::Databases;
use crate::rawdb::seed::seed_leads;
use crate::rawdb::tables::table_counts;
use crate::server::{Server, prepare, token};

const START: &str = "mutation { startQualificationJob(input: { filter: { states: [OPEN] } }) { job { id total state } } }";
const PROGRESS: &str = "subscription($id: ID!) { qualificationJobProgress(id: $id) { state processed total qualifiedCount failedCount duplicatesFoundCount } }";
/// The job lease of the benchmark's servers: a killed server's chunk is taken over after this.
const LEASE_SECONDS: &str = "5";

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A progress subscription.
async fn subscribe(base: &str, token: &str, job: &str) -> Result<Socket> {
    let mut request =
        format!("{}/graphql", base.replacen("http", "ws", 1)).into_client_request()?;
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse()?);
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await?;
    let send = |v: Value| Message::Text(v.to_string().into());
    socket
        .send(send(json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } })))
        .await?;
    match socket.next().await {
        Some(Ok(Message::Text(t))) if t.contains("connection_ack") => {}
        other => bail!("no connection_ack: {other:?}"),
    }
    socket
        .send(send(json!({ "id": "p", "type": "subscribe",
                           "payload": { "query": PROGRESS, "variables": { "id": job } } })))
        .await?;
    Ok(socket)
}

/// The next progress event (`None` when the subscription completed or the socket closed).
async fn next_progress(socket: &mut Socket) -> Option<Value> {
    loop {
        match tokio::time::timeout(Duration::from_secs(120), socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => {
                let message: Value = serde_json::from_str(&text).ok()?;
                match message["type"].as_str() {
                    Some("next") => {
                        return Some(
                            message["payload"]["data"]["qualificationJobProgress"].clone(),
                        );
                    }
                    Some("ping") => {
                        let _ = socket
                            .send(Message::Text(json!({ "type": "pong" }).to_string().into()))
                            .await;
                    }
                    _ => return None,
                }
            }
            Ok(Some(Ok(_))) => continue,
            _ => return None,
        }
    }
}

/// One job run: `processes` servers, optionally the first one killed at 50 %.
async fn run_one(
    dbs: &Databases,
    options: &Options,
    processes: usize,
    kill: bool,
) -> Result<Value> {
    let leads = options.job_leads;
    progress!(
        "job: {leads} leads, {processes} process(es){}",
        if kill { ", killed at 50 %" } else { "" }
    );
    let fresh = dbs.fresh("job").await?;
    let (user, settings_needed) = prepare(&fresh).await?;
    seed_leads(&fresh, user, leads, &Salt::new()).await?;
    let token = token(user)?;
    let env = [("LEADQ_JOB_LEASE_SECONDS", LEASE_SECONDS)];
    let mut servers = Vec::with_capacity(processes);
    for _ in 0..processes {
        servers.push(Server::start_with(&fresh.url, &env).await?);
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()?;
    if settings_needed {
        servers[0].ensure_settings(&client, &token).await?;
    }

    let started = Instant::now();
    let body = servers[0]
        .graphql(&client, &token, START, json!({}))
        .await?;
    let start_call = started.elapsed();
    let job = body["data"]["startQualificationJob"]["job"]["id"]
        .as_str()
        .ok_or_else(|| anyhow!("startQualificationJob: {body}"))?
        .to_owned();
    progress!(
        "  job {job} started in {:.2}s (total {})",
        start_call.as_secs_f64(),
        body["data"]["startQualificationJob"]["job"]["total"]
    );
    let watcher = processes - 1; // the subscriber talks to the last process (never killed)
    let mut socket = subscribe(&servers[watcher].base, &token, &job).await?;
    let mut first_event: Option<Duration> = None;
    let mut last_event = Instant::now();
    let mut longest_gap = Duration::ZERO;
    let mut rss_at_10 = None;
    let mut rss_at_100 = 0.0;
    // The watched process is never killed: its RSS tells the memory trend of a killed run.
    let mut watcher_rss_at_10 = None;
    let mut watcher_rss_at_100 = 0.0;
    let mut killed_at: Option<(Instant, i64)> = None;
    let mut outage = Duration::ZERO;
    let mut last_processed = 0;
    let mut events = 0u64;
    let mut final_state = Value::Null;
    loop {
        let Some(progress) = next_progress(&mut socket).await else {
            if final_state["state"] == "SUCCEEDED" {
                break;
            }
            // The watched server went away: follow from another one.
            progress!("  progress subscription ended; subscribing again");
            socket = subscribe(&servers[watcher].base, &token, &job).await?;
            continue;
        };
        let now = Instant::now();
        events += 1;
        first_event.get_or_insert_with(|| started.elapsed());
        let gap = now.duration_since(last_event);
        if killed_at.is_none() || outage > Duration::ZERO {
            longest_gap = longest_gap.max(gap);
        }
        last_event = now;
        let processed = progress["processed"].as_i64().unwrap_or(0);
        if let Some((at, before)) = killed_at
            && outage.is_zero()
            && processed > before
        {
            outage = now.duration_since(at);
            progress!(
                "  the job moves again {:.1}s after the kill",
                outage.as_secs_f64()
            );
        }
        if processed != last_processed
            && processed * 10 / leads as i64 != last_processed * 10 / leads as i64
        {
            progress!(
                "  {processed}/{leads} ({:.0} leads/s so far)",
                processed as f64 / started.elapsed().as_secs_f64()
            );
        }
        last_processed = processed;
        if rss_at_10.is_none() && processed * 10 >= leads as i64 {
            rss_at_10 = Some(servers.iter().map(|s| s.memory().rss_mb).sum::<f64>());
            watcher_rss_at_10 = Some(servers[watcher].memory().rss_mb);
        }
        if kill && killed_at.is_none() && processed * 2 >= leads as i64 {
            progress!("  SIGKILL at {processed}/{leads}");
            servers[0].child.kill()?;
            servers[0].child.wait()?;
            killed_at = Some((Instant::now(), processed));
            servers[0] = Server::start_with(&fresh.url, &env).await?;
            if watcher == 0 {
                socket = subscribe(&servers[0].base, &token, &job).await?;
            }
        }
        if progress["state"] == "SUCCEEDED"
            || progress["state"] == "FAILED"
            || progress["state"] == "CANCELED"
        {
            rss_at_100 = servers.iter().map(|s| s.memory().rss_mb).sum::<f64>();
            watcher_rss_at_100 = servers[watcher].memory().rss_mb;
            final_state = progress;
            if final_state["state"] != "SUCCEEDED" {
                bail!("the job ended {}", final_state["state"]);
            }
        }
    }
    let total = started.elapsed();
    let counts = table_counts(&fresh).await.context("counting the rows")?;
    let qualified = counts["qualified_leads"].as_u64().unwrap_or(0);
    ensure!(
        qualified == leads as u64 && counts["accounts"].as_u64() == Some(leads as u64),
        "expected {leads} qualified leads and accounts exactly once, got {counts}"
    );
    // A killed run's rate includes the wait for the dead process's chunk lease.
    let leads_per_s = leads as f64 / total.as_secs_f64();
    progress!(
        "  done in {:.1}s: {:.0} leads/s, first progress after {:.2}s, longest gap {:.2}s, {events} events",
        total.as_secs_f64(),
        leads_per_s,
        first_event.unwrap_or_default().as_secs_f64(),
        longest_gap.as_secs_f64()
    );
    Ok(json!({
        "processes": processes,
        "killed": kill,
        "leads": leads,
        "qualified": qualified,
        "start_call_s": round(start_call.as_secs_f64(), 3),
        "total_s": round(total.as_secs_f64(), 2),
        "outage_s": round(outage.as_secs_f64(), 2),
        "leads_per_s": round(leads_per_s, 1),
        "first_progress_s": round(first_event.unwrap_or_default().as_secs_f64(), 3),
        "longest_gap_s": round(longest_gap.as_secs_f64(), 3),
        "progress_events": events,
        "rss_at_10_mb": round(rss_at_10.unwrap_or(0.0), 1),
        "rss_at_100_mb": round(rss_at_100, 1),
        "watcher_rss_at_10_mb": round(watcher_rss_at_10.unwrap_or(0.0), 1),
        "watcher_rss_at_100_mb": round(watcher_rss_at_100, 1),
        "counts": counts,
    }))
}

/// Every job run: one per process count (unless `--job-kill only`), then the killed one.
pub async fn run(dbs: &Databases, options: &Options) -> Result<Vec<Value>> {
    let mut runs = Vec::new();
    if !options.job_kill_only {
        for &processes in &options.processes {
            runs.push(run_one(dbs, options, processes, false).await?);
        }
    }
    if options.job_kill {
        let most = options.processes.iter().copied().max().unwrap_or(1);
        runs.push(run_one(dbs, options, most, true).await?);
    }
    Ok(runs)
}
