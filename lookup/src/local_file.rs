//! Reading the small, deployment-private text files (the overlay, the policy table): one error
//! type naming the file and line, and a line reader that refuses what a text file should not
//! hold.

use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// Longest line accepted in a local file, in bytes (without the line break).
pub(crate) const MAX_LINE: usize = 4096;
/// Largest local file read, in bytes (64 MiB): the entries are held in memory, and a file
/// this large is a mistake (or a device or `/proc` file that never ends).
pub(crate) const MAX_FILE: u64 = 64 << 20;
/// Longest piece of a line quoted in an error message, in characters.
const MAX_QUOTED: usize = 80;

/// A local configuration file (an [`Overlay`](crate::Overlay) or a [`Policy`](crate::Policy)
/// table) could not be read or holds a bad line.
///
/// The message names the file, the 1-based line, what is wrong and the offending text
/// (truncated): `overlay.txt: line 7: prefix length 33 is longer than 32 (in "deny
/// 192.0.2.0/33 ...")`. Loading stops at the first bad line: a half-loaded allow or deny list
/// would silently change decisions.
#[derive(Debug)]
pub struct ConfigError {
    source_name: String,
    line: Option<u64>,
    reason: String,
    text: String,
    io: Option<std::io::Error>,
}

impl ConfigError {
    pub(crate) fn at_line(
        source_name: &str,
        line: u64,
        reason: impl Into<String>,
        text: &str,
    ) -> Self {
        ConfigError {
            source_name: source_name.to_owned(),
            line: Some(line),
            reason: reason.into(),
            text: truncate(text),
            io: None,
        }
    }

    /// An error about the file as a whole (no line, nothing to quote).
    fn whole(source_name: &str, reason: String) -> Self {
        ConfigError {
            source_name: source_name.to_owned(),
            line: None,
            reason,
            text: String::new(),
            io: None,
        }
    }

    pub(crate) fn io(source_name: &str, line: Option<u64>, e: std::io::Error) -> Self {
        ConfigError {
            source_name: source_name.to_owned(),
            line,
            reason: format!("cannot read the file: {e}"),
            text: String::new(),
            io: Some(e),
        }
    }

    /// The file's name, as given to the loader (the path for `load`).
    pub fn source_name(&self) -> &str {
        &self.source_name
    }

    /// The 1-based line number, or `None` when the file as a whole failed (cannot be opened).
    pub fn line(&self) -> Option<u64> {
        self.line
    }

    /// What is wrong: lowercase, no trailing period.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The offending line, truncated to 80 characters; empty when there is nothing to quote.
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.source_name)?;
        if let Some(n) = self.line {
            write!(f, "line {n}: ")?;
        }
        f.write_str(&self.reason)?;
        if !self.text.is_empty() {
            write!(f, " (in {:?})", self.text)?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.io.as_ref().map(|e| e as _)
    }
}

/// Cuts `text` to at most [`MAX_QUOTED`] characters (on a char boundary), marking the cut.
fn truncate(text: &str) -> String {
    match text.char_indices().nth(MAX_QUOTED) {
        None => text.to_owned(),
        Some((cut, _)) => format!("{}…", &text[..cut]),
    }
}

/// Opens a local file for [`for_each_line`], returning its name for messages (the path as
/// displayed) and a buffered reader.
///
/// Only a regular file (or a symbolic link to one) is opened, checked on its metadata before
/// the open: opening a FIFO for reading blocks until a writer comes, and a device such as
/// `/dev/zero` never ends. A file larger than [`MAX_FILE`] is refused before it is read.
pub(crate) fn open(path: &Path) -> Result<(String, BufReader<File>), ConfigError> {
    let name = path.display().to_string();
    let regular = |meta: &std::fs::Metadata| -> Result<(), ConfigError> {
        let kind = file_kind(meta);
        if !meta.is_file() {
            return Err(ConfigError::whole(
                &name,
                format!(
                    "{kind}, not a regular file: write the entries to a regular file and give \
                     its path"
                ),
            ));
        }
        if meta.len() > MAX_FILE {
            return Err(ConfigError::whole(&name, too_large(meta.len())));
        }
        Ok(())
    };
    regular(&std::fs::metadata(path).map_err(|e| ConfigError::io(&name, None, e))?)?;
    let file = File::open(path).map_err(|e| ConfigError::io(&name, None, e))?;
    // The path may have been replaced between the two calls; what was opened is what counts.
    regular(
        &file
            .metadata()
            .map_err(|e| ConfigError::io(&name, None, e))?,
    )?;
    Ok((name, BufReader::new(file)))
}

/// What kind of file `meta` describes, for messages: "a FIFO", "a directory", ….
fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        "a directory"
    } else if t.is_file() {
        "a regular file"
    } else {
        "a special file"
    }
}

/// The reason for a file over [`MAX_FILE`] (`size` bytes, or more when unknown).
fn too_large(size: u64) -> String {
    format!(
        "the file is larger than {} MiB ({size} bytes or more), the limit for an overlay or \
         policy file: check that this is the right file, and keep long lists in the artifact's \
         sources",
        MAX_FILE >> 20
    )
}

