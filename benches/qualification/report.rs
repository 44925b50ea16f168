//! The report: goals, the table (figure, value, goal, pass/miss) and the JSON line. The goals
//! are issue #11's, except the RSS one, kept from issue #7 and marked so.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::round;
use crate::options::Options;
use crate::rawdb::Kind;

/// Bulk leads/s: SQLite, PostgreSQL.
pub const GOAL_BULK_SQLITE: f64 = 5_000.0;
pub const GOAL_BULK_POSTGRES: f64 = 3_000.0;
/// Bulk throughput as a share of the limit scenario's.
pub const GOAL_BULK_VS_LIMIT: f64 = 0.6;
/// The client level the concurrent goals are set at.
pub const GOAL_CONCURRENT_CLIENTS: u64 = 32;
/// At 32 clients: qualifications/s and p99 in ms, per engine.
pub const GOAL_CONCURRENT_SQLITE: (f64, f64) = (2_000.0, 25.0);
pub const GOAL_CONCURRENT_POSTGRES: (f64, f64) = (1_200.0, 50.0);
/// Dedup p50 and p99 at the largest size over the smallest.
pub const GOAL_DEDUP_RATIO: f64 = 2.0;
/// Issue #7: server RSS after the last of at least ten 10,000-lead batches over after the first.
pub const GOAL_RSS_RATIO: f64 = 1.3;
pub const GOAL_RSS_BATCHES: usize = 10;
/// Issue #14: a job's leads/s against the bulk scenario's.
pub const GOAL_JOB_VS_BULK: f64 = 0.9;
/// Issue #14: progress at least once a second.
pub const GOAL_JOB_PROGRESS_GAP_S: f64 = 1.0;

pub struct Line {
    pub scenario: String,
    pub figure: String,
    pub value: String,
    pub goal: String,
    pub result: String,
}

pub fn verdict(pass: Option<bool>) -> String {
    match pass {
        Some(true) => "pass".to_owned(),
        Some(false) => "MISS".to_owned(),
        None => "n/a".to_owned(),
    }
}

pub fn line(scenario: &str, figure: &str, value: String) -> Line {
    Line {
        scenario: scenario.to_owned(),
        figure: figure.to_owned(),
        value,
        goal: String::new(),
        result: String::new(),
    }
}

/// Adds a goal line and its JSON entry.
pub fn goal(
    lines: &mut Vec<Line>,
    goals: &mut serde_json::Map<String, Value>,
    (scenario, figure, key): (&str, &str, &str),
    value: Option<f64>,
    (text, pass): (&str, Option<bool>),
    shown: String,
) {
    lines.push(Line {
        scenario: scenario.to_owned(),
        figure: figure.to_owned(),
        value: shown,
        goal: text.to_owned(),
        result: verdict(pass),
    });
    goals.insert(
        key.to_owned(),
        json!({ "value": value.map(|v| round(v, 3)), "goal": text, "pass": pass }),
    );
}

