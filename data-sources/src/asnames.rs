//! AS-name lists in the potaroo / CIDR-report `asnames.txt` ("autnums") layout.
//!
//! ```text
//! AS1           LVLT-1, US
//! AS131078      KDDLAB-4OCT KDDI R&D Laboratories, INC., JP
//! AS18253       --No Registry Entry--
//! ```
//!
//! `AS<number>`, spaces up to column 15 (fewer for long 32-bit numbers), then the name and
//! description, then `, CC`. The country is the text after the **last** `", "` when that is
//! exactly two ASCII uppercase letters (`ZZ`, used for reserved and private ranges, is kept as
//! written); otherwise there is no country and the whole text is the name, as for
//! `--No Registry Entry--` rows. Names may contain commas; invalid UTF-8 is replaced by U+FFFD.
//!
//! A row with only a country (`AS56687       , IQ`, two such rows in the 2021 file) gets an
//! empty name.
//!
//! Rejected, one error per line: a line not starting with `AS` and a number, a number that
//! does not fit 32 bits, and a row with nothing after the number. Blank lines are skipped.

use std::io::BufRead;

use crate::error::{Located, ParseError};
use crate::input::{LineFormat, Parsed, Sink};
use crate::net;

/// One row of an AS-name list.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AsName {
    /// The AS number.
    pub asn: u32,
    /// The row's text without the trailing `, CC` (handle and description, as published);
    /// empty for the rare rows that only carry a country.
    pub name: String,
    /// The ISO 3166 code after the last `", "`, as two ASCII uppercase bytes.
    pub country: Option<[u8; 2]>,
}

impl AsName {
    /// The country code as text.
    pub fn country_str(&self) -> Option<&str> {
        self.country
            .as_ref()
            .and_then(|cc| std::str::from_utf8(cc).ok())
    }
}

/// Streams the rows of an AS-name list.
///
/// ```
/// use ipsieve_sources::asnames;
///
/// let rows = "AS131078      KDDLAB-4OCT KDDI R&D Laboratories, INC., JP\n\
///             AS18253       --No Registry Entry--\n";
/// let names: Vec<_> = asnames::parse(rows.as_bytes(), "asnames").map(Result::unwrap).collect();
/// assert_eq!(names[0].asn, 131078);
/// assert_eq!(names[0].name, "KDDLAB-4OCT KDDI R&D Laboratories, INC.");
/// assert_eq!(names[0].country_str(), Some("JP"));
/// assert_eq!((names[1].name.as_str(), names[1].country), ("--No Registry Entry--", None));
/// ```
///
/// # Errors
/// Items are `Err` for rejected lines (see the [module docs](self)), and a final fatal error
/// when the input cannot be read to its end. Never panics.
pub fn parse<R: BufRead>(
    reader: R,
    source_name: &str,
) -> impl Iterator<Item = Result<AsName, ParseError>> {
    parse_located(reader, source_name).map(|r| r.map(Located::into_record))
}

/// As [`parse`], each record with the line it was read from.
///
/// # Errors
/// As [`parse`].
pub fn parse_located<R: BufRead>(
    reader: R,
    source_name: &str,
) -> impl Iterator<Item = Result<Located<AsName>, ParseError>> {
    Parsed::new(reader, source_name, AsNames)
}

#[derive(Debug)]
struct AsNames;

impl LineFormat for AsNames {
    type Record = AsName;

    fn line(&mut self, text: &str, out: &mut Sink<'_, AsName>) {
        let row = text.trim();
        if row.is_empty() {
            return;
        }
        let Some(rest) = row.strip_prefix("AS") else {
            return out.error("expected \"AS<number>\" at the start of the line", text);
        };
        let digits_end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (number, rest) = rest.split_at(digits_end);
        if number.is_empty() || !(rest.is_empty() || rest.starts_with(char::is_whitespace)) {
            return out.error("expected \"AS<number>\" at the start of the line", text);
        }
        let Some(asn) = net::parse_asn(number) else {
            return out.error("the as number is not a 32-bit number", text);
        };
        let rest = rest.trim();
        if rest.is_empty() {
            return out.error("no as name after the number", text);
        }
        let (name, country) = match rest.rsplit_once(", ") {
            Some((name, cc)) if cc.len() == 2 && cc.bytes().all(|b| b.is_ascii_uppercase()) => {
                let cc = cc.as_bytes();
                (name.trim_end(), Some([cc[0], cc[1]]))
            }
            _ => (rest, None),
        };
        out.record(AsName {
            asn,
            name: name.to_owned(),
            country,
        });
    }
}

/// This format in the [registry](crate::formats): its records, and what each asserts.
pub(crate) struct Parser;

impl crate::formats::Parse for Parser {
    const MODULE: &'static str = "asnames";
    type Record = AsName;

    fn parse(
        reader: Box<dyn BufRead + Send>,
        source: &str,
    ) -> impl Iterator<Item = Result<Located<AsName>, ParseError>> {
        parse_located(reader, source)
    }

    fn entries(r: AsName) -> impl Iterator<Item = crate::formats::Entry> {
        use crate::formats::Entry;
        let country = r.country.map(|cc| Entry::AsCountry(r.asn, cc));
        std::iter::once(Entry::AsName(r.asn, r.name)).chain(country)
    }
}
