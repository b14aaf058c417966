//! The token interner of data preparation: each distinct token gets a dense id and a
//! count per split, in an open-addressing table of tokens packed into two words.
use std::ops::Range;

/// A token of `[a-z0-9]` bytes: up to 16 of them packed little-endian into two words,
/// zero-padded (no token byte is 0), else the bytes themselves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Token<'a> {
    Short(u64, u64),
    Long(&'a [u8]),
}

impl<'a> Token<'a> {
    #[inline]
    pub(super) fn of(tok: &'a [u8]) -> Token<'a> {
        if tok.len() > 16 {
            return Token::Long(tok);
        }
        let (mut lo, mut hi) = (0u64, 0u64);
        for (n, &c) in tok.iter().enumerate() {
            if n < 8 {
                lo |= (c as u64) << (8 * n);
            } else {
                hi |= (c as u64) << (8 * (n - 8));
            }
        }
        Token::Short(lo, hi)
    }

    #[cfg(test)]
    pub(super) fn bytes(&self) -> Vec<u8> {
        match *self {
            Token::Short(lo, hi) => {
                let mut b = [lo.to_le_bytes(), hi.to_le_bytes()].concat();
                b.retain(|&c| c != 0);
                b
            }
            Token::Long(b) => b.to_vec(),
        }
    }
}

/// How many tokens ahead the lookup loop prefetches table slots.
const PREFETCH_AHEAD: usize = 16;

const HASH_MUL_HI: u64 = 0xC2B2_AE3D_27D4_EB4F;
const HASH_MUL: u64 = 0x9E37_79B9_7F4A_7C15;

/// A token as the interner sees it: its `[a-z0-9]` bytes packed into two words,
/// zero-padded (no token byte is 0), with their hash. Tokens over 16 bytes (rare) are
/// interned when the key is made: `lo` is then 0 and `hi` indexes `Interner::long_ids`.
#[derive(Clone, Copy)]
pub(super) struct Key {
    lo: u64,
    hi: u64,
    hash: u64,
}

/// One slot of the open-addressing table: a packed key, its id, and how often it was
/// seen in each split (kept here, so counting costs no second cache miss).
#[derive(Clone, Copy, Default)]
#[repr(C)]
struct Slot {
    lo: u64,
    hi: u64,
    id: u32,
    counts: [u32; 2],
}

/// Gives each distinct token a dense id and counts it per split. Tokens of up to 16
/// bytes (nearly all) live inline in an open-addressing table, so a lookup is a
/// multiply and one or two integer compares, without following a pointer to a string;
/// longer ones go to an ordinary map.
pub(super) struct Interner {
    /// `lo == 0` marks an empty slot.
    slots: Vec<Slot>,
    mask: usize,
    shift: u32,
    short: usize,
    long: ahash::AHashMap<Box<[u8]>, usize>,
    long_ids: Vec<u32>,
    long_counts: Vec<[u64; 2]>,
    /// (id, split) once for every 2^32 occurrences that overflowed a slot's count.
    spilled: Vec<(u32, usize)>,
    words: Vec<Box<str>>,
}

impl Interner {
    const INITIAL_BITS: u32 = 16;

    pub(super) fn new() -> Interner {
        let n = 1usize << Self::INITIAL_BITS;
        Interner {
            slots: vec![Slot::default(); n],
            mask: n - 1,
            shift: 64 - Self::INITIAL_BITS,
            short: 0,
            long: ahash::AHashMap::new(),
            long_ids: Vec::new(),
            long_counts: Vec::new(),
            spilled: Vec::new(),
            words: Vec::with_capacity(1 << 16),
        }
    }

    #[inline]
    fn hash(lo: u64, hi: u64) -> u64 {
        (lo ^ hi.wrapping_mul(HASH_MUL_HI)).wrapping_mul(HASH_MUL)
    }

    /// The key of `tok`.
    #[inline]
    pub(super) fn key(&mut self, tok: Token<'_>) -> Key {
        match tok {
            Token::Short(lo, hi) => Key { lo, hi, hash: Self::hash(lo, hi) },
            Token::Long(bytes) => self.long_key(bytes),
        }
    }

    #[cold]
    #[inline(never)]
    fn long_key(&mut self, tok: &[u8]) -> Key {
        let index = match self.long.get(tok) {
            Some(&i) => i,
            None => {
                let i = self.long_ids.len();
                let id = self.push_word(tok);
                self.long_ids.push(id);
                self.long_counts.push([0, 0]);
                self.long.insert(tok.into(), i);
                i
            }
        };
        Key { lo: 0, hi: index as u64, hash: 0 }
    }

