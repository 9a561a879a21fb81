//! Dated sources: a `url` template or an index `link` pattern with date fields, and the times a
//! template's candidates stand for.
//!
//! A pattern is text with date fields in braces: `{yyyy}` (year), `{mm}` (month), `{dd}` (day),
//! `{hh}` (hour), `{hhmm}` (hour and minute), `{yyyymmdd}` (year, month and day), each written
//! with leading zeros; a link pattern may also hold `*` (any run of characters other than `/`).
//! Everything else is literal. Times are UTC.
//!
//! `ipsieve fetch` expands a `url` template at times counted back from now by the source's
//! `publication_step` and takes the newest URL that exists; it matches a `link` pattern against
//! the links of the source's `index` and takes the link with the newest date (see
//! [`crate::fetch`]).

use ipsieve_sources::time::Timestamp;

/// A date field of a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    /// `{yyyy}`.
    Year,
    /// `{mm}`.
    Month,
    /// `{dd}`.
    Day,
    /// `{hh}`.
    Hour,
    /// `{hhmm}`.
    HourMinute,
    /// `{yyyymmdd}`.
    YearMonthDay,
}

const FIELDS: [(&str, Field); 6] = [
    ("yyyy", Field::Year),
    ("mm", Field::Month),
    ("dd", Field::Day),
    ("hh", Field::Hour),
    ("hhmm", Field::HourMinute),
    ("yyyymmdd", Field::YearMonthDay),
];

impl Field {
    /// The field's digits in `YYYY-MM-DDTHH:MM:SSZ` (byte ranges, joined).
    #[cfg_attr(not(feature = "fetch"), allow(dead_code))]
    fn digits(self, stamp: &str) -> String {
        let part = |r: std::ops::Range<usize>| stamp.get(r).unwrap_or("");
        match self {
            Field::Year => part(0..4).to_owned(),
            Field::Month => part(5..7).to_owned(),
            Field::Day => part(8..10).to_owned(),
            Field::Hour => part(11..13).to_owned(),
            Field::HourMinute => format!("{}{}", part(11..13), part(14..16)),
            Field::YearMonthDay => format!("{}{}{}", part(0..4), part(5..7), part(8..10)),
        }
    }

    /// How many digits the field has.
    #[cfg(feature = "fetch")]
    fn width(self) -> usize {
        match self {
            Field::Year | Field::HourMinute => 4,
            Field::Month | Field::Day | Field::Hour => 2,
            Field::YearMonthDay => 8,
        }
    }
}

/// One piece of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Field(Field),
    Any,
}

/// A parsed `url` template or `link` pattern.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    pieces: Vec<Piece>,
}

/// `{yyyy}`, `{mm}`, … for messages.
const FIELD_LIST: &str = "{yyyy}, {mm}, {dd}, {hh}, {hhmm}, {yyyymmdd}";

impl Pattern {
    /// Parses `text`; `*` is a wildcard when `wildcard` is true and a literal otherwise.
    ///
    /// # Errors
    /// An unknown field, or a `{` or `}` that does not delimit one.
    pub(crate) fn parse(text: &str, wildcard: bool) -> Result<Pattern, String> {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            match c {
                '{' => {
                    let end = rest.find('}').ok_or_else(|| {
                        format!(
                            "'{{' without a closing '}}' in '{text}' (date fields: {FIELD_LIST})"
                        )
                    })?;
                    let name = &rest[1..end];
                    let field = FIELDS
                        .iter()
                        .find(|(n, _)| *n == name)
                        .map(|&(_, f)| f)
                        .ok_or_else(|| {
                            format!("unknown date field {{{name}}} in '{text}' (expected one of {FIELD_LIST})")
                        })?;
                    if !literal.is_empty() {
                        pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                    }
                    pieces.push(Piece::Field(field));
                    rest = &rest[end + 1..];
                    continue;
                }
                '}' => return Err(format!("'}}' without an opening '{{' in '{text}'")),
                '*' if wildcard => {
                    if !literal.is_empty() {
                        pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                    }
                    pieces.push(Piece::Any);
                }
                c => literal.push(c),
            }
            rest = &rest[c.len_utf8()..];
        }
        if !literal.is_empty() {
            pieces.push(Piece::Literal(literal));
        }
        Ok(Pattern { pieces })
    }

    /// Whether the pattern has a date field (a plain URL has none).
    pub(crate) fn is_dated(&self) -> bool {
        self.pieces.iter().any(|p| matches!(p, Piece::Field(_)))
    }

    fn has(&self, f: Field) -> bool {
        self.pieces.contains(&Piece::Field(f))
    }

    /// The smallest time step the fields tell apart, in seconds: a day, an hour or a minute.
    ///
    /// # Errors
    /// When the fields do not name a whole date (year, month and day).
    pub(crate) fn resolution(&self) -> Result<u64, String> {
        let ymd = self.has(Field::YearMonthDay)
            || (self.has(Field::Year) && self.has(Field::Month) && self.has(Field::Day));
        if !ymd {
            return Err(format!(
                "its date fields do not name a whole date: it needs {{yyyymmdd}}, or {{yyyy}}, \
                 {{mm}} and {{dd}} (fields: {FIELD_LIST})"
            ));
        }
        Ok(if self.has(Field::HourMinute) {
            60
        } else if self.has(Field::Hour) {
            3_600
        } else {
            86_400
        })
    }

    /// The pattern with every field filled in for Unix time `t` (UTC); `*` stays `*`.
    #[cfg_attr(not(feature = "fetch"), allow(dead_code))]
    pub(crate) fn expand(&self, t: u64) -> String {
        let stamp = Timestamp(i64::try_from(t).unwrap_or(i64::MAX)).to_string();
        let mut out = String::new();
        for p in &self.pieces {
            match p {
                Piece::Literal(s) => out.push_str(s),
                Piece::Field(f) => out.push_str(&f.digits(&stamp)),
                Piece::Any => out.push('*'),
            }
        }
        out
    }
}

