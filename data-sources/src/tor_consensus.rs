//! Tor network-status consensus documents (dir-spec v3), in both flavours: the full ("ns")
//! consensus and the microdescriptor consensus, as cached by a Tor client or archived by
//! CollecTor.
//!
//! ```text
//! @type network-status-consensus-3 1.0            (CollecTor copies only)
//! network-status-version 3                        ("3 microdesc" in the microdesc flavour)
//! vote-status consensus
//! valid-after 2022-11-19 10:00:00
//! fresh-until 2022-11-19 11:00:00
//! valid-until 2022-11-19 13:00:00
//! ...                                             (other header and authority lines)
//! r titamon3 ABElTMhEQ2myDvERVriZBDgiGlQ y/fqWhmFHAgpsHc59tXyQKtcRks 2022-11-18 21:31:58 178.218.144.18 443 0
//! a [2a0b:f4c2:2::33]:10133                        (0..n IPv6 OR addresses)
//! s Exit Fast Guard HSDir Running Stable V2Dir Valid
//! v Tor 0.4.7.10
//! w Bandwidth=38000
//! p accept 20-23,43,53,79-81,88,110,443          (ns flavour only)
//! ...
//! directory-footer
//! ...                                             (bandwidth weights, signatures)
//! ```
//!
//! # Records
//!
//! The stream yields [`ConsensusItem`]s: first one [`ConsensusItem::Header`] with the
//! document's flavour and validity times (`valid-after`, `fresh-until`, `valid-until`, the only
//! meaningful freshness signal), then one [`ConsensusItem::Relay`] per router entry. The
//! header is yielded at the line that completes the three times; when a time is missing or
//! invalid the header is not yielded, and one error says so at the first `r` line, but the
//! relays are still read: a consumer that needs the validity times must treat a stream without
//! a header as unusable.
//!
//! A [`Relay`] is yielded when its entry is complete (at the next `r` line, at
//! `directory-footer`, or at a clean end of input), positioned at its `r` line. Exit relays and
//! relay-only addresses are different facts: [`Relay::is_exit`] is true for the `Exit` flag
//! without `BadExit`; every other relay's addresses are relay (guard, middle, bridge-less
//! directory) addresses, not addresses traffic leaves the network from. The exit address
//! actually measured by TorDNSEL can differ from the OR address here (see [`crate::tor`]).
//!
//! # Accepted and rejected
//!
//! * The first line that is not blank and not an `@` annotation must be
//!   `network-status-version 3` (optionally followed by `microdesc`); otherwise one error is
//!   reported and the rest of the input is ignored (this is not a consensus); an input without
//!   any such line (empty, or only blank lines) is one error about the whole input. A
//!   `vote-status vote` document (an authority's vote) is refused the same way. A CollecTor
//!   `@type` annotation naming another document type is refused the same way; one naming the
//!   other consensus flavour is reported and the `network-status-version` line wins.
//! * `r` lines have 8 fields after the keyword in the ns flavour (nickname, base64 identity,
//!   base64 descriptor digest, date, time, IPv4, ORPort, DirPort) and 7 in the microdesc flavour
//!   (no digest). A bad `r` line (wrong field count, nickname that is not 1–19 letters and
//!   digits, identity that is not base64 of 20 bytes, bad time, address or port) is one error;
//!   the lines of its entry are then skipped silently.
//! * An entry without an `s` line is rejected (its flags, so its exit status, are unknown).
//!   A second `s` or `p` line in one entry is reported and ignored.
//! * `a` lines must be `[IPv6]:port`; a bad one is reported and the relay kept without it. At
//!   most [`MAX_OR_ADDRESSES`] are kept per relay.
//! * `p` lines must be `accept` or `reject` and a comma-separated list of ports and ranges in
//!   ascending, non-overlapping order (1–65535); a bad one is reported and the relay kept
//!   with `exit_policy: None`.
//! * The microdesc flavour writes the placeholder time `2038-01-01 00:00:00` on every `r` line
//!   (consensus method 31 and later); it becomes `published: None`.
//! * Other keywords (`v`, `pr`, `w`, `m`, header and authority lines) are skipped, as is
//!   everything after `directory-footer` and every `-----BEGIN …-----`/`-----END …-----`
//!   object. A line that is not a keyword (letters, digits, `-`) is rejected.

