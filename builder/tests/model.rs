//! Differential property tests: random overlapping prefixes and ranges with random attributes
//! are compiled, opened from bytes and probed; every answer must equal a naive reference model
//! of the merge semantics.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipsieve::classify::Scorer;
use ipsieve::Tier;
use ipsieve::{Categories, Database};
use ipsieve_builder::{Attrs, Builder, Limits, SourceSpec};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Src {
    name: String,
    cats: u32,
    provider: Option<String>,
    /// Evidence tier and own weight in hundredths (they only move the score).
    tier: Tier,
    weight: u8,
}

#[derive(Debug, Clone)]
struct Ent {
    src: usize,
    v6: bool,
    lo: u128,
    hi: u128,
    cats: u32,
    asn: Option<u32>,
    provider: Option<String>,
    country: Option<[u8; 2]>,
}

#[derive(Debug, PartialEq)]
struct Expected {
    cats: u32,
    asn: Option<u32>,
    as_org: Option<String>,
    provider: Option<String>,
    country: Option<String>,
    sources: Vec<String>,
}

fn as_name(asn: u32) -> String {
    format!("AS-{asn} org")
}

/// The reference: scan every entry.
fn model(srcs: &[Src], ents: &[Ent], v6: bool, x: u128) -> Expected {
    let cover: Vec<&Ent> = ents
        .iter()
        .filter(|e| e.v6 == v6 && e.lo <= x && x <= e.hi)
        .collect();
    let cats = cover.iter().fold(0, |a, e| a | e.cats | srcs[e.src].cats);
    let key = |e: &&Ent| (e.hi - e.lo, srcs[e.src].name.clone());
    let asn = cover
        .iter()
        .filter_map(|e| e.asn.map(|a| (key(e), a)))
        .min()
        .map(|(_, a)| a);
    let provider = cover
        .iter()
        .filter_map(|e| {
            e.provider
                .clone()
                .or_else(|| srcs[e.src].provider.clone())
                .map(|p| (key(e), p))
        })
        .min()
        .map(|(_, p)| p);
    let country = cover
        .iter()
        .filter_map(|e| e.country.map(|c| (key(e), c)))
        .min()
        .map(|(_, c)| String::from_utf8(c.to_vec()).unwrap());
    let mut sources: Vec<String> = cover.iter().map(|e| srcs[e.src].name.clone()).collect();
    sources.sort();
    sources.dedup();
    Expected {
        cats,
        asn,
        as_org: asn.filter(|a| a % 3 != 0).map(as_name),
        provider,
        country,
        sources,
    }
}

fn addr(v6: bool, x: u128) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::from(x))
    } else {
        IpAddr::V4(Ipv4Addr::from(x as u32))
    }
}

fn build(srcs: &[Src], ents: &[Ent], order: &[usize]) -> Vec<u8> {
    let mut b = Builder::new().build_time(1).limits(Limits::none());
    let mut ids = vec![None; srcs.len()];
    // Declare sources in a permuted order too.
    for i in (0..srcs.len()).rev() {
        let s = &srcs[i];
        let mut spec =
            SourceSpec::new(s.name.clone(), "test").categories(Categories::from_bits(s.cats));
        spec.provider = s.provider.clone();
        spec.tier = s.tier;
        spec.weight = f32::from(s.weight) / 100.0;
        ids[i] = Some(b.add_source(spec).unwrap());
    }
    for &i in order {
        let e = &ents[i];
        let attrs = Attrs {
            categories: Categories::from_bits(e.cats),
            asn: e.asn,
            provider: e.provider.clone(),
            country: e.country,
        };
        b.add_range(
            ids[e.src].unwrap(),
            addr(e.v6, e.lo),
            addr(e.v6, e.hi),
            attrs,
        )
        .unwrap();
    }
    for e in ents {
        if let Some(a) = e.asn.filter(|a| a % 3 != 0) {
            b.add_as_name(a, as_name(a));
        }
    }
    b.compile().unwrap().bytes
}

