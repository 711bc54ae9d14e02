//! Which S3 client reads a bucket: the default credentials, or a role assumed for that bucket
//! (another account's log bucket, a central log archive), in the bucket's region if given.
//!
//! The map comes from `ALBINGEST_BUCKET_ROLES` (the ingest function) as JSON:
//! `{"BUCKET": {"role_arn": "arn:aws:iam::ACCOUNT:role/NAME", "external_id": "…", "region": "eu-west-1"}}`,
//! every key optional but the bucket's. One client per (role, external id, region), built on
//! first use and kept: its credentials come from `AssumeRole` (aws-config's
//! `AssumeRoleProvider`, over aws-sdk-sts) and are cached by the client's identity cache until
//! shortly before they expire, so a warm function assumes each role once per session, not once
//! per object.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_config::sts::AssumeRoleProvider;
use aws_config::SdkConfig;
use serde::Deserialize;

/// The session name the assumed roles show in CloudTrail.
pub const SESSION_NAME: &str = "albingest";

/// How one bucket is read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BucketAccess {
    /// The role to assume; `None`: the default credentials.
    pub role_arn: Option<String>,
    /// `sts:ExternalId` the role's trust policy asks for.
    pub external_id: Option<String>,
    /// The bucket's region, when it is not the function's.
    pub region: Option<String>,
}

/// Bucket name → how to read it. Buckets not named use the default client.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct BucketRoles(pub BTreeMap<String, BucketAccess>);

#[derive(Debug, thiserror::Error)]
pub enum BucketRolesError {
    #[error("{source_name}: not a bucket → role map ({reason}); expected {{\"BUCKET\": {{\"role_arn\": \"arn:aws:iam::ACCOUNT:role/NAME\", \"external_id\": \"…\", \"region\": \"…\"}}}}")]
    Json { source_name: String, reason: String },
    #[error("{source_name}: bucket {bucket:?}: role_arn {role_arn:?} is not an IAM role ARN (arn:PARTITION:iam::ACCOUNT:role/NAME)")]
    RoleArn {
        source_name: String,
        bucket: String,
        role_arn: String,
    },
    #[error("{source_name}: bucket {bucket:?}: external_id without role_arn")]
    ExternalIdWithoutRole { source_name: String, bucket: String },
}

impl BucketRoles {
    /// Parses the JSON map; `source_name` (the variable or flag) names it in errors. Empty text
    /// is an empty map.
    pub fn parse(source_name: &str, text: &str) -> Result<Self, BucketRolesError> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        let roles: Self = serde_json::from_str(text).map_err(|e| BucketRolesError::Json {
            source_name: source_name.to_string(),
            reason: e.to_string(),
        })?;
        for (bucket, access) in &roles.0 {
            match &access.role_arn {
                Some(arn) if !is_role_arn(arn) => {
                    return Err(BucketRolesError::RoleArn {
                        source_name: source_name.to_string(),
                        bucket: bucket.clone(),
                        role_arn: arn.clone(),
                    })
                }
                None if access.external_id.is_some() => {
                    return Err(BucketRolesError::ExternalIdWithoutRole {
                        source_name: source_name.to_string(),
                        bucket: bucket.clone(),
                    })
                }
                _ => {}
            }
        }
        Ok(roles)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn is_role_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "iam"
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5]
            .strip_prefix("role/")
            .is_some_and(|n| !n.is_empty())
}

/// The S3 clients of a run: the default one, and one per role (and region) of the map, built on
/// first use.
pub struct BucketClients {
    sdk: SdkConfig,
    /// Path-style addressing and a fallback region (S3-compatible endpoints).
    custom_endpoint: bool,
    default: aws_sdk_s3::Client,
    roles: BucketRoles,
    sessions: tokio::sync::Mutex<HashMap<BucketAccess, aws_sdk_s3::Client>>,
    sessions_built: AtomicUsize,
}

