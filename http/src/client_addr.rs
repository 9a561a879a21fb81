//! Which address a request comes from: the socket peer, or a forwarding header that only
//! configured proxies are trusted to set.
//!
//! # The rule
//! A [`ClientIpConfig`] names one source. With [`ClientIpSource::Socket`] the client is the
//! TCP peer, and no header is ever read. With [`ClientIpSource::Header`] the header is read
//! **only when the peer is inside one of the trusted proxy networks**; a request from any
//! other peer is judged by its own socket address, whatever headers it carries (a client
//! cannot claim to be someone else by sending `X-Forwarded-For`).
//!
//! For the hop lists (`X-Forwarded-For`, `Forwarded`) the client is the **rightmost untrusted
//! hop**: each proxy appends the address it received the request from, so, reading from the
//! right, every entry written by one of your proxies is skipped (it lies inside a trusted
//! network) and the first entry that does not is the client. Everything further left was
//! written by the client itself and is never read, let alone believed. With one proxy layer
//! in front (the usual case) that is simply the rightmost entry. The single-address headers
//! (`CF-Connecting-IP`, `X-Real-IP`, …) are taken as they are, and must occur exactly once.
//!
//! A trusted peer whose header is missing or unusable (a health check sent by the proxy
//! itself, a misconfigured proxy) is judged by its own address:
//! [`AddrSource::ProxyWithoutHeader`].
//!
//! # Why `client-ip`
//! Headers are parsed by the [`client_ip`] crate (and, for `Forwarded`, by the RFC 7239
//! parser it uses, `forwarded-header-value`), not by hand. Of the two maintained candidates, `axum-client-ip`
//! is an axum *extractor*: it runs in handlers, needs its source as an axum `Extension` and
//! pulls axum in, and it is itself a thin wrapper over `client-ip`. `client-ip` takes an
//! `http::HeaderMap` and returns an `IpAddr`, so this layer works under axum, tonic, hyper or
//! any other tower stack, and shares its security-sensitive parsing (last header line for
//! lists, exactly one occurrence for single-address headers, ASCII only) with every axum
//! user. Neither crate knows about trusted proxy networks; the trust check and the walk past
//! your own proxies are here.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use http::{HeaderMap, HeaderName};
use ipsieve::IpNet;

/// At most this many hops of a list are read from the right.
pub const MAX_HOPS: usize = 32;

/// A forwarding header that a trusted proxy sets to the client's address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ForwardedHeader {
    /// `X-Forwarded-For`: nginx, HAProxy, Envoy, AWS ALB, most CDNs. A hop list.
    XForwardedFor,
    /// `Forwarded` (RFC 7239), its `for=` parameters. A hop list.
    Forwarded,
    /// `CF-Connecting-IP`: Cloudflare.
    CfConnectingIp,
    /// `X-Real-IP`: nginx's `proxy_set_header X-Real-IP $remote_addr`.
    XRealIp,
    /// `True-Client-IP`: Akamai, Cloudflare Enterprise.
    TrueClientIp,
    /// `Fly-Client-IP`: Fly.io.
    FlyClientIp,
    /// `CloudFront-Viewer-Address`: AWS CloudFront (`address:port`).
    CloudFrontViewerAddress,
    /// `X-Envoy-External-Address`: Envoy, Istio.
    XEnvoyExternalAddress,
}

impl ForwardedHeader {
    /// Every supported header.
    pub const ALL: [ForwardedHeader; 8] = [
        ForwardedHeader::XForwardedFor,
        ForwardedHeader::Forwarded,
        ForwardedHeader::CfConnectingIp,
        ForwardedHeader::XRealIp,
        ForwardedHeader::TrueClientIp,
        ForwardedHeader::FlyClientIp,
        ForwardedHeader::CloudFrontViewerAddress,
        ForwardedHeader::XEnvoyExternalAddress,
    ];