fn check(
    db: &Database,
    srcs: &[Src],
    ents: &[Ent],
    v6: bool,
    x: u128,
) -> Result<(), TestCaseError> {
    let asked = addr(v6, x);
    let a = db.lookup(asked);
    // `::ffff:a.b.c.d` answers as `a.b.c.d`: the model is asked about the IPv4 address.
    let (v6, x) = if v6 && x >> 32 == 0xFFFF {
        (false, x & 0xFFFF_FFFF)
    } else {
        (v6, x)
    };
    let ip = addr(v6, x);
    let want = model(srcs, ents, v6, x);
    let got = Expected {
        cats: a.categories().bits(),
        asn: a.asn(),
        as_org: a.as_org().map(str::to_owned),
        provider: a.provider().map(str::to_owned),
        country: a.country().map(str::to_owned),
        sources: a.sources().map(str::to_owned).collect(),
    };
    prop_assert_eq!(&got, &want, "address {}", ip);
    // The classification: one signal per covering source, asserting what the source asserts
    // anywhere (declared or per entry), at the source's tier and weight.
    let mut scorer = Scorer::new(Categories::from_bits(want.cats));
    for name in &want.sources {
        let s = srcs.iter().position(|s| &s.name == name).unwrap();
        let asserted = ents
            .iter()
            .filter(|e| e.src == s)
            .fold(srcs[s].cats, |c, e| c | e.cats);
        scorer.add(
            Categories::from_bits(asserted),
            srcs[s].tier,
            srcs[s].weight,
        );
    }
    let (verdict, score) = scorer.finish();
    prop_assert_eq!(a.verdict(), verdict);
    prop_assert!((a.score() - f32::from(score) / 100.0).abs() < 1e-6);
    // The explanation adds up to the stored score: per category the strongest signal, summed.
    let mut sum = 0u32;
    for &(c, _) in &ipsieve::classify::BASE_WEIGHTS {
        sum += u32::from(a.signals().map(|s| s.category_weight(c)).max().unwrap_or(0));
    }
    prop_assert_eq!(sum.min(100) as u8, score);
    prop_assert_eq!(a.signals().count(), want.sources.len());
    prop_assert_eq!(a.trust_score(), 100 - score);
    prop_assert_eq!(a.is_empty(), want.sources.is_empty());
    // The reported network contains the address and shares its answer at both ends.
    let net = a.network();
    prop_assert!(net.contains(&ip), "{} not in {}", ip, net);
    for end in [net.network(), net.broadcast()] {
        let e = match end {
            IpAddr::V4(v) => u128::from(u32::from(v)),
            IpAddr::V6(v) => u128::from(v),
        };
        prop_assert_eq!(
            &model(srcs, ents, v6, e),
            &want,
            "network {} of {} at {}",
            net,
            ip,
            end
        );
    }
    if !v6 {
        let mapped = Ipv4Addr::from(x as u32).to_ipv6_mapped();
        prop_assert_eq!(
            db.lookup(IpAddr::V6(mapped)).record_words(),
            a.record_words()
        );
    }
    Ok(())
}

/// `lookup_many` answers exactly as single lookups, over mixed IPv4/IPv6 groups of any length.
fn batch_agrees(
    db: &Database,
    probes4: &[u128],
    probes6: &[u128],
    ents: &[Ent],
) -> Result<(), TestCaseError> {
    let mut ips: Vec<IpAddr> = Vec::new();
    for (i, &x) in probes4.iter().enumerate() {
        ips.push(addr(false, x));
        if let Some(&y) = probes6.get(i) {
            ips.push(addr(true, y));
        }
    }
    for e in ents {
        ips.push(addr(e.v6, e.lo));
        ips.push(addr(e.v6, e.hi));
    }
    // Every prefix length, so that partial groups are exercised too.
    for n in [0, 1, ips.len() / 3, ips.len()] {
        let got: Vec<_> = db.lookup_many(ips[..n].iter().copied()).collect();
        prop_assert_eq!(got.len(), n);
        for (a, &ip) in got.iter().zip(&ips) {
            let one = db.lookup(ip);
            prop_assert_eq!(
                a.record_words(),
                one.record_words(),
                "batch answer for {}",
                ip
            );
            prop_assert_eq!(a.ip(), one.ip());
            prop_assert_eq!(a.network(), one.network(), "batch network for {}", ip);
        }
    }
    Ok(())
}

