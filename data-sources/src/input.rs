//! Opening inputs (plain, gzip or bzip2) and the bounded line reader every text parser shares.
//!
//! The limits here keep a hostile or broken input from exhausting memory: a line is capped at
//! [`MAX_LINE`] bytes (longer lines are skipped without being buffered), a source at
//! [`MAX_RECORDS`] records, and a whole JSON document at [`MAX_DOCUMENT`] bytes. A compressed
//! input (gzip or bzip2) stops at [`MAX_DECOMPRESSED`] bytes of output, so a compression bomb
//! costs bounded time, whichever layer fetched or cached it.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::path::Path;

use crate::error::{Located, ParseError, Position};

/// Longest accepted line, in bytes, without its terminator.
pub const MAX_LINE: usize = 1 << 20;

/// Most records one source may yield; past it the parser reports one fatal error and stops.
pub const MAX_RECORDS: u64 = 50_000_000;

/// Largest JSON document (after decompression) the JSON parsers read.
pub const MAX_DOCUMENT: u64 = 256 << 20;

/// Most bytes a gzip or bzip2 input may decompress to in [`open`] and [`decode`] (8 GiB: a
/// full RouteViews or RIS RIB dump is a few GiB decompressed). Past it, reading fails with an
/// error the parsers report as a fatal [`ParseError`] naming the source.
pub const MAX_DECOMPRESSED: u64 = 8 << 30;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// `BZh` and a block-size digit, then the magic of the first block (or of the end of an empty
/// stream): ten bytes, so a text file starting with `BZh1` is not mistaken for bzip2.
const BZIP2_MAGIC: &[u8; 3] = b"BZh";
const BZIP2_BLOCK_MAGIC: [u8; 6] = [0x31, 0x41, 0x59, 0x26, 0x53, 0x59];
const BZIP2_END_MAGIC: [u8; 6] = [0x17, 0x72, 0x45, 0x38, 0x50, 0x90];
const SNIFF: usize = 10;
const BUFFER: usize = 64 << 10;

/// Checks, without opening it, that `path` names a regular file (a symbolic link counts as the
/// file it names). Every input is checked before it is opened: opening a FIFO blocks until
/// some process writes to it (a hang), and a device such as `/dev/zero` or `/dev/urandom`
/// never ends (a spin at 100 % CPU).
///
/// ```
/// let e = ipsieve_sources::input::require_regular_file("/dev/null".as_ref()).unwrap_err();
/// assert_eq!(e.to_string(), "is a character device, not a regular file");
/// ```
///
/// # Errors
/// The error of [`std::fs::metadata`] (a missing file, a dangling link), or an error of kind
/// [`io::ErrorKind::InvalidInput`] saying what the path is instead: "is a FIFO, not a regular
/// file" (also a character or block device, a socket, a directory).
pub fn require_regular_file(path: &Path) -> io::Result<()> {
    let kind = std::fs::metadata(path)?.file_type();
    if kind.is_file() {
        return Ok(());
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("is {}, not a regular file", describe_file_type(kind)),
    ))
}

/// What kind of file `kind` is, for messages: "a regular file", "a directory", "a symbolic
/// link", "a FIFO", "a character device", "a block device", "a socket" or "a special file".
pub fn describe_file_type(kind: std::fs::FileType) -> &'static str {
    if kind.is_file() {
        "a regular file"
    } else if kind.is_dir() {
        "a directory"
    } else if kind.is_symlink() {
        "a symbolic link"
    } else {
        special_kind(kind)
    }
}

/// What a file that is neither a regular file, a directory nor a symbolic link is.
#[cfg(unix)]
fn special_kind(kind: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

/// What a file that is neither a regular file, a directory nor a symbolic link is.
#[cfg(not(unix))]
fn special_kind(_: std::fs::FileType) -> &'static str {
    "a special file"
}

