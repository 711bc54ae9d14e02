//! `albingest report` on a window without requests, on both stand-ins: it says so, names the
//! newest document's time and suggests the `--since` that shows it — and that `--since` does.

mod support;

use std::process::{Command, Output};

use opensearch::http::Method;
use serde_json::Value;
use support::*;

fn albingest(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_albingest"))
        .args(args)
        .env_remove("ALBINGEST_ENDPOINT")
        .output()
        .expect("albingest runs")
}

fn report(url: &str, prefix: &str, extra: &[&str]) -> String {
    let mut args = vec!["report", "--endpoint", url, "--index-prefix", prefix];
    args.extend(extra);
    let out = albingest(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_window_names_the_newest_document_and_the_since_that_shows_it() {
    let Some(servers) = search_servers("report_empty_window") else {
        return;
    };
    let dir = TempDir::new("empty-window");
    let file = dir.path().join(alb_key("w").rsplit('/').next().unwrap());
    // Three lines; the newest at 2026-11-02T00:00:02.000002Z (long before the test runs).
    std::fs::write(&file, alb_lines(3, 0)).unwrap();
    for server in servers {
        let url = server.url.as_str();
        let prefix = unique("empty-window");
        let out = tokio::task::block_in_place(|| {
            albingest(&[
                "ingest",
                file.to_str().unwrap(),
                "--endpoint",
                url,
                "--index-prefix",
                &prefix,
                "--progress",
                "never",
            ])
        });
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let client = search_client(url).await;
        get_json(
            &client,
            Method::Post,
            &format!("/{prefix}-*/_refresh"),
            None,
        )
        .await;

        let text = tokio::task::block_in_place(|| report(url, &prefix, &["--since", "1h"]));
        let hint = text
            .lines()
            .find(|l| l.trim_start().starts_with("No requests in this window."))
            .unwrap_or_else(|| panic!("{}: no hint in\n{text}", server.name));
        let newest = "2026-11-02T00:00:02.000002Z";
        assert!(
            hint.contains(&format!(
                "The newest ALB access log document is from {newest}: --since "
            )),
            "{}: {hint}",
            server.name
        );
        let since = hint
            .rsplit("--since ")
            .next()
            .unwrap()
            .trim_end_matches(" shows it.");

        let json: Value = serde_json::from_str(&tokio::task::block_in_place(|| {
            report(url, &prefix, &["--since", "1h", "--json"])
        }))
        .unwrap();
        assert_eq!(json["requests"], 0);
        assert_eq!(json["empty_window"]["newest"], newest, "{}", server.name);
        assert_eq!(json["empty_window"]["suggested_since"], since);

        // The suggestion shows the documents.
        let json: Value = serde_json::from_str(&tokio::task::block_in_place(|| {
            report(url, &prefix, &["--since", since, "--json"])
        }))
        .unwrap();
        assert_eq!(json["requests"], 3, "{}: --since {since}", server.name);
        assert_eq!(json["empty_window"], Value::Null);

        // No documents at all under a prefix: said as such.
        let nothing = unique("nothing");
        let text = tokio::task::block_in_place(|| report(url, &nothing, &["--since", "1h"]));
        assert!(
            text.contains(&format!(
                "No requests in this window, and no ALB access log documents in {nothing}-* at all."
            )),
            "{}: {text}",
            server.name
        );
    }
}