    /// The header's name in lowercase (`x-forwarded-for`, `cf-connecting-ip`, …), which is
    /// also its name in configuration.
    pub const fn as_str(self) -> &'static str {
        match self {
            ForwardedHeader::XForwardedFor => "x-forwarded-for",
            ForwardedHeader::Forwarded => "forwarded",
            ForwardedHeader::CfConnectingIp => "cf-connecting-ip",
            ForwardedHeader::XRealIp => "x-real-ip",
            ForwardedHeader::TrueClientIp => "true-client-ip",
            ForwardedHeader::FlyClientIp => "fly-client-ip",
            ForwardedHeader::CloudFrontViewerAddress => "cloudfront-viewer-address",
            ForwardedHeader::XEnvoyExternalAddress => "x-envoy-external-address",
        }
    }

    /// The header's name as an [`http::HeaderName`] (a constant: no parsing, no allocation).
    pub const fn header_name(self) -> HeaderName {
        // Inline const blocks: each name is built at compile time.
        match self {
            ForwardedHeader::XForwardedFor => const { HeaderName::from_static("x-forwarded-for") },
            ForwardedHeader::Forwarded => const { HeaderName::from_static("forwarded") },
            ForwardedHeader::CfConnectingIp => {
                const { HeaderName::from_static("cf-connecting-ip") }
            }
            ForwardedHeader::XRealIp => const { HeaderName::from_static("x-real-ip") },
            ForwardedHeader::TrueClientIp => const { HeaderName::from_static("true-client-ip") },
            ForwardedHeader::FlyClientIp => const { HeaderName::from_static("fly-client-ip") },
            ForwardedHeader::CloudFrontViewerAddress => {
                const { HeaderName::from_static("cloudfront-viewer-address") }
            }
            ForwardedHeader::XEnvoyExternalAddress => {
                const { HeaderName::from_static("x-envoy-external-address") }
            }
        }
    }

    /// Parses a header name, in any case (`X-Forwarded-For`, `x-forwarded-for`).
    pub fn from_name(name: &str) -> Option<ForwardedHeader> {
        ForwardedHeader::ALL
            .into_iter()
            .find(|h| h.as_str().eq_ignore_ascii_case(name))
    }

    /// True for the hop lists (`X-Forwarded-For`, `Forwarded`), read from the right past
    /// trusted proxies; false for headers that carry one address.
    pub const fn is_list(self) -> bool {
        matches!(
            self,
            ForwardedHeader::XForwardedFor | ForwardedHeader::Forwarded
        )
    }

    /// The address `client-ip` reads: the rightmost hop of a list's last line, or the one
    /// address of a single-address header.
    fn extract(self, headers: &HeaderMap) -> Result<IpAddr, client_ip::Error> {
        match self {
            ForwardedHeader::XForwardedFor => client_ip::rightmost_x_forwarded_for(headers),
            ForwardedHeader::Forwarded => client_ip::rightmost_forwarded(headers),
            ForwardedHeader::CfConnectingIp => client_ip::cf_connecting_ip(headers),
            ForwardedHeader::XRealIp => client_ip::x_real_ip(headers),
            ForwardedHeader::TrueClientIp => client_ip::true_client_ip(headers),
            ForwardedHeader::FlyClientIp => client_ip::fly_client_ip(headers),
            ForwardedHeader::CloudFrontViewerAddress => {
                client_ip::cloudfront_viewer_address(headers)
            }
            ForwardedHeader::XEnvoyExternalAddress => client_ip::x_envoy_external_address(headers),
        }
    }
}

impl fmt::Display for ForwardedHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the client address comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientIpSource {
    /// The TCP peer: the service listens on the internet directly.
    Socket,
    /// A header set by a trusted proxy (and read only from one).
    Header(ForwardedHeader),
}

impl ClientIpSource {
    /// The configuration name: `socket`, or the header's lowercase name.
    pub const fn as_str(self) -> &'static str {
        match self {
            ClientIpSource::Socket => "socket",
            ClientIpSource::Header(h) => h.as_str(),
        }
    }
}

impl fmt::Display for ClientIpSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ClientIpSource {
    type Err = ClientIpConfigError;

