//! A grok engine on the `regex` crate: pattern files of `NAME definition` lines whose definitions
//! refer to each other with `%{NAME}`, `%{NAME:field}` and `%{NAME:field:int|float}`.
//!
//! A top-level pattern is compiled twice: into one whole-line regex (the reference semantics) and,
//! where its structure allows, into a [`plan`] of delimiter-split field scanners that is many times
//! faster. Matching uses the plan and falls back to the regex, so both always agree on the result.

mod library;
mod plan;
mod syntax;

use std::fmt;

pub use library::{Definition, Origin, PatternLibrary, EMBEDDED};

/// A grok type conversion, `%{NAME:field:int}` or `:float`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conversion {
    Int,
    Float,
}

/// A named field a pattern captures, in slot order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSpec {
    pub name: String,
    pub conversion: Option<Conversion>,
}

#[derive(Debug, thiserror::Error)]
pub enum GrokError {
    #[error("{origin}: pattern definition must be `NAME regex`, found {text:?}")]
    BadDefinition { origin: Origin, text: String },
    #[error("{origin}: pattern {pattern}: bad reference {reference}: {why}")]
    BadReference {
        origin: Origin,
        pattern: String,
        reference: String,
        why: String,
    },
    #[error("{origin}: pattern {pattern} refers to unknown pattern %{{{reference}}}")]
    UnknownPattern {
        origin: Origin,
        pattern: String,
        reference: String,
    },
    #[error("{origin}: pattern refers to itself: {cycle}")]
    Recursive { origin: Origin, cycle: String },
    #[error("{origin}: pattern {pattern} does not compile: {source}")]
    Regex {
        origin: Origin,
        pattern: String,
        #[source]
        source: RegexError,
    },
    #[error("no pattern named {0} (is it defined in the pattern files?)")]
    Missing(String),
    #[error("cannot read pattern files at {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// Why a pattern's regex does not compile ([`GrokError::Regex`] names the pattern).
#[derive(Debug, thiserror::Error)]
pub enum RegexError {
    /// The expanded regex does not parse.
    #[error(transparent)]
    Syntax(#[from] Box<regex_syntax::Error>),
    /// The regex parses but does not build (e.g. beyond the size limit).
    #[error(transparent)]
    Build(#[from] regex::Error),
}

/// Byte regexes throughout: log lines are bytes, and a class such as `[^"]` must match any byte
/// that is not a quote, valid UTF-8 or not.
pub(crate) fn bytes_regex(text: &str) -> Result<regex::bytes::Regex, regex::Error> {
    regex::bytes::RegexBuilder::new(text)
        .unicode(false)
        .size_limit(64 << 20)
        .build()
}

/// Spans of the fields one line matched, reused from line to line.
#[derive(Debug, Clone, Default)]
pub struct Captures {
    spans: Vec<Option<(usize, usize)>>,
}

impl Captures {
    /// The byte range of field `slot` in the line, if it matched.
    #[inline]
    pub fn span(&self, slot: usize) -> Option<(usize, usize)> {
        self.spans.get(slot).copied().flatten()
    }
}

/// Where and why a line did not match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchFailure {
    /// Byte offset in the line where matching could go no further.
    pub offset: usize,
    /// The field (or unnamed pattern) being matched or just matched there, and its pattern name.
    pub field: Option<String>,
    pub syntax: Option<String>,
    /// Where that field's text starts.
    pub field_start: usize,
    /// True when a delimiter (space, quote) was expected at `offset`.
    pub expected_delimiter: bool,
}

/// A compiled top-level pattern.
pub struct Pattern {
    name: String,
    fields: Vec<FieldSpec>,
    regex: regex::bytes::Regex,
    /// (capture group index, field slot) for the whole-line regex.
    regex_groups: Vec<(usize, usize)>,
    plan: Option<plan::Plan>,
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pattern")
            .field("name", &self.name)
            .field("fields", &self.fields)
            .field("plan", &self.plan.is_some())
            .finish()
    }
}

impl PatternLibrary {
    /// Checks every definition: its references resolve without recursion and it compiles.
    pub fn check(&self) -> Result<(), GrokError> {
        for def in self.definitions() {
            let text = syntax::Expander::new(self).expand(def)?;
            regex_syntax::ParserBuilder::new()
                .unicode(false)
                .utf8(false)
                .build()
                .parse(&text)
                .map_err(|e| GrokError::Regex {
                    origin: def.origin.clone(),
                    pattern: def.name.clone(),
                    source: Box::new(e).into(),
                })?;
        }
        Ok(())
    }

