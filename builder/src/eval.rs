//! Measured accuracy: how an artifact's answers compare with a labelled set of addresses.
//! `ipsieve eval` prints it; `tools/eval_accuracy.py` builds the labelled sets from public data
//! and writes `docs/ACCURACY.md`.
//!
//! # Labels
//! A labels file is CSV, one `ip,expected_category` row a line ([`parse_labels`]):
//!
//! ```text
//! ip,expected_category
//! 185.220.101.1,tor_exit
//! 2a03:1b20:1:f410::a01f,vpn
//! 73.12.34.56,none
//! ```
//!
//! * The expected category is one of ipsieve's category names (`tor_exit`, `tor_relay`, `vpn`,
//!   `proxy`, `hosting`, `relay`), or `none` (alias `clean`) for an address that should hold no
//!   category at all ([`Expected`]).
//! * The header is optional: a first row whose first field is `ip` is skipped. Blank lines and
//!   lines starting with `#` are skipped. Fields are trimmed; exactly two per row.
//! * A bad row is an error naming its line ([`LabelError`]); the stream goes on, so the other
//!   rows still count. A repeated address counts once per row.
//!
//! # How answers count
//! An answer holds a *set* of categories; a label names one. So every figure is per category,
//! one category against the rest ([`Evaluation::metrics`]):
//!
//! * A row expected `C` is a positive of `C`: a true positive when the answer holds `C`
//!   (whatever else it holds), a false negative when not.
//! * Every other row (expected another category, or `none`) is a negative of `C`: a false
//!   positive when the answer holds `C`, a true negative when not.
//!
//! An address expected `vpn` and answered {vpn, hosting} is a true positive of `vpn` and a false
//! positive of `hosting`. A label names what the list it came from asserts, not everything that
//! is true of the address (most VPN servers do sit in hosting space), so in a file mixing
//! categories the false positives of a category include such overlaps: the confusion table
//! ([`ExpectedRow::holds`]) shows which expected class each came from, and a file of `none`
//! rows alone measures false positives against addresses that should hold nothing.
//!
//! ```
//! use ipsieve::{Categories, Verdict};
//! use ipsieve_builder::eval::{Evaluation, Expected};
//!
//! let mut e = Evaluation::new();
//! let vpn = Expected::Category(Categories::VPN);
//! e.record(vpn, Categories::VPN | Categories::HOSTING, Verdict::VpnDetected);
//! e.record(vpn, Categories::HOSTING, Verdict::Suspicious);
//! e.record(Expected::None, Categories::empty(), Verdict::Clean);
//! let m = e.metrics(Categories::VPN);
//! assert_eq!((m.tp, m.fn_, m.fp, m.tn), (1, 1, 0, 1));
//! assert_eq!(m.tpr(), Some(0.5));
//! let h = e.metrics(Categories::HOSTING);
//! assert_eq!((h.tp, h.fn_, h.fp, h.tn), (0, 0, 2, 1));
//! assert_eq!(h.tpr(), None); // no row expects hosting
//! assert_eq!(e.row(vpn).holds(Categories::HOSTING), 2);
//! ```

use std::collections::BTreeMap;
use std::io::BufRead;
use std::net::IpAddr;

use ipsieve::{Answer, Categories, Database, Verdict};

/// What a label says an address is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Expected {
    /// Exactly one category (one of [`Categories::NAMED`]); the answer should hold it.
    Category(Categories),
    /// `none` or `clean`: the answer should hold no category.
    None,
}

/// Every verdict, weakest first.
pub const VERDICTS: [Verdict; 4] = [
    Verdict::Clean,
    Verdict::Suspicious,
    Verdict::VpnLikely,
    Verdict::VpnDetected,
];

/// How many expected classes there are: the six categories and `none`.
const CLASSES: usize = Categories::NAMED.len() + 1;

impl Expected {
    /// Every expected class: the categories in [`Categories::NAMED`] order, then `none`.
    pub fn all() -> impl Iterator<Item = Expected> {
        Categories::NAMED
            .into_iter()
            .map(|(c, _)| Expected::Category(c))
            .chain(std::iter::once(Expected::None))
    }

