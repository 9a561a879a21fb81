//! The source manifest: checks name the line, disabled sources are skipped, stale data warns.

use ipsieve_builder::manifest::Manifest;
use ipsieve_builder::{load, Builder};

const TWO: &str = r#"# comment
[[source]]
name = "vpn-ivpn"
format = "ip-list"
path = "vpn/ivpn.txt"
categories = ["vpn"]

[[source]]
name = "second"
format = "ip-list"
path = "x.txt"
categories = ["vnp"]
"#;

#[test]
fn bad_values_name_the_source_table_line() {
    let err = Manifest::parse(TWO).unwrap_err();
    assert!(
        err.starts_with("line 8: source 'second': unknown category 'vnp'"),
        "{err}"
    );
    let dup = TWO.replace("second", "vpn-ivpn").replace("vnp", "vpn");
    let err = Manifest::parse(&dup).unwrap_err();
    assert_eq!(err, "line 8: source 'vpn-ivpn' is declared twice");
    let unknown = TWO
        .replace("path = \"x.txt\"", "path = \"x.txt\"\ncolour = \"red\"")
        .replace("vnp", "vpn");
    let err = Manifest::parse(&unknown).unwrap_err();
    assert!(
        err.contains("unknown field `colour`") && err.contains("line 12"),
        "{err}"
    );
    let bad_format = TWO.replace(
        "format = \"ip-list\"\npath = \"x.txt\"",
        "format = \"csv-thing\"\npath = \"x.txt\"",
    );
    let err = Manifest::parse(&bad_format).unwrap_err();
    assert!(
        err.contains("unknown format 'csv-thing' (expected one of tor-exit-list, "),
        "{err}"
    );
}

#[test]
fn disabled_sources_are_not_built_and_stale_data_warns() {
    let snapshot = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/snapshot");
    let text = format!(
        "[[source]]\nname = \"vpn-ivpn\"\nformat = \"ip-list\"\npath = \"{}\"\ncategories = [\"vpn\"]\n\
         snapshot = \"2026-08-22\"\nmax_age_days = 7\n\n\
         [[source]]\nname = \"off\"\nformat = \"ip-list\"\npath = \"/nonexistent\"\nenabled = false\n",
        snapshot.join("vpn/ivpn.txt").display()
    );
    let m = Manifest::parse(&text).unwrap();
    assert_eq!(m.sources.len(), 2);
    assert_eq!(m.enabled().count(), 1);
    // Built on 2026-11-28: the 2026-08-22 list is 98 days old.
    let mut b = Builder::new().build_time(1_795_824_000);
    let reports = load::load_manifest(&m, &mut b, |_| {}).unwrap();
    assert_eq!(
        reports.len(),
        1,
        "the disabled source (whose file does not exist) is skipped"
    );
    assert_eq!(reports[0].read, 264);
    assert_eq!(reports[0].warnings.len(), 1);
    assert!(
        reports[0].warnings[0].starts_with("data is 98 days old"),
        "{:?}",
        reports[0].warnings
    );
}

/// `sources/default.toml` names a live upstream for every format the builder reads, and only
/// URLs (or an index to find the URL in): `ipsieve fetch` fills the cache that `ipsieve build
/// --cache` reads. No network here.
#[test]
fn default_manifest_has_an_upstream_url_for_every_format() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../sources/default.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let m = Manifest::parse(&text).unwrap();
    assert!(m.sources.len() >= 40, "{}", m.sources.len());
    for s in &m.sources {
        assert!(
            s.path.is_none(),
            "{}: default.toml names no local files",
            s.name
        );
        let url = s.url.as_deref().or(s.index.as_deref()).unwrap();
        assert!(
            url.starts_with("https://") || url.starts_with("http://"),
            "{url}"
        );
        assert!(s.licence.is_some(), "{}: no licence", s.name);
        assert!(
            s.max_age_days.is_some() || s.enabled == Some(false),
            "{}: an enabled source needs max_age_days",
            s.name
        );
    }
    let formats: std::collections::BTreeSet<&str> =
        m.sources.iter().map(|s| s.format.name).collect();
    for f in [
        "tor-exit-list",
        "ip-list",
        "aws-ip-ranges",
        "google-cloud",
        "pfx2as",
        "asnames",
        "tor-consensus",
        "rir-delegated",
        "proxy-list",
        "geofeed",
        "icloud-egress",
        "geofeed-json",
        "iptoasn",
        "ip-location-db-asn",
        "ipcat",
        "azure-service-tags",
        "oracle-cloud",
        "ip-fetcher",
        "mullvad-relays",
        "mrt",
        "asn-list",
        "bad-asn-list",
    ] {
        assert!(formats.contains(f), "no {f} source in default.toml");
    }
    let rirs = m
        .sources
        .iter()
        .filter(|s| s.format.name == "rir-delegated" && s.enabled != Some(false))
        .count();
    assert_eq!(rirs, 5, "all five RIRs");
    // The existing manifests, with paths, still parse.
    for other in [
        "../data/snapshot/sources.toml",
        "../sources/shared-data.toml",
    ] {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(other);
        Manifest::parse(&std::fs::read_to_string(p).unwrap()).unwrap();
    }
}

