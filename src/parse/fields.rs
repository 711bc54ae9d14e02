//! Typed access to the fields a pattern captured, with errors that name the field and value.

use std::fmt;

use crate::document::{Document, Endpoint, List, ListSep, Seconds};
use crate::grok::{Captures, Pattern};
use crate::json::Decimal;
use crate::timestamp::{self, Timestamp};

/// Declares a builder's field names (AWS's names, as in `patterns/`) and an index for each.
macro_rules! field_names {
    ($($id:ident = $name:literal),* $(,)?) => {
        pub(super) const FIELDS: &[&str] = &[$($name),*];
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        #[derive(Clone, Copy)]
        pub(super) enum F { $($id),* }
        impl From<F> for usize {
            fn from(f: F) -> usize {
                f as usize
            }
        }
        impl F {
            #[allow(dead_code)]
            pub(super) fn name(self) -> &'static str {
                FIELDS[self as usize]
            }
        }
    };
}
pub(super) use field_names;

/// A value that does not convert: `elb_status_code: "2OO" is not a number`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {} {why}", super::excerpt(.value))]
pub struct FieldError {
    pub field: String,
    pub value: String,
    pub why: &'static str,
}

impl FieldError {
    pub fn new(field: &str, value: &str, why: &'static str) -> Self {
        Self {
            field: field.to_string(),
            value: value.to_string(),
            why,
        }
    }
}

impl From<FieldError> for String {
    fn from(e: FieldError) -> String {
        e.to_string()
    }
}

/// What a format's module gives the parser: the fields its builder knows (AWS's names, as in
/// `patterns/`, declared with [`field_names`]) and the builder that turns them into a document.
/// Each format implements it; this module knows none of them.
pub(super) trait FormatBuilder {
    const FIELDS: &'static [&'static str];

    fn build<'a>(fields: &Fields<'a, '_>, document: &mut Document<'a>) -> Result<(), FieldError>;
}

/// For one format: the pattern slot of each field its builder knows.
pub(super) struct SlotMap {
    by_field: Vec<Option<usize>>,
    names: &'static [&'static str],
}

impl SlotMap {
    /// The slots in `pattern` of the builder's fields `names` ([`FormatBuilder::FIELDS`]).
    pub fn resolve(names: &'static [&'static str], pattern: &Pattern) -> Self {
        Self {
            by_field: names.iter().map(|n| pattern.slot(n)).collect(),
            names,
        }
    }

    /// True when pattern slot `slot` is a field the builder knows.
    pub fn knows(&self, slot: usize) -> bool {
        self.by_field.contains(&Some(slot))
    }
}

/// The captured fields of one line.
pub(super) struct Fields<'a, 'p> {
    line: &'a str,
    caps: &'p Captures,
    slots: &'p SlotMap,
}

impl<'a, 'p> Fields<'a, 'p> {
    pub fn new(line: &'a str, caps: &'p Captures, slots: &'p SlotMap) -> Self {
        Self { line, caps, slots }
    }

    fn slot(&self, field: impl Into<usize>) -> Option<usize> {
        self.slots.by_field.get(field.into()).copied().flatten()
    }