/// Opens `path` for reading, decompressing it transparently when it starts with the gzip or
/// the bzip2 magic bytes (several concatenated gzip members, or bzip2 streams as `pbzip2`
/// writes them, are read as one stream). Decompression is streaming: memory stays at the
/// decoder's buffers whatever the size; the parsers' own limits bound what they keep.
///
/// # Errors
/// [`require_regular_file`]'s error for anything but a regular file (a FIFO, a device), checked
/// before the file is opened; otherwise whatever opening or first reading the file returns. A
/// corrupt or truncated compressed
/// stream is only noticed while reading; the parsers turn that into a fatal [`ParseError`]
/// after the entries read before it.
pub fn open(path: &Path) -> io::Result<Box<dyn BufRead + Send>> {
    open_with_limit(path, MAX_DECOMPRESSED)
}

/// [`open`] with another cap on the decompressed size, in bytes (see [`decode_with_limit`]).
///
/// # Errors
/// As [`open`].
pub fn open_with_limit(path: &Path, max_decompressed: u64) -> io::Result<Box<dyn BufRead + Send>> {
    require_regular_file(path)?;
    decode_with_limit(File::open(path)?, max_decompressed)
}

/// Wraps `reader` like [`open`] does: gunzips when the first two bytes are the gzip magic,
/// decompresses bzip2 when the first ten are a bzip2 stream header (`BZh1`–`BZh9` and a block
/// or end-of-stream magic), otherwise passes the bytes through unchanged.
///
/// ```
/// use std::io::BufRead;
///
/// let plain = ipsieve_sources::input::decode(&b"192.0.2.1\n"[..]).unwrap();
/// assert_eq!(plain.lines().next().unwrap().unwrap(), "192.0.2.1");
/// ```
///
/// # Errors
/// An I/O error while reading the first ten bytes.
pub fn decode(reader: impl Read + Send + 'static) -> io::Result<Box<dyn BufRead + Send>> {
    decode_with_limit(reader, MAX_DECOMPRESSED)
}

/// [`decode`] with another cap on the decompressed size: once a gzip or bzip2 input has
/// produced `max_decompressed` bytes, the next read that would go past fails with an error of
/// kind [`io::ErrorKind::InvalidData`] that the parsers report as "decompressed input larger
/// than N bytes". Uncompressed input is passed through uncapped (its size is the file's).
///
/// ```
/// use std::io::{Read, Write};
///
/// let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
/// gz.write_all(&[b'a'; 10_000]).unwrap();
/// let bomb = gz.finish().unwrap();
/// let mut reader = ipsieve_sources::input::decode_with_limit(std::io::Cursor::new(bomb), 1000).unwrap();
/// let e = reader.read_to_end(&mut Vec::new()).unwrap_err();
/// assert_eq!(e.to_string(), "decompressed input larger than 1000 bytes (a compression bomb, or not the file this source should be)");
/// ```
///
/// # Errors
/// An I/O error while reading the first ten bytes.
pub fn decode_with_limit(
    reader: impl Read + Send + 'static,
    max_decompressed: u64,
) -> io::Result<Box<dyn BufRead + Send>> {
    let mut reader = reader;
    let mut magic = [0u8; SNIFF];
    let mut got = 0;
    while got < magic.len() {
        match reader.read(&mut magic[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let whole = Cursor::new(magic[..got].to_vec()).chain(reader);
    if magic[..got].starts_with(&GZIP_MAGIC) {
        let gunzip = gunzip_with_limit(whole, max_decompressed);
        Ok(Box::new(BufReader::with_capacity(BUFFER, gunzip)))
    } else if is_bzip2(&magic[..got]) {
        let bunzip = Capped::new(bzip2::read::MultiBzDecoder::new(whole), max_decompressed);
        Ok(Box::new(BufReader::with_capacity(BUFFER, bunzip)))
    } else {
        Ok(Box::new(BufReader::with_capacity(BUFFER, whole)))
    }
}

/// `reader`'s gzip stream (one member or several, as `cat a.gz b.gz` makes) decompressed,
/// failing once more than `max_decompressed` bytes have come out: the one capped gunzip, used
/// by [`decode_with_limit`] for source files and by the fetcher for downloads. A read past the
/// cap fails with an error [`over_limit`] recognises; a corrupt or truncated stream fails with
/// flate2's error.
///
/// ```
/// use std::io::{Read, Write};
///
/// let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
/// gz.write_all(&[b'a'; 10_000]).unwrap();
/// let bomb = gz.finish().unwrap();
/// let mut out = Vec::new();
/// let e = ipsieve_sources::input::gunzip_with_limit(&bomb[..], 1000).read_to_end(&mut out).unwrap_err();
/// assert_eq!(ipsieve_sources::input::over_limit(&e), Some(1000));
/// assert_eq!(out.len(), 1000);
/// ```
pub fn gunzip_with_limit<R: Read>(reader: R, max_decompressed: u64) -> impl Read {
    Capped::new(flate2::read::MultiGzDecoder::new(reader), max_decompressed)
}

/// The cap, when `e` is the error of a decompressed input that went past it (from
/// [`gunzip_with_limit`], [`decode_with_limit`] or [`open_with_limit`]); `None` for any
/// other error.
pub fn over_limit(e: &io::Error) -> Option<u64> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<TooLarge>())
        .map(|too_large| too_large.0)
}

/// A decompressor's output, failing once more than `limit` bytes have come out.
struct Capped<R> {
    inner: R,
    limit: u64,
    produced: u64,
}

impl<R> Capped<R> {
    fn new(inner: R, limit: u64) -> Self {
        Capped {
            inner,
            limit,
            produced: 0,
        }
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let room = self.limit - self.produced;
        if room == 0 {
            // At the cap: the input is over it only if there is more to come.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    TooLarge(self.limit),
                )),
            };
        }
        let want = buf.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.produced += n as u64;
        Ok(n)
    }
}

