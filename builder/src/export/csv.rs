//! The artifact as CSV: a header row, then one row per range that has an answer, IPv4 then
//! IPv6, in address order.
//!
//! Columns: `start`, `end` (first and last address, inclusive: ranges are not always CIDR
//! blocks), `categories`, `verdict`, `score` (0.00 to 1.00), `asn` (a number), `as_org`,
//! `provider`, `country` (ISO 3166-1 alpha-2) and `sources`. Lists (`categories`,
//! `sources`) are joined with commas, as `ipsieve lookup` prints them; unknown values are
//! empty cells. Cells are quoted by RFC 4180 rules where needed (`"AMAZON-02, US"`).
//! `::ffff:0:0/96` does not appear: ipsieve answers it as IPv4.

use std::io::Write;

use ipsieve::Database;

/// The header row.
pub const HEADER: [&str; 10] = [
    "start",
    "end",
    "categories",
    "verdict",
    "score",
    "asn",
    "as_org",
    "provider",
    "country",
    "sources",
];

/// Writes the CSV of `db` to `out` and returns the number of data rows.
///
/// # Errors
/// The first error writing to `out`.
pub fn write(db: &Database, out: impl Write) -> std::io::Result<usize> {
    let mut w = ::csv::Writer::from_writer(out);
    w.write_record(HEADER)?;
    let mut rows = 0;
    // Every maximal range of equal answers, IPv4 then IPv6, in address order.
    for range in db.ranges() {
        let a = &range.answer;
        if a.is_empty() {
            continue;
        }
        w.write_record([
            range.first.to_string(),
            range.last.to_string(),
            a.categories().to_string(),
            a.verdict().as_str().to_owned(),
            format!("{:.2}", a.score()),
            a.asn().map_or_else(String::new, |n| n.to_string()),
            a.as_org().unwrap_or_default().to_owned(),
            a.provider().unwrap_or_default().to_owned(),
            a.country().unwrap_or_default().to_owned(),
            a.sources().collect::<Vec<_>>().join(","),
        ])?;
        rows += 1;
    }
    w.flush()?;
    Ok(rows)
}
