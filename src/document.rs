//! The document one log line becomes (`../shared/docs/documents.md`): ECS names with Elastic's
//! `aws.elb.*` fields, typed values, absent fields left out.
//!
//! Every string borrows from the line; lists are split while serializing, so building a document
//! allocates nothing on the common path.

use std::borrow::Cow;

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

pub const ECS_VERSION: &str = "8.11.0";

type Str<'a> = Option<&'a str>;

#[derive(Debug, Default, Serialize)]
pub struct Document<'a> {
    #[serde(rename = "@timestamp")]
    pub timestamp: Cow<'a, str>,
    pub ecs: Ecs,
    pub event: Event<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud: Option<Cloud<'a>>,
    #[serde(skip_serializing_if = "Aws::is_empty")]
    pub aws: Aws<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Endpoint<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination: Option<Endpoint<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http: Option<Http<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<Url<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<UserAgent<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<Tls<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<Trace<'a>>,
    pub log: Log<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<&'static [&'static str]>,
    /// Fields a user's own patterns capture under names the builders do not know.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra<'a>,
}

#[derive(Debug, Serialize)]
pub struct Ecs {
    pub version: &'static str,
}

impl Default for Ecs {
    fn default() -> Self {
        Self {
            version: ECS_VERSION,
        }
    }
}

#[derive(Debug, Default, Serialize)]
pub struct Event<'a> {
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<&'static [&'static str]>,
    pub dataset: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<Cow<'a, str>>,
    /// Nanoseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original: Option<&'a str>,
}

#[derive(Debug, Default, Serialize)]
pub struct Cloud<'a> {
    pub provider: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Str<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<Id<'a>>,
}

#[derive(Debug, Default, Serialize)]
pub struct Id<'a> {
    pub id: &'a str,
}

#[derive(Debug, Default, Serialize)]
pub struct Aws<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elb: Option<Box<Elb<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3: Option<S3<'a>>,
}

impl Aws<'_> {
    pub fn is_empty(&self) -> bool {
        self.elb.is_none() && self.s3.is_none()
    }
}

#[derive(Debug, Default, Serialize)]
pub struct S3<'a> {
    pub bucket: Name<'a>,
    pub object: Key<'a>,
}

#[derive(Debug, Default, Serialize)]
pub struct Name<'a> {
    pub name: &'a str,
}

#[derive(Debug, Default, Serialize)]
pub struct Key<'a> {
    pub key: &'a str,
}

/// `aws.elb.*` for all four formats (each fills its own subset).
#[derive(Debug, Default, Serialize)]
pub struct Elb<'a> {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Str<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Str<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Str<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Str<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listener: Str<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend: Option<Backend<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_processing_time: Option<Seconds>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend_processing_time: Option<Seconds>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_processing_time: Option<Seconds>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_time: Option<Millis>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_handshake_time: Option<Millis>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssl_cipher: Str<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssl_protocol: Str<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_group: Option<Arn<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_id: Str<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chosen_cert: Option<Cert<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched_rule_priority: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action_executed: Option<List<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_url: Str<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Reason<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_port: Option<List<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_status_code: Option<IntList<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classification: Str<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classification_reason: Str<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_trace_id: Str<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transformed_host: Str<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transformed_uri: Str<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_transform_status: Str<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_ip: Str<'a>,
    // Connection log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_handshake_latency: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leaf_client_cert_subject: Str<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leaf_client_cert_not_before: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leaf_client_cert_not_after: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leaf_client_cert_serial_number: Str<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_verify_status: Str<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_keyexchange: Str<'a>,
    // NLB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incoming_tls_alert: Str<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_named_group: Str<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alpn_fe_protocol: Str<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alpn_be_protocol: Str<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alpn_client_preference_list: Option<List<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_connection_creation_time: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unparsed_trailing: Option<List<'a>>,
}

#[derive(Debug, Default, Serialize)]
pub struct Backend<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Str<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpResponseOnly>,
}

#[derive(Debug, Default, Serialize)]
pub struct HttpResponseOnly {
    pub response: StatusCode,
}

#[derive(Debug, Default, Serialize)]
pub struct StatusCode {
    pub status_code: i64,
}

#[derive(Debug, Default, Serialize)]
pub struct Seconds {
    pub sec: f64,
}

#[derive(Debug, Default, Serialize)]
pub struct Millis {
    pub ms: i64,
}

#[derive(Debug, Default, Serialize)]
pub struct Arn<'a> {
    pub arn: &'a str,
}

#[derive(Debug, Default, Serialize)]
pub struct Cert<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arn: Str<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial: Str<'a>,
}

#[derive(Debug, Default, Serialize)]
pub struct Reason<'a> {
    pub reason: &'a str,
}

#[derive(Debug, Default, Serialize)]
pub struct Endpoint<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Str<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Str<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<i64>,
}

#[derive(Debug, Default, Serialize)]
pub struct Http<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<HttpRequest<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<HttpResponse>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Str<'a>,
}

#[derive(Debug, Default, Serialize)]
pub struct HttpRequest<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Str<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Bytes>,
}

#[derive(Debug, Default, Serialize)]
pub struct HttpResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_code: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Bytes>,
}

#[derive(Debug, Default, Serialize)]
pub struct Bytes {
    pub bytes: i64,
}

#[derive(Debug, Default, Serialize)]
pub struct Url<'a> {
    pub original: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheme: Str<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Str<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Str<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Str<'a>,
}

#[derive(Debug, Default, Serialize)]
pub struct UserAgent<'a> {
    pub original: &'a str,
}

#[derive(Debug, Default, Serialize)]
pub struct Tls<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cipher: Str<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_protocol: Option<&'static str>,
}

