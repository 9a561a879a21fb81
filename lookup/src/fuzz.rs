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
    // The batch must answer exactly as single lookups, on any file that opens.
    for (a, &ip) in db.lookup_many(probes.iter().copied()).zip(&probes) {
        let one = db.lookup(ip);
        assert!(
            std::ptr::eq(a.record_words(), one.record_words()) && a.range() == one.range(),
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
}
