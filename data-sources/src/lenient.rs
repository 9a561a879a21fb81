//! [`Lenient`]: skip bad entries, count them, and keep a few for the build report.

use crate::error::ParseError;

/// How many rejected entries a [`LenientReport`] quotes.
pub const KEPT_ERRORS: usize = 20;

/// Wraps a parser's fallible stream and yields only the accepted records.
///
/// Recoverable errors are counted and the first [`KEPT_ERRORS`] kept; a fatal error ends the
/// stream and is remembered. Iterate by `&mut` so the adapter is still there for the report:
///
/// ```
/// use ipsieve_sources::{plain, Lenient};
///
/// let input = &b"192.0.2.1\nnot-an-address\n198.51.100.0/24\n"[..];
/// let mut nets = Lenient::new(plain::parse(input, "example"));
/// let kept: Vec<_> = (&mut nets).collect();
/// assert_eq!(kept.len(), 2);
/// let report = nets.report();
/// assert_eq!((report.accepted, report.rejected), (2, 1));
/// assert_eq!(report.first_errors[0].to_string(),
///            r#"example: line 2: not an ip address or network (in "not-an-address")"#);
/// assert!(report.fatal.is_none());
/// ```
#[derive(Debug, Clone)]
pub struct Lenient<I> {
    inner: I,
    accepted: u64,
    rejected: u64,
    first_errors: Vec<ParseError>,
    fatal: Option<ParseError>,
}

/// What a [`Lenient`] adapter saw, for a build report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LenientReport {
    /// Records yielded.
    pub accepted: u64,
    /// Entries rejected with a recoverable error.
    pub rejected: u64,
    /// The first [`KEPT_ERRORS`] recoverable errors, in input order.
    pub first_errors: Vec<ParseError>,
    /// The error that ended the stream early, if one did; the records before it still count.
    pub fatal: Option<ParseError>,
}

impl<I> Lenient<I> {
    /// Wraps a parser's stream.
    pub fn new(inner: I) -> Self {
        Lenient {
            inner,
            accepted: 0,
            rejected: 0,
            first_errors: Vec::new(),
            fatal: None,
        }
    }

    /// The counts and errors so far (complete once iteration has ended).
    pub fn report(&self) -> LenientReport {
        LenientReport {
            accepted: self.accepted,
            rejected: self.rejected,
            first_errors: self.first_errors.clone(),
            fatal: self.fatal.clone(),
        }
    }

    /// Like [`Lenient::report`], without cloning.
    pub fn into_report(self) -> LenientReport {
        LenientReport {
            accepted: self.accepted,
            rejected: self.rejected,
            first_errors: self.first_errors,
            fatal: self.fatal,
        }
    }

    /// rejected / (accepted + rejected); 0.0 before any entry was seen.
    pub fn rejected_ratio(&self) -> f64 {
        ratio(self.accepted, self.rejected)
    }
}

impl LenientReport {
    /// rejected / (accepted + rejected); 0.0 when nothing was seen.
    pub fn rejected_ratio(&self) -> f64 {
        ratio(self.accepted, self.rejected)
    }
}

fn ratio(accepted: u64, rejected: u64) -> f64 {
    let seen = accepted.saturating_add(rejected);
    if seen == 0 {
        0.0
    } else {
        rejected as f64 / seen as f64
    }
}

impl<T, I: Iterator<Item = Result<T, ParseError>>> Iterator for Lenient<I> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        if self.fatal.is_some() {
            return None;
        }
        loop {
            match self.inner.next()? {
                Ok(record) => {
                    self.accepted += 1;
                    return Some(record);
                }
                Err(e) if e.fatal => {
                    self.fatal = Some(e);
                    return None;
                }
                Err(e) => {
                    self.rejected += 1;
                    if self.first_errors.len() < KEPT_ERRORS {
                        self.first_errors.push(e);
                    }
                }
            }
        }
    }
}
