//! Deleting the daily indices past their retention, by explicit name (Elasticsearch 8 refuses
//! wildcard deletes, and a name we did not judge is never deleted). What to delete is decided by
//! [`crate::retention`]; this module lists, deletes and reports.

use std::time::Duration;

use opensearch::http::Method;
use serde::Deserialize;

use crate::retention::{Retention, Verdict};
use crate::search::{SearchClient, SearchError};

const TIMEOUT: Duration = Duration::from_secs(60);

/// What one cleanup did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CleanupReport {
    /// Every index listed, with its verdict.
    pub verdicts: Vec<Verdict>,
    /// Deleted (or, in a dry run, that would be deleted).
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

#[derive(Deserialize)]
struct CatIndex {
    index: String,
}

/// Lists the indices, judges each, and deletes those past retention (unless `dry_run`).
pub async fn cleanup(
    client: &SearchClient,
    retention: &Retention,
    today: i64,
    dry_run: bool,
) -> Result<CleanupReport, SearchError> {
    let answer = client
        .json(
            Method::Get,
            "/_cat/indices?format=json&h=index&expand_wildcards=all",
            None,
            TIMEOUT,
        )
        .await?;
    let listed: Vec<CatIndex> =
        serde_json::from_slice(&answer.body).map_err(|e| SearchError::Request {
            method: "GET",
            endpoint: client.endpoint().to_string(),
            path: "/_cat/indices".into(),
            reason: format!("unexpected answer ({e}): {}", answer.text()),
        })?;
    let mut names: Vec<String> = listed.into_iter().map(|i| i.index).collect();
    names.sort();
    let verdicts = retention.judge(names.iter().map(String::as_str), today);
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
        match client.json(Method::Delete, &path, None, TIMEOUT).await {
            Ok(_) => report.deleted.push(verdict.index.clone()),
            Err(e) => {
                tracing::warn!(index = %verdict.index, error = %e, "delete failed");
                report.failed.push((verdict.index.clone(), e.to_string()));
            }
        }
    }
    report.verdicts = verdicts;
    Ok(report)
}
