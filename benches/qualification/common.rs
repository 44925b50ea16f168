//! Small helpers shared by every scenario: progress stamps, time, percentiles, rounding,
//! the per-run salt, and the constants several scenarios share.

use std::time::{Duration, Instant};

use chrono::{DateTime, SubsecRound, Utc};

/// The largest `qualifyLeads` batch (the server is started with this limit).
pub const MAX_BATCH: usize = 10_000;
/// Leads read per SELECT, as the bulk service does.
pub const READ_CHUNK: usize = 500;
/// The JWT secret the benchmark's server is started with.
pub const SECRET: &str = "leadq-benchmark-secret-0123456789abcdef";

/// Seconds since the benchmark started, for progress lines.
pub fn stamp() -> String {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let start = START.get_or_init(Instant::now);
    format!("[{:7.1}s]", start.elapsed().as_secs_f64())
}

/// The current time, to the microsecond (what leadq stores).
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// Nearest-rank percentile of sorted samples.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000.0
}

pub fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000_000.0
}

/// Rounds for the JSON line.
pub fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

/// A per-run random salt: seeded values are unique within a run and differ between runs.
#[derive(Debug, Clone)]
pub struct Salt {
    pub text: String,
    pub digits: u32,
}

impl Salt {
    pub fn new() -> Self {
        let v: u32 = rand::random();
        Self {
            text: format!("{v:08x}"),
            digits: v % 1000,
        }
    }
}
