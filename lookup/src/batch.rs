//! [`Database::lookup_many`]: lookups in groups whose cache misses overlap.
//!
//! A single lookup is a chain of dependent reads (top entry, one node per level, the leaf), so
//! it waits for one miss after another. A group of [`BATCH`] addresses walks in passes: every
//! member takes one step of its descent ([`Trie::step`], the same step single lookups take)
//! and asks the CPU to start loading what its next step reads, before any member reads it. The
//! misses of the whole group are then in flight together.

use std::net::{IpAddr, Ipv4Addr};

use crate::answer::Answer;
use crate::database::Database;
use crate::format::rec;
use crate::index::v4::V4;
use crate::index::v6::V6;
use crate::index::{Family, Step, Trie};

/// Addresses per group of [`Database::lookup_many`].
pub const BATCH: usize = 16;

/// Asks the CPU to start loading the cache line holding `item` (nothing when it is out of
/// range), so that a later read of it finds it cached or in flight.
#[inline(always)]
fn prefetch<T>(items: &[T], i: usize) {
    let Some(item) = items.get(i) else {
        return;
    };
    #[cfg(target_arch = "x86_64")]
    {
        // Measured (format 1): a batch staged with plain loads through `black_box` instead
        // took 1.3-3.6x as long on the full-size artifact.
        let p = std::ptr::from_ref(item).cast();
        // SAFETY: `_mm_prefetch` is only a hint to the cache: it never faults, reads nothing
        // into the program and changes no memory; `p` points inside a live slice anyway. SSE is
        // part of the x86_64 baseline, so the instruction always exists.
        unsafe { std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = std::hint::black_box(item as *const T);
}

/// One address of a group on its way through the passes.
#[derive(Clone, Copy)]
struct Staged {
    ip: IpAddr,
    step: Step,
}

impl Staged {
    const EMPTY: Staged = Staged {
        ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        step: Step::Done(0),
    };
}

/// Starts loading what `step` reads next.
#[inline(always)]
fn preload<F: Family>(t: Trie<'_, F>, step: Step) {
    match step {
        Step::Node { index, .. } => prefetch(t.nodes, index as usize),
        Step::Leaf(i) => prefetch(t.leaves, i as usize),
        Step::Done(_) => {}
    }
}

/// Iterator of [`Database::lookup_many`]: one [`Answer`] per input address, in order.
pub struct LookupMany<'a, I> {
    db: &'a Database,
    ips: I,
    group: [Staged; BATCH],
    len: usize,
    next: usize,
}

impl<I> std::fmt::Debug for LookupMany<'_, I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LookupMany")
            .field("buffered", &(self.len - self.next))
            .finish_non_exhaustive()
    }
}

impl<'a, I: Iterator<Item = IpAddr>> LookupMany<'a, I> {
    pub(crate) fn new(db: &'a Database, ips: I) -> Self {
        LookupMany {
            db,
            ips,
            group: [Staged::EMPTY; BATCH],
            len: 0,
            next: 0,
        }
    }

    /// Takes the next group from the input and walks it to its leaves.
    fn fill(&mut self) {
        let (t4, t6) = (self.db.trie::<V4>(), self.db.trie::<V6>());
        let mut n = 0;
        // Pass 0: the top entries (IPv4-mapped addresses as IPv4).
        for (slot, ip) in self.group.iter_mut().zip(self.ips.by_ref()) {
            let ip = match ip {
                IpAddr::V6(a) => a.to_ipv4_mapped().map_or(ip, IpAddr::V4),
                IpAddr::V4(_) => ip,
            };
            let step = match ip {
                IpAddr::V4(a) => t4.first(u32::from(a)),
                IpAddr::V6(a) => t6.first(u128::from(a)),
            };
            match ip {
                IpAddr::V4(_) => preload(t4, step),
                IpAddr::V6(_) => preload(t6, step),
            }
            *slot = Staged { ip, step };
            n += 1;
        }
        let group = &mut self.group[..n];
        // Then one step per member and pass (at most 128 passes: each step consumes a bit),
        // starting the loads of the next step of the whole group before reading any.
        let mut more = true;
        while more {
            more = false;
            for s in group.iter_mut() {
                s.step = match (s.step, s.ip) {
                    (Step::Done(_), _) => continue,
                    (Step::Leaf(i), IpAddr::V4(_)) => Step::Done(t4.leaf(i)),
                    (Step::Leaf(i), IpAddr::V6(_)) => Step::Done(t6.leaf(i)),
                    (Step::Node { index, shift }, IpAddr::V4(a)) => {
                        let next = t4.step(index, shift, u32::from(a));
                        preload(t4, next);
                        next
                    }
                    (Step::Node { index, shift }, IpAddr::V6(a)) => {
                        let next = t6.step(index, shift, u128::from(a));
                        preload(t6, next);
                        next
                    }
                };
                more |= !matches!(s.step, Step::Done(_));
            }
        }
        // The records' lines, for callers that read a record field.
        let records: &[[u32; rec::WORDS]] = self.db.slice(crate::format::Section::Records);
        for s in group.iter() {
            if let Step::Done(leaf) = s.step {
                prefetch(records, crate::format::leaf::record(leaf) as usize);
            }
        }
        self.len = n;
        self.next = 0;
    }
}

impl<'a, I: Iterator<Item = IpAddr>> Iterator for LookupMany<'a, I> {
    type Item = Answer<'a>;

    #[inline]
    fn next(&mut self) -> Option<Answer<'a>> {
        if self.next == self.len {
            self.fill();
            if self.len == 0 {
                return None;
            }
        }
        let s = self.group[self.next];
        self.next += 1;
        let leaf = match s.step {
            Step::Done(v) => v,
            _ => 0,
        };
        Some(Answer::new(self.db, s.ip, leaf))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let (lo, hi) = self.ips.size_hint();
        let buffered = self.len - self.next;
        (
            lo.saturating_add(buffered),
            hi.and_then(|h| h.checked_add(buffered)),
        )
    }
}
