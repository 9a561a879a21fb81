//! Public proxy lists: one `ip:port` per line, in the shapes the open lists publish.
//!
//! ```text
//! 85.8.47.198:7080                                  monosans per-protocol files
//! socks4://144.31.222.106:7890                      monosans all.txt (scheme://)
//! 170.239.207.241:999 CO-N-S! +                     clarketm / spys.me (annotations after)
//! 209.126.6.159:80 => failure                       clarketm status file
//! [2001:db8::1]:8080                                IPv6 in brackets
//! ```
//!
//! One [`Proxy`] per entry: the address, the port and the scheme when one is written
//! (`http`, `https`, `socks4`, `socks4a`, `socks5`, `socks5h`). A `user:pass@` part is
//! accepted and dropped (credentials are not kept). Text after the entry, separated by
//! whitespace, is an annotation and is not interpreted: spys.me's country/anonymity flags and
//! the status file's `=> success`/`=> failure` both leave the entry listed, and whether a
//! listed-but-dead proxy still counts is the builder's policy.
//!
//! Skipped silently: blank lines, `#` comments (whole-line or trailing) and free-text lines —
//! a line of several words whose first word has no `:` and does not start with a digit or `[`
//! (the header and footer sentences of spys.me-style lists, such as `Proxy list (#400) updated
//! at …` or `IP address:Port CountryCode-Anonymity…`).
//!
//! Rejected, one error per line: a host name (names are not resolved), an IPv6 address with a
//! port but without brackets (`2001:db8::1:8080` is ambiguous), a missing or out-of-range
//! port (1–65535), an unknown scheme, IPv6 zone ids, IPv4 octets with leading zeros, and any
//! other first word that is not an entry.

use std::io::BufRead;
use std::net::IpAddr;

use crate::error::{Located, ParseError};
use crate::input::{LineFormat, Parsed, Sink};
use crate::net;

/// The protocol a proxy speaks, when the list says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProxyScheme {
    /// `http://`
    Http,
    /// `https://`
    Https,
    /// `socks4://`
    Socks4,
    /// `socks4a://`
    Socks4a,
    /// `socks5://`
    Socks5,
    /// `socks5h://`
    Socks5h,
}

/// One listed open proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Proxy {
    /// The address the proxy listens on (not necessarily the address its traffic leaves from).
    pub address: IpAddr,
    /// The port it listens on.
    pub port: u16,
    /// The protocol, when the entry names one (`socks5://…`).
    pub scheme: Option<ProxyScheme>,
}

/// Streams the proxies of a list.
///
/// ```
/// use ipsieve_sources::proxy::{self, ProxyScheme};
///
/// let list = "Proxy list (#400) updated at Fri, 24 Mar 23 07:58:01 +0300\n\
///             \n\
///             170.239.207.241:999 CO-N-S! + \n\
///             socks4://144.31.222.106:7890\n";
/// let proxies: Vec<_> = proxy::parse(list.as_bytes(), "proxies").map(Result::unwrap).collect();
/// assert_eq!(proxies[0].address.to_string(), "170.239.207.241");
/// assert_eq!(proxies[0].port, 999);
/// assert_eq!(proxies[1].scheme, Some(ProxyScheme::Socks4));
/// ```
///
/// # Errors
/// Items are `Err` for rejected lines (see the [module docs](self)), and a final fatal error
/// when the input cannot be read to its end. Never panics.
pub fn parse<R: BufRead>(
    reader: R,
    source_name: &str,
) -> impl Iterator<Item = Result<Proxy, ParseError>> {
    parse_located(reader, source_name).map(|r| r.map(Located::into_record))
}

/// As [`parse`], each record with the line it was read from.
///
/// # Errors
/// As [`parse`].
pub fn parse_located<R: BufRead>(
    reader: R,
    source_name: &str,
) -> impl Iterator<Item = Result<Located<Proxy>, ParseError>> {
    Parsed::new(reader, source_name, ProxyList)
}

#[derive(Debug)]
struct ProxyList;

