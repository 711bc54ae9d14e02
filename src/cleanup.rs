//! Deleting the daily indices past their retention, by explicit name (Elasticsearch 8 refuses
//! wildcard deletes, and a name we did not judge is never deleted). What to delete is decided by
//! [`crate::retention`]; this module lists, deletes and reports.
//!
//! Least privilege: the listing names only our own index patterns
//! (`GET /_cat/indices/{prefix}-*,{prefix}-failed-*`), never a bare `_cat/indices`, which
//! OpenSearch fine-grained access control answers 403 for a role limited to those patterns
//! ("You will be able to call `_cat/indices/log-*` successfully though":
//! <https://github.com/opensearch-project/security/issues/2257>).

use std::time::Duration;

use opensearch::http::{Method, StatusCode};
use serde::Deserialize;

use crate::retention::{Retention, RetentionError, Verdict};
use crate::search::{SearchClient, SearchError};

const TIMEOUT: Duration = Duration::from_secs(60);

/// What one cleanup did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CleanupReport {
    /// Every index listed, with its verdict.
    pub verdicts: Vec<Verdict>,
    /// Deleted (or, in a dry run, that would be deleted); an index already gone when its delete
    /// came (404) is the wanted state and counts here too.
    pub deleted: Vec<String>,
    /// Indices whose delete failed, with the server's answer; the others were still deleted.
    pub failed: Vec<(String, String)>,
    pub dry_run: bool,
}

impl CleanupReport {
    pub fn kept(&self) -> usize {
        self.verdicts.iter().filter(|v| !v.delete).count()
    }
}

/// How to run one cleanup.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CleanupOptions {
    /// List what would be deleted; delete nothing.
    pub dry_run: bool,
    /// Delete even when the clock looks wrong ([`Retention::check_clock`]).
    pub force: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum CleanupError {
    #[error(transparent)]
    Search(#[from] SearchError),
    #[error("cleanup: {0}")]
    Retention(#[from] RetentionError),
}

#[derive(Deserialize)]
struct CatIndex {
    index: String,
}

/// The `_cat/indices` path that lists exactly the indices of `prefixes`, open, closed and
/// hidden alike.
pub fn listing_path(prefixes: &[String]) -> String {
    let patterns: Vec<String> = prefixes
        .iter()
        .flat_map(|p| [format!("{p}-*"), format!("{p}-failed-*")])
        .collect();
    format!(
        "/_cat/indices/{}?format=json&h=index&expand_wildcards=all",
        patterns.join(",")
    )
}

/// Lists our indices, judges each, and deletes those past retention (unless a dry run).
pub async fn cleanup(
    client: &SearchClient,
    retention: &Retention,
    today: i64,
    options: CleanupOptions,
) -> Result<CleanupReport, CleanupError> {
    let path = listing_path(retention.prefixes());
    let answer = client.json(Method::Get, &path, None, TIMEOUT).await?;
    let listed: Vec<CatIndex> =
        serde_json::from_slice(&answer.body).map_err(|e| SearchError::Request {
            method: "GET",
            endpoint: client.endpoint().to_string(),
            path: "/_cat/indices".into(),
            reason: format!("unexpected answer ({e}): {}", answer.text()),
        })?;
    let mut names: Vec<String> = listed.into_iter().map(|i| i.index).collect();
    names.sort();
    names.dedup();
    if !options.force {
        retention.check_clock(names.iter().map(String::as_str), today)?;
    }
    let verdicts = retention.judge(names.iter().map(String::as_str), today);
    let dry_run = options.dry_run;
    let mut report = CleanupReport {
        dry_run,
        ..CleanupReport::default()
    };
    for verdict in &verdicts {
        tracing::info!(index = %verdict.index, delete = verdict.delete, reason = %verdict.reason, dry_run, "cleanup verdict");
        if !verdict.delete {
            continue;
        }
        if dry_run {
            report.deleted.push(verdict.index.clone());
            continue;
        }
        // The name was checked by `Retention`: letters, digits, '-', '_' and '.' only.
        let path = format!("/{}", verdict.index);
        let outcome = client
            .send(Method::Delete, &path, &[], &[], None, Some(TIMEOUT))
            .await
            .and_then(|answer| match answer.status {
                s if s.is_success() => Ok(()),
                StatusCode::NOT_FOUND => {
                    tracing::info!(index = %verdict.index, "already gone (404): nothing to delete");
                    Ok(())
                }
                _ => Err(client.status_error(Method::Delete, &path, &answer)),
            });
        match outcome {
            Ok(()) => report.deleted.push(verdict.index.clone()),
            Err(e) => {
                tracing::warn!(index = %verdict.index, error = %e, "delete failed");
                report.failed.push((verdict.index.clone(), e.to_string()));
            }
        }
    }
    report.verdicts = verdicts;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listing_names_only_our_patterns() {
        let path = listing_path(&["alb-logs".into(), "web".into()]);
        assert_eq!(
            path,
            "/_cat/indices/alb-logs-*,alb-logs-failed-*,web-*,web-failed-*?format=json&h=index&expand_wildcards=all"
        );
    }
}