    /// `socket`, or a header name such as `x-forwarded-for` or `CF-Connecting-IP`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("socket") {
            return Ok(ClientIpSource::Socket);
        }
        ForwardedHeader::from_name(s)
            .map(ClientIpSource::Header)
            .ok_or_else(|| ClientIpConfigError::UnknownSource(s.chars().take(64).collect()))
    }
}

/// A client-address configuration that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientIpConfigError {
    /// A header source without any trusted proxy network: the header would never be read.
    #[error(
        "the client address source {0} needs at least one trusted proxy network (the \
         addresses your proxy connects from); use the socket source when no proxy is in front"
    )]
    NoTrustedProxies(ForwardedHeader),
    /// Not `socket` nor a supported header name.
    #[error(
        "unknown client address source {0:?}: expected socket, x-forwarded-for, forwarded, \
         cf-connecting-ip, x-real-ip, true-client-ip, fly-client-ip, \
         cloudfront-viewer-address or x-envoy-external-address"
    )]
    UnknownSource(String),
    /// A trusted proxy network that does not parse.
    #[error("trusted proxy {0:?} is not an address or a network such as 10.0.0.0/8")]
    BadNetwork(String),
}

/// How the layer finds a request's client address: a [`ClientIpSource`] and the networks of
/// the proxies trusted to set its header (see the [module docs](self)).
///
/// ```
/// use ipsieve_http::{AddrSource, ClientIpConfig, ForwardedHeader};
/// use http::HeaderMap;
///
/// let config = ClientIpConfig::header(
///     ForwardedHeader::XForwardedFor,
///     ["10.0.0.0/8".parse().unwrap()],
/// )?;
/// let mut headers = HeaderMap::new();
/// headers.insert("x-forwarded-for", "192.0.2.99, 198.51.100.7".parse().unwrap());
///
/// // From our proxy: the rightmost untrusted hop.
/// let from_proxy = config.resolve(&headers, Some("10.1.2.3".parse().unwrap())).unwrap();
/// assert_eq!(from_proxy.ip().to_string(), "198.51.100.7");
/// assert_eq!(from_proxy.source(), AddrSource::Header(ForwardedHeader::XForwardedFor));
///
/// // From anyone else: the header is ignored.
/// let direct = config.resolve(&headers, Some("203.0.113.5".parse().unwrap())).unwrap();
/// assert_eq!(direct.ip().to_string(), "203.0.113.5");
/// assert_eq!(direct.source(), AddrSource::UntrustedPeer { header_ignored: true });
/// # Ok::<(), ipsieve_http::ClientIpConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientIpConfig {
    source: ClientIpSource,
    trusted: Vec<IpNet>,
}

impl Default for ClientIpConfig {
    /// [`ClientIpConfig::socket`].
    fn default() -> Self {
        ClientIpConfig::socket()
    }
}

impl ClientIpConfig {
    /// The socket peer is the client; no header is read.
    pub fn socket() -> ClientIpConfig {
        ClientIpConfig {
            source: ClientIpSource::Socket,
            trusted: Vec::new(),
        }
    }

    /// `header` names the client when the peer is inside one of `trusted_proxies`.
    /// IPv4-mapped IPv6 networks (`::ffff:10.0.0.0/104`) are stored as their IPv4 network,
    /// and peers of a dual-stack socket (`::ffff:10.1.2.3`) are checked as IPv4.
    ///
    /// # Errors
    /// [`ClientIpConfigError::NoTrustedProxies`] when `trusted_proxies` is empty.
    pub fn header(
        header: ForwardedHeader,
        trusted_proxies: impl IntoIterator<Item = IpNet>,
    ) -> Result<ClientIpConfig, ClientIpConfigError> {
        let trusted: Vec<IpNet> = trusted_proxies.into_iter().map(canonical_net).collect();
        if trusted.is_empty() {
            return Err(ClientIpConfigError::NoTrustedProxies(header));
        }
        Ok(ClientIpConfig {
            source: ClientIpSource::Header(header),
            trusted,
        })
    }