#[test]
fn a_source_needs_a_path_or_a_url_and_sane_fetch_keys() {
    let one = |body: &str| Manifest::parse(&format!("# x\n\n[[source]]\n{body}\n"));
    let err = one("name = \"x\"\nformat = \"ip-list\"").unwrap_err();
    assert_eq!(
        err,
        "line 3: source 'x': needs a `path` (a local file), a `url` or an `index` (fetched with \
         `ipsieve fetch`)"
    );
    let err = one("name = \"x\"\nformat = \"ip-list\"\nurl = \"ftp://example.org/x\"").unwrap_err();
    assert!(err.starts_with("line 3: source 'x': url 'ftp://"), "{err}");
    let err = one(
        "name = \"x\"\nformat = \"ip-list\"\nurl = \"https://example.org/x\"\nmax_shrink_pct = 101",
    )
    .unwrap_err();
    assert!(
        err.contains("max_shrink_pct 101 is not a percentage"),
        "{err}"
    );
    let err = one("name = \"..\"\nformat = \"ip-list\"\npath = \"x\"").unwrap_err();
    assert!(
        err.starts_with("line 3: source '..': a source name must be"),
        "{err}"
    );
    // Numbers out of range name the line of their table, not fail later in the build.
    for (key, value, message) in [
        ("weight", "2.0", "weight 2 is outside 0..=1"),
        ("weight", "-0.5", "weight -0.5 is outside 0..=1"),
        ("weight", "nan", "weight NaN is outside 0..=1"),
        (
            "max_reject_pct",
            "250",
            "max_reject_pct 250 is not a percentage (0..=100)",
        ),
        ("max_bytes", "0", "max_bytes must be at least 1"),
    ] {
        let err = one(&format!(
            "name = \"x\"\nformat = \"ip-list\"\npath = \"x\"\n{key} = {value}"
        ))
        .unwrap_err();
        assert_eq!(
            err,
            format!("line 3: source 'x': {message}"),
            "{key} = {value}"
        );
    }
    for weight in ["0.0", "0.25", "1.0"] {
        let m = one(&format!(
            "name = \"x\"\nformat = \"ip-list\"\npath = \"x\"\nweight = {weight}"
        ))
        .unwrap();
        assert_eq!(
            m.sources[0].spec().unwrap().weight,
            weight.parse::<f32>().unwrap()
        );
    }
    let ok = one("name = \"x\"\nformat = \"ip-list\"\nurl = \"https://example.org/x\"\nmax_shrink_pct = 90\nmax_bytes = 1000").unwrap();
    assert_eq!(ok.sources[0].shrink_threshold_pct(), 90);
    assert_eq!(ok.sources[0].max_bytes, Some(1000));
    // Without a cache, a url-only source cannot be read: the error names its line.
    let mut b = Builder::new();
    let err = load::load_manifest(&ok, &mut b, |_| {})
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("line 3: source 'x' has only a `url`"),
        "{err}"
    );
}

