//! Static checks of what `deploy/` ships, none of which can be imported or deployed here (no
//! Dashboards/Kibana, no AWS): the saved objects are well formed, every reference resolves
//! inside its file, every field they name is mapped by the index template (and fit for the
//! aggregation that uses it), and the SAM template and the Terraform module give the functions
//! exactly the environment variables the binaries read.
//!
//! The mappings come from `deploy/index-templates/albingest-mappings.component.json`, the file
//! `albingest setup` installs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use regex::Regex;
use serde_json::Value;

const MAPPINGS: &str = "deploy/index-templates/albingest-mappings.component.json";
const DASHBOARDS: [&str; 2] = [
    "deploy/dashboards/opensearch-dashboards/alb-overview.ndjson",
    "deploy/dashboards/kibana/alb-overview.ndjson",
];
const SAM_TEMPLATE: &str = "deploy/sam/template.yaml";
const TERRAFORM_MAIN: &str = "deploy/terraform/main.tf";

/// The environment the ingest binary reads (the contract in deploy/README.md).
const INGEST_ENV: [&str; 16] = [
    "ALBINGEST_ENDPOINT",
    "ALBINGEST_AUTH",
    "ALBINGEST_SIGV4_SERVICE",
    "ALBINGEST_USERNAME",
    "ALBINGEST_PASSWORD",
    "ALBINGEST_API_KEY",
    "ALBINGEST_INDEX_PREFIXES",
    "ALBINGEST_BATCH_BYTES",
    "ALBINGEST_DEAD_LETTER",
    "ALBINGEST_KEEP_ORIGINAL",
    "ALBINGEST_SETUP",
    "ALBINGEST_DEADLINE_MARGIN_SECONDS",
    "ALBINGEST_DOCUMENT_IDS",
    "ALBINGEST_BUCKET_ROLES",
    "ALBINGEST_CONFIG",
    "RUST_LOG",
];

/// The environment the cleanup binary reads.
const CLEANUP_ENV: [&str; 10] = [
    "ALBINGEST_ENDPOINT",
    "ALBINGEST_AUTH",
    "ALBINGEST_SIGV4_SERVICE",
    "ALBINGEST_USERNAME",
    "ALBINGEST_PASSWORD",
    "ALBINGEST_API_KEY",
    "RETENTION_DAYS",
    "ALBINGEST_INDEX_PREFIXES",
    "DRY_RUN",
    "ALBINGEST_CONFIG",
];

/// Fields every index has without a mapping.
const META_FIELDS: [&str; 4] = ["_id", "_index", "_score", "_source"];

fn read(rel: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

// ------------------------------------------------------------------ mappings

/// Every mapped field by its dotted name (multi-fields included), with its mapping.
fn mapped_fields() -> BTreeMap<String, Value> {
    fn walk(
        prefix: &str,
        properties: &serde_json::Map<String, Value>,
        out: &mut BTreeMap<String, Value>,
    ) {
        for (name, def) in properties {
            let full = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}.{name}")
            };
            if let Some(children) = def.get("properties").and_then(Value::as_object) {
                walk(&full, children, out);
                continue;
            }
            if let Some(multi) = def.get("fields").and_then(Value::as_object) {
                for (sub, sub_def) in multi {
                    out.insert(format!("{full}.{sub}"), sub_def.clone());
                }
            }
            out.insert(full, def.clone());
        }
    }
    let template: Value = serde_json::from_str(&read(MAPPINGS)).expect("mappings: JSON");
    let properties = template
        .pointer("/template/mappings/properties")
        .and_then(Value::as_object)
        .expect("mappings: template.mappings.properties");
    let mut out = BTreeMap::new();
    walk("", properties, &mut out);
    out
}

fn field_type(fields: &BTreeMap<String, Value>, name: &str) -> Option<String> {
    fields.get(name).map(|def| {
        def.get("type")
            .and_then(Value::as_str)
            .unwrap_or("object")
            .to_owned()
    })
}

/// Whether a bucket or metric aggregation can run on the field. `wildcard` counts: it has doc
/// values on Elasticsearch and on OpenSearch 3; OpenSearch 2.x needs `"doc_values": true` in the
/// mapping, which Elasticsearch refuses for this type (see deploy/README.md).
fn aggregatable(def: &Value) -> bool {
    let ty = def.get("type").and_then(Value::as_str).unwrap_or("object");
    ty != "text" && ty != "object" && def.get("doc_values") != Some(&Value::Bool(false))
}

fn numeric(ty: &str) -> bool {
    matches!(
        ty,
        "long"
            | "integer"
            | "short"
            | "byte"
            | "double"
            | "float"
            | "half_float"
            | "scaled_float"
            | "unsigned_long"
    )
}