    #[inline]
    fn prefetch(&self, key: &Key) {
        #[cfg(target_arch = "x86_64")]
        {
            let p = self.slots.as_ptr().wrapping_add((key.hash >> self.shift) as usize);
            // SAFETY: a prefetch is only a hint; it never faults, whatever the address.
            #[allow(unused_unsafe)]
            unsafe {
                std::arch::x86_64::_mm_prefetch(p as *const i8, std::arch::x86_64::_MM_HINT_T0)
            };
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = key;
    }

    /// Counts every token of one review (`keys`, in order) in `split` and appends to
    /// `kept` the ids of those at positions in `keep`. The lookups are memory-bound, so
    /// table slots are prefetched a few tokens ahead and their cache misses overlap.
    #[inline]
    pub(super) fn count_review(&mut self, keys: &[Key], split: usize, keep: Range<usize>, kept: &mut Vec<u32>) {
        for k in keys.iter().take(PREFETCH_AHEAD) {
            self.prefetch(k);
        }
        for i in 0..keys.len() {
            if let Some(ahead) = keys.get(i + PREFETCH_AHEAD) {
                self.prefetch(ahead);
            }
            let id = self.count(keys[i], split);
            if keep.contains(&i) {
                kept.push(id);
            }
        }
    }

    /// Counts one occurrence of `key` in `split` and returns its id (a new one when
    /// the token was never seen).
    #[inline]
    pub(super) fn count(&mut self, key: Key, split: usize) -> u32 {
        if key.lo == 0 {
            let i = key.hi as usize;
            self.long_counts[i][split] += 1;
            return self.long_ids[i];
        }
        let mut i = (key.hash >> self.shift) as usize;
        loop {
            let s = &mut self.slots[i];
            if s.lo == key.lo && s.hi == key.hi {
                let id = s.id;
                match s.counts[split].checked_add(1) {
                    Some(c) => s.counts[split] = c,
                    None => self.spill(i, split),
                }
                return id;
            }
            if s.lo == 0 {
                return self.insert_at(i, key, split);
            }
            i = (i + 1) & self.mask;
        }
    }

    #[cold]
    #[inline(never)]
    fn spill(&mut self, i: usize, split: usize) {
        // u32::MAX counted + this one = 2^32, recorded here; the slot restarts at 0.
        self.spilled.push((self.slots[i].id, split));
        self.slots[i].counts[split] = 0;
    }

    #[cold]
    #[inline(never)]
    fn insert_at(&mut self, i: usize, key: Key, split: usize) -> u32 {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&key.lo.to_le_bytes());
        bytes[8..].copy_from_slice(&key.hi.to_le_bytes());
        let len = bytes.iter().position(|&b| b == 0).unwrap_or(16);
        let id = self.push_word(&bytes[..len]);
        let mut counts = [0; 2];
        counts[split] = 1;
        self.slots[i] = Slot { lo: key.lo, hi: key.hi, id, counts };
        self.short += 1;
        if self.short * 2 > self.slots.len() {
            self.grow();
        }
        id
    }

    fn push_word(&mut self, tok: &[u8]) -> u32 {
        let id = u32::try_from(self.words.len()).expect("fewer than 2^32 distinct tokens");
        self.words.push(std::str::from_utf8(tok).expect("tokens are ASCII").into());
        id
    }

    fn grow(&mut self) {
        let n = self.slots.len() * 2;
        let old = std::mem::replace(&mut self.slots, vec![Slot::default(); n]);
        self.mask = n - 1;
        self.shift = 64 - n.trailing_zeros();
        for s in old.into_iter().filter(|s| s.lo != 0) {
            let mut i = (Self::hash(s.lo, s.hi) >> self.shift) as usize;
            while self.slots[i].lo != 0 {
                i = (i + 1) & self.mask;
            }
            self.slots[i] = s;
        }
    }

    /// The words by id, and each id's count in train and in test.
    pub(super) fn into_words_and_counts(self) -> (Vec<Box<str>>, [Vec<u64>; 2]) {
        let n = self.words.len();
        let mut counts = [vec![0u64; n], vec![0u64; n]];
        for s in self.slots.iter().filter(|s| s.lo != 0) {
            for (split, c) in counts.iter_mut().enumerate() {
                c[s.id as usize] = s.counts[split] as u64;
            }
        }
        for (&id, lc) in self.long_ids.iter().zip(&self.long_counts) {
            for (split, c) in counts.iter_mut().enumerate() {
                c[id as usize] = lc[split];
            }
        }
        for &(id, split) in &self.spilled {
            counts[split][id as usize] += 1 << 32;
        }
        (self.words, counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interner_tells_apart_tokens_that_differ_anywhere_and_counts_per_split() {
        let mut words: Vec<String> = Vec::new();
        for i in 0..150_000u32 {
            // Short, exactly 8 or 16 bytes, and long tokens sharing 16-byte prefixes.
            words.push(match i % 4 {
                0 => format!("w{i}"),
                1 => format!("{i:08}"),
                2 => format!("{i:016}"),
                _ => format!("{i:016}x{}", i % 7),
            });
        }
        let mut interner = Interner::new();
        let mut ids = Vec::new();
        for (i, w) in words.iter().enumerate() {
            let key = interner.key(Token::of(w.as_bytes()));
            ids.push(interner.count(key, i % 2));
        }
        // The table grew several times; every word still maps to its id.
        for (i, w) in words.iter().enumerate() {
            let key = interner.key(Token::of(w.as_bytes()));
            assert_eq!(interner.count(key, 1), ids[i], "{w}");
        }
        let (by_id, [train, test]) = interner.into_words_and_counts();
        let distinct: std::collections::HashSet<&String> = words.iter().collect();
        assert_eq!(by_id.len(), distinct.len());
        for (i, w) in words.iter().enumerate() {
            assert_eq!(&*by_id[ids[i] as usize], w.as_str());
        }
        assert_eq!(train.iter().sum::<u64>(), 75_000);
        assert_eq!(test.iter().sum::<u64>(), 75_000 + 150_000);
    }
}