use std::io::BufRead;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddrV6};
use std::ops::RangeInclusive;

use crate::error::{Located, ParseError};
use crate::input::{LineFormat, Parsed, Sink};
use crate::time::Timestamp;

/// Most `a` (IPv6 OR address) lines kept for one relay; more are reported as errors.
pub const MAX_OR_ADDRESSES: usize = 8;

/// The placeholder the microdesc flavour writes as every relay's publication time.
const PLACEHOLDER_PUBLISHED: Timestamp = Timestamp(2_145_916_800); // 2038-01-01 00:00:00

/// One item of a consensus stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsensusItem {
    /// The document's flavour and validity; yielded once, before the relays.
    Header(ConsensusHeader),
    /// One router entry.
    Relay(Relay),
}

impl ConsensusItem {
    /// The relay, if this item is one.
    pub fn into_relay(self) -> Option<Relay> {
        match self {
            ConsensusItem::Relay(relay) => Some(relay),
            ConsensusItem::Header(_) => None,
        }
    }
}

/// Which consensus flavour a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flavour {
    /// The full consensus (`network-status-version 3`), with descriptor digests and `p` lines.
    Ns,
    /// The microdescriptor consensus (`network-status-version 3 microdesc`).
    Microdesc,
}

/// The header facts of a consensus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConsensusHeader {
    /// The flavour named by `network-status-version`.
    pub flavour: Flavour,
    /// The `consensus-method` number, if the line was present and valid.
    pub consensus_method: Option<u32>,
    /// Start of the validity interval.
    pub valid_after: Timestamp,
    /// After this a newer consensus should exist.
    pub fresh_until: Timestamp,
    /// After this the document must not be used.
    pub valid_until: Timestamp,
}

/// The flags of a relay's `s` line that matter here; unknown flags are ignored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct RelayFlags {
    /// `Authority`: a directory authority.
    pub authority: bool,
    /// `BadExit`: the authorities judged its exit traffic bad; clients do not exit through it.
    pub bad_exit: bool,
    /// `Exit`: its policy allows exiting to common ports.
    pub exit: bool,
    /// `Fast`.
    pub fast: bool,
    /// `Guard`: suitable as an entry guard.
    pub guard: bool,
    /// `HSDir`: an onion-service directory.
    pub hsdir: bool,
    /// `MiddleOnly`: restricted to the middle position.
    pub middle_only: bool,
    /// `Running`: reachable at the last check.
    pub running: bool,
    /// `Stable`.
    pub stable: bool,
    /// `StaleDesc`: its descriptor is old.
    pub stale_desc: bool,
    /// `V2Dir`: serves directory information.
    pub v2dir: bool,
    /// `Valid`: a validated relay.
    pub valid: bool,
}

/// An exit-policy summary (`p` line): the ports the relay accepts or rejects exiting to, for
/// most destination addresses.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PortPolicy {
    /// `accept`: exits are allowed to exactly `ports`; `reject`: to every port but `ports`.
    pub accept: bool,
    /// Ascending, non-overlapping port ranges (a single port is `p..=p`).
    pub ports: Vec<RangeInclusive<u16>>,
}

impl PortPolicy {
    /// Whether the summary allows exiting to `port`.
    ///
    /// ```
    /// use ipsieve_sources::tor_consensus::PortPolicy;
    ///
    /// let policy = PortPolicy { accept: false, ports: vec![22..=22, 25..=25] };
    /// assert!(policy.allows(443));
    /// assert!(!policy.allows(25));
    /// ```
    pub fn allows(&self, port: u16) -> bool {
        let listed = self
            .ports
            .binary_search_by(|r| {
                if *r.end() < port {
                    std::cmp::Ordering::Less
                } else if *r.start() > port {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Equal
                }
            })
            .is_ok();
        port != 0 && listed == self.accept
    }