    /// Parses a label: a category name, or `none` / `clean`.
    pub fn from_name(name: &str) -> Option<Expected> {
        match name {
            "none" | "clean" => Some(Expected::None),
            _ => Categories::from_name(name).map(Expected::Category),
        }
    }

    /// The stable name: the category's, or `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            Expected::Category(c) => c.names().next().unwrap_or("none"),
            Expected::None => "none",
        }
    }

    /// Position in [`Expected::all`].
    fn index(self) -> usize {
        match self {
            Expected::Category(c) => Categories::NAMED
                .iter()
                .position(|(n, _)| *n == c)
                .unwrap_or(CLASSES - 1),
            Expected::None => CLASSES - 1,
        }
    }
}

/// One labelled address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Label {
    /// 1-based line number in the labels file.
    pub line: usize,
    /// The address.
    pub ip: IpAddr,
    /// What it should be.
    pub expected: Expected,
}

/// A row of a labels file that cannot be read; the other rows still count.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LabelError {
    /// Reading the file failed; nothing after this line can be read.
    #[error("line {line}: cannot read the labels: {source}")]
    Io {
        /// The line that could not be read (1-based).
        line: usize,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Not two comma-separated fields.
    #[error("line {line}: expected two fields `ip,expected_category`, found {found}: '{text}'")]
    Fields {
        /// 1-based line number.
        line: usize,
        /// How many fields the row has.
        found: usize,
        /// The row (truncated).
        text: String,
    },
    /// The first field is not an address (a network is not an address either).
    #[error("line {line}: '{text}' is not an IPv4 or IPv6 address")]
    Address {
        /// 1-based line number.
        line: usize,
        /// The field (truncated).
        text: String,
    },
    /// The second field names no category.
    #[error(
        "line {line}: unknown category '{text}': use one of tor_exit, tor_relay, vpn, proxy, \
         hosting, relay, or none (alias clean)"
    )]
    Category {
        /// 1-based line number.
        line: usize,
        /// The field (truncated).
        text: String,
    },
}

impl LabelError {
    /// The 1-based line number of the row.
    pub fn line(&self) -> usize {
        match self {
            LabelError::Io { line, .. }
            | LabelError::Fields { line, .. }
            | LabelError::Address { line, .. }
            | LabelError::Category { line, .. } => *line,
        }
    }

    /// True when the file cannot be read further (an I/O error), not just this row.
    pub fn is_fatal(&self) -> bool {
        matches!(self, LabelError::Io { .. })
    }
}

/// Reads a labels file (see the [module docs](self) for the shape): one item per label row,
/// in file order; a bad row is an `Err` naming its line and the stream goes on. After an I/O
/// error ([`LabelError::is_fatal`]) the stream ends.
///
/// Never panics.
///
/// ```
/// use ipsieve_builder::eval::{parse_labels, Expected};
///
/// let text = "ip,expected_category\n192.0.2.1,none\n# a comment\nnot-an-ip,vpn\n198.51.100.7,vpn\n";
/// let rows: Vec<_> = parse_labels(text.as_bytes()).collect();
/// assert_eq!(rows.len(), 3);
/// assert_eq!(rows[0].as_ref().unwrap().expected, Expected::None);
/// assert_eq!(rows[1].as_ref().unwrap_err().line(), 4);
/// assert_eq!(rows[2].as_ref().unwrap().line, 5);
/// ```
pub fn parse_labels<R: BufRead>(reader: R) -> impl Iterator<Item = Result<Label, LabelError>> {
    let mut lines = reader.lines().enumerate();
    let mut first_row = true;
    let mut done = false;
    std::iter::from_fn(move || loop {
        if done {
            return None;
        }
        let (i, line) = lines.next()?;
        let line_no = i + 1;
        let line = match line {
            Ok(l) => l,
            Err(source) => {
                done = true;
                return Some(Err(LabelError::Io {
                    line: line_no,
                    source,
                }));
            }
        };
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = t.split(',').map(str::trim).collect();
        let header = std::mem::replace(&mut first_row, false);
        if header && fields[0].eq_ignore_ascii_case("ip") {
            continue;
        }
        return Some(parse_row(line_no, t, &fields));
    })
}

