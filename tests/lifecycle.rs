//! `albingest setup --lifecycle`: the ISM policy (OpenSearch) and the ILM policy
//! (Elasticsearch), how new and existing daily indices get them, and the targets that have
//! neither. The index templates and `_settings` go to the real stand-ins; the lifecycle APIs,
//! which neither stand-in serves, are answered by the documented-shape double in
//! `tests/support/lifecycle_apis.rs`.

mod support;

use std::process::Output;
use std::sync::{Arc, Mutex};

use opensearch::http::Method;
use serde_json::Value;
use support::fault_proxy::FaultProxy;
use support::lifecycle_apis::{self, LifecycleState};
use support::target_profiles::{self, Root};

/// Runs the CLI off the async workers (the double answers on them meanwhile).
async fn albingest(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_albingest"))
            .args(&args)
            .env_remove("ALBINGEST_ENDPOINT")
            .output()
            .expect("albingest runs")
    })
    .await
    .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `--index-prefix` for all five formats under `base`, so this test's templates are its own.
fn prefix_args(base: &str) -> Vec<String> {
    [
        ("alb", ""),
        ("alb-connection", "-conn"),
        ("nlb", "-nlb"),
        ("elb", "-elb"),
        ("alb-health-check", "-health"),
    ]
    .iter()
    .flat_map(|(format, suffix)| {
        [
            "--index-prefix".to_string(),
            format!("{format}={base}{suffix}"),
        ]
    })
    .collect()
}

async fn double(upstream: &str, existing: Vec<String>) -> (FaultProxy, Arc<Mutex<LifecycleState>>) {
    let state = Arc::new(Mutex::new(LifecycleState::default()));
    let proxy = target_profiles::start(
        upstream,
        vec![lifecycle_apis::profile(state.clone(), existing)],
    )
    .await;
    (proxy, state)
}

