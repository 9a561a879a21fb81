//! Hostile and failing sources through the binary: `ipsieve build` reports hostile lines by
//! source and line, fails on a source that stops early unless it is `optional`, and the full
//! shared-data build gives special-purpose space no ASN. The library side is
//! `builder/tests/hostile_sources.rs`.

use ipsieve_testkit::{ivpn, table, text};
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use ipsieve::Database;
use ipsieve_builder::manifest::Manifest;
use ipsieve_builder::{load, BuildError, Builder};
use ipsieve_sources::input;

fn root() -> PathBuf {
    ipsieve_testkit::repo()
}

/// An empty scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    ipsieve_testkit::fresh_dir(&format!("sources-{name}"))
}

/// Writes `manifest` to `dir/sources.toml` and builds it with the library as `ipsieve build`
/// does, for its error.
fn build(dir: &Path, manifest: &str) -> Result<(), BuildError> {
    let path = dir.join("sources.toml");
    std::fs::write(&path, manifest).unwrap();
    let manifest = Manifest::load(&path)?;
    let mut b = Builder::new().build_time(1_750_000_000);
    load::load_manifest(&manifest, &mut b, |_| {})?;
    b.compile().map(drop)
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// Special-purpose addresses the routing data of the tests below must leave without an ASN:
/// "this network", private, CGNAT, loopback, link-local, multicast, broadcast; IPv6
/// unspecified, loopback, unique-local, link-local, multicast; an IPv4-mapped private address.
const SPECIAL_ADDRESSES: [&str; 14] = [
    "0.0.0.1",
    "10.0.0.1",
    "100.64.0.1",
    "127.0.0.1",
    "169.254.1.1",
    "172.16.0.1",
    "192.168.1.1",
    "224.0.0.251",
    "255.255.255.255",
    "::1",
    "fd00::1",
    "fe80::1",
    "ff02::1",
    "::ffff:10.0.0.1",
];

/// The full shared-data build, as `ipsieve build --sources sources/shared-data.toml` makes it
/// (through the binary), gives no special-purpose address an ASN: `routeviews-rib-2014` holds
/// a default route `0.0.0.0/0` from AS16637, which answered for 10.0.0.1, 127.0.0.1,
/// 255.255.255.255 and, through the MMDB export's IPv4 alias, ::1. Without `../shared/data`
/// the test prints why it did nothing, except under `CI=true`, where that is a failure.
#[test]
fn the_full_build_gives_special_purpose_space_no_asn() {
    let Some(_data) =
        ipsieve_testkit::require_shared_data("the_full_build_gives_special_purpose_space_no_asn")
    else {
        return;
    };
    let dir = scratch("full-build");
    let (db, report) = (dir.join("full.ipsieve"), dir.join("report.json"));
    let ipsieve = || Command::new(env!("CARGO_BIN_EXE_ipsieve"));
    let out = ipsieve()
        .args(["build", "--quiet", "--sources"])
        .arg(root().join("sources/shared-data.toml"))
        .arg("--out")
        .arg(&db)
        .arg("--report-json")
        .arg(&report)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = ipsieve()
        .args(["lookup", "--json", "--db"])
        .arg(&db)
        .args(SPECIAL_ADDRESSES)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answers: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(answers.len(), SPECIAL_ADDRESSES.len());
    for a in &answers {
        assert!(a["asn"].is_null(), "{} has an ASN: {a}", a["ip"]);
    }
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let sources = report["sources"].as_array().unwrap();
    let rib = sources
        .iter()
        .find(|s| s["name"] == "routeviews-rib-2014")
        .unwrap();
    let errors: Vec<&str> = rib["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e.as_str())
        .collect();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("0.0.0.0/0 is wider than a /8, the limit for routing entries")),
        "{errors:?}"
    );
    for s in sources.iter().filter(|s| s["rejected"].as_u64() > Some(0)) {
        eprintln!(
            "{}: {} of {} rejected, first: {}",
            s["name"], s["rejected"], s["read"], s["errors"][0]
        );
    }
}

