//! The index lifecycle APIs neither stand-in serves (osmem has no ISM plugin, noida no ILM):
//! answered here in the documented shapes, with the policy kept between requests, in front of
//! the real stand-in (index templates, `_settings` and everything else are forwarded).
//!
//! - OpenSearch ISM, docs.opensearch.org "ISM API"
//!   (https://docs.opensearch.org/latest/im-plugin/ism/api/): `PUT _plugins/_ism/policies/{id}`
//!   answers 201 `{_id, _version, _primary_term, _seq_no, policy}`; replacing a stored policy
//!   needs `if_seq_no` and `if_primary_term` ("Update policy"), otherwise 409
//!   `version_conflict_engine_exception`; `GET` of a missing policy is 404 `status_exception`
//!   "Policy not found"; `POST _plugins/_ism/add/{index}` answers `{updated_indices, failures,
//!   failed_indices: [{index_name, index_uuid, reason}]}`, an index with a policy failing with
//!   "This index already has a policy, use the update policy API to update index policies."
//! - Elasticsearch ILM, elastic.co "Create or update a lifecycle policy" / "Get lifecycle
//!   policies" (https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-ilm-put-lifecycle):
//!   `PUT _ilm/policy/{name}` answers `{"acknowledged": true}` and replaces in place; `GET`
//!   answers `{name: {version, modified_date, policy}}`, or 404 `resource_not_found_exception`.

use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use super::fault_proxy::{Action, Request};
use super::target_profiles::Profile;

/// What the double holds and saw.
#[derive(Default)]
pub struct LifecycleState {
    /// The stored ISM policy (body of the accepted PUT).
    pub ism_policy: Option<Value>,
    /// The stored ILM policy.
    pub ilm_policy: Option<Value>,
    /// Indices `_ism/add` has attached the policy to.
    pub ism_managed: Vec<String>,
    /// Every lifecycle request, in order.
    pub requests: Vec<Request>,
}

fn answer(status: u16, body: Value) -> Action {
    Action::Respond {
        status,
        body: body.to_string(),
        content_type: "application/json",
    }
}

fn error(status: u16, kind: &str, reason: &str) -> Action {
    answer(
        status,
        json!({
            "error": {"root_cause": [{"type": kind, "reason": reason}], "type": kind, "reason": reason},
            "status": status
        }),
    )
}

fn path_and_query(target: &str) -> (&str, &str) {
    target.split_once('?').unwrap_or((target, ""))
}

/// The ISM and ILM APIs over `state`; `existing`: the indices `_ism/add` finds for its
/// patterns (the double cannot list the stand-in's indices itself).
pub fn profile(state: Arc<Mutex<LifecycleState>>, existing: Vec<String>) -> Profile {
    Box::new(move |request: &Request| {
        let (path, query) = path_and_query(&request.target);
        let is_ism = path.starts_with("/_plugins/_ism/");
        let is_ilm = path.starts_with("/_ilm/");
        if !is_ism && !is_ilm {
            return None;
        }
        let mut state = state.lock().unwrap();
        state.requests.push(request.clone());
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let id = path.rsplit('/').next().unwrap_or("").to_string();
        Some(match (request.method.as_str(), is_ism) {
            ("GET", true) if path.starts_with("/_plugins/_ism/policies/") => {
                match &state.ism_policy {
                    Some(policy) => answer(
                        200,
                        json!({"_id": id, "_version": 1, "_seq_no": 7, "_primary_term": 1,
                               "policy": policy["policy"]}),
                    ),
                    None => error(404, "status_exception", "Policy not found"),
                }
            }
            ("PUT", true) if path.starts_with("/_plugins/_ism/policies/") => {
                let conditional =
                    query.contains("if_seq_no=7") && query.contains("if_primary_term=1");
                if state.ism_policy.is_some() && !conditional {
                    error(
                        409,
                        "version_conflict_engine_exception",
                        &format!("[{id}]: version conflict, document already exists (current version [1])"),
                    )
                } else {
                    let status = if state.ism_policy.is_some() { 200 } else { 201 };
                    state.ism_policy = Some(body.clone());
                    answer(
                        status,
                        json!({"_id": id, "_version": 1, "_primary_term": 1, "_seq_no": 7,
                               "policy": body}),
                    )
                }
            }
            ("POST", true) if path.starts_with("/_plugins/_ism/add/") => {
                let mut updated = 0;
                let mut failed = Vec::new();
                for index in &existing {
                    if state.ism_managed.contains(index) {
                        failed.push(json!({
                            "index_name": index,
                            "index_uuid": "dNv2mW0aTK6QZPkrjyB0Tg",
                            "reason": "This index already has a policy, use the update policy API to update index policies."
                        }));
                    } else {
                        state.ism_managed.push(index.clone());
                        updated += 1;
                    }
                }
                answer(
                    200,
                    json!({"updated_indices": updated, "failures": !failed.is_empty(),
                           "failed_indices": failed}),
                )
            }
            ("GET", false) => match &state.ilm_policy {
                Some(policy) => answer(
                    200,
                    json!({id: {"version": 1, "modified_date": "2026-12-01T00:00:00.000Z",
                                "policy": policy["policy"]}}),
                ),
                None => error(
                    404,
                    "resource_not_found_exception",
                    &format!("Lifecycle policy not found: {id}"),
                ),
            },
            ("PUT", false) => {
                state.ilm_policy = Some(body);
                answer(200, json!({"acknowledged": true}))
            }
            _ => error(
                400,
                "illegal_argument_exception",
                "not imitated by this double",
            ),
        })
    })
}
