//! Token-bucket rate limiting: one global bucket and one bucket per signer key.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use crate::config::RateLimitConfig;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn take(&mut self, now: Instant, rate: f64, burst: f64, n: f64) -> bool {
        let dt = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + dt * rate).min(burst);
        self.last = now;
        if self.tokens >= n {
            self.tokens -= n;
            true
        } else {
            false
        }
    }
}

/// Most per-key buckets kept; full buckets are evicted first when exceeded.
const MAX_KEYS: usize = 100_000;

/// The limiter.
#[derive(Debug)]
pub struct RateLimiter {
    cfg: RateLimitConfig,
    global: Mutex<Bucket>,
    keys: Mutex<HashMap<[u8; 32], Bucket>>,
}

impl RateLimiter {
    /// A limiter with full buckets.
    pub fn new(cfg: RateLimitConfig) -> RateLimiter {
        let now = Instant::now();
        RateLimiter {
            global: Mutex::new(Bucket {
                tokens: cfg.global_burst,
                last: now,
            }),
            keys: Mutex::new(HashMap::new()),
            cfg,
        }
    }

    /// Takes `n` tokens from the global bucket; false when rate limited.
    pub fn check_global(&self, n: usize) -> bool {
        if self.cfg.global_per_sec <= 0.0 {
            return true;
        }
        let mut g = self.global.lock().unwrap_or_else(|e| e.into_inner());
        let burst = self.cfg.global_burst.max(n as f64);
        g.take(Instant::now(), self.cfg.global_per_sec, burst, n as f64)
    }

    /// Takes `n` tokens from the bucket of `key`; false when rate limited.
    pub fn check_key(&self, key: &[u8; 32], n: usize) -> bool {
        if self.cfg.per_key_per_sec <= 0.0 {
            return true;
        }
        let now = Instant::now();
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        if keys.len() >= MAX_KEYS && !keys.contains_key(key) {
            let (rate, burst) = (self.cfg.per_key_per_sec, self.cfg.per_key_burst);
            keys.retain(|_, b| {
                let dt = now.saturating_duration_since(b.last).as_secs_f64();
                b.tokens + dt * rate < burst
            });
        }
        let b = keys.entry(*key).or_insert(Bucket {
            tokens: self.cfg.per_key_burst,
            last: now,
        });
        b.take(
            now,
            self.cfg.per_key_per_sec,
            self.cfg.per_key_burst,
            n as f64,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        let rl = RateLimiter::new(RateLimitConfig {
            global_per_sec: 1.0,
            global_burst: 3.0,
            per_key_per_sec: 1.0,
            per_key_burst: 2.0,
        });
        assert!(rl.check_key(&[1; 32], 2));
        assert!(!rl.check_key(&[1; 32], 1));
        assert!(rl.check_key(&[2; 32], 1));
        assert!(rl.check_global(3));
        assert!(!rl.check_global(1));
    }
}
