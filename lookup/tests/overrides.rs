//! The overlay, the policy helper and the rate-limit keys, on the golden artifact and against
//! naive reference models.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipsieve::overlay::naive_check;
use ipsieve::{
    ActionClass, BucketKey, Categories, Database, Indicator, IpNet, Overlay, OverlayAction,
    OverlayEntry, OverlayTarget, Policy, Reason, Response, V6Bucket,
};
use proptest::prelude::*;

fn golden() -> Database {
    Database::from_bytes(include_bytes!("golden/v4.ipsieve")).unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A uniquely named file under the target directory's temp area, removed on drop.
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn new(name: &str, contents: &[u8]) -> TempFile {
        let path = std::env::temp_dir().join(format!("ipsieve-{}-{name}", std::process::id()));
        std::fs::write(&path, contents).unwrap();
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn golden_tor_exit_is_blocked_on_payment_unless_allowed() {
    let db = golden();
    let policy = Policy::default();
    let tor = db.lookup(ip("185.220.101.1"));
    assert!(tor.is_tor());

    let none = Overlay::empty();
    let d = policy.decide(ActionClass::PAYMENT, &tor, none.check(&tor));
    assert_eq!(d.response, Response::Block);
    assert_eq!(d.reason, Reason::Indicator(Indicator::TorExit));
    assert_eq!(
        policy
            .decide(ActionClass::READ, &tor, none.check(&tor))
            .response,
        Response::ElevateRisk
    );
    assert_eq!(
        policy
            .decide(ActionClass::LOGIN, &tor, none.check(&tor))
            .response,
        Response::StepUp
    );

    // Allowed by address, by prefix, and by the exit's origin ASN (AS60729 in the golden
    // data), each time despite a deny covering the same address.
    for (allow, neighbour_allowed) in [
        ("185.220.101.1", false),
        ("185.220.101.0/24", true),
        ("AS60729", true),
    ] {
        let text = format!("deny 185.220.0.0/16 tor\nallow {allow} pentest\n");
        let overlay = Overlay::parse("overlay.txt", text.as_bytes()).unwrap();
        let m = overlay.check(&tor).unwrap();
        assert_eq!(m.action(), OverlayAction::Allow, "{allow}");
        assert_eq!(m.entry().line(), Some(2));
        for class in ActionClass::ALL {
            let d = policy.decide(class, &tor, overlay.check(&tor));
            assert_eq!(d.response, Response::Allow, "{allow} {class}");
            assert!(d.by_overlay());
        }
        // The neighbour (same AS, same /24, not the same address).
        let other = db.lookup(ip("185.220.101.2"));
        assert_eq!(other.asn(), Some(60729));
        let m = overlay.check(&other).unwrap();
        assert_eq!(m.is_allow(), neighbour_allowed, "{allow}");
        if !neighbour_allowed {
            assert_eq!(m.reason(), "tor");
            let d = policy.decide(ActionClass::SIGNUP, &other, overlay.check(&other));
            assert_eq!(d.response, Response::Block);
            assert_eq!(
                d.to_string(),
                "block: overlay deny 185.220.0.0/16 (overlay.txt line 1): tor"
            );
        }
    }
}

#[test]
fn golden_relay_and_clean_addresses_are_never_blocked() {
    let db = golden();
    let policy = Policy::default();
    let relay = db.lookup(ip("2606:54c0:1000::1"));
    assert!(relay.is_relay());
    let clean = db.lookup(ip("192.0.2.1"));
    for class in ActionClass::ALL {
        let d = policy.decide(class, &relay, None);
        assert_eq!(d.response, Response::Allow, "{class}");
        assert_eq!(d.reason, Reason::Indicator(Indicator::Relay));
        let d = policy.decide(class, &clean, None);
        assert_eq!((d.response, d.reason), (Response::Allow, Reason::Clean));
    }
    // Hosting from a provider's own list is not weak evidence: the cell applies uncapped.
    let aws = db.lookup(ip("3.5.141.200"));
    let strict = Policy::default().with(ActionClass::SIGNUP, Indicator::Hosting, Response::Block);
    let d = strict.decide(ActionClass::SIGNUP, &aws, None);
    assert_eq!(
        d.response,
        Response::Block,
        "{:?}",
        aws.source_infos().collect::<Vec<_>>()
    );
    assert_eq!(d.reason, Reason::Indicator(Indicator::Hosting));
}

#[test]
fn golden_mapped_addresses_check_like_ipv4() {
    let db = golden();
    let overlay = Overlay::parse("o", "deny 1.1.1.0/24 test\n".as_bytes()).unwrap();
    let mapped = db.lookup(ip("::ffff:1.1.1.1"));
    assert!(overlay.check(&mapped).unwrap().is_deny());
    assert!(overlay.check_ip(ip("::ffff:1.1.1.1"), None).is_some());
    assert!(overlay.check_ip(ip("1.1.2.1"), None).is_none());
}

#[test]
fn overlay_and_policy_files_load_and_name_their_path() {
    let good = TempFile::new(
        "overlay-good.txt",
        b"\xef\xbb\xbf# exported from the admin UI\r\nallow 203.0.113.0/24 acme office\r\n\r\ndeny AS64496 abuse\r\n",
    );
    let overlay = Overlay::load(&good.0).unwrap();
    assert_eq!(overlay.len(), 2);
    assert_eq!(overlay.source_name(), good.0.display().to_string());
    let m = overlay.check_ip(ip("203.0.113.9"), Some(64496)).unwrap();
    assert_eq!(m.reason(), "acme office");
    assert_eq!(m.entry().line(), Some(2));

    let bad = TempFile::new(
        "overlay-bad.txt",
        b"allow 203.0.113.0/24 ok\n\n# fine\ndeny fe80::1%eth0 link local\n",
    );
    let e = Overlay::load(&bad.0).unwrap_err();
    assert_eq!(e.line(), Some(4));
    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!("{}: line 4: ", bad.0.display())),
        "{msg}"
    );
    assert!(
        msg.contains("zone ids") && msg.contains("fe80::1%eth0"),
        "{msg}"
    );

    let policy = TempFile::new("policy.txt", b"payment vpn block\nread * allow\n");
    let p = Policy::load(&policy.0).unwrap();
    assert_eq!(
        p.cell(ActionClass::PAYMENT, Indicator::Vpn),
        Response::Block
    );
    assert_eq!(
        p.cell(ActionClass::READ, Indicator::TorExit),
        Response::Allow
    );
    assert_eq!(
        p.cell(ActionClass::LOGIN, Indicator::Vpn),
        Response::ElevateRisk
    );
    let bad_policy = TempFile::new("policy-bad.txt", b"payment vpn block\npayment vpn maybe\n");
    let e = Policy::load(&bad_policy.0).unwrap_err();
    assert_eq!(e.line(), Some(2));
    assert!(e.to_string().contains("unknown response \"maybe\""), "{e}");
}

