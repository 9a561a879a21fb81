//! Explanations: the signals behind an answer, one per matching source, without allocation.

use crate::classify;
use crate::database::{Database, SourceInfo};
use crate::types::{Categories, Tier};

/// One source's evidence about an address: what it asserts here, how strong that is, and how
/// old its data is. Yielded by [`Answer::signals`](crate::Answer::signals).
///
/// The weights follow the rules in [`crate::classify`] (`docs/INTELLIGENCE.md`); the answer's
/// score is, per category, the strongest signal's weight for it, summed and capped at 1.
#[derive(Clone, Copy)]
pub struct Signal<'a> {
    source: SourceInfo<'a>,
    categories: Categories,
    weight: u8,
    /// Age of the source's evidence at the artifact's data day, in days (`None`: undated).
    age: Option<u32>,
    /// All categories of the answer (rule 3 depends on them).
    answer: Categories,
}

impl std::fmt::Debug for Signal<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signal")
            .field("source", &self.name())
            .field("format", &self.format())
            .field("categories", &self.categories)
            .field("tier", &self.tier())
            .field("weight", &self.weight())
            .field("snapshot_day", &self.snapshot_day())
            .field("age_days", &self.age)
            .finish()
    }
}

impl<'a> Signal<'a> {
    /// The source's unique name (`tor-exit-addresses`, `aws`, …).
    #[inline]
    pub fn name(&self) -> &'a str {
        self.source.name()
    }
    /// The source's input format (parser) name: its kind (`tor-exit-list`, `ip-list`, …).
    #[inline]
    pub fn format(&self) -> &'a str {
        self.source.format()
    }
    /// The categories the source asserts at this address (empty for context sources such as
    /// BGP tables, which supply the ASN but no category).
    #[inline]
    pub fn categories(&self) -> Categories {
        self.categories
    }
    /// The source's evidence tier.
    #[inline]
    pub fn tier(&self) -> Tier {
        self.source.tier()
    }
    /// What the signal adds to the score, 0..=1: its strongest counted category's weight
    /// (0 for a context source, or for a signal that a privacy relay discounts).
    #[inline]
    pub fn weight(&self) -> f32 {
        f32::from(self.weight) / 100.0
    }
    /// [`Signal::weight`] in hundredths (0..=100).
    #[inline]
    pub fn weight_hundredths(&self) -> u8 {
        self.weight
    }
    /// The weight of one category of this signal in hundredths, as the score counts it (0 when
    /// the signal does not assert it here or it does not count).
    #[inline]
    pub fn category_weight(&self, category: Categories) -> u8 {
        if !self.counted().contains(category) {
            return 0;
        }
        classify::aged_category_weight(category, self.tier(), source_weight(&self.source), self.age)
    }
    /// How much older the source's snapshot is than the artifact's data day
    /// ([`Database::data_day`](crate::Database::data_day)), in days (`None` for an undated
    /// source): the age its weights decay by ([`classify::decay_percent`]).
    #[inline]
    pub fn age_days(&self) -> Option<u32> {
        self.age
    }
    /// The categories that count towards the score: [`Signal::categories`] minus what a
    /// privacy relay discounts (rule 3 of [`crate::classify`]).
    #[inline]
    pub fn counted(&self) -> Categories {
        classify::counted(self.categories, self.tier(), self.answer)
    }
    /// Snapshot date of the source's data, days since 1970-01-01 (UTC), when known.
    #[inline]
    pub fn snapshot_day(&self) -> Option<u32> {
        self.source.snapshot_day()
    }
    /// Everything the artifact records about the source (licence, URL, provider, …).
    #[inline]
    pub fn source(&self) -> SourceInfo<'a> {
        self.source
    }
}

/// Iterator over the signals of an answer, in source order; see
/// [`Answer::signals`](crate::Answer::signals). Allocation-free.
#[derive(Clone)]
pub struct Signals<'a> {
    db: &'a Database,
    set: std::slice::Iter<'a, u32>,
    answer: Categories,
}

impl<'a> Signals<'a> {
    pub(crate) fn new(db: &'a Database, set: &'a [u32], answer: Categories) -> Self {
        Signals {
            db,
            set: set.iter(),
            answer,
        }
    }
}

impl std::fmt::Debug for Signals<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

/// The source's own weight in hundredths (0..=100).
fn source_weight(s: &SourceInfo<'_>) -> u8 {
    (s.weight() * 100.0).round().clamp(0.0, 100.0) as u8
}

impl<'a> Iterator for Signals<'a> {
    type Item = Signal<'a>;
    fn next(&mut self) -> Option<Signal<'a>> {
        loop {
            let &i = self.set.next()?;
            // A source index out of range (a corrupt, unverified file) is skipped.
            let Some(source) = self.db.source(i as usize) else {
                continue;
            };
            let categories = classify::signal_categories(source.categories(), self.answer);
            let age = classify::evidence_age(self.db.data_day(), source.snapshot_day());
            let weight = classify::signal_weight(
                categories,
                source.tier(),
                source_weight(&source),
                age,
                self.answer,
            );
            return Some(Signal {
                source,
                categories,
                weight,
                age,
                answer: self.answer,
            });
        }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, self.set.size_hint().1)
    }
}

impl std::iter::FusedIterator for Signals<'_> {}