    /// Whether the summary allows exiting to at least one port (`reject 1-65535` does not).
    pub fn allows_any(&self) -> bool {
        if self.accept {
            return !self.ports.is_empty();
        }
        let covered: u32 = self
            .ports
            .iter()
            .map(|r| u32::from(*r.end()) - u32::from(*r.start()) + 1)
            .sum();
        covered < 65_535
    }
}

/// One router entry of a consensus.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Relay {
    /// The relay's nickname (1–19 ASCII letters and digits; not unique).
    pub nickname: String,
    /// The identity fingerprint: 40 hex digits, uppercase (as TorDNSEL writes it).
    pub fingerprint: String,
    /// When its descriptor was published; `None` for the microdesc placeholder
    /// `2038-01-01 00:00:00`.
    pub published: Option<Timestamp>,
    /// The IPv4 OR address.
    pub address: Ipv4Addr,
    /// The OR port.
    pub or_port: u16,
    /// The directory port, 0 for none.
    pub dir_port: u16,
    /// IPv6 OR addresses from the `a` lines (at most [`MAX_OR_ADDRESSES`]).
    pub ipv6: Vec<SocketAddrV6>,
    /// The `s` line flags.
    pub flags: RelayFlags,
    /// The `p` line (ns flavour only); `None` when absent or rejected.
    pub exit_policy: Option<PortPolicy>,
}

impl Relay {
    /// An exit relay: the `Exit` flag without `BadExit`. All other relays are relay-only.
    pub fn is_exit(&self) -> bool {
        self.flags.exit && !self.flags.bad_exit
    }

    /// The IPv4 address, then the IPv6 ones.
    pub fn addresses(&self) -> impl Iterator<Item = IpAddr> + '_ {
        std::iter::once(IpAddr::V4(self.address))
            .chain(self.ipv6.iter().map(|a| IpAddr::V6(*a.ip())))
    }
}

/// Streams the header and relays of a consensus (either flavour, with or without the
/// CollecTor annotation).
///
/// ```
/// use ipsieve_sources::tor_consensus::{self, ConsensusItem, Flavour};
///
/// let doc = "network-status-version 3 microdesc\n\
///            valid-after 2024-05-17 17:00:00\n\
///            fresh-until 2024-05-17 18:00:00\n\
///            valid-until 2024-05-17 20:00:00\n\
///            r tor4novgnet AAw1H4YDNlSoLZ/WrDsXj0TiNr4 2038-01-01 00:00:00 5.196.8.113 9001 0\n\
///            a [2001:41d0:404:300::dd2]:9001\n\
///            s Exit Fast Guard HSDir Running Stable V2Dir Valid\n\
///            directory-footer\n";
/// let items: Vec<_> = tor_consensus::parse(doc.as_bytes(), "consensus")
///     .map(Result::unwrap)
///     .collect();
/// let ConsensusItem::Header(header) = &items[0] else { panic!() };
/// assert_eq!(header.flavour, Flavour::Microdesc);
/// assert_eq!(header.valid_until.to_string(), "2024-05-17T20:00:00Z");
/// let ConsensusItem::Relay(relay) = &items[1] else { panic!() };
/// assert_eq!(relay.fingerprint, "000C351F86033654A82D9FD6AC3B178F44E236BE");
/// assert!(relay.is_exit());
/// assert_eq!(relay.published, None);
/// assert_eq!(relay.ipv6[0].to_string(), "[2001:41d0:404:300::dd2]:9001");
/// ```
///
/// # Errors
/// Items are `Err` for rejected entries and lines (see the [module docs](self)), and a final
/// fatal error when the input cannot be read to its end (the relay being read then is
/// dropped). Never panics.
pub fn parse<R: BufRead>(
    reader: R,
    source_name: &str,
) -> impl Iterator<Item = Result<ConsensusItem, ParseError>> {
    parse_located(reader, source_name).map(|r| r.map(Located::into_record))
}

/// As [`parse`], each item with the line it starts at (a relay's `r` line).
///
/// # Errors
/// As [`parse`].
pub fn parse_located<R: BufRead>(
    reader: R,
    source_name: &str,
) -> impl Iterator<Item = Result<Located<ConsensusItem>, ParseError>> {
    Parsed::new(reader, source_name, Consensus::default())
}