    fn name(&self, field: usize) -> &'static str {
        self.slots.names[field]
    }

    /// The text of a pattern slot, `None` for `-` and empty (no value).
    pub fn value(&self, slot: Option<usize>) -> Option<&'a str> {
        let (start, end) = self.caps.span(slot?)?;
        let text = self.line.get(start..end)?;
        (text != "-" && !text.is_empty()).then_some(text)
    }

    /// A string field; `None` when absent, `-` or empty.
    pub fn str(&self, field: impl Into<usize>) -> Option<&'a str> {
        self.value(self.slot(field))
    }

    pub fn int(&self, field: impl Into<usize> + Copy) -> Result<Option<i64>, FieldError> {
        self.convert(field, "is not a number", |t| t.parse::<i64>().ok())
    }

    pub fn float(&self, field: impl Into<usize> + Copy) -> Result<Option<f64>, FieldError> {
        self.convert(field, "is not a number", |t| {
            t.parse::<f64>().ok().filter(|f| f.is_finite())
        })
    }

    /// A decimal number kept as read when JSON writes it so ([`Decimal`]).
    pub fn decimal(
        &self,
        field: impl Into<usize> + Copy,
    ) -> Result<Option<Decimal<'a>>, FieldError> {
        self.convert(field, "is not a number", Decimal::parse)
    }

    /// A `*_processing_time`: `-1` means "not measured", so absent.
    pub fn processing_time(
        &self,
        field: impl Into<usize> + Copy,
    ) -> Result<Option<Seconds<'a>>, FieldError> {
        Ok(self
            .decimal(field)?
            .filter(|v| !matches!(v, Decimal::Value(v) if *v == -1.0))
            .map(|sec| Seconds { sec }))
    }

    pub fn time(
        &self,
        field: impl Into<usize> + Copy,
    ) -> Result<Option<Timestamp<'a>>, FieldError> {
        self.convert(field, "is not an ISO-8601 UTC time", timestamp::parse)
    }

    /// The line's own time, which every line must have (it names the daily index).
    pub fn line_time(&self, field: impl Into<usize> + Copy) -> Result<Timestamp<'a>, FieldError> {
        self.time(field)?.ok_or_else(|| {
            FieldError::new(
                self.name(field.into()),
                "-",
                "is missing: every line needs its time",
            )
        })
    }

    /// An IP address field (an `ip` in the index): a value that is not one fails the line.
    pub fn ip(&self, field: impl Into<usize> + Copy) -> Result<Option<&'a str>, FieldError> {
        self.convert(field, "is not an IP address", valid_ip)
    }

    /// The fields after the last known one, kept raw in order (`-` placeholders included, a
    /// lone `-` too: it is not "no value" here but a field AWS has not named yet).
    pub fn trailing(&self, field: impl Into<usize>) -> Option<List<'a>> {
        let (start, end) = self.caps.span(self.slot(field)?)?;
        let text = self.line.get(start..end).filter(|t| !t.is_empty())?;
        Some(List {
            keep_dashes: true,
            ..List::new(text, ListSep::Tokens)
        })
    }

    pub fn port(&self, field: impl Into<usize> + Copy) -> Result<Option<u16>, FieldError> {
        self.convert(field, "is not a port number", |t| t.parse::<u16>().ok())
    }

    fn convert<T>(
        &self,
        field: impl Into<usize> + Copy,
        why: &'static str,
        f: impl FnOnce(&'a str) -> Option<T>,
    ) -> Result<Option<T>, FieldError> {
        match self.str(field) {
            None => Ok(None),
            Some(text) => f(text)
                .map(Some)
                .ok_or_else(|| FieldError::new(self.name(field.into()), text, why)),
        }
    }

    /// `ip:port` as the logs write it (IPv6 without brackets): split at the last colon.
    pub fn address(
        &self,
        field: impl Into<usize> + Copy,
    ) -> Result<Option<Address<'a>>, FieldError> {
        let Some(text) = self.str(field) else {
            return Ok(None);
        };
        let bad = || FieldError::new(self.name(field.into()), text, "is not ip:port");
        let colon = memchr::memrchr(b':', text.as_bytes()).ok_or_else(bad)?;
        let (host, port) = (&text[..colon], &text[colon + 1..]);
        let port = port.parse::<u16>().map_err(|_| bad())?;
        Ok(Some(Address {
            ip: valid_ip(host),
            host,
            port,
        }))
    }
}

/// A client or target address.
pub(super) struct Address<'a> {
    pub host: &'a str,
    /// The host when it is a valid IP address (for `ip`-typed fields).
    pub ip: Option<&'a str>,
    pub port: u16,
}

impl<'a> Address<'a> {
    /// `source.*`: the host as address, the IP when it is one, the port.
    pub fn endpoint(&self) -> Endpoint<'a> {
        Endpoint {
            address: Some(self.host),
            ip: self.ip,
            port: Some(self.port),
            ..Endpoint::default()
        }
    }
}

/// `text` if it is an IPv4 or IPv6 address.
pub(super) fn valid_ip(text: &str) -> Option<&str> {
    if dotted_quad(text.as_bytes()) {
        return Some(text);
    }
    text.parse::<std::net::IpAddr>().ok().map(|_| text)
}

/// True for an IPv4 address as the standard library reads one (four decimal octets up to 255,
/// no leading zeros): most addresses in a log, checked without its general parser, which cost
/// ~3 % of a line (callgrind). Anything else goes to that parser.
fn dotted_quad(text: &[u8]) -> bool {
    // One pass over the bytes: (octets finished, digits of the current one, its value).
    let (mut dots, mut digits, mut value) = (0, 0, 0u32);
    for &b in text {
        match b {
            b'0'..=b'9' => {
                // A leading zero is allowed only as the whole octet.
                if digits == 3 || (digits > 0 && value == 0) {
                    return false;
                }
                value = value * 10 + u32::from(b - b'0');
                digits += 1;
            }
            b'.' if digits > 0 && value <= 255 && dots < 3 => {
                dots += 1;
                (digits, value) = (0, 0);
            }
            _ => return false,
        }
    }
    dots == 3 && digits > 0 && value <= 255
}

impl fmt::Debug for Fields<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fields").field("line", &self.line).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::valid_ip;

    #[test]
    fn addresses_are_valid_exactly_when_the_standard_library_reads_them() {
        for text in [
            "10.0.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "256.1.1.1",
            "1.2.3",
            "1.2.3.4.5",
            "01.2.3.4",
            "1.2.3.04",
            "1..2.3",
            "1.2.3.4.",
            "",
            "a.b.c.d",
            "1.2.3.-4",
            "2001:db8::1",
            "::1",
            "::ffff:1.2.3.4",
            "1.2.3.4:80",
            "999.0.0.1",
            "1.2.3.400",
            "+1.2.3.4",
            "00.0.0.0",
        ] {
            assert_eq!(
                valid_ip(text).is_some(),
                text.parse::<std::net::IpAddr>().is_ok(),
                "{text:?}"
            );
        }
    }
}
