//! Sizes, seeds and replay: one campaign is a run of cases, each generated from its own seed.

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::time::Instant;

use fastrand::Rng;

/// The seed of the fast configuration: CI runs the same cases every time.
const FAST_SEED: u64 = 0xA1B1_2026;
/// Lines (events) of the long configuration.
const LONG_CASES: u64 = 1_000_000;

pub struct Campaign {
    /// The test's name, for the replay command.
    test: &'static str,
    /// What one unit of `cases` is ("lines", "events").
    unit: &'static str,
    seed: u64,
    /// Units to cover.
    cases: u64,
}

impl Campaign {
    /// `fast_cases` units by default, 10^6 with `ALBINGEST_LONG=1`; the environment overrides
    /// both. The long configuration takes a new seed each run (printed) unless one is given.
    pub fn from_env(test: &'static str, unit: &'static str, fast_cases: u64) -> Self {
        let long = std::env::var("ALBINGEST_LONG").is_ok_and(|v| v == "1");
        let number = |name: &str| {
            std::env::var(name).ok().map(|v| {
                v.trim()
                    .parse::<u64>()
                    .unwrap_or_else(|_| panic!("{name}={v:?} is not a number"))
            })
        };
        let cases =
            number("ALBINGEST_FUZZ_CASES").unwrap_or(if long { LONG_CASES } else { fast_cases });
        let seed = number("ALBINGEST_FUZZ_SEED").unwrap_or_else(|| {
            if long {
                let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
                now.map(|d| d.as_nanos() as u64).unwrap_or(FAST_SEED)
            } else {
                FAST_SEED
            }
        });
        eprintln!("{test}: {cases} {unit}, ALBINGEST_FUZZ_SEED={seed}");
        Self {
            test,
            unit,
            seed,
            cases,
        }
    }

    /// Runs cases with seeds `seed`, `seed + 1`, … until `cases` units are covered. `generate`
    /// builds a case from its own random generator; `check` runs it and returns the units it
    /// covered. When `check` panics, the case's seed, the command that replays it alone and
    /// `describe(case)` are printed before the panic goes on.
    pub fn run<C>(
        &self,
        generate: impl Fn(&mut Rng) -> C,
        describe: impl Fn(&C) -> String,
        check: impl Fn(&C) -> u64,
    ) {
        let started = Instant::now();
        let (mut done, mut count, mut next_report) = (0u64, 0u64, self.cases / 10);
        while done < self.cases {
            let seed = self.seed.wrapping_add(count);
            let case = generate(&mut Rng::with_seed(seed));
            match catch_unwind(AssertUnwindSafe(|| check(&case))) {
                Ok(units) => done += units.max(1),
                Err(panic) => {
                    eprintln!(
                        "\n{test}: case {count} failed; replay it alone with\n  \
                         ALBINGEST_FUZZ_SEED={seed} ALBINGEST_FUZZ_CASES=1 cargo test --test fuzz {test}\n\
                         the case:\n{}\n",
                        describe(&case),
                        test = self.test,
                    );
                    resume_unwind(panic);
                }
            }
            count += 1;
            if self.cases >= 100_000 && done >= next_report {
                eprintln!(
                    "{}: {done} {} ({count} cases) in {:.0?}",
                    self.test,
                    self.unit,
                    started.elapsed()
                );
                next_report += self.cases / 10;
            }
        }
        eprintln!(
            "{}: {done} {} in {count} cases, {:.1?}, seed {}",
            self.test,
            self.unit,
            started.elapsed(),
            self.seed
        );
    }
}

/// Bytes for a failure message: escaped, cut to `max` bytes.
pub fn excerpt(bytes: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(max)]);
    if bytes.len() > max {
        format!("{text:?}… ({} bytes)", bytes.len())
    } else {
        format!("{text:?}")
    }
}