/// Clustered addresses so that entries overlap, nest and abut.
fn v4_addr() -> impl Strategy<Value = u128> {
    prop_oneof![
        any::<u32>().prop_map(u128::from),
        (0u32..4, any::<u16>())
            .prop_map(|(b, lo)| u128::from(0x0A00_0000 + (b << 16) + u32::from(lo))),
        (0u32..64).prop_map(|lo| u128::from(0xC000_0200 + lo)),
        Just(0u128),
        Just(u128::from(u32::MAX)),
    ]
}

fn v6_addr() -> impl Strategy<Value = u128> {
    let base: u128 = 0x2001_0db8 << 96;
    prop_oneof![
        any::<u128>(),
        (0u128..4, any::<u16>()).prop_map(move |(b, lo)| base + (b << 64) + u128::from(lo)),
        (0u128..8).prop_map(move |b| base + (b << 80)),
        (0u128..8, 0u128..8).prop_map(move |(b, s)| base + (b << 64) + (s << 60)),
        // IPv4-mapped (`::ffff:a.b.c.d`), answered as the IPv4 address.
        any::<u32>().prop_map(|v| 0xFFFF_0000_0000 | u128::from(v)),
        Just(0u128),
        Just(u128::MAX),
    ]
}

/// Addresses packed into one IPv4 /16, so that its chunk needs a multi-level tree.
fn dense_v4() -> BoxedStrategy<u128> {
    any::<u16>()
        .prop_map(|lo| u128::from(0x0A00_0000u32 + u32::from(lo)))
        .boxed()
}

/// Addresses packed into one IPv6 /16 and two /64s of it (multi-level trees and sub-trees).
fn dense_v6() -> BoxedStrategy<u128> {
    let base: u128 = 0x2001_0db8 << 96;
    prop_oneof![
        (any::<u16>(), any::<u16>())
            .prop_map(move |(a, b)| base + (u128::from(a) << 80) + (u128::from(b) << 64)),
        (0u128..2, any::<u64>()).prop_map(move |(b, lo)| base + (b << 64) + u128::from(lo)),
    ]
    .boxed()
}

fn entry(nsrc: usize) -> impl Strategy<Value = Ent> {
    entry_in(nsrc, v4_addr().boxed(), v6_addr().boxed())
}

fn entry_in(
    nsrc: usize,
    v4_addr: BoxedStrategy<u128>,
    v6_addr: BoxedStrategy<u128>,
) -> impl Strategy<Value = Ent> {
    let attrs = (
        0..nsrc,
        prop_oneof![3 => Just(0u32), 1 => 0u32..64],
        proptest::option::weighted(0.5, 1u32..12),
        proptest::option::weighted(
            0.3,
            prop_oneof![Just("Acme".to_owned()), Just("Zed".to_owned())],
        ),
        proptest::option::weighted(0.3, prop_oneof![Just(*b"US"), Just(*b"DE"), Just(*b"NL")]),
    );
    let shape = prop_oneof![
        // CIDR blocks, with /0 and host routes well represented.
        (
            v4_addr.clone(),
            prop_oneof![Just(0u32), Just(32), 0u32..=32]
        )
            .prop_map(|(a, len)| {
                let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) } as u128;
                (false, a & mask, (a & mask) | (!mask & 0xFFFF_FFFF))
            }),
        (
            v6_addr.clone(),
            prop_oneof![Just(0u32), Just(128), Just(64), 0u32..=128]
        )
            .prop_map(|(a, len)| {
                let mask = if len == 0 {
                    0
                } else {
                    u128::MAX << (128 - len)
                };
                (true, a & mask, (a & mask) | !mask)
            }),
        // Arbitrary inclusive ranges.
        (v4_addr.clone(), v4_addr).prop_map(|(a, b)| (false, a.min(b), a.max(b))),
        (v6_addr.clone(), v6_addr).prop_map(|(a, b)| (true, a.min(b), a.max(b))),
    ];
    (shape, attrs).prop_map(|((v6, lo, hi), (src, cats, asn, provider, country))| Ent {
        src,
        v6,
        lo,
        hi,
        cats,
        asn,
        provider,
        country,
    })
}