#[test]
fn mappings_have_the_fields_the_contract_names() {
    let fields = mapped_fields();
    for (name, ty) in [
        ("@timestamp", "date"),
        ("http.response.status_code", "long"),
        ("aws.elb.backend_processing_time.sec", "float"),
        ("source.ip", "ip"),
        ("event.kind", "keyword"),
        ("error.message", "text"),
        ("log.file.path", "keyword"),
    ] {
        assert_eq!(field_type(&fields, name).as_deref(), Some(ty), "{name}");
    }
}

// ------------------------------------------------------------------ KQL

/// Field names in a KQL query: identifiers directly followed by `:`, `<` or `>`.
fn kql_fields(query: &str) -> Vec<String> {
    let re = Regex::new(r#"(?:^|[\s(])([A-Za-z_@][A-Za-z0-9_.@]*)\s*(?::|<|>)"#).unwrap();
    // Drop quoted phrases first: what is inside them is a value.
    let unquoted = Regex::new(r#""(?:[^"\\]|\\.)*""#)
        .unwrap()
        .replace_all(query, "\"\"");
    re.captures_iter(&unquoted)
        .map(|c| c[1].to_owned())
        .collect()
}

#[test]
fn kql_field_extraction() {
    assert_eq!(
        kql_fields("http.response.status_code >= 200 and http.response.status_code < 300"),
        ["http.response.status_code", "http.response.status_code"]
    );
    assert_eq!(kql_fields("not url.path:*"), ["url.path"]);
    assert_eq!(kql_fields("event.kind:pipeline_error"), ["event.kind"]);
    assert_eq!(
        kql_fields(r#"error.message:"a: b" or (tags:x)"#),
        ["error.message", "tags"]
    );
    assert!(kql_fields("").is_empty());
}

// ------------------------------------------------------------------ saved objects

struct SavedObjects {
    file: &'static str,
    objects: Vec<Value>,
}

fn load(file: &'static str) -> SavedObjects {
    let text = read(file);
    assert!(text.ends_with('\n'), "{file}: ends with a newline");
    let objects = text
        .lines()
        .enumerate()
        .map(|(n, line)| {
            assert!(!line.trim().is_empty(), "{file}:{}: empty line", n + 1);
            serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("{file}:{}: {e}", n + 1))
        })
        .collect();
    SavedObjects { file, objects }
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

/// A JSON document stored as a string attribute.
fn embedded(obj: &Value, pointer: &str) -> Option<Value> {
    str_at(obj, pointer)
        .map(|s| serde_json::from_str(s).unwrap_or_else(|e| panic!("{} {pointer}: {e}", obj["id"])))
}

/// Every field a saved object names, each with what it is used for.
#[derive(Debug, PartialEq)]
enum Use {
    Query,
    Column,
    Sort,
    TimeField,
    Agg(String),
}

fn field_uses(obj: &Value) -> Vec<(String, Use)> {
    let mut uses = Vec::new();
    if let Some(source) = embedded(obj, "/attributes/kibanaSavedObjectMeta/searchSourceJSON") {
        if str_at(&source, "/query/language") == Some("kuery") {
            for f in kql_fields(str_at(&source, "/query/query").unwrap_or("")) {
                uses.push((f, Use::Query));
            }
        }
        for filter in source["filter"].as_array().into_iter().flatten() {
            if let Some(key) = str_at(filter, "/meta/key") {
                uses.push((key.to_owned(), Use::Query));
            }
        }
    }
    if let Some(vis) = embedded(obj, "/attributes/visState") {
        for agg in vis["aggs"].as_array().expect("visState.aggs") {
            let ty = agg["type"].as_str().expect("agg type").to_owned();
            if let Some(field) = str_at(agg, "/params/field") {
                uses.push((field.to_owned(), Use::Agg(ty.clone())));
            }
            for filter in agg
                .pointer("/params/filters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                assert_eq!(
                    str_at(filter, "/input/language"),
                    Some("kuery"),
                    "{}: filters agg",
                    obj["id"]
                );
                for f in kql_fields(str_at(filter, "/input/query").unwrap_or("")) {
                    uses.push((f, Use::Query));
                }
            }
        }
    }
    for column in obj
        .pointer("/attributes/columns")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        uses.push((column.as_str().expect("column").to_owned(), Use::Column));
    }
    for sort in obj
        .pointer("/attributes/sort")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        uses.push((sort[0].as_str().expect("sort field").to_owned(), Use::Sort));
    }
    if let Some(time) = str_at(obj, "/attributes/timeFieldName") {
        uses.push((time.to_owned(), Use::TimeField));
    }
    if let Some(fields) = embedded(obj, "/attributes/fields") {
        for f in fields.as_array().expect("index-pattern fields") {
            uses.push((
                f["name"].as_str().expect("field name").to_owned(),
                Use::Column,
            ));
        }
    }
    if let Some(formats) = embedded(obj, "/attributes/fieldFormatMap") {
        for name in formats.as_object().expect("fieldFormatMap").keys() {
            uses.push((name.clone(), Use::Column));
        }
    }
    uses
}