#[derive(Debug, Default, Serialize)]
pub struct Trace<'a> {
    pub id: &'a str,
}

#[derive(Debug, Default, Serialize)]
pub struct Log<'a> {
    pub offset: u64,
    pub file: Path<'a>,
}

#[derive(Debug, Default, Serialize)]
pub struct Path<'a> {
    pub path: &'a str,
}

#[derive(Debug, Default, Serialize)]
pub struct ErrorInfo {
    pub message: String,
}

/// A list kept as the log wrote it and split when serialized: `sep`-separated items, each with
/// surrounding quotes removed; `-` items are dropped unless `keep_dashes`.
#[derive(Debug, Clone, Copy)]
pub struct List<'a> {
    pub text: &'a str,
    pub sep: ListSep,
    pub keep_dashes: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListSep {
    Comma,
    Space,
    /// Space-separated tokens where a quoted token may contain spaces (trailing fields).
    Tokens,
}

impl<'a> List<'a> {
    pub fn new(text: &'a str, sep: ListSep) -> Self {
        Self {
            text,
            sep,
            keep_dashes: false,
        }
    }

    pub fn items(&self) -> impl Iterator<Item = &'a str> + '_ {
        let keep = self.keep_dashes;
        split_list(self.text, self.sep).filter(move |i| keep || (*i != "-" && !i.is_empty()))
    }
}

/// Items of a list; no allocation (a boxed iterator would cost one per list per line).
enum Items<'a> {
    Split { rest: Option<&'a str>, sep: u8 },
    Tokens(Tokens<'a>),
}

impl<'a> Iterator for Items<'a> {
    type Item = &'a str;
    fn next(&mut self) -> Option<&'a str> {
        match self {
            Items::Split { rest, sep } => {
                let text = (*rest)?;
                match memchr::memchr(*sep, text.as_bytes()) {
                    Some(i) => {
                        *rest = Some(&text[i + 1..]);
                        Some(&text[..i])
                    }
                    None => {
                        *rest = None;
                        Some(text)
                    }
                }
            }
            Items::Tokens(tokens) => tokens.next(),
        }
    }
}

fn split_list(text: &str, sep: ListSep) -> impl Iterator<Item = &str> {
    match sep {
        ListSep::Comma => Items::Split {
            rest: Some(text),
            sep: b',',
        },
        ListSep::Space => Items::Split {
            rest: Some(text),
            sep: b' ',
        },
        ListSep::Tokens => Items::Tokens(Tokens { rest: text }),
    }
    .map(unquote)
}

fn unquote(item: &str) -> &str {
    item.strip_prefix('"')
        .and_then(|i| i.strip_suffix('"'))
        .unwrap_or(item)
}

/// Quote-aware split at spaces: `"a b" c` is two tokens (`\"` does not end a quoted token).
pub struct Tokens<'a> {
    pub rest: &'a str,
}

impl<'a> Iterator for Tokens<'a> {
    type Item = &'a str;
    fn next(&mut self) -> Option<&'a str> {
        if self.rest.is_empty() {
            return None;
        }
        let b = self.rest.as_bytes();
        let mut i = 0;
        if b[0] == b'"' {
            i = 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i = (i + 1).min(b.len());
        }
        let end = memchr::memchr(b' ', &b[i..]).map_or(b.len(), |j| i + j);
        let token = &self.rest[..end];
        self.rest = self.rest.get(end + 1..).unwrap_or("");
        Some(token)
    }
}

impl Serialize for List<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(None)?;
        for item in self.items() {
            seq.serialize_element(item)?;
        }
        seq.end()
    }
}

/// A space-separated list of integers (checked when the document is built).
#[derive(Debug, Clone, Copy)]
pub struct IntList<'a>(pub List<'a>);

impl Serialize for IntList<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(None)?;
        for item in self.0.items() {
            match item.parse::<i64>() {
                Ok(n) => seq.serialize_element(&n)?,
                Err(_) => seq.serialize_element(item)?,
            }
        }
        seq.end()
    }
}

/// Extra fields by their own (dotted) names.
#[derive(Debug, Default)]
pub struct Extra<'a>(pub Vec<(&'a str, ExtraValue<'a>)>);

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ExtraValue<'a> {
    Str(&'a str),
    Int(i64),
    Float(f64),
}

impl Extra<'_> {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for Extra<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            match value {
                ExtraValue::Str(s) => map.serialize_entry(name, s)?,
                ExtraValue::Int(n) => map.serialize_entry(name, n)?,
                ExtraValue::Float(f) => map.serialize_entry(name, f)?,
            }
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_split_and_drop_dashes() {
        let l = List::new("waf,forward", ListSep::Comma);
        assert_eq!(l.items().collect::<Vec<_>>(), ["waf", "forward"]);
        let l = List::new("\"h2\",\"http/1.1\"", ListSep::Comma);
        assert_eq!(l.items().collect::<Vec<_>>(), ["h2", "http/1.1"]);
        let l = List::new("-", ListSep::Space);
        assert_eq!(l.items().count(), 0);
        let l = List {
            keep_dashes: true,
            ..List::new(r#""-" "a b" x "q\"r""#, ListSep::Tokens)
        };
        assert_eq!(l.items().collect::<Vec<_>>(), ["-", "a b", "x", r#"q\"r"#]);
    }

    #[test]
    fn tokens_survive_unterminated_quotes() {
        let t: Vec<_> = Tokens { rest: "\"abc def" }.collect();
        assert_eq!(t, ["\"abc def"]);
        let t: Vec<_> = Tokens { rest: "a  b\\" }.collect();
        assert_eq!(t, ["a", "", "b\\"]);
    }
}