impl LineFormat for ProxyList {
    type Record = Proxy;

    fn line(&mut self, text: &str, out: &mut Sink<'_, Proxy>) {
        let body = match text.find('#') {
            Some(i) => &text[..i],
            None => text,
        };
        let mut words = body.split_whitespace();
        let Some(first) = words.next() else {
            return;
        };
        let several = words.next().is_some();
        let entry_like =
            first.contains(':') || first.starts_with(|c: char| c.is_ascii_digit() || c == '[');
        if several && !entry_like {
            return;
        }
        match entry(first) {
            Ok(proxy) => out.record(proxy),
            Err(reason) => out.error(reason, text),
        }
    }
}

/// `[scheme://][user:pass@]host:port[/]`.
fn entry(word: &str) -> Result<Proxy, String> {
    let (scheme, rest) = match word.split_once("://") {
        Some((scheme, rest)) => (Some(parse_scheme(scheme)?), rest),
        None => (None, word),
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let host_port = match rest.rsplit_once('@') {
        Some((_credentials, host_port)) => host_port,
        None => rest,
    };
    let (host, port) = if let Some(bracketed) = host_port.strip_prefix('[') {
        match bracketed.split_once("]:") {
            Some((host, port)) => (host, port),
            None => return Err("expected \"[ipv6]:port\"".to_owned()),
        }
    } else {
        match host_port.rsplit_once(':') {
            Some((host, _)) if host.contains(':') => {
                return Err(
                    if host_port.parse::<std::net::Ipv6Addr>().is_ok()
                        || host.parse::<std::net::Ipv6Addr>().is_ok()
                    {
                        "an ipv6 address with a port must be in brackets: \"[ipv6]:port\""
                            .to_owned()
                    } else {
                        "not an \"ip:port\" entry".to_owned()
                    },
                );
            }
            Some((host, port)) => (host, port),
            None => return Err("missing port: expected \"ip:port\"".to_owned()),
        }
    };
    let address = match net::parse_addr(host) {
        Ok(address) => address,
        Err(_) if is_host_name(host) => {
            return Err("a host name, not an ip address (names are not resolved)".to_owned())
        }
        Err(reason) => return Err(reason),
    };
    let port = match port.parse::<u16>() {
        Ok(p) if p != 0 && port.bytes().all(|b| b.is_ascii_digit()) => p,
        _ => return Err(format!("port {port:?} is not a number from 1 to 65535")),
    };
    Ok(Proxy {
        address,
        port,
        scheme,
    })
}

fn parse_scheme(text: &str) -> Result<ProxyScheme, String> {
    let known = [
        ("http", ProxyScheme::Http),
        ("https", ProxyScheme::Https),
        ("socks4", ProxyScheme::Socks4),
        ("socks4a", ProxyScheme::Socks4a),
        ("socks5", ProxyScheme::Socks5),
        ("socks5h", ProxyScheme::Socks5h),
    ];
    known
        .iter()
        .find(|(name, _)| text.eq_ignore_ascii_case(name))
        .map(|&(_, scheme)| scheme)
        .ok_or_else(|| format!("unknown proxy scheme {:?}", crate::error::truncate(text)))
}

/// Letters, digits, `-` and `.`, with at least one letter: a DNS name rather than a typo'd
/// address.
fn is_host_name(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && text.bytes().any(|b| b.is_ascii_alphabetic())
}

/// This format in the [registry](crate::formats): its records, and what each asserts.
pub(crate) struct Parser;

impl crate::formats::Parse for Parser {
    const MODULE: &'static str = "proxy";
    type Record = Proxy;

    fn parse(
        reader: Box<dyn BufRead + Send>,
        source: &str,
    ) -> impl Iterator<Item = Result<Located<Proxy>, ParseError>> {
        parse_located(reader, source)
    }

    fn entries(r: Proxy) -> impl Iterator<Item = crate::formats::Entry> {
        use crate::formats::Entry;
        std::iter::once(Entry::net(ipnet::IpNet::from(r.address)))
    }
}