/// The concurrent scenario's lines: per process count and client level, throughput, latency and
/// errors (by code); the 32-client goals of the engine at every process count; each client
/// level against the next smaller one run (more clients must not lower throughput: 64 >= 32);
/// each process count above one against one process at the same client level.
fn concurrent(
    kind: Kind,
    levels: &[Value],
    lines: &mut Vec<Line>,
    goals: &mut serde_json::Map<String, Value>,
) {
    let num = |v: &Value, k: &str| v[k].as_f64();
    let at = |v: &Value| {
        (
            v["processes"].as_u64().unwrap_or(1),
            v["clients"].as_u64().unwrap_or(0),
        )
    };
    let qps_at = |processes: u64, clients: u64| {
        levels
            .iter()
            .find(|l| at(l) == (processes, clients))
            .and_then(|l| num(l, "qps"))
    };
    let (goal_qps, goal_p99) = match kind {
        Kind::Sqlite => GOAL_CONCURRENT_SQLITE,
        Kind::Postgres => GOAL_CONCURRENT_POSTGRES,
    };
    let engine = match kind {
        Kind::Sqlite => "SQLite",
        Kind::Postgres => "PostgreSQL",
    };
    for level in levels {
        let (p, c) = at(level);
        let (scenario, key) = if p == 1 {
            (format!("concurrent {c}"), format!("concurrent_{c}"))
        } else {
            (
                format!("concurrent {c}, {p} proc"),
                format!("concurrent_{p}p_{c}"),
            )
        };
        let qps = num(level, "qps");
        let p99 = num(level, "p99_ms");
        if c == GOAL_CONCURRENT_CLIENTS {
            goal(
                lines,
                goals,
                (&scenario, "qualifications/s", &format!("{key}_qps")),
                qps,
                (
                    &format!(">= {goal_qps:.0} ({engine})"),
                    qps.map(|q| q >= goal_qps),
                ),
                format!("{:.0}", qps.unwrap_or(0.0)),
            );
        } else {
            lines.push(line(
                &scenario,
                "qualifications/s",
                format!("{:.0}", qps.unwrap_or(0.0)),
            ));
        }
        lines.push(line(
            &scenario,
            "p50 / p95 (ms)",
            format!(
                "{:.2} / {:.2}",
                num(level, "p50_ms").unwrap_or(0.0),
                num(level, "p95_ms").unwrap_or(0.0)
            ),
        ));
        if c == GOAL_CONCURRENT_CLIENTS {
            goal(
                lines,
                goals,
                (&scenario, "p99 (ms)", &format!("{key}_p99_ms")),
                p99,
                (
                    &format!("<= {goal_p99:.0} ({engine})"),
                    p99.map(|v| v <= goal_p99),
                ),
                format!("{:.2}", p99.unwrap_or(0.0)),
            );
        } else {
            lines.push(line(
                &scenario,
                "p99 (ms)",
                format!("{:.2}", p99.unwrap_or(0.0)),
            ));
        }
        let errors = num(level, "errors");
        goal(
            lines,
            goals,
            (&scenario, "errors", &format!("{key}_errors")),
            errors,
            ("0", errors.map(|e| e == 0.0)),
            format!("{}", level["errors"]),
        );
        if let Some(codes) = level["errors_by_code"].as_object()
            && !codes.is_empty()
        {
            let text: Vec<String> = codes
                .iter()
                .map(|(code, n)| format!("{code} {n}"))
                .collect();
            lines.push(line(&scenario, "errors by code", text.join(", ")));
        }
        let fewer = levels
            .iter()
            .map(at)
            .filter(|&(lp, lc)| lp == p && lc < c)
            .map(|(_, lc)| lc)
            .max();
        if let Some(fewer) = fewer {
            let ratio = match (qps, qps_at(p, fewer)) {
                (Some(q), Some(f)) if f > 0.0 => Some(q / f),
                _ => None,
            };
            goal(
                lines,
                goals,
                (
                    &scenario,
                    &format!("throughput / {fewer} clients'"),
                    &format!("{key}_vs_{fewer}"),
                ),
                ratio,
                (">= 1", ratio.map(|r| r >= 1.0)),
                ratio.map_or("-".to_owned(), |r| format!("{r:.3}")),
            );
        }
        if p > 1
            && let Some(one) = qps_at(1, c)
        {
            let ratio = qps.filter(|_| one > 0.0).map(|q| q / one);
            goal(
                lines,
                goals,
                (
                    &scenario,
                    "throughput / 1 process's",
                    &format!("{key}_vs_1p"),
                ),
                ratio,
                (">= 1", ratio.map(|r| r >= 1.0)),
                ratio.map_or("-".to_owned(), |r| format!("{r:.3}")),
            );
        }
        if level["pool_exhausted"] == true {
            lines.push(line(
                &scenario,
                "note",
                "lead pool ran out: stopped early".to_owned(),
            ));
        }
    }
}

/// A job run's start call, first progress event and longest gap between progress events
/// (a goal: at most a second).
fn progress_figures(
    lines: &mut Vec<Line>,
    goals: &mut serde_json::Map<String, Value>,
    (scenario, gap_figure): (&str, &str),
    gap_key: &str,
    run: &Value,
) {
    let num = |k: &str| run[k].as_f64();
    lines.push(line(
        scenario,
        "start call / first progress (s)",
        format!(
            "{:.3} / {:.3}",
            num("start_call_s").unwrap_or(0.0),
            num("first_progress_s").unwrap_or(0.0)
        ),
    ));
    let gap = num("longest_gap_s");
    goal(
        lines,
        goals,
        (scenario, gap_figure, gap_key),
        gap,
        ("<= 1", gap.map(|g| g <= GOAL_JOB_PROGRESS_GAP_S)),
        format!("{:.2}", gap.unwrap_or(0.0)),
    );
}

