//! TorDNSEL exit lists: the live `exit-addresses` file and its CollecTor archive copies.
//!
//! ```text
//! @type tordnsel 1.0                     (CollecTor copies only)
//! Downloaded 2018-11-02 01:02:01         (CollecTor copies only)
//! ExitNode 0011BD2485AD45D984EC4159C88FC066E5E3300E
//! Published 2018-11-01 17:08:26
//! LastStatus 2018-11-02 00:03:25
//! ExitAddress 162.247.74.201 2018-11-01 18:08:13
//! ```
//!
//! One [`ExitAddress`] record per `ExitAddress` line: a node may have several, and the same
//! address recurs under many fingerprints (deduplicating is the builder's job). All times are
//! UTC.
//!
//! Rejected, each with its own error: a fingerprint that is not 40 hex digits, an address or
//! time that does not parse, `Published`/`LastStatus`/`ExitAddress` before any `ExitNode`, and
//! the `ExitAddress` lines of a block whose `ExitNode` line was rejected. A bad `Published` or
//! `LastStatus` value is reported and leaves that field `None`. Blank lines, `@` annotations,
//! `Downloaded` and any other keyword made of ASCII letters, digits and `-` are skipped
//! silently (newer TorDNSEL versions may add keywords); any other line is rejected.

use std::io::BufRead;
use std::net::IpAddr;

use crate::error::{Located, ParseError};
use crate::input::{LineFormat, Parsed, Sink};
use crate::net;
use crate::time::Timestamp;

/// One exit address of one Tor relay, as measured by TorDNSEL.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExitAddress {
    /// The relay's identity fingerprint: 40 hex digits, uppercase.
    pub fingerprint: String,
    /// When the relay's descriptor was published (`None` if the block had no valid one).
    pub published: Option<Timestamp>,
    /// When the relay was last seen in a consensus (`None` if the block had no valid one).
    pub last_status: Option<Timestamp>,
    /// The address exit connections were seen coming from.
    pub address: IpAddr,
    /// When TorDNSEL last saw an exit connection from `address`.
    pub seen: Timestamp,
}

/// Streams the records of a TorDNSEL exit list (either variant).
///
/// ```
/// use ipsieve_sources::tor;
///
/// let list = "ExitNode fe39f07ebe7870dce124ab30df3abd0700a43f75\n\
///             Published 2024-03-11 13:07:19\n\
///             LastStatus 2024-03-12 08:00:00\n\
///             ExitAddress 185.241.208.232 2024-03-12 08:10:51\n";
/// let exits: Vec<_> = tor::parse(list.as_bytes(), "exit-addresses").collect();
/// let exit = exits[0].as_ref().unwrap();
/// assert_eq!(exit.fingerprint, "FE39F07EBE7870DCE124AB30DF3ABD0700A43F75");
/// assert_eq!(exit.address.to_string(), "185.241.208.232");
/// assert_eq!(exit.seen.to_string(), "2024-03-12T08:10:51Z");
/// ```
///
/// # Errors
/// Items are `Err` for rejected lines (see the [module docs](self)), and a final fatal error
/// when the input cannot be read to its end. Never panics.
pub fn parse<R: BufRead>(
    reader: R,
    source_name: &str,
) -> impl Iterator<Item = Result<ExitAddress, ParseError>> {
    parse_located(reader, source_name).map(|r| r.map(Located::into_record))
}

/// As [`parse`], each record with the line it was read from.
///
/// # Errors
/// As [`parse`].
pub fn parse_located<R: BufRead>(
    reader: R,
    source_name: &str,
) -> impl Iterator<Item = Result<Located<ExitAddress>, ParseError>> {
    Parsed::new(reader, source_name, TorDnsel::default())
}

/// The block being read.
#[derive(Debug, Default)]
enum Block {
    /// No `ExitNode` line yet.
    #[default]
    None,
    /// The `ExitNode` line at this line number was rejected.
    Rejected(u64),
    /// A valid `ExitNode` block.
    Node {
        fingerprint: String,
        published: Option<Timestamp>,
        last_status: Option<Timestamp>,
    },
}

#[derive(Debug, Default)]
struct TorDnsel {
    block: Block,
}

impl LineFormat for TorDnsel {
    type Record = ExitAddress;

