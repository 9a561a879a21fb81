//! brianhama `bad-asn-list.csv`: hosting, datacenter and VPN ASNs with the entity's name.
//!
//! ```text
//! ASN,Entity
//! 198375,"INULOGIC SARL, FR"
//! 51447, "RootLayer Web Services Ltd, NL"
//! 20264,WEBAIR-INTERNET-2 - Webair Internet Development Company Inc.
//! "20248","Take 2 Hosting, Inc."
//! ```
//!
//! A header line `ASN,Entity` (recognised by its first field, case-insensitively, when it is the
//! first non-blank line), then `ASN,Entity` rows. Either field may be quoted; the entity is
//! usually `"NAME, CC"` and kept whole as the entry's name. **The quirk:** at least one row has a
//! space between the comma and the opening quote (`51447, "RootLayer …"`), which strict RFC 4180
//! parsers split into three fields with literal quotes; blanks before an opening quote are
//! dropped here, so that row reads like the others. Fields are trimmed.
//!
//! Rejected, one error per line: more than two fields, an unbalanced quote, an AS number that
//! is not decimal (an `AS` prefix is accepted) or does not fit 32 bits, and AS 0. A row with
//! only the AS number gets no name. Blank lines are skipped; entries are yielded as written
//! (repeats included).

use std::io::BufRead;

use crate::asn_list::{entry_asn, AsnEntry};
use crate::csv_line::CsvLine;
use crate::error::{Located, ParseError};
use crate::input::{LineFormat, Parsed, Sink};

/// Streams the entries of a `bad-asn-list.csv`.
///
/// ```
/// use ipsieve_sources::bad_asn;
///
/// let csv = "ASN,Entity\n198375,\"INULOGIC SARL, FR\"\n51447, \"RootLayer Web Services Ltd, NL\"\n";
/// let asns: Vec<_> = bad_asn::parse(csv.as_bytes(), "bad-asn").map(Result::unwrap).collect();
/// assert_eq!(asns.len(), 2);
/// assert_eq!(asns[1].asn, 51447);
/// assert_eq!(asns[1].name.as_deref(), Some("RootLayer Web Services Ltd, NL"));
/// ```
///
/// # Errors
/// Items are `Err` for rejected lines (see the [module docs](self)), and a final fatal error
/// when the input cannot be read to its end. Never panics.
pub fn parse<R: BufRead>(
    reader: R,
    source_name: &str,
) -> impl Iterator<Item = Result<AsnEntry, ParseError>> {
    parse_located(reader, source_name).map(|r| r.map(Located::into_record))
}

/// As [`parse`], each record with the line it was read from.
///
/// # Errors
/// As [`parse`].
pub fn parse_located<R: BufRead>(
    reader: R,
    source_name: &str,
) -> impl Iterator<Item = Result<Located<AsnEntry>, ParseError>> {
    let format = BadAsn {
        csv: CsvLine::new().space_before_quote(),
        seen_data: false,
    };
    Parsed::new(reader, source_name, format)
}

#[derive(Debug)]
struct BadAsn {
    csv: CsvLine,
    /// A non-blank line was read: a header can no longer appear.
    seen_data: bool,
}

impl LineFormat for BadAsn {
    type Record = AsnEntry;

    fn line(&mut self, text: &str, out: &mut Sink<'_, AsnEntry>) {
        if text.trim().is_empty() {
            return;
        }
        let first = !std::mem::replace(&mut self.seen_data, true);
        let fields = match self.csv.split(text) {
            Ok(fields) => fields,
            Err(reason) => return out.error(reason, text),
        };
        let asn = fields.get(0).unwrap_or_default();
        if first && asn.eq_ignore_ascii_case("asn") {
            return;
        }
        if fields.len() > 2 {
            return out.error(
                format!(
                    "expected two fields: as number, entity (found {})",
                    fields.len()
                ),
                text,
            );
        }
        match entry_asn(asn) {
            Ok(asn) => {
                let name = fields.get(1).filter(|n| !n.is_empty()).map(str::to_owned);
                out.record(AsnEntry { asn, name });
            }
            Err(reason) => out.error(reason, text),
        }
    }
}

/// This format in the [registry](crate::formats): its records, and what each asserts.
pub(crate) struct Parser;

impl crate::formats::Parse for Parser {
    const MODULE: &'static str = "bad_asn";
    type Record = AsnEntry;

    fn parse(
        reader: Box<dyn BufRead + Send>,
        source: &str,
    ) -> impl Iterator<Item = Result<Located<AsnEntry>, ParseError>> {
        parse_located(reader, source)
    }

    fn entries(r: AsnEntry) -> impl Iterator<Item = crate::formats::Entry> {
        use crate::formats::Entry;
        std::iter::once(Entry::Asn(r.asn))
    }
}
