//! What the JSON formats share: reading a bounded document, turning serde errors into
//! [`ParseError`]s, finding the line of an array item kept as raw text, and [`Walk`], the
//! iterator that decodes a document's entries one at a time.
//!
//! Memory: the document is kept whole (at most [`MAX_DOCUMENT`] bytes), but nothing is kept
//! per entry. The document is checked once (its syntax, and the shape of everything around the
//! entry arrays) with the arrays read as [`Array`]s, raw text; a [`Walker`] then holds byte
//! offsets into those arrays ([`Items`]) and decodes the next entry only when the iterator
//! advances. So a 256 MiB document of millions of tiny entries costs the document and one
//! entry, not a vector of every entry.

use std::fmt;
use std::io::Read;
use std::marker::PhantomData;

use serde::de::{Error as _, IgnoredAny};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use crate::error::{Located, ParseError, Position};
use crate::input::{MAX_DOCUMENT, MAX_RECORDS};

/// Reads the whole document (at most [`MAX_DOCUMENT`] bytes) as UTF-8, without a leading BOM.
pub(crate) fn read_document(reader: impl Read, source_name: &str) -> Result<String, ParseError> {
    let mut bytes = Vec::new();
    if let Err(e) = reader.take(MAX_DOCUMENT + 1).read_to_end(&mut bytes) {
        let reason = crate::input::read_failure(&e, || {
            format!(
                "input cannot be read ({e}); the file is probably truncated or corrupt, fetch it \
                 again"
            )
        });
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

/// A field that must hold a JSON object, read as `T` with [`from_object`]: for the structs
/// nested inside an entry or a document, which serde would otherwise also fill from an array
/// by position.
pub(crate) struct Object<T>(pub(crate) T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = <&'de RawValue>::deserialize(deserializer)?;
        from_object(raw).map(Object).map_err(D::Error::custom)
    }
}

impl<T: fmt::Debug> fmt::Debug for Object<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A field that must hold a JSON array, kept as its raw text (its syntax checked) and walked
/// later with [`Array::items`]. Anything else is refused with serde's own message (`invalid
/// type: map, expected a sequence`), as a `Vec` field would be.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Array<'a>(&'a RawValue);

impl<'de: 'a, 'a> Deserialize<'de> for Array<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = <&'a RawValue>::deserialize(deserializer)?;
        if raw.get().starts_with('[') {
            return Ok(Array(raw));
        }
        // Not an array: serde's message for this value where a sequence was expected (read
        // only as far as serde's own `Vec` field would: a map or array fails at its bracket).
        let msg = match serde_json::from_str::<Vec<IgnoredAny>>(raw.get()) {
            Err(e) => message(&e),
            Ok(_) => "invalid type, expected a sequence".to_owned(),
        };
        Err(D::Error::custom(msg))
    }
}

impl<'a> Array<'a> {
    /// The array's raw text.
    pub(crate) fn get(self) -> &'a str {
        self.0.get()
    }

    /// A walk over the array's items; `doc` is the document the array was read from.
    pub(crate) fn items(self, doc: &str) -> Items {
        let text = self.0.get();
        // The array is a slice of `doc`; an array from elsewhere (never the case) walks empty.
        match offset_in(doc, text) {
            // Past the `[`, up to the `]`.
            Some(start) if text.len() >= 2 => Items {
                at: start + 1,
                end: start + text.len() - 1,
            },
            _ => Items::default(),
        }
    }
}

/// The byte offset of `text` in `doc` when `text` is a slice of `doc` (a raw value borrowed from
/// the document), else `None`.
pub(crate) fn offset_in(doc: &str, text: &str) -> Option<usize> {
    (text.as_ptr() as usize)
        .checked_sub(doc.as_ptr() as usize)
        .filter(|&at| {
            doc.get(at..at.saturating_add(text.len()))
                .is_some_and(|slice| std::ptr::eq(slice, text))
        })
}

/// A validator that reads a `T` and keeps nothing: `Vec<Checked<T>>` checks every item of an
/// array without allocating, whatever its length.
pub(crate) struct Checked<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Checked<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer)?;
        Ok(Checked(PhantomData))
    }
}

/// The items of an [`Array`] not yet walked: byte offsets into the document, so that an
/// iterator owning the document can keep them. The default is an empty walk.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Items {
    at: usize,
    end: usize,
}