/// The error a [`Capped`] reader fails with.
#[derive(Debug)]
struct TooLarge(u64);

impl std::fmt::Display for TooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "decompressed input larger than {} bytes (a compression bomb, or not the file this \
             source should be)",
            self.0
        )
    }
}

impl std::error::Error for TooLarge {}

/// Why reading failed, for a parser's fatal error: the decompression cap, said as it is, or
/// `otherwise` (a broken or truncated file) for any other error.
pub(crate) fn read_failure(e: &io::Error, otherwise: impl FnOnce() -> String) -> String {
    match over_limit(e) {
        Some(limit) => format!("{}; check the file", TooLarge(limit)),
        None => otherwise(),
    }
}

/// A bzip2 stream header: `BZh`, a block size `1`–`9`, then a block or end-of-stream magic.
fn is_bzip2(head: &[u8]) -> bool {
    head.len() == SNIFF
        && head.starts_with(BZIP2_MAGIC)
        && (b'1'..=b'9').contains(&head[3])
        && (head[4..] == BZIP2_BLOCK_MAGIC || head[4..] == BZIP2_END_MAGIC)
}

/// Reads lines with bounded memory: one reused buffer, terminators (`\n`, `\r\n`) stripped, a
/// UTF-8 byte-order mark dropped from line 1, invalid UTF-8 replaced by U+FFFD.
///
/// A line longer than [`MAX_LINE`] bytes is skipped and reported as a recoverable error, as
/// soon as it passes the limit: the error quotes its start, and the next call discards the
/// rest of the line as it reads it, so an endless line (`/dev/zero`) is reported at once and
/// costs no memory. An I/O error (such as a truncated gzip stream) is reported as
/// a fatal error at the line being read, and ends the stream.
///
/// ```
/// use ipsieve_sources::input::LineReader;
///
/// let mut lines = LineReader::new(&b"\xEF\xBB\xBFfirst\r\nsecond"[..], "example");
/// assert_eq!(lines.next_line().unwrap().unwrap(), (1, "first"));
/// assert_eq!(lines.next_line().unwrap().unwrap(), (2, "second"));
/// assert!(lines.next_line().is_none());
/// ```
#[derive(Debug)]
pub struct LineReader<R> {
    reader: R,
    source_name: String,
    buf: Vec<u8>,
    line: u64,
    max_line: usize,
    /// The rest of the last line (over-long, already reported) is still to be skipped.
    skipping: bool,
    done: bool,
}

