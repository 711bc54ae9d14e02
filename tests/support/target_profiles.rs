//! Service profiles for the fault double ([`super::fault_proxy::FaultProxy`], used through its
//! script API): what managed services answer where the stand-ins (osmem, noida) accept
//! everything. Each profile answers only the requests it is about, in the documented shape
//! (source cited beside each), and forwards the rest to the real stand-in.

use serde_json::json;

use super::fault_proxy::{Action, FaultProxy, Request};

/// A profile: `Some(answer)` for the requests it changes, `None` to forward.
pub type Profile = Box<dyn Fn(&Request) -> Option<Action> + Send + Sync>;

/// Starts the double in front of `upstream` with the profiles, first match wins.
pub async fn start(upstream: &str, profiles: Vec<Profile>) -> FaultProxy {
    FaultProxy::start(upstream, move |request, _| {
        profiles
            .iter()
            .find_map(|profile| profile(request))
            .unwrap_or(Action::Forward)
    })
    .await
}

fn json_answer(status: u16, body: serde_json::Value) -> Action {
    Action::Respond {
        status,
        body: body.to_string(),
        content_type: "application/json",
    }
}

fn path_of(request: &Request) -> &str {
    request.target.split('?').next().unwrap_or("")
}

fn header<'r>(request: &'r Request, name: &str) -> Option<&'r str> {
    request
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// `GET /` answers of targets the stand-ins are not.
#[derive(Debug, Clone, Copy)]
pub enum Root {
    /// Amazon OpenSearch Service running Elasticsearch 7.10: the OSS build (no `distribution`,
    /// `build_flavor: "oss"`), shape of elastic.co "Root API" (7.10).
    Elasticsearch7_10,
    /// Elasticsearch 6.8 on Amazon OpenSearch Service: no composable templates.
    Elasticsearch6_8,
    /// Elastic Cloud Serverless: `build_flavor: "serverless"`; "version.number always reports
    /// the next target Elasticsearch release version" (elastic.co "Get cluster info").
    ElasticServerless,
    /// OpenSearch 2.11: before the `wildcard` field type ("Introduced 2.15",
    /// docs.opensearch.org "Wildcard field type").
    OpenSearch2_11,
    /// OpenSearch Serverless: does not serve `GET /`, answers 404 with an empty body and
    /// `server: aoss-amazon` (opensearch-project/OpenSearch-Dashboards#5707).
    OpenSearchServerless,
}

impl Root {
    fn answer(self) -> Action {
        let root = |number: &str, flavor: &str, lucene: &str| {
            json!({
                "name": "node-1",
                "cluster_name": "123456789012:domain",
                "cluster_uuid": "oVkVbDY1QhWd-s6VQGzxYA",
                "version": {
                    "number": number,
                    "build_flavor": flavor,
                    "build_type": "tar",
                    "build_hash": "unknown",
                    "build_date": "2023-01-01T00:00:00.000000Z",
                    "build_snapshot": false,
                    "lucene_version": lucene,
                    "minimum_wire_compatibility_version": "6.8.0",
                    "minimum_index_compatibility_version": "6.0.0-beta1"
                },
                "tagline": "You Know, for Search"
            })
        };
        match self {
            Root::Elasticsearch7_10 => json_answer(200, root("7.10.2", "oss", "8.7.0")),
            Root::Elasticsearch6_8 => json_answer(200, root("6.8.23", "oss", "7.7.3")),
            Root::ElasticServerless => json_answer(200, root("8.11.0", "serverless", "9.7.0")),
            Root::OpenSearch2_11 => json_answer(
                200,
                json!({
                    "name": "node-1",
                    "cluster_name": "123456789012:domain",
                    "cluster_uuid": "oVkVbDY1QhWd-s6VQGzxYA",
                    "version": {
                        "distribution": "opensearch",
                        "number": "2.11.0",
                        "build_type": "tar",
                        "build_hash": "unknown",
                        "build_date": "2023-10-13T02:55:55.511945994Z",
                        "build_snapshot": false,
                        "lucene_version": "9.7.0",
                        "minimum_wire_compatibility_version": "7.10.0",
                        "minimum_index_compatibility_version": "7.0.0"
                    },
                    "tagline": "The OpenSearch Project: https://opensearch.org/"
                }),
            ),
            Root::OpenSearchServerless => Action::Respond {
                status: 404,
                body: String::new(),
                content_type: "text/plain",
            },
        }
    }
}

/// The target's `GET /` answer.
pub fn root(root: Root) -> Profile {
    Box::new(move |request| {
        (request.method == "GET" && path_of(request) == "/").then(|| root.answer())
    })
}

/// A target without the `wildcard` field type: a template that uses it is refused as
/// OpenSearch before 2.15 refuses an unknown type (`mapper_parsing_exception`, "No handler for
/// type [wildcard] declared on field [...]").
pub fn no_wildcard() -> Profile {
    Box::new(|request| {
        let template = path_of(request).starts_with("/_component_template/")
            || path_of(request).starts_with("/_index_template/");
        let uses_wildcard = String::from_utf8_lossy(&request.body).contains("\"wildcard\"");
        (request.method == "PUT" && template && uses_wildcard).then(|| {
            let reason = "No handler for type [wildcard] declared on field [original]";
            json_answer(
                400,
                json!({"error": {"root_cause": [{"type": "mapper_parsing_exception", "reason": reason}],
                        "type": "mapper_parsing_exception",
                        "reason": format!("Failed to parse mapping [_doc]: {reason}")},
                       "status": 400}),
            )
        })
    })
}

