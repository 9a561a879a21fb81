//! Errors of building an artifact.

/// Why a build, or one entry of it, failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// Writing the artifact failed; a previously published artifact is untouched.
    #[error("cannot write the artifact {path}: {source}")]
    Io {
        /// The file being written.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Two sources share a name.
    #[error("source name '{0}' is declared twice: source names must be unique")]
    DuplicateSource(String),
    /// A source declaration is invalid.
    #[error("source '{name}': {reason}")]
    InvalidSource {
        /// The source's name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// One entry was refused (absurdly wide, inverted, mixed families…); the rest still count.
    #[error("{0}")]
    Rejected(String),
    /// The inputs exceed a limit of the format.
    #[error("the artifact would be too large: {0}")]
    TooLarge(String),
    /// The written artifact does not open again (a bug: please report it).
    #[error("the freshly written artifact does not open: {0}")]
    SelfCheck(#[from] ipsieve::OpenError),
    /// The manifest or a source file could not be read.
    #[error("{0}")]
    Input(String),
}