#[test]
fn saved_objects_are_well_formed_and_references_resolve() {
    for file in DASHBOARDS {
        let SavedObjects { file, objects } = load(file);
        let mut ids = BTreeSet::new();
        for obj in &objects {
            let ty = obj["type"]
                .as_str()
                .unwrap_or_else(|| panic!("{file}: object without type"));
            let id = obj["id"]
                .as_str()
                .unwrap_or_else(|| panic!("{file}: {ty} without id"));
            assert!(!id.is_empty(), "{file}: {ty} with an empty id");
            assert!(
                obj["attributes"].is_object(),
                "{file}: {ty} {id} without attributes"
            );
            assert!(
                str_at(obj, "/attributes/title").is_some_and(|t| !t.is_empty()),
                "{file}: {ty} {id} without title"
            );
            assert!(
                matches!(
                    ty,
                    "index-pattern" | "visualization" | "search" | "dashboard"
                ),
                "{file}: unexpected type {ty}"
            );
            assert!(
                ids.insert((ty.to_owned(), id.to_owned())),
                "{file}: {ty} {id} twice"
            );
        }

        for obj in &objects {
            let id = obj["id"].as_str().unwrap();
            let refs = obj["references"]
                .as_array()
                .unwrap_or_else(|| panic!("{file}: {id} without references"));
            let mut names = BTreeMap::new();
            for r in refs {
                let (name, ty, target) = (
                    r["name"].as_str().expect("reference name"),
                    r["type"].as_str().expect("reference type"),
                    r["id"].as_str().expect("reference id"),
                );
                assert!(
                    ids.contains(&(ty.to_owned(), target.to_owned())),
                    "{file}: {id} refers to {ty} {target}, which the file does not hold"
                );
                assert!(
                    names.insert(name.to_owned(), ty.to_owned()).is_none(),
                    "{file}: {id}: reference {name} twice"
                );
            }

            // searchSourceJSON names its index pattern through a reference, never inline.
            if let Some(source) =
                embedded(obj, "/attributes/kibanaSavedObjectMeta/searchSourceJSON")
            {
                assert!(
                    source.get("index").is_none(),
                    "{file}: {id}: inline index id"
                );
                match str_at(&source, "/indexRefName") {
                    Some(name) => assert_eq!(
                        names.get(name).map(String::as_str),
                        Some("index-pattern"),
                        "{file}: {id}: indexRefName {name} is no index-pattern reference"
                    ),
                    // A dashboard, or a text panel (markdown), reads no index.
                    None => assert!(
                        obj["type"] == "dashboard"
                            || embedded(obj, "/attributes/visState")
                                .is_some_and(|v| v["type"] == "markdown"),
                        "{file}: {id}: searchSourceJSON without indexRefName"
                    ),
                }
            }

            if obj["type"] == "visualization" {
                assert!(
                    embedded(obj, "/attributes/uiStateJSON").is_some(),
                    "{file}: {id}: uiStateJSON"
                );
                let vis = embedded(obj, "/attributes/visState").expect("visState");
                assert!(
                    vis["type"].is_string() && vis["params"].is_object(),
                    "{file}: {id}: visState"
                );
            }

            if obj["type"] == "dashboard" {
                let panels = embedded(obj, "/attributes/panelsJSON").expect("panelsJSON");
                let panels = panels.as_array().expect("panelsJSON array");
                assert!(!panels.is_empty(), "{file}: {id}: no panels");
                let mut indices = BTreeSet::new();
                for p in panels {
                    let r = p["panelRefName"].as_str().expect("panelRefName");
                    assert!(
                        matches!(
                            names.get(r).map(String::as_str),
                            Some("visualization" | "search")
                        ),
                        "{file}: {id}: panel {r} has no visualization/search reference"
                    );
                    let g = &p["gridData"];
                    let (x, w) = (g["x"].as_u64().expect("x"), g["w"].as_u64().expect("w"));
                    assert!(
                        x + w <= 48 && g["h"].as_u64().is_some(),
                        "{file}: {id}: panel {r} off the grid"
                    );
                    assert_eq!(g["i"], p["panelIndex"], "{file}: {id}: panel {r} index");
                    assert!(
                        indices.insert(p["panelIndex"].to_string()),
                        "{file}: {id}: panelIndex twice"
                    );
                }
                assert_eq!(
                    panels.len(),
                    names.len(),
                    "{file}: {id}: a reference without a panel"
                );
            }
        }
    }
}

