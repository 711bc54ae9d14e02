//! Retention on the server, as an alternative to the cleanup function: an OpenSearch ISM policy
//! or an Elasticsearch ILM policy that deletes each daily index a number of days after it was
//! created.
//!
//! | | OpenSearch (ISM) | Elasticsearch (ILM) |
//! |---|---|---|
//! | policy | `PUT _plugins/_ism/policies/{id}` (`?if_seq_no=&if_primary_term=` to replace one: docs.opensearch.org "ISM API", "Create policy" / "Update policy"); states `hot` → `delete` on `min_index_age` | `PUT _ilm/policy/{name}` (elastic.co "Create or update a lifecycle policy"; replaces in place), phase `delete` with `min_age` |
//! | new indices | the policy's `ism_template` (`index_patterns` of every prefix): ISM attaches it when an index is created (docs.opensearch.org "Index State Management", "Sample policy with ISM template") | `index.lifecycle.name` in each prefix's index template (`templates::install`) |
//! | existing indices (`--apply-existing`) | `POST _plugins/_ism/add/{patterns}` `{"policy_id"}`: answers `updated_indices`, `failures`, `failed_indices` (an index that has a policy already is a failure and keeps it) | `PUT {patterns}/_settings` `{"index.lifecycle.name"}` |
//!
//! Both count the age from the index's creation, not from the date in its name: see the README
//! for when the cleanup function (which reads the name) is the better choice. Neither serverless
//! flavour has ISM or ILM.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use opensearch::http::Method;
use serde_json::{json, Value};

use super::target::{Product, TargetError};
use super::{SearchClient, SearchError};
use crate::bulk::IndexPrefixes;
use crate::format::LogFormat;

/// The id of the policy albingest installs (ISM policy id, ILM policy name).
pub const POLICY_NAME: &str = "albingest-retention";

const TIMEOUT: Duration = Duration::from_secs(30);

/// What `setup --lifecycle` installs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LifecycleChoice {
    /// Nothing (the cleanup function deletes old indices).
    #[default]
    None,
    Ism,
    Ilm,
    /// ISM on OpenSearch, ILM on Elasticsearch, from `GET /`.
    Auto,
}

/// A `--lifecycle` value that is none of the choices.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--lifecycle {0:?}: use ism, ilm, auto or none")]
pub struct UnknownLifecycle(pub String);

impl FromStr for LifecycleChoice {
    type Err = UnknownLifecycle;

    fn from_str(s: &str) -> Result<Self, UnknownLifecycle> {
        match s {
            "none" => Ok(Self::None),
            "ism" => Ok(Self::Ism),
            "ilm" => Ok(Self::Ilm),
            "auto" => Ok(Self::Auto),
            _ => Err(UnknownLifecycle(s.to_string())),
        }
    }
}

/// The lifecycle API a policy is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LifecycleKind {
    Ism,
    Ilm,
}

impl fmt::Display for LifecycleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Ism => "ISM",
            Self::Ilm => "ILM",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error(transparent)]
    Search(#[from] SearchError),
    #[error(
        "{endpoint}: {target} has no {kind} (index lifecycle policies do not exist on serverless \
         targets); leave --lifecycle none and let the service manage retention (OpenSearch \
         Serverless, Elastic Cloud Serverless data retention)"
    )]
    Serverless {
        endpoint: String,
        target: String,
        kind: String,
    },
    #[error(
        "{endpoint}: --lifecycle {asked} does not fit {target} ({wanted} is its lifecycle API); \
         give --lifecycle {wanted} or auto"
    )]
    Mismatch {
        endpoint: String,
        asked: LifecycleKind,
        target: String,
        wanted: &'static str,
    },
    #[error(
        "{endpoint}: cannot tell whether {target} is OpenSearch or Elasticsearch for --lifecycle \
         auto; give --lifecycle ism or ilm"
    )]
    Unknown { endpoint: String, target: String },
    #[error("--lifecycle needs --retention-days of at least 1")]
    Retention,
    #[error("{endpoint}: POST {path}: {failed} indices kept their own policy: {reasons}")]
    AddFailed {
        endpoint: String,
        path: String,
        failed: usize,
        reasons: String,
    },
}

/// What `install` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    pub kind: LifecycleKind,
    pub policy: String,
    pub retention_days: u32,
    /// Whether an existing policy was replaced (ISM: it was there before).
    pub replaced: bool,
    /// The index patterns the policy covers.
    pub patterns: Vec<String>,
    /// `--apply-existing` attached it to the indices already there.
    pub applied_existing: bool,
    /// ISM's `updated_indices` for that (ILM's settings update answers no count).
    pub updated_indices: Option<u64>,
}

