//! The parser: one line in, one document out. Pure: no I/O, no clock.
//!
//! A line is matched with its format's grok pattern (`patterns/`), then the format's builder turns
//! the captured fields into a typed [`Document`]. A line that does not match, or whose field does
//! not convert, becomes a failure document that says which field and what value.

mod alb;
mod connection;
mod elb;
mod fields;
mod health_check;
mod nlb;
mod request;

use std::borrow::Cow;

use crate::document::{
    Aws, Cloud, Document, ErrorInfo, Event, Extra, ExtraValue, Id, Key, Log, Name, Path, S3,
};
use crate::enrich::{EnrichScratch, Enricher};
use crate::format::{FormatChoice, LogFormat, PerFormat};
use crate::grok::{Captures, Conversion, GrokError, MatchFailure, Pattern, PatternLibrary};
use crate::object_key::ObjectInfo;
use crate::timestamp;

pub use fields::FieldError;
use fields::{Fields, FormatBuilder, SlotMap};

pub const FAILURE_TAG: &str = "_albingest_parse_failure";

/// Compiled patterns for every format, and what to do with each line.
pub struct Parser {
    formats: PerFormat<CompiledFormat>,
    choice: FormatChoice,
    keep_original: bool,
    /// `@timestamp` of a failure document whose line and object name carry no time.
    fallback_time: String,
    /// What the parse threads add to each built document (nothing unless configured).
    enricher: Enricher,
    /// The configured processing the pipeline applies to each built document (not the parser:
    /// it only carries them to the parse threads).
    rules: std::sync::Arc<crate::rules::Rules>,
}

struct CompiledFormat {
    pattern: Pattern,
    slots: SlotMap,
    /// Slots the builder does not know: user fields, emitted under their own names.
    extra: Vec<usize>,
    build: BuildFn,
}

/// A format's [`FormatBuilder::build`].
type BuildFn = for<'a, 'p> fn(&Fields<'a, 'p>, &mut Document<'a>) -> Result<(), FieldError>;

/// The fields and the builder of `format`: the one place that maps formats to their modules.
fn builder(format: LogFormat) -> (&'static [&'static str], BuildFn) {
    fn of<B: FormatBuilder>() -> (&'static [&'static str], BuildFn) {
        (B::FIELDS, B::build)
    }
    match format {
        LogFormat::Alb => of::<alb::AlbAccessLog>(),
        LogFormat::AlbConnection => of::<connection::ConnectionLog>(),
        LogFormat::Nlb => of::<nlb::NlbAccessLog>(),
        LogFormat::Elb => of::<elb::ElbAccessLog>(),
        LogFormat::AlbHealthCheck => of::<health_check::HealthCheckLog>(),
    }
}

/// Per-line state reused across lines (one capture buffer per format).
pub struct Scratch {
    captures: PerFormat<Captures>,
    /// The enrichment's per-thread state.
    pub enrich: EnrichScratch,
}

/// One parsed line.
#[derive(Debug)]
pub struct ParsedLine<'a> {
    pub format: LogFormat,
    pub document: Document<'a>,
    /// True for a failure document.
    pub failed: bool,
    /// The time comes from the line or the object's name (always, but for a failure document
    /// with no time of its own in an object whose name has none: its `@timestamp` is then the
    /// read time, which must not choose the index).
    pub dated: bool,
}

impl ParsedLine<'_> {
    /// `YYYY-MM-DD` of the document's `@timestamp` (the daily index).
    pub fn date(&self) -> &str {
        self.document.timestamp.get(..10).unwrap_or("1970-01-01")
    }
}

impl Parser {
    /// Compiles the top-level pattern of every format from `library`.
    pub fn new(library: &PatternLibrary, choice: FormatChoice) -> Result<Self, GrokError> {
        library.check()?;
        let formats = PerFormat::try_from_fn(|format| {
            let pattern = library.compile(format.pattern_name())?;
            let (fields, build) = builder(format);
            let slots = SlotMap::resolve(fields, &pattern);
            let extra = (0..pattern.fields().len())
                .filter(|s| !slots.knows(*s))
                .collect();
            Ok::<_, GrokError>(CompiledFormat {
                pattern,
                slots,
                extra,
                build,
            })
        })?;
        Ok(Self {
            formats,
            choice,
            keep_original: false,
            fallback_time: timestamp::format_epoch_seconds(0),
            enricher: Enricher::default(),
            rules: Default::default(),
        })
    }

    /// The parser with the embedded patterns.
    pub fn embedded() -> Self {
        Self::new(&PatternLibrary::embedded(), FormatChoice::Auto)
            .expect("embedded patterns are checked by the test suite")
    }

    /// Adds `event.original` (the raw line) to every document, not only to failures.
    pub fn keep_original(mut self, keep: bool) -> Self {
        self.keep_original = keep;
        self
    }

    /// The time given to failure documents that carry no time of their own, in an object whose
    /// name and [`ObjectInfo::read_at`] give none either (RFC 3339).
    pub fn fallback_time(mut self, time: String) -> Self {
        self.fallback_time = time;
        self
    }