/// Parses a publication step or offset: a whole number of days (`1d`), hours (`2h`) or
/// minutes (`30m`), in seconds.
///
/// # Errors
/// Anything else, or a step of zero or more than 366 days.
pub(crate) fn parse_step(text: &str) -> Result<u64, String> {
    let bad = || {
        format!(
            "'{text}' is not a time step: write a whole number of days, hours or minutes, e.g. \
             \"1d\", \"2h\", \"30m\""
        )
    };
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let n: u64 = number.parse().map_err(|_| bad())?;
    let unit = match unit {
        "d" => 86_400,
        "h" => 3_600,
        "m" => 60,
        _ => return Err(bad()),
    };
    let secs = n.checked_mul(unit).ok_or_else(bad)?;
    if secs > 366 * 86_400 {
        return Err(format!("'{text}' is longer than a year"));
    }
    Ok(secs)
}

/// The times a template's candidates stand for, newest first: the latest `offset + k × step`
/// not after `now`, then one step earlier each, `count` in all.
#[cfg_attr(not(feature = "fetch"), allow(dead_code))]
pub(crate) fn candidates(now: u64, step: u64, offset: u64, count: u32) -> Vec<u64> {
    let step = step.max(1);
    let offset = offset % step;
    let Some(since) = now.checked_sub(offset) else {
        return Vec::new();
    };
    let newest = since / step * step + offset;
    (0..u64::from(count))
        .map_while(|k| newest.checked_sub(k * step))
        .collect()
}

/// Matches a link pattern against the path of a URL and reads the date it carries.
#[cfg(feature = "fetch")]
#[derive(Debug)]
pub(crate) struct LinkMatcher {
    regex: regex::Regex,
    fields: Vec<Field>,
}

#[cfg(feature = "fetch")]
impl LinkMatcher {
    /// Compiles `pattern` to match the end of a URL path, starting at a `/`.
    ///
    /// # Errors
    /// Only if the generated expression does not compile (it always should).
    pub(crate) fn new(pattern: &Pattern) -> Result<LinkMatcher, String> {
        let mut re = String::from("(?:^|/)");
        let mut fields = Vec::new();
        for p in &pattern.pieces {
            match p {
                Piece::Literal(s) => re.push_str(&regex::escape(s)),
                Piece::Field(f) => {
                    re.push_str(&format!("([0-9]{{{}}})", f.width()));
                    fields.push(*f);
                }
                Piece::Any => re.push_str("[^/]*"),
            }
        }
        re.push('$');
        let regex = regex::Regex::new(&re).map_err(|e| e.to_string())?;
        Ok(LinkMatcher { regex, fields })
    }

