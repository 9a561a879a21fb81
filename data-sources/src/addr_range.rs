//! What the range formats share (iptoasn, ip-location-db, ipcat): an inclusive
//! `start`–`end` address range, an ASN column and a country column, each with one wording for
//! each kind of mistake.

use std::net::IpAddr;

use crate::net;

/// Parses an inclusive range: both ends addresses of the same family, `start <= end`.
pub(crate) fn parse_range(start: &str, end: &str) -> Result<(IpAddr, IpAddr), String> {
    let start_addr = net::parse_addr(start).map_err(|r| format!("range start: {r}"))?;
    let end_addr = net::parse_addr(end).map_err(|r| format!("range end: {r}"))?;
    if start_addr.is_ipv4() != end_addr.is_ipv4() {
        return Err(format!("range {start}-{end} mixes ipv4 and ipv6"));
    }
    if start_addr > end_addr {
        return Err(format!(
            "range {start}-{end} ends before it starts (reversed)"
        ));
    }
    Ok((start_addr, end_addr))
}

/// Parses an AS number column: plain decimal, or `AS`-prefixed when `allow_as_prefix`; it
/// must fit 32 bits.
pub(crate) fn parse_asn_field(text: &str, allow_as_prefix: bool) -> Result<u32, String> {
    let digits = match text.get(..2) {
        Some(p) if allow_as_prefix && p.eq_ignore_ascii_case("as") => &text[2..],
        _ => text,
    };
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return net::parse_asn(digits)
            .ok_or_else(|| format!("as number {digits} does not fit in 32 bits"));
    }
    Err(format!("{text:?} is not an as number"))
}

/// A two-letter country code (uppercased), `None` for the "unknown" spellings (empty,
/// `None`, `Unknown`, `-`), or why it is neither.
pub(crate) fn parse_country(text: &str) -> Result<Option<[u8; 2]>, String> {
    match text.as_bytes() {
        [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
            Ok(Some([a.to_ascii_uppercase(), b.to_ascii_uppercase()]))
        }
        [] | b"-" => Ok(None),
        _ if text.eq_ignore_ascii_case("none") || text.eq_ignore_ascii_case("unknown") => Ok(None),
        _ => Err(format!("country {text:?} is not a two-letter code")),
    }
}

/// The text form of a country code kept as two ASCII bytes.
pub(crate) fn country_str(cc: &Option<[u8; 2]>) -> Option<&str> {
    cc.as_ref().and_then(|cc| std::str::from_utf8(cc).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert!(parse_range("1.0.0.0", "1.0.0.0").is_ok());
        assert_eq!(
            parse_range("1.0.0.1", "1.0.0.0").unwrap_err(),
            "range 1.0.0.1-1.0.0.0 ends before it starts (reversed)"
        );
        assert_eq!(
            parse_range("1.0.0.0", "::1").unwrap_err(),
            "range 1.0.0.0-::1 mixes ipv4 and ipv6"
        );
        assert_eq!(
            parse_range("x", "::1").unwrap_err(),
            "range start: not an ip address or network"
        );
    }

    #[test]
    fn asns_and_countries() {
        assert_eq!(parse_asn_field("AS0", true), Ok(0));
        assert_eq!(parse_asn_field("as4294967295", true), Ok(u32::MAX));
        assert!(parse_asn_field("AS1", false).is_err());
        assert_eq!(
            parse_asn_field("4294967296", false).unwrap_err(),
            "as number 4294967296 does not fit in 32 bits"
        );
        assert!(parse_asn_field("é", true).is_err());
        assert!(parse_asn_field("", true).is_err());
        assert_eq!(parse_country("us"), Ok(Some(*b"US")));
        assert_eq!(parse_country("None"), Ok(None));
        assert!(parse_country("USA").is_err());
        assert!(parse_country("é").is_err());
    }
}
