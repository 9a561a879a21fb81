//! Standard output for every command. A reader that goes away (`ipsieve stats | head -1`,
//! `| true`) makes the next write fail with `EPIPE`; the command then stops and `main` ends it
//! quietly with status 0, as Unix tools that die of `SIGPIPE` do, instead of a panic or an
//! error message. Commands write the files they promise before printing, so a closed pipe
//! never costs a file.
//!
//! Text from artifacts, files and users is printed through [`escape`], so that it cannot
//! break a line's layout or reach a terminal as a command.

use std::borrow::Cow;
use std::io::{self, BufWriter, StdoutLock, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once a write to standard output failed because its reader is gone.
static CLOSED: AtomicBool = AtomicBool::new(false);

/// Whether a write to standard output found its reader gone: the error the command returned
/// comes from that, and is not reported.
pub(crate) fn closed() -> bool {
    CLOSED.load(Ordering::Relaxed)
}

/// Buffered, locked standard output whose write errors are watched for a closed pipe. Flush it
/// (with `?`) before returning: a failure at drop would go unseen.
pub(crate) fn stdout() -> BufWriter<Stdout> {
    BufWriter::new(Stdout(io::stdout().lock()))
}

/// Locked standard output noting a broken pipe (see [`closed`]).
pub(crate) struct Stdout(StdoutLock<'static>);

impl Stdout {
    fn watch<T>(result: io::Result<T>) -> io::Result<T> {
        if let Err(e) = &result {
            if e.kind() == io::ErrorKind::BrokenPipe {
                CLOSED.store(true, Ordering::Relaxed);
            }
        }
        result
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Self::watch(self.0.write(buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        Self::watch(self.0.flush())
    }
}

/// `text` safe to print: every control character (C0, DEL, C1) and every Unicode
/// bidirectional-text control is written as Rust's `{:?}` writes it (`\t`, `\n`, `\r`, `\0`,
/// `\u{1b}`, `\u{9b}`, `\u{202e}`), the rest is unchanged. A tab in an AS name then cannot
/// shift a TSV column, a line feed cannot forge a line, and no escape sequence reaches a
/// terminal. The command line's one escaping function: every string that comes from an
/// artifact, a file, a path or the user goes through it (or [`escape_lines`]) before it is
/// printed as text.
pub(crate) fn escape(text: &str) -> Cow<'_, str> {
    escape_keeping(text, None)
}

/// [`escape`] for a text of several lines (a build report, an error naming a manifest line):
/// its line feeds stay, everything else is escaped.
pub(crate) fn escape_lines(text: &str) -> Cow<'_, str> {
    escape_keeping(text, Some('\n'))
}

fn escape_keeping(text: &str, keep: Option<char>) -> Cow<'_, str> {
    let unsafe_char = |c: char| Some(c) != keep && (c.is_control() || is_bidi_control(c));
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !unsafe_char(c) {
            out.push(c);
        } else if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.extend(c.escape_unicode());
        }
    }
    Cow::Owned(out)
}

/// The Unicode bidirectional-text controls (marks, embeddings, overrides, isolates), which
/// reorder what a terminal shows.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Each column's width for a table with `header` over `rows`: its widest cell, in characters.
pub(crate) fn fitted_widths<R: AsRef<[String]>>(header: &[&str], rows: &[R]) -> Vec<usize> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, cell) in widths.iter_mut().zip(r.as_ref()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    widths
}

/// One table row after `indent`: each cell padded to its width, two spaces between columns,
/// no trailing blanks (a longer cell widens its row only).
pub(crate) fn write_row<S: AsRef<str>>(
    out: &mut impl Write,
    indent: &str,
    cells: &[S],
    widths: &[usize],
) -> io::Result<()> {
    let mut line = String::from(indent);
    for (cell, &width) in cells.iter().zip(widths) {
        let cell = cell.as_ref();
        line.push_str(cell);
        line.extend(std::iter::repeat_n(
            ' ',
            width.saturating_sub(cell.chars().count()) + 2,
        ));
    }
    writeln!(out, "{}", line.trim_end())
}