/// The same cases through the binary: the report names each rejected line and the build
/// publishes the rest.
#[test]
fn the_binary_reports_hostile_lines_by_source_and_line() {
    let dir = scratch("cli");
    let lines = ivpn(30);
    let mut bytes = text(&lines[..10]).into_bytes();
    bytes.extend_from_slice(b"0.0.0.0/0\n2001:db8::1%1/64\n37.19.206.105\0\n");
    bytes.extend(std::iter::repeat_n(b'9', 2 << 20));
    bytes.push(b'\n');
    bytes.extend_from_slice(text(&lines[10..]).as_bytes());
    bytes.extend_from_slice(format!("{}\n", lines[0]).as_bytes());
    std::fs::write(dir.join("vpn.txt"), bytes).unwrap();
    std::fs::write(
        dir.join("sources.toml"),
        table(
            "vpn",
            "ip-list",
            "vpn.txt",
            "categories = [\"vpn\"]\nmax_reject_pct = 50",
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ipsieve"))
        .args(["build", "--sources"])
        .arg(dir.join("sources.toml"))
        .arg("--out")
        .arg(dir.join("out.ipsieve"))
        .env("SOURCE_DATE_EPOCH", "1750000000")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let nines = "9".repeat(80);
    for expected in [
        "rejected: vpn: line 11: 0.0.0.0/0 is wider than a /16, the limit for vpn entries",
        "rejected: vpn: line 12: ipv6 zone ids (\"%...\") are not allowed (in \"2001:db8::1%1/64\")",
        "rejected: vpn: line 13: not an ip address or network (in \"37.19.206.105\\0\")",
        &format!("rejected: vpn: line 14: line longer than 1048576 bytes (in \"{nines}…\")"),
    ] {
        assert!(stdout.contains(expected), "{expected}\n{stdout}");
    }
    // The repeated line is a duplicate, counted once, in its own column (no warning).
    let row: Vec<&str> = stdout
        .lines()
        .find(|l| l.split_whitespace().next() == Some("vpn"))
        .unwrap_or_else(|| panic!("no vpn row:\n{stdout}"))
        .split_whitespace()
        .collect();
    let n = |i: usize| row[i].parse::<u64>().unwrap();
    assert_eq!(n(3), 1, "duplicates: {row:?}");
    assert_eq!(
        n(4),
        n(1) - n(2) - n(3),
        "entries = seen - rejected - duplicates: {row:?}"
    );
    assert!(!stdout.contains("repeating an earlier entry"), "{stdout}");
    let db = std::fs::read(dir.join("out.ipsieve")).unwrap();
    let db = Database::from_bytes(&db).unwrap();
    assert!(db.lookup(ip(&lines[29])).is_vpn());
}

/// A source that stops on a fatal error or yields nothing fails the build, naming the source
/// and the reason, and nothing is published (the artifact already there stays, same bytes and
/// inode): an HTML login page or a truncated JSON document as the AWS source, an empty list,
/// a corrupt gzip. Marked `optional = true`, the source is skipped instead and the report says
/// so. Was: exit 0, an artifact published without the source.
#[test]
fn a_failing_source_fails_the_build_unless_optional() {
    use std::os::unix::fs::MetadataExt;

    let dir = scratch("failing-sources");
    let mut aws = Vec::new();
    std::io::Read::read_to_end(
        &mut input::open(&root().join("data/snapshot/cloud/aws-ip-ranges.json.gz")).unwrap(),
        &mut aws,
    )
    .unwrap();
    let ivpn = std::fs::read(root().join("data/snapshot/vpn/ivpn.txt")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&ivpn).unwrap();
    let mut corrupt = gz.finish().unwrap();
    // The first bytes of the deflate stream, after the 10-byte gzip header.
    for b in &mut corrupt[10..14] {
        *b ^= 0xff;
    }
    let html = b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body>Sign in to \
                 continue</body></html>\n";
    for (name, bytes) in [
        ("ivpn.txt", &ivpn[..]),
        ("aws.html", &html[..]),
        ("aws-cut.json", &aws[..aws.len() / 2]),
        ("empty.txt", &[][..]),
        ("corrupt.txt.gz", &corrupt[..]),
    ] {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    let good = table("vpn-ivpn", "ip-list", "ivpn.txt", "categories = [\"vpn\"]");
    let manifest = dir.join("sources.toml");
    let out = dir.join("out.ipsieve");
    let ipsieve = |extra: &[&str], out: &Path| {
        Command::new(env!("CARGO_BIN_EXE_ipsieve"))
            .args(["build", "--sources"])
            .arg(&manifest)
            .arg("--out")
            .arg(out)
            .args(extra)
            .env("SOURCE_DATE_EPOCH", "1750000000")
            .output()
            .unwrap()
    };
    std::fs::write(&manifest, &good).unwrap();
    assert!(ipsieve(&["--quiet"], &out).status.success());
    let published = (
        std::fs::read(&out).unwrap(),
        std::fs::metadata(&out).unwrap().ino(),
    );
    let hint = "refusing to publish without it (fix or fetch the file again, or mark the source \
                `optional = true`)";
    let cases = [
        (
            "aws",
            "aws-ip-ranges",
            "aws.html",
            format!(
                "source 'aws' stopped early, {hint}: aws: line 1: invalid json (expected value); \
                 the file is probably truncated or not an aws ip-ranges.json document"
            ),
        ),
        (
            "aws",
            "aws-ip-ranges",
            "aws-cut.json",
            format!("source 'aws' stopped early, {hint}: aws: line "),
        ),
        (
            "vpn-empty",
            "ip-list",
            "empty.txt",
            format!(
                "source 'vpn-empty' yielded no entries from {} (an empty file, or not ip-list \
                 data), {hint}",
                dir.join("empty.txt").display()
            ),
        ),
        (
            "vpn-gz",
            "ip-list",
            "corrupt.txt.gz",
            format!(
                "source 'vpn-gz' stopped early, {hint}: vpn-gz: line 1: input cannot be read \
                 past this point (corrupt deflate stream)"
            ),
        ),
    ];
    for (name, format, file, reason) in &cases {
        let broken = table(name, format, file, "categories = [\"vpn\"]");
        std::fs::write(&manifest, format!("{good}{broken}")).unwrap();
        let o = ipsieve(&["--quiet"], &out);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{file}: {stderr}");
        let want = format!("ipsieve: {}: line 6: {reason}", manifest.display());
        assert!(
            stderr.starts_with(&want),
            "{file}:\n{stderr}\nwanted\n{want}"
        );
        let now = (
            std::fs::read(&out).unwrap(),
            std::fs::metadata(&out).unwrap().ino(),
        );
        assert!(
            now == published,
            "{file}: the published artifact is untouched"
        );
        // The library says the same.
        let e = build(&dir, &format!("{good}{broken}"))
            .err()
            .unwrap()
            .to_string();
        assert!(
            want.ends_with(&e) || e.starts_with(&format!("line 6: {reason}")),
            "{e}"
        );

        // Optional: built without it, and the report says so.
        let optional = table(
            name,
            format,
            file,
            "categories = [\"vpn\"]\noptional = true",
        );
        std::fs::write(&manifest, format!("{good}{optional}")).unwrap();
        let (out2, report) = (dir.join("optional.ipsieve"), dir.join("report.json"));
        let o = ipsieve(&["--report-json", report.to_str().unwrap()], &out2);
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(
            stdout.contains("      optional, built without it: "),
            "{file}: {stdout}"
        );
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
        let skipped = &json["sources"][1];
        assert_eq!(skipped["name"], *name);
        assert_eq!(skipped["optional"], true);
        assert!(
            skipped["optional_failure"]
                .as_str()
                .is_some_and(|f| f.starts_with("built without it: ")),
            "{skipped}"
        );
        let db = Database::open(&out2).unwrap();
        assert!(
            db.lookup(ip("37.19.206.105")).is_vpn(),
            "the good source counts"
        );
        let o = ipsieve(&["--quiet"], &out2);
        assert!(o.status.success());
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(
            stderr.starts_with(&format!("ipsieve: {name}: optional, built without it: ")),
            "{stderr}"
        );
    }
}