#[test]
fn saved_objects_name_only_mapped_fields() {
    let mapped = mapped_fields();
    for file in DASHBOARDS {
        for obj in load(file).objects {
            let id = obj["id"].as_str().unwrap().to_owned();
            for (field, usage) in field_uses(&obj) {
                if META_FIELDS.contains(&field.as_str()) {
                    continue;
                }
                let def = mapped.get(&field).unwrap_or_else(|| {
                    panic!("{file}: {id} uses {field} ({usage:?}), which {MAPPINGS} does not map")
                });
                let ty = field_type(&mapped, &field).unwrap();
                match &usage {
                    Use::TimeField => assert_eq!(ty, "date", "{file}: {id}: time field {field}"),
                    Use::Agg(agg) => {
                        assert!(
                            aggregatable(def),
                            "{file}: {id}: {agg} on {field} ({ty}) cannot aggregate"
                        );
                        match agg.as_str() {
                            "date_histogram" => {
                                assert_eq!(ty, "date", "{file}: {id}: {agg} on {field}")
                            }
                            "percentiles" | "avg" | "sum" | "min" | "max" | "median"
                            | "histogram" => {
                                assert!(numeric(&ty), "{file}: {id}: {agg} on {field} ({ty})")
                            }
                            _ => {}
                        }
                    }
                    Use::Sort => assert!(aggregatable(def), "{file}: {id}: sort on {field} ({ty})"),
                    Use::Query | Use::Column => {}
                }
            }
        }
    }
}

#[test]
fn the_overview_has_what_the_issue_asks_for() {
    for file in DASHBOARDS {
        let objects = load(file).objects;
        let of_type = |ty: &'static str| objects.iter().filter(move |o| o["type"] == ty);

        let patterns: BTreeMap<&str, &str> = of_type("index-pattern")
            .map(|o| {
                (
                    str_at(o, "/attributes/title").unwrap(),
                    str_at(o, "/attributes/timeFieldName").unwrap(),
                )
            })
            .collect();
        assert_eq!(patterns.get("alb-logs-*"), Some(&"@timestamp"), "{file}");
        assert_eq!(
            patterns.get("alb-logs-failed-*"),
            Some(&"@timestamp"),
            "{file}"
        );

        let aggs: Vec<(String, Value)> = of_type("visualization")
            .flat_map(|o| {
                embedded(o, "/attributes/visState").unwrap()["aggs"]
                    .as_array()
                    .unwrap()
                    .clone()
            })
            .map(|a| (a["type"].as_str().unwrap().to_owned(), a))
            .collect();
        let has = |ty: &str, field: &str| {
            aggs.iter()
                .any(|(t, a)| t == ty && str_at(a, "/params/field") == Some(field))
        };

        // Requests over time split by status class.
        assert!(has("date_histogram", "@timestamp"), "{file}");
        let status_split = aggs.iter().any(|(t, a)| {
            (t == "filters"
                && a.pointer("/params/filters")
                    .and_then(Value::as_array)
                    .is_some_and(|f| {
                        f.iter().any(|f| {
                            str_at(f, "/input/query")
                                .unwrap_or("")
                                .contains("http.response.status_code")
                        })
                    }))
                || (t == "range" && str_at(a, "/params/field") == Some("http.response.status_code"))
        });
        assert!(status_split, "{file}: no split by status class");
        // Latency percentiles.
        assert!(
            aggs.iter().any(|(t, a)| t == "percentiles"
                && str_at(a, "/params/field") == Some("aws.elb.backend_processing_time.sec")
                && a.pointer("/params/percents") == Some(&serde_json::json!([50, 95, 99]))),
            "{file}: no p50/p95/p99 of aws.elb.backend_processing_time.sec"
        );
        for field in [
            "url.path",
            "source.ip",
            "user_agent.original",
            "aws.elb.error.reason",
            "http.response.status_code",
        ] {
            assert!(has("terms", field), "{file}: no terms on {field}");
        }

        let search = of_type("search").next().expect("a saved search");
        assert_eq!(
            search.pointer("/attributes/columns"),
            Some(&serde_json::json!([
                "error.message",
                "event.original",
                "log.file.path"
            ])),
            "{file}"
        );
        let source =
            embedded(search, "/attributes/kibanaSavedObjectMeta/searchSourceJSON").unwrap();
        assert_eq!(
            str_at(&source, "/query/query"),
            Some("event.kind:pipeline_error"),
            "{file}"
        );

        let placed: BTreeSet<&str> = of_type("dashboard")
            .flat_map(|d| d["references"].as_array().unwrap())
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        for o in objects
            .iter()
            .filter(|o| o["type"] == "visualization" || o["type"] == "search")
        {
            assert!(
                placed.contains(o["id"].as_str().unwrap()),
                "{file}: {} is on no dashboard",
                o["id"]
            );
        }
        assert!(
            of_type("dashboard").any(|d| d["id"] == "albingest-alb-overview"),
            "{file}: no ALB overview"
        );
    }
}

/// The visualizations a dashboard places, by id.
fn panels_of<'o>(objects: &'o [Value], dashboard: &str) -> Vec<&'o Value> {
    let board = objects
        .iter()
        .find(|o| o["type"] == "dashboard" && o["id"] == dashboard)
        .unwrap_or_else(|| panic!("no dashboard {dashboard}"));
    board["references"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| objects.iter().find(|o| o["id"] == r["id"]))
        .collect()
}

