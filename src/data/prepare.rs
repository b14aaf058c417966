//! Turns the raw archive into the encoded dataset: tokenize (overlapped with
//! decompression), count train tokens, pick the vocabulary, encode and pad.
use super::imdb::{self, RawReview, Split};
use super::tokenize::for_each_token;
use super::vocab::Vocab;
use anyhow::Result;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// What shapes the encoding; part of the cache key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncodeConfig {
    /// Number of most frequent train words kept (`<pad>` and `<unk>` come on top).
    pub vocab_size: usize,
    /// Reviews are truncated to this many tokens and padded (at the end, with 0) up to it.
    pub max_len: usize,
}

impl Default for EncodeConfig {
    fn default() -> Self {
        EncodeConfig { vocab_size: 10_000, max_len: 200 }
    }
}

/// One split, encoded. Reviews are sorted by (label, id) so the order does not depend
/// on how the archive was packed.
#[derive(Clone, Debug, Default)]
pub struct EncodedSplit {
    pub ids: Vec<u32>,
    pub ratings: Vec<u8>,
    /// 1 positive, 0 negative.
    pub labels: Vec<u8>,
    /// True token count of each review, before truncation.
    pub lengths: Vec<u32>,
    /// Row-major `[len(), max_len]` vocabulary ids, 0-padded at the end.
    pub tokens: Vec<u32>,
}

impl EncodedSplit {
    pub fn len(&self) -> usize {
        self.labels.len()
    }
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
    pub fn positives(&self) -> usize {
        self.labels.iter().filter(|&&l| l == 1).count()
    }
    /// Keeps only the reviews at `keep` (in that order).
    pub fn select(&self, keep: &[usize], max_len: usize) -> EncodedSplit {
        let mut out = EncodedSplit::default();
        for &i in keep {
            out.ids.push(self.ids[i]);
            out.ratings.push(self.ratings[i]);
            out.labels.push(self.labels[i]);
            out.lengths.push(self.lengths[i]);
            out.tokens.extend_from_slice(&self.tokens[i * max_len..(i + 1) * max_len]);
        }
        out
    }
}

/// Corpus statistics gathered while encoding (for `imdb-rnn data`).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct CorpusStats {
    pub train_tokens: u64,
    pub test_tokens: u64,
    pub train_distinct: u64,
    /// Test tokens (all of them, not only the first max_len) that map to `<unk>`.
    pub test_unk_tokens: u64,
}

/// The whole encoded dataset.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub config: EncodeConfig,
    pub vocab: Vocab,
    pub train: EncodedSplit,
    pub test: EncodedSplit,
    pub stats: CorpusStats,
}

impl Prepared {
    pub fn split(&self, split: Split) -> &EncodedSplit {
        match split {
            Split::Train => &self.train,
            Split::Test => &self.test,
        }
    }
}

/// A review on its way through: interned token ids (first max_len only) and its length.
struct Pending {
    label: u8,
    id: u32,
    rating: u8,
    length: u32,
    interned: Vec<u32>,
}

