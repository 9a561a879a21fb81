//! `Timestamp`: the civil-date arithmetic and the accepted textual forms.

use ipsieve_sources::Timestamp;

#[test]
fn known_instants() {
    let cases = [
        ("1970-01-01 00:00:00", 0),
        ("2024-03-12 08:10:51", 1_710_231_051),
        ("2018-11-02 01:02:01", 1_541_120_521),
        ("2000-02-29 23:59:59", 951_868_799),
        ("1969-12-31 23:59:59", -1),
        ("0000-03-01 00:00:00", -62_162_035_200),
        ("9999-12-31 23:59:59", 253_402_300_799),
    ];
    for (text, secs) in cases {
        let t = Timestamp::parse_date_time(text).unwrap_or_else(|| panic!("{text}"));
        assert_eq!(t, Timestamp(secs), "{text}");
        assert_eq!(t.to_string(), format!("{}Z", text.replace(' ', "T")));
    }
}

#[test]
fn iso_forms() {
    let want = Some(Timestamp(1_787_274_342));
    assert_eq!(
        Timestamp::parse_date_time("2026-08-21T01:05:42.583377"),
        want
    );
    assert_eq!(Timestamp::parse_date_time("2026-08-21T01:05:42Z"), want);
    assert_eq!(Timestamp::parse_date_time("2026-08-21 01:05:42.5Z"), want);
}

#[test]
fn dates() {
    assert_eq!(
        Timestamp::parse_date("2024-02-29"),
        Some(Timestamp(1_709_164_800))
    );
    assert_eq!(Timestamp::parse_date("2023-02-29"), None);
    assert_eq!(Timestamp::parse_date("1900-02-29"), None);
    assert_eq!(
        Timestamp::parse_date("2000-02-29").map(|t| t.0 % 86_400),
        Some(0)
    );
}

#[test]
fn rejects_near_misses() {
    for bad in [
        "",
        "2024-03-12",
        "2024-03-12 08:10",
        "2024-03-12 24:00:00",
        "2024-03-12 23:60:00",
        "2024-03-12 23:59:60",
        "2024-13-01 00:00:00",
        "2024-00-01 00:00:00",
        "2024-04-31 00:00:00",
        "2024-3-12 08:10:51",
        "+024-03-12 08:10:51",
        "2024-03-12  08:10:51",
        "2024-03-12 08:10:51 ",
        "2024-03-12 08:10:51.",
        "2024-03-12 08:10:51.x",
        "2024-03-12 08:10:51+01:00",
        "２０２４-03-12 08:10:51",
    ] {
        assert_eq!(Timestamp::parse_date_time(bad), None, "{bad:?}");
    }
}