#[test]
fn hostile_overlay_files_fail_cleanly() {
    let huge_line = format!("deny 192.0.2.0/24 {}\n", "x".repeat(10_000));
    let cases: Vec<(Vec<u8>, u64, &str)> = vec![
        (b"\x00\x01\x02binary".to_vec(), 1, "NUL byte"),
        (
            b"allow 192.0.2.1 ok\n\xff\xfe\n".to_vec(),
            2,
            "invalid UTF-8",
        ),
        (huge_line.into_bytes(), 1, "longer than 4096 bytes"),
        (
            b"<html><body>login</body></html>\n".to_vec(),
            1,
            "unknown action \"<html><body>login</body></html>\"",
        ),
        (
            b"deny 192.0.2.0/4294967296 x\n".to_vec(),
            1,
            "not a number from 0 to 32",
        ),
        (
            b"deny 2001:db8::/1280 x\n".to_vec(),
            1,
            "not a number from 0 to 128",
        ),
        (b"\n\n\ndeny AS4294967296 x\n".to_vec(), 4, "out of range"),
        (b"deny 0.0.0.0/0 everything\n".to_vec(), 1, "too wide"),
        (b"allow ::/0 everything\n".to_vec(), 1, "IPv4-mapped"),
        (b"deny 2001:db8::1%25eth0 zone\n".to_vec(), 1, "zone ids"),
    ];
    for (text, line, want) in cases {
        let e = Overlay::parse("hostile.txt", text.as_slice()).unwrap_err();
        assert_eq!(e.line(), Some(line), "{e}");
        assert!(e.reason().contains(want), "got {e}, want {want:?}");
        assert!(e.text().chars().count() <= 81, "{e}");
    }
}