impl BucketClients {
    pub fn new(sdk: SdkConfig, custom_endpoint: bool, roles: BucketRoles) -> Self {
        let default = client(&sdk, custom_endpoint, &BucketAccess::default(), None);
        Self {
            sdk,
            custom_endpoint,
            default,
            roles,
            sessions: tokio::sync::Mutex::new(HashMap::new()),
            sessions_built: AtomicUsize::new(0),
        }
    }

    /// The client with the default credentials (dead letters, listings, unmapped buckets).
    pub fn default_client(&self) -> &aws_sdk_s3::Client {
        &self.default
    }

    /// The client that reads `bucket`.
    pub async fn for_bucket(&self, bucket: &str) -> aws_sdk_s3::Client {
        let Some(access) = self.roles.0.get(bucket) else {
            return self.default.clone();
        };
        let mut sessions = self.sessions.lock().await;
        if let Some(client) = sessions.get(access) {
            return client.clone();
        }
        let credentials = match &access.role_arn {
            Some(role_arn) => {
                let mut builder = AssumeRoleProvider::builder(role_arn)
                    .session_name(SESSION_NAME)
                    .configure(&self.sdk);
                if let Some(id) = &access.external_id {
                    builder = builder.external_id(id);
                }
                Some(builder.build().await)
            }
            None => None,
        };
        let built = client(&self.sdk, self.custom_endpoint, access, credentials);
        self.sessions_built.fetch_add(1, Ordering::Relaxed);
        tracing::info!(bucket, role_arn = ?access.role_arn, region = ?access.region, "S3 client for the bucket's role");
        sessions.insert(access.clone(), built.clone());
        built
    }

    /// Clients built for mapped buckets so far (one per role and region: the sessions reused).
    pub fn sessions_built(&self) -> usize {
        self.sessions_built.load(Ordering::Relaxed)
    }
}

fn client(
    sdk: &SdkConfig,
    custom_endpoint: bool,
    access: &BucketAccess,
    credentials: Option<AssumeRoleProvider>,
) -> aws_sdk_s3::Client {
    let mut config = aws_sdk_s3::config::Builder::from(sdk).force_path_style(custom_endpoint);
    if let Some(region) = &access.region {
        config = config.region(aws_sdk_s3::config::Region::new(region.clone()));
    } else if custom_endpoint && sdk.region().is_none() {
        // S3-compatible servers ignore the region, but the SDK needs one to sign.
        config = config.region(aws_sdk_s3::config::Region::new("us-east-1"));
    }
    if let Some(credentials) = credentials {
        config = config.credentials_provider(credentials);
    }
    aws_sdk_s3::Client::from_conf(config.build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_map_parses_and_bad_entries_name_the_bucket() {
        let roles = BucketRoles::parse(
            "ALBINGEST_BUCKET_ROLES",
            r#"{"archive": {"role_arn": "arn:aws:iam::111122223333:role/log-reader", "external_id": "x", "region": "eu-west-1"}, "local": {}}"#,
        )
        .unwrap();
        assert_eq!(
            roles.0["archive"].role_arn.as_deref(),
            Some("arn:aws:iam::111122223333:role/log-reader")
        );
        assert_eq!(roles.0["local"], BucketAccess::default());
        assert!(BucketRoles::parse("V", "").unwrap().is_empty());

        let err = BucketRoles::parse("V", r#"{"b": {"role_arn": "log-reader"}}"#).unwrap_err();
        assert!(err.to_string().contains("bucket \"b\""), "{err}");
        let err = BucketRoles::parse("V", r#"{"b": {"external_id": "x"}}"#).unwrap_err();
        assert!(err.to_string().contains("without role_arn"), "{err}");
        let err = BucketRoles::parse("V", r#"{"b": {"role": "x"}}"#).unwrap_err();
        assert!(err.to_string().starts_with("V: not a bucket"), "{err}");
    }
}
