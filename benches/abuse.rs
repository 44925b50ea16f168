//! Benchmark scenario `abuse` (issue 13): does a cheap query stay fast while attackers send the
//! most expensive requests the limits accept, and does the server give its memory back?
//!
//! ```sh
//! cargo bench --bench abuse                                  # SQLite, 20,000 leads
//! cargo bench --bench abuse -- --leads 2000 --seconds 5 --settle-seconds 5   # a quick look
//! cargo bench --bench abuse -- --database-url postgres://postgres@127.0.0.1:5432/test
//! ```
//!
//! It seeds a fresh database through the service layer (leads, 300 of them sharing one e-mail so
//! `matchingLeads` returns its full 200, and one lead with ten 100 KB notes), starts the release
//! server binary on it, and then:
//!
//! 1. times each of the most expensive accepted requests alone (latency, response size, server
//!    RSS before and at the peak);
//! 2. times `{ me { id } }` from one client for `--seconds`, first alone, then while
//!    `--attackers` clients send those requests in a loop (p50 / p99 of the cheap query, and how
//!    many expensive requests were served or refused);
//! 3. reads the server's RSS `--settle-seconds` after the attack.
//!
//! It prints a table and, last, one line of JSON with every figure.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use entity::Role;
use leadq::auth::{Actor, TokenKeys};
use leadq::config::Settings;
use leadq::domain::records::LeadChanges;
use leadq::domain::values::{Email, Name, Topic};
use serde_json::{Value, json};

const SECRET: &str = "abuse-bench-secret-abuse-bench-secret-0";

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

struct Options {
    database_url: Option<String>,
    leads: usize,
    seconds: u64,
    settle_seconds: u64,
    attackers: usize,
}

fn options() -> Result<Options> {
    let mut options = Options {
        database_url: None,
        leads: 20_000,
        seconds: 20,
        settle_seconds: 60,
        attackers: 2,
    };
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--database-url" => options.database_url = Some(value()?),
            "--leads" => options.leads = value()?.parse()?,
            "--seconds" => options.seconds = value()?.parse()?,
            "--settle-seconds" => options.settle_seconds = value()?.parse()?,
            "--attackers" => options.attackers = value()?.parse()?,
            other => return Err(format!("unknown flag {other}").into()),
        }
    }
    Ok(options)
}

