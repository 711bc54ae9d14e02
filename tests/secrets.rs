//! No code path prints a credential (issue 12, item 4): every subcommand, run with secrets planted
//! in the environment and in its arguments — help, bad arguments, endpoints with and without a
//! scheme, broken URLs, servers that refuse the connection — and all of its output (stdout and
//! stderr, with debug logs on) searched for them.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod support;

use support::{alb_lines, free_port, TempDir};

/// Planted in the environment.
const ENV_SECRETS: [&str; 3] = ["EnvPw4Endpoint", "EnvPw4Password", "EnvAwsSecretKey"];
/// Planted in arguments.
const ARG_SECRETS: [&str; 2] = ["ArgPw4Endpoint", "ArgPw4Dashboards"];

/// Runs `albingest args` with the secret environment; stdout + stderr. A run that does not end
/// within a minute is killed and fails the test (never a hang).
fn run(args: &[&str], log: &str) -> String {
    let closed = free_port();
    let endpoint = format!("http://envuser:{}@127.0.0.1:{closed}", ENV_SECRETS[0]);
    run_with(args, log, Some(&endpoint))
}

fn run_with(args: &[&str], log: &str, endpoint: Option<&str>) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_albingest"));
    match endpoint {
        Some(endpoint) => command.env("ALBINGEST_ENDPOINT", endpoint),
        None => command.env_remove("ALBINGEST_ENDPOINT"),
    };
    let mut child = command
        .args(args)
        .env("ALBINGEST_USERNAME", "envuser")
        .env("ALBINGEST_PASSWORD", ENV_SECRETS[1])
        .env("AWS_ACCESS_KEY_ID", "AKIDTESTING")
        .env("AWS_SECRET_ACCESS_KEY", ENV_SECRETS[2])
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("ALBINGEST_LOG", log)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("albingest runs");
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if started.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("albingest {args:?} did not end within 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    out
}

#[test]
fn no_subcommand_prints_a_planted_secret() {
    let dir = TempDir::new("secrets");
    let log = dir.path().join("x.log");
    std::fs::write(&log, alb_lines(3, 3)).unwrap();
    let log = log.display().to_string();
    let dlq = dir.path().join("dlq").display().to_string();
    let closed = free_port();
    let endpoints = [
        format!("http://arguser:{}@127.0.0.1:{closed}", ARG_SECRETS[0]),
        format!("arguser:{}@127.0.0.1:9200", ARG_SECRETS[0]),
        format!("https://arguser:{}@[::1", ARG_SECRETS[0]),
        format!("ftp://arguser:{}@127.0.0.1:{closed}", ARG_SECRETS[0]),
        format!("arguser:{}@", ARG_SECRETS[0]),
    ];
    let dashboards = [
        format!("arguser:{}@127.0.0.1:5601", ARG_SECRETS[1]),
        format!("http://arguser:{}@127.0.0.1:{closed}/x", ARG_SECRETS[1]),
        format!("http://arguser:{}@127.0.0.1:{closed}/?q=1", ARG_SECRETS[1]),
    ];
    let mut runs: Vec<Vec<String>> = Vec::new();
    let own = |args: &[&str]| args.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    runs.push(own(&["--help"]));
    runs.push(own(&["--bogus"]));
    for command in ["parse", "ingest", "setup", "cleanup", "report"] {
        runs.push(own(&[command, "--help"]));
        runs.push(own(&[command, "-h"]));
        runs.push(own(&[command, "--bogus"]));
    }
    runs.push(own(&["parse", &log]));
    // The environment's endpoint, refusing connections.
    runs.push(own(&["ingest", &log, "--dead-letter", &dlq]));
    runs.push(own(&[
        "ingest",
        &log,
        "--no-setup",
        "--retry-for",
        "1",
        "--dead-letter",
        &dlq,
    ]));
    runs.push(own(&["setup"]));
    runs.push(own(&["cleanup", "--retention-days", "3"]));
    runs.push(own(&["report"]));
    for endpoint in &endpoints {
        runs.push(own(&[
            "ingest",
            &log,
            "--endpoint",
            endpoint,
            "--dead-letter",
            &dlq,
        ]));
        runs.push(own(&[
            "ingest",
            &log,
            "--no-setup",
            "--retry-for",
            "1",
            "--endpoint",
            endpoint,
            "--dead-letter",
            &dlq,
        ]));
        runs.push(own(&["setup", "--endpoint", endpoint]));
        runs.push(own(&["setup", "--endpoint", endpoint, "--shards", "x"]));
        runs.push(own(&[
            "cleanup",
            "--retention-days",
            "3",
            "--endpoint",
            endpoint,
        ]));
        runs.push(own(&[
            "cleanup",
            "--retention-days",
            "0",
            "--endpoint",
            endpoint,
        ]));
        runs.push(own(&["report", "--endpoint", endpoint]));
        runs.push(own(&["report", "--since", "x", "--endpoint", endpoint]));
    }
    for url in &dashboards {
        runs.push(own(&["setup", "--dashboards-url", url]));
        runs.push(own(&[
            "setup",
            "--dashboards-url",
            url,
            "--endpoint",
            &endpoints[1],
        ]));
        runs.push(own(&[
            "setup",
            "--dashboards-url",
            url,
            "--dashboards-flavor",
            "kibana",
        ]));
    }
    // Only the dashboards (no endpoint in the environment either), so their URL is the one used.
    let dashboards_only = runs.len();
    for url in &dashboards {
        runs.push(own(&["setup", "--dashboards-url", url]));
        runs.push(own(&[
            "setup",
            "--dashboards-url",
            url,
            "--dashboards-flavor",
            "opensearch",
        ]));
    }
    let mut leaks = Vec::new();
    for (i, args) in runs.iter().enumerate() {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        for log in ["warn", "debug"] {
            let out = if i < dashboards_only {
                run(&args, log)
            } else {
                run_with(&args, log, None)
            };
            assert!(!out.trim().is_empty(), "albingest {args:?} said nothing");
            for secret in ENV_SECRETS.iter().chain(&ARG_SECRETS) {
                if out.contains(secret) {
                    leaks.push(format!(
                        "albingest {args:?} (log {log}) printed {secret}:\n{out}"
                    ));
                }
            }
        }
    }
    assert!(leaks.is_empty(), "{}", leaks.join("\n\n"));
}

