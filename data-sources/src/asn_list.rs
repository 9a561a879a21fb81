//! AS-number lists, one AS per line with an optional comment: X4BNet `lists_vpn`
//! `input/datacenter/ASN.txt` and `input/vpn/ASN.txt`, and hand-made lists in that style.
//!
//! ```text
//! AS45090 # Tencent cloud computing, they dont really monitor their network
//! AS8560  # IONOS SE
//! AS55286\t# SERVER-MANIA, CA
//! AS42473 # ANEXIA-AS A-9020 # Klagenfurt, AT
//! ```
//!
//! `AS<number>` (the `AS` is optional and case-insensitive), blanks (spaces or a tab, `\t`
//! above), then `#` and a free-text comment that becomes the entry's name; the comment runs to
//! the end of the line and may itself contain `#`. Lines holding only a comment, and blank
//! lines, are skipped. The same AS may be listed twice (the 2026 datacenter list has 906
//! entries for 892 ASes); entries are yielded as written.
//!
//! Rejected, one error per line: anything before the comment that is not one AS number, a
//! number that does not fit 32 bits, and AS 0, which is reserved (RFC 7607) and never
//! originates a route, so listing it can only be a mistake.

use std::io::BufRead;

use crate::addr_range;
use crate::error::{Located, ParseError};
use crate::input::{LineFormat, Parsed, Sink};

/// One listed AS and what the list says about it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AsnEntry {
    /// The AS number (never 0).
    pub asn: u32,
    /// The list's name or comment for it, trimmed; `None` when there is none.
    pub name: Option<String>,
}

/// Streams the entries of an AS-number list.
///
/// ```
/// use ipsieve_sources::asn_list;
///
/// let list = "AS9009 # M247, GB (NordVPN)\nAS8560  # IONOS SE\n# comment only\nAS60729\n";
/// let asns: Vec<_> = asn_list::parse(list.as_bytes(), "x4b-vpn").map(Result::unwrap).collect();
/// assert_eq!(asns[0].asn, 9009);
/// assert_eq!(asns[0].name.as_deref(), Some("M247, GB (NordVPN)"));
/// assert_eq!((asns[2].asn, asns[2].name.as_deref()), (60729, None));
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
    Parsed::new(reader, source_name, AsnList)
}

#[derive(Debug)]
struct AsnList;

impl LineFormat for AsnList {
    type Record = AsnEntry;

    fn line(&mut self, text: &str, out: &mut Sink<'_, AsnEntry>) {
        let (body, comment) = match text.split_once('#') {
            Some((body, comment)) => (body.trim(), Some(comment.trim())),
            None => (text.trim(), None),
        };
        if body.is_empty() {
            return;
        }
        if body.contains(char::is_whitespace) {
            return out.error(
                "expected one \"AS<number>\", then optionally \"#\" and a comment",
                text,
            );
        }
        match entry_asn(body) {
            Ok(asn) => out.record(AsnEntry {
                asn,
                name: comment.filter(|c| !c.is_empty()).map(str::to_owned),
            }),
            Err(reason) => out.error(reason, text),
        }
    }
}

/// An AS number for a list entry: `AS`-prefixed or bare, 32 bits, not 0.
pub(crate) fn entry_asn(text: &str) -> Result<u32, String> {
    match addr_range::parse_asn_field(text, true)? {
        0 => Err("as 0 is reserved (rfc 7607) and never originates a route".to_owned()),
        asn => Ok(asn),
    }
}

/// This format in the [registry](crate::formats): its records, and what each asserts.
pub(crate) struct Parser;

impl crate::formats::Parse for Parser {
    const MODULE: &'static str = "asn_list";
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
