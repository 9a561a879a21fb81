//! Entry points for the fuzz targets in `fuzz/` (and the tests that replay their findings), so
//! that each target is a one-liner. Not part of the public API.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::Database;

/// Opens `data` as an artifact; if it opens, looks up fixed addresses and addresses taken from
/// the data itself, reads every field of each answer, and runs `verify`. Must never panic.
pub fn open_and_lookup(data: &[u8]) {
    let Ok(db) = Database::from_bytes(data) else {
        return;
    };
    let mut probes: Vec<IpAddr> = vec![
        Ipv4Addr::UNSPECIFIED.into(),
        Ipv4Addr::BROADCAST.into(),
        Ipv4Addr::new(185, 220, 101, 1).into(),
        Ipv6Addr::UNSPECIFIED.into(),
        Ipv6Addr::from(u128::MAX).into(),
        "2606:54c0::1"
            .parse()
            .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)),
    ];
    for w in data.chunks_exact(16).take(64) {
        let mut b = [0u8; 16];
        b.copy_from_slice(w);
        probes.push(Ipv6Addr::from(b).into());
        probes.push(Ipv4Addr::new(b[0], b[1], b[2], b[3]).into());
    }
    // The batch must answer exactly as single lookups, on any file that opens: the same
    // address and leaf value, which decide every field, the network and the range (worked out
    // once below: a range scan on a corrupt file may visit thousands of nodes).
    for (a, &ip) in db.lookup_many(probes.iter().copied()).zip(&probes) {
        let one = db.lookup(ip);
        assert!(
            a.ip() == one.ip() && a.leaf_value() == one.leaf_value(),
            "lookup_many disagrees with lookup for {ip}"
        );
    }
    for ip in probes {
        let a = db.lookup(ip);
        let _ = (
            a.network(),
            a.range(),
            a.categories(),
            a.verdict(),
            a.score(),
            a.asn(),
        );
        let _ = (
            a.as_org(),
            a.provider(),
            a.country(),
            a.sources().count(),
            a.source_infos().count(),
        );
        let _ = (
            a.signals().map(|s| s.weight_hundredths()).max(),
            a.tier(),
            a.trust_score(),
            a.risk_level(),
        );
    }
    let _ = (db.sources().count(), db.metadata().count(), db.verify());
    // Walking every range ends, on any file that opens (a corrupt one in few steps per range).
    let _ = db.ranges().take(1 << 12).count();
}

/// Runs [`open_and_lookup`] on inputs that start with a valid header, taken from `valid` (an
/// artifact of the current format version, e.g. `lookup/tests/golden/v4.ipsieve`; callers pass
/// it so that the library does not embed it), so inputs get past the magic, version, header
/// checksum and length checks. The first byte of `data`
/// picks the shape: even, the golden artifact with the rest spliced over its payload (a
/// big-endian `u32` offset past the header, then the bytes written there; the file keeps its
/// length, so only the sections' contents are hostile); odd, the golden header followed by
/// the rest as the payload, with the declared file length and the header checksum fixed up (so
/// the section directory is checked against arbitrary bytes). Must never panic.
pub fn open_with_valid_header(valid: &[u8], data: &[u8]) {
    use crate::format::{hdr, header_crc, HEADER_LEN};

    if valid.len() <= HEADER_LEN {
        return open_and_lookup(data);
    }
    let Some((&shape, rest)) = data.split_first() else {
        return open_and_lookup(valid);
    };
    let file = if shape % 2 == 0 {
        let mut file = valid.to_vec();
        let (at, bytes) = rest.split_at(rest.len().min(4));
        let mut offset = [0u8; 4];
        offset[..at.len()].copy_from_slice(at);
        let start = HEADER_LEN + u32::from_be_bytes(offset) as usize % (file.len() - HEADER_LEN);
        let n = bytes.len().min(file.len() - start);
        file[start..start + n].copy_from_slice(&bytes[..n]);
        file
    } else {
        let mut file = valid[..HEADER_LEN].to_vec();
        file.extend_from_slice(rest);
        let len = file.len() as u64;
        file[hdr::FILE_LEN..hdr::FILE_LEN + 8].copy_from_slice(&len.to_le_bytes());
        let crc = header_crc(&file);
        file[hdr::HEADER_CRC..hdr::HEADER_CRC + 4].copy_from_slice(&crc.to_le_bytes());
        file
    };
    open_and_lookup(&file);
}