impl<R: BufRead> LineReader<R> {
    /// A reader of `reader`'s lines; `source_name` goes into every error.
    pub fn new(reader: R, source_name: &str) -> Self {
        Self::with_max_line(reader, source_name, MAX_LINE)
    }

    /// A reader whose lines may be at most `max_line` bytes long (without the terminator);
    /// [`LineReader::new`] allows [`MAX_LINE`]. `ipsieve lookup -` reads standard input with a
    /// far smaller cap: an address is under 100 bytes.
    pub fn with_max_line(reader: R, source_name: &str, max_line: usize) -> Self {
        LineReader {
            reader,
            source_name: source_name.to_owned(),
            buf: Vec::new(),
            line: 0,
            max_line,
            skipping: false,
            done: false,
        }
    }

    /// The source name given to [`LineReader::new`].
    pub fn source_name(&self) -> &str {
        &self.source_name
    }

    /// The next line as (1-based line number, text), an error for a skipped over-long line, or
    /// `None` at the end of the input (and after a fatal error). Never panics.
    pub fn next_line(&mut self) -> Option<Result<(u64, &str), ParseError>> {
        if self.done {
            return None;
        }
        if self.skipping {
            self.skipping = false;
            if let Err(e) = self.skip_line() {
                // Still in the over-long line already counted.
                return Some(Err(self.read_error(&e, self.line)));
            }
        }
        let overlong = match self.fill_line() {
            Ok(Some(overlong)) => overlong,
            Ok(None) => {
                self.done = true;
                return None;
            }
            Err(e) => return Some(Err(self.read_error(&e, self.line + 1))),
        };
        self.line += 1;
        if self.line == 1 && self.buf.starts_with(b"\xEF\xBB\xBF") {
            self.buf.drain(..3);
        }
        if overlong {
            let text = String::from_utf8_lossy(&self.buf);
            let reason = format!("line longer than {} bytes", self.max_line);
            return Some(Err(ParseError::at_line(
                &self.source_name,
                self.line,
                reason,
                &text,
            )));
        }
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        if std::str::from_utf8(&self.buf).is_err() {
            let fixed = String::from_utf8_lossy(&self.buf).into_owned();
            self.buf.clear();
            self.buf.extend_from_slice(fixed.as_bytes());
        }
        let text = std::str::from_utf8(&self.buf).unwrap_or_default();
        Some(Ok((self.line, text)))
    }

    /// The fatal error for an I/O error `e` at `line`, which ends the stream.
    fn read_error(&mut self, e: &io::Error, line: u64) -> ParseError {
        self.done = true;
        let reason = read_failure(e, || {
            format!(
                "input cannot be read past this point ({e}); the file is probably truncated or \
                 corrupt, fetch it again"
            )
        });
        ParseError::fatal(&self.source_name, Position::Line(line), reason)
    }

    /// Reads one line into `buf` without its `\n`. `Ok(None)` at the end of input,
    /// `Ok(Some(true))` as soon as the line is longer than `max_line`: `buf` then holds its
    /// first `max_line` bytes, for quoting, and [`LineReader::skip_line`] must skip the rest
    /// (`skipping` is set) unless its end was already read.
    fn fill_line(&mut self) -> io::Result<Option<bool>> {
        self.buf.clear();
        let mut any = false;
        loop {
            let chunk = match self.reader.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                return Ok(any.then_some(false));
            }
            any = true;
            let newline = chunk.iter().position(|&b| b == b'\n');
            let take = newline.unwrap_or(chunk.len());
            let room = self.max_line - self.buf.len();
            if take > room {
                self.buf.extend_from_slice(&chunk[..room]);
                let used = match newline {
                    Some(i) => i + 1,
                    None => {
                        self.skipping = true;
                        room
                    }
                };
                self.reader.consume(used);
                return Ok(Some(true));
            }
            self.buf.extend_from_slice(&chunk[..take]);
            self.reader.consume(newline.map_or(take, |i| i + 1));
            if newline.is_some() {
                return Ok(Some(false));
            }
        }
    }

    /// Discards input up to and including the next `\n` (or to the end), never storing it.
    fn skip_line(&mut self) -> io::Result<()> {
        loop {
            let chunk = match self.reader.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                return Ok(());
            }
            match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    self.reader.consume(i + 1);
                    return Ok(());
                }
                None => {
                    let all = chunk.len();
                    self.reader.consume(all);
                }
            }
        }
    }
}

