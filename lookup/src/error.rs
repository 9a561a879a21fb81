//! Errors of opening and verifying an artifact.

use std::fmt;

/// Why an artifact was refused. Every variant says what is wrong and, where it helps, what to
/// do; none is ever a panic.
#[derive(Debug)]
#[non_exhaustive]
pub enum OpenError {
    /// The file could not be opened, read or mapped.
    Io(std::io::Error),
    /// Shorter than the fixed header.
    TooShort {
        /// Bytes present.
        len: usize,
    },
    /// The first bytes are not the ipsieve magic.
    BadMagic {
        /// The first (up to) eight bytes found.
        found: [u8; 8],
    },
    /// Written on a host of the other byte order, or the header is garbled.
    Endianness {
        /// The probe value read.
        found: u32,
    },
    /// A format major version this build cannot read.
    UnsupportedVersion {
        /// Major version in the file.
        major: u16,
        /// Minor version in the file.
        minor: u16,
    },
    /// The header's own checksum does not match: the header is corrupt.
    HeaderChecksum {
        /// Stored CRC-32.
        stored: u32,
        /// Computed CRC-32.
        computed: u32,
    },
    /// The file length differs from the length recorded in the header (truncated or appended).
    LengthMismatch {
        /// Length recorded in the header.
        expected: u64,
        /// Actual length.
        found: u64,
    },
    /// A header field other than the above is invalid.
    Header(&'static str),
    /// A section's offset or length is outside the file, misaligned, overlapping or of the
    /// wrong size.
    Section {
        /// The section's name.
        section: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The contents of a section are inconsistent (an index out of range, bad UTF-8, …).
    Corrupt {
        /// The section's name.
        section: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// `verify()`: the whole-file checksum does not match.
    Checksum {
        /// Stored CRC-32.
        stored: u32,
        /// Computed CRC-32.
        computed: u32,
    },
    /// The path names something other than a regular file (a FIFO, a device, a directory),
    /// refused before anything is read from it.
    NotAFile {
        /// What it is (`"a FIFO"`, `"a directory"`, …).
        kind: &'static str,
    },
}

impl OpenError {
    /// An [`OpenError::Io`] with `path` in its message (same kind), so that "No such file or
    /// directory" says which file; every other variant as it is.
    pub(crate) fn naming(self, path: &std::path::Path) -> OpenError {
        match self {
            OpenError::Io(e) => OpenError::Io(std::io::Error::new(
                e.kind(),
                format!("{}: {e}", path.display()),
            )),
            other => other,
        }
    }

    pub(crate) fn section(section: &'static str, reason: impl Into<String>) -> Self {
        OpenError::Section {
            section,
            reason: reason.into(),
        }
    }
    pub(crate) fn corrupt(section: &'static str, reason: impl Into<String>) -> Self {
        OpenError::Corrupt {
            section,
            reason: reason.into(),
        }
    }
}

const REBUILD: &str = "rebuild or re-download the artifact";

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::Io(e) => write!(f, "cannot read the artifact: {e}"),
            OpenError::TooShort { len } => write!(
                f,
                "not an ipsieve artifact: {len} bytes is shorter than the {}-byte header \
                 (truncated download?)",
                crate::format::HEADER_LEN
            ),
            OpenError::BadMagic { found } => write!(
                f,
                "not an ipsieve artifact: bad magic {found:02x?} (an HTML error page or another \
                 format saved under this name?)"
            ),
            OpenError::Endianness { found } => write!(
                f,
                "byte-order probe reads {found:#010x}: the artifact is little-endian and this \
                 host is not, or the header is garbled"
            ),
            OpenError::UnsupportedVersion { major, minor } => write!(
                f,
                "artifact format {major}.{minor} is not supported by this ipsieve (reads {}.x): \
                 rebuild the artifact with this version of ipsieve",
                crate::format::FORMAT_MAJOR
            ),
            OpenError::HeaderChecksum { stored, computed } => write!(
                f,
                "header checksum mismatch (stored {stored:#010x}, computed {computed:#010x}): \
                 the header is corrupt; {REBUILD}"
            ),
            OpenError::LengthMismatch { expected, found } => write!(
                f,
                "artifact is {found} bytes but its header says {expected}: truncated or \
                 appended to; {REBUILD}"
            ),
            OpenError::Header(what) => write!(f, "invalid header: {what}; {REBUILD}"),
            OpenError::Section { section, reason } => {
                write!(f, "invalid section '{section}': {reason}; {REBUILD}")
            }
            OpenError::Corrupt { section, reason } => {
                write!(f, "corrupt section '{section}': {reason}; {REBUILD}")
            }
            OpenError::Checksum { stored, computed } => write!(
                f,
                "checksum mismatch (stored {stored:#010x}, computed {computed:#010x}): the \
                 artifact is corrupt; {REBUILD}"
            ),
            OpenError::NotAFile { kind } => write!(
                f,
                "not an ipsieve artifact: the path is {kind}, not a regular file"
            ),
        }
    }
}

impl std::error::Error for OpenError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            OpenError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for OpenError {
    fn from(e: std::io::Error) -> Self {
        OpenError::Io(e)
    }
}
