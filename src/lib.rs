//! albingest: AWS load balancer logs from S3 into OpenSearch / Elasticsearch.
//!
//! The data path, one module a stage:
//! object source → [`decompress`] → [`lines`] → [`parse`] (with [`grok`] patterns) →
//! [`document`] → [`rules`] (labels, drop/sample, privacy from the [`config`] file) → [`bulk`] (index, id, action line) → [`batch`] (gzip bodies by [`compress`]) → search server. [`pipeline`]
//! strings the stages together for one object; [`source`] opens objects (local files, S3), [`ingest`] takes one object end to end into
//! the search server ([`search`]), keeping an S3 object's [`checkpoint`] when the server makes the
//! document ids; [`cli`] is the command line.

pub mod batch;
pub mod bulk;
pub mod checkpoint;
pub mod cleanup;
pub mod cli;
pub mod compress;
pub mod config;
pub mod count;
pub mod dashboards;
pub mod decompress;
pub mod document;
pub mod enrich;
pub mod event;
pub mod format;
pub mod grok;
pub mod ingest;
pub mod json;
pub mod lambda;
pub mod lines;
pub mod memory;
pub mod metrics;
pub mod object_key;
pub mod parse;
pub mod pipeline;
pub mod replay;
pub mod report;
pub mod retention;
pub mod rules;
pub mod search;
pub mod source;
pub mod timestamp;
pub mod window;