/// What a line-based parser hands its records and errors to; it knows the source and line, so
/// the formats never build a [`ParseError`] themselves.
#[derive(Debug)]
pub(crate) struct Sink<'a, T> {
    source_name: &'a str,
    line: u64,
    queue: &'a mut VecDeque<Result<Located<T>, ParseError>>,
}

impl<T> Sink<'_, T> {
    /// The current line's number.
    pub(crate) fn line(&self) -> u64 {
        self.line
    }

    /// Accepts one record.
    pub(crate) fn record(&mut self, record: T) {
        self.queue.push_back(Ok(Located {
            position: Position::Line(self.line),
            record,
        }));
    }

    /// Rejects `text` (part of the current line) for `reason`.
    pub(crate) fn error(&mut self, reason: impl Into<String>, text: &str) {
        let e = ParseError::at_line(self.source_name, self.line, reason, text);
        self.queue.push_back(Err(e));
    }

    /// Accepts one record that started at an earlier `line` (a multi-line entry).
    pub(crate) fn record_at(&mut self, line: u64, record: T) {
        self.queue.push_back(Ok(Located {
            position: Position::Line(line),
            record,
        }));
    }

    /// Rejects an entry that started at an earlier `line`, quoting `text` from it.
    pub(crate) fn error_at(&mut self, line: u64, reason: impl Into<String>, text: &str) {
        let e = ParseError::at_line(self.source_name, line, reason, text);
        self.queue.push_back(Err(e));
    }

    /// Rejects the input as a whole (not one of its lines), recoverably.
    pub(crate) fn error_whole(&mut self, reason: impl Into<String>) {
        let mut e = ParseError::at_line(self.source_name, 0, reason, "");
        e.position = Position::Whole;
        self.queue.push_back(Err(e));
    }
}