/// Calls `f(line_number, line)` for every line of `reader` that is not blank or a comment
/// (first non-blank character `#`), trimmed. Refuses lines longer than [`MAX_LINE`], invalid
/// UTF-8 and NUL bytes, naming the line. Reads at most `MAX_LINE + 1` bytes per line into
/// memory, so a huge file without line breaks is refused, not buffered, and at most
/// [`MAX_FILE`] bytes in all, so an endless stream of lines is refused too.
pub(crate) fn for_each_line(
    source_name: &str,
    mut reader: impl BufRead,
    mut f: impl FnMut(u64, &str) -> Result<(), ConfigError>,
) -> Result<(), ConfigError> {
    let mut buf = Vec::with_capacity(256);
    let mut number = 0u64;
    let mut total = 0u64;
    loop {
        buf.clear();
        number += 1;
        let limit = MAX_LINE as u64 + 2; // the line, an optional '\r' and the '\n'
        let n = reader
            .by_ref()
            .take(limit)
            .read_until(b'\n', &mut buf)
            .map_err(|e| ConfigError::io(source_name, Some(number), e))?;
        if n == 0 {
            return Ok(());
        }
        total += n as u64;
        if total > MAX_FILE {
            return Err(ConfigError::at_line(
                source_name,
                number,
                too_large(total),
                "",
            ));
        }
        let complete = buf.last() == Some(&b'\n');
        if complete {
            buf.pop();
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
        }
        if buf.len() > MAX_LINE || (!complete && n as u64 == limit) {
            let head = String::from_utf8_lossy(&buf[..buf.len().min(MAX_QUOTED * 4)]).into_owned();
            return Err(ConfigError::at_line(
                source_name,
                number,
                format!("line is longer than {MAX_LINE} bytes"),
                &head,
            ));
        }
        // A byte-order mark, as some Windows editors write, is not part of the first line.
        let text: &[u8] = if number == 1 {
            buf.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&buf)
        } else {
            &buf
        };
        let line = std::str::from_utf8(text).map_err(|e| {
            ConfigError::at_line(
                source_name,
                number,
                format!("invalid UTF-8 at byte {}", e.valid_up_to() + 1),
                &String::from_utf8_lossy(text),
            )
        })?;
        if line.contains('\0') {
            return Err(ConfigError::at_line(
                source_name,
                number,
                "NUL byte in a text file (a binary file given by mistake?)",
                &line.replace('\0', "\\0"),
            ));
        }
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        f(number, line)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8]) -> Result<Vec<(u64, String)>, ConfigError> {
        let mut out = Vec::new();
        for_each_line("t", input, |n, l| {
            out.push((n, l.to_owned()));
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn skips_blanks_and_comments_and_counts_lines() {
        let got = lines(b"# head\n\n  a b  \r\n\t# indented comment\nc").unwrap();
        assert_eq!(got, [(3, "a b".to_owned()), (5, "c".to_owned())]);
        // A BOM is only skipped at the start of the file.
        let got = lines(b"\xef\xbb\xbfa\n\xef\xbb\xbfb\n").unwrap();
        assert_eq!(got[1], (2, "\u{feff}b".to_owned()));
        let got = lines(b"\xef\xbb\xbfa\r\nb").unwrap();
        assert_eq!(got, [(1, "a".to_owned()), (2, "b".to_owned())]);
    }

    #[test]
    fn refuses_long_lines_binary_and_bad_utf8() {
        let mut long = vec![b'x'; MAX_LINE + 1];
        long.push(b'\n');
        let e = lines(&long).unwrap_err();
        assert_eq!(e.line(), Some(1));
        assert!(e.reason().contains("longer than 4096"), "{e}");
        // Exactly MAX_LINE with CRLF is fine.
        let mut fits = b"ok\n".to_vec();
        fits.extend(vec![b'y'; MAX_LINE]);
        fits.extend(b"\r\n");
        assert_eq!(lines(&fits).unwrap().len(), 2);
        // No line break at all, far past the limit.
        let e = lines(&vec![b'z'; 3 * MAX_LINE]).unwrap_err();
        assert_eq!(e.line(), Some(1));

        let e = lines(b"fine\nbad \xff here\n").unwrap_err();
        assert_eq!(e.line(), Some(2));
        assert!(e.reason().starts_with("invalid UTF-8 at byte 5"), "{e}");
        let e = lines(b"a\0b\n").unwrap_err();
        assert!(e.to_string().starts_with("t: line 1: NUL byte"), "{e}");
    }

    #[test]
    fn message_quotes_truncated_text() {
        let text = "é".repeat(200);
        let e = ConfigError::at_line("f.txt", 9, "bad", &text);
        assert_eq!(e.text().chars().count(), MAX_QUOTED + 1);
        assert!(e.to_string().starts_with("f.txt: line 9: bad (in \"éé"));
    }
}