/// A cache written by hand (body + sidecar) is what `ipsieve build --cache` reads: the fetch
/// day becomes the snapshot, a changed file or a changed URL is refused with the line.
#[test]
fn url_only_sources_are_read_from_the_cache() {
    use ipsieve_builder::cache::{self, CacheMeta, SIDECAR_VERSION};

    let dir = std::env::temp_dir().join(format!("ipsieve-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let list = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/snapshot/vpn/ivpn.txt"),
    )
    .unwrap();
    std::fs::write(dir.join("vpn-ivpn"), &list).unwrap();
    let (sha256, bytes) = cache::sha256_file(&dir.join("vpn-ivpn")).unwrap();
    let meta = CacheMeta {
        version: SIDECAR_VERSION,
        source: "vpn-ivpn".into(),
        format: "ip-list".into(),
        url: "https://example.org/ivpn.txt".into(),
        final_url: None,
        origin: None,
        index: None,
        url_date: None,
        url_date_utc: None,
        fetched_at: 1_787_443_200, // 2026-08-23
        fetched_at_utc: cache::utc_string(1_787_443_200),
        downloaded_at: 1_787_443_200,
        etag: None,
        last_modified: None,
        gunzipped: None,
        wire_bytes: bytes,
        sha256,
        bytes,
        records: 264,
    };
    meta.write(&dir).unwrap();
    assert_eq!(CacheMeta::read(&dir, "vpn-ivpn").unwrap(), meta);
    let text = "[[source]]\nname = \"vpn-ivpn\"\nformat = \"ip-list\"\n\
                url = \"https://example.org/ivpn.txt\"\ncategories = [\"vpn\"]\n";
    let mut m = Manifest::parse(text).unwrap();
    let used = cache::use_cache(&mut m, &dir).unwrap();
    assert_eq!(used, vec![meta.clone()]);
    assert_eq!(m.sources[0].snapshot.as_deref(), Some("2026-08-23"));
    let mut b = Builder::new();
    let reports = load::load_manifest(&m, &mut b, |_| {}).unwrap();
    assert_eq!(reports[0].read, 264);
    let db = ipsieve::Database::from_bytes(&b.compile().unwrap().bytes).unwrap();
    let src = db.sources().find(|s| s.name() == "vpn-ivpn").unwrap();
    assert_eq!(
        src.snapshot_day()
            .map(ipsieve_builder::manifest::day_string)
            .as_deref(),
        Some("2026-08-23")
    );

    let moved = text.replace("example.org/ivpn", "example.org/other");
    let err = cache::use_cache(&mut Manifest::parse(&moved).unwrap(), &dir)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("line 1: source 'vpn-ivpn': the cached copy")
            && err.contains("the manifest now says"),
        "{err}"
    );
    std::fs::write(dir.join("vpn-ivpn"), b"192.0.2.1\n").unwrap();
    let err = cache::use_cache(&mut Manifest::parse(text).unwrap(), &dir)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("does not match its sidecar") && err.contains("run `ipsieve fetch` again"),
        "{err}"
    );
}

