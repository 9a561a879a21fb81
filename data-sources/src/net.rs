//! Address and prefix syntax shared by the parsers, with one wording for each kind of mistake.
//!
//! Addresses are parsed by `std` (which already rejects IPv4 octets with leading zeros and IPv6
//! zone ids); this module adds prefix lengths, the host-bits policy and precise reasons.

use std::net::IpAddr;

use ipnet::IpNet;

/// What to do with a prefix whose address has bits set past its length (`192.0.2.1/24`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HostBits {
    /// Keep the network (`192.0.2.0/24`): common in hand-made lists.
    Truncate,
    /// Reject: the publisher's own tooling writes canonical prefixes.
    Reject,
}

/// Parses an IPv4 or IPv6 address, explaining the usual near misses.
pub(crate) fn parse_addr(text: &str) -> Result<IpAddr, String> {
    text.parse().map_err(|_| why_not_addr(text))
}

/// Parses `addr/len`, or (when `bare_is_host`) a bare address as a /32 or /128.
pub(crate) fn parse_net(
    text: &str,
    bare_is_host: bool,
    host_bits: HostBits,
) -> Result<IpNet, String> {
    let Some((addr, len)) = text.split_once('/') else {
        if bare_is_host {
            return parse_addr(text).map(IpNet::from);
        }
        return Err(match text.parse::<IpAddr>() {
            Ok(_) => "missing prefix length (\"/N\")".to_owned(),
            Err(_) => why_not_addr(text),
        });
    };
    let addr = parse_addr(addr)?;
    let len = parse_len(len, addr)?;
    make_net(addr, len, host_bits)
}

/// Parses a decimal prefix length for `addr`'s family: 1–3 ASCII digits, no sign, no leading
/// zero, at most 32 or 128. A zone id written after the length (`fe80::/64%eth0`) is named as
/// such.
pub(crate) fn parse_len(text: &str, addr: IpAddr) -> Result<u8, String> {
    if addr.is_ipv6() && text.contains('%') {
        return Err(ZONE_ID.to_owned());
    }
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let ok_syntax = !text.is_empty()
        && text.len() <= 3
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    let len: u16 = match ok_syntax.then(|| text.parse().ok()).flatten() {
        Some(len) => len,
        None => return Err("prefix length is not a number from 0 to 128".to_owned()),
    };
    if len > max {
        return Err(format!("prefix length {len} is longer than {max}"));
    }
    u8::try_from(len).map_err(|_| "prefix length out of range".to_owned())
}

/// The network `addr/len`, applying the host-bits policy. `len` must fit the family.
pub(crate) fn make_net(addr: IpAddr, len: u8, host_bits: HostBits) -> Result<IpNet, String> {
    let net = IpNet::new(addr, len).map_err(|_| format!("prefix length {len} is too long"))?;
    let trunc = net.trunc();
    if trunc.addr() != addr && host_bits == HostBits::Reject {
        return Err(format!(
            "host bits set after the prefix length (the network is {trunc})"
        ));
    }
    Ok(trunc)
}

/// Why an IPv6 address with a zone id (`fe80::1%eth0`, `2001:db8::1%1`) is refused: a zone names
/// an interface of the machine that wrote the list, meaningless anywhere else.
const ZONE_ID: &str = "ipv6 zone ids (\"%...\") are not allowed";

fn why_not_addr(text: &str) -> String {
    if text.contains(':') && text.contains('%') {
        return ZONE_ID.to_owned();
    }
    let parts: Vec<&str> = text.split('.').collect();
    let dotted = parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if dotted && parts.iter().any(|p| p.len() > 1 && p.starts_with('0')) {
        return "ipv4 octet with a leading zero (octal or decimal?)".to_owned();
    }
    "not an ip address or network".to_owned()
}

/// A plain decimal ASN (no sign, no `AS` prefix) that fits in 32 bits.
pub(crate) fn parse_asn(text: &str) -> Option<u32> {
    if text.is_empty() || text.len() > 10 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}
