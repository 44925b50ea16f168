//! The real server binary as a child process: for crash tests (SIGKILL), and for several
//! server processes on one database, as a scaled-out deployment runs them.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The JWT secret every process of a test shares.
pub const SECRET: &str = "process-test-secret-process-test-secret-01";

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running `leadq serve`; killed (SIGKILL) when dropped.
pub struct Server {
    child: Option<Child>,
    pub port: u16,
}

impl Server {
    /// Starts the binary on `database_url` with extra environment variables and waits until
    /// it answers `/health`.
    pub async fn start(database_url: &str, env: &[(&str, &str)]) -> Server {
        Self::start_on(database_url, free_port(), env).await
    }

    /// [`Server::start`] with the server's log (standard error) written to `log`.
    pub async fn start_logging(
        database_url: &str,
        env: &[(&str, &str)],
        log: std::fs::File,
    ) -> Server {
        Self::launch(database_url, free_port(), env, Stdio::from(log)).await
    }

    /// [`Server::start`] on a given port.
    pub async fn start_on(database_url: &str, port: u16, env: &[(&str, &str)]) -> Server {
        Self::launch(database_url, port, env, Stdio::null()).await
    }

    async fn launch(database_url: &str, port: u16, env: &[(&str, &str)], stderr: Stdio) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_leadq"));
        command
            .args([
                "--database-url",
                database_url,
                "--bind",
                &format!("127.0.0.1:{port}"),
            ])
            .env("LEADQ_JWT_SECRET", SECRET)
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(stderr);
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("start the server binary");
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(r) = client
                .get(format!("http://127.0.0.1:{port}/health"))
                .send()
                .await
                && r.status().is_success()
            {
                return Server {
                    child: Some(child),
                    port,
                };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("the server did not start");
    }

    /// The GraphQL endpoint.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/graphql", self.port)
    }

    /// Kills the process at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}
