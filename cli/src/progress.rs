//! Progress for the long work of the command line (`ipsieve build` reading its sources,
//! compiling and writing; `ipsieve fetch` downloading; `ipsieve export` walking the ranges):
//! indicatif bars and spinners on
//! standard error, only when it is a terminal and `--quiet` was not given, so pipelines and
//! logs see nothing but the report.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar over counted steps, then a spinner per phase; nothing when off.
pub(crate) struct Progress {
    on: bool,
    started: Instant,
    bar: Option<ProgressBar>,
}

impl Progress {
    /// Shown when standard error is a terminal and the run is not quiet.
    pub(crate) fn new(quiet: bool, started: Instant) -> Self {
        Progress {
            on: !quiet && std::io::stderr().is_terminal(),
            started,
            bar: None,
        }
    }

    /// Starts a bar of `total` steps, each named by [`Progress::step`]: `reading sources
    /// [=====>    ] 7/16 aws`.
    pub(crate) fn steps(&mut self, what: &str, total: u64) {
        if !self.on {
            return;
        }
        self.clear();
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("[{elapsed:>4}] {prefix} [{bar:30}] {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_prefix(what.to_owned());
        self.bar = Some(bar);
    }

    /// The step now under way (`name`), after `done` steps.
    pub(crate) fn step(&self, done: u64, name: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(name.to_owned());
            bar.set_position(done);
        }
    }

    /// Starts a download of `name`: a bar of bytes once the size is known
    /// ([`Progress::received`]), a byte count until then.
    #[cfg_attr(not(feature = "fetch"), allow(dead_code))]
    pub(crate) fn download(&mut self, name: &str) {
        if !self.on {
            return;
        }
        self.clear();
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "[{elapsed:>4}] {prefix} {spinner} {bytes} ({bytes_per_sec})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_prefix(name.to_owned());
        bar.enable_steady_tick(Duration::from_millis(120));
        self.bar = Some(bar);
    }

    /// `received` bytes of the current download, of `total` when the server said.
    #[cfg_attr(not(feature = "fetch"), allow(dead_code))]
    pub(crate) fn received(&self, received: u64, total: Option<u64>) {
        let Some(bar) = &self.bar else {
            return;
        };
        if let (Some(t), None) = (total, bar.length()) {
            bar.set_length(t);
            bar.set_style(
                ProgressStyle::with_template(
                    "[{elapsed:>4}] {prefix} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
        }
        bar.set_position(received);
    }

    /// A phase without steps (`compiling`): a spinner with the phase's name, replacing
    /// whatever was shown.
    pub(crate) fn phase(&mut self, what: std::fmt::Arguments<'_>) {
        if !self.on {
            return;
        }
        self.clear();
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("[{elapsed:>4}] {spinner} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(what.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        self.bar = Some(bar);
    }

    /// Removes the bar or spinner, leaving one line with the time the work took so far.
    pub(crate) fn finish(&mut self, what: std::fmt::Arguments<'_>) {
        if !self.on {
            return;
        }
        self.clear();
        eprintln!("[{:>5.1} s] {what}", self.started.elapsed().as_secs_f64());
    }

    /// Removes the bar or spinner, printing nothing.
    pub(crate) fn clear(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.clear();
    }
}
