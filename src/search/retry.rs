//! When to try a failed bulk request (or its failed items) again: exponential backoff with full
//! jitter, bounded by the time a batch may spend retrying and by the caller's deadline.
//!
//! Kept apart from the sending code (as Vector keeps its `retries` module) so the policy can be
//! read, tested and tuned on its own.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Backoff settings. The tests shrink every duration to keep the fault matrix fast.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Upper bound of the first wait.
    pub initial_backoff: Duration,
    /// No single wait is longer than this.
    pub max_backoff: Duration,
    /// A batch gives up (its remaining items become unplaced) once it has been retrying this long.
    pub max_retry_time: Duration,
    /// Timeout of one `_bulk` request, from sending to the last byte of the answer.
    pub request_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(20),
            max_retry_time: Duration::from_secs(300),
            request_timeout: Duration::from_secs(60),
        }
    }
}

/// Why the retries of one batch stopped without placing every item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GiveUp {
    /// The caller's deadline would pass before (or during) the next attempt.
    Deadline,
    /// The batch has been retrying for `max_retry_time`.
    RetriesExhausted,
}

impl GiveUp {
    pub fn describe(self) -> &'static str {
        match self {
            GiveUp::Deadline => "deadline reached",
            GiveUp::RetriesExhausted => "retries exhausted",
        }
    }
}

/// The retry state of one batch.
#[derive(Debug)]
pub struct Backoff<'p> {
    policy: &'p RetryPolicy,
    deadline: Option<Instant>,
    started: Instant,
    attempt: u32,
}

impl<'p> Backoff<'p> {
    pub fn new(policy: &'p RetryPolicy, deadline: Option<Instant>) -> Self {
        Self {
            policy,
            deadline,
            started: Instant::now(),
            attempt: 0,
        }
    }

    /// Retries made so far.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }

    /// The wait before the next retry, or why there is none. Full jitter (a uniform draw in
    /// `0..=cap`, AWS's recommendation) spreads the retries of many concurrent senders, so a server
    /// that just answered 429 is not hit by all of them again at the same moment.
    pub fn next_wait(&mut self) -> Result<Duration, GiveUp> {
        let cap = self.cap(self.attempt);
        let wait = Duration::from_micros(fastrand::u64(0..=cap.as_micros() as u64));
        let now = Instant::now();
        // The retry must have time to run: its wait plus one request before the deadline.
        if let Some(deadline) = self.deadline {
            if now + wait + self.policy.request_timeout.min(Duration::from_secs(1)) >= deadline {
                return Err(GiveUp::Deadline);
            }
        }
        if now + wait > self.started + self.policy.max_retry_time {
            return Err(GiveUp::RetriesExhausted);
        }
        self.attempt += 1;
        Ok(wait)
    }

    /// When this batch stops retrying: after `max_retry_time`, or at the deadline.
    pub fn gives_up_at(&self) -> Instant {
        let exhausted = self.started + self.policy.max_retry_time;
        self.deadline.map_or(exhausted, |d| d.min(exhausted))
    }

    /// The timeout of the next request: the policy's, cut short by the deadline.
    pub fn request_timeout(&self) -> Duration {
        request_timeout(self.policy, self.deadline)
    }

    /// `initial × 2^attempt`, at most `max_backoff`.
    fn cap(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(20)).unwrap_or(u32::MAX);
        self.policy
            .initial_backoff
            .saturating_mul(factor)
            .min(self.policy.max_backoff)
    }
}

/// What the batches waiting to retry say right now, for a display (a progress bar's message, a
/// log line): shared by every batch of a loader. A display reads it; the batches write it.
#[derive(Debug, Default)]
pub struct RetryBoard {
    waiting: AtomicUsize,
    rounds: AtomicU64,
    latest: Mutex<Option<RetryRound>>,
}

/// The latest retry round of any batch.
#[derive(Debug, Clone)]
pub struct RetryRound {
    /// Why the last attempt failed ("connection refused", "HTTP 503 …").
    pub reason: String,
    /// When that batch gives up (its documents become unplaced).
    pub gives_up_at: Instant,
}