fn parse_row(line: usize, text: &str, fields: &[&str]) -> Result<Label, LabelError> {
    let &[ip, expected] = fields else {
        return Err(LabelError::Fields {
            line,
            found: fields.len(),
            text: ipsieve_sources::error::truncate(text),
        });
    };
    let ip = ip.parse::<IpAddr>().map_err(|_| LabelError::Address {
        line,
        text: ipsieve_sources::error::truncate(ip),
    })?;
    let expected = Expected::from_name(expected).ok_or_else(|| LabelError::Category {
        line,
        text: ipsieve_sources::error::truncate(expected),
    })?;
    Ok(Label { line, ip, expected })
}

/// What the answers to the rows of one expected class were.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExpectedRow {
    /// How many rows expect this class.
    pub labels: u64,
    /// Per category in [`Categories::NAMED`] order: how many of the answers hold it. An answer
    /// with several categories counts under each, so these can add up to more than `labels`.
    pub holds_category: [u64; Categories::NAMED.len()],
    /// How many answers hold no category at all.
    pub no_category: u64,
    /// Per verdict in [`VERDICTS`] order: how many answers have it (these add up to `labels`).
    pub verdicts: [u64; 4],
    /// How many answers hold exactly each set of categories (the empty set included).
    pub sets: BTreeMap<Categories, u64>,
}

impl ExpectedRow {
    /// How many answers hold `category` (a single category; anything else gives 0).
    pub fn holds(&self, category: Categories) -> u64 {
        Categories::NAMED
            .iter()
            .position(|(c, _)| *c == category)
            .map_or(0, |i| self.holds_category[i])
    }

    /// How many answers hold at least one category of `any` (answers holding several count
    /// once): for instance `vpn` or `hosting`, or any anonymous category.
    pub fn holds_any(&self, any: Categories) -> u64 {
        self.sets
            .iter()
            .filter(|(set, _)| set.bits() & any.bits() != 0)
            .map(|(_, n)| n)
            .sum()
    }

    /// How many answers have `verdict`.
    pub fn verdict(&self, verdict: Verdict) -> u64 {
        self.verdicts[verdict as usize]
    }
}

/// One category against the rest (see the [module docs](self)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CategoryMetrics {
    /// The category.
    pub category: Categories,
    /// Rows expecting it whose answer holds it.
    pub tp: u64,
    /// Rows expecting it whose answer does not hold it.
    pub fn_: u64,
    /// Other rows whose answer holds it.
    pub fp: u64,
    /// Other rows whose answer does not hold it.
    pub tn: u64,
}

impl CategoryMetrics {
    /// True-positive rate (recall): `tp / (tp + fn)`; `None` when no row expects the category.
    pub fn tpr(&self) -> Option<f64> {
        ratio(self.tp, self.tp + self.fn_)
    }
    /// False-positive rate: `fp / (fp + tn)`; `None` when every row expects the category.
    pub fn fpr(&self) -> Option<f64> {
        ratio(self.fp, self.fp + self.tn)
    }
}

fn ratio(n: u64, d: u64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

/// The tallies of an evaluation: per expected class, what the answers held and their verdicts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Evaluation {
    rows: [ExpectedRow; CLASSES],
}

impl Evaluation {
    /// No rows yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one labelled answer.
    pub fn add(&mut self, expected: Expected, answer: &Answer<'_>) {
        self.record(expected, answer.categories(), answer.verdict());
    }

    /// Counts one labelled answer given by its categories and verdict.
    pub fn record(&mut self, expected: Expected, categories: Categories, verdict: Verdict) {
        let row = &mut self.rows[expected.index()];
        row.labels += 1;
        for (i, (c, _)) in Categories::NAMED.iter().enumerate() {
            if categories.contains(*c) {
                row.holds_category[i] += 1;
            }
        }
        if categories.is_empty() {
            row.no_category += 1;
        }
        row.verdicts[verdict as usize] += 1;
        *row.sets.entry(categories).or_default() += 1;
    }

