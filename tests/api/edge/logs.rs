//! The request log: one `info` line per request, as text or JSON (`LEADQ_LOG_FORMAT`), with no
//! ANSI colour codes when the log is not a terminal.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::spawn_app;
use crate::process::{SECRET, Server};

/// The server binary writing its log to a file, with `format`.
async fn server_logging(format: &str) -> (Server, tempfile::TempDir, std::path::PathBuf, String) {
    let app = spawn_app().await; // a fresh database, migrated
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("leadq.log");
    let file = std::fs::File::create(&log).unwrap();
    let server = Server::start_logging(
        &app.database_url,
        &[("LEADQ_LOG_FORMAT", format), ("RUST_LOG", "info")],
        file,
    )
    .await;
    let keys = leadq::auth::TokenKeys::new(SECRET.as_bytes(), None, None);
    let token = keys.mint(app.admin_id, chrono::Duration::hours(1)).unwrap();
    (server, dir, log, token)
}

/// Sends a named query (again while the answer is a retryable 503, which a loaded machine may
/// give a server that just started beside another on one SQLite file) and a failing one; the
/// log's text and how many requests were sent.
async fn lines_after_requests(
    server: &Server,
    token: &str,
    log: &std::path::Path,
) -> (String, usize) {
    let client = reqwest::Client::new();
    let mut sent = 0;
    for _ in 0..5 {
        let response = client
            .post(server.url())
            .bearer_auth(token)
            .json(&json!({ "query": "query LoggedMe { me { name } }" }))
            .send()
            .await
            .unwrap();
        sent += 1;
        if response.status() != 503 {
            break;
        }
        eprintln!(
            "retryable answer: {}",
            response.text().await.unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    sent += 1;
    client
        .post(server.url())
        .bearer_auth(token)
        .json(&json!({ "query": "{ me { noSuchField } }" }))
        .send()
        .await
        .unwrap();
    // Each line is written when its answer is sent: wait until both are complete.
    for _ in 0..100 {
        let text = std::fs::read_to_string(log).unwrap();
        let complete = text
            .lines()
            .filter(|l| l.contains("/graphql") && (l.contains("status") || l.contains("200")))
            .count();
        if complete >= sent && text.ends_with('\n') {
            return (text, sent);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (std::fs::read_to_string(log).unwrap(), sent)
}

#[tokio::test]
async fn json_logs_have_one_line_per_request_with_operation_actor_and_codes() {
    let (server, _dir, log, token) = server_logging("json").await;
    let (text, sent) = lines_after_requests(&server, &token, &log).await;
    let requests: Vec<Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["message"] == "request" && l["path"] == "/graphql")
        .collect();
    assert_eq!(requests.len(), sent, "one line per request: {text}");
    let ok = &requests[sent - 2];
    assert_eq!(ok["level"], "INFO");
    assert_eq!(ok["method"], "POST");
    assert_eq!(ok["status"], 200, "{text}");
    assert_eq!(ok["operation"], "LoggedMe");
    assert_eq!(ok["operation_type"], "query");
    assert!(ok["actor"].as_str().unwrap().len() == 36, "{ok}");
    assert!(
        ok["duration_ms"].is_string() || ok["duration_ms"].is_number(),
        "{ok}"
    );
    assert_eq!(ok["error_codes"], "");
    assert_eq!(
        requests[sent - 1]["error_codes"],
        "GRAPHQL_VALIDATION_FAILED"
    );
}

#[tokio::test]
async fn text_logs_written_to_a_file_have_no_ansi_codes() {
    let (server, _dir, log, token) = server_logging("text").await;
    let (text, _) = lines_after_requests(&server, &token, &log).await;
    assert!(!text.contains('\u{1b}'), "ANSI codes in {text:?}");
    let line = text
        .lines()
        .find(|l| l.contains("LoggedMe"))
        .unwrap_or_else(|| panic!("no request line in {text}"));
    assert!(line.contains("INFO"), "{line}");
    assert!(line.contains("status=200"), "{line}");
    assert!(line.contains("method=POST"), "{line}");
}

#[tokio::test]
async fn a_bad_log_format_is_refused_at_start() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_leadq"))
        .args(["schema"])
        .env("LEADQ_LOG_FORMAT", "xml")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("LEADQ_LOG_FORMAT") || stderr.contains("log-format"),
        "{stderr}"
    );
}
