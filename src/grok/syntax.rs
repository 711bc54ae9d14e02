//! Grok syntax inside a definition: `%{SYNTAX}`, `%{SYNTAX:field}`, `%{SYNTAX:field:int|float}`,
//! and the expansion of references into one regular expression.

use super::library::{is_pattern_name, Definition, PatternLibrary};
use super::{Conversion, FieldSpec, GrokError};

/// A definition body cut into raw regex text and references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    Ref(Reference),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub syntax: String,
    pub field: Option<String>,
    pub conversion: Option<Conversion>,
}

/// Splits a definition body into pieces; a malformed reference is an error naming it.
pub fn pieces(def: &Definition) -> Result<Vec<Piece>, GrokError> {
    let body = def.body.as_str();
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(start) = rest.find("%{") {
        if start > 0 {
            out.push(Piece::Text(rest[..start].to_string()));
        }
        let after = &rest[start + 2..];
        let end = after.find('}').ok_or_else(|| GrokError::BadReference {
            origin: def.origin.clone(),
            pattern: def.name.clone(),
            reference: rest[start..].chars().take(40).collect(),
            why: "no closing '}'".into(),
        })?;
        out.push(Piece::Ref(reference(def, &after[..end])?));
        rest = &after[end + 1..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest.to_string()));
    }
    Ok(out)
}

fn reference(def: &Definition, inner: &str) -> Result<Reference, GrokError> {
    let bad = |why: &str| GrokError::BadReference {
        origin: def.origin.clone(),
        pattern: def.name.clone(),
        reference: format!("%{{{inner}}}"),
        why: why.to_string(),
    };
    let mut parts = inner.split(':');
    let syntax = parts.next().unwrap_or_default();
    if !is_pattern_name(syntax) {
        return Err(bad(
            "the pattern name may only hold letters, digits and '_'",
        ));
    }
    let field = match parts.next() {
        None => None,
        Some(f) if is_field_name(f) => Some(f.to_string()),
        Some(_) => {
            return Err(bad(
                "the field name may only hold letters, digits, '_', '.', '@' and '-'",
            ))
        }
    };
    let conversion = match parts.next() {
        None => None,
        Some("int") | Some("long") => Some(Conversion::Int),
        Some("float") | Some("double") => Some(Conversion::Float),
        Some(_) => return Err(bad("the type must be int or float")),
    };
    if parts.next().is_some() {
        return Err(bad("at most SYNTAX:field:type"));
    }
    Ok(Reference {
        syntax: syntax.to_string(),
        field,
        conversion,
    })
}

fn is_field_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'@' | b'-'))
}

/// Expands references into one regex. Named references become groups `f{N}`; `groups` maps each
/// group name's N to a field slot in `fields` (the same field name always gets the same slot).
pub struct Expander<'l> {
    pub library: &'l PatternLibrary,
    pub fields: Vec<FieldSpec>,
    pub groups: Vec<usize>,
    stack: Vec<String>,
}

impl<'l> Expander<'l> {
    pub fn new(library: &'l PatternLibrary) -> Self {
        Self {
            library,
            fields: Vec::new(),
            groups: Vec::new(),
            stack: Vec::new(),
        }
    }

    pub fn definition(&self, name: &str, from: &Definition) -> Result<&'l Definition, GrokError> {
        self.library
            .get(name)
            .ok_or_else(|| GrokError::UnknownPattern {
                origin: from.origin.clone(),
                pattern: from.name.clone(),
                reference: name.to_string(),
            })
    }

    /// The slot of a field, added on first sight.
    pub fn slot(&mut self, field: &str, conversion: Option<Conversion>) -> usize {
        if let Some(i) = self.fields.iter().position(|f| f.name == field) {
            if self.fields[i].conversion.is_none() {
                self.fields[i].conversion = conversion;
            }
            return i;
        }
        self.fields.push(FieldSpec {
            name: field.to_string(),
            conversion,
        });
        self.fields.len() - 1
    }

    /// The regex text of a definition, references expanded.
    pub fn expand(&mut self, def: &Definition) -> Result<String, GrokError> {
        if self.stack.iter().any(|n| n == &def.name) {
            let mut cycle = self.stack.clone();
            cycle.push(def.name.clone());
            return Err(GrokError::Recursive {
                origin: def.origin.clone(),
                cycle: cycle.join(" -> "),
            });
        }
        self.stack.push(def.name.clone());
        let mut out = String::with_capacity(def.body.len());
        for piece in pieces(def)? {
            match piece {
                Piece::Text(text) => out.push_str(&text),
                Piece::Ref(r) => {
                    let inner = self.definition(&r.syntax, def)?;
                    let inner = self.expand(inner)?;
                    self.push_reference(&mut out, &r, &inner);
                }
            }
        }
        self.stack.pop();
        Ok(out)
    }

    /// Writes one expanded reference: a named group for a field, a plain group otherwise.
    pub fn push_reference(&mut self, out: &mut String, r: &Reference, inner: &str) {
        match &r.field {
            Some(field) => {
                let slot = self.slot(field, r.conversion);
                out.push_str(&format!("(?P<f{}>", self.groups.len()));
                self.groups.push(slot);
            }
            None => out.push_str("(?:"),
        }
        out.push_str(inner);
        out.push(')');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lib(text: &str) -> PatternLibrary {
        let mut l = PatternLibrary::default();
        l.add_text("test.grok", text).unwrap();
        l
    }

    #[test]
    fn expands_nested_references_into_named_groups() {
        let l = lib("NUM [0-9]+\nPAIR %{NUM:a}-%{NUM:b:int}\nTOP x%{PAIR}y");
        let mut e = Expander::new(&l);
        let re = e.expand(l.get("TOP").unwrap()).unwrap();
        assert_eq!(re, "x(?:(?P<f0>[0-9]+)-(?P<f1>[0-9]+))y");
        assert_eq!(e.fields[1].name, "b");
        assert_eq!(e.fields[1].conversion, Some(Conversion::Int));
    }

    #[test]
    fn recursion_is_an_error_naming_the_cycle() {
        let l = lib("A x%{B}\nB y%{A}");
        let err = Expander::new(&l).expand(l.get("A").unwrap()).unwrap_err();
        assert!(err.to_string().contains("A -> B -> A"), "{err}");
    }

    #[test]
    fn unknown_reference_names_file_line_and_pattern() {
        let l = lib("# c\nA x%{NOPE:f}");
        let err = Expander::new(&l).expand(l.get("A").unwrap()).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("test.grok:2") && msg.contains("NOPE") && msg.contains('A'),
            "{msg}"
        );
    }

    #[test]
    fn malformed_references_are_errors() {
        for body in ["%{A", "%{A:f:bool}", "%{A b}", "%{A:f:int:x}"] {
            let l = lib(&format!("A x\nT {body}"));
            assert!(pieces(l.get("T").unwrap()).is_err(), "{body}");
        }
    }
}