    /// Compiles the top-level pattern `name`.
    pub fn compile(&self, name: &str) -> Result<Pattern, GrokError> {
        let def = self
            .get(name)
            .ok_or_else(|| GrokError::Missing(name.to_string()))?;
        let mut expander = syntax::Expander::new(self);
        let text = expander.expand(def)?;
        let regex = bytes_regex(&format!("^(?:{text})$")).map_err(|e| GrokError::Regex {
            origin: def.origin.clone(),
            pattern: def.name.clone(),
            source: e.into(),
        })?;
        let regex_groups = regex
            .capture_names()
            .enumerate()
            .filter_map(|(g, n)| {
                let k: usize = n?.strip_prefix('f')?.parse().ok()?;
                Some((g, expander.groups[k]))
            })
            .collect();
        let fields = expander.fields.clone();
        // The plan reuses the same field slots: seed its expander with the fields found above.
        let mut plan_expander = syntax::Expander::new(self);
        plan_expander.fields = fields.clone();
        let plan = plan::build(&mut plan_expander, def)?;
        Ok(Pattern {
            name: name.to_string(),
            fields,
            regex,
            regex_groups,
            plan,
        })
    }
}

impl Pattern {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The fields this pattern captures; a field's index is its slot.
    pub fn fields(&self) -> &[FieldSpec] {
        &self.fields
    }

    pub fn slot(&self, field: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == field)
    }

    /// True when lines are matched by the fast plan (false: the whole-line regex only).
    pub fn has_plan(&self) -> bool {
        self.plan.is_some()
    }

    /// How many fields every matching line has (those outside optional groups), when known.
    pub fn required_fields(&self) -> Option<usize> {
        self.plan.as_ref().map(|p| p.required)
    }

    pub fn new_captures(&self) -> Captures {
        Captures {
            spans: vec![None; self.fields.len()],
        }
    }

    /// Matches a whole line (without its line end), filling `caps`.
    pub fn match_line(&self, line: &[u8], caps: &mut Captures) -> Result<(), MatchFailure> {
        caps.spans.clear();
        caps.spans.resize(self.fields.len(), None);
        let Some(plan) = &self.plan else {
            return if self.match_regex(line, caps) {
                Ok(())
            } else {
                Err(MatchFailure {
                    offset: 0,
                    field: None,
                    syntax: Some(self.name.clone()),
                    field_start: 0,
                    expected_delimiter: false,
                })
            };
        };
        let mut run = plan::Run::new(plan, line, &mut caps.spans);
        if run.run() {
            return Ok(());
        }
        let stuck = run.stuck;
        if self.match_regex(line, caps) {
            return Ok(());
        }
        let leaf = stuck.leaf.map(|i| &plan.leaves[i]);
        Err(MatchFailure {
            offset: stuck.offset,
            field: leaf.map(|l| l.label.clone()),
            syntax: leaf.map(|l| l.syntax.clone()),
            field_start: stuck.leaf_start,
            expected_delimiter: stuck.expected_literal,
        })
    }

