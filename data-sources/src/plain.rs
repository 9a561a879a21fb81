//! Plain address lists: one IP address or CIDR network per line (Tor bulk exit lists,
//! SecOps-Institute and doodad-labs lists, first-party VPN lists, X4BNet outputs, iCloud
//! Private Relay ranges).
//!
//! Accepted, each as an [`IpNet`]:
//! * bare addresses, as a /32 or /128 network (`192.0.2.1` → `192.0.2.1/32`);
//! * CIDR networks; one written with host bits set (`192.0.2.1/24`) is truncated to its
//!   network (`192.0.2.0/24`) without an error, as hand-made lists often do this;
//! * IPv6 in any textual form, including fully expanded with zero padding
//!   (`2001:0470:0001:0908:0000:0000:0000:9001`); IPv4-mapped IPv6 (`::ffff:192.0.2.1`) stays
//!   IPv6 (the lookup side answers it like the IPv4 address);
//! * several entries on one line separated by commas (doodad-labs' `.csv` is one such line);
//! * `#` and `;` comments, whole-line or trailing, blank lines and surrounding whitespace.
//!
//! Rejected, one error per entry: IPv6 zone ids (`fe80::1%eth0`), IPv4 octets with leading
//! zeros (`010.1.1.1`: octal or decimal?), prefix lengths that are not 0–32 / 0–128, two
//! entries separated only by spaces, and anything else that is not an address.
//!
//! Networks are yielded as written, including very wide ones such as `0.0.0.0/0`; whether a
//! source may flag that much space is the builder's policy, not a syntax question.

use std::io::BufRead;

use ipnet::IpNet;

use crate::error::{Located, ParseError};
use crate::input::{LineFormat, Parsed, Sink};
use crate::net::{self, HostBits};

/// Streams the networks of a plain address list.
///
/// ```
/// use ipsieve_sources::plain;
///
/// let list = "# exits\n2001:0470:0001:0908:0000:0000:0000:9001\n192.0.2.7/24 ; sloppy\n";
/// let nets: Vec<_> = plain::parse(list.as_bytes(), "list").map(Result::unwrap).collect();
/// assert_eq!(nets[0].to_string(), "2001:470:1:908::9001/128");
/// assert_eq!(nets[1].to_string(), "192.0.2.0/24");
/// ```
///
/// # Errors
/// Items are `Err` for rejected entries (see the [module docs](self)), and a final fatal error
/// when the input cannot be read to its end. Never panics.
pub fn parse<R: BufRead>(
    reader: R,
    source_name: &str,
) -> impl Iterator<Item = Result<IpNet, ParseError>> {
    parse_located(reader, source_name).map(|r| r.map(Located::into_record))
}

/// As [`parse`], each record with the line it was read from.
///
/// # Errors
/// As [`parse`].
pub fn parse_located<R: BufRead>(
    reader: R,
    source_name: &str,
) -> impl Iterator<Item = Result<Located<IpNet>, ParseError>> {
    Parsed::new(reader, source_name, PlainList)
}

#[derive(Debug)]
struct PlainList;

impl LineFormat for PlainList {
    type Record = IpNet;

    fn line(&mut self, text: &str, out: &mut Sink<'_, IpNet>) {
        let body = match text.find(['#', ';']) {
            Some(i) => &text[..i],
            None => text,
        };
        let body = body.trim();
        if body.is_empty() {
            return;
        }
        if !body.contains(',') {
            return entry(body, None, out);
        }
        for (i, item) in body.split(',').enumerate() {
            let item = item.trim();
            if !item.is_empty() {
                entry(item, Some(i + 1), out);
            }
        }
    }
}

/// One entry; `index` is its 1-based position in a comma-separated line.
fn entry(item: &str, index: Option<usize>, out: &mut Sink<'_, IpNet>) {
    let reason = if item.contains(char::is_whitespace) {
        "one address or network per line or comma-separated item".to_owned()
    } else {
        match net::parse_net(item, true, HostBits::Truncate) {
            Ok(net) => return out.record(net),
            Err(reason) => reason,
        }
    };
    match index {
        Some(i) => out.error(format!("{reason} (item {i} of the line)"), item),
        None => out.error(reason, item),
    }
}

/// This format in the [registry](crate::formats): its records, and what each asserts.
pub(crate) struct Parser;

impl crate::formats::Parse for Parser {
    const MODULE: &'static str = "plain";
    type Record = ipnet::IpNet;

    fn parse(
        reader: Box<dyn BufRead + Send>,
        source: &str,
    ) -> impl Iterator<Item = Result<Located<ipnet::IpNet>, ParseError>> {
        parse_located(reader, source)
    }

    fn entries(r: ipnet::IpNet) -> impl Iterator<Item = crate::formats::Entry> {
        use crate::formats::Entry;
        std::iter::once(Entry::net(r))
    }
}
