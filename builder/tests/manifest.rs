//! The source manifest: checks name the line, disabled sources are skipped, stale data warns,
//! and `docs/MANIFEST.md` documents every key and has a real example of every format.

use ipsieve_builder::manifest::{
    Manifest, DEFAULT_CANDIDATES, DEFAULT_MAX_GROW_PCT, DEFAULT_MAX_REJECT_PCT,
    DEFAULT_MAX_SHRINK_PCT,
};
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
        "gluetun-servers",
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

/// `docs/MANIFEST.md`, the manifest reference for users.
fn manifest_doc() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/MANIFEST.md");
    std::fs::read_to_string(path).expect("docs/MANIFEST.md")
}

/// The text of the `## ` section of `doc` whose heading line is `heading`, up to the next.
fn doc_section<'a>(doc: &'a str, heading: &str) -> &'a str {
    let start = doc
        .find(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("docs/MANIFEST.md has no section {heading:?}"))
        + heading.len()
        + 2;
    let end = doc[start..].find("\n## ").map_or(doc.len(), |i| start + i);
    &doc[start..end]
}

/// The subsections of a section, each headed `###` and one name in backticks, in order:
/// (name, body).
fn doc_subsections(section: &str) -> Vec<(String, &str)> {
    let mut out = Vec::new();
    let mut rest = section;
    while let Some(at) = rest.find("\n### ") {
        let body = &rest[at + 5..];
        let line_end = body.find('\n').unwrap_or(body.len());
        let title = body[..line_end].trim();
        let name = title
            .strip_prefix('`')
            .and_then(|t| t.strip_suffix('`'))
            .unwrap_or_else(|| panic!("heading '### {title}' is not one `name`"));
        let next = body[line_end..]
            .find("\n### ")
            .map_or(body.len(), |i| line_end + i);
        out.push((name.to_owned(), &body[line_end..next]));
        rest = &body[next..];
    }
    out
}

