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
    assert!(Manifest::parse(&bad_format)
        .unwrap_err()
        .contains("unknown variant `csv-thing`"));
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
