//! The fast matcher: a top-level pattern compiled into a sequence of literals, field scanners and
//! optional groups, run left to right over the line without backtracking.
//!
//! Why: one `regex` with ~35 capture groups over a whole ALB line costs as much as a complete
//! hand-written parser. Log formats are delimiter-separated tokens, so we split the pattern at its
//! literal delimiters instead. A field whose pattern is a repeated byte class (optionally with an
//! escape byte, as in `(?:[^"\\]|\\.)*`) is scanned with a 256-entry table; any other field is
//! cut at its delimiter and checked with its own small anchored regex. The whole-line regex stays
//! the reference: the engine falls back to it when this plan cannot express a pattern or rejects a
//! line, so the plan can only ever make matching faster, never different on lines the patterns
//! accept (a property test checks the two agree).

use regex_syntax::hir::{Class, Hir, HirKind};

use super::library::Definition;
use super::syntax::{pieces, Expander, Piece, Reference};
use super::GrokError;

#[derive(Debug)]
pub(super) enum Node {
    Literal(Box<[u8]>),
    Leaf(usize),
    Optional {
        nodes: Vec<Node>,
        slots: Vec<usize>,
    },
    /// Ordered choice: the first alternative that matches wins (`(?:a|b)`).
    Choice {
        alternatives: Vec<Vec<Node>>,
        slots: Vec<usize>,
    },
}

#[derive(Debug)]
pub(super) struct Leaf {
    /// The field name, or the pattern name for an unnamed leaf (used in messages).
    pub label: String,
    pub syntax: String,
    pub slot: Option<usize>,
    pub scanner: Scanner,
    /// First byte of the literal that follows this leaf in the pattern (where a regex leaf ends).
    pub stop: Option<u8>,
}

#[derive(Debug)]
pub(super) enum Scanner {
    /// Greedy run of bytes in `set`; `escape` followed by any byte but `\n` is taken as a pair.
    Class {
        set: Box<[bool; 256]>,
        escape: Option<u8>,
        min: usize,
        /// When the class excludes at most three bytes (counting the escape), those bytes: the
        /// scan then jumps with `memchr` (`[^ ]+`, `(?:[^"\\]|\\.)*`, `.*`).
        stops: Option<Vec<u8>>,
    },
    /// The token up to the leaf's stop byte must match `regex` (anchored at both ends).
    Regex {
        regex: regex::bytes::Regex,
        /// (capture group index in `regex`, field slot) for fields nested in this leaf.
        groups: Vec<(usize, usize)>,
    },
}

pub(super) struct Plan {
    pub nodes: Vec<Node>,
    pub leaves: Vec<Leaf>,
    /// Leaves outside any optional group: what every line must have.
    pub required: usize,
}

/// The furthest point a line was matched to, and what failed there.
#[derive(Debug, Clone, Copy)]
pub(super) struct Stuck {
    pub offset: usize,
    /// The leaf being matched or just matched (its token starts at `leaf_start`).
    pub leaf: Option<usize>,
    pub leaf_start: usize,
    /// A literal that was expected at `offset` (index into nothing: kept as bytes by the caller).
    pub expected_literal: bool,
}

enum Tok {
    Char(u8),
    Escaped(u8),
    Ref(Reference),
}

/// Builds the plan of `def`, or `None` when it uses regex syntax the plan cannot express.
pub(super) fn build(expander: &mut Expander, def: &Definition) -> Result<Option<Plan>, GrokError> {
    let mut leaves = Vec::new();
    let Some(nodes) = sequence(expander, def, &mut leaves)? else {
        return Ok(None);
    };
    let mut plan = Plan {
        required: nodes
            .iter()
            .filter(|n| matches!(n, Node::Leaf(_) | Node::Choice { .. }))
            .count(),
        nodes,
        leaves,
    };
    let mut pending: Vec<usize> = Vec::new();
    assign_stops(&plan.nodes, &mut pending, &mut plan.leaves);
    Ok(Some(plan))
}

