//! Tests of the lookup crate on its golden artifacts (one test binary).

mod golden;
mod intelligence;
mod overrides;
mod reload;
mod spans;
