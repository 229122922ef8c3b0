//! Reading labelled JSON lines.

use super::ClassifierError;
use std::io::BufRead;
use std::path::Path;

/// A line that was skipped, with its 1-based line number and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedLine {
    /// 1-based line number.
    pub line: usize,
    /// Reason.
    pub reason: String,
}

/// Documents read from a JSONL file.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    /// `(text, label)` per usable line.
    pub docs: Vec<(String, String)>,
    /// Lines that failed to parse or lacked the label (blank lines are ignored).
    pub skipped: Vec<SkippedLine>,
}

fn value_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Parses one JSON object line. Text fields are concatenated with a space
/// (missing, null or non-scalar fields count as empty); the label must be a
/// non-empty string, number or boolean.
pub fn parse_line(
    line: &str,
    text_fields: &[String],
    label_field: &str,
) -> Result<(String, String), String> {
    let v: serde_json::Value =
        serde_json::from_str(line).map_err(|e| format!("invalid JSON: {e}"))?;
    let obj = v
        .as_object()
        .ok_or_else(|| "not a JSON object".to_string())?;
    let label = match obj.get(label_field) {
        None | Some(serde_json::Value::Null) => {
            return Err(format!("no label field \"{label_field}\""))
        }
        Some(l) => value_text(l)
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| format!("label field \"{label_field}\" is empty or not a string"))?,
    };
    let mut text = String::new();
    for (i, f) in text_fields.iter().enumerate() {
        if i > 0 {
            text.push(' ');
        }
        if let Some(t) = obj.get(f).and_then(value_text) {
            text.push_str(&t);
        }
    }
    Ok((text, label))
}

/// Reads `path` as JSON lines.
pub fn read_jsonl(
    path: &Path,
    text_fields: &[String],
    label_field: &str,
) -> Result<Dataset, ClassifierError> {
    let io = |source| ClassifierError::Io {
        path: path.to_path_buf(),
        source,
    };
    let f = std::fs::File::open(path).map_err(io)?;
    let mut ds = Dataset::default();
    let reader = std::io::BufReader::with_capacity(1 << 16, f);
    for (i, line) in reader.split(b'\n').enumerate() {
        let line = line.map_err(io)?;
        let lineno = i + 1;
        let line = match std::str::from_utf8(&line) {
            Ok(s) => s.trim_end_matches('\r'),
            Err(e) => {
                ds.skipped.push(SkippedLine {
                    line: lineno,
                    reason: format!("not UTF-8: {e}"),
                });
                continue;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        match parse_line(line, text_fields, label_field) {
            Ok(d) => ds.docs.push(d),
            Err(reason) => ds.skipped.push(SkippedLine {
                line: lineno,
                reason,
            }),
        }
    }
    Ok(ds)
}
