//! Standard output for every command. A reader that goes away (`ipsieve stats | head -1`,
//! `| true`) makes the next write fail with `EPIPE`; the command then stops and `main` ends it
//! quietly with status 0, as Unix tools that die of `SIGPIPE` do, instead of a panic or an
//! error message. Commands write the files they promise before printing, so a closed pipe
//! never costs a file.

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
