//! Zero heap allocation per lookup, counted by a global allocator over a million lookups of
//! real addresses (from the vendored snapshot) and random ones.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipsieve::Database;

/// Counts allocations made by the current thread, so parallel tests do not interfere.
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: forwards every call unchanged to the system allocator; the counter is a
// thread-local `Cell` of a `const`-initialised integer, which never allocates itself.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn a_million_lookups_allocate_nothing() {
    let bytes = crate::snapshot::artifact();
    let db = Database::from_bytes(bytes).unwrap();
    // Real addresses: the boundaries of every range in the artifact's index, via answers.
    let mut real: Vec<IpAddr> = Vec::new();
    let mut x: u32 = 0;
    while real.len() < 200_000 {
        let a = db.lookup_v4(Ipv4Addr::from(x));
        real.push(a.ip());
        let (_, hi) = a.range();
        let IpAddr::V4(hi) = hi else { unreachable!() };
        match u32::from(hi).checked_add(1) {
            Some(n) => x = n,
            None => break,
        }
    }
    for line in crate::snapshot::real_v6_samples() {
        real.push(line);
    }
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut probes: Vec<IpAddr> = real;
    while probes.len() < 1_000_000 {
        let r = next();
        probes.push(if r & 3 == 0 {
            IpAddr::V6(Ipv6Addr::from((u128::from(next()) << 64) | u128::from(r)))
        } else {
            IpAddr::V4(Ipv4Addr::from(r as u32))
        });
    }

    let before = allocations();
    let mut checksum = 0u64;
    for &ip in &probes {
        let a = db.lookup(ip);
        checksum = checksum
            .wrapping_add(u64::from(a.categories().bits()) + u64::from(a.asn().unwrap_or(0)));
        checksum = checksum.wrapping_add(a.as_org().map_or(0, str::len) as u64);
        checksum = checksum.wrapping_add(a.provider().map_or(0, str::len) as u64);
        checksum = checksum.wrapping_add(a.country().map_or(0, str::len) as u64);
        checksum = checksum.wrapping_add(a.sources().map(str::len).sum::<usize>() as u64);
        checksum = checksum.wrapping_add(u64::from(a.network().prefix_len()) + a.verdict() as u64);
        // Explanations and derived fields allocate nothing either.
        for s in a.signals() {
            checksum = checksum.wrapping_add(
                (s.name().len() + s.format().len()) as u64
                    + u64::from(s.categories().bits())
                    + u64::from(s.weight_hundredths())
                    + s.tier() as u64
                    + u64::from(s.snapshot_day().unwrap_or(0)),
            );
        }
        checksum = checksum.wrapping_add(
            u64::from(a.trust_score())
                + a.risk_level() as u64
                + a.tier().map_or(9, |t| t as u64)
                + u64::from(a.is_anonymous_vpn())
                + u64::from(a.is_hosting_provider())
                + u64::from(a.is_public_proxy())
                + u64::from(a.is_tor_exit_node())
                + u64::from(a.is_residential_proxy()),
        );
    }
    let after = allocations();
    assert_eq!(
        after - before,
        0,
        "lookups allocated {} times",
        after - before
    );
    assert_ne!(checksum, 0);
    // The counter works: an allocation is seen.
    let v = std::hint::black_box(vec![1u8; 16]);
    assert!(allocations() > after);
    drop(v);
}

#[test]
fn database_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Database>();
    assert_send_sync::<ipsieve::Answer<'static>>();
}