impl fmt::Display for Installed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} policy {} {}: delete after {} days, for {}",
            self.kind,
            self.policy,
            if self.replaced {
                "replaced"
            } else {
                "installed"
            },
            self.retention_days,
            self.patterns.join(", ")
        )?;
        match (self.applied_existing, self.updated_indices) {
            (true, Some(n)) => write!(f, "; attached to {n} existing indices"),
            (true, None) => write!(f, "; attached to the existing indices"),
            _ => Ok(()),
        }
    }
}

/// The index patterns of every prefix: `{prefix}-*` (the failure indices `{prefix}-failed-*`
/// included), each once.
pub fn patterns(prefixes: &IndexPrefixes) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for format in LogFormat::ALL {
        let pattern = format!("{}-*", prefixes.get(format));
        if !out.contains(&pattern) {
            out.push(pattern);
        }
    }
    out
}

/// The ISM policy: `hot` until the index is `retention_days` old, then `delete`; attached to
/// new indices of `patterns` through `ism_template`.
pub fn ism_policy(retention_days: u32, patterns: &[String]) -> Value {
    json!({
        "policy": {
            "description": format!(
                "albingest: delete the daily log indices {retention_days} days after their creation"
            ),
            "default_state": "hot",
            "states": [
                {
                    "name": "hot",
                    "actions": [],
                    "transitions": [
                        {"state_name": "delete", "conditions": {"min_index_age": format!("{retention_days}d")}}
                    ]
                },
                {"name": "delete", "actions": [{"delete": {}}], "transitions": []}
            ],
            "ism_template": [{"index_patterns": patterns, "priority": 100}]
        }
    })
}

/// The ILM policy: a `delete` phase `retention_days` after the index's creation.
pub fn ilm_policy(retention_days: u32) -> Value {
    json!({
        "policy": {
            "_meta": {"description": "albingest: delete the daily log indices after the retention"},
            "phases": {
                "hot": {"min_age": "0ms", "actions": {}},
                "delete": {"min_age": format!("{retention_days}d"), "actions": {"delete": {}}}
            }
        }
    })
}

/// Which API `choice` means on this target; `None` for `LifecycleChoice::None`.
pub async fn resolve(
    client: &SearchClient,
    choice: LifecycleChoice,
) -> Result<Option<LifecycleKind>, LifecycleError> {
    if choice == LifecycleChoice::None {
        return Ok(None);
    }
    let profile = client.target().await?.clone();
    let endpoint = client.endpoint().to_string();
    let native = match profile.product {
        Product::OpenSearch => Some(LifecycleKind::Ism),
        Product::Elasticsearch => Some(LifecycleKind::Ilm),
        Product::OpenSearchServerless | Product::ElasticsearchServerless => {
            return Err(LifecycleError::Serverless {
                endpoint,
                target: profile.to_string(),
                kind: match choice {
                    LifecycleChoice::Ilm => "ILM".into(),
                    LifecycleChoice::Ism => "ISM".into(),
                    _ => "ISM or ILM".into(),
                },
            })
        }
        Product::Unknown => None,
    };
    let asked = match choice {
        LifecycleChoice::None => return Ok(None),
        LifecycleChoice::Ism => LifecycleKind::Ism,
        LifecycleChoice::Ilm => LifecycleKind::Ilm,
        LifecycleChoice::Auto => {
            return native.map(Some).ok_or(LifecycleError::Unknown {
                endpoint,
                target: profile.to_string(),
            })
        }
    };
    match native {
        Some(native) if native != asked => Err(LifecycleError::Mismatch {
            endpoint,
            asked,
            target: profile.to_string(),
            wanted: match native {
                LifecycleKind::Ism => "ism",
                LifecycleKind::Ilm => "ilm",
            },
        }),
        _ => Ok(Some(asked)),
    }
}