fn assign_stops(nodes: &[Node], pending: &mut Vec<usize>, leaves: &mut [Leaf]) {
    for node in nodes {
        match node {
            Node::Literal(bytes) => {
                for leaf in pending.drain(..) {
                    leaves[leaf].stop = Some(bytes[0]);
                }
            }
            Node::Leaf(i) => pending.push(*i),
            Node::Optional { nodes, .. } => assign_stops(nodes, pending, leaves),
            Node::Choice { alternatives, .. } => {
                let before = pending.clone();
                let mut after = Vec::new();
                for alternative in alternatives {
                    let mut p = before.clone();
                    assign_stops(alternative, &mut p, leaves);
                    after.extend(p);
                }
                *pending = after;
            }
        }
    }
}

fn tokens(def: &Definition) -> Result<Vec<Tok>, GrokError> {
    let mut out = Vec::new();
    for piece in pieces(def)? {
        match piece {
            Piece::Ref(r) => out.push(Tok::Ref(r)),
            Piece::Text(text) => {
                let bytes = text.as_bytes();
                let mut i = 0;
                while i < bytes.len() {
                    if bytes[i] == b'\\' && i + 1 < bytes.len() {
                        out.push(Tok::Escaped(bytes[i + 1]));
                        i += 2;
                    } else {
                        out.push(Tok::Char(bytes[i]));
                        i += 1;
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Parses `def` into nodes; inlines references without a field when they are structural.
fn sequence(
    expander: &mut Expander,
    def: &Definition,
    leaves: &mut Vec<Leaf>,
) -> Result<Option<Vec<Node>>, GrokError> {
    let toks = tokens(def)?;
    // Open groups, innermost last; each holds its alternatives. The bottom one is `def` itself.
    let mut stack: Vec<Vec<Vec<Node>>> = vec![vec![Vec::new()]];
    let quantified = |i: usize| matches!(toks.get(i), Some(Tok::Char(b'*' | b'+' | b'{' | b'?')));
    let mut i = 0;
    while i < toks.len() {
        let optional_next = matches!(toks.get(i + 1), Some(Tok::Char(b'?')));
        let current = stack.last_mut().expect("bottom group");
        match &toks[i] {
            Tok::Char(b'(') => {
                if !matches!(
                    (toks.get(i + 1), toks.get(i + 2)),
                    (Some(Tok::Char(b'?')), Some(Tok::Char(b':')))
                ) {
                    return Ok(None);
                }
                stack.push(vec![Vec::new()]);
                i += 3;
                continue;
            }
            Tok::Char(b'|') => current.push(Vec::new()),
            Tok::Char(b')') => {
                if stack.len() < 2 {
                    return Ok(None);
                }
                let group = group_nodes(stack.pop().unwrap_or_default(), leaves);
                let nodes = if optional_next {
                    i += 1;
                    vec![optional(group, leaves)]
                } else {
                    group
                };
                if quantified(i + 1) {
                    return Ok(None);
                }
                let current = stack.last_mut().expect("bottom group");
                current.last_mut().expect("alternative").extend(nodes);
            }
            Tok::Char(b'.' | b'[' | b']' | b'*' | b'+' | b'?' | b'{' | b'}' | b'^' | b'$') => {
                return Ok(None)
            }
            Tok::Escaped(c) if !c.is_ascii_punctuation() => return Ok(None),
            Tok::Char(c) | Tok::Escaped(c) => {
                push_literal(current.last_mut().expect("alternative"), *c)
            }
            Tok::Ref(r) => {
                let mut nodes = reference_nodes(expander, def, r, leaves)?;
                if optional_next {
                    nodes = vec![optional(nodes, leaves)];
                    i += 1;
                }
                if quantified(i + 1) {
                    return Ok(None);
                }
                let alternative = stack
                    .last_mut()
                    .and_then(|g| g.last_mut())
                    .expect("alternative");
                for node in nodes {
                    match node {
                        Node::Literal(bytes) => {
                            bytes.iter().for_each(|b| push_literal(alternative, *b))
                        }
                        other => alternative.push(other),
                    }
                }
            }
        }
        i += 1;
    }
    if stack.len() != 1 {
        return Ok(None);
    }
    Ok(stack.pop().map(|group| group_nodes(group, leaves)))
}

/// One alternative is a plain sequence; several are an ordered choice.
fn group_nodes(mut alternatives: Vec<Vec<Node>>, leaves: &[Leaf]) -> Vec<Node> {
    if alternatives.len() == 1 {
        return alternatives.pop().unwrap_or_default();
    }
    let mut slots = Vec::new();
    for alternative in &alternatives {
        collect_slots(alternative, leaves, &mut slots);
    }
    vec![Node::Choice {
        alternatives,
        slots,
    }]
}

fn push_literal(nodes: &mut Vec<Node>, byte: u8) {
    if let Some(Node::Literal(bytes)) = nodes.last_mut() {
        let mut v = bytes.to_vec();
        v.push(byte);
        *bytes = v.into_boxed_slice();
    } else {
        nodes.push(Node::Literal(Box::new([byte])));
    }
}

fn optional(nodes: Vec<Node>, leaves: &[Leaf]) -> Node {
    let mut slots = Vec::new();
    collect_slots(&nodes, leaves, &mut slots);
    Node::Optional { nodes, slots }
}

fn collect_slots(nodes: &[Node], leaves: &[Leaf], slots: &mut Vec<usize>) {
    for node in nodes {
        match node {
            Node::Literal(_) => {}
            Node::Leaf(i) => {
                slots.extend(leaves[*i].slot);
                if let Scanner::Regex { groups, .. } = &leaves[*i].scanner {
                    slots.extend(groups.iter().map(|(_, s)| *s));
                }
            }
            Node::Optional { slots: inner, .. } | Node::Choice { slots: inner, .. } => {
                slots.extend(inner)
            }
        }
    }
}

fn reference_nodes(
    expander: &mut Expander,
    from: &Definition,
    r: &Reference,
    leaves: &mut Vec<Leaf>,
) -> Result<Vec<Node>, GrokError> {
    let def = expander.definition(&r.syntax, from)?;
    if r.field.is_none() {
        // Try to inline a structural definition; fall back to a leaf of its own.
        let mark = (leaves.len(), expander.groups.len());
        if let Some(nodes) = sequence(expander, def, leaves)? {
            return Ok(nodes);
        }
        leaves.truncate(mark.0);
        expander.groups.truncate(mark.1);
    }
    let first_group = expander.groups.len();
    let inner = expander.expand(def)?;
    let slot = r.field.as_ref().map(|f| expander.slot(f, r.conversion));
    let nested: Vec<usize> = expander.groups[first_group..].to_vec();
    let scanner = scanner(&inner, first_group, &nested).map_err(|e| GrokError::Regex {
        origin: def.origin.clone(),
        pattern: def.name.clone(),
        source: e,
    })?;
    leaves.push(Leaf {
        label: r.field.clone().unwrap_or_else(|| r.syntax.clone()),
        syntax: r.syntax.clone(),
        slot,
        scanner,
        stop: None,
    });
    Ok(vec![Node::Leaf(leaves.len() - 1)])
}

fn scanner(
    regex_text: &str,
    first_group: usize,
    nested: &[usize],
) -> Result<Scanner, super::RegexError> {
    let hir = regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(regex_text)
        .map_err(Box::new)?;
    if nested.is_empty() {
        if let Some(class) = class_scanner(&hir) {
            return Ok(class);
        }
    }
    let regex = super::bytes_regex(&format!("^(?:{regex_text})$"))?;
    let groups = nested
        .iter()
        .enumerate()
        .filter_map(|(k, slot)| {
            regex
                .capture_names()
                .position(|n| n == Some(&format!("f{}", first_group + k)))
                .map(|g| (g, *slot))
        })
        .collect();
    Ok(Scanner::Regex { regex, groups })
}

/// `C*`, `C+`, `C{n,}` over a byte class, or the same over `C|E.` (an escape byte and any byte).
fn class_scanner(hir: &Hir) -> Option<Scanner> {
    let HirKind::Repetition(rep) = hir.kind() else {
        return None;
    };
    if rep.max.is_some() || !rep.greedy {
        return None;
    }
    let min = rep.min as usize;
    match rep.sub.kind() {
        HirKind::Class(class) => Some(class_of(byte_set(class), None, min)),
        HirKind::Alternation(alts) if alts.len() == 2 => {
            let (HirKind::Class(class), HirKind::Concat(pair)) = (alts[0].kind(), alts[1].kind())
            else {
                return None;
            };
            let [escape, any] = pair.as_slice() else {
                return None;
            };
            let (HirKind::Literal(lit), HirKind::Class(any)) = (escape.kind(), any.kind()) else {
                return None;
            };
            let any = byte_set(any);
            let escape = match lit.0.as_ref() {
                [e] => *e,
                _ => return None,
            };
            let set = byte_set(class);
            // The scanner treats the escape pair as "escape + any byte but \n"; the class must
            // not contain the escape byte itself, or the two readings would differ.
            let any_but_newline = (0..=255u8).all(|b| any[b as usize] == (b != b'\n'));
            (any_but_newline && !set[escape as usize]).then(|| class_of(set, Some(escape), min))
        }
        _ => None,
    }
}

fn class_of(set: Box<[bool; 256]>, escape: Option<u8>, min: usize) -> Scanner {
    let mut excluded: Vec<u8> = (0..=255u8).filter(|b| !set[*b as usize]).collect();
    excluded.extend(escape);
    Scanner::Class {
        stops: (excluded.len() <= 3).then_some(excluded),
        set,
        escape,
        min,
    }
}

/// Index of the first of `stops` in `hay` (at most three bytes).
#[inline]
fn find_stop(stops: &[u8], hay: &[u8]) -> Option<usize> {
    match *stops {
        [a] => memchr::memchr(a, hay),
        [a, b] => memchr::memchr2(a, b, hay),
        [a, b, c] => memchr::memchr3(a, b, c, hay),
        _ => None,
    }
}

fn byte_set(class: &Class) -> Box<[bool; 256]> {
    let mut set = Box::new([false; 256]);
    match class {
        Class::Bytes(c) => {
            for r in c.iter() {
                for b in r.start()..=r.end() {
                    set[b as usize] = true;
                }
            }
        }
        Class::Unicode(c) => {
            for r in c.iter() {
                let (start, end) = (r.start() as u32, (r.end() as u32).min(255));
                for b in start..=end {
                    set[b as usize] = true;
                }
            }
        }
    }
    set
}

/// Matching state for one line.
pub(super) struct Run<'p, 'l> {
    plan: &'p Plan,
    line: &'l [u8],
    pub spans: &'p mut [Option<(usize, usize)>],
    pub stuck: Stuck,
    last_leaf: Option<(usize, usize)>,
}

impl<'p, 'l> Run<'p, 'l> {
    pub fn new(plan: &'p Plan, line: &'l [u8], spans: &'p mut [Option<(usize, usize)>]) -> Self {
        Self {
            plan,
            line,
            spans,
            stuck: Stuck {
                offset: 0,
                leaf: None,
                leaf_start: 0,
                expected_literal: false,
            },
            last_leaf: None,
        }
    }

    /// Matches the whole line; on failure `stuck` tells where and what.
    pub fn run(&mut self) -> bool {
        match self.sequence(&self.plan.nodes, 0) {
            Some(end) if end == self.line.len() => true,
            Some(end) => {
                self.fail(end, self.last_leaf, true);
                false
            }
            None => false,
        }
    }

    fn fail(&mut self, offset: usize, leaf: Option<(usize, usize)>, expected_literal: bool) {
        if offset >= self.stuck.offset {
            self.stuck = Stuck {
                offset,
                leaf: leaf.map(|l| l.0),
                leaf_start: leaf.map_or(offset, |l| l.1),
                expected_literal,
            };
        }
    }

    fn sequence(&mut self, nodes: &[Node], mut pos: usize) -> Option<usize> {
        for node in nodes {
            match node {
                Node::Literal(bytes) => {
                    let matched = match **bytes {
                        [b] => self.line.get(pos) == Some(&b),
                        _ => self.line[pos..].starts_with(bytes),
                    };
                    if matched {
                        pos += bytes.len();
                    } else {
                        self.fail(pos, self.last_leaf, true);
                        return None;
                    }
                }
                Node::Leaf(i) => pos = self.leaf(*i, pos)?,
                Node::Optional { nodes, slots } => {
                    let saved = self.last_leaf;
                    match self.sequence(nodes, pos) {
                        Some(end) => pos = end,
                        None => self.undo(slots, saved),
                    }
                }
                Node::Choice {
                    alternatives,
                    slots,
                } => {
                    let saved = self.last_leaf;
                    let mut matched = None;
                    for alternative in alternatives {
                        matched = self.sequence(alternative, pos);
                        if matched.is_some() {
                            break;
                        }
                        self.undo(slots, saved);
                    }
                    pos = matched?;
                }
            }
        }
        Some(pos)
    }

    fn undo(&mut self, slots: &[usize], last_leaf: Option<(usize, usize)>) {
        for s in slots {
            self.spans[*s] = None;
        }
        self.last_leaf = last_leaf;
    }

    fn leaf(&mut self, index: usize, pos: usize) -> Option<usize> {
        let leaf = &self.plan.leaves[index];
        let line = self.line;
        let end = match &leaf.scanner {
            Scanner::Class {
                set,
                escape,
                min,
                stops,
            } => {
                let mut i = pos;
                if stops.is_none() && escape.is_none() {
                    // A plain class (digits, a timestamp's bytes): one table look-up a byte.
                    i += line[pos..]
                        .iter()
                        .position(|b| !set[*b as usize])
                        .unwrap_or(line.len() - pos);
                }
                while i < line.len() {
                    if let Some(stops) = stops {
                        // Jump to the next byte that can end the run (or is an escape).
                        i = find_stop(stops, &line[i..]).map_or(line.len(), |j| i + j);
                        if i == line.len() {
                            break;
                        }
                    }
                    let b = line[i];
                    if Some(b) == *escape {
                        if i + 1 < line.len() && line[i + 1] != b'\n' {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    if !set[b as usize] {
                        break;
                    }
                    i += 1;
                }
                if i - pos < *min {
                    self.fail(pos, Some((index, pos)), false);
                    return None;
                }
                i
            }
            Scanner::Regex { regex, groups } => {
                let rest = &line[pos..];
                let len = match leaf.stop {
                    Some(stop) => memchr::memchr(stop, rest).unwrap_or(rest.len()),
                    None => rest.len(),
                };
                let token = &rest[..len];
                if groups.is_empty() {
                    if !regex.is_match(token) {
                        self.fail(pos, Some((index, pos)), false);
                        return None;
                    }
                } else {
                    let Some(caps) = regex.captures(token) else {
                        self.fail(pos, Some((index, pos)), false);
                        return None;
                    };
                    for (group, slot) in groups {
                        self.spans[*slot] =
                            caps.get(*group).map(|m| (pos + m.start(), pos + m.end()));
                    }
                }
                pos + len
            }
        };
        if let Some(slot) = leaf.slot {
            self.spans[slot] = Some((pos, end));
        }
        self.last_leaf = Some((index, pos));
        Some(end)
    }
}
