//! Writing chunk trees (layout in [`ipsieve::format::tree`]).

use ipsieve::format::tree::{self, Key};

use crate::error::BuildError;

/// The key and value arrays of one key space (IPv4, IPv6 upper halves, IPv6 sub-trees).
#[derive(Debug, Default)]
pub(crate) struct Trees<K> {
    pub keys: Vec<K>,
    pub values: Vec<u32>,
}

impl<K: Key> Trees<K> {
    /// Pads keys (and values) with [`Key::PAD`] (and 0) to a multiple of `slots`.
    fn align(&mut self, slots: usize) {
        let len = self.keys.len().next_multiple_of(slots);
        self.keys.resize(len, K::PAD);
        self.values.resize(len, 0);
    }

    /// Pads the arrays to whole lines: a leaf is read as its whole aligned line.
    pub fn finish(mut self) -> Self {
        self.align(K::PER_LINE);
        self
    }

    /// Adds a chunk and returns its tree reference. `keys` are the encoded boundaries
    /// (range start − 1), strictly ascending and below [`Key::PAD`]; `values` has one more
    /// entry than `keys`.
    pub fn add(&mut self, keys: &[K], values: &[u32]) -> Result<u32, BuildError> {
        debug_assert_eq!(values.len(), keys.len() + 1);
        debug_assert!(keys.windows(2).all(|w| w[0] < w[1]));
        let b = K::PER_LINE;
        if keys.len() < b {
            let class = (0..=2u32)
                .find(|&c| tree::leaf_width::<K>(c) > keys.len())
                .unwrap_or(2);
            let width = tree::leaf_width::<K>(class);
            self.align(width);
            let at = self.keys.len();
            self.keys.extend_from_slice(keys);
            self.values.extend_from_slice(values);
            self.align(width);
            let unit = at / tree::unit_slots::<K>();
            if unit > tree::LEAF_OFFSET_MASK as usize {
                return Err(BuildError::TooLarge(
                    "key array exceeds the leaf reference range".into(),
                ));
            }
            return Ok(tree::LEAF | (class << tree::LEAF_CLASS_SHIFT) | unit as u32);
        }
        let layout = tree::layout(keys).ok_or_else(|| {
            BuildError::TooLarge(format!("a chunk of {} ranges is too deep", keys.len()))
        })?;
        self.align(b);
        let root = self.keys.len() / b;
        if root > tree::ROOT_MASK as usize {
            return Err(BuildError::TooLarge(
                "key array exceeds the tree reference range".into(),
            ));
        }
        let first_leaf = self.keys.len() + layout.first_leaf * b;
        self.keys.extend_from_slice(&layout.slots);
        self.values.resize(first_leaf, 0);
        self.values.extend_from_slice(values);
        self.values.resize(self.keys.len(), 0);
        Ok((layout.height << tree::HEIGHT_SHIFT) | root as u32)
    }
}
