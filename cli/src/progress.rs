//! Progress lines for the long phases of `ipsieve build` (reading each source, compiling,
//! writing): on standard error, only when it is a terminal and `--quiet` was not given, so
//! pipelines and logs see nothing but the report.

use std::io::IsTerminal;
use std::time::Instant;

/// Prints one line per phase, stamped with the time since the build started.
pub(crate) struct Progress {
    on: bool,
    started: Instant,
}

impl Progress {
    /// Shown when standard error is a terminal and the run is not quiet.
    pub(crate) fn new(quiet: bool, started: Instant) -> Self {
        Progress {
            on: !quiet && std::io::stderr().is_terminal(),
            started,
        }
    }

    /// `[  1.2 s] reading aws (2 of 16)…`.
    pub(crate) fn phase(&self, what: std::fmt::Arguments<'_>) {
        if self.on {
            eprintln!("[{:>6.1} s] {what}…", self.started.elapsed().as_secs_f64());
        }
    }
}
