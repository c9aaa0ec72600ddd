//! Password checks for SMTP AUTH and IMAP LOGIN/AUTHENTICATE, made costly
//! for guessers and cheap to protect:
//!
//! - at most one hash check per CPU runs at once (a slow hash of a spec
//!   cannot occupy the whole blocking pool), and a check that waited for
//!   its turn is not made when its address got locked meanwhile (a flood
//!   of parallel attempts from one address costs at most its failures);
//! - a login that names no user is checked against a real user's hash all
//!   the same, so the answer takes as long as for a user who exists (no
//!   timing tells which addresses have accounts);
//! - each failure from a client address (an IPv6 client by its /64) is
//!   answered after a delay that doubles from 250 ms up to 5 s, and after
//!   `limits.auth_failures` of them within [`LOCKOUT`] that address gets
//!   no more password checks until the failures are that old. The counts
//!   are kept for SMTP and IMAP together.
//!
//! A user the spec marks `disabled` never logs in, and a user logs in only
//! by the protocols its `services` name: otherwise its right password is
//! answered as a wrong one.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use super::pool::client_key;
use crate::manifest::{Manifest, Service};

/// How long failures count against an address.
pub const LOCKOUT: Duration = Duration::from_secs(15 * 60);
/// The delay after the first failure; it doubles with each further one.
pub const FIRST_DELAY: Duration = Duration::from_millis(250);
/// The longest delay after a failure.
pub const MAX_DELAY: Duration = Duration::from_secs(5);
/// Addresses with failures remembered at most (older ones are forgotten
/// first).
const TRACKED: usize = 65_536;

/// What a password check found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The user (a key of the manifest's users) and the right password.
    Ok(String),
    /// Unknown user or wrong password (the caller cannot tell which).
    Wrong,
    /// Too many failures from this address lately: not checked.
    Locked,
}

#[derive(Clone, Copy, Debug)]
struct Failures {
    count: u32,
    last: Instant,
}

/// The server's password checker.
#[derive(Debug)]
pub struct Logins {
    hashing: Semaphore,
    failures: Mutex<HashMap<IpAddr, Failures>>,
    /// Checked for a login that names no user.
    stand_in: Option<String>,
    limit: u32,
    /// The hash check (tests count and slow it).
    verify: fn(&str, &str) -> bool,
}

/// The real hash check: a hash it cannot read is no match.
fn verify(password: &str, hash: &str) -> bool {
    crate::passwd::verify(password, hash).unwrap_or(false)
}

/// The delay before answering the `n`-th failure (n ≥ 1).
pub fn delay(n: u32) -> Duration {
    let d = FIRST_DELAY.saturating_mul(1u32 << n.saturating_sub(1).min(16));
    d.min(MAX_DELAY)
}

impl Logins {
    pub fn new(m: &Manifest) -> Logins {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        Logins {
            hashing: Semaphore::new(cpus),
            failures: Mutex::new(HashMap::new()),
            // The first user's own hash: same scheme and cost as a real check.
            stand_in: m.users.values().next().map(|u| u.password.clone()),
            limit: m.limits.auth_failures.max(1),
            verify,
        }
    }

    /// Whether `ip` has used up its failures.
    pub fn locked(&self, ip: IpAddr) -> bool {
        let key = client_key(ip);
        let f = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        f.get(&key)
            .is_some_and(|x| x.count >= self.limit && x.last.elapsed() < LOCKOUT)
    }

    /// Counts one failure of `ip`; returns how many it has now.
    fn fail(&self, ip: IpAddr) -> u32 {
        let key = client_key(ip);
        let now = Instant::now();
        let mut f = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if f.len() >= TRACKED && !f.contains_key(&key) {
            f.retain(|_, x| x.last.elapsed() < LOCKOUT);
            if f.len() >= TRACKED {
                // Still full of recent ones: forget the oldest.
                if let Some(oldest) = f.iter().min_by_key(|(_, x)| x.last).map(|(k, _)| *k) {
                    f.remove(&oldest);
                }
            }
        }
        let e = f.entry(key).or_insert(Failures {
            count: 0,
            last: now,
        });
        if now.duration_since(e.last) >= LOCKOUT {
            e.count = 0;
        }
        e.count += 1;
        e.last = now;
        e.count
    }

