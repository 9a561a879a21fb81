//! The one error type every parser returns.

use std::fmt;

/// Longest piece of offending input quoted in an error message.
pub const MAX_QUOTED: usize = 80;

/// Where in its input a [`ParseError`] happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// 1-based line number of a text format.
    Line(u64),
    /// Byte offset into a binary (or whole-document) format.
    Byte(u64),
    /// The input as a whole (an I/O failure, an empty document).
    Whole,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::Line(n) => write!(f, "line {n}"),
            Position::Byte(n) => write!(f, "byte {n}"),
            Position::Whole => f.write_str("input"),
        }
    }
}

/// A rejected entry (or a failure of the whole input), naming the source, the position, the
/// reason and the offending text, truncated to [`MAX_QUOTED`] characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{source_name}: {position}: {reason}{}", quote(.text))]
pub struct ParseError {
    /// The source's name, as given to the parser.
    pub source_name: String,
    /// Where the problem is.
    pub position: Position,
    /// What is wrong, lowercase, no trailing period.
    pub reason: String,
    /// The offending input, truncated; empty when there is nothing useful to quote.
    pub text: String,
    /// True when the parser cannot go on (I/O error, truncated binary stream); the entries it
    /// returned before still count.
    pub fatal: bool,
}

fn quote(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!(" (in {text:?})")
    }
}

impl ParseError {
    /// A recoverable error about one entry at `line`.
    pub fn at_line(source_name: &str, line: u64, reason: impl Into<String>, text: &str) -> Self {
        ParseError {
            source_name: source_name.to_owned(),
            position: Position::Line(line),
            reason: reason.into(),
            text: truncate(text),
            fatal: false,
        }
    }

    /// An error after which the parser stops.
    pub fn fatal(source_name: &str, position: Position, reason: impl Into<String>) -> Self {
        ParseError {
            source_name: source_name.to_owned(),
            position,
            reason: reason.into(),
            text: String::new(),
            fatal: true,
        }
    }
}

/// Cuts `text` to at most [`MAX_QUOTED`] characters (on a char boundary), marking the cut.
pub fn truncate(text: &str) -> String {
    match text.char_indices().nth(MAX_QUOTED) {
        None => text.to_owned(),
        Some((cut, _)) => format!("{}…", &text[..cut]),
    }
}

/// A record together with where it was read, so that a consumer rejecting it later (the
/// builder refusing a `/0` in a VPN list) can still name the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<T> {
    /// Where the entry starts in its input.
    pub position: Position,
    /// The parsed entry.
    pub record: T,
}

impl<T> Located<T> {
    /// The record without its position.
    pub fn into_record(self) -> T {
        self.record
    }
}