/// The index pattern a visualization reads.
fn pattern_title<'o>(objects: &'o [Value], vis: &Value) -> Option<&'o str> {
    let id = vis["references"]
        .as_array()?
        .iter()
        .find(|r| r["type"] == "index-pattern")?["id"]
        .as_str()?;
    objects
        .iter()
        .find(|o| o["type"] == "index-pattern" && o["id"] == id)
        .and_then(|o| str_at(o, "/attributes/title"))
}

fn aggs_of(vis: &Value) -> Vec<(String, Option<String>)> {
    embedded(vis, "/attributes/visState").unwrap()["aggs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["type"].as_str().unwrap().to_owned(),
                str_at(a, "/params/field").map(str::to_owned),
            )
        })
        .collect()
}

fn query_of(vis: &Value) -> String {
    embedded(vis, "/attributes/kibanaSavedObjectMeta/searchSourceJSON")
        .and_then(|s| str_at(&s, "/query/query").map(str::to_owned))
        .unwrap_or_default()
}

/// Issue 13: checks by status over time, failing targets and reason codes, latency by target
/// group, all over the health check logs; the ALB overview links to it (and back).
#[test]
fn the_target_health_dashboard_has_what_the_issue_asks_for() {
    for file in DASHBOARDS {
        let objects = load(file).objects;
        let panels = panels_of(&objects, "albingest-alb-target-health");
        let has = |vis: &&Value, ty: &str, field: &str| {
            aggs_of(vis)
                .iter()
                .any(|(t, f)| t == ty && f.as_deref() == Some(field))
        };
        let charts: Vec<&&Value> = panels
            .iter()
            .filter(|p| p["type"] == "visualization")
            .collect();
        for vis in charts.iter().filter(|v| !aggs_of(v).is_empty()) {
            assert_eq!(
                pattern_title(&objects, vis),
                Some("alb-health-check-logs-*"),
                "{file}: {} reads the health check logs",
                vis["id"]
            );
        }
        assert!(
            charts.iter().any(|v| has(v, "date_histogram", "@timestamp")
                && has(v, "terms", "aws.elb.health_check.status")),
            "{file}: no checks by status over time"
        );
        assert!(
            charts.iter().any(|v| has(v, "terms", "destination.address")
                && has(v, "terms", "aws.elb.health_check.reason_code")
                && query_of(v).contains("aws.elb.health_check.status:FAIL")),
            "{file}: no failing targets with reason codes"
        );
        assert!(
            charts.iter().any(
                |v| (has(v, "percentiles", "aws.elb.health_check.latency.sec")
                    || has(v, "avg", "aws.elb.health_check.latency.sec"))
                    && has(v, "terms", "aws.elb.target_group.name")
            ),
            "{file}: no latency by target group"
        );

        let links_to = |board: &str, target: &str| {
            panels_of(&objects, board).iter().any(|p| {
                embedded(p, "/attributes/visState").is_some_and(|v| {
                    v["type"] == "markdown"
                        && str_at(&v, "/params/markdown")
                            .is_some_and(|m| m.contains(&format!("(#/view/{target})")))
                })
            })
        };
        assert!(
            links_to("albingest-alb-overview", "albingest-alb-target-health"),
            "{file}: the overview does not link to target health"
        );
        assert!(
            links_to("albingest-alb-target-health", "albingest-alb-overview"),
            "{file}: target health does not link back"
        );
    }
}

/// Issue 17 item 6: an NLB overview and an ALB connection log overview beside the ALB one, each
/// reading only its own format's indices, with what an operator of that format looks at first.
#[test]
fn the_nlb_and_connection_log_overviews_have_what_the_issue_asks_for() {
    for file in DASHBOARDS {
        let objects = load(file).objects;
        let check = |board: &str, pattern: &str, wanted: &[(&str, &str)]| {
            let panels = panels_of(&objects, board);
            let charts: Vec<&&Value> = panels
                .iter()
                .filter(|p| p["type"] == "visualization" && !aggs_of(p).is_empty())
                .collect();
            for vis in &charts {
                assert_eq!(
                    pattern_title(&objects, vis),
                    Some(pattern),
                    "{file}: {board}: {} reads {pattern}",
                    vis["id"]
                );
                assert!(
                    query_of(vis).contains("event.kind:event"),
                    "{file}: {board}: {} counts failure documents too",
                    vis["id"]
                );
            }
            for (ty, field) in wanted {
                assert!(
                    charts.iter().any(|v| aggs_of(v)
                        .iter()
                        .any(|(t, f)| t == ty && f.as_deref() == Some(*field))),
                    "{file}: {board}: no {ty} on {field}"
                );
            }
            assert!(
                panels
                    .iter()
                    .any(|p| embedded(p, "/attributes/visState").is_some_and(|v| {
                        v["type"] == "markdown"
                            && str_at(&v, "/params/markdown")
                                .is_some_and(|m| m.contains("(#/view/albingest-alb-overview)"))
                    })),
                "{file}: {board} does not link to the ALB overview"
            );
        };
        check(
            "albingest-nlb-overview",
            "nlb-logs-*",
            &[
                ("date_histogram", "@timestamp"),
                ("terms", "aws.elb.listener"),
                ("percentiles", "aws.elb.connection_time.ms"),
                ("percentiles", "aws.elb.tls_handshake_time.ms"),
                ("sum", "source.bytes"),
                ("sum", "destination.bytes"),
                ("terms", "source.ip"),
                ("terms", "aws.elb.backend.ip"),
                ("terms", "tls.version"),
                ("terms", "aws.elb.incoming_tls_alert"),
            ],
        );
        check(
            "albingest-alb-connection-overview",
            "alb-connection-logs-*",
            &[
                ("date_histogram", "@timestamp"),
                ("terms", "aws.elb.tls_verify_status"),
                ("percentiles", "aws.elb.tls_handshake_latency"),
                ("terms", "aws.elb.tls_error_code"),
                ("terms", "tls.version"),
                ("terms", "tls.cipher"),
                ("terms", "source.ip"),
                ("terms", "destination.port"),
            ],
        );
    }
}

