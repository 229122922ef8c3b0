//! Diagnostics about a rules file: `file:line: field: severity: message`.
//!
//! Fields are dotted paths (`levels[1].min_score`,
//! `sla.policies.premium.targets.P1`); the line is found by walking a
//! span-preserving parse of the same text.

use std::fmt;
use std::ops::Range;

use toml_edit::{Document, Item, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One problem found in a rules file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The file as the user named it.
    pub file: String,
    /// 1-based; 0 when unknown.
    pub line: usize,
    /// Dotted path of the field, e.g. `levels[1].min_score`.
    pub field: String,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}: {}",
            self.file,
            self.line,
            if self.field.is_empty() {
                "(file)"
            } else {
                &self.field
            },
            self.severity.as_str(),
            self.message
        )
    }
}

/// Collects diagnostics with lines resolved against the source text.
pub struct Diagnostics<'s> {
    file: String,
    src: &'s str,
    doc: Option<Document<&'s str>>,
    pub list: Vec<Diagnostic>,
}

impl<'s> Diagnostics<'s> {
    pub fn new(file: &str, src: &'s str) -> Self {
        Diagnostics {
            file: file.to_string(),
            src,
            doc: Document::parse(src).ok(),
            list: vec![],
        }
    }

    pub fn error(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.push(Severity::Error, field.into(), message.into());
    }

    pub fn warning(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.push(Severity::Warning, field.into(), message.into());
    }

    fn push(&mut self, severity: Severity, field: String, message: String) {
        let line = self
            .doc
            .as_ref()
            .and_then(|d| locate(d, &field))
            .map(|off| line_of(self.src, off))
            .unwrap_or(0);
        self.list.push(Diagnostic {
            severity,
            file: self.file.clone(),
            line,
            field,
            message,
        });
    }

    /// A deserialization error at a byte span: the field is the deepest key
    /// around the span.
    pub fn at_span(&mut self, span: Option<Range<usize>>, message: String) {
        let (line, field) = match span {
            Some(r) => (
                line_of(self.src, r.start),
                self.doc
                    .as_ref()
                    .map(|d| path_at(d, r.start))
                    .unwrap_or_default(),
            ),
            None => (0, String::new()),
        };
        self.list.push(Diagnostic {
            severity: Severity::Error,
            file: self.file.clone(),
            line,
            field,
            message,
        });
    }

    pub fn has_errors(&self) -> bool {
        self.list.iter().any(|d| d.severity == Severity::Error)
    }
}