    /// Checks `login`'s `password` for a client at `ip` logging in by
    /// `service`. A failure is answered only after its delay.
    pub async fn check(
        &self,
        m: &Manifest,
        ip: IpAddr,
        login: &str,
        password: String,
        service: Service,
    ) -> Verdict {
        if self.locked(ip) {
            return Verdict::Locked;
        }
        let address = super::decision::normalize(login.trim()).map(|(l, d)| format!("{l}@{d}"));
        let user = address
            .as_ref()
            .and_then(|a| m.users.get(a).map(|u| (a, u)));
        let hash = match (&user, &self.stand_in) {
            (Some((_, u)), _) => Some(u.password.clone()),
            (None, Some(h)) => Some(h.clone()),
            (None, None) => None,
        };
        let failures = match hash {
            Some(hash) => {
                let Ok(_permit) = self.hashing.acquire().await else {
                    return Verdict::Wrong;
                };
                // Failures counted while this one waited may have locked
                // the address: then its turn is not spent on a hash.
                if self.locked(ip) {
                    return Verdict::Locked;
                }
                let verify = self.verify;
                let good = tokio::task::spawn_blocking(move || verify(&password, &hash))
                    .await
                    .unwrap_or(false);
                // A disabled user's right password, or one for a protocol
                // the user may not use, is refused like a wrong one (and
                // counted): its mail still arrives, it never logs in there.
                if let (true, Some((a, u))) = (good, &user)
                    && !u.disabled
                    && u.services.contains(&service)
                {
                    return Verdict::Ok((*a).clone());
                }
                // Counted before the turn is passed on, so that the next
                // check of this address sees it.
                self.fail(ip)
            }
            None => self.fail(ip),
        };
        tokio::time::sleep(delay(failures)).await;
        Verdict::Wrong
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{Limits, User};

    fn manifest(limit: u32) -> Manifest {
        let hash = crate::passwd::hash("right", crate::passwd::Scheme::Sha256Crypt).unwrap();
        let mut m: Manifest = serde_json::from_str(
            r#"{"version":1,"host":"h","hostname":"h.example","listen":{"smtp":[],"submission":[],"submissions":[],"imap":[],"imaps":[]},
            "data_dir":"d","tls":{"cert":"c","key":"k"},"limits":{"message_size":1,"recipients":1,"connections":1,"line_length":1,
            "smtp_timeout":1,"imap_timeout":1,"queue_lifetime":1},"users":{},"domains":{},"dkim":{}}"#,
        )
        .unwrap();
        m.limits = Limits {
            auth_failures: limit,
            ..Limits::default()
        };
        m.users.insert(
            "a@x.example".into(),
            User {
                password: hash,
                quota: None,
                send_only: false,
                disabled: false,
                services: crate::manifest::default_services(),
                send_as: Vec::new(),
                rules: Vec::new(),
                vacation: None,
                limits: Default::default(),
            },
        );
        m
    }

    #[test]
    fn delays_grow_and_stop() {
        assert_eq!(delay(1), Duration::from_millis(250));
        assert_eq!(delay(2), Duration::from_millis(500));
        assert_eq!(delay(5), Duration::from_secs(4));
        assert_eq!(delay(6), MAX_DELAY);
        assert_eq!(delay(u32::MAX), MAX_DELAY);
    }

    #[tokio::test]
    async fn unknown_users_cost_a_hash_and_failures_lock_the_address() {
        let m = manifest(2);
        let l = Logins::new(&m);
        let ip: IpAddr = "2001:db8::1".parse().unwrap();
        let other: IpAddr = "2001:db8::2".parse().unwrap();
        assert_eq!(
            l.stand_in.as_deref(),
            Some(m.users["a@x.example"].password.as_str())
        );
        assert_eq!(
            l.check(&m, ip, "A@X.example", "right".into(), Service::Imap)
                .await,
            Verdict::Ok("a@x.example".into())
        );
        assert_eq!(
            l.check(&m, ip, "nobody@x.example", "right".into(), Service::Imap)
                .await,
            Verdict::Wrong
        );
        assert_eq!(
            l.check(&m, ip, "a@x.example", "wrong".into(), Service::Imap)
                .await,
            Verdict::Wrong
        );
        // The same /64: locked, even with the right password.
        assert_eq!(
            l.check(&m, other, "a@x.example", "right".into(), Service::Imap)
                .await,
            Verdict::Locked
        );
        let v4: IpAddr = "192.0.2.7".parse().unwrap();
        assert!(!l.locked(v4));
    }

