//! The O(file) part of [`Database::verify`]: every chunk's order and indices.

use crate::database::Database;
use crate::error::OpenError;
use crate::format::{self, Section};

fn bad(section: Section, reason: String) -> OpenError {
    OpenError::corrupt(section.name(), reason)
}

/// Checks that `keys` (a chunk's explicit keys) ascend strictly, start above `floor` and stay
/// within `ceil`.
fn ascending<K: Copy + Ord + std::fmt::Debug>(
    keys: &[K],
    floor: K,
    ceil: K,
    section: Section,
    at: usize,
) -> Result<(), OpenError> {
    let mut prev = floor;
    for &k in keys {
        if k <= prev || k > ceil {
            return Err(bad(section, format!("chunk at {at}: key {k:?} out of order")));
        }
        prev = k;
    }
    Ok(())
}

pub(crate) fn chunks(db: &Database) -> Result<(), OpenError> {
    let records = db.record_count() as u32;
    let rec_ok = |v: u32, s: Section, at: usize| {
        if v < records {
            Ok(())
        } else {
            Err(bad(s, format!("entry {at}: record {v} out of range")))
        }
    };

    let top: &[u32] = db.raw_slice(Section::V4Top);
    let keys: &[u16] = db.raw_slice(Section::V4Keys);
    let values: &[u32] = db.raw_slice(Section::V4Values);
    for &e in top.iter().filter(|&&e| e & format::TOP_DIRECT == 0) {
        let s = e as usize;
        let n = keys[s] as usize; // in range: checked at open
        ascending(&keys[s + 1..=s + n], 0, u16::MAX, Section::V4Keys, s)?;
        for (i, &v) in values[s..=s + n].iter().enumerate() {
            rec_ok(v, Section::V4Values, s + i)?;
        }
    }

    let top: &[u32] = db.raw_slice(Section::V6Top);
    let keys: &[u64] = db.raw_slice(Section::V6Keys);
    let values: &[u32] = db.raw_slice(Section::V6Values);
    let sub_keys: &[u64] = db.raw_slice(Section::V6SubKeys);
    let sub_values: &[u32] = db.raw_slice(Section::V6SubValues);
    for (hi, &e) in top.iter().enumerate() {
        if e & format::TOP_DIRECT != 0 {
            continue;
        }
        let s = e as usize;
        let n = keys[s] as usize;
        let floor = (hi as u64) << 48;
        ascending(&keys[s + 1..=s + n], floor, floor | ((1 << 48) - 1), Section::V6Keys, s)?;
        let vals = values
            .get(s..=s + n)
            .ok_or_else(|| bad(Section::V6Values, format!("chunk at {s} runs past the end")))?;
        for (i, &v) in vals.iter().enumerate() {
            if v & format::V6_SUB == 0 {
                rec_ok(v, Section::V6Values, s + i)?;
                continue;
            }
            let t = (v & !format::V6_SUB) as usize;
            let m = sub_keys
                .get(t)
                .and_then(|&m| usize::try_from(m).ok())
                .filter(|&m| t.checked_add(m).is_some_and(|l| l < sub_keys.len()))
                .ok_or_else(|| bad(Section::V6Values, format!("entry {}: sub-chunk {t} out of range", s + i)))?;
            ascending(&sub_keys[t + 1..=t + m], 0, u64::MAX, Section::V6SubKeys, t)?;
            for (j, &v) in sub_values[t..=t + m].iter().enumerate() {
                rec_ok(v, Section::V6SubValues, t + j)?;
            }
        }
    }
    Ok(())
}