/// Runs `f` on a worker thread and waits at most 20 s for it, so a call that blocks (opening
/// a FIFO) or never ends (an endless stream) fails the test instead of hanging it. `unblock`
/// runs if the deadline passes, to let the worker go before the test fails.
fn within_deadline<T: Send + 'static>(
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
    unblock: impl FnOnce(),
) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(std::time::Duration::from_secs(20)) {
        Ok(v) => v,
        Err(_) => {
            unblock();
            panic!("{what} did not return within 20 s");
        }
    }
}

#[test]
#[cfg(unix)]
fn overlay_and_policy_load_refuse_what_is_not_a_regular_file() {
    let dir = std::env::temp_dir().join(format!("ipsieve-special-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("overlay.fifo");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(status.success(), "mkfifo {}", fifo.display());
    let link = dir.join("link-to-fifo");
    std::os::unix::fs::symlink(&fifo, &link).unwrap();

    for path in [fifo.clone(), link] {
        let p = path.clone();
        let e = within_deadline(
            "Overlay::load on a FIFO",
            move || Overlay::load(&p).map(|o| o.len()),
            // Opening the write end lets a reader blocked in open(2) go on (to end of file).
            || drop(std::fs::OpenOptions::new().write(true).open(&fifo)),
        )
        .unwrap_err();
        let msg = e.to_string();
        assert_eq!(e.line(), None, "{msg}");
        assert!(
            msg.starts_with(&format!("{}: ", path.display())) && msg.contains("a FIFO"),
            "{msg}"
        );
        assert!(msg.contains("not a regular file"), "{msg}");
        let p = path.clone();
        let e = within_deadline(
            "Policy::load on a FIFO",
            move || Policy::load(&p).map(|_| ()),
            || drop(std::fs::OpenOptions::new().write(true).open(&fifo)),
        )
        .unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
    }
    for (path, kind) in [
        ("/dev/null", "a character device"),
        ("/dev/zero", "a character device"),
    ] {
        let e = Overlay::load(path).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{path}: {kind}, not a regular file: write the entries to a regular file and \
                 give its path"
            )
        );
    }
    let e = Overlay::load(&dir).unwrap_err();
    assert!(
        e.to_string().contains("a directory, not a regular file"),
        "{e}"
    );
    // A symbolic link to a regular file is read.
    let file = dir.join("overlay.txt");
    std::fs::write(&file, "deny 192.0.2.0/24 x\n").unwrap();
    let link = dir.join("link-to-file");
    std::os::unix::fs::symlink(&file, &link).unwrap();
    assert_eq!(Overlay::load(&link).unwrap().len(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// An endless reader repeating one line.
struct Cycle {
    line: Vec<u8>,
    at: usize,
}

impl std::io::Read for Cycle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut n = 0;
        while n < buf.len() {
            let take = (self.line.len() - self.at).min(buf.len() - n);
            buf[n..n + take].copy_from_slice(&self.line[self.at..self.at + take]);
            self.at = (self.at + take) % self.line.len();
            n += take;
        }
        Ok(n)
    }
}

#[test]
fn overlay_reading_is_bounded() {
    // An endless line (like /dev/zero, here printable) stops at the line limit.
    let e = within_deadline(
        "Overlay::parse of an endless line",
        || {
            let endless = std::io::BufReader::new(std::io::repeat(b'a'));
            Overlay::parse("endless", endless).map(|o| o.len())
        },
        || {},
    )
    .unwrap_err();
    assert_eq!(e.line(), Some(1));
    assert!(e.reason().contains("longer than 4096 bytes"), "{e}");
    // An endless stream of short lines (comments, so nothing is kept) stops at the file limit.
    let e = within_deadline(
        "Overlay::parse of an endless stream of lines",
        || {
            let line = format!("# {}\n", "c".repeat(4000)).into_bytes();
            let endless = std::io::BufReader::new(Cycle { line, at: 0 });
            Overlay::parse("endless", endless).map(|o| o.len())
        },
        || {},
    )
    .unwrap_err();
    assert_eq!(e.source_name(), "endless");
    // 4 003-byte lines: line 16 765 is the first to end past 64 MiB.
    assert_eq!(e.line(), Some(16_765), "{e}");
    assert!(
        e.reason()
            .starts_with("the file is larger than 64 MiB (67110295 bytes or more)"),
        "{e}"
    );
    // A file that says it is larger is refused before it is read.
    let path = std::env::temp_dir().join(format!("ipsieve-{}-big.txt", std::process::id()));
    let file = std::fs::File::create(&path).unwrap();
    file.set_len((64 << 20) + 1).unwrap();
    let e = Overlay::load(&path).unwrap_err();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(e.line(), None, "{e}");
    assert!(
        e.to_string().starts_with(&format!(
            "{}: the file is larger than 64 MiB (67108865 bytes or more)",
            path.display()
        )),
        "{e}"
    );
    assert!(e.reason().contains("larger than 64 MiB"), "{e}");
}

// ---- properties ----

/// Entries inside two small spaces (10.0.0.0/16 plus a few wide blocks, 2001:db8::/112 plus
/// a few wide blocks) so that random entries nest, repeat and touch; and a few ASNs.
fn entry() -> impl Strategy<Value = OverlayEntry> {
    let action = prop_oneof![Just(OverlayAction::Allow), Just(OverlayAction::Deny)];
    let v4 = (0u32..0x1_0000, 0u8..=32).prop_map(|(low, len)| {
        let len = if len < 16 {
            [0, 8, 15][usize::from(len % 3)]
        } else {
            len
        };
        let a = Ipv4Addr::from(0x0A00_0000 | low);
        IpNet::new(IpAddr::V4(a), len).unwrap().trunc()
    });
    let v6 = (0u128..0x1_0000, 0u8..=128).prop_map(|(low, len)| {
        let len = if len < 112 {
            [0, 32, 64, 111][usize::from(len % 4)]
        } else {
            len
        };
        let a = Ipv6Addr::from((0x2001_0db8_u128 << 96) | low);
        IpNet::new(IpAddr::V6(a), len).unwrap().trunc()
    });
    let target = prop_oneof![
        4 => v4.prop_map(OverlayTarget::Net),
        3 => v6.prop_map(OverlayTarget::Net),
        1 => (1u32..5).prop_map(OverlayTarget::Asn),
    ];
    (action, target, 0u8..4).prop_map(|(a, t, r)| OverlayEntry::new(a, t, format!("r{r}")))
}

/// Probe addresses: every entry's first and last address and their neighbours, plus random
/// ones in the same spaces and at the ends of both spaces.
fn probes(entries: &[OverlayEntry], random: &[(u32, u128)]) -> Vec<IpAddr> {
    let mut out: Vec<IpAddr> = vec![
        Ipv4Addr::UNSPECIFIED.into(),
        Ipv4Addr::BROADCAST.into(),
        Ipv6Addr::UNSPECIFIED.into(),
        Ipv6Addr::from(u128::MAX).into(),
    ];
    for e in entries {
        if let OverlayTarget::Net(n) = e.target() {
            match n {
                IpNet::V4(n) => {
                    let (a, b) = (u32::from(n.network()), u32::from(n.broadcast()));
                    for x in [a.wrapping_sub(1), a, b, b.wrapping_add(1)] {
                        out.push(Ipv4Addr::from(x).into());
                        out.push(Ipv4Addr::from(x).to_ipv6_mapped().into());
                    }
                }
                IpNet::V6(n) => {
                    let (a, b) = (u128::from(n.network()), u128::from(n.broadcast()));
                    for x in [a.wrapping_sub(1), a, b, b.wrapping_add(1)] {
                        out.push(Ipv6Addr::from(x).into());
                    }
                }
            }
        }
    }
    for &(v4, v6) in random {
        out.push(Ipv4Addr::from(0x0A00_0000 | (v4 & 0x1_FFFF)).into());
        out.push(Ipv6Addr::from((0x2001_0db8_u128 << 96) | (v6 & 0x1_FFFF)).into());
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The indexed overlay reports exactly the entry a linear scan picks (allow wins, then the
    /// longest prefix, then an ASN, then the first in order).
    #[test]
    fn overlay_matches_a_linear_scan(
        entries in prop::collection::vec(entry(), 0..40),
        random in prop::collection::vec((any::<u32>(), any::<u128>()), 0..20),
    ) {
        let overlay = Overlay::from_entries(entries.clone());
        for ip in probes(&entries, &random) {
            for asn in [None, Some(1), Some(2), Some(3), Some(4), Some(9)] {
                let got = overlay.check_ip(ip, asn).map(|m| {
                    overlay.entries().iter().position(|e| std::ptr::eq(e, m.entry())).unwrap()
                });
                let want = naive_check(&entries, ip, asn);
                prop_assert_eq!(got, want, "ip {} asn {:?}", ip, asn);
            }
        }
    }

    /// Writing entries in the file format and parsing them back gives the same overlay.
    #[test]
    fn overlay_file_round_trip(entries in prop::collection::vec(entry(), 0..30)) {
        let wide = |e: &OverlayEntry| matches!(e.target(),
            OverlayTarget::Net(n) if n.prefix_len() < if matches!(n, IpNet::V4(_)) { 8 } else { 16 });
        let entries: Vec<OverlayEntry> = entries.into_iter().filter(|e| !wide(e)).collect();
        let text: String = entries.iter().map(|e| format!("{e}\n")).collect();
        let parsed = Overlay::parse("rt", text.as_bytes()).unwrap();
        prop_assert_eq!(parsed.len(), entries.len());
        for (i, (a, b)) in parsed.entries().iter().zip(&entries).enumerate() {
            prop_assert_eq!((a.action(), a.target(), a.reason()), (b.action(), b.target(), b.reason()));
            prop_assert_eq!(a.line(), Some(i as u64 + 1));
        }
    }

    /// Keys: the bucket contains the address, and two addresses share a key exactly when they
    /// share the bucket's prefix bits (IPv4 and mapped IPv4: the whole address).
    #[test]
    fn bucket_keys_group_by_prefix(a in any::<u128>(), b in any::<u128>(), flip in 0u32..128) {
        let b = if b % 2 == 0 { a ^ (1 << flip) } else { b };
        for w in V6Bucket::ALL {
            let (x, y) = (Ipv6Addr::from(a), Ipv6Addr::from(b));
            let (kx, ky) = (BucketKey::new(x.into(), w), BucketKey::new(y.into(), w));
            let shift = 128 - u32::from(w.prefix_len());
            let same = match (x.to_ipv4_mapped(), y.to_ipv4_mapped()) {
                (None, None) => a >> shift == b >> shift,
                (Some(p), Some(q)) => p == q,
                _ => false,
            };
            prop_assert_eq!(kx == ky, same, "{} {} {:?}", x, y, w);
            prop_assert!(kx.network().contains(&IpAddr::V6(x).to_canonical()));
            let v4 = Ipv4Addr::from(a as u32);
            prop_assert_eq!(BucketKey::new(v4.to_ipv6_mapped().into(), w), BucketKey::new(v4.into(), w));
        }
    }

    /// The default policy's promises, on any categories and any overlay deny.
    #[test]
    fn default_policy_promises(bits in 0u32..64, class in 0usize..ActionClass::ALL.len(), deny in any::<bool>()) {
        let overlay = Overlay::parse("o", "deny 192.0.2.0/24 x\n".as_bytes()).unwrap();
        let m = overlay.check_ip("192.0.2.1".parse().unwrap(), None).filter(|_| deny);
        let cats = Categories::from_bits(bits);
        let class = ActionClass::ALL[class];
        let d = Policy::default().decide_categories(class, cats, m);
        if class == ActionClass::READ {
            prop_assert!(d.response != Response::Block);
        }
        if cats.contains(Categories::RELAY) && !cats.contains(Categories::TOR_EXIT) && !deny {
            prop_assert!(d.response != Response::Block);
        }
        if !cats.contains(Categories::TOR_EXIT) && !deny {
            prop_assert!(d.response != Response::Block);
        }
    }
}
