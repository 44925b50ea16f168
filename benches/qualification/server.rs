//! The real release server binary as a child process, its memory, and the leadq-side
//! preparation of a fresh database (migrations, the bench user, its token).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use entity::{CreationMode, Role};
use leadq::config::Settings;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::{MAX_BATCH, SECRET};
use crate::rawdb::Fresh;

pub const UPDATE_SETTINGS: &str = "mutation { updateQualificationSettings(input: { experience: LEGACY, autoCreateRecords: true, summarizeLead: false }) { settings { experience } } }";

/// Migrates a fresh database through leadq, creates the benchmark's System Administrator, and
/// checks that the qualification settings create account, contact and opportunity
/// automatically. Returns the user id and whether the settings must be changed first.
pub async fn prepare(fresh: &Fresh) -> Result<(Uuid, bool)> {
    let db = leadq::startup::connect_and_migrate(&Settings::for_database(&fresh.url)).await?;
    let user = leadq::service::users::upsert_by_name(&db, "bench", &[Role::SystemAdministrator])
        .await
        .map_err(|e| anyhow!("cannot create the bench user: {}", e.message()))?;
    let settings = leadq::service::settings::get(&db.read)
        .await
        .map_err(|e| anyhow!("cannot read the settings: {}", e.message()))?;
    let automatic = leadq::domain::qualification::creation_modes(&settings)
        .iter()
        .all(|m| *m == CreationMode::Automatic);
    db.close().await;
    Ok((user.id, !automatic || settings.summarize_lead))
}

pub fn token(user: Uuid) -> Result<String> {
    leadq::auth::TokenKeys::new(SECRET.as_bytes(), None, None)
        .mint(user, chrono::Duration::hours(2))
        .map_err(|e| anyhow!("cannot mint a token: {}", e.message()))
}

/// The real server binary, killed when dropped (also when the benchmark panics).
pub struct Server {
    pub child: Child,
    pub base: String,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Memory {
    pub rss_mb: f64,
    pub peak_mb: f64,
}

impl Server {
    pub async fn start(url: &str) -> Result<Self> {
        Self::start_with(url, &[]).await
    }

    /// [`Server::start`] with extra environment variables.
    pub async fn start_with(url: &str, env: &[(&str, &str)]) -> Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let mut command = Command::new(env!("CARGO_BIN_EXE_leadq"));
        command.envs(env.iter().copied());
        let child = command
            .args([
                "--database-url",
                url,
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--max-bulk-leads",
                &MAX_BATCH.to_string(),
            ])
            .env("LEADQ_JWT_SECRET", SECRET)
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .context("cannot start the leadq binary")?;
        let mut server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = server.child.try_wait()? {
                bail!("the server exited at start: {status}");
            }
            if let Ok(r) = client.get(format!("{}/health", server.base)).send().await
                && r.status().is_success()
            {
                break;
            }
            ensure!(
                Instant::now() < deadline,
                "the server did not start in 60 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        progress!(
            "  server pid {} on {}, {:.0} MB RSS",
            server.child.id(),
            server.base,
            server.memory().rss_mb
        );
        Ok(server)
    }

    pub fn graphql_url(&self) -> String {
        format!("{}/graphql", self.base)
    }

    /// VmRSS and VmHWM (peak) of the server process.
    pub fn memory(&self) -> Memory {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|kb| kb.parse::<f64>().ok())
                .map_or(0.0, |kb| kb / 1024.0)
        };
        Memory {
            rss_mb: field("VmRSS:"),
            peak_mb: field("VmHWM:"),
        }
    }

    pub async fn graphql(
        &self,
        client: &reqwest::Client,
        token: &str,
        query: &str,
        variables: Value,
    ) -> Result<Value> {
        let response = client
            .post(self.graphql_url())
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await?;
        let status = response.status();
        let body: Value = response.json().await?;
        ensure!(status.is_success(), "HTTP {status}: {body}");
        Ok(body)
    }

    /// Switches to settings that create account, contact and opportunity automatically.
    pub async fn ensure_settings(&self, client: &reqwest::Client, token: &str) -> Result<()> {
        let body = self
            .graphql(client, token, UPDATE_SETTINGS, json!({}))
            .await?;
        ensure!(
            body.get("errors").is_none(),
            "updateQualificationSettings: {body}"
        );
        progress!("  qualification settings set to LEGACY, automatic creation");
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
