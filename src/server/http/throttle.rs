//! The limit on failed authentications (SPEC §4.4, issue #18): each client address may fail at
//! most [`MAX_FAILURES`] times in a [`WINDOW`]; past that, its requests that do not carry a valid
//! token are answered 429 with `Retry-After` until the window passes. Requests with a valid token
//! never reach this table, so they are never slowed, whoever else shares the address.
//!
//! In: the client's address and the time of each failure. Out: whether the failure is merely
//! counted or the address is limited (and for how long). Must not happen here: unbounded memory
//! — the table holds at most [`MAX_ADDRESSES`] windows, evicting expired ones first and then the
//! oldest — and anything about the presented credential (this module never sees it).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Failed authentications an address may have in one window; the next one is refused with 429.
pub const MAX_FAILURES: u32 = 10;

/// How long a window lasts, from an address's first failure in it.
pub const WINDOW: Duration = Duration::from_secs(60);

/// The most addresses tracked at once: a few hundred kilobytes at most.
pub const MAX_ADDRESSES: usize = 4096;

/// What a failed authentication leads to.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Verdict {
    /// Counted; answer 401 as usual.
    Counted,
    /// The address is over the limit until `retry_after` has passed; `first` is true for the
    /// first refusal of this window (the one to log).
    Limited { first: bool, retry_after: Duration },
}

#[derive(Debug)]
struct Window {
    failures: u32,
    limited: bool,
    started: Instant,
}

/// Failed authentications per client address, in fixed windows.
#[derive(Debug, Default)]
pub struct Throttle {
    windows: Mutex<HashMap<IpAddr, Window>>,
}

impl Throttle {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a failed authentication from `address` at `now`.
    pub fn fail(&self, address: IpAddr, now: Instant) -> Verdict {
        let key = key(address);
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        if !windows.contains_key(&key) && windows.len() >= MAX_ADDRESSES {
            evict(&mut windows, now);
        }
        let window = windows.entry(key).or_insert(Window {
            failures: 0,
            limited: false,
            started: now,
        });
        if now.duration_since(window.started) >= WINDOW {
            *window = Window {
                failures: 0,
                limited: false,
                started: now,
            };
        }
        if window.failures < MAX_FAILURES {
            window.failures += 1;
            return Verdict::Counted;
        }
        let first = !window.limited;
        window.limited = true;
        let retry_after = WINDOW.saturating_sub(now.duration_since(window.started));
        Verdict::Limited { first, retry_after }
    }

    /// How many addresses are tracked now.
    pub fn len(&self) -> usize {
        self.windows
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The address as counted: IPv4 (also when mapped into IPv6) as is, IPv6 by its /64 prefix,
/// which one host usually holds whole — so a client cannot dodge the limit by cycling through
/// the addresses of its own subnet.
pub fn key(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        v4 @ IpAddr::V4(_) => v4,
    }
}

/// Makes room: expired windows go first; if every window is live, the oldest goes.
fn evict(windows: &mut HashMap<IpAddr, Window>, now: Instant) {
    windows.retain(|_, w| now.duration_since(w.started) < WINDOW);
    if windows.len() >= MAX_ADDRESSES
        && let Some(oldest) = windows
            .iter()
            .min_by_key(|(_, w)| w.started)
            .map(|(address, _)| *address)
    {
        windows.remove(&oldest);
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    use std::time::{Duration, Instant};

    use super::{MAX_ADDRESSES, MAX_FAILURES, Throttle, Verdict, WINDOW, key};

    const A: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));

    /// Ten failures are counted, the eleventh is limited (logged once) until the window passes,
    /// and another address is not affected.
    #[test]
    fn the_eleventh_failure_in_a_minute_is_limited() {
        let throttle = Throttle::new();
        let start = Instant::now();
        for _ in 0..MAX_FAILURES {
            assert_eq!(throttle.fail(A, start), Verdict::Counted);
        }
        let later = start + Duration::from_secs(15);
        assert_eq!(
            throttle.fail(A, later),
            Verdict::Limited {
                first: true,
                retry_after: Duration::from_secs(45)
            }
        );
        assert!(matches!(
            throttle.fail(A, later),
            Verdict::Limited { first: false, .. }
        ));
        assert_eq!(throttle.fail(B, later), Verdict::Counted);
        assert_eq!(throttle.fail(A, start + WINDOW), Verdict::Counted);
    }

    /// The table never grows past its cap, however many addresses fail.
    #[test]
    fn memory_is_bounded() {
        let throttle = Throttle::new();
        let start = Instant::now();
        for n in 0..(MAX_ADDRESSES as u32 + 100) {
            let address = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + n));
            throttle.fail(address, start + Duration::from_millis(u64::from(n)));
        }
        assert_eq!(throttle.len(), MAX_ADDRESSES);
        // Once the windows have passed, a newcomer sweeps them out.
        throttle.fail(A, start + WINDOW * 3);
        assert_eq!(throttle.len(), 1);
    }

    /// IPv6 counts by /64; an IPv4-mapped address counts as its IPv4 address.
    #[test]
    fn ipv6_counts_by_prefix() {
        let one: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let two: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        assert_eq!(key(one), key(two));
        assert_ne!(key(one), key("2001:db8:1:3::1".parse().unwrap()));
        let mapped = IpAddr::V6(Ipv4Addr::new(192, 0, 2, 1).to_ipv6_mapped());
        assert_eq!(key(mapped), A);
        assert_eq!(
            key(IpAddr::V6(Ipv6Addr::LOCALHOST)),
            "::".parse::<IpAddr>().unwrap()
        );
    }
}