    /// From configuration text: a source name (`socket`, `x-forwarded-for`, …) and trusted
    /// networks (`10.0.0.0/8`, `2001:db8::/32`, or single addresses), as a command line or an
    /// environment variable gives them.
    ///
    /// # Errors
    /// An unknown source, a network that does not parse, or a header without networks.
    pub fn parse<'a>(
        source: &str,
        trusted_proxies: impl IntoIterator<Item = &'a str>,
    ) -> Result<ClientIpConfig, ClientIpConfigError> {
        let mut nets = Vec::new();
        for t in trusted_proxies {
            let t = t.trim();
            let net = t
                .parse::<IpNet>()
                .or_else(|_| t.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| ClientIpConfigError::BadNetwork(t.chars().take(64).collect()))?;
            nets.push(net);
        }
        match source.parse::<ClientIpSource>()? {
            ClientIpSource::Socket => Ok(ClientIpConfig {
                source: ClientIpSource::Socket,
                trusted: nets.into_iter().map(canonical_net).collect(),
            }),
            ClientIpSource::Header(h) => ClientIpConfig::header(h, nets),
        }
    }

    /// The configured source.
    pub fn source(&self) -> ClientIpSource {
        self.source
    }

    /// The trusted proxy networks, canonical.
    pub fn trusted_proxies(&self) -> &[IpNet] {
        &self.trusted
    }

    /// True when `ip` lies in a trusted proxy network (IPv4-mapped IPv6 read as IPv4).
    pub fn is_trusted(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.trusted.iter().any(|n| n.contains(&ip))
    }

    /// The client address of a request with these headers from `peer` (the socket's remote
    /// address; `None` when the server did not record it, and then there is no client
    /// address). Allocates nothing but for `Forwarded` (its parser's strings); never panics.
    pub fn resolve(&self, headers: &HeaderMap, peer: Option<IpAddr>) -> Option<ClientAddr> {
        let peer = peer?.to_canonical();
        let header = match self.source {
            ClientIpSource::Socket => {
                return Some(ClientAddr {
                    ip: peer,
                    peer: Some(peer),
                    source: AddrSource::Socket,
                })
            }
            ClientIpSource::Header(h) => h,
        };
        if !self.is_trusted(peer) {
            return Some(ClientAddr {
                ip: peer,
                peer: Some(peer),
                source: AddrSource::UntrustedPeer {
                    header_ignored: headers.contains_key(header.header_name()),
                },
            });
        }
        let found = match header {
            ForwardedHeader::XForwardedFor | ForwardedHeader::Forwarded => {
                self.rightmost_untrusted(header, headers)
            }
            _ => header.extract(headers).ok().map(|ip| ip.to_canonical()),
        };
        let (ip, source) = match found {
            Some(ip) => (ip, AddrSource::Header(header)),
            None => (peer, AddrSource::ProxyWithoutHeader(header)),
        };
        Some(ClientAddr {
            ip,
            peer: Some(peer),
            source,
        })
    }

    /// Reads a hop list from the right past trusted hops, at most [`MAX_HOPS`] of them; `None`
    /// when the rightmost hop is missing or unusable. Stops at the first untrusted hop, or at
    /// a hop that does not parse (then the last hop read is the answer: only a client inside a
    /// trusted network can have written it).
    ///
    /// `X-Forwarded-For`'s rightmost hop is `client-ip`'s; the hops behind it are parsed one
    /// by one as addresses. `Forwarded` is read stanza by stanza with `forwarded-header-value`
    /// from the start: `client-ip`'s `rightmost_forwarded` parses the whole last line, so one
    /// malformed stanza written by the client (`for=@`) makes it fail, and the request would
    /// be judged as the proxy's own address.
    fn rightmost_untrusted(&self, header: ForwardedHeader, headers: &HeaderMap) -> Option<IpAddr> {
        // The hops from the right: the last line's first, then the lines before it.
        let hops = || {
            headers
                .get_all(header.header_name())
                .iter()
                .rev()
                .map_while(|line| line.to_str().ok())
                .flat_map(|line| line.rsplit(','))
                .take(MAX_HOPS)
        };
        let parse = |hop: &str| match header {
            ForwardedHeader::Forwarded => hop
                .trim()
                .parse::<forwarded_header_value::ForwardedStanza>()
                .ok()
                .and_then(|s| s.forwarded_for_ip()),
            _ => hop.trim().parse::<IpAddr>().ok(),
        };
        let rightmost = match header {
            ForwardedHeader::Forwarded => hops().next().and_then(parse),
            _ => header.extract(headers).ok(),
        }?
        .to_canonical();
        if !self.is_trusted(rightmost) {
            return Some(rightmost);
        }
        let mut last = rightmost;
        for hop in hops().skip(1) {
            let Some(ip) = parse(hop).map(|ip| ip.to_canonical()) else {
                return Some(last);
            };
            if !self.is_trusted(ip) {
                return Some(ip);
            }
            last = ip;
        }
        Some(last)
    }
}

