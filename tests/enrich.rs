//! Enrichment (issue 16): GeoIP / ASN values against an independent reader, user agents against
//! uap-core's own test cases, and what a parsed line gets.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use albingest::enrich::geoip::GeoIp;
use albingest::enrich::user_agent::UserAgentParser;
use albingest::enrich::{EnrichConfig, Enricher};
use albingest::json;
use albingest::object_key::ObjectInfo;
use albingest::parse::Parser;
use serde_json::{json, Value};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn to_value<T: json::WriteJson>(value: &T) -> Value {
    let mut out = Vec::new();
    json::write(&mut out, value);
    serde_json::from_slice(&out).unwrap()
}

/// `tests/fixtures/geoip/expected.json` is written by `expected.py` beside it with the
/// `maxminddb` package from PyPI (another reader, another language): the first address of every
/// network of the test databases and its fields, shaped as Elasticsearch's geoip processor.
fn expected_geoip() -> Value {
    let text = std::fs::read_to_string(fixture("geoip/expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn check_geo(db: &str, cases: &Value) -> usize {
    let geoip = GeoIp::open(Some(&fixture(db)), None).unwrap();
    let cases = cases.as_array().unwrap();
    assert!(cases.len() > 100, "{db}: {} cases", cases.len());
    for case in cases {
        let ip: IpAddr = case["ip"].as_str().unwrap().parse().unwrap();
        let found = geoip.geo(ip).map(|g| to_value(&g));
        assert_eq!(found.as_ref(), Some(&case["expected"]), "{db}: {ip}");
    }
    cases.len()
}

#[test]
fn city_fields_match_an_independent_reader() {
    check_geo("geoip/GeoLite2-City-Test.mmdb", &expected_geoip()["city"]);
}

#[test]
fn country_fields_match_an_independent_reader() {
    check_geo(
        "geoip/GeoLite2-Country-Test.mmdb",
        &expected_geoip()["country"],
    );
}

#[test]
fn asn_fields_match_an_independent_reader() {
    let geoip = GeoIp::open(None, Some(&fixture("geoip/GeoLite2-ASN-Test.mmdb"))).unwrap();
    let expected = expected_geoip();
    let cases = expected["asn"].as_array().unwrap();
    assert!(cases.len() > 100);
    for case in cases {
        let ip: IpAddr = case["ip"].as_str().unwrap().parse().unwrap();
        let found = geoip.autonomous_system(ip).map(|a| to_value(&a));
        assert_eq!(found.as_ref(), Some(&case["expected"]), "{ip}");
    }
}

#[test]
fn london_is_where_maxmind_says() {
    let geoip = GeoIp::open(Some(&fixture("geoip/GeoLite2-City-Test.mmdb")), None).unwrap();
    let london = to_value(&geoip.geo("81.2.69.142".parse().unwrap()).unwrap());
    assert_eq!(
        london,
        json!({
            "continent_name": "Europe",
            "country_iso_code": "GB",
            "country_name": "United Kingdom",
            "region_iso_code": "GB-ENG",
            "region_name": "England",
            "city_name": "London",
            "location": {"lat": 51.5142, "lon": -0.0931}
        })
    );
}

#[test]
fn swapped_databases_fail_at_start_naming_the_file() {
    let asn = fixture("geoip/GeoLite2-ASN-Test.mmdb");
    let err = GeoIp::open(Some(&asn), None).unwrap_err().to_string();
    assert!(err.contains("GeoLite2-ASN-Test.mmdb"), "{err}");
    assert!(err.contains("geoip_city"), "{err}");
    let city = fixture("geoip/GeoLite2-City-Test.mmdb");
    let err = GeoIp::open(None, Some(&city)).unwrap_err().to_string();
    assert!(err.contains("geoip_asn") && err.contains("ASN"), "{err}");
    let missing = fixture("geoip/none.mmdb");
    let err = GeoIp::open(Some(&missing), None).unwrap_err().to_string();
    assert!(err.contains("none.mmdb"), "{err}");
}

/// `uap-core-sample.json` is written by `sample.py` beside it from uap-core's own test files
/// (v0.18.0, the release whose regexes.yaml is embedded): every Nth case of each.
#[test]
fn user_agents_match_uap_core_test_cases() {
    let text = std::fs::read_to_string(fixture("user_agent/uap-core-sample.json")).unwrap();
    let sample: Value = serde_json::from_str(&text).unwrap();
    let parser = UserAgentParser::embedded().unwrap();
    let mut checked = 0;
    for case in sample["user_agent"].as_array().unwrap() {
        let agent = case["user_agent"].as_str().unwrap();
        let parsed = to_value(&parser.parse(agent));
        // Most test_ua.yaml cases give major, minor and patch only; Elasticsearch (and we)
        // append patch_minor too, which those cases do not assert.
        let mut expected = case["expected"].clone();
        let parts = expected["version"]
            .as_str()
            .map_or(0, |v| v.split('.').count());
        let version = parsed["version"].as_str().map(|v| {
            v.split('.')
                .take(parts.max(1))
                .collect::<Vec<_>>()
                .join(".")
        });
        let found = json!({"name": parsed["name"], "version": version});
        expected
            .as_object_mut()
            .unwrap()
            .entry("version")
            .or_insert(Value::Null);
        assert_eq!(found, expected, "user agent of {agent:?}");
        checked += 1;
    }
    for case in sample["os"].as_array().unwrap() {
        let agent = case["user_agent"].as_str().unwrap();
        let parsed = to_value(&parser.parse(agent));
        assert_eq!(parsed["os"], case["expected"], "os of {agent:?}");
        checked += 1;
    }
    for case in sample["device"].as_array().unwrap() {
        let agent = case["user_agent"].as_str().unwrap();
        let parsed = to_value(&parser.parse(agent));
        assert_eq!(parsed["device"], case["expected"], "device of {agent:?}");
        checked += 1;
    }
    assert!(checked >= 150, "{checked} cases");
}

const LINE: &str = "https 2020-06-15T09:59:59.737965Z app/prod-web-alb/50dc6c495c0c9188 \
    CLIENT:27050 10.3.218.102:3000 0.001 0.169 0.001 200 200 1163 35843 \
    \"GET https://auth.example.org:443/static/7872413 HTTP/1.1\" \
    \"Mozilla/5.0 (iPhone; CPU iPhone OS 13_5_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Mobile/15E148 Safari/604.1\" \
    TLS_AES_128_GCM_SHA256 TLSv1.3 \
    arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/shop-blue/91f0a6c2d7e3b415 \
    \"Root=1-6b05601f-f51e8722c21b609228ce6f24\" \"auth.example.org\" \"-\" 0 \
    2020-06-15T09:59:59.565000Z \"forward\" \"-\" \"-\" \"10.3.218.102:3000\" \"200\" \"-\" \"-\"";

fn enriched_document(client: &str) -> Value {
    let config = EnrichConfig {
        geoip_city: Some(
            fixture("geoip/GeoLite2-City-Test.mmdb")
                .display()
                .to_string(),
        ),
        geoip_asn: Some(
            fixture("geoip/GeoLite2-ASN-Test.mmdb")
                .display()
                .to_string(),
        ),
        user_agent: true,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let enricher = runtime.block_on(Enricher::load(&config, None)).unwrap();
    let parser = Parser::embedded().enrich(enricher);
    let object = ObjectInfo::local("enrich.log");
    let line = LINE.replace("CLIENT", client);
    let mut document = None;
    let mut stats = albingest::pipeline::ParseStats::default();
    albingest::pipeline::for_each_document::<_, albingest::pipeline::ReadError>(
        &parser,
        &object,
        line.as_bytes(),
        &mut stats,
        |parsed, _| {
            assert!(!parsed.failed, "{:?}", parsed.document.error);
            document = Some(to_value(&parsed.document));
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(stats.documents, 1);
    document.unwrap()
}

#[test]
fn a_parsed_line_gets_geo_as_and_user_agent_fields() {
    let doc = enriched_document("81.2.69.142");
    assert_eq!(doc["source"]["geo"]["city_name"], "London");
    assert_eq!(
        doc["source"]["geo"]["location"],
        json!({"lat": 51.5142, "lon": -0.0931})
    );
    assert_eq!(
        doc["user_agent"],
        json!({
            "original": "Mozilla/5.0 (iPhone; CPU iPhone OS 13_5_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Mobile/15E148 Safari/604.1",
            "name": "Mobile Safari",
            "version": "13.1.1",
            "os": {"name": "iOS", "version": "13.5.1", "full": "iOS 13.5.1"},
            "device": {"name": "iPhone"}
        })
    );
    // 1.128.0.0/11 is AS1221 in the ASN test database (no City entry there).
    let doc = enriched_document("1.128.0.1");
    assert_eq!(
        doc["source"]["as"],
        json!({"number": 1221, "organization": {"name": "Telstra Pty Ltd"}})
    );
}

#[test]
fn private_addresses_get_no_geo_fields() {
    for client in ["10.0.0.7", "192.168.1.1", "127.0.0.1", "fd00::1"] {
        let doc = enriched_document(client);
        let source = doc["source"].as_object().unwrap();
        assert!(
            !source.contains_key("geo") && !source.contains_key("as"),
            "{client}: {source:?}"
        );
    }
}

/// `albingest parse` with the enrichment flags: `tests/fixtures/enrich/enrich.expected.ndjson` is
/// the documents of `enrich.log` without enrichment (the golden-tested parser) plus the geo and
/// as fields read with the `maxminddb` package and the user-agent fields written by hand from
/// uap-core's patterns and Elasticsearch's rules (docs/documents.md); `log.file.path` (the
/// canonical path, which depends on the checkout) is compared as the relative path.
#[test]
fn parse_with_the_enrichment_flags_writes_the_golden_documents() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_albingest"))
        .current_dir(dir)
        .args([
            "parse",
            "--threads",
            "2",
            "--geoip-city",
            "tests/fixtures/geoip/GeoLite2-City-Test.mmdb",
            "--geoip-asn",
            "tests/fixtures/geoip/GeoLite2-ASN-Test.mmdb",
            "--user-agent",
            "tests/fixtures/enrich/enrich.log",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let expected = std::fs::read_to_string(fixture("enrich/enrich.expected.ndjson")).unwrap();
    let expected: Vec<Value> = expected
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let found: Vec<Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let mut doc: Value = serde_json::from_str(l).unwrap();
            doc["log"]["file"]["path"] = json!("tests/fixtures/enrich/enrich.log");
            doc
        })
        .collect();
    assert_eq!(found.len(), expected.len());
    for (i, (found, expected)) in found.iter().zip(&expected).enumerate() {
        assert_eq!(found, expected, "line {}", i + 1);
    }
}

#[test]
fn a_missing_database_fails_parse_naming_the_file() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_albingest"))
        .args([
            "parse",
            "--geoip-city",
            "/nonexistent/GeoLite2-City.mmdb",
            "-",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("/nonexistent/GeoLite2-City.mmdb"),
        "{stderr}"
    );
}

/// The ALB overview of both products shows the enrichment: a map of the client locations (a
/// geohash grid on the `geo_point`), top countries and ASNs, browsers and operating systems.
#[test]
fn the_overview_dashboards_show_the_enrichment_fields() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mappings: Value = serde_json::from_str(
        &std::fs::read_to_string(
            dir.join("deploy/index-templates/albingest-mappings.component.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let source = &mappings["template"]["mappings"]["properties"]["source"]["properties"];
    assert_eq!(source["geo"]["properties"]["location"]["type"], "geo_point");
    assert_eq!(source["as"]["properties"]["number"]["type"], "long");
    for flavour in ["opensearch-dashboards", "kibana"] {
        let path = dir.join(format!("deploy/dashboards/{flavour}/alb-overview.ndjson"));
        let objects: Vec<Value> = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let overview = objects
            .iter()
            .find(|o| o["id"] == "albingest-alb-overview")
            .unwrap();
        let panels: Vec<&str> = overview["references"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        let vis_fields = |id: &str| -> Vec<(String, String)> {
            assert!(
                panels.contains(&id),
                "{flavour}: {id} is not on the overview"
            );
            let vis = objects.iter().find(|o| o["id"] == id).unwrap();
            let state: Value =
                serde_json::from_str(vis["attributes"]["visState"].as_str().unwrap()).unwrap();
            state["aggs"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|a| {
                    Some((
                        a["type"].as_str()?.to_owned(),
                        a["params"]["field"].as_str()?.to_owned(),
                    ))
                })
                .collect()
        };
        let pair = |t: &str, f: &str| (t.to_owned(), f.to_owned());
        assert!(vis_fields("albingest-alb-client-map")
            .contains(&pair("geohash_grid", "source.geo.location")));
        assert!(vis_fields("albingest-alb-top-countries")
            .contains(&pair("terms", "source.geo.country_name")));
        assert!(vis_fields("albingest-alb-top-asns")
            .contains(&pair("terms", "source.as.organization.name")));
        assert!(vis_fields("albingest-alb-browsers").contains(&pair("terms", "user_agent.name")));
        assert!(vis_fields("albingest-alb-operating-systems")
            .contains(&pair("terms", "user_agent.os.name")));
    }
}