fn setup_args(endpoint: &str, prefix: &str, extra: &[&str]) -> Vec<String> {
    let mut args = vec![
        "setup".to_string(),
        "--endpoint".into(),
        endpoint.to_string(),
    ];
    args.extend(prefix_args(prefix));
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ism_policy_deletes_after_the_retention_and_attaches_by_the_prefixes_patterns() {
    let Some(servers) = support::search_servers("ism_policy") else {
        return;
    };
    let opensearch = &servers[0].url;
    let prefix = support::unique("ism");
    let existing = format!("{prefix}-2026.11.01");
    let real = support::search_client(opensearch).await;
    real.json(
        opensearch::http::Method::Put,
        &format!("/{existing}"),
        None,
        std::time::Duration::from_secs(10),
    )
    .await
    .unwrap();
    let (proxy, state) = double(opensearch, vec![existing.clone()]).await;
    let args = setup_args(
        &proxy.url,
        &prefix,
        &[
            "--lifecycle",
            "ism",
            "--retention-days",
            "14",
            "--apply-existing",
        ],
    );

    let out = albingest(args.clone()).await;
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("ISM policy albingest-retention installed: delete after 14 days")
            && err.contains("attached to 1 existing indices"),
        "{err}"
    );
    {
        let state = state.lock().unwrap();
        let policy = state.ism_policy.as_ref().expect("a policy was stored");
        let states = policy["policy"]["states"].as_array().unwrap();
        assert_eq!(policy["policy"]["default_state"], "hot");
        assert_eq!(
            states[0]["transitions"][0],
            serde_json::json!({"state_name": "delete", "conditions": {"min_index_age": "14d"}})
        );
        assert_eq!(states[1]["actions"], serde_json::json!([{"delete": {}}]));
        let patterns = &policy["policy"]["ism_template"][0]["index_patterns"];
        for pattern in [
            format!("{prefix}-*"),
            format!("{prefix}-conn-*"),
            format!("{prefix}-health-*"),
        ] {
            assert!(
                patterns
                    .as_array()
                    .unwrap()
                    .contains(&Value::String(pattern.clone())),
                "{pattern} not in {patterns}"
            );
        }
        let add = state
            .requests
            .iter()
            .find(|r| r.target.starts_with("/_plugins/_ism/add/"))
            .expect("--apply-existing adds the policy to the existing indices");
        assert!(
            add.target.contains(&format!("{prefix}-*")),
            "{}",
            add.target
        );
        let body: Value = serde_json::from_slice(&add.body).unwrap();
        assert_eq!(body["policy_id"], "albingest-retention");
    }
    // The templates went to the real server, without an ILM setting OpenSearch does not know.
    let template = support::get_json(
        &real,
        Method::Get,
        &format!("/_index_template/albingest-{prefix}"),
        None,
    )
    .await;
    let settings = &template["index_templates"][0]["index_template"]["template"]["settings"];
    assert!(settings["index"].get("lifecycle").is_none(), "{settings}");

    // Again: the stored policy is replaced with its sequence number; the index that has the
    // policy already is no failure.
    let out = albingest(args).await;
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("albingest-retention replaced"), "{err}");
    assert!(err.contains("attached to 0 existing indices"), "{err}");
    let state = state.lock().unwrap();
    let puts: Vec<&str> = state
        .requests
        .iter()
        .filter(|r| r.method == "PUT")
        .map(|r| r.target.as_str())
        .collect();
    assert_eq!(puts.len(), 2, "{puts:?}");
    assert!(
        puts[1].contains("if_seq_no=7") && puts[1].contains("if_primary_term=1"),
        "{puts:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ilm_policy_is_named_by_the_templates_attached_to_existing_indices_and_kept() {
    let Some(servers) = support::search_servers("ilm_policy") else {
        return;
    };
    let elasticsearch = &servers[1].url;
    let prefix = support::unique("ilm");
    let existing = format!("{prefix}-2026.11.01");
    let real = support::search_client(elasticsearch).await;
    real.json(
        opensearch::http::Method::Put,
        &format!("/{existing}"),
        None,
        std::time::Duration::from_secs(10),
    )
    .await
    .unwrap();
    let (proxy, state) = double(elasticsearch, vec![]).await;

    let out = albingest(setup_args(
        &proxy.url,
        &prefix,
        &[
            "--lifecycle",
            "auto",
            "--retention-days",
            "7",
            "--apply-existing",
        ],
    ))
    .await;
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("ILM policy albingest-retention installed: delete after 7 days"),
        "{err}"
    );
    let policy = state
        .lock()
        .unwrap()
        .ilm_policy
        .clone()
        .expect("a policy was stored");
    assert_eq!(policy["policy"]["phases"]["delete"]["min_age"], "7d");
    assert_eq!(
        policy["policy"]["phases"]["delete"]["actions"],
        serde_json::json!({"delete": {}})
    );

    let lifecycle_of_template = |template: Value| {
        template["index_templates"][0]["index_template"]["template"]["settings"]["index"]
            ["lifecycle"]["name"]
            .clone()
    };
    for suffix in ["", "-conn", "-nlb", "-elb", "-health"] {
        let template = support::get_json(
            &real,
            Method::Get,
            &format!("/_index_template/albingest-{prefix}{suffix}"),
            None,
        )
        .await;
        assert_eq!(
            lifecycle_of_template(template),
            "albingest-retention",
            "{suffix}"
        );
    }
    let settings =
        support::get_json(&real, Method::Get, &format!("/{existing}/_settings"), None).await;
    assert_eq!(
        settings[&existing]["settings"]["index"]["lifecycle"]["name"], "albingest-retention",
        "{settings}"
    );

    // A later setup without --lifecycle (the ingest function's cold start does the same)
    // keeps the policy in the templates.
    let out = albingest(setup_args(elasticsearch, &prefix, &[])).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let template = support::get_json(
        &real,
        Method::Get,
        &format!("/_index_template/albingest-{prefix}"),
        None,
    )
    .await;
    assert_eq!(lifecycle_of_template(template), "albingest-retention");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serverless_and_mismatched_targets_are_refused_before_anything_is_installed() {
    let Some(servers) = support::search_servers("lifecycle_refused") else {
        return;
    };
    let prefix = support::unique("lcref");
    let state = Arc::new(Mutex::new(LifecycleState::default()));
    let serverless = target_profiles::start(
        &servers[1].url,
        vec![
            target_profiles::root(Root::ElasticServerless),
            lifecycle_apis::profile(state.clone(), vec![]),
        ],
    )
    .await;
    let out = albingest(setup_args(
        &serverless.url,
        &prefix,
        &["--lifecycle", "auto", "--retention-days", "7"],
    ))
    .await;
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(
        err.contains("Serverless") && err.contains("has no ISM or ILM"),
        "{err}"
    );
    assert!(
        state.lock().unwrap().requests.is_empty(),
        "no policy request"
    );

    let (proxy, state) = double(&servers[0].url, vec![]).await;
    let out = albingest(setup_args(
        &proxy.url,
        &prefix,
        &["--lifecycle", "ilm", "--retention-days", "7"],
    ))
    .await;
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(err.contains("give --lifecycle ism or auto"), "{err}");
    assert!(
        state.lock().unwrap().requests.is_empty(),
        "no policy request"
    );

    let out = albingest(vec![
        "setup".into(),
        "--endpoint".into(),
        servers[0].url.clone(),
        "--lifecycle".into(),
        "ism".into(),
    ])
    .await;
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("--lifecycle needs --retention-days"),
        "{}",
        stderr(&out)
    );
}