/// The server's resident memory, in MB.
fn rss_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Samples the RSS every 10 ms until stopped; returns the peak.
fn watch_peak(pid: u32, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<f64> {
    std::thread::spawn(move || {
        let mut peak: f64 = 0.0;
        while !stop.load(Ordering::Relaxed) {
            peak = peak.max(rss_mb(pid));
            std::thread::sleep(Duration::from_millis(10));
        }
        peak
    })
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

/// Seeds the database; returns the admin's id, a lead with many matches, one with big notes.
async fn seed(url: &str, leads: usize) -> Result<(uuid::Uuid, String, String)> {
    let settings = Settings::for_database(url);
    let db = leadq::startup::connect_and_migrate(&settings).await?;
    let events = leadq::startup::events(&db, &settings).await?;
    let admin =
        leadq::service::users::upsert_by_name(&db, "Bench Admin", &[Role::SystemAdministrator])
            .await
            .map_err(|e| e.message())?;
    let actor = Actor::from_user(&admin);
    let mut matched = String::new();
    let mut noted = String::new();
    for i in 0..leads {
        let email = if i < 300 {
            "shared@example.com".to_owned()
        } else {
            format!("person{i}@company{}.example", i % 997)
        };
        let changes = LeadChanges {
            topic: Some(
                Topic::parse("topic", Some(format!("Lead {i}: laptops for the office")))
                    .map_err(|e| e.message())?,
            ),
            first_name: Some(
                Name::parse("firstName", Some(format!("First{i}")), 50).map_err(|e| e.message())?,
            ),
            last_name: Some(
                Name::parse("lastName", Some(format!("Last{i}")), 50).map_err(|e| e.message())?,
            ),
            company_name: Some(
                Name::parse("companyName", Some(format!("Company {}", i % 997)), 100)
                    .map_err(|e| e.message())?,
            ),
            email: Some(Email::parse("email", Some(email)).map_err(|e| e.message())?),
            ..Default::default()
        };
        let lead = leadq::service::leads::create(&db, &events, &actor, changes, None)
            .await
            .map_err(|e| e.message())?
            .lead;
        if i == 0 {
            matched = lead.id.to_string();
        }
        if i == leads - 1 {
            noted = lead.id.to_string();
            for n in 0..10 {
                leadq::service::notes::add(
                    &db,
                    &actor,
                    lead.id,
                    Some(format!("note {n}")),
                    Some("x".repeat(100_000)),
                )
                .await
                .map_err(|e| e.message())?;
            }
        }
    }
    db.close().await;
    Ok((admin.id, matched, noted))
}

fn start(url: &str, port: u16) -> Result<Child> {
    Ok(Command::new(env!("CARGO_BIN_EXE_leadq"))
        .args([
            "--database-url",
            url,
            "--bind",
            &format!("127.0.0.1:{port}"),
        ])
        .env("LEADQ_JWT_SECRET", SECRET)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?)
}

/// The most expensive requests the default limits accept, by kind.
fn attacks(matched: &str, noted: &str) -> Vec<(&'static str, Value)> {
    let fields = "id topic firstName lastName fullName jobTitle businessPhone mobilePhone email \
                  companyName website description industry leadSource rating purchaseTimeframe \
                  purchaseProcess budgetAmount currencyCode decisionMaker state statusReason \
                  processStage createdAt modifiedAt qualifiedAt owner { id name }";
    let searches = (0..9)
        .map(|i| {
            format!("s{i}: leads(first: 0, filter: {{ text: \"laptops {i}\" }}) {{ totalCount }}")
        })
        .collect::<Vec<_>>()
        .join(" ");
    let notes = (0..30)
        .map(|i| format!("n{i}: lead(id: \"{noted}\") {{ notes(first: 10) {{ text }} }}"))
        .collect::<Vec<_>>()
        .join(" ");
    vec![
        (
            "500 leads, every field, text search",
            json!({ "query": format!("{{ leads(first: 500, filter: {{ text: \"laptops\" }}) {{ totalCount edges {{ node {{ {fields} }} }} }} }}") }),
        ),
        (
            "the three matching lists of one lead",
            json!({ "query": format!("{{ lead(id: \"{matched}\") {{ matchingLeads {{ lead {{ id topic email owner {{ name }} }} rules {{ ruleName fields }} }} matchingAccounts {{ account {{ id name }} }} matchingContacts {{ contact {{ id fullName }} }} }} }}") }),
        ),
        (
            "nine text searches",
            json!({ "query": format!("{{ {searches} }}") }),
        ),
        (
            "30 aliases of 10 notes of 100 KB",
            json!({ "query": format!("{{ {notes} }}") }),
        ),
    ]
}

#[tokio::main]
async fn main() -> Result<()> {
    let options = options()?;
    let dir = tempfile::tempdir()?;
    let url = options.database_url.clone().unwrap_or_else(|| {
        format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("abuse.db").display()
        )
    });
    eprintln!("seeding {} leads into {url}", options.leads);
    let (admin, matched, noted) = seed(&url, options.leads).await?;
    let token = TokenKeys::new(SECRET.as_bytes(), None, None)
        .mint(admin, chrono::Duration::hours(2))
        .map_err(|e| e.message())?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut child = start(&url, port)?;
    let pid = child.id();
    let endpoint = format!("http://127.0.0.1:{port}/graphql");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while client
        .get(format!("http://127.0.0.1:{port}/health"))
        .send()
        .await
        .is_err()
    {
        if Instant::now() > deadline {
            let _ = child.kill();
            return Err("the server did not start".into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let post = move |body: Value| {
        let (client, endpoint, token) = (client.clone(), endpoint.clone(), token.clone());
        async move {
            let started = Instant::now();
            let response = client
                .post(endpoint)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await?;
            let text = response.text().await?;
            Ok::<_, reqwest::Error>((started.elapsed(), text))
        }
    };
    let rss_start = rss_mb(pid);
    let mut figures = json!({ "leads": options.leads, "rssStartMb": rss_start, "requests": [] });
    println!("| request | ms | response KB | code | RSS before / peak MB |");
    println!("|---|---|---|---|---|");
    for (name, body) in attacks(&matched, &noted) {
        let before = rss_mb(pid);
        let stop = Arc::new(AtomicBool::new(false));
        let peak = watch_peak(pid, stop.clone());
        let (elapsed, text) = post(body).await?;
        stop.store(true, Ordering::Relaxed);
        let peak = peak.join().unwrap_or(0.0);
        let code = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| {
                v["errors"][0]["extensions"]["code"]
                    .as_str()
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| "ok".to_owned());
        println!(
            "| {name} | {:.0} | {:.0} | {code} | {before:.0} / {peak:.0} |",
            elapsed.as_secs_f64() * 1000.0,
            text.len() as f64 / 1024.0
        );
        if let Some(list) = figures["requests"].as_array_mut() {
            list.push(json!({ "name": name, "ms": elapsed.as_secs_f64() * 1000.0,
                              "bytes": text.len(), "code": code, "rssBeforeMb": before, "rssPeakMb": peak }));
        }
    }

    // The cheap query, alone and under attack.
    let cheap = |seconds: u64| {
        let post = post.clone();
        async move {
            let mut times = Vec::new();
            let until = Instant::now() + Duration::from_secs(seconds);
            while Instant::now() < until {
                if let Ok((elapsed, _)) = post(json!({ "query": "{ me { id } }" })).await {
                    times.push(elapsed);
                }
            }
            times.sort();
            times
        }
    };
    let alone = cheap(options.seconds.min(5)).await;
    let stop = Arc::new(AtomicBool::new(false));
    let served = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let peak = watch_peak(pid, stop.clone());
    let mut attackers = Vec::new();
    for a in 0..options.attackers {
        let (stop, served, refused, post) =
            (stop.clone(), served.clone(), refused.clone(), post.clone());
        let list = attacks(&matched, &noted);
        attackers.push(tokio::spawn(async move {
            let mut i = a;
            while !stop.load(Ordering::Relaxed) {
                let (_, body) = &list[i % list.len()];
                i += 1;
                match post(body.clone()).await {
                    Ok((_, text)) if text.contains("\"errors\"") => {
                        refused.fetch_add(1, Ordering::Relaxed)
                    }
                    Ok(_) => served.fetch_add(1, Ordering::Relaxed),
                    Err(_) => refused.fetch_add(1, Ordering::Relaxed),
                };
            }
        }));
    }
    let attacked = cheap(options.seconds).await;
    stop.store(true, Ordering::Relaxed);
    for attacker in attackers {
        let _ = attacker.await;
    }
    let attack_peak = peak.join().unwrap_or(0.0);
    let after_attack = rss_mb(pid);
    tokio::time::sleep(Duration::from_secs(options.settle_seconds)).await;
    let settled = rss_mb(pid);
    println!();
    println!("| figure | value |");
    println!("|---|---|");
    println!(
        "| `me` alone: p50 / p99 ms | {:.1} / {:.1} |",
        percentile(&alone, 0.5),
        percentile(&alone, 0.99)
    );
    println!(
        "| `me` under attack ({} attackers): p50 / p99 ms | {:.1} / {:.1} |",
        options.attackers,
        percentile(&attacked, 0.5),
        percentile(&attacked, 0.99)
    );
    println!(
        "| expensive requests served / answered with an error | {} / {} |",
        served.load(Ordering::Relaxed),
        refused.load(Ordering::Relaxed)
    );
    println!(
        "| server RSS: start / attack peak / end of attack / {} s later (MB) | {rss_start:.0} / {attack_peak:.0} / {after_attack:.0} / {settled:.0} |",
        options.settle_seconds
    );
    figures["meAloneP50Ms"] = json!(percentile(&alone, 0.5));
    figures["meAloneP99Ms"] = json!(percentile(&alone, 0.99));
    figures["meAttackedP50Ms"] = json!(percentile(&attacked, 0.5));
    figures["meAttackedP99Ms"] = json!(percentile(&attacked, 0.99));
    figures["attacksServed"] = json!(served.load(Ordering::Relaxed));
    figures["attacksErrored"] = json!(refused.load(Ordering::Relaxed));
    figures["rssAttackPeakMb"] = json!(attack_peak);
    figures["rssEndOfAttackMb"] = json!(after_attack);
    figures["rssSettledMb"] = json!(settled);
    figures["settleSeconds"] = json!(options.settle_seconds);
    println!("{figures}");
    let _ = child.kill();
    let _ = child.wait();
    Ok(())
}