/// 1-based line of a byte offset.
pub fn line_of(src: &str, offset: usize) -> usize {
    src.as_bytes()[..offset.min(src.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

fn segments(path: &str) -> Vec<Seg<'_>> {
    let mut out = vec![];
    for part in path.split('.') {
        let (key, rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            out.push(Seg::Key(key));
        }
        for idx in rest.split('[').filter(|s| !s.is_empty()) {
            if let Ok(n) = idx.trim_end_matches(']').parse() {
                out.push(Seg::Index(n));
            }
        }
    }
    out
}

enum Cursor<'d> {
    Table(&'d toml_edit::Table),
    Inline(&'d toml_edit::InlineTable),
    Array(&'d toml_edit::Array),
    Tables(&'d toml_edit::ArrayOfTables),
    Leaf,
}

fn cursor(item: &Item) -> Cursor<'_> {
    match item {
        Item::Table(t) => Cursor::Table(t),
        Item::ArrayOfTables(a) => Cursor::Tables(a),
        Item::Value(v) => value_cursor(v),
        Item::None => Cursor::Leaf,
    }
}

fn value_cursor(v: &Value) -> Cursor<'_> {
    match v {
        Value::InlineTable(t) => Cursor::Inline(t),
        Value::Array(a) => Cursor::Array(a),
        _ => Cursor::Leaf,
    }
}

/// Byte offset of the deepest part of `path` that exists in the document.
fn locate(doc: &Document<&str>, path: &str) -> Option<usize> {
    let mut best = None;
    let mut cur = Cursor::Table(doc.as_table());
    for seg in segments(path) {
        cur = match (seg, cur) {
            (Seg::Key(k), Cursor::Table(t)) => match t.get_key_value(k) {
                Some((key, item)) => {
                    best = key.span().map(|s| s.start).or(best);
                    cursor(item)
                }
                None => return best,
            },
            (Seg::Key(k), Cursor::Inline(t)) => match t.get_key_value(k) {
                Some((key, v)) => {
                    best = key.span().map(|s| s.start).or(best);
                    cursor(v)
                }
                None => return best,
            },
            (Seg::Index(i), Cursor::Tables(a)) => match a.get(i) {
                Some(t) => {
                    best = t.span().map(|s| s.start).or(best);
                    Cursor::Table(t)
                }
                None => return best,
            },
            (Seg::Index(i), Cursor::Array(a)) => match a.get(i) {
                Some(v) => {
                    best = v.span().map(|s| s.start).or(best);
                    value_cursor(v)
                }
                None => return best,
            },
            _ => return best,
        };
    }
    best
}

/// The dotted path of the deepest key whose region contains `offset`: the
/// key that starts last before it, recursively.
fn path_at(doc: &Document<&str>, offset: usize) -> String {
    let mut path = String::new();
    let mut cur = Cursor::Table(doc.as_table());
    loop {
        cur = match cur {
            Cursor::Table(t) => {
                let pick = t
                    .iter()
                    .filter_map(|(k, item)| {
                        let start = t
                            .key(k)
                            .and_then(|key| key.span())
                            .map(|s| s.start)
                            .into_iter()
                            .chain(item_start(item))
                            .min()?;
                        (start <= offset).then_some((start, k, item))
                    })
                    .max_by_key(|(start, _, _)| *start);
                match pick {
                    Some((_, k, item)) => {
                        push_key(&mut path, k);
                        cursor(item)
                    }
                    None => return path,
                }
            }
            Cursor::Inline(t) => {
                let pick = t
                    .iter()
                    .filter_map(|(k, v)| {
                        let start = t.key(k).and_then(|key| key.span()).map(|s| s.start)?;
                        (start <= offset).then_some((start, k, v))
                    })
                    .max_by_key(|(start, _, _)| *start);
                match pick {
                    Some((_, k, v)) => {
                        push_key(&mut path, k);
                        value_cursor(v)
                    }
                    None => return path,
                }
            }
            Cursor::Tables(a) => {
                let pick = a
                    .iter()
                    .enumerate()
                    .filter(|(_, t)| t.span().is_some_and(|s| s.start <= offset))
                    .last();
                match pick {
                    Some((i, t)) => {
                        path.push_str(&format!("[{i}]"));
                        Cursor::Table(t)
                    }
                    None => return path,
                }
            }
            Cursor::Array(a) => {
                let pick = a
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| v.span().is_some_and(|s| s.start <= offset))
                    .last();
                match pick {
                    Some((i, v)) => {
                        path.push_str(&format!("[{i}]"));
                        value_cursor(v)
                    }
                    None => return path,
                }
            }
            Cursor::Leaf => return path,
        }
    }
}

fn push_key(path: &mut String, k: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(k);
}

/// Where an item's text begins (tables without a header of their own begin
/// at their first child).
fn item_start(item: &Item) -> Option<usize> {
    match item {
        Item::Table(t) => t
            .span()
            .map(|s| s.start)
            .or_else(|| t.iter().filter_map(|(_, i)| item_start(i)).min()),
        Item::ArrayOfTables(a) => a.get(0).and_then(|x| x.span()).map(|s| s.start),
        Item::Value(v) => v.span().map(|s| s.start),
        Item::None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = r#"version = "1"

[[levels]]
name = "P1"
min_score = 10

[[levels]]
name = "P2"
min_score = 20

[sla]
default_policy = "x"

[sla.policies.std]
calendar = "24x7"
targets = { P1 = { first_response = "1h", resolution = "4h" } }
"#;

    #[test]
    fn lines_of_fields() {
        let mut d = Diagnostics::new("r.toml", SRC);
        d.error("levels[1].min_score", "m");
        d.error("sla.default_policy", "m");
        d.error("sla.policies.std.targets.P1", "m");
        d.error("sla.policies.std.calendar", "m");
        d.error("nonexistent.key", "m");
        let lines: Vec<usize> = d.list.iter().map(|x| x.line).collect();
        assert_eq!(lines, vec![9, 12, 16, 15, 0]);
        assert_eq!(
            d.list[0].to_string(),
            "r.toml:9: levels[1].min_score: error: m"
        );
    }

    #[test]
    fn path_at_offsets() {
        let doc = Document::parse(SRC).unwrap();
        let off = SRC.find("min_score = 20").unwrap();
        assert_eq!(path_at(&doc, off), "levels[1].min_score");
        let off = SRC.find("\"x\"").unwrap();
        assert_eq!(path_at(&doc, off), "sla.default_policy");
    }
}