#[test]
fn both_flavours_hold_the_same_objects() {
    let ids = |file| -> BTreeSet<(String, String)> {
        load(file)
            .objects
            .iter()
            .map(|o| {
                (
                    o["type"].as_str().unwrap().to_owned(),
                    o["id"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    assert_eq!(ids(DASHBOARDS[0]), ids(DASHBOARDS[1]));
}

// ------------------------------------------------------------------ SAM template

/// The lines of a top-level resource of the SAM template (text, not YAML: no new dependency).
fn sam_resource(template: &str, name: &str) -> Vec<String> {
    let header = format!("  {name}:");
    let mut lines = template.lines().skip_while(|l| *l != header);
    assert!(lines.next().is_some(), "{SAM_TEMPLATE}: no resource {name}");
    lines
        .take_while(|l| {
            l.trim().is_empty() || l.starts_with("   ") || l.trim_start().starts_with('#')
        })
        .map(str::to_owned)
        .collect()
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// The keys under `Environment: Variables:` of a resource.
fn sam_environment(resource: &[String]) -> BTreeSet<String> {
    let start = resource
        .iter()
        .position(|l| l.trim() == "Variables:")
        .expect("Environment.Variables");
    let base = indent(&resource[start]);
    let body: Vec<&String> = resource[start + 1..]
        .iter()
        .filter(|l| !l.trim().is_empty())
        .take_while(|l| indent(l) > base)
        .collect();
    let key_indent = indent(body[0]);
    let key = Regex::new(r"^([A-Za-z0-9_]+):").unwrap();
    body.iter()
        .filter(|l| indent(l) == key_indent)
        .map(|l| {
            key.captures(l.trim_start())
                .unwrap_or_else(|| panic!("not a key: {l}"))[1]
                .to_owned()
        })
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

#[test]
fn sam_functions_get_exactly_the_contract_environment() {
    let template = read(SAM_TEMPLATE);
    assert_eq!(
        sam_environment(&sam_resource(&template, "IngestFunction")),
        set(&INGEST_ENV)
    );
    assert_eq!(
        sam_environment(&sam_resource(&template, "CleanupFunction")),
        set(&CLEANUP_ENV)
    );
}

#[test]
fn sam_functions_run_the_cargo_lambda_builds() {
    let template = read(SAM_TEMPLATE);
    for (resource, binary) in [
        ("IngestFunction", "albingest-ingest"),
        ("CleanupFunction", "albingest-cleanup"),
    ] {
        let lines = sam_resource(&template, resource);
        let has = |wanted: &str| lines.iter().any(|l| l.trim() == wanted);
        assert!(has("Type: AWS::Serverless::Function"), "{resource}");
        assert!(has("Handler: bootstrap"), "{resource}");
        assert!(has("Runtime: provided.al2023"), "{resource}");
        assert!(has("Architectures: [arm64]"), "{resource}");
        assert!(
            has(&format!(
                "CodeUri: ../../target/lambda/{binary}/bootstrap.zip"
            )),
            "{resource}"
        );
        assert!(
            has(&format!(
                "FunctionName: !Sub \"${{FunctionNamePrefix}}-{}\"",
                &binary["albingest-".len()..]
            )),
            "{resource}"
        );
    }
    // Failed asynchronous invocations of the ingest function are kept.
    assert!(sam_resource(&template, "IngestFunction")
        .iter()
        .any(|l| l.trim() == "DeadLetterQueue:"));
}

// ------------------------------------------------------------------ Terraform module

/// Upper-case keys assigned inside the `NAME = merge(` ... `)` block of a local.
fn terraform_local_keys(main: &str, local: &str) -> BTreeSet<String> {
    let start = format!("  {local} = merge(");
    let mut lines = main.lines().skip_while(|l| !l.starts_with(&start));
    assert!(lines.next().is_some(), "{TERRAFORM_MAIN}: no local {local}");
    let key = Regex::new(r"\b([A-Z][A-Z0-9_]+)\s*=").unwrap();
    lines
        .take_while(|l| *l != "  )" && *l != "  })")
        .flat_map(|l| {
            key.captures_iter(l)
                .map(|c| c[1].to_owned())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn terraform_functions_get_exactly_the_contract_environment() {
    let main = read(TERRAFORM_MAIN);
    let connection = terraform_local_keys(&main, "connection_env");
    let with_connection = |local| -> BTreeSet<String> {
        terraform_local_keys(&main, local)
            .union(&connection)
            .cloned()
            .collect()
    };
    assert_eq!(with_connection("ingest_env"), set(&INGEST_ENV));
    assert_eq!(with_connection("cleanup_env"), set(&CLEANUP_ENV));
    assert!(
        main.contains("variables = local.ingest_env")
            && main.contains("variables = local.cleanup_env")
    );
    for binary in ["albingest-ingest", "albingest-cleanup"] {
        assert!(
            main.contains(&format!("target/lambda/{binary}/bootstrap.zip")),
            "{binary}"
        );
    }
}

/// The object checkpoint needs exactly the tagging actions on the log prefix, in both
/// deployments, and nothing wider.
#[test]
fn the_ingest_role_may_read_and_write_the_checkpoint_tag_of_log_objects_only() {
    let template = read(SAM_TEMPLATE);
    let lines: Vec<&str> = template.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim() == "- Sid: CheckpointLogObjects")
        .expect("SAM: a CheckpointLogObjects statement");
    let statement: Vec<&str> = lines[at..at + 4].iter().map(|l| l.trim()).collect();
    assert_eq!(
        statement[2],
        "Action: [s3:GetObjectTagging, s3:PutObjectTagging]"
    );
    assert_eq!(
        statement[3],
        r#"Resource: !Sub "arn:${AWS::Partition}:s3:::${LogBucketName}/${LogPrefix}*""#
    );
    let terraform = read(TERRAFORM_MAIN);
    let at = terraform
        .find(r#"sid       = "CheckpointLogObjects""#)
        .expect("Terraform: a CheckpointLogObjects statement");
    let statement = &terraform[at..at + 200];
    assert!(
        statement.contains(r#"actions   = ["s3:GetObjectTagging", "s3:PutObjectTagging"]"#),
        "{statement}"
    );
    assert!(
        statement.contains(r#"resources = ["${local.log_bucket_arn}/${var.log_prefix}*"]"#),
        "{statement}"
    );
    // Elsewhere only for the extra log buckets (issue 17 item 5), on their objects.
    assert_eq!(template.matches("s3:PutObjectTagging").count(), 2);
    let extra = sam_resource(&template, "IngestRole")
        .into_iter()
        .skip_while(|l| l.trim() != "- Sid: ReadExtraLogBuckets")
        .take(3)
        .collect::<Vec<_>>();
    assert_eq!(
        extra.get(2).map(|l| l.trim()),
        Some("Action: [s3:GetObject, s3:GetObjectTagging, s3:PutObjectTagging]")
    );
}

#[test]
fn serverless_data_access_policy_and_api_key_come_with_both_deployments() {
    let template = read(SAM_TEMPLATE);
    let policy = sam_resource(&template, "AossDataAccessPolicy").join("\n");
    assert!(policy.contains("Type: AWS::OpenSearchServerless::AccessPolicy"));
    assert!(policy.contains("Condition: CreateAossAccessPolicy"));
    for permission in [
        "aoss:WriteDocument",
        "aoss:CreateCollectionItems",
        "aoss:DeleteIndex",
    ] {
        assert!(policy.contains(permission), "SAM policy lacks {permission}");
    }
    assert!(!policy.contains("aoss:*"), "least privilege: no aoss:*");
    assert!(template.contains("AllowedValues: [sigv4, basic, apikey, none]"));
    assert!(template.contains("{{resolve:secretsmanager:${ApiKeySecret}}}"));

    let main = read(TERRAFORM_MAIN);
    assert!(main.contains("resource \"aws_opensearchserverless_access_policy\" \"data\""));
    for permission in [
        "aoss:WriteDocument",
        "aoss:CreateCollectionItems",
        "aoss:DeleteIndex",
    ] {
        assert!(
            main.contains(permission),
            "Terraform policy lacks {permission}"
        );
    }
    assert!(main.contains("data \"aws_secretsmanager_secret_version\" \"api_key\""));
}

// ------------------------------------------------------------------ alarms

/// One CloudWatch alarm of a deployment: (namespace, metric, the resource its dimension names).
#[derive(Debug)]
struct Alarm {
    name: String,
    namespace: String,
    metric: String,
    dimension: String,
    notifies: bool,
}

/// The `AWS::CloudWatch::Alarm` resources of the SAM template.
fn sam_alarms() -> Vec<Alarm> {
    let template = read(SAM_TEMPLATE);
    let value = |resource: &[String], key: &str| {
        resource
            .iter()
            .find_map(|l| l.trim().strip_prefix(&format!("{key}: ")))
            .map(str::to_owned)
            .unwrap_or_default()
    };
    let header = Regex::new(r"(?m)^  ([A-Za-z0-9]+):\n    Type: AWS::CloudWatch::Alarm$").unwrap();
    header
        .captures_iter(&template)
        .map(|c| {
            let name = c[1].to_owned();
            let resource = sam_resource(&template, &name);
            let dimension = value(&resource, "Dimensions");
            Alarm {
                namespace: value(&resource, "Namespace"),
                metric: value(&resource, "MetricName"),
                dimension,
                notifies: value(&resource, "AlarmActions").contains("AlarmTopic"),
                name,
            }
        })
        .collect()
}

/// The entries of `local.alarms` in the Terraform module (deploy/terraform/alarms.tf).
fn terraform_alarms() -> Vec<Alarm> {
    let text = read("deploy/terraform/alarms.tf");
    let entry = Regex::new(
        r#"(?s)"([a-z-]+)" = \{\s*description = "[^"]*"\s*namespace\s*= "([^"]+)"\s*metric\s*= "([^"]+)"\s*dimensions\s*= \{ ([^}]*) \}"#,
    )
    .unwrap();
    let notifies = text.contains("alarm_actions       = local.alarm_actions");
    entry
        .captures_iter(&text)
        .map(|c| Alarm {
            name: c[1].to_owned(),
            namespace: c[2].to_owned(),
            metric: c[3].to_owned(),
            dimension: c[4].to_owned(),
            notifies,
        })
        .collect()
}

/// Issue 17 item 3: both deployments alarm on function errors (both functions), the
/// dead-letter queue not empty, the age of the oldest waiting event, and the ingest function's
/// own metrics, which must be names the function emits (src/metrics.rs).
#[test]
fn the_alarms_watch_what_the_issue_asks_for_with_metrics_the_function_emits() {
    for (deployment, alarms, ingest, cleanup, dead_letters, queue) in [
        (
            SAM_TEMPLATE,
            sam_alarms(),
            "IngestFunction",
            "CleanupFunction",
            "DeadLetterQueue.QueueName",
            "IngestQueue.QueueName",
        ),
        (
            "deploy/terraform/alarms.tf",
            terraform_alarms(),
            "aws_lambda_function.ingest",
            "aws_lambda_function.cleanup",
            "aws_sqs_queue.dead_letter.name",
            "aws_sqs_queue.ingest[0].name",
        ),
    ] {
        assert!(!alarms.is_empty(), "{deployment}: no alarms found");
        for alarm in &alarms {
            assert!(
                alarm.notifies,
                "{deployment}: {} notifies nobody",
                alarm.name
            );
            if alarm.namespace == albingest::metrics::NAMESPACE {
                assert!(
                    albingest::metrics::INGEST_METRICS.contains(&alarm.metric.as_str()),
                    "{deployment}: {} watches {}, which src/metrics.rs does not emit",
                    alarm.name,
                    alarm.metric
                );
                assert!(
                    alarm.dimension.contains(albingest::metrics::DIMENSION)
                        && alarm.dimension.contains(ingest),
                    "{deployment}: {}: dimension {} is not the ingest function's name",
                    alarm.name,
                    alarm.dimension
                );
            }
        }
        let watches = |namespace: &str, metric: &str, of: &str| {
            alarms
                .iter()
                .any(|a| a.namespace == namespace && a.metric == metric && a.dimension.contains(of))
        };
        for (namespace, metric, of) in [
            ("AWS/Lambda", "Errors", ingest),
            ("AWS/Lambda", "Errors", cleanup),
            (
                "AWS/SQS",
                "ApproximateNumberOfMessagesVisible",
                dead_letters,
            ),
            ("AWS/SQS", "ApproximateAgeOfOldestMessage", queue),
            ("AWS/Lambda", "AsyncEventAge", ingest),
            ("albingest", "DeadLettered", ingest),
            ("albingest", "Unplaced", ingest),
            ("albingest", "FailureDocuments", ingest),
        ] {
            assert!(
                watches(namespace, metric, of),
                "{deployment}: no alarm on {namespace} {metric} of {of}: {alarms:#?}"
            );
        }
    }
}

/// The README's metrics table names every metric the function emits, and only those.
#[test]
fn the_readme_documents_every_emitted_metric() {
    let readme = read("README.md");
    let table: BTreeSet<String> = Regex::new(r"(?m)^\| `([A-Za-z]+)` \| (Count|Bytes|Seconds) \|")
        .unwrap()
        .captures_iter(&readme)
        .map(|c| c[1].to_owned())
        .collect();
    let emitted: BTreeSet<String> = albingest::metrics::INGEST_METRICS
        .iter()
        .map(|m| (*m).to_owned())
        .collect();
    assert_eq!(table, emitted, "README.md metrics table");
}