/// `n` with host bits cleared and, inside `::ffff:0:0/96`, as the IPv4 network it maps.
fn canonical_net(n: IpNet) -> IpNet {
    match n.trunc() {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.addr().to_ipv4_mapped() {
            Some(v4) => ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96)
                .map(IpNet::V4)
                .unwrap_or(IpNet::V6(v6)),
            None => IpNet::V6(v6),
        },
        n => n,
    }
}

/// How the layer arrived at a client address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddrSource {
    /// The socket peer, as configured ([`ClientIpSource::Socket`]).
    Socket,
    /// The header, sent by a trusted proxy.
    Header(ForwardedHeader),
    /// The socket peer, because it is not a trusted proxy; `header_ignored` when it sent the
    /// configured header anyway (a spoofing attempt, or a proxy missing from the trusted
    /// networks).
    UntrustedPeer {
        /// The peer sent the configured header, which was not read.
        header_ignored: bool,
    },
    /// The socket peer, a trusted proxy, because its header was missing or did not parse.
    ProxyWithoutHeader(ForwardedHeader),
}

impl AddrSource {
    /// A short stable name: `socket`, the header's name, `untrusted_peer`,
    /// `proxy_without_header`.
    pub const fn as_str(self) -> &'static str {
        match self {
            AddrSource::Socket => "socket",
            AddrSource::Header(h) => h.as_str(),
            AddrSource::UntrustedPeer { .. } => "untrusted_peer",
            AddrSource::ProxyWithoutHeader(_) => "proxy_without_header",
        }
    }
}

impl fmt::Display for AddrSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request's client address and how it was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddr {
    ip: IpAddr,
    peer: Option<IpAddr>,
    source: AddrSource,
}

impl ClientAddr {
    /// An address given directly (for handlers and tests that judge an address they chose).
    pub fn new(ip: IpAddr, source: AddrSource) -> ClientAddr {
        ClientAddr {
            ip: ip.to_canonical(),
            peer: None,
            source,
        }
    }

    /// The client address (IPv4-mapped IPv6 as IPv4).
    pub fn ip(&self) -> IpAddr {
        self.ip
    }

    /// The socket peer (the client itself, or the proxy in front).
    pub fn peer(&self) -> Option<IpAddr> {
        self.peer
    }

