//! Splitting one line of a comma-separated file into fields, with RFC 4180 quoting done by
//! the `csv` crate.
//!
//! The range CSVs ipsieve reads (ip-location-db, ipcat, bad-asn-list) hold one record per
//! line; reading them line by line through [`LineReader`](crate::input::LineReader) keeps the
//! line cap, the line numbers and the BOM/CRLF handling every text format shares, and a quoted
//! field that is not closed on its line is an error for that line instead of swallowing the
//! rest of the file into one field.

use std::io::{Cursor, SeekFrom};

/// Reusable field splitter: one `csv` reader, rewound onto each new line, and one record whose
/// buffers are reused from line to line.
#[derive(Debug)]
pub(crate) struct CsvLine {
    record: csv::StringRecord,
    reader: csv::Reader<Cursor<Vec<u8>>>,
    space_before_quote: bool,
}

impl CsvLine {
    /// A strict RFC 4180 splitter: a quote opens a quoted field only as the field's first
    /// character.
    pub(crate) fn new() -> Self {
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(Cursor::new(Vec::new()));
        CsvLine {
            record: csv::StringRecord::new(),
            reader,
            space_before_quote: false,
        }
    }

    /// Also accepts spaces or tabs between a separating comma and an opening quote
    /// (`51447, "RootLayer Web Services Ltd, NL"`), which strict parsers read as a literal
    /// quote.
    pub(crate) fn space_before_quote(mut self) -> Self {
        self.space_before_quote = true;
        self
    }

    /// The fields of `line` (terminator already stripped), each trimmed of surrounding
    /// whitespace, or the reason the line is not one CSV record.
    pub(crate) fn split(&mut self, line: &str) -> Result<&csv::StringRecord, String> {
        self.record.clear();
        if line.contains('\r') {
            return Err("carriage return inside the line".to_owned());
        }
        if !line.contains('"') {
            // Without quotes RFC 4180 is a plain split; this is most lines.
            for field in line.split(',') {
                self.record.push_field(field.trim());
            }
            return Ok(&self.record);
        }
        if line.bytes().filter(|&b| b == b'"').count() % 2 == 1 {
            return Err("unbalanced double quote (a quoted field must end on its line)".to_owned());
        }
        let owned;
        let line = if self.space_before_quote {
            owned = close_up_quotes(line);
            owned.as_deref().unwrap_or(line)
        } else {
            line
        };
        // Building a reader costs more than splitting a line, so the one reader is pointed at
        // the new line and rewound (`seek_raw` also resets its parser state).
        let input = self.reader.get_mut().get_mut();
        input.clear();
        input.extend_from_slice(line.as_bytes());
        if let Err(e) = self
            .reader
            .seek_raw(SeekFrom::Start(0), csv::Position::new())
        {
            return Err(format!("not a csv record ({e})"));
        }
        match self.reader.read_record(&mut self.record) {
            Ok(true) => {}
            Ok(false) => self.record.clear(),
            Err(e) => return Err(format!("not a csv record ({e})")),
        }
        self.record.trim();
        Ok(&self.record)
    }
}

/// `line` without the blanks between a separating comma (or the line start) and an opening
/// quote, or `None` when it has none. Quote state is tracked so commas inside quoted fields
/// are left alone.
fn close_up_quotes(line: &str) -> Option<String> {
    let bytes = line.as_bytes();
    let mut out: Option<String> = None;
    let mut in_quotes = false;
    let mut field_start = true;
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if field_start && !in_quotes && (b == b' ' || b == b'\t') {
            let blanks_end = i + bytes[i..]
                .iter()
                .take_while(|&&c| c == b' ' || c == b'\t')
                .count();
            if bytes.get(blanks_end) == Some(&b'"') {
                // Blanks are ASCII, so both cut points are char boundaries.
                let s = out.get_or_insert_with(String::new);
                s.push_str(&line[copied..i]);
                copied = blanks_end;
            }
            i = blanks_end;
            field_start = false;
            continue;
        }
        field_start = false;
        if b == b'"' {
            in_quotes = !in_quotes;
        } else if b == b',' && !in_quotes {
            field_start = true;
        }
        i += 1;
    }
    let mut s = out?;
    s.push_str(&line[copied..]);
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(csv: &mut CsvLine, line: &str) -> Result<Vec<String>, String> {
        csv.split(line)
            .map(|r| r.iter().map(str::to_owned).collect())
    }

    #[test]
    fn quoting() {
        let mut csv = CsvLine::new();
        assert_eq!(
            fields(&mut csv, r#"1.0.0.0,1.0.0.255,13335,"Cloudflare, Inc.""#).unwrap(),
            ["1.0.0.0", "1.0.0.255", "13335", "Cloudflare, Inc."]
        );
        assert_eq!(
            fields(&mut csv, r#"a,"LLC ""SPUTNIK""""#).unwrap(),
            ["a", r#"LLC "SPUTNIK""#]
        );
        assert_eq!(fields(&mut csv, "").unwrap(), [""]);
        assert_eq!(fields(&mut csv, " a , b ").unwrap(), ["a", "b"]);
        assert!(fields(&mut csv, r#"a,"b"#).is_err());
        assert!(fields(&mut csv, "a\rb").is_err());
        // Strict mode: the quote after a space is literal, so the comma inside splits.
        assert_eq!(fields(&mut csv, r#"1, "x, y""#).unwrap().len(), 3);
    }

    #[test]
    fn space_before_quote() {
        let mut csv = CsvLine::new().space_before_quote();
        assert_eq!(
            fields(&mut csv, r#"51447, "RootLayer Web Services Ltd, NL""#).unwrap(),
            ["51447", "RootLayer Web Services Ltd, NL"]
        );
        assert_eq!(
            fields(&mut csv, "\t \"a, b\" ,\t\"c\"").unwrap(),
            ["a, b", "c"]
        );
        assert_eq!(
            fields(&mut csv, r#""x, "" y",  z"#).unwrap(),
            [r#"x, " y"#, "z"]
        );
        assert_eq!(close_up_quotes("a, b"), None);
        assert_eq!(close_up_quotes("é, \"x\"").as_deref(), Some("é,\"x\""));
    }
}