#[test]
fn an_endpoint_without_a_scheme_is_named_without_its_credentials() {
    let endpoint = format!("arguser:{}@127.0.0.1:9200", ARG_SECRETS[0]);
    for args in [
        vec!["setup", "--endpoint", &endpoint],
        vec!["cleanup", "--retention-days", "3", "--endpoint", &endpoint],
    ] {
        let out = run(&args, "warn");
        assert!(out.contains("127.0.0.1:9200"), "{args:?}: {out}");
        assert!(
            out.contains("http://"),
            "{args:?}: says what to give: {out}"
        );
    }
    let url = format!("arguser:{}@127.0.0.1:5601", ARG_SECRETS[1]);
    let out = run_with(&["setup", "--dashboards-url", &url], "warn", None);
    assert!(out.contains("127.0.0.1:5601"), "{out}");
}

/// The Lambda binaries started outside Lambda with a secret in the endpoint and the password:
/// their configuration and start-up errors name neither.
#[test]
fn the_lambda_binaries_print_no_planted_secret() {
    let closed = free_port();
    let endpoints = [
        format!("http://envuser:{}@127.0.0.1:{closed}", ENV_SECRETS[0]),
        format!("envuser:{}@127.0.0.1:{closed}", ENV_SECRETS[0]),
    ];
    for binary in [
        env!("CARGO_BIN_EXE_albingest-ingest"),
        env!("CARGO_BIN_EXE_albingest-cleanup"),
    ] {
        for endpoint in &endpoints {
            let output = Command::new(binary)
                .env("ALBINGEST_ENDPOINT", endpoint)
                .env("ALBINGEST_AUTH", "basic")
                .env("ALBINGEST_USERNAME", "envuser")
                .env("ALBINGEST_PASSWORD", ENV_SECRETS[1])
                .env("ALBINGEST_DEAD_LETTER", "s3://bucket/dead-letter/")
                .env("RETENTION_DAYS", "3")
                .env("AWS_ACCESS_KEY_ID", "AKIDTESTING")
                .env("AWS_SECRET_ACCESS_KEY", ENV_SECRETS[2])
                .env("AWS_REGION", "us-east-1")
                .env("AWS_EC2_METADATA_DISABLED", "true")
                .env("RUST_LOG", "debug")
                .env_remove("AWS_LAMBDA_RUNTIME_API")
                .stdin(Stdio::null())
                .output()
                .unwrap();
            let out = format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            assert!(!out.trim().is_empty(), "{binary} said nothing");
            for secret in ENV_SECRETS {
                assert!(!out.contains(secret), "{binary} printed {secret}:\n{out}");
            }
        }
    }
}