/// The fields a table of the manifest accepts, as serde lists them: `deny_unknown_fields`
/// answers a bogus key with every field of the struct, so a field added to `SourceEntry` (or
/// `MinPrefix`, or the file's top level) shows up here without anyone keeping a list.
fn accepted_keys(manifest_with_bogus_key: &str) -> Vec<String> {
    let err = Manifest::parse(manifest_with_bogus_key).unwrap_err();
    let expected = err
        .split("unknown field `bogus_key`, expected")
        .nth(1)
        .unwrap_or_else(|| panic!("not serde's unknown-field message: {err}"));
    expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// Every key a `[[source]]` table accepts has a row in the key table and a `###` section of
/// `docs/MANIFEST.md`, and the page documents no key the manifest refuses; the
/// defaults it states are the code's, and the category and tier vocabularies are complete.
#[test]
fn every_manifest_key_is_documented() {
    use std::collections::BTreeSet;

    let doc = manifest_doc();
    let source = "[[source]]\nname = \"x\"\nformat = \"ip-list\"\npath = \"x\"\n";
    let keys = accepted_keys(&format!("{source}bogus_key = 1\n"));
    assert!(
        keys.len() >= 20 && keys.iter().any(|k| k == "name"),
        "{keys:?}"
    );
    let accepted: BTreeSet<&str> = keys.iter().map(String::as_str).collect();

    // The file's top level: `[[source]]` tables and the settings before them.
    let shape = doc_section(&doc, "## The file's shape");
    for key in accepted_keys("bogus_key = 1\n") {
        let (written, what) = if key == "source" {
            (format!("`[[{key}]]`"), "table")
        } else {
            (format!("* `{key}` ("), "setting")
        };
        assert!(
            shape.contains(&written),
            "docs/MANIFEST.md, \"The file's shape\", does not describe the top-level {what} \
             `{key}`"
        );
    }

    // The summary table.
    let section = doc_section(&doc, "## Keys of a source");
    let (begin, end) = ("<!-- keys:begin -->", "<!-- keys:end -->");
    let from = section.find(begin).expect(begin) + begin.len();
    let to = from + section[from..].find(end).expect(end);
    let rows: Vec<Vec<&str>> = section[from..to]
        .lines()
        .filter(|l| l.starts_with('|'))
        .skip(2) // header and alignment rows
        .map(|l| {
            l.trim()
                .trim_matches('|')
                .split('|')
                .map(str::trim)
                .collect()
        })
        .collect();
    let cell = |key: &str, column: usize| -> &str {
        rows.iter()
            .find(|r| r[0] == format!("`{key}`"))
            .unwrap_or_else(|| panic!("no row for `{key}`"))[column]
    };
    let in_table: BTreeSet<&str> = rows.iter().map(|r| r[0].trim_matches('`')).collect();
    assert_eq!(
        in_table, accepted,
        "the key table of docs/MANIFEST.md (left) and the keys a [[source]] table accepts (right)"
    );
    for row in &rows {
        assert!(
            ["build", "fetch", "both"].contains(&row[3]),
            "{}: read by '{}'",
            row[0],
            row[3]
        );
    }

    // One `### `key`` section per key.
    let sections = doc_subsections(section);
    let headed: BTreeSet<&str> = sections.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        headed, accepted,
        "the `### `key`` sections of docs/MANIFEST.md (left) and the keys a [[source]] table \
         accepts (right)"
    );
    assert_eq!(sections.len(), headed.len(), "a key has two sections");
    let body = |key: &str| {
        sections
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, b)| *b)
            .unwrap()
    };

    // `min_prefix`'s own keys.
    for key in accepted_keys(&format!(
        "{source}min_prefix = {{ v4 = 24, v6 = 48, bogus_key = 1 }}\n"
    )) {
        assert!(
            body("min_prefix").contains(&format!("`{key}`")),
            "the min_prefix section does not name `{key}`"
        );
    }

    // Defaults stated in the table are the code's.
    let plain = Manifest::parse(source).unwrap();
    let entry = &plain.sources[0];
    let spec = entry.spec().unwrap();
    for (key, default) in [
        ("max_shrink_pct", DEFAULT_MAX_SHRINK_PCT.to_string()),
        ("max_reject_pct", DEFAULT_MAX_REJECT_PCT.to_string()),
        ("max_grow_pct", DEFAULT_MAX_GROW_PCT.to_string()),
        ("candidates", DEFAULT_CANDIDATES.to_string()),
        (
            "max_decompressed_bytes",
            ipsieve_sources::input::MAX_DECOMPRESSED.to_string(),
        ),
        ("tier", format!("\"{}\"", spec.tier.as_str())),
        ("weight", format!("{:.1}", spec.weight)),
        ("enabled", (plain.enabled().count() == 1).to_string()),
        ("categories", "[]".to_owned()),
    ] {
        let documented = cell(key, 2);
        assert!(
            documented.contains(&format!("`{default}`")),
            "docs/MANIFEST.md says the default of `{key}` is {documented}; the code's is {default}"
        );
    }
    assert_eq!(entry.shrink_threshold_pct(), DEFAULT_MAX_SHRINK_PCT);
    assert_eq!(entry.grow_threshold_pct(), DEFAULT_MAX_GROW_PCT);
    assert!(spec.categories.is_empty());

    // The vocabularies.
    for (_, name) in ipsieve::Categories::NAMED {
        assert!(
            body("categories").contains(&format!("| `{name}` |")),
            "the categories section has no row for `{name}`"
        );
    }
    for tier in ipsieve::Tier::ALL {
        assert!(
            body("tier").contains(&format!("| `{}` |", tier.as_str())),
            "the tier section has no row for `{tier}`"
        );
    }
}

/// Every format of the registry has an example in `docs/MANIFEST.md`, in the registry's
/// order: one `[[source]]` table of that format, valid, and copied word for word from the
/// manifest of this repository it says it is from.
#[test]
fn every_format_has_a_real_example() {
    let doc = manifest_doc();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let manifests = [
        "sources/default.toml",
        "sources/shared-data.toml",
        "data/snapshot/sources.toml",
    ];
    let examples = doc_subsections(doc_section(&doc, "## Examples, one per format"));
    let names: Vec<&str> = examples.iter().map(|(n, _)| n.as_str()).collect();
    let formats: Vec<&str> = ipsieve_sources::formats::FORMATS
        .iter()
        .map(|f| f.name)
        .collect();
    assert_eq!(
        names, formats,
        "the examples of docs/MANIFEST.md (left) and the formats of the registry (right)"
    );
    for (format, body) in &examples {
        let prose = body.replace('\n', " ");
        let from = prose
            .split("From `")
            .nth(1)
            .and_then(|t| t.split('`').next())
            .unwrap_or_else(|| panic!("{format}: the example does not say From `FILE`"));
        assert!(manifests.contains(&from), "{format}: from {from}?");
        let block = body
            .split("```toml\n")
            .nth(1)
            .and_then(|t| t.split("```").next())
            .unwrap_or_else(|| panic!("{format}: no ```toml block"));
        let m = Manifest::parse(block).unwrap_or_else(|e| panic!("{format}: {e}"));
        assert_eq!(m.sources.len(), 1, "{format}: one [[source]] table");
        assert_eq!(m.sources[0].format.name, *format);
        let text = std::fs::read_to_string(root.join(from)).unwrap();
        assert!(
            text.contains(block),
            "the {format} example of docs/MANIFEST.md is not in {from} word for word: copy the \
             source's table again"
        );
    }
}
