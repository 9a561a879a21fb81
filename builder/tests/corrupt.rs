//! Every way an artifact can be broken is refused at open (or by `verify`) with a precise
//! error; nothing panics.

use ipsieve::format::{self, hdr, Section, HEADER_LEN};
use ipsieve::{Categories, Database, OpenError};
use ipsieve_builder::{Attrs, Builder, SourceSpec};

/// A small artifact exercising every section (IPv4 chunks, IPv6 chunks and sub-chunks).
pub(crate) fn small_artifact() -> Vec<u8> {
    let mut b = Builder::new().build_time(1_700_000_000);
    let tor = b
        .add_source(
            SourceSpec::new("tor", "tor-exit-list")
                .categories(Categories::TOR_EXIT)
                .provider("Tor Project"),
        )
        .unwrap();
    let bgp = b.add_source(SourceSpec::new("bgp", "pfx2as")).unwrap();
    for n in [
        "185.220.101.1/32",
        "185.220.101.7/32",
        "2001:db8::1/128",
        "2001:db8:0:5::/64",
    ] {
        b.add_net(tor, n.parse().unwrap(), Attrs::default())
            .unwrap();
    }
    // Enough boundaries in one /16 for multi-level trees in both families (and their
    // descriptor sections), not only single-leaf chunks.
    for i in 0..40 {
        let v4 = format!("185.220.102.{}/32", 3 * i);
        let v6 = format!("2001:db8:{:x}::/48", 16 + 2 * i);
        b.add_net(tor, v4.parse().unwrap(), Attrs::default())
            .unwrap();
        b.add_net(tor, v6.parse().unwrap(), Attrs::default())
            .unwrap();
    }
    let routed = |asn| Attrs {
        asn: Some(asn),
        country: Some(*b"DE"),
        ..Attrs::default()
    };
    b.add_net(bgp, "185.220.100.0/22".parse().unwrap(), routed(60729))
        .unwrap();
    b.add_net(bgp, "2001:db8::/32".parse().unwrap(), routed(64496))
        .unwrap();
    b.add_as_name(60729, "ZWIEBELFREUNDE, DE");
    b.compile().unwrap().bytes
}

/// A change made to a valid artifact's bytes.
type Mutation = Box<dyn Fn(&mut Vec<u8>)>;

/// Writes `v` little-endian at byte `at` of `b` (a directory offset or length).
pub(crate) fn put_u64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// Rewrites the header checksum so the header itself passes and deeper checks are reached.
pub(crate) fn reseal(b: &mut [u8]) {
    let crc = format::header_crc(b);
    b[hdr::HEADER_CRC..hdr::HEADER_CRC + 4].copy_from_slice(&crc.to_le_bytes());
}

/// Section `s`'s (offset, length in bytes) as the directory of artifact `b` declares them.
pub(crate) fn section(b: &[u8], s: Section) -> (usize, usize) {
    let at = hdr::DIRECTORY + 16 * s as usize;
    let off = u64::from_le_bytes(b[at..at + 8].try_into().unwrap()) as usize;
    let len = u64::from_le_bytes(b[at + 8..at + 16].try_into().unwrap()) as usize;
    (off, len)
}

#[test]
fn valid_artifact_opens_and_verifies() {
    let bytes = small_artifact();
    let db = Database::from_bytes(&bytes).unwrap();
    db.verify().unwrap();
    let a = db.lookup("185.220.101.7".parse().unwrap());
    assert!(a.is_tor());
    assert_eq!(a.asn(), Some(60729));
    assert_eq!(a.as_org(), Some("ZWIEBELFREUNDE, DE"));
    assert_eq!(a.country(), Some("DE"));
    assert_eq!(a.provider(), Some("Tor Project"));
    assert_eq!(a.sources().collect::<Vec<_>>(), ["bgp", "tor"]);
    assert_eq!(a.network().to_string(), "185.220.101.7/32");
    let b = db.lookup("2001:db8:0:5:1:2:3:4".parse().unwrap());
    assert!(b.is_tor());
    assert_eq!(b.network().to_string(), "2001:db8:0:5::/64");
    assert_eq!(
        db.lookup("2001:db8::2".parse().unwrap())
            .network()
            .to_string(),
        "2001:db8::2/127"
    );
    assert_eq!(db.build_time(), 1_700_000_000);
    assert_eq!(
        db.sources().map(|s| s.name()).collect::<Vec<_>>(),
        ["bgp", "tor"]
    );
}