    /// The Unix time the path's date fields name, if the path matches and the fields agree
    /// with each other and make a real date and time.
    pub(crate) fn date(&self, path: &str) -> Option<u64> {
        let caps = self.regex.captures(path)?;
        let (mut y, mut mo, mut d, mut h, mut mi) = (None, None, None, None, None);
        let set = |slot: &mut Option<String>, v: &str| -> Option<()> {
            match slot {
                Some(old) if old != v => None,
                _ => {
                    *slot = Some(v.to_owned());
                    Some(())
                }
            }
        };
        for (i, f) in self.fields.iter().enumerate() {
            let v = caps.get(i + 1)?.as_str();
            match f {
                Field::Year => set(&mut y, v)?,
                Field::Month => set(&mut mo, v)?,
                Field::Day => set(&mut d, v)?,
                Field::Hour => set(&mut h, v)?,
                Field::HourMinute => {
                    set(&mut h, &v[..2])?;
                    set(&mut mi, &v[2..])?;
                }
                Field::YearMonthDay => {
                    set(&mut y, &v[..4])?;
                    set(&mut mo, &v[4..6])?;
                    set(&mut d, &v[6..])?;
                }
            }
        }
        let text = format!(
            "{}-{}-{} {}:{}:00",
            y?,
            mo?,
            d?,
            h.as_deref().unwrap_or("00"),
            mi.as_deref().unwrap_or("00")
        );
        let t = Timestamp::parse_date_time(&text)?;
        u64::try_from(t.0).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_every_field() {
        let p = Pattern::parse(
            "https://x/{yyyy}.{mm}/RIBS/rib.{yyyymmdd}.{hhmm}-{dd}-{hh}.bz2",
            false,
        )
        .unwrap();
        // 2025-05-01T14:30:00Z
        assert_eq!(
            p.expand(1_746_109_800),
            "https://x/2025.05/RIBS/rib.20250501.1430-01-14.bz2"
        );
        assert_eq!(p.resolution(), Ok(60));
        assert!(p.is_dated());
        assert!(!Pattern::parse("https://x/a*b", false).unwrap().is_dated());
    }

    #[test]
    fn bad_patterns_are_named() {
        assert!(Pattern::parse("x/{yyyy", false)
            .unwrap_err()
            .contains("without a closing"));
        assert!(Pattern::parse("x/{week}", false)
            .unwrap_err()
            .contains("unknown date field {week}"));
        assert!(Pattern::parse("x/}", false).unwrap_err().contains("'}'"));
        let err = Pattern::parse("x/{yyyy}{mm}", false)
            .unwrap()
            .resolution()
            .unwrap_err();
        assert!(err.contains("whole date"), "{err}");
    }

    #[test]
    fn steps() {
        assert_eq!(parse_step("1d"), Ok(86_400));
        assert_eq!(parse_step("2h"), Ok(7_200));
        assert_eq!(parse_step("30m"), Ok(1_800));
        for bad in ["", "d", "1", "1w", "-1h", "1.5h", "400d"] {
            assert!(parse_step(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn candidates_count_back_from_the_latest_step() {
        // 2025-05-02T08:00:00Z, daily at 12:00: the newest is 2025-05-01T12:00.
        let now = 1_746_172_800;
        let c = candidates(now, 86_400, 12 * 3_600, 3);
        assert_eq!(c, [1_746_100_800, 1_746_014_400, 1_745_928_000]);
        let two_hourly = candidates(now + 5_400, 7_200, 0, 2);
        assert_eq!(two_hourly, [now, now - 7_200]);
        assert!(candidates(10, 86_400, 12 * 3_600, 3).is_empty());
    }

    #[cfg(feature = "fetch")]
    #[test]
    fn links_match_at_a_segment_boundary_and_carry_their_date() {
        let p = Pattern::parse("routeviews-rv2-{yyyymmdd}-{hhmm}.pfx2as.gz", true).unwrap();
        let m = LinkMatcher::new(&p).unwrap();
        assert_eq!(
            m.date("/datasets/2017/07/routeviews-rv2-20170715-1200.pfx2as.gz"),
            Some(1_500_120_000)
        );
        assert_eq!(m.date("/x/oldrouteviews-rv2-20170715-1200.pfx2as.gz"), None);
        assert_eq!(
            m.date("/x/routeviews-rv2-20170715-1200.pfx2as.gz.md5"),
            None
        );
        assert_eq!(m.date("/x/routeviews-rv2-20171315-1200.pfx2as.gz"), None);
        let both = Pattern::parse("{yyyy}/{mm}/f-{yyyymmdd}.gz", true).unwrap();
        let m = LinkMatcher::new(&both).unwrap();
        assert!(m.date("/2017/07/f-20170715.gz").is_some());
        assert_eq!(m.date("/2017/06/f-20170715.gz"), None, "fields disagree");
        let any = Pattern::parse("ServiceTags_Public_{yyyymmdd}*.json", true).unwrap();
        let m = LinkMatcher::new(&any).unwrap();
        assert_eq!(
            m.date("/download/7/1/D/ServiceTags_Public_20240909.json"),
            Some(1_725_840_000)
        );
    }
}
