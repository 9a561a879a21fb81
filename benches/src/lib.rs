//! Shared setup for the criterion benchmarks (filled by the performance issue).
