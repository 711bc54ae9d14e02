//! The fuzz campaign (issue 7): generated log lines through the real entry path, generated
//! Lambda events through the event decoder, each valid and then broken in the ways real data and
//! real mistakes break them.
//!
//! Sizes: a fast configuration by default (CI), 10^6 lines and 10^6 events with `ALBINGEST_LONG=1`
//! (`scripts/test --long`). `ALBINGEST_FUZZ_CASES=N` sets the number of lines (and events),
//! `ALBINGEST_FUZZ_SEED=S` the seed. Case `k` of a run with seed `S` is generated from seed `S + k`
//! alone, so a failure prints the one-case command that replays it.
//!
//! The debug build runs the long configuration in about 10 minutes of CPU. Building this crate
//! with `opt-level = 1` made it only 18% faster (the time goes to dependencies and allocation),
//! not worth slower builds for everyone, so the profile is left as it is.

// Test output: eprintln! is captured by the harness (clippy.toml disallows it for the binaries).
#![allow(clippy::disallowed_macros)]

mod campaign;
mod event_fuzz;
mod gen_events;
mod gen_lines;
mod line_fuzz;
mod mutate;