/// Where in the document the parser is.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Section {
    /// Before `network-status-version`.
    #[default]
    Start,
    /// Header and authority lines.
    Preamble,
    /// Router entries.
    Routers,
    /// After `directory-footer`.
    Footer,
    /// Not a consensus: everything is ignored.
    Dead,
}

/// A relay entry being read.
#[derive(Debug)]
struct Pending {
    line: u64,
    relay: Relay,
    has_flags: bool,
    has_policy: bool,
}

#[derive(Debug, Default)]
struct Consensus {
    section: Section,
    flavour: Option<Flavour>,
    /// The flavour the CollecTor `@type` line announced.
    annotated: Option<Flavour>,
    in_object: bool,
    method: Option<u32>,
    valid_after: Option<Timestamp>,
    fresh_until: Option<Timestamp>,
    valid_until: Option<Timestamp>,
    header_done: bool,
    pending: Option<Pending>,
    /// The text of the pending relay's `r` line, for quoting (buffer reused).
    r_text: String,
    /// The entry being skipped after its `r` line was rejected.
    skipping: bool,
}

type Out<'a> = Sink<'a, ConsensusItem>;

impl LineFormat for Consensus {
    type Record = ConsensusItem;

    fn line(&mut self, text: &str, out: &mut Out<'_>) {
        if self.in_object {
            if text.starts_with("-----END ") {
                self.in_object = false;
            }
            return;
        }
        if text.starts_with("-----BEGIN ") {
            self.in_object = true;
            return;
        }
        let mut words = text.split_ascii_whitespace();
        let Some(keyword) = words.next() else {
            return;
        };
        match self.section {
            Section::Dead | Section::Footer => {}
            Section::Start => self.start(keyword, &mut words, text, out),
            Section::Preamble | Section::Routers => self.body(keyword, &mut words, text, out),
        }
    }

    fn finish(&mut self, out: &mut Out<'_>) {
        if self.in_object {
            out.error("the input ends inside a -----BEGIN object", "");
        }
        match self.section {
            Section::Start => out.error_whole(
                "empty input: not a tor consensus (no \"network-status-version 3\" line)",
            ),
            Section::Preamble => self.check_header(out),
            _ => {}
        }
        self.flush(out);
    }
}