impl Items {
    /// The next item, borrowed from `doc` (the document the array came from); `None` after the
    /// last. The array's syntax was checked when it was read, so reading an item cannot fail;
    /// if it ever did, the walk would end there.
    pub(crate) fn next<'d>(&mut self, doc: &'d str) -> Option<&'d RawValue> {
        let rest = doc.get(self.at..self.end)?;
        let rest = rest.trim_start_matches([' ', '\t', '\n', '\r']);
        let rest = rest.strip_prefix(',').unwrap_or(rest);
        let item = match <&RawValue>::deserialize(&mut serde_json::Deserializer::from_str(rest)) {
            Ok(item) => item,
            Err(_) => {
                self.at = self.end;
                return None;
            }
        };
        // `item` is a slice of `rest`, itself a slice of `doc`: the walk goes on after it.
        let start = (item.get().as_ptr() as usize).checked_sub(doc.as_ptr() as usize);
        self.at = start.map_or(self.end, |start| start + item.get().len());
        Some(item)
    }
}

/// How a JSON format walks its document's entries, one at a time (see [`Walk`]).
pub(crate) trait Walker {
    /// What one accepted entry becomes.
    type Record;

    /// The next entry of `doc`: the raw item it was read from (its line is where the entry
    /// starts, and it is quoted in an error) and what it gave, the record or why it was
    /// rejected; `None` after the last.
    fn next_entry<'d>(
        &mut self,
        doc: &'d str,
    ) -> Option<(&'d RawValue, Result<Self::Record, String>)>;
}

/// The iterator every JSON `parse` returns: the document and a [`Walker`] over it, each entry
/// decoded when the iterator advances, with the [`MAX_RECORDS`] cap applied. A document that
/// could not be read is one fatal error.
#[derive(Debug)]
pub(crate) struct Walk<W> {
    doc: String,
    source_name: String,
    walker: Option<W>,
    /// The error to yield first (the document could not be read).
    failed: Option<ParseError>,
    lines: LineFinder,
    records: u64,
    max_records: u64,
}

impl<W: Walker> Walk<W> {
    /// Walks `doc` with `walker`.
    pub(crate) fn new(doc: String, source_name: &str, walker: W) -> Self {
        Walk {
            doc,
            source_name: source_name.to_owned(),
            walker: Some(walker),
            failed: None,
            lines: LineFinder::new(),
            records: 0,
            max_records: MAX_RECORDS,
        }
    }

    /// A walk that yields `error` and ends.
    pub(crate) fn failed(error: ParseError) -> Self {
        Walk {
            doc: String::new(),
            source_name: String::new(),
            walker: None,
            failed: Some(error),
            lines: LineFinder::new(),
            records: 0,
            max_records: MAX_RECORDS,
        }
    }

    /// A walk from what opening the document gave.
    pub(crate) fn from_result(result: Result<Self, ParseError>) -> Self {
        result.unwrap_or_else(Self::failed)
    }

    /// The same walk with another record cap.
    #[cfg(test)]
    pub(crate) fn with_max_records(mut self, max_records: u64) -> Self {
        self.max_records = max_records;
        self
    }

    /// Every entry, for the `read` functions: the fatal error that ends the walk (a record cap
    /// reached) becomes the `Err`.
    pub(crate) fn collect_all<T>(
        self,
        map: impl Fn(Located<W::Record>) -> T,
    ) -> Result<Vec<Result<T, ParseError>>, ParseError> {
        let mut all = Vec::new();
        for item in self {
            match item {
                Ok(located) => all.push(Ok(map(located))),
                Err(e) if e.fatal => return Err(e),
                Err(e) => all.push(Err(e)),
            }
        }
        Ok(all)
    }
}

impl<W: Walker> Iterator for Walk<W> {
    type Item = Result<Located<W::Record>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.failed.take() {
            self.walker = None;
            return Some(Err(e));
        }
        let (raw, outcome) = self.walker.as_mut()?.next_entry(&self.doc)?;
        let line = self.lines.line_of(&self.doc, raw);
        match outcome {
            Ok(record) => {
                self.records += 1;
                if self.records > self.max_records {
                    self.walker = None;
                    let reason = format!(
                        "more than {} records; this is not a plausible input for one source, \
                         check the file",
                        self.max_records
                    );
                    let at = Position::Line(line);
                    return Some(Err(ParseError::fatal(&self.source_name, at, reason)));
                }
                Some(Ok(Located {
                    position: Position::Line(line),
                    record,
                }))
            }
            Err(reason) => Some(Err(item_error(&self.source_name, line, reason, raw.get()))),
        }
    }
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