    fn line(&mut self, text: &str, out: &mut Sink<'_, ExitAddress>) {
        let mut words = text.split_ascii_whitespace();
        let Some(keyword) = words.next() else {
            return;
        };
        match keyword {
            "ExitNode" => self.exit_node(words.next(), words.next().is_some(), text, out),
            "Published" | "LastStatus" => {
                let time = date_time(words.next(), words.next(), words.next().is_some());
                let Block::Node {
                    published,
                    last_status,
                    ..
                } = &mut self.block
                else {
                    return self.outside_block(keyword, text, out);
                };
                let field = if keyword == "Published" {
                    published
                } else {
                    last_status
                };
                *field = time;
                if time.is_none() {
                    out.error(
                        format!("{keyword} needs a \"YYYY-MM-DD HH:MM:SS\" time"),
                        text,
                    );
                }
            }
            "ExitAddress" => self.exit_address(&mut words, text, out),
            _ if keyword.starts_with('@') => {}
            _ if keyword
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-') => {}
            _ => out.error("not a tordnsel exit-list line", text),
        }
    }
}

impl TorDnsel {
    fn exit_node(
        &mut self,
        fingerprint: Option<&str>,
        extra: bool,
        text: &str,
        out: &mut Sink<'_, ExitAddress>,
    ) {
        match fingerprint {
            Some(fp) if !extra && fp.len() == 40 && fp.bytes().all(|b| b.is_ascii_hexdigit()) => {
                self.block = Block::Node {
                    fingerprint: fp.to_ascii_uppercase(),
                    published: None,
                    last_status: None,
                };
            }
            _ => {
                self.block = Block::Rejected(out.line());
                out.error("ExitNode needs a fingerprint of 40 hex digits", text);
            }
        }
    }

    fn exit_address<'t>(
        &mut self,
        words: &mut impl Iterator<Item = &'t str>,
        text: &str,
        out: &mut Sink<'_, ExitAddress>,
    ) {
        let (fingerprint, published, last_status) = match &self.block {
            Block::Node {
                fingerprint,
                published,
                last_status,
            } => (fingerprint, *published, *last_status),
            _ => return self.outside_block("ExitAddress", text, out),
        };
        let address = match words.next().map(net::parse_addr) {
            Some(Ok(address)) => address,
            Some(Err(reason)) => return out.error(format!("ExitAddress: {reason}"), text),
            None => return out.error("ExitAddress needs an address and a time", text),
        };
        let Some(seen) = date_time(words.next(), words.next(), words.next().is_some()) else {
            return out.error("ExitAddress needs a \"YYYY-MM-DD HH:MM:SS\" time", text);
        };
        out.record(ExitAddress {
            fingerprint: fingerprint.clone(),
            published,
            last_status,
            address,
            seen,
        });
    }

    fn outside_block(&self, keyword: &str, text: &str, out: &mut Sink<'_, ExitAddress>) {
        let reason = match self.block {
            Block::Rejected(line) => {
                format!("{keyword} belongs to the ExitNode block rejected at line {line}")
            }
            _ => format!("{keyword} before any ExitNode line"),
        };
        out.error(reason, text);
    }
}

/// `YYYY-MM-DD HH:MM:SS` from two tokens, with nothing after them.
fn date_time(date: Option<&str>, time: Option<&str>, extra: bool) -> Option<Timestamp> {
    if extra {
        return None;
    }
    Timestamp::from_parts(date?, time?, b':')
}

/// This format in the [registry](crate::formats): its records, and what each asserts.
pub(crate) struct Parser;

impl crate::formats::Parse for Parser {
    const MODULE: &'static str = "tor";
    type Record = ExitAddress;

    fn parse(
        reader: Box<dyn BufRead + Send>,
        source: &str,
    ) -> impl Iterator<Item = Result<Located<ExitAddress>, ParseError>> {
        parse_located(reader, source)
    }

    fn entries(r: ExitAddress) -> impl Iterator<Item = crate::formats::Entry> {
        use crate::formats::Entry;
        std::iter::once(Entry::net(ipnet::IpNet::from(r.address)))
    }

    fn check(r: &ExitAddress) {
        let f = &r.fingerprint;
        let hex = |b: u8| b.is_ascii_digit() || (b'A'..=b'F').contains(&b);
        assert!(f.len() == 40 && f.bytes().all(hex), "fingerprint {f:?}");
    }
}
