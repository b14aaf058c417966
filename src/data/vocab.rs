//! The vocabulary: `<pad>`=0, `<unk>`=1, then the most frequent train words.
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub(crate) struct Vocab {
    /// Index = id.
    words: Vec<String>,
    /// Train occurrences of each word (0 for the two specials).
    counts: Vec<u64>,
    #[serde(skip)]
    index: HashMap<String, u32>,
}

impl Vocab {
    pub(crate) const PAD: u32 = 0;
    pub(crate) const UNK: u32 = 1;
    pub(crate) const SPECIALS: usize = 2;

    /// The `size` most frequent words with a non-zero count, most frequent first.
    /// Ties are broken by the word itself, in byte order, so the choice does not depend
    /// on the order reviews were read in (Python's `Counter.most_common` would keep
    /// first-seen order instead, which depends on the archive's file order).
    pub(crate) fn from_counts(words: &[Box<str>], counts: &[u64], size: usize) -> Vocab {
        let mut order: Vec<usize> = (0..words.len()).filter(|&i| counts[i] > 0).collect();
        let key = |&i: &usize| (std::cmp::Reverse(counts[i]), &words[i]);
        if order.len() > size {
            order.select_nth_unstable_by_key(size, key);
            order.truncate(size);
        }
        order.sort_unstable_by_key(key);
        let mut all_words = vec!["<pad>".to_string(), "<unk>".to_string()];
        let mut all_counts = vec![0, 0];
        for i in order {
            all_words.push(words[i].to_string());
            all_counts.push(counts[i]);
        }
        Vocab::from_parts(all_words, all_counts)
    }

    pub(crate) fn from_parts(words: Vec<String>, counts: Vec<u64>) -> Vocab {
        let index = words.iter().enumerate().map(|(i, w)| (w.clone(), i as u32)).collect();
        Vocab { words, counts, index }
    }

    /// Rebuilds the lookup table after deserialisation.
    pub(crate) fn reindex(mut self) -> Vocab {
        self.index = self.words.iter().enumerate().map(|(i, w)| (w.clone(), i as u32)).collect();
        self
    }

    /// Id of `word`, `<unk>` when absent.
    pub(crate) fn id(&self, word: &str) -> u32 {
        self.index.get(word).copied().unwrap_or(Self::UNK)
    }
    pub(crate) fn words(&self) -> &[String] {
        &self.words
    }
    pub(crate) fn counts(&self) -> &[u64] {
        &self.counts
    }
    /// Number of ids, specials included (the embedding's row count).
    pub(crate) fn len(&self) -> usize {
        self.words.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specials_come_first_then_frequency_then_word_order_breaks_ties() {
        let words: Vec<Box<str>> = ["b", "a", "c", "d"].iter().map(|s| (*s).into()).collect();
        let v = Vocab::from_counts(&words, &[5, 5, 9, 1], 3);
        assert_eq!(v.words(), ["<pad>", "<unk>", "c", "a", "b"]);
        assert_eq!(v.id("d"), Vocab::UNK);
        assert_eq!(v.id("c"), 2);
    }
}