/// Server RSS at 10 % and at 100 % of a job, and the goal that the second stays within 1.3 x
/// the first.
fn rss_trend(
    lines: &mut Vec<Line>,
    goals: &mut serde_json::Map<String, Value>,
    (scenario, figure, key): (&str, &str, &str),
    (at_10, at_100): (Option<f64>, Option<f64>),
) {
    let ratio = match (at_100, at_10) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    };
    goal(
        lines,
        goals,
        (scenario, figure, key),
        ratio,
        ("100 % <= 1.3 x 10 %", ratio.map(|r| r <= GOAL_RSS_RATIO)),
        format!(
            "{:.1} / {:.1} ({:.2})",
            at_10.unwrap_or(0.0),
            at_100.unwrap_or(0.0),
            ratio.unwrap_or(0.0)
        ),
    );
}

/// The job scenario's lines and goals (issue #14): throughput against the bulk scenario, memory
/// flat from 10 % to 100 %, progress at least once a second, two processes at least as fast as
/// one, and a killed run that still qualifies every lead exactly once.
fn job(
    runs: &[Value],
    bulk: Option<&Value>,
    lines: &mut Vec<Line>,
    goals: &mut serde_json::Map<String, Value>,
) {
    let num = |v: &Value, k: &str| v[k].as_f64();
    let bulk_lps = bulk.and_then(|b| num(b, "leads_per_s"));
    let mut by_processes = BTreeMap::new();
    let mut killed_runs = Vec::new();
    for run in runs {
        let killed = run["killed"] == true;
        let processes = run["processes"].as_u64().unwrap_or(1);
        let scenario = if killed {
            format!(
                "job {} ({processes} process(es), killed at 50 %)",
                run["leads"]
            )
        } else {
            format!("job {} ({processes} process(es))", run["leads"])
        };
        let key = |what: &str| {
            if killed {
                format!("job_killed_{what}")
            } else {
                format!("job_{processes}p_{what}")
            }
        };
        let lps = num(run, "leads_per_s");
        if killed {
            killed_runs.push((scenario, run));
            continue;
        }
        by_processes.insert(processes, lps);
        if processes == 1 {
            let ratio = match (lps, bulk_lps) {
                (Some(j), Some(b)) if b > 0.0 => Some(j / b),
                _ => None,
            };
            goal(
                lines,
                goals,
                (&scenario, "leads/s", &key("leads_per_s")),
                lps,
                (
                    if bulk_lps.is_some() {
                        ">= 0.9 x bulk"
                    } else {
                        ">= 0.9 x bulk (run bulk too)"
                    },
                    ratio.map(|r| r >= GOAL_JOB_VS_BULK),
                ),
                match ratio {
                    Some(r) => format!("{:.0} ({r:.2} x bulk)", lps.unwrap_or(0.0)),
                    None => format!("{:.0}", lps.unwrap_or(0.0)),
                },
            );
        } else {
            lines.push(line(
                &scenario,
                "leads/s",
                format!("{:.0}", lps.unwrap_or(0.0)),
            ));
        }
        progress_figures(
            lines,
            goals,
            (&scenario, "longest gap between progress events (s)"),
            &key("longest_gap"),
            run,
        );
        rss_trend(
            lines,
            goals,
            (
                &scenario,
                "server RSS at 10 % / 100 % (MB)",
                &key("rss_ratio"),
            ),
            (num(run, "rss_at_10_mb"), num(run, "rss_at_100_mb")),
        );
    }
    for (scenario, run) in killed_runs {
        let total = num(run, "total_s").unwrap_or(0.0);
        let lps = num(run, "leads_per_s");
        lines.push(line(
            &scenario,
            "leads/s (the whole run, kill and restart included)",
            match (lps, bulk_lps) {
                (Some(j), Some(b)) if b > 0.0 => format!("{j:.0} ({:.2} x bulk)", j / b),
                _ => format!("{:.0}", lps.unwrap_or(0.0)),
            },
        ));
        progress_figures(
            lines,
            goals,
            (
                &scenario,
                "longest gap between progress events, outside the outage (s)",
            ),
            "job_killed_longest_gap",
            run,
        );
        lines.push(line(
            &scenario,
            "server RSS at 10 % / 100 %, all processes (MB)",
            format!(
                "{:.1} / {:.1}",
                num(run, "rss_at_10_mb").unwrap_or(0.0),
                num(run, "rss_at_100_mb").unwrap_or(0.0)
            ),
        ));
        if run["processes"].as_u64().unwrap_or(1) > 1 {
            rss_trend(
                lines,
                goals,
                (
                    &scenario,
                    "RSS at 10 % / 100 % of the process never killed (MB)",
                    "job_killed_watcher_rss_ratio",
                ),
                (
                    num(run, "watcher_rss_at_10_mb"),
                    num(run, "watcher_rss_at_100_mb"),
                ),
            );
        }
        lines.push(line(
            &scenario,
            "total / progress resumed after the kill (s)",
            format!("{total:.1} / {:.1}", num(run, "outage_s").unwrap_or(0.0)),
        ));
        // What the kill cost: the run's time beyond an unkilled single process's for as many leads
        // (mostly the dead process's chunk lease, LEADQ_JOB_LEASE_SECONDS, before it is taken over).
        if let Some(Some(one)) = by_processes.get(&1).copied()
            && one > 0.0
        {
            let lost = total - run["leads"].as_f64().unwrap_or(0.0) / one;
            lines.push(line(
                &scenario,
                "time lost to the kill (s)",
                format!("{lost:.1}"),
            ));
        }
        let exact = run["qualified"] == run["leads"];
        goal(
            lines,
            goals,
            (&scenario, "leads qualified", "job_killed_qualified"),
            num(run, "qualified"),
            ("exactly every lead, once", Some(exact)),
            format!("{} / {}", run["qualified"], run["leads"]),
        );
    }
    if let (Some(Some(one)), Some((&more, &Some(many)))) = (
        by_processes.get(&1).copied(),
        by_processes.iter().find(|(p, _)| **p > 1),
    ) {
        let ratio = many / one;
        goal(
            lines,
            goals,
            (
                "job",
                &format!("leads/s {more} processes / 1"),
                "job_processes_ratio",
            ),
            Some(ratio),
            (">= 1", Some(ratio >= 1.0)),
            format!("{ratio:.3}"),
        );
    }
}

