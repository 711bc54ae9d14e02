//! albingest against the targets people run, imitated by the service profiles of
//! `support/target_profiles.rs` in front of the real stand-ins (osmem, noida): a role limited
//! to our index patterns, API keys, a private CA, `GET /` answers of other versions, a foreign
//! template that overrides ours, a clock far in the future.

mod support;

use std::path::Path;
use std::process::Output;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use albingest::cleanup::{cleanup, CleanupOptions};
use albingest::retention::{Retention, RetentionError};
use opensearch::http::Method;
use serde_json::{json, Value};
use support::fault_proxy::{Action, FaultProxy};
use support::target_profiles::{self, Profile, Root};
use support::{alb_lines, count, gzip, search_client, search_servers, unique, Server, TempDir};

/// Runs the CLI with `env` added (and the variables that could change its choices removed).
async fn albingest(args: Vec<String>, env: Vec<(&'static str, String)>) -> Output {
    tokio::task::spawn_blocking(move || {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_albingest"));
        command.args(&args);
        for var in [
            "ALBINGEST_ENDPOINT",
            "ALBINGEST_API_KEY",
            "ALBINGEST_USERNAME",
            "ALBINGEST_PASSWORD",
            "ALBINGEST_CA_BUNDLE",
        ] {
            command.env_remove(var);
        }
        command.envs(env);
        command.output().unwrap()
    })
    .await
    .unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn args(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|p| p.to_string()).collect()
}

/// `{prefix}-YYYY.MM.DD` for `days_ago` before today (UTC).
fn day(days_ago: i64) -> String {
    let today = albingest::retention::today();
    let t = albingest::timestamp::format_epoch_seconds((today - days_ago) * 86_400);
    t[..10].replace('-', ".")
}

async fn create_indices(server: &Server, names: &[String]) {
    let client = search_client(&server.url).await;
    for name in names {
        client
            .json(
                Method::Put,
                &format!("/{name}"),
                None,
                Duration::from_secs(30),
            )
            .await
            .unwrap_or_else(|e| panic!("{}: create {name}: {e}", server.name));
    }
}

/// The names that still exist.
async fn existing(server: &Server, names: &[String]) -> Vec<String> {
    let client = search_client(&server.url).await;
    let mut left = Vec::new();
    for name in names {
        let answer = client
            .send(Method::Head, &format!("/{name}"), &[], &[], None, None)
            .await
            .unwrap();
        if answer.status.is_success() {
            left.push(name.clone());
        }
    }
    left
}

async fn delete_indices(server: &Server, names: &[String]) {
    let client = search_client(&server.url).await;
    for name in names {
        let _ = client
            .send(Method::Delete, &format!("/{name}"), &[], &[], None, None)
            .await;
    }
}

/// A profile that forwards everything and notes `METHOD path body` of each request.
fn recorder(log: Arc<Mutex<Vec<String>>>) -> Profile {
    Box::new(move |request| {
        log.lock().unwrap().push(format!(
            "{} {} {}",
            request.method,
            request.target,
            String::from_utf8_lossy(&request.body)
        ));
        None
    })
}

/// No template sent used the `wildcard` type (the component template is shared by every
/// prefix, so what the server holds may come from a concurrent test).
fn sent_no_wildcard(requests: &[String]) -> bool {
    requests
        .iter()
        .filter(|r| r.starts_with("PUT /_component_template/"))
        .all(|r| !r.contains("\"wildcard\""))
        && requests
            .iter()
            .any(|r| r.starts_with("PUT /_component_template/"))
}

// ------------------------------------------------------------------ least privilege, cleanup

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleanup_under_a_role_limited_to_its_patterns_deletes_exactly_the_old_indices() {
    let Some(servers) = search_servers("fgac-cleanup") else {
        return;
    };
    for server in servers {
        let prefix = unique("fgac-cleanup");
        let other = unique("other");
        let names = vec![
            format!("{prefix}-{}", day(0)),
            format!("{prefix}-{}", day(7)),
            format!("{prefix}-{}", day(8)),
            format!("{prefix}-failed-{}", day(30)),
            format!("{other}-{}", day(400)),
        ];
        create_indices(&server, &names).await;
        let role = format!("{prefix}*");
        let proxy =
            target_profiles::start(&server.url, vec![target_profiles::fgac_role(&[&role])]).await;
        let out = albingest(
            args(&[
                "cleanup",
                "--endpoint",
                &proxy.url,
                "--prefix",
                &prefix,
                "--retention-days",
                "7",
            ]),
            vec![],
        )
        .await;
        assert!(out.status.success(), "{}: {}", server.name, text(&out));
        assert_eq!(
            existing(&server, &names).await,
            [names[0].clone(), names[1].clone(), names[4].clone()],
            "{}: exactly the old dated indices of the prefix are gone: {}",
            server.name,
            text(&out)
        );
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains(&other),
            "{}: another prefix's index is not even listed",
            server.name
        );
        delete_indices(&server, &names).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cleanup_delete_answered_404_counts_as_deleted() {
    let Some(servers) = search_servers("cleanup-404") else {
        return;
    };
    for server in servers {
        let prefix = unique("cleanup-404");
        let names = vec![
            format!("{prefix}-{}", day(20)),
            format!("{prefix}-{}", day(21)),
        ];
        create_indices(&server, &names).await;
        // Another cleanup deleted the first index between our listing and our delete: the
        // server's own answer for a missing index, index_not_found_exception 404.
        let gone = format!("/{}", names[0]);
        let proxy = FaultProxy::start(&server.url, move |request, _| {
            if request.method == "DELETE" && request.target == gone {
                let index = gone.trim_start_matches('/');
                let cause = json!({"type": "index_not_found_exception", "reason": format!("no such index [{index}]"),
                                   "index": index, "resource.type": "index_or_alias", "resource.id": index});
                Action::Respond {
                    status: 404,
                    body: json!({"error": {"root_cause": [cause.clone()], "type": "index_not_found_exception",
                                           "reason": cause["reason"], "index": index}, "status": 404})
                    .to_string(),
                    content_type: "application/json",
                }
            } else {
                Action::Forward
            }
        })
        .await;
        let out = albingest(
            args(&[
                "cleanup",
                "--endpoint",
                &proxy.url,
                "--prefix",
                &prefix,
                "--retention-days",
                "7",
            ]),
            vec![],
        )
        .await;
        assert!(
            out.status.success(),
            "{}: already gone is the wanted state: {}",
            server.name,
            text(&out)
        );
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("2 deleted"),
            "{}: {}",
            server.name,
            text(&out)
        );
        assert_eq!(existing(&server, &names[1..]).await, Vec::<String>::new());
        delete_indices(&server, &names).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clock_far_in_the_future_deletes_nothing_unless_forced() {
    let Some(servers) = search_servers("cleanup-clock") else {
        return;
    };
    let year_2100 = albingest::timestamp::parse("2100-01-01T00:00:00Z")
        .unwrap()
        .epoch_micros
        .div_euclid(86_400_000_000);
    for server in servers {
        let prefix = unique("cleanup-clock");
        let names = vec![
            format!("{prefix}-{}", day(0)),
            format!("{prefix}-{}", day(3)),
        ];
        create_indices(&server, &names).await;
        let client = search_client(&server.url).await;
        let retention = Retention::new(1, std::slice::from_ref(&prefix)).unwrap();
        let err = cleanup(&client, &retention, year_2100, CleanupOptions::default())
            .await
            .unwrap_err();
        assert!(
            matches!(
                &err,
                albingest::cleanup::CleanupError::Retention(RetentionError::ClockSuspect { .. })
            ),
            "{}: {err}",
            server.name
        );
        assert!(err.to_string().contains("2100-01-01"), "{err}");
        assert_eq!(existing(&server, &names).await, names, "{}", server.name);
        let forced = CleanupOptions {
            dry_run: false,
            force: true,
        };
        let report = cleanup(&client, &retention, year_2100, forced)
            .await
            .unwrap();
        let mut deleted = report.deleted.clone();
        deleted.sort();
        let mut expected = names.clone();
        expected.sort();
        assert_eq!(deleted, expected, "{}: --force deletes", server.name);
    }
}

// ------------------------------------------------------------------ API keys, TLS

/// An encoded API key as Elastic shows it (base64 of `id:key`).
const API_KEY: &str = "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==";
const WRONG_KEY: &str = "d3Jvbmc6bm90LXRoZS1rZXktYXQtYWxs";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_key_authenticates_and_a_wrong_one_fails_without_being_printed() {
    let Some(servers) = search_servers("api-key") else {
        return;
    };
    for server in servers {
        let dir = TempDir::new("api-key");
        let object = dir.path().join("app.log.gz");
        std::fs::write(&object, gzip(alb_lines(20, 10).as_bytes())).unwrap();
        let prefix = unique("api-key");
        let proxy =
            target_profiles::start(&server.url, vec![target_profiles::api_key_only(API_KEY)]).await;
        let ingest = |key: &str| {
            albingest(
                args(&[
                    "ingest",
                    object.to_str().unwrap(),
                    "--endpoint",
                    &proxy.url,
                    "--index-prefix",
                    &prefix,
                    "--dead-letter",
                    dir.path().join("dead").to_str().unwrap(),
                ]),
                vec![("ALBINGEST_API_KEY", key.to_string())],
            )
        };
        let out = ingest(API_KEY).await;
        assert!(out.status.success(), "{}: {}", server.name, text(&out));
        assert!(
            !text(&out).contains(API_KEY),
            "{}: key printed",
            server.name
        );
        let client = search_client(&server.url).await;
        let _ = client
            .send(Method::Post, "/_refresh", &[], &[], None, None)
            .await;
        assert_eq!(count(&client, &prefix).await, 20, "{}", server.name);

        let out = ingest(WRONG_KEY).await;
        assert!(!out.status.success(), "{}: {}", server.name, text(&out));
        let all = text(&out);
        assert!(
            all.contains("authentication failed"),
            "{}: {all}",
            server.name
        );
        assert!(
            !all.contains(WRONG_KEY),
            "{}: key printed: {all}",
            server.name
        );
        assert!(!all.contains(API_KEY), "{}", server.name);
        assert!(
            !dir.path().join("dead").exists(),
            "{}: a refused credential is never a dead letter",
            server.name
        );
    }
}

/// A CA and a server certificate for 127.0.0.1, made with the openssl command.
fn private_ca(dir: &Path) -> bool {
    let run = |args: &[&str]| {
        std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    std::fs::write(
        dir.join("san.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=albingest test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]) && run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]) && run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "san.cnf",
        "-out",
        "server.pem",
    ])
}

/// A TLS-terminating proxy (rustls) on a free port in front of `upstream` (`http://host:port`).
async fn tls_proxy(dir: &Path, upstream: &str) -> (String, tokio::task::JoinHandle<()>) {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(dir.join("server.pem"))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let key = PrivateKeyDer::from_pem_file(dir.join("server.key")).unwrap();
    let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    let upstream = upstream.trim_start_matches("http://").to_string();
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let upstream = upstream.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    return; // the client refused our certificate
                };
                let Ok(mut plain) = tokio::net::TcpStream::connect(&upstream).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    (url, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ca_bundle_trusts_a_private_ca() {
    let Some(servers) = search_servers("ca-bundle") else {
        return;
    };
    let dir = TempDir::new("ca-bundle");
    assert!(private_ca(dir.path()), "openssl could not make the test CA");
    for server in servers {
        let (url, task) = tls_proxy(dir.path(), &server.url).await;
        let prefix = unique("ca-bundle");
        let setup = |ca: Option<&Path>| {
            let mut parts = args(&["setup", "--endpoint", &url, "--index-prefix", &prefix]);
            if let Some(ca) = ca {
                parts.push("--ca-bundle".into());
                parts.push(ca.to_str().unwrap().into());
            }
            albingest(parts, vec![])
        };
        let out = setup(None).await;
        assert!(
            !out.status.success(),
            "{}: an unknown CA is refused: {}",
            server.name,
            text(&out)
        );
        let out = setup(Some(&dir.path().join("ca.pem"))).await;
        assert!(out.status.success(), "{}: {}", server.name, text(&out));
        let out = albingest(
            args(&["setup", "--endpoint", &url, "--index-prefix", &prefix]),
            vec![(
                "ALBINGEST_CA_BUNDLE",
                dir.path().join("ca.pem").display().to_string(),
            )],
        )
        .await;
        assert!(out.status.success(), "{}: {}", server.name, text(&out));
        task.abort();
    }
}

// ------------------------------------------------------------------ know the target

struct Detected {
    output: Output,
    requests: Vec<String>,
    template: Option<Value>,
}

/// `albingest setup` through the profiles in front of `upstream`; what it printed, sent and
/// left on the server.
async fn setup_through(
    upstream: &str,
    mut profiles: Vec<Profile>,
    extra: &[&str],
    env: Vec<(&'static str, String)>,
) -> Detected {
    let log = Arc::new(Mutex::new(Vec::new()));
    profiles.insert(0, recorder(log.clone()));
    let proxy = target_profiles::start(upstream, profiles).await;
    let prefix = unique("detect");
    let mut parts = args(&["setup", "--endpoint", &proxy.url, "--index-prefix", &prefix]);
    parts.extend(extra.iter().map(|e| e.to_string()));
    let output = albingest(parts, env).await;
    let client = search_client(upstream).await;
    let get = |path: String| {
        let client = &client;
        async move {
            let answer = client
                .send(Method::Get, &path, &[], &[], None, None)
                .await
                .unwrap();
            answer
                .status
                .is_success()
                .then(|| serde_json::from_slice::<Value>(&answer.body).unwrap())
        }
    };
    let template = get(format!("/_index_template/albingest-{prefix}")).await;
    let requests = log.lock().unwrap().clone();
    Detected {
        output,
        requests,
        template,
    }
}

fn has_settings(template: &Value) -> bool {
    !template["index_templates"][0]["index_template"]["template"]["settings"].is_null()
}

fn servers_by_flavour(test: &str) -> Option<(Server, Server)> {
    let mut servers = search_servers(test)?;
    let elasticsearch = servers.pop().unwrap();
    let opensearch = servers.pop().unwrap();
    Some((opensearch, elasticsearch))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_refuses_elasticsearch_6_8_naming_the_version_and_the_minimum() {
    let Some((_, es)) = servers_by_flavour("detect-es68") else {
        return;
    };
    let got = setup_through(
        &es.url,
        vec![target_profiles::root(Root::Elasticsearch6_8)],
        &[],
        vec![],
    )
    .await;
    let all = text(&got.output);
    assert!(!got.output.status.success(), "{all}");
    assert!(all.contains("Elasticsearch 6.8.23"), "{all}");
    assert!(all.contains("7.8.0"), "{all}");
    assert!(
        got.requests.iter().all(|r| !r.starts_with("PUT")),
        "nothing is sent to a target that cannot take it: {:?}",
        got.requests
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_on_elasticsearch_7_10_oss_uses_keyword_for_wildcard() {
    let Some((_, es)) = servers_by_flavour("detect-es710") else {
        return;
    };
    let got = setup_through(
        &es.url,
        vec![
            target_profiles::root(Root::Elasticsearch7_10),
            target_profiles::no_wildcard(),
        ],
        &[],
        vec![],
    )
    .await;
    let all = text(&got.output);
    assert!(got.output.status.success(), "{all}");
    assert!(
        all.contains("target Elasticsearch 7.10.2 (oss build)"),
        "{all}"
    );
    assert!(sent_no_wildcard(&got.requests), "{:?}", got.requests);
    assert!(has_settings(got.template.as_ref().unwrap()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_on_elastic_serverless_sends_no_index_settings() {
    let Some((_, es)) = servers_by_flavour("detect-es-serverless") else {
        return;
    };
    let got = setup_through(
        &es.url,
        vec![
            target_profiles::root(Root::ElasticServerless),
            target_profiles::no_index_settings(),
        ],
        &[],
        vec![],
    )
    .await;
    let all = text(&got.output);
    assert!(got.output.status.success(), "{all}");
    assert!(all.contains("target Elasticsearch Serverless"), "{all}");
    assert!(!has_settings(got.template.as_ref().unwrap()), "{all}");
    assert!(
        !sent_no_wildcard(&got.requests),
        "wildcard is there: {:?}",
        got.requests
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_on_opensearch_2_11_never_sends_wildcard() {
    let Some((os, _)) = servers_by_flavour("detect-os211") else {
        return;
    };
    let got = setup_through(
        &os.url,
        vec![
            target_profiles::root(Root::OpenSearch2_11),
            target_profiles::no_wildcard(),
        ],
        &[],
        vec![],
    )
    .await;
    let all = text(&got.output);
    assert!(got.output.status.success(), "{all}");
    assert!(all.contains("target OpenSearch 2.11.0"), "{all}");
    assert!(sent_no_wildcard(&got.requests), "{:?}", got.requests);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_on_opensearch_serverless_sends_mappings_only() {
    let Some((os, _)) = servers_by_flavour("detect-aoss") else {
        return;
    };
    // SigV4 for `aoss`, signed with example credentials the stand-in does not check.
    let aws = vec![
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE".to_string()),
        (
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".to_string(),
        ),
        ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
        ("AWS_CONFIG_FILE", "/dev/null".to_string()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".to_string()),
    ];
    let got = setup_through(
        &os.url,
        vec![
            target_profiles::root(Root::OpenSearchServerless),
            target_profiles::no_index_settings(),
        ],
        &["--aws-sigv4", "aoss", "--aws-region", "us-east-1"],
        aws,
    )
    .await;
    let all = text(&got.output);
    assert!(got.output.status.success(), "{all}");
    assert!(all.contains("target OpenSearch Serverless"), "{all}");
    assert!(
        !got.requests.iter().any(|r| r.starts_with("GET / ")),
        "OpenSearch Serverless does not serve GET /: {:?}",
        got.requests
    );
    assert!(!has_settings(got.template.as_ref().unwrap()), "{all}");
}

// ------------------------------------------------------------------ the template that wins

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_fails_naming_a_foreign_template_that_overrides_ours() {
    let Some(servers) = search_servers("foreign-template") else {
        return;
    };
    for server in servers {
        let prefix = unique("foreign-template");
        let client = search_client(&server.url).await;
        let foreign = format!("{prefix}-foreign");
        client
            .json(
                Method::Put,
                &format!("/_index_template/{foreign}"),
                Some(&json!({"index_patterns": [format!("{prefix}-*")], "priority": 1000,
                             "template": {"mappings": {"properties": {"source": {"properties": {"ip": {"type": "long"}}}}}}})),
                Duration::from_secs(30),
            )
            .await
            .unwrap();
        let out = albingest(
            args(&[
                "setup",
                "--endpoint",
                &server.url,
                "--index-prefix",
                &prefix,
            ]),
            vec![],
        )
        .await;
        let all = text(&out);
        let _ = client
            .send(
                Method::Delete,
                &format!("/_index_template/{foreign}"),
                &[],
                &[],
                None,
                None,
            )
            .await;
        assert!(!out.status.success(), "{}: {all}", server.name);
        assert!(
            all.contains(&format!("{foreign:?}")),
            "{}: {all}",
            server.name
        );
        assert!(all.contains("priority 1000"), "{}: {all}", server.name);
    }
}

// ------------------------------------------------------------------ setup without privileges

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_and_report_without_template_privileges_go_on_when_the_templates_exist() {
    let Some(servers) = search_servers("fgac-setup") else {
        return;
    };
    for server in servers {
        let dir = TempDir::new("fgac-setup");
        let object = dir.path().join("app.log.gz");
        std::fs::write(&object, gzip(alb_lines(10, 5).as_bytes())).unwrap();
        let installed = unique("fgac-setup");
        let missing = unique("fgac-missing");
        // An administrator installed the templates of one prefix.
        let out = albingest(
            args(&[
                "setup",
                "--endpoint",
                &server.url,
                "--index-prefix",
                &installed,
            ]),
            vec![],
        )
        .await;
        assert!(out.status.success(), "{}", text(&out));
        for prefix in [&installed, &missing] {
            let role = format!("{prefix}*");
            let proxy =
                target_profiles::start(&server.url, vec![target_profiles::fgac_role(&[&role])])
                    .await;
            let out = albingest(
                args(&[
                    "ingest",
                    object.to_str().unwrap(),
                    "--endpoint",
                    &proxy.url,
                    "--index-prefix",
                    prefix,
                    "--dead-letter",
                    dir.path().join("dead").to_str().unwrap(),
                ]),
                vec![],
            )
            .await;
            let all = text(&out);
            if prefix == &installed {
                assert!(out.status.success(), "{}: {all}", server.name);
                assert!(all.contains("403"), "{}: said once: {all}", server.name);
                let client = search_client(&server.url).await;
                let _ = client
                    .send(Method::Post, "/_refresh", &[], &[], None, None)
                    .await;
                assert_eq!(count(&client, prefix).await, 10, "{}", server.name);
                // The report names only the role's patterns too.
                let out = albingest(
                    args(&[
                        "report",
                        "--endpoint",
                        &proxy.url,
                        "--index-prefix",
                        prefix,
                        "--since",
                        "all",
                        "--json",
                    ]),
                    vec![],
                )
                .await;
                assert!(
                    out.status.success(),
                    "{}: report: {}",
                    server.name,
                    text(&out)
                );
            } else {
                assert!(!out.status.success(), "{}: {all}", server.name);
                assert!(
                    all.contains("indices:admin/index_template/put"),
                    "{}: names the privilege to grant: {all}",
                    server.name
                );
            }
        }
    }
}