    /// Enrichment (GeoIP, user agent) that [`crate::pipeline`] applies to every document built.
    pub fn enrich(mut self, enricher: Enricher) -> Self {
        self.enricher = enricher;
        self
    }

    /// The configuration's labels, drop/sample and privacy rules, for the pipeline to apply.
    pub fn with_rules(mut self, rules: crate::rules::Rules) -> Self {
        self.rules = std::sync::Arc::new(rules);
        self
    }

    pub fn rules(&self) -> &crate::rules::Rules {
        &self.rules
    }

    pub fn enricher(&self) -> &Enricher {
        &self.enricher
    }

    pub fn pattern(&self, format: LogFormat) -> &Pattern {
        &self.formats[format].pattern
    }

    pub fn scratch(&self) -> Scratch {
        Scratch {
            captures: self.formats.map(|f| f.pattern.new_captures()),
            enrich: EnrichScratch::default(),
        }
    }

    /// The format of a line of `object`: `--format`, else the object's name, else the line.
    pub fn format_of(&self, object: &ObjectInfo, line: &str) -> LogFormat {
        match self.choice {
            FormatChoice::Fixed(format) => format,
            FormatChoice::Auto => object
                .format
                .unwrap_or_else(|| LogFormat::sniff(line.as_bytes())),
        }
    }

    /// Parses one line (without its line end) that starts at byte `offset` of `object`.
    pub fn parse<'a>(
        &'a self,
        object: &'a ObjectInfo,
        line: &'a str,
        offset: u64,
        scratch: &mut Scratch,
    ) -> ParsedLine<'a> {
        let format = self.format_of(object, line);
        let compiled = &self.formats[format];
        let caps = &mut scratch.captures[format];
        let mut document = provenance(object, offset, format);
        let outcome = match compiled.pattern.match_line(line.as_bytes(), caps) {
            Ok(()) => {
                let fields = Fields::new(line, caps, &compiled.slots);
                (compiled.build)(&fields, &mut document)
                    .and_then(|()| extra_fields(compiled, &fields, &mut document.extra))
                    .map_err(String::from)
            }
            Err(failure) => Err(describe_failure(format, &compiled.pattern, line, &failure)),
        };
        match outcome {
            Ok(()) => {
                if self.keep_original {
                    document.event.original = Some(line);
                }
                ParsedLine {
                    format,
                    document,
                    failed: false,
                    dated: true,
                }
            }
            Err(message) => self.failure(object, line, offset, format, message),
        }
    }

    /// The failure document of a line: the raw line, the reason, the provenance.
    pub fn failure<'a>(
        &self,
        object: &'a ObjectInfo,
        line: &'a str,
        offset: u64,
        format: LogFormat,
        message: String,
    ) -> ParsedLine<'a> {
        // The line's own time: first token (connection, Classic), second (ALB, health check),
        // third (NLB).
        let own_time = line
            .split(' ')
            .take(3)
            .find_map(|t| timestamp::parse(t).map(|t| t.rfc3339));
        let dated = own_time.is_some() || object.delivery_time.is_some();
        let timestamp = own_time
            .or_else(|| object.delivery_time.as_deref().map(Cow::Borrowed))
            .or_else(|| object.read_at.as_deref().map(Cow::Borrowed))
            .unwrap_or_else(|| Cow::Owned(self.fallback_time.clone()));
        let mut document = provenance(object, offset, format);
        document.timestamp = timestamp;
        document.event.kind = "pipeline_error";
        document.event.category = None;
        document.event.original = Some(line);
        document.error = Some(ErrorInfo { message });
        document.tags = Some(&[FAILURE_TAG]);
        ParsedLine {
            format,
            document,
            failed: true,
            dated,
        }
    }
}

/// The fields every document of `object` carries.
fn provenance<'a>(object: &'a ObjectInfo, offset: u64, format: LogFormat) -> Document<'a> {
    Document {
        event: Event {
            kind: "event",
            category: Some(match format {
                LogFormat::Alb | LogFormat::Elb => &["web"],
                LogFormat::AlbConnection | LogFormat::Nlb | LogFormat::AlbHealthCheck => {
                    &["network"]
                }
            }),
            dataset: format.dataset(),
            ..Event::default()
        },
        cloud: Some(Cloud {
            provider: "aws",
            region: object.region.as_deref(),
            account: object.account_id.as_deref().map(|id| Id { id }),
        }),
        aws: Aws {
            elb: None,
            s3: object.bucket.as_deref().map(|bucket| S3 {
                bucket: Name { name: bucket },
                object: Key { key: &object.key },
            }),
        },
        log: Log {
            offset,
            file: Path {
                path: &object.file_path,
            },
        },
        ..Document::default()
    }
}