/// A line-oriented format: turns each line into zero or more records or errors.
pub(crate) trait LineFormat {
    /// What one accepted entry becomes.
    type Record;
    /// Handles one line (terminator already stripped).
    fn line(&mut self, text: &str, out: &mut Sink<'_, Self::Record>);

    /// Called once at a clean end of input (not after a fatal error), for formats whose
    /// entries span several lines and are only complete when the next one starts. The sink's
    /// line is the last line read.
    fn finish(&mut self, _out: &mut Sink<'_, Self::Record>) {}
}

/// The iterator every line-based `parse` returns: a [`LineReader`] feeding a [`LineFormat`],
/// with the [`MAX_RECORDS`] cap applied.
#[derive(Debug)]
pub(crate) struct Parsed<R, F: LineFormat> {
    lines: LineReader<R>,
    /// A copy of the reader's, borrowed by the [`Sink`] while the reader's line is.
    source_name: String,
    format: F,
    queue: VecDeque<Result<Located<F::Record>, ParseError>>,
    records: u64,
    max_records: u64,
    done: bool,
}

impl<R: BufRead, F: LineFormat> Parsed<R, F> {
    pub(crate) fn new(reader: R, source_name: &str, format: F) -> Self {
        Self::with_limits(reader, source_name, format, MAX_LINE, MAX_RECORDS)
    }

    pub(crate) fn with_limits(
        reader: R,
        source_name: &str,
        format: F,
        max_line: usize,
        max_records: u64,
    ) -> Self {
        Parsed {
            lines: LineReader::with_max_line(reader, source_name, max_line),
            source_name: source_name.to_owned(),
            format,
            queue: VecDeque::new(),
            records: 0,
            max_records,
            done: false,
        }
    }
}

impl<R: BufRead, F: LineFormat> Iterator for Parsed<R, F> {
    type Item = Result<Located<F::Record>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.queue.pop_front() {
                if item.is_ok() {
                    self.records += 1;
                    if self.records > self.max_records {
                        self.queue.clear();
                        self.done = true;
                        let reason = format!(
                            "more than {} records; this is not a plausible input for one \
                             source, check the file",
                            self.max_records
                        );
                        let at = Position::Line(self.lines.line);
                        return Some(Err(ParseError::fatal(&self.source_name, at, reason)));
                    }
                }
                return Some(item);
            }
            if self.done {
                return None;
            }
            match self.lines.next_line() {
                None => {
                    self.done = true;
                    let mut out = Sink {
                        source_name: &self.source_name,
                        line: self.lines.line,
                        queue: &mut self.queue,
                    };
                    self.format.finish(&mut out);
                    if self.queue.is_empty() {
                        return None;
                    }
                }
                Some(Err(e)) => {
                    self.done |= e.fatal;
                    return Some(Err(e));
                }
                Some(Ok((line, text))) => {
                    let mut out = Sink {
                        source_name: &self.source_name,
                        line,
                        queue: &mut self.queue,
                    };
                    self.format.line(text, &mut out);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Words;

    impl LineFormat for Words {
        type Record = String;
        fn line(&mut self, text: &str, out: &mut Sink<'_, String>) {
            for w in text.split_whitespace() {
                out.record(w.to_owned());
            }
        }
    }

    #[test]
    fn over_long_lines_are_skipped_and_reported() {
        let input = b"short\n0123456789abcdef\nok\n0123456789abcdef";
        let mut lines = LineReader::with_max_line(&input[..], "t", 8);
        assert_eq!(lines.next_line().unwrap().unwrap(), (1, "short"));
        let e = lines.next_line().unwrap().unwrap_err();
        assert_eq!(e.position, Position::Line(2));
        assert_eq!(e.reason, "line longer than 8 bytes");
        assert_eq!(e.text, "01234567");
        assert!(!e.fatal);
        assert_eq!(lines.next_line().unwrap().unwrap(), (3, "ok"));
        assert!(lines.next_line().unwrap().is_err());
        assert!(lines.next_line().is_none());
    }

    #[test]
    fn an_endless_line_is_reported_at_once() {
        // `/dev/zero` on standard input: the line never ends, the error comes all the same.
        let endless = io::BufReader::new(io::repeat(b'x'));
        let mut lines = LineReader::with_max_line(endless, "t", 8);
        let e = lines.next_line().unwrap().unwrap_err();
        assert_eq!(
            (e.position, e.text.as_str()),
            (Position::Line(1), "xxxxxxxx")
        );
        assert!(!e.fatal);
        // The rest of an over-long line is skipped on the next call, as it streams.
        let input = io::BufReader::with_capacity(4, &b"0123456789abcdef\nok\n"[..]);
        let mut lines = LineReader::with_max_line(input, "t", 8);
        assert_eq!(lines.next_line().unwrap().unwrap_err().text, "01234567");
        assert_eq!(lines.next_line().unwrap().unwrap(), (2, "ok"));
        assert!(lines.next_line().is_none());
    }

    #[test]
    fn a_line_of_exactly_the_limit_is_kept() {
        let mut lines = LineReader::with_max_line(&b"12345678\r\n"[..], "t", 8);
        // The limit counts the bytes before `\n`, so the `\r` makes this one too long.
        assert!(lines.next_line().unwrap().is_err());
        let mut lines = LineReader::with_max_line(&b"12345678\n"[..], "t", 8);
        assert_eq!(lines.next_line().unwrap().unwrap(), (1, "12345678"));
    }

    #[test]
    fn record_cap_is_one_fatal_error() {
        let parsed = Parsed::with_limits(&b"a b\nc d\ne\n"[..], "t", Words, MAX_LINE, 3);
        let all: Vec<_> = parsed.collect();
        assert_eq!(all.len(), 4);
        assert!(all[..3].iter().all(Result::is_ok));
        let e = all[3].as_ref().unwrap_err();
        assert!(e.fatal);
        assert_eq!(e.position, Position::Line(2));
        assert!(e.reason.starts_with("more than 3 records"), "{e}");
    }
}
