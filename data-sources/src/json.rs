//! What the JSON formats share: reading a bounded document, turning serde errors into
//! [`ParseError`]s, and finding the line of an array item kept as raw text.

use std::io::Read;

use serde_json::value::RawValue;

use crate::error::{ParseError, Position};
use crate::input::MAX_DOCUMENT;

/// Reads the whole document (at most [`MAX_DOCUMENT`] bytes) as UTF-8, without a leading BOM.
pub(crate) fn read_document(reader: impl Read, source_name: &str) -> Result<String, ParseError> {
    let mut bytes = Vec::new();
    if let Err(e) = reader.take(MAX_DOCUMENT + 1).read_to_end(&mut bytes) {
        let reason = format!(
            "input cannot be read ({e}); the file is probably truncated or corrupt, fetch it again"
        );
        return Err(ParseError::fatal(source_name, Position::Whole, reason));
    }
    if bytes.len() as u64 > MAX_DOCUMENT {
        let reason =
            format!("document larger than {MAX_DOCUMENT} bytes; this is not a plausible input");
        return Err(ParseError::fatal(source_name, Position::Whole, reason));
    }
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = 1 + valid.iter().filter(|&&b| b == b'\n').count() as u64;
        ParseError::fatal(source_name, Position::Line(line), "json is not valid utf-8")
    })
}

/// Deserializes the top-level object of `text` (serde would also map an array onto a struct's
/// fields by position; that is refused here).
pub(crate) fn from_document<'d, T: serde::Deserialize<'d>>(
    text: &'d str,
    source_name: &str,
    what: &str,
) -> Result<T, ParseError> {
    if text.trim_start().starts_with('[') {
        let reason = format!("not {what}: the top level is an array, expected an object");
        return Err(ParseError::fatal(source_name, Position::Line(1), reason));
    }
    serde_json::from_str(text).map_err(|e| document_error(source_name, what, &e))
}

/// Deserializes one item of the document (an entry, or an object inside one) that must be a
/// JSON object; the error is serde's message without its position. serde would also map an
/// array onto a struct's fields by position, which would read a reshaped upstream file
/// silently wrong; that is refused here, as [`from_document`] refuses it for the document.
pub(crate) fn from_object<'d, T: serde::Deserialize<'d>>(raw: &'d RawValue) -> Result<T, String> {
    if raw.get().trim_start().starts_with('[') {
        return Err("invalid type: sequence, expected an object".to_owned());
    }
    serde_json::from_str(raw.get()).map_err(|e| message(&e))
}

/// A fatal error for a document serde could not read: bad syntax, or not the expected shape.
fn document_error(source_name: &str, what: &str, e: &serde_json::Error) -> ParseError {
    let msg = message(e);
    let reason = if e.is_data() {
        format!("not {what}: {msg}")
    } else {
        format!("invalid json ({msg}); the file is probably truncated or not {what}")
    };
    ParseError::fatal(source_name, Position::Line(e.line() as u64), reason)
}

/// serde_json's message without its " at line L column C" suffix (the caller has a better
/// position).
pub(crate) fn message(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    match full.strip_suffix(&suffix) {
        Some(msg) => msg.to_owned(),
        None => full,
    }
}

/// Finds the 1-based line of raw items borrowed from `doc`, scanning forward from the last one.
#[derive(Debug)]
pub(crate) struct LineFinder<'d> {
    doc: &'d str,
    offset: usize,
    line: u64,
}

impl<'d> LineFinder<'d> {
    pub(crate) fn new(doc: &'d str) -> Self {
        LineFinder {
            doc,
            offset: 0,
            line: 1,
        }
    }

    /// The line where `item` (a slice of the document) starts.
    pub(crate) fn line_of(&mut self, item: &RawValue) -> u64 {
        let start = (item.get().as_ptr() as usize)
            .checked_sub(self.doc.as_ptr() as usize)
            .filter(|&at| at <= self.doc.len())
            .unwrap_or(0);
        if start < self.offset {
            self.offset = 0;
            self.line = 1;
        }
        let skipped = self.doc.as_bytes()[self.offset..start]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        self.line += skipped as u64;
        self.offset = start;
        self.line
    }
}

/// One item of a prefix array failed; `text` is its raw JSON, whitespace squeezed for quoting.
pub(crate) fn item_error(source_name: &str, line: u64, reason: String, text: &str) -> ParseError {
    let head = match text.char_indices().nth(4 * crate::error::MAX_QUOTED) {
        Some((cut, _)) => &text[..cut],
        None => text,
    };
    let squeezed = head.split_whitespace().collect::<Vec<_>>().join(" ");
    ParseError::at_line(source_name, line, reason, &squeezed)
}

/// An array item's outcome as a parser result: the record with the line where the item
/// starts, or a recoverable error there quoting the item.
pub(crate) fn located<T>(
    source_name: &str,
    lines: &mut LineFinder<'_>,
    raw: &RawValue,
    outcome: Result<T, String>,
) -> Result<crate::error::Located<T>, ParseError> {
    let line = lines.line_of(raw);
    match outcome {
        Ok(record) => Ok(crate::error::Located {
            position: crate::error::Position::Line(line),
            record,
        }),
        Err(reason) => Err(item_error(source_name, line, reason, raw.get())),
    }
}