    /// A stand-in hash check that takes a while and records how many run
    /// at once, the most at once, and how many were made in all.
    mod slow {
        use std::sync::atomic::{AtomicUsize, Ordering};
        pub static NOW: AtomicUsize = AtomicUsize::new(0);
        pub static MOST: AtomicUsize = AtomicUsize::new(0);
        pub static MADE: AtomicUsize = AtomicUsize::new(0);
        pub fn verify(password: &str, hash: &str) -> bool {
            let n = NOW.fetch_add(1, Ordering::SeqCst) + 1;
            MOST.fetch_max(n, Ordering::SeqCst);
            MADE.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(std::time::Duration::from_millis(100));
            NOW.fetch_sub(1, Ordering::SeqCst);
            super::verify(password, hash)
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_flood_of_checks_runs_one_per_cpu_and_stops_at_the_lock() {
        use std::sync::atomic::Ordering;
        let m = manifest(3);
        let mut l = Logins::new(&m);
        l.verify = slow::verify;
        let l = std::sync::Arc::new(l);
        let permits = l.hashing.available_permits();
        let m = std::sync::Arc::new(m);
        // 40 attempts at once from one address: all pass the first lock
        // check (no failure yet), then wait for a turn.
        let ip: IpAddr = "192.0.2.9".parse().unwrap();
        let tasks: Vec<_> = (0..40)
            .map(|i| {
                let (l, m) = (l.clone(), m.clone());
                tokio::spawn(async move {
                    let login = if i % 2 == 0 {
                        "a@x.example"
                    } else {
                        "nobody@x.example"
                    };
                    l.check(&m, ip, login, "wrong".into(), Service::Imap).await
                })
            })
            .collect();
        let mut locked = 0;
        for t in tasks {
            match t.await.unwrap() {
                Verdict::Locked => locked += 1,
                Verdict::Wrong => {}
                v => panic!("{v:?}"),
            }
        }
        let made = slow::MADE.load(Ordering::SeqCst);
        assert!(
            slow::MOST.load(Ordering::SeqCst) <= permits,
            "more checks at once than CPUs"
        );
        // At most the failures that lock, plus those already hashing then.
        assert!(
            made <= 3 + permits,
            "{made} hash checks for a locked address"
        );
        assert_eq!(locked, 40 - made);
    }

    #[tokio::test]
    async fn an_unknown_user_costs_one_check_as_a_wrong_password_does() {
        use std::sync::atomic::Ordering;
        // Every login that fails costs exactly one hash check, against a
        // real user's hash, whether or not it names a user.
        let m = manifest(100);
        let mut l = Logins::new(&m);
        l.verify = counted;
        static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        static HASHES: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
        fn counted(password: &str, hash: &str) -> bool {
            CALLS.fetch_add(1, Ordering::SeqCst);
            HASHES.lock().unwrap().push(hash.to_string());
            verify(password, hash)
        }
        let ip: IpAddr = "198.51.100.1".parse().unwrap();
        for login in ["a@x.example", "nobody@x.example", "not an address", ""] {
            let before = CALLS.load(Ordering::SeqCst);
            assert_eq!(
                l.check(&m, ip, login, "wrong".into(), Service::Imap).await,
                Verdict::Wrong
            );
            assert_eq!(CALLS.load(Ordering::SeqCst), before + 1, "{login:?}");
        }
        // Each check against the real user's hash: same scheme, same cost.
        let real = &m.users["a@x.example"].password;
        assert!(HASHES.lock().unwrap().iter().all(|h| h == real));
    }
}