    /// How many rows were counted.
    pub fn labels(&self) -> u64 {
        self.rows.iter().map(|r| r.labels).sum()
    }

    /// The tallies of one expected class.
    pub fn row(&self, expected: Expected) -> &ExpectedRow {
        &self.rows[expected.index()]
    }

    /// Every expected class with its tallies, in [`Expected::all`] order.
    pub fn rows(&self) -> impl Iterator<Item = (Expected, &ExpectedRow)> {
        Expected::all().zip(self.rows.iter())
    }

    /// True and false positives and negatives of `category` (a single category), one against
    /// the rest.
    pub fn metrics(&self, category: Categories) -> CategoryMetrics {
        let mut m = CategoryMetrics {
            category,
            tp: 0,
            fn_: 0,
            fp: 0,
            tn: 0,
        };
        for (expected, row) in self.rows() {
            let holds = row.holds(category);
            if expected == Expected::Category(category) {
                m.tp += holds;
                m.fn_ += row.labels - holds;
            } else {
                m.fp += holds;
                m.tn += row.labels - holds;
            }
        }
        m
    }
}

/// Looks every label up in `db` and counts the answers.
///
/// ```
/// use ipsieve::{Categories, Database};
/// use ipsieve_builder::eval::{evaluate, parse_labels, Expected};
/// use ipsieve_builder::{Attrs, Builder, SourceSpec};
///
/// let mut b = Builder::new();
/// let tor = b.add_source(SourceSpec::new("exits", "ip-list").categories(Categories::TOR_EXIT))?;
/// b.add_net(tor, "198.51.100.0/24".parse()?, Attrs::default())?;
/// let db = Database::from_bytes(&b.compile()?.bytes)?;
/// let labels = "198.51.100.1,tor_exit\n203.0.113.1,tor_exit\n192.0.2.1,none\n";
/// let e = evaluate(&db, parse_labels(labels.as_bytes()).map(Result::unwrap));
/// let m = e.metrics(Categories::TOR_EXIT);
/// assert_eq!((m.tp, m.fn_, m.fp, m.tn), (1, 1, 0, 1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn evaluate(db: &Database, labels: impl IntoIterator<Item = Label>) -> Evaluation {
    let mut e = Evaluation::new();
    for l in labels {
        e.add(l.expected, &db.lookup(l.ip));
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for e in Expected::all() {
            assert_eq!(Expected::from_name(e.as_str()), Some(e));
        }
        assert_eq!(Expected::from_name("clean"), Some(Expected::None));
        assert_eq!(Expected::from_name("VPN"), None);
        assert_eq!(Expected::all().count(), CLASSES);
    }

    #[test]
    fn bad_rows_name_their_line_and_the_rest_count() {
        let text = "IP , expected\n\n1.2.3.4,vpn,extra\n10.0.0.0/8,none\n::1,vpnn\n::2 , relay \n";
        let rows: Vec<_> = parse_labels(text.as_bytes()).collect();
        assert_eq!(rows.len(), 4);
        assert!(matches!(
            rows[0],
            Err(LabelError::Fields {
                line: 3,
                found: 3,
                ..
            })
        ));
        assert!(
            matches!(&rows[1], Err(LabelError::Address { line: 4, text }) if text == "10.0.0.0/8")
        );
        assert!(matches!(&rows[2], Err(LabelError::Category { line: 5, text }) if text == "vpnn"));
        let ok = rows[3].as_ref().unwrap();
        assert_eq!(
            (ok.line, ok.expected),
            (6, Expected::Category(Categories::RELAY))
        );
    }

    #[test]
    fn only_the_first_row_can_be_a_header() {
        let rows: Vec<_> = parse_labels("1.2.3.4,none\nip,none\n".as_bytes()).collect();
        assert!(rows[0].is_ok());
        assert!(matches!(rows[1], Err(LabelError::Address { line: 2, .. })));
    }
}