/// A serverless target: templates carrying index settings are refused, as Elastic Serverless
/// does ("Settings [index.number_of_shards] are not available when running in serverless
/// mode", elastic.co "Elasticsearch API conventions / serverless differences") and OpenSearch
/// Serverless does for shard and replica settings.
pub fn no_index_settings() -> Profile {
    Box::new(|request| {
        let body = String::from_utf8_lossy(&request.body);
        (request.method == "PUT"
            && path_of(request).starts_with("/_index_template/")
            && body.contains("number_of_shards"))
        .then(|| {
            let reason = "Settings [index.number_of_shards] are not available when running in serverless mode";
            json_answer(
                400,
                json!({"error": {"root_cause": [{"type": "illegal_argument_exception", "reason": reason}],
                        "type": "illegal_argument_exception", "reason": reason}, "status": 400}),
            )
        })
    })
}

/// Elasticsearch with security on and API keys the only way in (Elastic Cloud Serverless
/// "accepts nothing else": elastic.co "Elasticsearch Serverless API authentication"). A request
/// without `Authorization: ApiKey {encoded}` gets the documented 401 `security_exception`:
/// "missing authentication credentials for REST request [...]" without credentials
/// (elastic/go-elasticsearch#279), "unable to authenticate with provided credentials and
/// anonymous access is not allowed for this request" with wrong ones
/// (elastic/elasticsearch-js#2683).
pub fn api_key_only(encoded: &str) -> Profile {
    let expected = format!("ApiKey {encoded}");
    Box::new(move |request| {
        let given = header(request, "authorization");
        if given == Some(expected.as_str()) {
            return None;
        }
        let reason = match given {
            None => format!(
                "missing authentication credentials for REST request [{}]",
                request.target
            ),
            Some(_) => "unable to authenticate with provided credentials and anonymous access \
                        is not allowed for this request"
                .to_string(),
        };
        let cause = json!({"type": "security_exception", "reason": reason,
                           "header": {"WWW-Authenticate": ["Basic realm=\"security\" charset=\"UTF-8\"", "ApiKey"]}});
        Some(json_answer(
            401,
            json!({"error": {"root_cause": [cause.clone()], "type": "security_exception",
                             "reason": reason, "header": cause["header"]}, "status": 401}),
        ))
    })
}

/// Amazon OpenSearch Service fine-grained access control, for a role whose index permissions
/// cover only `index_patterns` and whose cluster permissions do not include managing templates.
/// An index expression not inside the patterns (a bare `_cat/indices` included, which means
/// every index) is refused 403 with the security plugin's `security_exception`: "no
/// permissions for [indices:monitor/settings/get] and User [name=..., backend_roles=[],
/// requestedTenant=null]" (opensearch-project/security#2257, #557); "You will be able to call
/// `_cat/indices/log-*` successfully though" (#2257).
pub fn fgac_role(index_patterns: &[&str]) -> Profile {
    let patterns: Vec<String> = index_patterns.iter().map(|p| p.to_string()).collect();
    Box::new(move |request| {
        let path = path_of(request);
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let (action, expression) = match (request.method.as_str(), segments.as_slice()) {
            ("GET", [""]) => return None, // cluster:monitor/main, granted
            ("PUT", ["_index_template", ..]) => ("indices:admin/index_template/put", None),
            ("PUT", ["_component_template", ..]) => ("cluster:admin/component_template/put", None),
            ("GET", ["_index_template" | "_component_template", ..]) => return None,
            ("POST", ["_index_template", "_simulate_index", ..]) => {
                ("indices:admin/index_template/simulate_index", None)
            }
            (_, ["_cat", "indices"]) => ("indices:monitor/settings/get", Some("*")),
            (_, ["_cat", "indices", expression]) => {
                ("indices:monitor/settings/get", Some(*expression))
            }
            (_, ["_bulk"]) => return None, // items are checked by index below the role
            ("DELETE", [expression]) => ("indices:admin/delete", Some(*expression)),
            (_, [expression, "_search" | "_count"]) => {
                ("indices:data/read/search", Some(*expression))
            }
            (_, [expression, ..]) if !expression.starts_with('_') => {
                ("indices:data/write/index", Some(*expression))
            }
            _ => return None,
        };
        let allowed = expression.is_some_and(|e| {
            e.split(',')
                .all(|part| patterns.iter().any(|p| covers(p, part)))
        });
        (!allowed).then(|| {
            let reason = format!(
                "no permissions for [{action}] and User [name=albingest, backend_roles=[], requestedTenant=null]"
            );
            json_answer(
                403,
                json!({"error": {"root_cause": [{"type": "security_exception", "reason": reason}],
                                 "type": "security_exception", "reason": reason}, "status": 403}),
            )
        })
    })
}

/// A role pattern (`alb-logs*`) covers an index expression part (`alb-logs-*`, `alb-logs-x`)
/// when every name the part can mean is inside the pattern.
fn covers(pattern: &str, part: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(stem) if !stem.contains('*') => part.starts_with(stem),
        _ => pattern == part,
    }
}
