//! `geofeed_json`: Vultr's JSON geofeed and ip-fetcher's `linode.json`.

use ipnet::IpNet;
use ipsieve_sources::{geofeed_json, input, GeofeedEntry, ParseError, Position, Timestamp};
use proptest::prelude::*;

use crate::common::{assert_names_source, fixture_bytes, only_error, shared_data, split};

fn read_str(text: &str) -> Result<geofeed_json::GeofeedJsonDocument, ParseError> {
    geofeed_json::read(text.as_bytes(), "geofeed")
}

fn entry(net: &str, cc: &[u8; 2], region: &str, city: &str, postal: Option<&str>) -> GeofeedEntry {
    GeofeedEntry {
        network: net.parse().unwrap(),
        country: Some(*cc),
        region: Some(region.into()),
        city: Some(city.into()),
        postal_code: postal.map(str::to_owned),
    }
}

#[test]
fn vultr_fixture_exact_values() {
    let doc = geofeed_json::read(&fixture_bytes("vultr-geofeed.json")[..], "vultr").unwrap();
    assert_eq!(doc.asn, Some(20473));
    assert_eq!(
        doc.description.as_deref(),
        Some("Constant.com / Vultr.com GeoFeed")
    );
    // 2024-04-18T07:55:40-04:00.
    assert_eq!(doc.updated.unwrap().to_string(), "2024-04-18T11:55:40Z");
    let entries: Vec<GeofeedEntry> = doc.entries.into_iter().map(Result::unwrap).collect();
    assert_eq!(entries.len(), 8);
    assert_eq!(
        entries[0],
        entry("8.3.29.0/24", b"US", "US-CA", "Los Angeles", Some("90012"))
    );
    assert_eq!(entries[3].postal_code.as_deref(), Some("08854"));
    assert_eq!(
        entries[4],
        entry(
            "43.224.32.0/22",
            b"JP",
            "JP-13",
            "Shinagawa-ku",
            Some("142-0002")
        )
    );
    assert_eq!(
        entries[5].network,
        "2602:ffb0::/48".parse::<IpNet>().unwrap()
    );
    assert_eq!(entries[7].network.to_string(), "2001:19f0:9800::/38");
    assert_eq!(entries[7].country_str(), Some("US"));
    let located: Vec<_> =
        geofeed_json::parse_located(&fixture_bytes("vultr-geofeed.json")[..], "v")
            .map(Result::unwrap)
            .collect();
    assert_eq!(located[0].position, Position::Line(7));
    assert_eq!(located[7].position, Position::Line(56));
}

#[test]
fn linode_fixture_exact_values() {
    let doc = geofeed_json::read(&fixture_bytes("ipfetcher-linode.json")[..], "linode").unwrap();
    assert_eq!(doc.updated, Some(Timestamp(1_787_306_405)));
    assert_eq!((doc.asn, doc.description.as_deref()), (None, None));
    let entries: Vec<GeofeedEntry> = doc.entries.into_iter().map(Result::unwrap).collect();
    assert_eq!(entries.len(), 6);
    // `postalCode: ""` is no postal code.
    assert_eq!(
        entries[0],
        entry("2600:3c00::/32", b"US", "US-TX", "Richardson", None)
    );
    assert_eq!(
        entries[3],
        entry("72.14.177.0/24", b"US", "US-TX", "Richardson", None)
    );
    assert_eq!(entries[5].network.to_string(), "104.67.63.0/24");
    assert_eq!(
        entries
            .iter()
            .filter(|e| matches!(e.network, IpNet::V6(_)))
            .count(),
        3
    );
}

#[test]
fn entry_quirks_and_errors() {
    let doc = read_str(
        r#"{"subnets": [
            {"ip_prefix": "192.0.2.1", "alpha2code": "nl", "region": null, "city": "", "postal_code": " "},
            {"ip_prefix": "192.0.2.1/24", "alpha2code": "NL"},
            {"ip_prefix": "192.0.2.0/24", "alpha2code": "NLD"},
            {"ip_prefix": "192.0.2.0/24", "prefix": "192.0.2.0/24"},
            {"alpha2code": "NL"},
            {"ip_prefix": "192.0.2.0/24"},
            {"ip_prefix": "192.0.2.0/24", "alpha2code": 31}
        ]}"#,
    )
    .unwrap();
    let got: Vec<String> = doc
        .entries
        .iter()
        .map(|r| match r {
            Ok(e) => format!(
                "{} {:?} {:?} {:?} {:?}",
                e.network,
                e.country_str(),
                e.region,
                e.city,
                e.postal_code
            ),
            Err(e) => {
                assert_names_source(e, "geofeed");
                e.reason.clone()
            }
        })
        .collect();
    assert_eq!(
        got,
        [
            "192.0.2.1/32 Some(\"NL\") None None None",
            "ip_prefix: host bits set after the prefix length (the network is 192.0.2.0/24)",
            "alpha2code: country \"NLD\" is not a two-letter code",
            "entry has both ip_prefix and prefix",
            "entry has neither ip_prefix nor prefix",
            "192.0.2.0/24 None None None None",
            "bad geofeed entry: invalid type: integer `31`, expected a string",
        ]
    );
}