/// Finds the 1-based line of raw items borrowed from a document, scanning forward from the
/// last one (back from the start when an item comes before it).
#[derive(Debug)]
pub(crate) struct LineFinder {
    offset: usize,
    line: u64,
}

impl LineFinder {
    pub(crate) fn new() -> Self {
        LineFinder { offset: 0, line: 1 }
    }

    /// The line where `item` (a slice of `doc`) starts.
    pub(crate) fn line_of(&mut self, doc: &str, item: &RawValue) -> u64 {
        let start = (item.get().as_ptr() as usize)
            .checked_sub(doc.as_ptr() as usize)
            .filter(|&at| at <= doc.len())
            .unwrap_or(0);
        if start < self.offset {
            self.offset = 0;
            self.line = 1;
        }
        let skipped = doc.as_bytes()[self.offset..start]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Doc<'a> {
        #[serde(borrow)]
        list: Array<'a>,
    }

    fn items_of(doc: &str) -> Vec<&str> {
        let parsed: Doc<'_> = serde_json::from_str(doc).unwrap();
        let mut items = parsed.list.items(doc);
        std::iter::from_fn(|| items.next(doc).map(RawValue::get)).collect()
    }

    #[test]
    fn items_are_walked_one_at_a_time() {
        assert_eq!(items_of(r#"{"list": []}"#), Vec::<&str>::new());
        assert_eq!(items_of("{\"list\": [ \n\t\r ]}"), Vec::<&str>::new());
        assert_eq!(
            items_of("{\"list\": [1,\n \"a,]\" , [2, [3]], {\"k\": [\"]\"]}, null ] }"),
            ["1", "\"a,]\"", "[2, [3]]", "{\"k\": [\"]\"]}", "null"]
        );
    }

    #[test]
    fn an_array_field_refuses_other_values_as_a_vec_would() {
        for (value, msg) in [
            ("{}", "invalid type: map, expected a sequence"),
            ("null", "invalid type: null, expected a sequence"),
            ("\"x\"", "invalid type: string \"x\", expected a sequence"),
            ("5", "invalid type: integer `5`, expected a sequence"),
        ] {
            let doc = format!("{{\"list\": {value}}}");
            let e = serde_json::from_str::<Doc<'_>>(&doc).err().unwrap();
            assert_eq!(message(&e), msg, "{value}");
        }
    }

    struct Numbers(Items);

    impl Walker for Numbers {
        type Record = u32;
        fn next_entry<'d>(&mut self, doc: &'d str) -> Option<(&'d RawValue, Result<u32, String>)> {
            let raw = self.0.next(doc)?;
            Some((
                raw,
                serde_json::from_str(raw.get()).map_err(|e| message(&e)),
            ))
        }
    }

    fn walk(doc: &str) -> Walk<Numbers> {
        let parsed: Doc<'_> = serde_json::from_str(doc).unwrap();
        let items = parsed.list.items(doc);
        Walk::new(doc.to_owned(), "t", Numbers(items))
    }

    #[test]
    fn a_walk_gives_lines_and_quotes_rejected_items() {
        let all: Vec<_> = walk("{\"list\": [1,\n\"x\",\n\n 3]}").collect();
        assert_eq!(all.len(), 3);
        assert_eq!(all[0].as_ref().unwrap().position, Position::Line(1));
        let e = all[1].as_ref().unwrap_err();
        assert_eq!((e.position, e.text.as_str()), (Position::Line(2), "\"x\""));
        assert!(!e.fatal);
        assert_eq!(all[2].as_ref().unwrap().position, Position::Line(4));
    }

    #[test]
    fn record_cap_is_one_fatal_error() {
        let all: Vec<_> = walk("{\"list\": [1, \"x\", 2,\n 3, 4]}")
            .with_max_records(2)
            .collect();
        // Two records and the rejected item, then the third record is the fatal error.
        assert_eq!(all.len(), 4);
        let e = all[3].as_ref().unwrap_err();
        assert!(e.fatal);
        assert_eq!(e.position, Position::Line(2));
        assert!(e.reason.starts_with("more than 2 records"), "{e}");
        let e = walk("{\"list\": [1, 2]}")
            .with_max_records(1)
            .collect_all(|l| l.record)
            .unwrap_err();
        assert!(e.fatal);
    }
}