impl Consensus {
    fn start<'t>(
        &mut self,
        keyword: &str,
        words: &mut impl Iterator<Item = &'t str>,
        text: &str,
        out: &mut Out<'_>,
    ) {
        if keyword == "@type" {
            match words.next() {
                Some("network-status-consensus-3") => self.annotated = Some(Flavour::Ns),
                Some("network-status-microdesc-consensus-3") => {
                    self.annotated = Some(Flavour::Microdesc);
                }
                _ => self.refuse(
                    "not a tor consensus: the CollecTor @type names another kind of document",
                    text,
                    out,
                ),
            }
            return;
        }
        if keyword.starts_with('@') {
            return;
        }
        if keyword != "network-status-version" {
            return self.refuse(
                "not a tor consensus: the first line must be \"network-status-version 3\"",
                text,
                out,
            );
        }
        let flavour = match (words.next(), words.next(), words.next()) {
            (Some("3"), None, None) => Flavour::Ns,
            (Some("3"), Some("microdesc"), None) => Flavour::Microdesc,
            _ => {
                return self.refuse(
                    "unsupported consensus: expected \"network-status-version 3\" or \
                     \"network-status-version 3 microdesc\"",
                    text,
                    out,
                )
            }
        };
        if let Some(annotated) = self.annotated {
            if annotated != flavour {
                out.error(
                    format!(
                        "the CollecTor @type says {} but the document is {}; reading it as {}",
                        flavour_name(annotated),
                        flavour_name(flavour),
                        flavour_name(flavour)
                    ),
                    text,
                );
            }
        }
        self.flavour = Some(flavour);
        self.section = Section::Preamble;
    }

    fn refuse(&mut self, reason: &str, text: &str, out: &mut Out<'_>) {
        out.error(reason, text);
        self.section = Section::Dead;
    }

    fn body<'t>(
        &mut self,
        keyword: &str,
        words: &mut impl Iterator<Item = &'t str>,
        text: &str,
        out: &mut Out<'_>,
    ) {
        match keyword {
            "r" => self.router(words, text, out),
            "directory-footer" | "directory-signature" => {
                if self.section == Section::Preamble {
                    self.check_header(out);
                }
                self.flush(out);
                self.section = Section::Footer;
            }
            _ if self.section == Section::Preamble => self.preamble(keyword, words, text, out),
            _ if self.skipping => {}
            "a" => self.or_address(words, text, out),
            "s" => self.flags(words, text, out),
            "p" => self.policy(words, text, out),
            _ if is_keyword(keyword) => {}
            _ => out.error("not a consensus line", text),
        }
    }

    fn preamble<'t>(
        &mut self,
        keyword: &str,
        words: &mut impl Iterator<Item = &'t str>,
        text: &str,
        out: &mut Out<'_>,
    ) {
        let slot = match keyword {
            "valid-after" => &mut self.valid_after,
            "fresh-until" => &mut self.fresh_until,
            "valid-until" => &mut self.valid_until,
            "consensus-method" => {
                match one_word(words).and_then(|w| w.parse::<u32>().ok()) {
                    Some(n) if self.method.is_none() => self.method = Some(n),
                    Some(_) => out.error("second consensus-method line", text),
                    None => out.error("consensus-method needs one number", text),
                }
                return;
            }
            "vote-status" => {
                if one_word(words) != Some("consensus") {
                    self.refuse(
                        "not a consensus: vote-status must be \"consensus\" (this looks like a vote)",
                        text,
                        out,
                    );
                }
                return;
            }
            "a" | "s" | "p" | "m" | "w" | "v" | "pr" => {
                return out.error(format!("{keyword} line before any r line"), text);
            }
            _ if is_keyword(keyword) => return,
            _ => return out.error("not a consensus line", text),
        };
        let time = match (words.next(), words.next(), words.next()) {
            (Some(date), Some(time), None) => Timestamp::from_parts(date, time, b':'),
            _ => None,
        };
        match time {
            Some(_) if slot.is_some() => out.error(format!("second {keyword} line"), text),
            Some(time) => {
                *slot = Some(time);
                if let (Some(after), Some(fresh), Some(until)) =
                    (self.valid_after, self.fresh_until, self.valid_until)
                {
                    self.header_done = true;
                    if after <= fresh && fresh <= until {
                        out.record(ConsensusItem::Header(ConsensusHeader {
                            flavour: self.flavour.unwrap_or(Flavour::Ns),
                            consensus_method: self.method,
                            valid_after: after,
                            fresh_until: fresh,
                            valid_until: until,
                        }));
                    } else {
                        out.error(
                            "validity times out of order (need valid-after <= fresh-until <= \
                             valid-until); no header",
                            text,
                        );
                    }
                }
            }
            None => out.error(
                format!("{keyword} needs a \"YYYY-MM-DD HH:MM:SS\" time"),
                text,
            ),
        }
    }

    /// At the end of the header: one error if it was not complete.
    fn check_header(&mut self, out: &mut Out<'_>) {
        if self.header_done {
            return;
        }
        self.header_done = true;
        let missing: Vec<&str> = [
            ("valid-after", self.valid_after),
            ("fresh-until", self.fresh_until),
            ("valid-until", self.valid_until),
        ]
        .iter()
        .filter(|(_, t)| t.is_none())
        .map(|(k, _)| *k)
        .collect();
        out.error(
            format!(
                "consensus header without a valid {}; its validity is unknown, no header",
                missing.join(", ")
            ),
            "",
        );
    }

    /// Yields (or rejects) the relay being read.
    fn flush(&mut self, out: &mut Out<'_>) {
        self.skipping = false;
        let Some(pending) = self.pending.take() else {
            return;
        };
        if pending.has_flags {
            out.record_at(pending.line, ConsensusItem::Relay(pending.relay));
        } else {
            out.error_at(
                pending.line,
                "relay entry without an s (flags) line; its exit status is unknown, skipped",
                &self.r_text,
            );
        }
    }

    fn router<'t>(
        &mut self,
        words: &mut impl Iterator<Item = &'t str>,
        text: &str,
        out: &mut Out<'_>,
    ) {
        if self.section == Section::Preamble {
            self.check_header(out);
            self.section = Section::Routers;
        }
        self.flush(out);
        let flavour = self.flavour.unwrap_or(Flavour::Ns);
        match parse_r(words, flavour) {
            Ok(relay) => {
                self.r_text.clear();
                self.r_text.push_str(text);
                self.pending = Some(Pending {
                    line: out.line(),
                    relay,
                    has_flags: false,
                    has_policy: false,
                });
            }
            Err(reason) => {
                self.skipping = true;
                out.error(reason, text);
            }
        }
    }

    fn or_address<'t>(
        &mut self,
        words: &mut impl Iterator<Item = &'t str>,
        text: &str,
        out: &mut Out<'_>,
    ) {
        let Some(pending) = &mut self.pending else {
            return out.error("a line outside a relay entry", text);
        };
        let addr = match one_word(words) {
            Some(w) => parse_bracketed(w),
            None => Err("a line needs one \"[IPv6]:port\" address".to_owned()),
        };
        match addr {
            Ok(_) if pending.relay.ipv6.len() >= MAX_OR_ADDRESSES => out.error(
                format!("more than {MAX_OR_ADDRESSES} a lines for one relay; extra ones ignored"),
                text,
            ),
            Ok(addr) => pending.relay.ipv6.push(addr),
            Err(reason) => out.error(reason, text),
        }
    }

    fn flags<'t>(
        &mut self,
        words: &mut impl Iterator<Item = &'t str>,
        text: &str,
        out: &mut Out<'_>,
    ) {
        let Some(pending) = &mut self.pending else {
            return out.error("s line outside a relay entry", text);
        };
        if pending.has_flags {
            return out.error("second s line in one relay entry; ignored", text);
        }
        pending.has_flags = true;
        let f = &mut pending.relay.flags;
        for word in words {
            let flag = match word {
                "Authority" => &mut f.authority,
                "BadExit" => &mut f.bad_exit,
                "Exit" => &mut f.exit,
                "Fast" => &mut f.fast,
                "Guard" => &mut f.guard,
                "HSDir" => &mut f.hsdir,
                "MiddleOnly" => &mut f.middle_only,
                "Running" => &mut f.running,
                "Stable" => &mut f.stable,
                "StaleDesc" => &mut f.stale_desc,
                "V2Dir" => &mut f.v2dir,
                "Valid" => &mut f.valid,
                _ => continue,
            };
            *flag = true;
        }
    }

    fn policy<'t>(
        &mut self,
        words: &mut impl Iterator<Item = &'t str>,
        text: &str,
        out: &mut Out<'_>,
    ) {
        let Some(pending) = &mut self.pending else {
            return out.error("p line outside a relay entry", text);
        };
        if pending.has_policy {
            return out.error("second p line in one relay entry; ignored", text);
        }
        pending.has_policy = true;
        let accept = match words.next() {
            Some("accept") => true,
            Some("reject") => false,
            _ => {
                return out.error(
                    "p line needs \"accept\" or \"reject\" and a port list",
                    text,
                )
            }
        };
        let Some(list) = one_word(words) else {
            return out.error("p line needs one comma-separated port list", text);
        };
        match parse_ports(list) {
            Ok(ports) => pending.relay.exit_policy = Some(PortPolicy { accept, ports }),
            Err(reason) => out.error(format!("p line: {reason}"), text),
        }
    }
}