#[test]
fn documents_that_are_not_geofeeds_are_fatal() {
    let what = "a json geofeed (\"subnets\" or \"records\" array)";
    let cases = [
        ("".to_owned(), format!("invalid json (EOF while parsing a value); the file is probably truncated or not {what}")),
        ("{}".to_owned(), format!("not {what}: it has no \"subnets\" or \"records\" array")),
        ("{\"subnets\": [], \"records\": []}".to_owned(), format!("not {what}: it has both \"subnets\" and \"records\"")),
        ("[]".to_owned(), format!("not {what}: the top level is an array, expected an object")),
        ("{\"asn\": 4294967296, \"subnets\": []}".to_owned(), format!("not {what}: invalid value: integer `4294967296`, expected u32")),
        ("{\"asn\": \"20473\", \"subnets\": []}".to_owned(), format!("not {what}: invalid type: string \"20473\", expected u32")),
    ];
    for (text, reason) in cases {
        let e = read_str(&text).unwrap_err();
        assert!(e.fatal, "{text}");
        assert_eq!(e.reason, reason, "{text}");
        assert_eq!(
            only_error(geofeed_json::parse(text.as_bytes(), "geofeed")),
            e
        );
    }
    // An unparseable date is no date, not an error.
    let doc = read_str("{\"updated\": \"yesterday\", \"subnets\": []}").unwrap();
    assert_eq!(doc.updated, None);
    let bytes = fixture_bytes("vultr-geofeed.json");
    let e = geofeed_json::read(&bytes[..bytes.len() - 20], "vultr").unwrap_err();
    assert!(e.fatal);
}

#[test]
fn whole_upstream_files() {
    for (rel, want, v6) in [
        ("cloud/vultr/geofeed.constant.com.json", 513, 54),
        ("cloud/jonhadfield-cloud-ips/linode.json.gz", 5505, 96),
    ] {
        let Some(path) = shared_data(rel) else {
            return;
        };
        let doc = geofeed_json::read(input::open(&path).unwrap(), rel).unwrap();
        assert!(doc.updated.is_some());
        let (entries, errors) = split(doc.entries.into_iter(), rel);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(entries.len(), want, "{rel}");
        let got_v6 = entries
            .iter()
            .filter(|e| matches!(e.network, IpNet::V6(_)))
            .count();
        assert_eq!(got_v6, v6, "{rel}");
        assert!(entries.iter().all(|e| e.country.is_some()));
    }
}

#[test]
fn an_array_entry_is_not_read_by_position() {
    // Seven values would fill `ip_prefix`, `prefix`, `alpha2code`, … in order: refused.
    let doc =
        "{\"subnets\": [\n  [\"8.3.29.0/24\", null, \"US\", \"US-CA\", \"LA\", null, null]\n]}";
    let e = only_error(geofeed_json::parse(doc.as_bytes(), "geofeed"));
    assert_eq!(
        e.reason,
        "bad geofeed entry: invalid type: sequence, expected an object"
    );
    assert_eq!(e.position, Position::Line(2));
    assert!(e.text.starts_with("[\"8.3.29.0/24\", null, \"US\""), "{e}");
    assert!(!e.fatal);
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        match geofeed_json::read(&bytes[..], "fuzz") {
            Ok(doc) => for r in doc.entries { if let Err(e) = r { assert_names_source(&e, "fuzz") } },
            Err(e) => { assert_names_source(&e, "fuzz"); prop_assert!(e.fatal) }
        }
    }

    #[test]
    fn dates_never_panic(date in "[0-9T:+Z.-]{0,32}") {
        let doc = format!("{{\"updated\": {}, \"subnets\": []}}", serde_json::to_string(&date).unwrap());
        prop_assert!(read_str(&doc).is_ok());
    }
}