fn extra_fields<'a>(
    compiled: &'a CompiledFormat,
    fields: &Fields<'a, '_>,
    extra: &mut Extra<'a>,
) -> Result<(), FieldError> {
    for slot in &compiled.extra {
        let spec = &compiled.pattern.fields()[*slot];
        let Some(text) = fields.value(Some(*slot)) else {
            continue;
        };
        let value = match spec.conversion {
            None => ExtraValue::Str(text),
            Some(Conversion::Int) => text
                .parse()
                .map(ExtraValue::Int)
                .map_err(|_| FieldError::new(&spec.name, text, "is not an integer"))?,
            Some(Conversion::Float) => text
                .parse()
                .map(ExtraValue::Float)
                .map_err(|_| FieldError::new(&spec.name, text, "is not a number"))?,
        };
        extra.0.push((&spec.name, value));
    }
    Ok(())
}

/// Turns a match failure into a message that names the field and the value.
fn describe_failure(format: LogFormat, pattern: &Pattern, line: &str, f: &MatchFailure) -> String {
    let at_end = f.offset >= line.len();
    let count = crate::document::Tokens { rest: line }.count();
    let quoted = quoted_field(line, f);
    let field = f.field.as_deref();
    let token_text = line.get(f.field_start..).unwrap_or("");
    match field {
        Some(field) if quoted && at_end && f.expected_delimiter => {
            return format!(
                "{field}: quoted value has no closing quote: {}",
                excerpt(token_text)
            )
        }
        _ => {}
    }
    if let Some(required) = pattern.required_fields() {
        if at_end && count < required {
            return format!(
                "line has {count} field{}, {} has at least {required}",
                if count == 1 { "" } else { "s" },
                format.describe()
            );
        }
    }
    let Some(field) = field else {
        return format!(
            "line is not {} (no match at byte {}: {})",
            format.describe(),
            f.offset,
            excerpt(line.get(f.offset..).unwrap_or(""))
        );
    };
    if at_end && f.expected_delimiter {
        return format!(
            "line ends after {field} ({count} fields): the fields that follow it in {} are missing",
            format.describe()
        );
    }
    let token = if quoted {
        crate::document::Tokens {
            rest: line.get(f.field_start - 1..).unwrap_or(""),
        }
        .next()
        .unwrap_or("")
    } else {
        token_text.split(' ').next().unwrap_or("")
    };
    let syntax = f.syntax.as_deref().unwrap_or("?");
    format!("{field}: {} does not match %{{{syntax}}}", excerpt(token))
}

/// True when the field the match stopped in is a quoted one.
fn quoted_field(line: &str, f: &MatchFailure) -> bool {
    f.field_start > 0 && line.as_bytes().get(f.field_start - 1) == Some(&b'"')
}

/// A value quoted for a message, cut to a readable length.
pub(crate) fn excerpt(text: &str) -> String {
    const MAX: usize = 120;
    if text.len() <= MAX {
        return format!("{text:?}");
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{:?}… ({} bytes)", &text[..end], text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_is_matched_by_the_fast_plan() {
        let parser = Parser::embedded();
        for format in LogFormat::ALL {
            assert!(parser.pattern(format).has_plan(), "{format}");
        }
        // The plan and the whole-line regex agree on health check lines, the short and the long.
        let pattern = parser.pattern(LogFormat::AlbHealthCheck);
        let (mut a, mut b) = (pattern.new_captures(), pattern.new_captures());
        for line in [
            "http 2025-10-31T12:44:59.875678Z 0.019584011 172.31.20.97:80 HCLogsTestIPs PASS 200 -",
            "h2 2025-11-21T10:00:03.000000Z 0.004 10.0.1.20:443 tg FAIL 404 ResponseCodeMismatch app/x/1 10.0.0.15 \"-\" x",
            "http 2025-11-21T10:00:03.000000Z 0.004 10.0.1.20:443 tg FAIL",
        ] {
            let plan = pattern.match_line(line.as_bytes(), &mut a).is_ok();
            assert_eq!(plan, pattern.match_regex(line.as_bytes(), &mut b), "{line}");
        }
    }

    #[test]
    fn a_failure_without_a_time_takes_the_names_then_the_read_time_then_the_fallback() {
        let parser = Parser::embedded().fallback_time("2000-01-01T00:00:00Z".into());
        let time = |object: &ObjectInfo| {
            let failure = parser.failure(object, "garbage", 0, LogFormat::Alb, "x".into());
            failure.document.timestamp.to_string()
        };
        let mut object = ObjectInfo::s3("b", "no-time-here.log");
        assert_eq!(time(&object), "2000-01-01T00:00:00Z");
        object.read_at = Some("2026-11-26T06:00:00Z".into());
        assert_eq!(time(&object), "2026-11-26T06:00:00Z");
        let mut named = ObjectInfo::s3(
            "b",
            "123456789012_elasticloadbalancing_us-east-1_app.x.1_20261124T1005Z_10.0.0.1_a.log.gz",
        );
        named.read_at = object.read_at.clone();
        assert_eq!(time(&named), "2026-11-24T10:05:00Z");
    }
}