/// Installs (or replaces) the policy and, with `apply_existing`, attaches it to the indices
/// already there. For ILM, new indices get the policy from the index templates, which the
/// caller installs with `TemplateOptions::ilm_policy`.
pub async fn install(
    client: &SearchClient,
    kind: LifecycleKind,
    prefixes: &IndexPrefixes,
    retention_days: u32,
    apply_existing: bool,
) -> Result<Installed, LifecycleError> {
    if retention_days == 0 {
        return Err(LifecycleError::Retention);
    }
    let patterns = patterns(prefixes);
    let mut installed = Installed {
        kind,
        policy: POLICY_NAME.into(),
        retention_days,
        replaced: false,
        patterns: patterns.clone(),
        applied_existing: false,
        updated_indices: None,
    };
    match kind {
        LifecycleKind::Ism => {
            let path = format!("/_plugins/_ism/policies/{POLICY_NAME}");
            let body = ism_policy(retention_days, &patterns);
            // Replacing a policy needs the sequence number and primary term of the stored one
            // (otherwise 409 version_conflict_engine_exception).
            let existing = client
                .send(Method::Get, &path, &[], &[], None, Some(TIMEOUT))
                .await?;
            let bytes = bytes::Bytes::from(body.to_string());
            let answer = if existing.status.is_success() {
                let stored: Value = serde_json::from_slice(&existing.body).unwrap_or(Value::Null);
                let seq_no = stored["_seq_no"].as_u64().unwrap_or(0).to_string();
                let primary_term = stored["_primary_term"].as_u64().unwrap_or(1).to_string();
                installed.replaced = true;
                client
                    .send(
                        Method::Put,
                        &path,
                        &[("if_seq_no", &seq_no), ("if_primary_term", &primary_term)],
                        &[],
                        Some(bytes),
                        Some(TIMEOUT),
                    )
                    .await?
            } else if existing.status.as_u16() == 404 {
                client
                    .send(Method::Put, &path, &[], &[], Some(bytes), Some(TIMEOUT))
                    .await?
            } else {
                return Err(client.status_error(Method::Get, &path, &existing).into());
            };
            if !answer.status.is_success() {
                return Err(client.status_error(Method::Put, &path, &answer).into());
            }
            if apply_existing {
                let path = format!("/_plugins/_ism/add/{}", patterns.join(","));
                let answer = client
                    .json(
                        Method::Post,
                        &path,
                        Some(&json!({ "policy_id": POLICY_NAME })),
                        TIMEOUT,
                    )
                    .await?;
                let added: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
                installed.applied_existing = true;
                installed.updated_indices = Some(added["updated_indices"].as_u64().unwrap_or(0));
                let failed: Vec<&Value> = added["failed_indices"]
                    .as_array()
                    .map(|a| a.iter().collect())
                    .unwrap_or_default();
                // An index that has our policy already is what a second run finds: not a failure.
                let foreign: Vec<&&Value> = failed
                    .iter()
                    .filter(|f| {
                        !f["reason"]
                            .as_str()
                            .is_some_and(|r| r.contains("already has a policy"))
                    })
                    .collect();
                if !foreign.is_empty() {
                    return Err(LifecycleError::AddFailed {
                        endpoint: client.endpoint().to_string(),
                        path,
                        failed: foreign.len(),
                        reasons: foreign
                            .iter()
                            .map(|f| {
                                format!(
                                    "{}: {}",
                                    f["index_name"].as_str().unwrap_or("?"),
                                    f["reason"].as_str().unwrap_or("?")
                                )
                            })
                            .collect::<Vec<_>>()
                            .join("; "),
                    });
                }
            }
        }
        LifecycleKind::Ilm => {
            let path = format!("/_ilm/policy/{POLICY_NAME}");
            let existing = client
                .send(Method::Get, &path, &[], &[], None, Some(TIMEOUT))
                .await?;
            installed.replaced = existing.status.is_success();
            client
                .json(
                    Method::Put,
                    &path,
                    Some(&ilm_policy(retention_days)),
                    TIMEOUT,
                )
                .await?;
            if apply_existing {
                // allow_no_indices: a prefix with no index yet is not an error.
                let path = format!("/{}/_settings", patterns.join(","));
                let body =
                    bytes::Bytes::from(json!({ "index.lifecycle.name": POLICY_NAME }).to_string());
                let answer = client
                    .send(
                        Method::Put,
                        &path,
                        &[("allow_no_indices", "true")],
                        &[],
                        Some(body),
                        Some(TIMEOUT),
                    )
                    .await?;
                if !answer.status.is_success() {
                    return Err(client.status_error(Method::Put, &path, &answer).into());
                }
                installed.applied_existing = true;
            }
        }
    }
    Ok(installed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_delete_after_the_retention_and_cover_every_prefix() {
        let prefixes = IndexPrefixes::default();
        let patterns = patterns(&prefixes);
        assert_eq!(
            patterns,
            [
                "alb-logs-*",
                "alb-connection-logs-*",
                "nlb-logs-*",
                "elb-logs-*",
                "alb-health-check-logs-*"
            ]
        );
        let ism = ism_policy(14, &patterns);
        assert_eq!(
            ism["policy"]["states"][0]["transitions"][0]["conditions"]["min_index_age"],
            "14d"
        );
        assert_eq!(
            ism["policy"]["states"][1]["actions"][0],
            json!({"delete": {}})
        );
        assert_eq!(
            ism["policy"]["ism_template"][0]["index_patterns"],
            json!(patterns)
        );
        let ilm = ilm_policy(14);
        assert_eq!(ilm["policy"]["phases"]["delete"]["min_age"], "14d");
        assert_eq!(
            ilm["policy"]["phases"]["delete"]["actions"],
            json!({"delete": {}})
        );
    }

    #[test]
    fn choices_parse() {
        assert_eq!("ism".parse(), Ok(LifecycleChoice::Ism));
        assert_eq!("auto".parse(), Ok(LifecycleChoice::Auto));
        assert!("ilx".parse::<LifecycleChoice>().is_err());
    }
}