    /// How the address was found.
    pub fn source(&self) -> AddrSource {
        self.source
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn xff(trusted: &[&str]) -> ClientIpConfig {
        ClientIpConfig::parse("x-forwarded-for", trusted.iter().copied()).unwrap()
    }

    #[test]
    fn socket_source_never_reads_headers() {
        let c = ClientIpConfig::socket();
        let h = headers(&[
            ("x-forwarded-for", "185.220.101.1"),
            ("x-real-ip", "1.2.3.4"),
        ]);
        let a = c.resolve(&h, Some(ip("198.51.100.1"))).unwrap();
        assert_eq!(
            (a.ip(), a.source()),
            (ip("198.51.100.1"), AddrSource::Socket)
        );
        assert!(c.resolve(&h, None).is_none());
    }

    #[test]
    fn untrusted_peers_are_judged_by_their_own_address() {
        for header in ForwardedHeader::ALL {
            let c = ClientIpConfig::header(header, ["10.0.0.0/8".parse().unwrap()]).unwrap();
            let value = match header {
                ForwardedHeader::Forwarded => "for=185.220.101.1",
                ForwardedHeader::CloudFrontViewerAddress => "185.220.101.1:443",
                _ => "185.220.101.1",
            };
            let h = headers(&[(header.as_str(), value)]);
            let a = c.resolve(&h, Some(ip("198.51.100.1"))).unwrap();
            assert_eq!(a.ip(), ip("198.51.100.1"), "{header}");
            assert_eq!(
                a.source(),
                AddrSource::UntrustedPeer {
                    header_ignored: true
                }
            );
            // From the proxy, the same header is believed.
            let a = c.resolve(&h, Some(ip("10.0.0.1"))).unwrap();
            assert_eq!(a.ip(), ip("185.220.101.1"), "{header}");
            assert_eq!(a.source(), AddrSource::Header(header));
        }
    }

    #[test]
    fn rightmost_untrusted_hop() {
        let c = xff(&["10.0.0.0/8", "2001:db8:ffff::/48"]);
        let peer = Some(ip("10.9.9.9"));
        let cases = [
            // One proxy: the rightmost entry, whatever the client wrote before it.
            ("185.220.101.1, 198.51.100.7", "198.51.100.7"),
            ("garbage, 198.51.100.7", "198.51.100.7"),
            // Two proxies: skip ours.
            ("185.220.101.1, 198.51.100.7, 10.0.0.2", "198.51.100.7"),
            (
                "1.1.1.1, 198.51.100.7, 2001:db8:ffff::1, 10.0.0.2",
                "198.51.100.7",
            ),
            // Garbage left of the client is never read.
            ("not an ip, 198.51.100.7, 10.0.0.2", "198.51.100.7"),
            // Every hop is ours: the leftmost.
            ("10.0.0.3, 10.0.0.2", "10.0.0.3"),
            // A hop that does not parse behind our proxies: the last good one.
            ("nonsense, 10.0.0.3, 10.0.0.2", "10.0.0.3"),
            // IPv4-mapped hops read as IPv4.
            ("198.51.100.7, ::ffff:10.0.0.2", "198.51.100.7"),
        ];
        for (value, want) in cases {
            let a = c
                .resolve(&headers(&[("x-forwarded-for", value)]), peer)
                .unwrap();
            assert_eq!(a.ip(), ip(want), "{value}");
        }
        // Several lines are one list: the last line's hops first.
        let h = headers(&[
            ("x-forwarded-for", "203.0.113.9, 198.51.100.7"),
            ("x-forwarded-for", "10.0.0.5"),
        ]);
        assert_eq!(c.resolve(&h, peer).unwrap().ip(), ip("198.51.100.7"));
    }

    #[test]
    fn forwarded_walks_the_same_way() {
        let c = ClientIpConfig::parse("forwarded", ["10.0.0.0/8"]).unwrap();
        let peer = Some(ip("10.9.9.9"));
        let cases = [
            ("for=198.51.100.7", "198.51.100.7"),
            (
                "for=185.220.101.1, for=\"[2001:db8::7]:4711\";proto=https, for=10.0.0.2",
                "2001:db8::7",
            ),
            ("for=_hidden, for=198.51.100.7;by=10.0.0.2", "198.51.100.7"),
            ("for=198.51.100.7:8080, for=10.0.0.2", "198.51.100.7"),
            ("for=unknown, for=10.0.0.2", "10.0.0.2"),
            // A malformed stanza written by the client does not hide the hop our proxy wrote
            // (client-ip's rightmost_forwarded fails on the whole line here).
            ("for=@@@, for=198.51.100.7", "198.51.100.7"),
            (
                "nonsense;;==, for=198.51.100.7, for=10.0.0.2",
                "198.51.100.7",
            ),
        ];
        for (value, want) in cases {
            let a = c.resolve(&headers(&[("forwarded", value)]), peer).unwrap();
            assert_eq!(a.ip(), ip(want), "{value}");
            assert_eq!(a.source(), AddrSource::Header(ForwardedHeader::Forwarded));
        }
        assert!(client_ip::rightmost_forwarded(&headers(&[(
            "forwarded",
            "for=@@@, for=198.51.100.7"
        )]))
        .is_err());
        // Our own proxy obfuscating the hop: nothing to judge but the proxy.
        let a = c
            .resolve(&headers(&[("forwarded", "for=_abc")]), peer)
            .unwrap();
        assert_eq!(
            a.source(),
            AddrSource::ProxyWithoutHeader(ForwardedHeader::Forwarded)
        );
    }

    #[test]
    fn trusted_peer_without_a_usable_header_is_judged_itself() {
        let c = xff(&["10.0.0.0/8"]);
        for h in [
            headers(&[]),
            headers(&[("x-forwarded-for", "not-an-ip")]),
            headers(&[("x-forwarded-for", "198.51.100.7,")]),
        ] {
            let a = c.resolve(&h, Some(ip("10.0.0.1"))).unwrap();
            assert_eq!(a.ip(), ip("10.0.0.1"));
            assert_eq!(
                a.source(),
                AddrSource::ProxyWithoutHeader(ForwardedHeader::XForwardedFor)
            );
        }
        // A single-address header must occur once.
        let c = ClientIpConfig::parse("x-real-ip", ["10.0.0.0/8"]).unwrap();
        let h = headers(&[("x-real-ip", "198.51.100.7"), ("x-real-ip", "198.51.100.8")]);
        let a = c.resolve(&h, Some(ip("10.0.0.1"))).unwrap();
        assert_eq!(a.ip(), ip("10.0.0.1"));
    }

    #[test]
    fn dual_stack_peers_and_mapped_networks() {
        let c = ClientIpConfig::parse("x-forwarded-for", ["::ffff:10.0.0.0/104"]).unwrap();
        assert_eq!(c.trusted_proxies()[0].to_string(), "10.0.0.0/8");
        let h = headers(&[("x-forwarded-for", "198.51.100.7")]);
        let a = c.resolve(&h, Some(ip("::ffff:10.1.2.3"))).unwrap();
        assert_eq!(a.ip(), ip("198.51.100.7"));
        assert_eq!(a.peer(), Some(ip("10.1.2.3")));
    }

    #[test]
    fn long_lists_stop_after_max_hops() {
        let c = xff(&["10.0.0.0/8"]);
        let mut value = String::from("198.51.100.7");
        for _ in 0..100 {
            value.push_str(", 10.0.0.1");
        }
        let a = c
            .resolve(
                &headers(&[("x-forwarded-for", &value)]),
                Some(ip("10.0.0.9")),
            )
            .unwrap();
        assert_eq!(a.ip(), ip("10.0.0.1"));
    }

    #[test]
    fn configuration_errors() {
        assert_eq!(
            ClientIpConfig::parse("x-forwarded-for", []).unwrap_err(),
            ClientIpConfigError::NoTrustedProxies(ForwardedHeader::XForwardedFor)
        );
        assert!(matches!(
            ClientIpConfig::parse("x-forwarded-host", ["10.0.0.0/8"]),
            Err(ClientIpConfigError::UnknownSource(_))
        ));
        assert!(matches!(
            ClientIpConfig::parse("forwarded", ["10.0.0.0/33"]),
            Err(ClientIpConfigError::BadNetwork(_))
        ));
        let c = ClientIpConfig::parse("CF-Connecting-IP", ["198.51.100.1"]).unwrap();
        assert_eq!(
            c.source(),
            ClientIpSource::Header(ForwardedHeader::CfConnectingIp)
        );
        assert_eq!(c.trusted_proxies()[0].to_string(), "198.51.100.1/32");
        for h in ForwardedHeader::ALL {
            assert_eq!(ForwardedHeader::from_name(h.as_str()), Some(h));
            assert_eq!(h.header_name().as_str(), h.as_str());
        }
    }
}