fn flavour_name(flavour: Flavour) -> &'static str {
    match flavour {
        Flavour::Ns => "an ns consensus",
        Flavour::Microdesc => "a microdesc consensus",
    }
}

/// A dir-spec keyword: ASCII letters, digits and `-`.
fn is_keyword(word: &str) -> bool {
    word.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// The next word when it is the last one.
fn one_word<'t>(words: &mut impl Iterator<Item = &'t str>) -> Option<&'t str> {
    let word = words.next()?;
    words.next().is_none().then_some(word)
}

/// The fields of an `r` line after the keyword.
fn parse_r<'t>(
    words: &mut impl Iterator<Item = &'t str>,
    flavour: Flavour,
) -> Result<Relay, String> {
    let mut fields = [""; 8];
    let mut n = 0;
    for word in words {
        if let Some(slot) = fields.get_mut(n) {
            *slot = word;
        }
        n += 1;
    }
    let want = match flavour {
        Flavour::Ns => 8,
        Flavour::Microdesc => 7,
    };
    if n != want {
        let layout = match flavour {
            Flavour::Ns => "nickname identity digest date time address orport dirport",
            Flavour::Microdesc => "nickname identity date time address orport dirport",
        };
        return Err(format!(
            "r line has {n} fields; {} has {want} ({layout})",
            flavour_name(flavour)
        ));
    }
    let (nickname, identity) = (fields[0], fields[1]);
    let rest = match flavour {
        Flavour::Ns => {
            if decode_digest(fields[2]).is_none() {
                return Err("r line: descriptor digest is not base64 of 20 bytes".to_owned());
            }
            &fields[3..8]
        }
        Flavour::Microdesc => &fields[2..7],
    };
    let (date, time, address, or_port, dir_port) = (rest[0], rest[1], rest[2], rest[3], rest[4]);
    if nickname.is_empty()
        || nickname.len() > 19
        || !nickname.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err("r line: nickname must be 1 to 19 ascii letters and digits".to_owned());
    }
    let Some(id) = decode_digest(identity) else {
        return Err("r line: identity is not base64 of 20 bytes".to_owned());
    };
    let Some(published) = Timestamp::from_parts(date, time, b':') else {
        return Err("r line: publication time is not \"YYYY-MM-DD HH:MM:SS\"".to_owned());
    };
    let Ok(address) = address.parse::<Ipv4Addr>() else {
        return Err(format!("r line: {address:?} is not an ipv4 address"));
    };
    let or_port = match parse_port(or_port) {
        Some(p) if p != 0 => p,
        _ => return Err("r line: orport must be a number from 1 to 65535".to_owned()),
    };
    let Some(dir_port) = parse_port(dir_port) else {
        return Err("r line: dirport must be a number from 0 to 65535".to_owned());
    };
    let mut fingerprint = String::with_capacity(40);
    for b in id {
        fingerprint.push(char::from(HEX[usize::from(b >> 4)]));
        fingerprint.push(char::from(HEX[usize::from(b & 15)]));
    }
    Ok(Relay {
        nickname: nickname.to_owned(),
        fingerprint,
        published: (published != PLACEHOLDER_PUBLISHED).then_some(published),
        address,
        or_port,
        dir_port,
        ipv6: Vec::new(),
        flags: RelayFlags::default(),
        exit_policy: None,
    })
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Decodes unpadded (or `=`-padded) standard base64 of exactly 20 bytes, as dir-spec writes
/// identities and digests; the unused low bits must be zero.
fn decode_digest(text: &str) -> Option<[u8; 20]> {
    let text = text.strip_suffix('=').unwrap_or(text);
    if text.len() != 27 {
        return None;
    }
    let mut out = [0u8; 20];
    let mut acc: u32 = 0;
    let mut bits = 0;
    let mut n = 0;
    for b in text.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            *out.get_mut(n)? = (acc >> bits) as u8;
            n += 1;
            acc &= (1 << bits) - 1;
        }
    }
    (n == 20 && acc == 0).then_some(out)
}

