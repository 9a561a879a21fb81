//! The origin AS across routing tables of different dates (`docs/INTELLIGENCE.md`, "Origin
//! AS") on real excerpts (`fixtures/historical-routes/README.md`): a table dated more than
//! three years before the newest is historical and gives the origin only where no current
//! table covers the address; among current tables the most specific route wins.

use ipsieve_builder::Compiled;
use ipsieve_testkit::rules::{compile_text, facts};
use ipsieve_testkit::table as source;

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/historical-routes"
);

/// The iptoasn excerpt (dated `iptoasn_day`) with RouteViews' (2024) and, when `newest`,
/// ip-location-db's (2026).
fn build(iptoasn_day: &str, newest: bool) -> Compiled {
    let mut text = [
        source(
            "iptoasn",
            "iptoasn",
            &format!("{DIR}/ip2asn-v4-excerpt.tsv"),
            &format!("snapshot = \"{iptoasn_day}\"\n"),
        ),
        source(
            "caida-pfx2as",
            "pfx2as",
            &format!("{DIR}/routeviews-rv2-20240406-excerpt.pfx2as"),
            "snapshot = \"2024-04-06\"\n",
        ),
    ]
    .concat();
    if newest {
        text += &source(
            "ip-location-db-asn-v4",
            "ip-location-db-asn",
            &format!("{DIR}/ip-location-db-asn-ipv4-excerpt.csv"),
            "snapshot = \"2026-06-17\"\n",
        );
    }
    compile_text(&text)
}

#[test]
fn a_historical_tables_more_specific_route_does_not_override_a_current_one() {
    // 2020 is more than three years before 2026: iptoasn is historical.
    let compiled = build("2020-05-07", true);
    assert_eq!(facts(&compiled, "1.1.1.1").asn, Some(13335));
    // Where only it covers the address, it still gives the origin.
    assert_eq!(facts(&compiled, "34.85.1.1").asn, Some(15169));
    // Two current tables: RouteViews' /24 is more specific than ip-location-db's range.
    assert_eq!(facts(&compiled, "1.2.166.1").asn, Some(9737));
    assert_eq!(facts(&compiled, "1.2.167.1").asn, Some(23969));
}

#[test]
fn within_three_years_the_most_specific_route_wins() {
    // The same table dated 2022, two years before the newest (RouteViews', 2024)...
    let compiled = build("2022-01-01", false);
    assert_eq!(facts(&compiled, "1.1.1.1").asn, Some(7497));
    // ...or dated 2024 beside the 2026 one: current, and its one-address route wins.
    // (Dated 2020 with only RouteViews' 2024 table, it is historical: 1,430 days.)
    let compiled = build("2020-05-07", false);
    assert_eq!(facts(&compiled, "1.1.1.1").asn, Some(13335));
    let compiled = build("2024-01-01", true);
    assert_eq!(facts(&compiled, "1.1.1.1").asn, Some(7497));
    assert_eq!(facts(&compiled, "1.1.1.2").asn, Some(13335));
}