#[test]
fn too_short_and_truncated() {
    let bytes = small_artifact();
    assert!(matches!(
        Database::from_bytes(&[]),
        Err(OpenError::TooShort { len: 0 })
    ));
    assert!(matches!(
        Database::from_bytes(&bytes[..HEADER_LEN - 1]),
        Err(OpenError::TooShort { .. })
    ));
    // Truncated at every section boundary and in the middle of each section.
    for s in Section::ALL {
        let (off, len) = section(&bytes, s);
        if len == 0 {
            continue;
        }
        for cut in [off, off + len / 2, off + len - 1] {
            match Database::from_bytes(&bytes[..cut]) {
                Err(OpenError::LengthMismatch { expected, found }) => {
                    assert_eq!(expected as usize, bytes.len());
                    assert_eq!(found as usize, cut);
                }
                other => panic!("cut at {cut} in {s:?}: {other:?}"),
            }
        }
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(matches!(
        Database::from_bytes(&longer),
        Err(OpenError::LengthMismatch { .. })
    ));
}

#[test]
fn foreign_files() {
    let html = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>login required</body></html>";
    let mut page = html.to_vec();
    page.resize(4096, b' ');
    let err = Database::from_bytes(&page).unwrap_err();
    assert!(matches!(err, OpenError::BadMagic { .. }));
    assert!(err.to_string().contains("HTML error page"), "{err}");
    // A gzip of the artifact is refused too.
    let mut gz = small_artifact();
    gz[..2].copy_from_slice(&[0x1f, 0x8b]);
    assert!(matches!(
        Database::from_bytes(&gz),
        Err(OpenError::BadMagic { .. })
    ));
}

#[test]
fn byte_order_and_version() {
    let mut b = small_artifact();
    b[hdr::ENDIAN..hdr::ENDIAN + 4].reverse();
    assert!(matches!(
        Database::from_bytes(&b),
        Err(OpenError::Endianness { found: 0x0D0C_0B0A })
    ));

    let mut b = small_artifact();
    let next = format::FORMAT_MAJOR + 1;
    b[hdr::MAJOR..hdr::MAJOR + 2].copy_from_slice(&next.to_le_bytes());
    assert!(matches!(
        Database::from_bytes(&b),
        Err(OpenError::HeaderChecksum { .. })
    ));
    reseal(&mut b);
    let err = Database::from_bytes(&b).unwrap_err();
    assert!(
        matches!(err, OpenError::UnsupportedVersion { major, minor: 0 } if major == next),
        "{err:?}"
    );
    assert!(err.to_string().contains("rebuild the artifact"), "{err}");

    // A newer minor version of the same major still opens.
    let mut b = small_artifact();
    b[hdr::MINOR..hdr::MINOR + 2].copy_from_slice(&7u16.to_le_bytes());
    reseal(&mut b);
    assert_eq!(
        Database::from_bytes(&b).unwrap().format_version(),
        (format::FORMAT_MAJOR, 7)
    );
}

#[test]
fn bad_directory_entries() {
    let base = small_artifact();
    let (rec_off, rec_len) = section(&base, Section::Records);
    let (keys_off, _) = section(&base, Section::V4Leaves);
    let cases: Vec<(&str, Mutation)> = vec![
        (
            "outside",
            Box::new(|b: &mut Vec<u8>| {
                put_u64(b, hdr::DIRECTORY + 16 * Section::Records as usize, 1 << 40)
            }),
        ),
        (
            "lies outside the",
            Box::new(|b: &mut Vec<u8>| {
                put_u64(
                    b,
                    hdr::DIRECTORY + 16 * Section::Records as usize + 8,
                    u64::MAX,
                )
            }),
        ),
        (
            "not 64-byte aligned",
            Box::new(move |b: &mut Vec<u8>| {
                put_u64(
                    b,
                    hdr::DIRECTORY + 16 * Section::Records as usize,
                    rec_off as u64 + 4,
                )
            }),
        ),
        (
            "overlaps",
            Box::new(move |b: &mut Vec<u8>| {
                put_u64(
                    b,
                    hdr::DIRECTORY + 16 * Section::Records as usize,
                    keys_off as u64,
                )
            }),
        ),
        (
            "overlaps the header",
            Box::new(|b: &mut Vec<u8>| {
                put_u64(b, hdr::DIRECTORY + 16 * Section::Records as usize, 0)
            }),
        ),
        (
            "not a multiple",
            Box::new(move |b: &mut Vec<u8>| {
                put_u64(b, hdr::DIRECTORY + 16 * Section::V6Nodes as usize + 8, 12)
            }),
        ),
        (
            "does not match the header",
            Box::new(move |b: &mut Vec<u8>| {
                put_u64(
                    b,
                    hdr::DIRECTORY + 16 * Section::Records as usize + 8,
                    rec_len as u64 - 32,
                )
            }),
        ),
    ];
    for (want, mutate) in cases {
        let mut b = base.clone();
        mutate(&mut b);
        reseal(&mut b);
        let err = Database::from_bytes(&b).expect_err(want);
        let msg = err.to_string();
        assert!(matches!(err, OpenError::Section { .. }), "{want}: {err:?}");
        assert!(msg.contains(want), "expected '{want}' in: {msg}");
    }
}

#[test]
fn out_of_range_indices_in_sections() {
    let base = small_artifact();
    // A direct top entry naming a record that does not exist.
    let mut b = base.clone();
    let (top, _) = section(&b, Section::V4Top);
    b[top..top + 4].copy_from_slice(&format::leaf::encode(999_999, 0).to_le_bytes());
    let err = Database::from_bytes(&b).unwrap_err();
    assert!(
        matches!(
            err,
            OpenError::Corrupt {
                section: "ipv4 top table",
                ..
            }
        ),
        "{err:?}"
    );
    // A node reference past the nodes (a wild pointer in a trie).
    let mut b = base.clone();
    b[top..top + 4].copy_from_slice(&(format::trie::NODE | 0x7FFF_FFF0).to_le_bytes());
    assert!(matches!(
        Database::from_bytes(&b),
        Err(OpenError::Corrupt { .. })
    ));
    // A record naming a string that does not exist, and invalid UTF-8 in the string blob:
    // content that open does not read (it stays O(top tables)). Lookups stay safe (the string
    // reads as absent) and `verify` names the section, even with a matching file checksum.
    let (recs, _) = section(&base, Section::Records);
    let (blob, _) = section(&base, Section::StrBlob);
    let bad_string = recs + 32 + 4 * ipsieve::format::rec::PROVIDER;
    let cases: [(usize, &[u8], &str); 2] = [
        (bad_string, &5_000u32.to_le_bytes(), "records"),
        (blob, &[0xFF], "string blob"),
    ];
    for (at, bytes, want) in cases {
        let mut b = base.clone();
        b[at..at + bytes.len()].copy_from_slice(bytes);
        seal_file(&mut b);
        let db = Database::from_bytes(&b).expect("content errors are found by verify");
        for ip in ["185.220.101.1", "10.0.0.1", "2001:db8::1"] {
            let a = db.lookup(ip.parse().unwrap());
            let _ = (a.provider(), a.as_org(), a.country(), a.sources().count());
        }
        let err = db.verify().expect_err(want);
        assert!(
            matches!(err, OpenError::Corrupt { section, .. } if section == want),
            "{want}: {err:?}"
        );
    }
}

/// Recomputes both checksums (the header's first: the file's covers it), as a writer that
/// produced bad content would have.
pub(crate) fn seal_file(b: &mut [u8]) {
    reseal(b);
    let crc = format::file_crc(b);
    b[hdr::FILE_CRC..hdr::FILE_CRC + 4].copy_from_slice(&crc.to_le_bytes());
}

#[test]
fn flipped_bytes_never_panic_and_verify_catches_them() {
    let base = small_artifact();
    let probes: Vec<std::net::IpAddr> = [
        "185.220.101.1",
        "185.220.101.7",
        "10.0.0.1",
        "2001:db8::1",
        "2001:db8:0:5::9",
        "::1",
    ]
    .iter()
    .map(|s| s.parse().unwrap())
    .collect();
    // Every header byte, then a spread of positions across every section.
    let mut positions: Vec<usize> = (0..HEADER_LEN).collect();
    for s in Section::ALL {
        let (off, len) = section(&base, s);
        positions.extend((off..off + len).step_by((len / 64).max(1)));
    }
    for at in positions {
        let mut b = base.clone();
        b[at] ^= 0x5A;
        if let Ok(db) = Database::from_bytes(&b) {
            for (a, &ip) in db.lookup_many(probes.iter().copied()).zip(&probes) {
                let one = db.lookup(ip);
                assert_eq!(a.record_words(), one.record_words(), "batch at byte {at}");
                assert_eq!(a.range(), one.range(), "batch range at byte {at}");
            }
            for &ip in &probes {
                let a = db.lookup(ip);
                let _ = (
                    a.network(),
                    a.as_org(),
                    a.provider(),
                    a.country(),
                    a.sources().count(),
                );
            }
            assert!(
                db.verify().is_err(),
                "flip at {at} went unnoticed by verify"
            );
        }
    }
}

#[test]
fn from_static_and_file() {
    let bytes: &'static [u8] = Box::leak(small_artifact().into_boxed_slice());
    let db = Database::from_static(bytes).unwrap();
    assert!(db.lookup("185.220.101.1".parse().unwrap()).is_tor());
    let dir = std::env::temp_dir().join(format!("ipsieve-open-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("a.ipsieve");
    ipsieve_builder::publish(bytes, &path).unwrap();
    let db = Database::open(&path).unwrap();
    db.verify().unwrap();
    assert!(db.lookup("185.220.101.1".parse().unwrap()).is_tor());
    // Replacing the file by rename under a live mapping keeps the old answers.
    let mut b = Builder::new();
    b.add_source(SourceSpec::new("empty", "test")).unwrap();
    b.write_to(&path).unwrap();
    assert!(db.lookup("185.220.101.1".parse().unwrap()).is_tor());
    assert!(!Database::open(&path)
        .unwrap()
        .lookup("185.220.101.1".parse().unwrap())
        .is_tor());
    let missing = Database::open(dir.join("missing")).unwrap_err();
    assert!(
        matches!(&missing, OpenError::Io(e) if e.kind() == std::io::ErrorKind::NotFound),
        "{missing:?}"
    );
    // The message names the file (issue 17 item 7).
    let shown = missing.to_string();
    let want = format!(
        "cannot read the artifact: {}: ",
        dir.join("missing").display()
    );
    assert!(shown.starts_with(&want), "{shown}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_leaf_with_the_node_flag_is_named_as_such() {
    // Bit 31 of a leaf value is the top tables' node flag: in a node's or the leaf array's
    // leaf it is corrupt, whatever the record index below it (here record 1, which exists).
    let base = small_artifact();
    let (nodes, _) = section(&base, Section::V4Nodes);
    let at = nodes + 4 * format::trie::V4_NODE.inline_at();
    let v = u32::from_le_bytes(base[at..at + 4].try_into().unwrap());
    let mut b = base.clone();
    let flagged = format::trie::NODE | format::leaf::encode(1, format::leaf::class(v));
    b[at..at + 4].copy_from_slice(&flagged.to_le_bytes());
    seal_file(&mut b);
    let err = Database::from_bytes(&b).unwrap().verify().unwrap_err();
    assert!(
        matches!(&err, OpenError::Corrupt { section: "ipv4 nodes", reason }
            if *reason == format!("node 0 leaf 0: {flagged:#x} has the node flag (bit 31) set")),
        "{err:?}"
    );
}

#[test]
fn a_bad_top_entry_is_named_before_the_spans_it_breaks() {
    // A top entry in a class that does not summarise its record (0.0.0.0/18: record 0, the
    // empty answer, put in class 1): the top spans (derived from the entries) no longer match
    // either, but the entry is what is wrong.
    let base = small_artifact();
    let (top, _) = section(&base, Section::V4Top);
    assert_eq!(base[top..top + 4], [0; 4]);
    let mut b = base.clone();
    b[top..top + 4].copy_from_slice(&format::leaf::encode(0, 1).to_le_bytes());
    seal_file(&mut b);
    let err = Database::from_bytes(&b).unwrap().verify().unwrap_err();
    assert!(
        matches!(&err, OpenError::Corrupt { section: "ipv4 top table", reason }
            if reason == "entry 0: class 1 does not summarise record 0"),
        "{err:?}"
    );
}

#[test]
fn a_child_base_without_children_is_named() {
    // A node without children has no use for its child base, which the builder writes as 0:
    // any other value is a corrupt byte that lookups never read, so only `verify` (and the
    // checksum) can see it. The small artifact's last IPv4 node is such a node.
    let base = small_artifact();
    let (nodes, len) = section(&base, Section::V4Nodes);
    let last = len / 64 - 1;
    let at = nodes + 64 * last;
    assert_eq!(base[at..at + 8], [0; 8], "node {last} has no children");
    assert_eq!(base[at + 16..at + 20], [0; 4], "and a zero child base");
    let mut b = base.clone();
    b[at + 16] = 0x80;
    seal_file(&mut b);
    let db = Database::from_bytes(&b).unwrap();
    let err = db.verify().unwrap_err();
    assert!(
        matches!(&err, OpenError::Corrupt { section: "ipv4 nodes", reason }
            if *reason == format!("node {last}: child base 128 without children")),
        "{err:?}"
    );
}
