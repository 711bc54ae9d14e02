//! `albingest ingest` with the enrichment on, into both stand-in servers (osmem: OpenSearch API;
//! noida: Elasticsearch 8 API): the index template maps `source.geo.location` as a `geo_point`,
//! so a `geo_bounding_box` query finds the London address of MaxMind's test City database, and
//! the parsed user-agent fields are keywords a term query finds.

mod support;

use std::process::Command;

use opensearch::http::Method;
use serde_json::{json, Value};
use support::*;

const FIXTURE: &str = "tests/fixtures/enrich/enrich.log";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enriched_documents_are_searchable_by_location_and_user_agent() {
    let Some(servers) = search_servers("enrich") else {
        return;
    };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for server in &servers {
        let dir = TempDir::new("enrich");
        let log = dir.path().join("enrich.log");
        std::fs::copy(root.join(FIXTURE), &log).unwrap();
        let prefix = unique("enrich");
        let out = Command::new(env!("CARGO_BIN_EXE_albingest"))
            .current_dir(root)
            .env_remove("ALBINGEST_ENDPOINT")
            .args(["ingest", &log.display().to_string()])
            .args(["--endpoint", &server.url, "--index-prefix", &prefix])
            .args([
                "--geoip-city",
                "tests/fixtures/geoip/GeoLite2-City-Test.mmdb",
            ])
            .args(["--geoip-asn", "tests/fixtures/geoip/GeoLite2-ASN-Test.mmdb"])
            .args(["--user-agent", "--progress", "never"])
            .args([
                "--dead-letter",
                &dir.path().join("dlq").display().to_string(),
            ])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{}: {err}", server.name);
        assert!(
            err.contains("5 lines, 5 documents (0 failure documents), 5 indexed"),
            "{}: {err}",
            server.name
        );
        let client = search_client(&server.url).await;
        assert_eq!(count(&client, &prefix).await, 5, "{}", server.name);

        let index = format!("{prefix}-2020.06.15");
        let mapping = get_json(&client, Method::Get, &format!("/{index}/_mapping"), None).await;
        let source = &mapping[&index]["mappings"]["properties"]["source"]["properties"];
        assert_eq!(
            source["geo"]["properties"]["location"]["type"], "geo_point",
            "{}: {mapping}",
            server.name
        );

        let search = |query: Value| {
            let client = &client;
            let path = format!("/{prefix}-*/_search");
            async move {
                let answer =
                    get_json(client, Method::Post, &path, Some(json!({"query": query}))).await;
                let hits: Vec<Value> = answer["hits"]["hits"]
                    .as_array()
                    .unwrap_or_else(|| panic!("{answer}"))
                    .iter()
                    .map(|h| h["_source"].clone())
                    .collect();
                hits
            }
        };
        // Around London: 81.2.69.142 (51.5142, -0.0931) only, not Linköping, San Diego or the
        // addresses without a location.
        let london = search(json!({"geo_bounding_box": {"source.geo.location": {
            "top_left": {"lat": 52.0, "lon": -1.0},
            "bottom_right": {"lat": 51.0, "lon": 1.0}
        }}}))
        .await;
        let ips: Vec<&str> = london
            .iter()
            .map(|d| d["source"]["ip"].as_str().unwrap())
            .collect();
        assert_eq!(ips, ["81.2.69.142"], "{}", server.name);
        assert_eq!(london[0]["source"]["geo"]["city_name"], "London");

        let safari = search(json!({"term": {"user_agent.name": "Mobile Safari"}})).await;
        assert_eq!(safari.len(), 1, "{}", server.name);
        assert_eq!(safari[0]["user_agent"]["os"]["full"], "iOS 13.5.1");
        let telstra = search(json!({"term": {"source.as.number": 1221}})).await;
        assert_eq!(telstra.len(), 1, "{}", server.name);
        assert_eq!(
            telstra[0]["source"]["as"]["organization"]["name"],
            "Telstra Pty Ltd"
        );
    }
}

/// A database named `s3://BUCKET/KEY` is downloaded once and used as a local one: the same
/// London fields as from the file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_geoip_database_in_s3_is_downloaded_and_used() {
    let Some(s3_url) = s3_url("enrich-s3-database") else {
        return;
    };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let s3 = s3_client(&s3_url);
    let bucket = unique("enrich-db");
    create_bucket(&s3, &bucket).await;
    let db = std::fs::read(root.join("tests/fixtures/geoip/GeoLite2-City-Test.mmdb")).unwrap();
    put(&s3, &bucket, "geoip/GeoLite2-City-Test.mmdb", db).await;
    let uri = format!("s3://{bucket}/geoip/GeoLite2-City-Test.mmdb");
    let out = Command::new(env!("CARGO_BIN_EXE_albingest"))
        .current_dir(root)
        .envs(aws_env(&s3_url))
        .args(["parse", FIXTURE, "--geoip-city", &uri])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let documents: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let london = documents
        .iter()
        .find(|d| d["source"]["ip"] == "81.2.69.142")
        .unwrap_or_else(|| panic!("no document from 81.2.69.142: {documents:?}"));
    assert_eq!(london["source"]["geo"]["city_name"], "London", "{london}");
    assert_eq!(
        london["source"]["geo"]["country_iso_code"], "GB",
        "{london}"
    );
}
