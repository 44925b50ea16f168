//! The command line: flags, their defaults and the usage text.

pub const USAGE: &str = "usage: cargo bench --bench qualification -- [--database-url postgres://...] \
[--leads N] [--scenarios bulk,baseline,limit,concurrent,dedup,job,rules,custom] [--clients 32,64] [--seconds S] \
[--processes 1,2] [--dedup-sizes 1000,100000,1000000] [--dedup-samples K] \
[--baseline-chunk L] [--limit-technique copy|unnest] [--job-leads N] [--job-kill true|false|only]";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    Bulk,
    Baseline,
    Limit,
    Concurrent,
    Dedup,
    Job,
    /// Bulk with the default rules, then with the recommended set (issue #15).
    Rules,
    /// Bulk with and without ten mapped custom fields per record type (issue 16); only when
    /// named.
    Custom,
}

/// How the limit scenario writes on PostgreSQL (SQLite has one technique).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitTechnique {
    /// `COPY ... FROM STDIN (FORMAT binary)` per table.
    Copy,
    /// `INSERT ... SELECT * FROM unnest($1::uuid[], ...)` per table.
    Unnest,
}

impl LimitTechnique {
    pub fn name(self) -> &'static str {
        match self {
            LimitTechnique::Copy => "copy",
            LimitTechnique::Unnest => "unnest",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    pub database_url: Option<String>,
    pub leads: usize,
    pub scenarios: Vec<Scenario>,
    pub clients: Vec<usize>,
    /// Server processes of the concurrent scenario: one run (fresh database, every client level)
    /// per count, ascending.
    pub processes: Vec<usize>,
    pub seconds: u64,
    pub dedup_sizes: Vec<usize>,
    pub dedup_samples: usize,
    pub baseline_chunk: usize,
    pub limit_technique: LimitTechnique,
    /// Leads of the job scenario.
    pub job_leads: usize,
    /// Whether the job scenario adds a run whose server is killed at 50 %.
    pub job_kill: bool,
    /// Whether the job scenario runs only that killed run (`--job-kill only`).
    pub job_kill_only: bool,
}

impl Options {
    pub fn runs(&self, scenario: Scenario) -> bool {
        self.scenarios.contains(&scenario)
    }
}

pub fn parse_count(flag: &str, value: &str) -> Result<usize, String> {
    let n = value
        .trim()
        .replace('_', "")
        .parse::<usize>()
        .map_err(|_| format!("{flag}: {value:?} is not a number"))?;
    if n == 0 {
        return Err(format!("{flag}: must be at least 1"));
    }
    Ok(n)
}

pub fn parse_list(flag: &str, value: &str) -> Result<Vec<usize>, String> {
    value.split(',').map(|v| parse_count(flag, v)).collect()
}

/// Parses the arguments after the program name. `cargo bench` adds `--bench`: ignored.
pub fn parse_options(args: impl IntoIterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        database_url: None,
        leads: 10_000,
        scenarios: vec![
            Scenario::Bulk,
            Scenario::Baseline,
            Scenario::Limit,
            Scenario::Concurrent,
            Scenario::Dedup,
        ],
        clients: vec![32, 64],
        processes: vec![1],
        seconds: 10,
        dedup_sizes: vec![1_000, 100_000, 1_000_000],
        dedup_samples: 300,
        baseline_chunk: 1,
        limit_technique: LimitTechnique::Copy,
        job_leads: 1_000_000,
        job_kill: true,
        job_kill_only: false,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (arg.clone(), None),
        };
        if flag == "--bench" {
            continue;
        }
        if flag == "--help" || flag == "-h" {
            return Err(String::new());
        }
        let known = [
            "--database-url",
            "--leads",
            "--scenarios",
            "--clients",
            "--processes",
            "--seconds",
            "--dedup-sizes",
            "--dedup-samples",
            "--baseline-chunk",
            "--limit-technique",
            "--job-leads",
            "--job-kill",
        ];
        if !known.contains(&flag.as_str()) {
            return Err(format!("unknown argument {arg:?}"));
        }
        let value = match inline {
            Some(value) => value,
            None => args.next().ok_or_else(|| format!("{flag} needs a value"))?,
        };
        match flag.as_str() {
            "--database-url" => {
                if !(value.starts_with("postgres://") || value.starts_with("postgresql://")) {
                    return Err(format!(
                        "--database-url: {value:?} is not a postgres:// URL (SQLite is the default)"
                    ));
                }
                options.database_url = Some(value);
            }
            "--leads" => options.leads = parse_count(&flag, &value)?,
            "--scenarios" => {
                options.scenarios = value
                    .split(',')
                    .map(|s| match s.trim() {
                        "bulk" => Ok(Scenario::Bulk),
                        "baseline" => Ok(Scenario::Baseline),
                        "limit" => Ok(Scenario::Limit),
                        "concurrent" => Ok(Scenario::Concurrent),
                        "dedup" => Ok(Scenario::Dedup),
                        "job" => Ok(Scenario::Job),
                        "rules" => Ok(Scenario::Rules),
                        "custom" => Ok(Scenario::Custom),
                        other => Err(format!("--scenarios: unknown scenario {other:?}")),
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--clients" => options.clients = parse_list(&flag, &value)?,
            "--processes" => {
                let mut counts = parse_list(&flag, &value)?;
                counts.sort_unstable();
                counts.dedup();
                options.processes = counts;
            }
            "--seconds" => options.seconds = parse_count(&flag, &value)? as u64,
            "--dedup-sizes" => {
                let mut sizes = parse_list(&flag, &value)?;
                sizes.sort_unstable();
                sizes.dedup();
                options.dedup_sizes = sizes;
            }
            "--dedup-samples" => options.dedup_samples = parse_count(&flag, &value)?,
            "--baseline-chunk" => options.baseline_chunk = parse_count(&flag, &value)?,
            "--limit-technique" => {
                options.limit_technique = match value.trim() {
                    "copy" => LimitTechnique::Copy,
                    "unnest" => LimitTechnique::Unnest,
                    other => {
                        return Err(format!(
                            "--limit-technique: {other:?} is neither copy nor unnest"
                        ));
                    }
                }
            }
            "--job-leads" => options.job_leads = parse_count(&flag, &value)?,
            "--job-kill" => {
                (options.job_kill, options.job_kill_only) = match value.trim() {
                    "true" | "yes" | "1" => (true, false),
                    "false" | "no" | "0" => (false, false),
                    "only" => (true, true),
                    other => {
                        return Err(format!(
                            "--job-kill: {other:?} is none of true, false and only"
                        ));
                    }
                }
            }
            _ => unreachable!("checked above"),
        }
    }
    Ok(options)
}