/// A decimal port, 0–65535, no sign, at most 5 digits.
fn parse_port(text: &str) -> Option<u16> {
    if text.is_empty() || text.len() > 5 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// `[IPv6]:port` with a nonzero port.
fn parse_bracketed(text: &str) -> Result<SocketAddrV6, String> {
    let Some((addr, port)) = text.strip_prefix('[').and_then(|t| t.split_once("]:")) else {
        return Err("a line: expected \"[IPv6]:port\"".to_owned());
    };
    let Ok(ip) = addr.parse::<Ipv6Addr>() else {
        return Err(format!("a line: {addr:?} is not an ipv6 address"));
    };
    match parse_port(port) {
        Some(p) if p != 0 => Ok(SocketAddrV6::new(ip, p, 0, 0)),
        _ => Err("a line: port must be a number from 1 to 65535".to_owned()),
    }
}

/// `N` and `N-M` items, comma-separated, ascending and non-overlapping, within 1–65535.
fn parse_ports(list: &str) -> Result<Vec<RangeInclusive<u16>>, String> {
    let mut ports: Vec<RangeInclusive<u16>> = Vec::new();
    for item in list.split(',') {
        let (lo, hi) = match item.split_once('-') {
            Some((lo, hi)) => (parse_port(lo), parse_port(hi)),
            None => (parse_port(item), parse_port(item)),
        };
        let (Some(lo), Some(hi)) = (lo, hi) else {
            return Err(format!(
                "{:?} is not a port or port range",
                crate::error::truncate(item)
            ));
        };
        if lo == 0 || lo > hi {
            return Err(format!("{item:?} is not a port range within 1-65535"));
        }
        if let Some(last) = ports.last() {
            if lo <= *last.end() {
                return Err(format!("{item:?} is out of ascending order"));
            }
        }
        ports.push(lo..=hi);
    }
    Ok(ports)
}

/// This format in the [registry](crate::formats): its records, and what each asserts.
pub(crate) struct Parser;

impl crate::formats::Parse for Parser {
    const MODULE: &'static str = "tor_consensus";
    type Record = ConsensusItem;

    fn parse(
        reader: Box<dyn BufRead + Send>,
        source: &str,
    ) -> impl Iterator<Item = Result<Located<ConsensusItem>, ParseError>> {
        parse_located(reader, source)
    }

    fn entries(r: ConsensusItem) -> impl Iterator<Item = crate::formats::Entry> {
        use crate::formats::{Attrs, Entry};
        let relay = match r {
            ConsensusItem::Header(_) => None,
            ConsensusItem::Relay(relay) => Some(relay),
        };
        // Exits and relay-only addresses are different facts: never both.
        let categories = match &relay {
            Some(relay) if relay.is_exit() => ipsieve::Categories::TOR_EXIT,
            _ => ipsieve::Categories::TOR_RELAY,
        };
        let addresses: Vec<IpAddr> = relay.iter().flat_map(|r| r.addresses()).collect();
        addresses.into_iter().map(move |ip| {
            let attrs = Attrs {
                categories,
                ..Attrs::default()
            };
            Entry::Net(ipnet::IpNet::from(ip), attrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_decode_like_base64() {
        let id = decode_digest("AAoQ1DAR6kkoo19hBAX5K0QztNw").unwrap();
        assert_eq!(id[..3], [0x00, 0x0A, 0x10]);
        assert!(decode_digest("AAoQ1DAR6kkoo19hBAX5K0QztNw=").is_some());
        // The last character carries 2 unused bits, which must be zero.
        assert!(decode_digest("AAoQ1DAR6kkoo19hBAX5K0QztNx").is_none());
        assert!(decode_digest("AAoQ1DAR6kkoo19hBAX5K0QztN").is_none());
        assert!(decode_digest("AAoQ1DAR6kkoo19hBAX5K0QztN!").is_none());
    }

    #[test]
    fn port_lists() {
        assert_eq!(parse_ports("1-65535").unwrap(), [1..=65535]);
        assert_eq!(parse_ports("22,25").unwrap(), [22..=22, 25..=25]);
        assert!(parse_ports("25,22").is_err());
        assert!(parse_ports("20-30,25").is_err());
        assert!(parse_ports("0").is_err());
        assert!(parse_ports("30-20").is_err());
        assert!(parse_ports("").is_err());
        assert!(parse_ports("1,,2").is_err());
        assert!(parse_ports("65536").is_err());
        assert!(parse_ports("+5").is_err());
    }

    #[test]
    fn placeholder_is_2038() {
        assert_eq!(
            Timestamp::parse_date_time("2038-01-01 00:00:00"),
            Some(PLACEHOLDER_PUBLISHED)
        );
    }
}