/// What a display shows while batches wait to retry.
#[derive(Debug, Clone)]
pub struct Waiting {
    /// Batches waiting now.
    pub batches: usize,
    /// Retry rounds started so far (over every batch): a display tells new rounds by it.
    pub rounds: u64,
    pub latest: RetryRound,
}

impl RetryBoard {
    /// A batch starts waiting before a retry; it stops waiting when the guard is dropped.
    pub fn wait(&self, reason: &str, gives_up_at: Instant) -> WaitGuard<'_> {
        *self.latest.lock().unwrap_or_else(|e| e.into_inner()) = Some(RetryRound {
            reason: reason.to_string(),
            gives_up_at,
        });
        self.rounds.fetch_add(1, Ordering::Relaxed);
        self.waiting.fetch_add(1, Ordering::Relaxed);
        WaitGuard(self)
    }

    /// `None` when no batch is waiting.
    pub fn waiting(&self) -> Option<Waiting> {
        let batches = self.waiting.load(Ordering::Relaxed);
        if batches == 0 {
            return None;
        }
        let latest = self
            .latest
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()?;
        Some(Waiting {
            batches,
            rounds: self.rounds.load(Ordering::Relaxed),
            latest,
        })
    }
}

/// A batch waiting to retry (see [`RetryBoard::wait`]).
#[must_use]
pub struct WaitGuard<'b>(&'b RetryBoard);

impl Drop for WaitGuard<'_> {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The policy's request timeout, but never past `deadline` (a request that would end after it is
/// cut off, and its items count as unplaced).
pub fn request_timeout(policy: &RetryPolicy, deadline: Option<Instant>) -> Duration {
    match deadline {
        Some(deadline) => policy
            .request_timeout
            .min(deadline.saturating_duration_since(Instant::now()))
            .max(Duration::from_millis(1)),
        None => policy.request_timeout,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(80),
            max_retry_time: Duration::from_secs(3600),
            request_timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn waits_grow_exponentially_up_to_the_cap_with_jitter_below_it() {
        let p = policy();
        let b = Backoff::new(&p, None);
        let caps: Vec<u128> = (0..6).map(|a| b.cap(a).as_millis()).collect();
        assert_eq!(caps, [10, 20, 40, 80, 80, 80]);
        let mut b = Backoff::new(&p, None);
        let mut distinct = std::collections::HashSet::new();
        for attempt in 0..200 {
            let cap = b.cap(attempt.min(30));
            let wait = b.next_wait().unwrap();
            assert!(wait <= cap, "attempt {attempt}: {wait:?} > {cap:?}");
            distinct.insert(wait);
        }
        assert_eq!(b.attempts(), 200);
        assert!(
            distinct.len() > 50,
            "jitter: {} distinct waits",
            distinct.len()
        );
    }

    #[test]
    fn gives_up_at_the_deadline_and_after_the_retry_time() {
        let p = policy();
        let mut b = Backoff::new(&p, Some(Instant::now() + Duration::from_millis(5)));
        assert_eq!(b.next_wait(), Err(GiveUp::Deadline));
        let p = RetryPolicy {
            max_retry_time: Duration::ZERO,
            ..policy()
        };
        let mut b = Backoff::new(&p, None);
        // A zero wait may still fit in a zero budget; a later (non-zero) one cannot.
        let results: Vec<_> = (0..50).map(|_| b.next_wait()).collect();
        assert!(results.contains(&Err(GiveUp::RetriesExhausted)));
    }

    #[test]
    fn request_timeout_never_passes_the_deadline() {
        let p = policy();
        let t = request_timeout(&p, Some(Instant::now() + Duration::from_millis(300)));
        assert!(t <= Duration::from_millis(300) && t > Duration::from_millis(100));
        assert_eq!(request_timeout(&p, None), Duration::from_secs(1));
    }
}