    /// The reference semantics: the whole-line regex alone.
    pub fn match_regex(&self, line: &[u8], caps: &mut Captures) -> bool {
        caps.spans.clear();
        caps.spans.resize(self.fields.len(), None);
        let Some(m) = self.regex.captures(line) else {
            return false;
        };
        for (group, slot) in &self.regex_groups {
            if let Some(g) = m.get(*group) {
                caps.spans[*slot] = Some((g.start(), g.end()));
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(text: &str, top: &str) -> Pattern {
        let mut l = PatternLibrary::default();
        l.add_text("t.grok", text).unwrap();
        l.check().unwrap();
        l.compile(top).unwrap()
    }

    fn fields<'a>(p: &Pattern, line: &'a str) -> Vec<(String, &'a str)> {
        let mut caps = p.new_captures();
        p.match_line(line.as_bytes(), &mut caps).unwrap();
        p.fields()
            .iter()
            .enumerate()
            .filter_map(|(i, f)| caps.span(i).map(|(s, e)| (f.name.clone(), &line[s..e])))
            .collect()
    }

    const LIB: &str = r#"
WORD [^ ]+
QUOTED (?:[^"\\]|\\.)*
NUM [-0-9]+
HOSTPORT %{IPISH:ip}:%{PORT:port}
IPISH [0-9a-f.:]+
PORT [0-9]+
TAIL .*
TOP %{WORD:a} %{NUM:n:int} "%{QUOTED:q}" %{HOSTPORT}(?: %{WORD:b}(?: %{TAIL:rest})?)?
"#;

    #[test]
    fn plan_splits_fields_and_optional_tails() {
        let p = compile(LIB, "TOP");
        assert!(p.has_plan());
        assert_eq!(p.required_fields(), Some(5));
        let got = fields(&p, r#"x 12 "a \"b\" c" ::1:80 y z "w" 1"#);
        assert_eq!(
            got,
            vec![
                ("a".into(), "x"),
                ("n".into(), "12"),
                ("q".into(), r#"a \"b\" c"#),
                ("ip".into(), "::1"),
                ("port".into(), "80"),
                ("b".into(), "y"),
                ("rest".into(), r#"z "w" 1"#),
            ]
        );
        assert_eq!(fields(&p, r#"x 1 "" 1.2.3.4:5"#).len(), 5);
    }

    #[test]
    fn failure_names_the_field_and_where_it_starts() {
        let p = compile(LIB, "TOP");
        let mut caps = p.new_captures();
        let err = p.match_line(b"x 2OO \"q\" 1:2", &mut caps).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("n"));
        assert_eq!(err.field_start, 2);
        let err = p.match_line(b"x 1 \"unterminated", &mut caps).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("q"));
        assert_eq!(err.offset, 17);
    }

    #[test]
    fn plan_and_regex_agree() {
        let p = compile(LIB, "TOP");
        let lines = [
            r#"x 12 "q" 1.2.3.4:80"#,
            r#"x 12 "q" 1.2.3.4:80 y"#,
            r#"x 12 "q\" 1.2.3.4:80 y"#,
            r#"x 12 "q" 1.2.3.4:80 y rest of it"#,
            r#"x 12 "q" 1.2.3.4 y"#,
            r#"x  12 "q" 1.2.3.4:80"#,
            "x 12 \"\\\" 1:1",
        ];
        for line in lines {
            let (mut a, mut b) = (p.new_captures(), p.new_captures());
            let plan_ok = p.match_line(line.as_bytes(), &mut a).is_ok();
            let regex_ok = p.match_regex(line.as_bytes(), &mut b);
            assert_eq!(plan_ok, regex_ok, "{line}");
            assert_eq!(a.spans, b.spans, "{line}");
        }
    }

    #[test]
    fn unsupported_structure_falls_back_to_the_regex() {
        let p = compile("W [a-z]+\nTOP %{W:a}(?:,%{W:b})*", "TOP");
        assert!(!p.has_plan());
        assert_eq!(
            fields(&p, "a,b,c"),
            vec![("a".into(), "a"), ("b".into(), "c")]
        );
    }

    #[test]
    fn a_bad_regex_names_file_line_and_pattern() {
        let mut l = PatternLibrary::default();
        l.add_text("t.grok", "\nBAD [a-\nTOP %{BAD:x}").unwrap();
        let msg = l.check().unwrap_err().to_string();
        assert!(msg.contains("t.grok:2") && msg.contains("BAD"), "{msg}");
    }

    #[test]
    fn a_regex_that_does_not_parse_names_the_pattern_and_keeps_the_cause() {
        let mut l = PatternLibrary::default();
        l.add_text("t.grok", "BAD a(b").unwrap();
        let error = l.check().unwrap_err();
        let text = error.to_string();
        assert!(
            text.starts_with("t.grok:1: pattern BAD does not compile: "),
            "{text}"
        );
        let cause = std::error::Error::source(&error).expect("the regex error is the source");
        assert!(text.ends_with(&cause.to_string()), "{text}");
    }
}