pub fn report(
    kind: Kind,
    options: &Options,
    results: &BTreeMap<&'static str, Value>,
    elapsed: Duration,
) -> (Vec<Line>, Value) {
    let mut lines = Vec::new();
    let mut goals = serde_json::Map::new();
    let num = |v: &Value, k: &str| v[k].as_f64();

    let bulk = results.get("bulk");
    let baseline = results.get("baseline");
    let limit = results.get("limit");
    let ratio_to = |other: Option<&Value>| match (bulk, other) {
        (Some(b), Some(r)) => match (num(b, "leads_per_s"), num(r, "leads_per_s")) {
            (Some(b), Some(r)) if r > 0.0 => Some(b / r),
            _ => None,
        },
        _ => None,
    };
    let ratio = ratio_to(baseline);
    let limit_ratio = ratio_to(limit);
    if let Some(b) = bulk {
        let lps = num(b, "leads_per_s");
        lines.push(line("bulk", "leads", format!("{}", b["leads"])));
        lines.push(line(
            "bulk",
            "seconds",
            format!("{:.2}", num(b, "seconds").unwrap_or(0.0)),
        ));
        let (target, text) = match kind {
            Kind::Sqlite => (GOAL_BULK_SQLITE, ">= 5000 (SQLite)"),
            Kind::Postgres => (GOAL_BULK_POSTGRES, ">= 3000 (PostgreSQL)"),
        };
        goal(
            &mut lines,
            &mut goals,
            ("bulk", "leads/s", "bulk_leads_per_s"),
            lps,
            (text, lps.map(|v| v >= target)),
            format!("{:.0}", lps.unwrap_or(0.0)),
        );
        let errors = num(b, "errors").unwrap_or(0.0) + num(b, "failed").unwrap_or(0.0);
        lines.push(line(
            "bulk",
            "errors / failed / duplicates",
            format!(
                "{} / {} / {}",
                b["errors"], b["failed"], b["duplicates_found"]
            ),
        ));
        goals.insert(
            "bulk_no_errors".to_owned(),
            json!({ "value": errors, "goal": "0", "pass": errors == 0.0 }),
        );
        lines.push(line(
            "bulk",
            "server RSS first / last batch (MB)",
            format!(
                "{:.1} / {:.1}",
                num(b, "rss_first_mb").unwrap_or(0.0),
                num(b, "rss_last_mb").unwrap_or(0.0)
            ),
        ));
        lines.push(line(
            "bulk",
            "server peak RSS (MB)",
            format!("{:.1}", num(b, "peak_rss_mb").unwrap_or(0.0)),
        ));
        let batches = b["batches"].as_u64().unwrap_or(0) as usize;
        let rss_ratio = num(b, "rss_ratio_last_first");
        let enough = batches >= GOAL_RSS_BATCHES;
        goal(
            &mut lines,
            &mut goals,
            ("bulk", "RSS last / first batch", "bulk_rss_ratio"),
            rss_ratio,
            (
                if enough {
                    "<= 1.3 after 10 batches (#7)"
                } else {
                    "<= 1.3 after 10 batches (#7; needs --leads 100000)"
                },
                if enough {
                    rss_ratio.map(|r| r <= GOAL_RSS_RATIO)
                } else {
                    None
                },
            ),
            format!("{:.3}", rss_ratio.unwrap_or(0.0)),
        );
    }
    if let Some(r) = baseline {
        lines.push(line(
            "baseline",
            &format!(
                "leads/s (raw SQL, {} lead(s)/txn)",
                r["leads_per_transaction"]
            ),
            format!("{:.0}", num(r, "leads_per_s").unwrap_or(0.0)),
        ));
        lines.push(line("baseline", "errors", format!("{}", r["errors"])));
    }
    if bulk.is_some() && baseline.is_some() {
        // A figure, no longer a goal: issue #11 judges bulk against the limit scenario.
        lines.push(line(
            "bulk",
            "bulk / baseline",
            ratio.map_or("-".to_owned(), |r| format!("{r:.3}")),
        ));
    }
    if let Some(r) = limit {
        lines.push(line(
            "limit",
            &format!(
                "leads/s (raw SQL, {} leads/txn, {})",
                r["leads_per_transaction"],
                r["technique"].as_str().unwrap_or("?")
            ),
            format!("{:.0}", num(r, "leads_per_s").unwrap_or(0.0)),
        ));
        lines.push(line("limit", "errors", format!("{}", r["errors"])));
    }
    if bulk.is_some() || limit.is_some() {
        goal(
            &mut lines,
            &mut goals,
            ("bulk", "bulk / limit", "bulk_vs_limit"),
            limit_ratio,
            (">= 0.6", limit_ratio.map(|r| r >= GOAL_BULK_VS_LIMIT)),
            limit_ratio.map_or("-".to_owned(), |r| format!("{r:.3}")),
        );
    }
    if let Some(Value::Array(levels)) = results.get("concurrent") {
        concurrent(kind, levels, &mut lines, &mut goals);
    }
    let mut dedup_ratios = json!(null);
    if let Some(Value::Array(sizes)) = results.get("dedup") {
        for size in sizes {
            let scenario = format!("dedup {}", size["size"]);
            lines.push(line(
                &scenario,
                "p50 / p99 (µs)",
                format!(
                    "{:.0} / {:.0}",
                    num(size, "p50_us").unwrap_or(0.0),
                    num(size, "p99_us").unwrap_or(0.0)
                ),
            ));
            lines.push(line(
                &scenario,
                "planted duplicates found",
                format!("{} / {}", size["planted_found"], size["planted_duplicates"]),
            ));
        }
        if let (Some(first), Some(last)) = (sizes.first(), sizes.last())
            && sizes.len() > 1
        {
            let r = |k: &str| match (num(last, k), num(first, k)) {
                (Some(a), Some(b)) if b > 0.0 => Some(a / b),
                _ => None,
            };
            let (r50, r99) = (r("p50_us"), r("p99_us"));
            let label = format!("{} / {}", last["size"], first["size"]);
            goal(
                &mut lines,
                &mut goals,
                ("dedup", &format!("p50 ratio {label}"), "dedup_p50_ratio"),
                r50,
                ("<= 2", r50.map(|v| v <= GOAL_DEDUP_RATIO)),
                format!("{:.2}", r50.unwrap_or(0.0)),
            );
            goal(
                &mut lines,
                &mut goals,
                ("dedup", &format!("p99 ratio {label}"), "dedup_p99_ratio"),
                r99,
                ("<= 2", r99.map(|v| v <= GOAL_DEDUP_RATIO)),
                format!("{:.2}", r99.unwrap_or(0.0)),
            );
            dedup_ratios = json!({
                "smallest": first["size"],
                "largest": last["size"],
                "p50": r50.map(|v| round(v, 3)),
                "p99": r99.map(|v| round(v, 3)),
            });
        }
    }
    if let Some(Value::Array(runs)) = results.get("job") {
        job(runs, bulk, &mut lines, &mut goals);
    }
    if let Some(r) = results.get("rules") {
        let default = num(&r["default"], "leads_per_s");
        let recommended = num(&r["recommended"], "leads_per_s");
        lines.push(line(
            "rules",
            "bulk leads/s, default rules",
            format!("{:.0}", default.unwrap_or(0.0)),
        ));
        lines.push(line(
            "rules",
            "bulk leads/s, recommended rules",
            format!("{:.0}", recommended.unwrap_or(0.0)),
        ));
        let ratio = match (default, recommended) {
            (Some(d), Some(r)) if d > 0.0 => Some(r / d),
            _ => None,
        };
        goal(
            &mut lines,
            &mut goals,
            ("rules", "recommended / default", "rules_recommended_ratio"),
            ratio,
            (">= 0.9 (#15)", ratio.map(|r| r >= 0.9)),
            format!("{:.3}", ratio.unwrap_or(0.0)),
        );
    }
    let mut out = serde_json::Map::new();
    out.insert("database".to_owned(), json!(kind.name()));
    out.insert(
        "options".to_owned(),
        json!({
            "leads": options.leads,
            "clients": options.clients,
            "processes": options.processes,
            "seconds": options.seconds,
            "dedup_sizes": options.dedup_sizes,
            "dedup_samples": options.dedup_samples,
            "baseline_chunk": options.baseline_chunk,
            "limit_technique": options.limit_technique.name(),
            "job_leads": options.job_leads,
            "job_kill": options.job_kill,
        }),
    );
    for (name, value) in results {
        out.insert((*name).to_owned(), value.clone());
    }
    if let Some(b) = out.get_mut("baseline") {
        b["ratio_bulk_to_baseline"] = json!(ratio.map(|r| round(r, 3)));
    }
    if let Some(l) = out.get_mut("limit") {
        l["ratio_bulk_to_limit"] = json!(limit_ratio.map(|r| round(r, 3)));
    }
    if results.contains_key("dedup") {
        out.insert("dedup_ratio".to_owned(), dedup_ratios);
    }
    out.insert("goals".to_owned(), Value::Object(goals));
    out.insert(
        "elapsed_s".to_owned(),
        json!(round(elapsed.as_secs_f64(), 1)),
    );
    (lines, Value::Object(out))
}

pub fn print_table(lines: &[Line]) {
    let headers = ["scenario", "figure", "value", "goal", "result"];
    let cells: Vec<[&str; 5]> = lines
        .iter()
        .map(|l| {
            [
                l.scenario.as_str(),
                l.figure.as_str(),
                l.value.as_str(),
                l.goal.as_str(),
                l.result.as_str(),
            ]
        })
        .collect();
    let mut widths = headers.map(|h| h.chars().count());
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let print_row = |row: [&str; 5]| {
        let mut s = String::new();
        for (i, (c, w)) in row.iter().zip(widths).enumerate() {
            if i > 0 {
                s.push_str("  ");
            }
            let pad = w - c.chars().count();
            if i == 2 {
                s.push_str(&" ".repeat(pad));
                s.push_str(c);
            } else {
                s.push_str(c);
                s.push_str(&" ".repeat(pad));
            }
        }
        println!("{}", s.trim_end());
    };
    print_row(headers);
    println!("{}", "-".repeat(widths.iter().sum::<usize>() + 8));
    for row in cells {
        print_row(row);
    }
}