/// Reads and encodes the archive at `path`. Decompression runs on its own thread while
/// this one tokenizes, so the two overlap.
pub fn prepare(path: &Path, config: EncodeConfig) -> Result<Prepared> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<RawReview>>(64);
    let reader_path = path.to_path_buf();
    let reader = std::thread::spawn(move || -> Result<()> {
        let mut batch = Vec::with_capacity(256);
        imdb::read_reviews(&reader_path, |r| {
            batch.push(r);
            if batch.len() == 256 {
                // A closed channel means the consumer failed; its error wins.
                let _ = tx.send(std::mem::replace(&mut batch, Vec::with_capacity(256)));
            }
            Ok(())
        })?;
        let _ = tx.send(batch);
        Ok(())
    });

    let mut interner: ahash::AHashMap<Box<str>, u32> = ahash::AHashMap::with_capacity(1 << 18);
    let mut words: Vec<Box<str>> = Vec::with_capacity(1 << 18);
    let mut train_counts: Vec<u64> = Vec::with_capacity(1 << 18);
    let mut test_counts: Vec<u64> = Vec::with_capacity(1 << 18);
    let mut pending: [Vec<Pending>; 2] = [Vec::new(), Vec::new()];
    let mut scratch = String::new();

    for batch in rx {
        for review in batch {
            let text = String::from_utf8_lossy(&review.text);
            let counts = match review.split {
                Split::Train => &mut train_counts,
                Split::Test => &mut test_counts,
            };
            let mut interned = Vec::with_capacity(config.max_len);
            let mut length = 0u32;
            for_each_token(&text, &mut scratch, |tok| {
                let id = match interner.get(tok) {
                    Some(&id) => id,
                    None => {
                        let id = words.len() as u32;
                        interner.insert(tok.into(), id);
                        words.push(tok.into());
                        id
                    }
                };
                let id_us = id as usize;
                if id_us >= counts.len() {
                    counts.resize(id_us + 1, 0);
                }
                counts[id_us] += 1;
                if interned.len() < config.max_len {
                    interned.push(id);
                }
                length += 1;
            });
            let slot = match review.split {
                Split::Train => 0,
                Split::Test => 1,
            };
            pending[slot].push(Pending {
                label: review.label,
                id: review.id,
                rating: review.rating,
                length,
                interned,
            });
        }
    }
    reader.join().expect("archive reader thread panicked")?;
    let [mut train_pending, mut test_pending] = pending;
    imdb::check_counts(path, train_pending.len(), test_pending.len())?;

    train_counts.resize(words.len(), 0);
    test_counts.resize(words.len(), 0);
    let vocab = Vocab::from_counts(&words, &train_counts, config.vocab_size);
    // interned id -> vocabulary id (1 = <unk> for words outside the vocabulary)
    let mut to_vocab = vec![Vocab::UNK; words.len()];
    for (vid, word) in vocab.words().iter().enumerate().skip(Vocab::SPECIALS) {
        to_vocab[interner[word.as_str()] as usize] = vid as u32;
    }
    let stats = CorpusStats {
        train_tokens: train_counts.iter().sum(),
        test_tokens: test_counts.iter().sum(),
        train_distinct: train_counts.iter().filter(|&&c| c > 0).count() as u64,
        test_unk_tokens: test_counts
            .iter()
            .zip(&to_vocab)
            .filter(|(_, &v)| v == Vocab::UNK)
            .map(|(c, _)| c)
            .sum(),
    };
    let train = encode(&mut train_pending, &to_vocab, config.max_len);
    let test = encode(&mut test_pending, &to_vocab, config.max_len);
    Ok(Prepared { config, vocab, train, test, stats })
}

fn encode(pending: &mut [Pending], to_vocab: &[u32], max_len: usize) -> EncodedSplit {
    pending.sort_by_key(|p| (p.label, p.id));
    let n = pending.len();
    let mut out = EncodedSplit {
        ids: Vec::with_capacity(n),
        ratings: Vec::with_capacity(n),
        labels: Vec::with_capacity(n),
        lengths: Vec::with_capacity(n),
        tokens: vec![Vocab::PAD; n * max_len],
    };
    for (row, p) in pending.iter().enumerate() {
        out.ids.push(p.id);
        out.ratings.push(p.rating);
        out.labels.push(p.label);
        out.lengths.push(p.length);
        let dst = &mut out.tokens[row * max_len..row * max_len + p.interned.len()];
        for (d, &t) in dst.iter_mut().zip(&p.interned) {
            *d = to_vocab[t as usize];
        }
    }
    out
}

/// Encodes free text with a vocabulary, as `predict` needs: ids (truncated and padded
/// to `max_len`) and the true length.
pub fn encode_text(text: &str, vocab: &Vocab, max_len: usize) -> (Vec<u32>, u32) {
    let mut ids = Vec::with_capacity(max_len);
    let mut length = 0u32;
    let mut scratch = String::new();
    for_each_token(text, &mut scratch, |tok| {
        if ids.len() < max_len {
            ids.push(vocab.id(tok));
        }
        length += 1;
    });
    ids.resize(max_len, Vocab::PAD);
    (ids, length)
}