fn case() -> impl Strategy<Value = (Vec<Src>, Vec<Ent>)> {
    (1usize..5).prop_flat_map(|n| {
        let srcs = proptest::collection::vec(
            (
                0u32..64,
                proptest::option::of(prop_oneof![Just("Acme".to_owned()), Just("Mid".to_owned())]),
            ),
            n,
        )
        .prop_map(|v| {
            v.into_iter()
                .enumerate()
                .map(|(i, (cats, provider))| Src {
                    name: format!("src-{}", (b'a' + i as u8) as char),
                    cats,
                    provider,
                    // Varied without another strategy: tiers and weights by index and categories.
                    tier: Tier::ALL[(i + cats as usize) % 4],
                    weight: [100, 50, 75, 33][i % 4],
                })
                .collect::<Vec<_>>()
        });
        (srcs, proptest::collection::vec(entry(n), 0..40))
    })
}

/// Many entries in one /16 per family: multi-level chunk trees, deep IPv6 sub-trees.
fn dense_case() -> impl Strategy<Value = (Vec<Src>, Vec<Ent>)> {
    let srcs = vec![
        Src {
            name: "src-a".into(),
            cats: 1,
            provider: Some("Acme".into()),
            tier: Tier::FirstParty,
            weight: 100,
        },
        Src {
            name: "src-b".into(),
            cats: 16,
            provider: None,
            tier: Tier::AsnHeuristic,
            weight: 100,
        },
    ];
    let ents = proptest::collection::vec(entry_in(2, dense_v4(), dense_v6()), 60..400);
    (Just(srcs), ents)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn dense_chunks_equal_the_reference_model(
        (srcs, ents) in dense_case(),
        probes4 in proptest::collection::vec(dense_v4(), 64),
        probes6 in proptest::collection::vec(dense_v6(), 64),
    ) {
        let order: Vec<usize> = (0..ents.len()).collect();
        let bytes = build(&srcs, &ents, &order);
        let db = Database::from_bytes(&bytes).unwrap();
        db.verify().unwrap();
        for &x in &probes4 { check(&db, &srcs, &ents, false, x)?; }
        for &x in &probes6 { check(&db, &srcs, &ents, true, x)?; }
        batch_agrees(&db, &probes4, &probes6, &ents)?;
        for e in &ents {
            let top = if e.v6 { u128::MAX } else { u128::from(u32::MAX) };
            for x in [Some(e.lo), Some(e.hi), e.lo.checked_sub(1), e.hi.checked_add(1).filter(|&h| h <= top)]
                .into_iter()
                .flatten()
            {
                check(&db, &srcs, &ents, e.v6, x)?;
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn lookups_equal_the_reference_model(
        (srcs, ents) in case(),
        probes4 in proptest::collection::vec(v4_addr(), 32),
        probes6 in proptest::collection::vec(v6_addr(), 32),
        seed in any::<u64>(),
    ) {
        // Insertion order must not matter: build in two orders, demand identical bytes.
        let order: Vec<usize> = (0..ents.len()).collect();
        let mut shuffled = order.clone();
        let mut s = seed | 1;
        for i in (1..shuffled.len()).rev() {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            shuffled.swap(i, (s % (i as u64 + 1)) as usize);
        }
        let bytes = build(&srcs, &ents, &order);
        prop_assert_eq!(&bytes, &build(&srcs, &ents, &shuffled), "build depends on input order");
        let db = Database::from_bytes(&bytes).unwrap();
        db.verify().unwrap();

        for &x in &probes4 { check(&db, &srcs, &ents, false, x)?; }
        for &x in &probes6 { check(&db, &srcs, &ents, true, x)?; }
        batch_agrees(&db, &probes4, &probes6, &ents)?;
        for e in &ents {
            let top = if e.v6 { u128::MAX } else { u128::from(u32::MAX) };
            for x in [Some(e.lo), Some(e.hi), e.lo.checked_sub(1), e.hi.checked_add(1).filter(|&h| h <= top)]
                .into_iter()
                .flatten()
            {
                check(&db, &srcs, &ents, e.v6, x)?;
            }
        }
    }
}

#[test]
fn empty_build_answers_clean_everywhere() {
    let bytes = Builder::new().compile().unwrap().bytes;
    let db = Database::from_bytes(&bytes).unwrap();
    db.verify().unwrap();
    for ip in ["0.0.0.0", "255.255.255.255", "::", "ffff::1", "2001:db8::1"] {
        let a = db.lookup(ip.parse().unwrap());
        assert!(
            a.categories().is_empty() && a.is_empty() && a.asn().is_none(),
            "{ip}"
        );
        assert_eq!(a.network().prefix_len(), 0, "{ip}: {}", a.network());
    }
}

#[test]
fn absurd_ranges_are_rejected_with_a_reason() {
    let mut b = Builder::new();
    let vpn = b
        .add_source(SourceSpec::new("vpn-x", "ip-list").categories(Categories::VPN))
        .unwrap();
    let bgp = b.add_source(SourceSpec::new("bgp", "pfx2as")).unwrap();
    let err = b
        .add_net(vpn, "0.0.0.0/0".parse().unwrap(), Attrs::default())
        .unwrap_err();
    assert!(err.to_string().contains("wider than a /16"), "{err}");
    assert!(b
        .add_net(vpn, "::/0".parse().unwrap(), Attrs::default())
        .is_err());
    assert!(b
        .add_net(vpn, "11.0.0.0/16".parse().unwrap(), Attrs::default())
        .is_ok());
    // Special-purpose space is no VPN's, however narrow; the reason names the block.
    for (net, block) in [
        ("10.0.0.0/16", "10.0.0.0/8, Private-Use"),
        ("10.1.2.3/32", "10.0.0.0/8, Private-Use"),
        ("127.0.0.1/32", "127.0.0.0/8, Loopback"),
        ("100.64.0.0/24", "100.64.0.0/10, Shared Address Space"),
        ("169.254.1.0/24", "169.254.0.0/16, Link Local"),
        ("172.31.0.0/16", "172.16.0.0/12, Private-Use"),
        ("192.168.1.0/24", "192.168.0.0/16, Private-Use"),
        ("224.0.0.1/32", "224.0.0.0/4, Multicast"),
        ("255.255.255.255/32", "240.0.0.0/4, Reserved"),
        ("0.0.0.0/32", "0.0.0.0/8"),
        ("fd12:3456::/32", "fc00::/7, Unique-Local"),
        ("fe80::/64", "fe80::/10, Link-Local Unicast"),
        ("ff02::1/128", "ff00::/8, Multicast"),
        ("::1/128", "::1/128, Loopback Address"),
    ] {
        let err = b
            .add_net(vpn, net.parse().unwrap(), Attrs::default())
            .expect_err(net);
        assert!(err.to_string().contains(block), "{net}: {err}");
    }
    // A range that only touches a block at one end is rejected too; neighbours are not.
    assert!(b
        .add_range(
            vpn,
            "9.255.255.0".parse().unwrap(),
            "10.0.0.0".parse().unwrap(),
            Attrs::default()
        )
        .is_err());
    for net in [
        "9.255.255.0/24",
        "100.128.0.0/24",
        "192.0.2.0/24",
        "2001:db8::/48",
    ] {
        assert!(
            b.add_net(vpn, net.parse().unwrap(), Attrs::default())
                .is_ok(),
            "{net}"
        );
    }
    // Routing data without categories may cover anything, private space included.
    assert!(b
        .add_net(bgp, "10.0.0.0/8".parse().unwrap(), Attrs::default())
        .is_ok());
    // Routing data (an origin AS) may not be wider than the floor, nor in special-purpose
    // space: a default route would give private space an owner.
    let routed = Attrs {
        asn: Some(1),
        ..Attrs::default()
    };
    assert!(b
        .add_net(bgp, "0.0.0.0/1".parse().unwrap(), routed.clone())
        .is_err());
    assert!(b
        .add_net(bgp, "10.0.0.0/8".parse().unwrap(), routed.clone())
        .is_err());
    assert!(b.add_net(bgp, "8.0.0.0/8".parse().unwrap(), routed).is_ok());
    let bad_cc = Attrs {
        country: Some(*b"u1"),
        ..Attrs::default()
    };
    assert!(b
        .add_net(bgp, "1.0.0.0/24".parse().unwrap(), bad_cc)
        .is_err());
    assert!(b
        .add_range(
            vpn,
            "1.0.0.9".parse().unwrap(),
            "1.0.0.1".parse().unwrap(),
            Attrs::default()
        )
        .is_err());
    assert!(b
        .add_range(
            vpn,
            "1.0.0.1".parse().unwrap(),
            "::1".parse().unwrap(),
            Attrs::default()
        )
        .is_err());
    assert!(b.add_source(SourceSpec::new("vpn-x", "ip-list")).is_err());
    assert!(b
        .add_source(SourceSpec::new("Bad Name", "ip-list"))
        .is_err());
}