/// The keys of dated sources are checked when the manifest is read, each error naming the
/// line and the source and saying what to write instead.
#[test]
fn dated_source_keys_are_checked_with_the_line() {
    let one = |keys: &str| {
        Manifest::parse(&format!(
            "# a comment\n[[source]]\nname = \"x\"\nformat = \"ip-list\"\n{keys}\n"
        ))
    };
    let ok = [
        "url = \"https://e.org/{yyyy}/{mm}/f-{yyyymmdd}.gz\"\npublication_step = \"1d\"",
        "url = \"https://e.org/f-{yyyymmdd}-1200.gz\"\npublication_step = \"1d\"\n\
         publication_offset = \"12h\"\ncandidates = 7",
        "url = \"https://e.org/rib.{yyyymmdd}.{hhmm}.bz2\"\npublication_step = \"2h\"",
        "index = \"https://e.org/log\"\nlink = \"f-{yyyymmdd}-{hhmm}.gz\"",
        "index = \"https://e.org/page\"\nlink = \"T_{yyyymmdd}*.json\"\n\
         allow_hosts = [\"download.e.org\", \"*.cdn.e.org\"]",
        "url = \"https://e.org/list\"\nallow_hosts = [\"mirror.e.org\"]",
    ];
    for keys in ok {
        let m = one(keys).unwrap_or_else(|e| panic!("{keys}: {e}"));
        assert!(m.sources[0].is_fetched());
    }
    let dated = one(ok[0]).unwrap();
    assert!(dated.sources[0].is_dated());
    assert!(!one(ok[5]).unwrap().sources[0].is_dated());
    assert_eq!(
        one(ok[3]).unwrap().sources[0].origin().as_deref(),
        Some("https://e.org/log link f-{yyyymmdd}-{hhmm}.gz")
    );
    let bad = [
        (
            "url = \"https://e.org/{week}.gz\"\npublication_step = \"1d\"",
            "url: unknown date field {week} in 'https://e.org/{week}.gz' (expected one of \
             {yyyy}, {mm}, {dd}, {hh}, {hhmm}, {yyyymmdd})",
        ),
        (
            "url = \"https://e.org/{yyyymmdd.gz\"",
            "url: '{' without a closing '}' in 'https://e.org/{yyyymmdd.gz'",
        ),
        (
            "url = \"https://e.org/{yyyymmdd}.gz\"",
            "a `url` with date fields needs `publication_step`",
        ),
        (
            "url = \"https://e.org/{yyyy}{mm}.gz\"\npublication_step = \"1d\"",
            "url: its date fields do not name a whole date",
        ),
        (
            "url = \"https://e.org/{yyyymmdd}.gz\"\npublication_step = \"2h\"",
            "url: its date fields cannot tell apart files less than a day apart \
             (publication_step 2h): add {hh} or {hhmm}",
        ),
        (
            "url = \"https://e.org/{yyyymmdd}.gz\"\npublication_step = \"1w\"",
            "publication_step '1w' is not a time step",
        ),
        (
            "url = \"https://e.org/{yyyymmdd}.gz\"\npublication_step = \"1d\"\n\
             publication_offset = \"1d\"",
            "publication_offset 1d is not shorter than publication_step 1d",
        ),
        (
            "url = \"https://e.org/{yyyymmdd}.gz\"\npublication_step = \"1d\"\ncandidates = 0",
            "candidates 0 is out of range (1..=1000)",
        ),
        (
            "url = \"https://e.org/f.gz\"\npublication_step = \"1d\"",
            "`publication_step` belongs to a `url` with date fields",
        ),
        (
            "url = \"https://e.org/{yyyymmdd}.gz\"\npublication_step = \"1d\"\n\
             snapshot = \"2025-05-01\"",
            "a dated source takes its snapshot date from the file it resolves to: remove \
             `snapshot`",
        ),
        ("index = \"https://e.org/log\"", "an `index` needs a `link`"),
        (
            "link = \"f-{yyyymmdd}.gz\"\npath = \"x.txt\"",
            "`link` needs an `index` to take the link from",
        ),
        (
            "index = \"https://e.org/log\"\nlink = \"f.gz\"",
            "link 'f.gz': its date fields do not name a whole date",
        ),
        (
            "index = \"ftp://e.org/log\"\nlink = \"f-{yyyymmdd}.gz\"",
            "index 'ftp://e.org/log' is not an http:// or https:// address",
        ),
        (
            "index = \"https://e.org/{yyyy}/\"\nlink = \"f-{yyyymmdd}.gz\"",
            "index 'https://e.org/{yyyy}/' has date fields",
        ),
        (
            "url = \"https://e.org/f\"\nindex = \"https://e.org/log\"\nlink = \"f-{yyyymmdd}.gz\"",
            "give either `url` (a file, or a dated template) or `index` and `link`",
        ),
        (
            "url = \"https://e.org/f\"\nallow_hosts = [\"Download.E.org\"]",
            "allow_hosts: 'Download.E.org' is not a lowercase host name",
        ),
        (
            "path = \"x.txt\"\nallow_hosts = [\"e.org\"]",
            "`allow_hosts` needs a `url` or an `index`",
        ),
    ];
    for (keys, expected) in bad {
        let err = one(keys).unwrap_err();
        assert!(
            err.starts_with("line 2: source 'x': ") && err.contains(expected),
            "{keys}: expected {expected:?} in {err:?}"
        );
    }
}
