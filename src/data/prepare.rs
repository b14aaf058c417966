//! Turns the raw archive into the encoded dataset: tokenize (overlapped with
//! decompression), count train tokens ([`super::interner`]), pick the vocabulary, encode
//! and pad.
use super::imdb::{self, ReviewMeta, Split};
use super::interner::{Interner, Key, Token};
use super::tokenize::{for_each_token, ASCII_CLASS, KEEP, SPACE};
use super::vocab::Vocab;
use anyhow::Result;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::mpsc::{Receiver, Sender};
use std::thread::JoinHandle;

/// What shapes the encoding; part of the cache key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) struct EncodeConfig {
    /// Number of most frequent train words kept (`<pad>` and `<unk>` come on top).
    pub vocab_size: usize,
    /// Reviews are truncated to this many tokens and padded (at the end, with 0) up to it.
    pub max_len: usize,
    /// Which `max_len` tokens a longer review keeps. Left out of the key (and of
    /// config.json) when `head`, so caches and runs made before it existed still match.
    #[serde(default, skip_serializing_if = "Truncate::is_head")]
    pub truncate: Truncate,
}

impl EncodeConfig {
    /// The course's encoding: the 10,000 most frequent train words, 200 tokens, the
    /// review's head. Every default of the encoding is written here once.
    pub(crate) const DEFAULT: EncodeConfig = EncodeConfig { vocab_size: 10_000, max_len: 200, truncate: Truncate::Head };
}

impl Default for EncodeConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Which part of a review longer than `max_len` is kept (`--truncate`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Truncate {
    /// The first `max_len` tokens.
    Head,
    /// The last `max_len` tokens.
    Tail,
}

impl Default for Truncate {
    fn default() -> Self {
        EncodeConfig::DEFAULT.truncate
    }
}

impl Truncate {
    pub(crate) fn is_head(&self) -> bool {
        *self == Truncate::Head
    }
    /// The first token index kept of a review of `length` tokens.
    pub(crate) fn first_kept(self, length: usize, max_len: usize) -> usize {
        match self {
            Truncate::Head => 0,
            Truncate::Tail => length.saturating_sub(max_len),
        }
    }
}

/// One split, encoded. Reviews are sorted by (label, id) so the order does not depend
/// on how the archive was packed.
#[derive(Clone, Debug, Default)]
pub(crate) struct EncodedSplit {
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
    pub(crate) fn len(&self) -> usize {
        self.labels.len()
    }
    pub(crate) fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
    pub(crate) fn positives(&self) -> usize {
        self.labels.iter().filter(|&&l| l == 1).count()
    }
    /// Keeps only the reviews at `keep` (in that order).
    pub(crate) fn select(&self, keep: &[usize], max_len: usize) -> EncodedSplit {
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
pub(crate) struct CorpusStats {
    pub train_tokens: u64,
    pub test_tokens: u64,
    pub train_distinct: u64,
    /// Test tokens (all of them, not only the first max_len) that map to `<unk>`.
    pub test_unk_tokens: u64,
}

/// The whole encoded dataset.
#[derive(Clone, Debug)]
pub(crate) struct Prepared {
    pub config: EncodeConfig,
    pub vocab: Vocab,
    pub train: EncodedSplit,
    pub test: EncodedSplit,
    pub stats: CorpusStats,
}

/// Prints how long a phase took on stderr when `IMDB_RNN_TIMINGS` is set (bench/run.sh
/// uses it to time data preparation without the process start-up, which loading
/// libtorch dominates).
pub(crate) fn report_phase(what: &str, start: std::time::Instant) {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if *ON.get_or_init(|| std::env::var_os("IMDB_RNN_TIMINGS").is_some()) {
        crate::errln!("imdb-rnn timing: {what} {:.3} s", start.elapsed().as_secs_f64());
    }
}

/// Reviews handed from the reader thread to the tokenizer: texts back to back in one
/// buffer (no allocation per review), recycled once tokenized.
struct Batch {
    /// Each review and the offset in `text` where it ends.
    reviews: Vec<(ReviewMeta, usize)>,
    text: Vec<u8>,
}

const BATCH_BYTES: usize = 1 << 20;

/// A review on its way through: where its interned token ids (the max_len kept only)
/// sit in its split's `interned`, and its true length.
struct Pending {
    label: u8,
    id: u32,
    rating: u8,
    length: u32,
    start: usize,
    kept: usize,
}

/// Reads and encodes the archive at `path`. Decompression (and tar parsing) runs on its
/// own thread while this one tokenizes, so the two overlap.
pub(crate) fn prepare(path: &Path, config: EncodeConfig) -> Result<Prepared> {
    let start = std::time::Instant::now();
    let result = prepare_inner(path, config);
    report_phase("prepare (read+tokenize+vocab+encode)", start);
    result
}

fn prepare_inner(path: &Path, config: EncodeConfig) -> Result<Prepared> {
    let start = std::time::Instant::now();
    let (batches, recycle, reader) = spawn_reader(path);
    let mut tokenized = Tokenized::new();
    for mut batch in batches.iter() {
        let mut begin = 0;
        for &(meta, end) in &batch.reviews {
            tokenized.add(meta, &batch.text[begin..end], config);
            begin = end;
        }
        batch.reviews.clear();
        batch.text.clear();
        let _ = recycle.send(batch);
    }
    reader.join().expect("archive reader thread panicked")?;
    report_phase("prepare: stream", start);
    imdb::check_counts(path, tokenized.pending[0].len(), tokenized.pending[1].len())?;
    let prepared = tokenized.encode(config);
    report_phase("prepare: vocab+encode", start);
    Ok(prepared)
}

/// Starts the thread that reads the archive into [`Batch`]es (sent on the first channel,
/// eight at most in flight), reusing the batches sent back on the second.
fn spawn_reader(path: &Path) -> (Receiver<Batch>, Sender<Batch>, JoinHandle<Result<()>>) {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(8);
    let (recycle_tx, recycle_rx) = std::sync::mpsc::channel::<Batch>();
    let reader_path = path.to_path_buf();
    let reader = std::thread::spawn(move || -> Result<()> {
        let fresh =
            || recycle_rx.try_recv().unwrap_or_else(|_| Batch { reviews: Vec::with_capacity(1024), text: Vec::with_capacity(BATCH_BYTES + (64 << 10)) });
        let mut batch = fresh();
        imdb::read_reviews(&reader_path, |meta, text| {
            text.read_to_end(&mut batch.text)?;
            batch.reviews.push((meta, batch.text.len()));
            if batch.text.len() >= BATCH_BYTES {
                // A closed channel means the consumer failed; its error wins.
                let _ = tx.send(std::mem::replace(&mut batch, fresh()));
            }
            Ok(())
        })?;
        let _ = tx.send(batch);
        Ok(())
    });
    (rx, recycle_tx, reader)
}

/// The reviews read so far, tokenized and interned, per split (0 train, 1 test).
struct Tokenized {
    interner: Interner,
    /// The reviews of each split.
    pending: [Vec<Pending>; 2],
    /// Each split's kept interned ids, review after review.
    interned: [Vec<u32>; 2],
    // Buffers reused from review to review.
    scratch: String,
    long_token: Vec<u8>,
    keys: Vec<Key>,
}

impl Tokenized {
    fn new() -> Tokenized {
        Tokenized {
            interner: Interner::new(),
            pending: [Vec::new(), Vec::new()],
            interned: [Vec::new(), Vec::new()],
            scratch: String::new(),
            long_token: Vec::with_capacity(64),
            keys: Vec::with_capacity(4096),
        }
    }

    /// Tokenizes one review, counts its tokens and keeps the ids of the `max_len` that
    /// `config.truncate` keeps.
    fn add(&mut self, meta: ReviewMeta, text: &[u8], config: EncodeConfig) {
        let split = match meta.split {
            Split::Train => 0,
            Split::Test => 1,
        };
        // Tokenize the whole review first, then look the tokens up in a tight loop
        // (Interner::count_review) that overlaps their cache misses.
        let (interner, keys) = (&mut self.interner, &mut self.keys);
        keys.clear();
        if text.is_ascii() {
            ascii_tokens(text, &mut self.long_token, |tok| keys.push(interner.key(tok)));
        } else {
            // Valid UTF-8 (nearly always) is borrowed; only broken text is copied.
            let text = String::from_utf8_lossy(text);
            for_each_token(&text, &mut self.scratch, |tok| keys.push(interner.key(Token::of(tok.as_bytes()))));
        }
        let interned = &mut self.interned[split];
        let start = interned.len();
        let first_kept = config.truncate.first_kept(keys.len(), config.max_len);
        interner.count_review(keys, split, first_kept..first_kept + config.max_len, interned);
        self.pending[split].push(Pending {
            label: meta.label,
            id: meta.id,
            rating: meta.rating,
            length: u32::try_from(keys.len()).expect("a review has fewer than 2^32 tokens"),
            start,
            kept: interned.len() - start,
        });
    }

    /// The vocabulary of the train counts, the corpus statistics, and both splits
    /// encoded with that vocabulary (the two splits on two threads).
    fn encode(self, config: EncodeConfig) -> Prepared {
        let Tokenized { interner, pending: [mut train_pending, mut test_pending], interned: [train_interned, test_interned], .. } = self;
        let (words, [train_counts, test_counts]) = interner.into_words_and_counts();
        let vocab = Vocab::from_counts(&words, &train_counts, config.vocab_size);
        // interned id -> vocabulary id (1 = <unk> for words outside the vocabulary)
        let mut to_vocab = vec![Vocab::UNK; words.len()];
        {
            let index: ahash::AHashMap<&str, u32> = words.iter().enumerate().map(|(i, w)| (&**w, i as u32)).collect();
            for (vid, word) in vocab.words().iter().enumerate().skip(Vocab::SPECIALS) {
                to_vocab[index[word.as_str()] as usize] = vid as u32;
            }
        }
        let stats = CorpusStats {
            train_tokens: train_counts.iter().sum(),
            test_tokens: test_counts.iter().sum(),
            train_distinct: train_counts.iter().filter(|&&c| c > 0).count() as u64,
            test_unk_tokens: test_counts.iter().zip(&to_vocab).filter(|(_, &v)| v == Vocab::UNK).map(|(c, _)| c).sum(),
        };
        let max_len = config.max_len;
        let (train, test) = std::thread::scope(|s| {
            let test = s.spawn(|| encode(&mut test_pending, &test_interned, &to_vocab, max_len));
            let train = encode(&mut train_pending, &train_interned, &to_vocab, max_len);
            (train, test.join().expect("encoder thread panicked"))
        });
        Prepared { config, vocab, train, test, stats }
    }
}

fn encode(pending: &mut [Pending], interned: &[u32], to_vocab: &[u32], max_len: usize) -> EncodedSplit {
    // Reviews with equal (label, id) keep archive order, as the stable sort did before.
    pending.sort_unstable_by_key(|p| (p.label, p.id, p.start));
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
        let dst = &mut out.tokens[row * max_len..row * max_len + p.kept];
        for (d, &t) in dst.iter_mut().zip(&interned[p.start..p.start + p.kept]) {
            *d = to_vocab[t as usize];
        }
    }
    out
}

/// The course tokenizer on ASCII-only text: keep `[A-Za-z0-9]` lowercased, split on
/// whitespace, drop everything else. Tokens come out packed as they are read (no copy,
/// no call per token); `long` holds the bytes of a token over 16 bytes.
#[inline]
fn ascii_tokens(text: &[u8], long: &mut Vec<u8>, mut emit: impl FnMut(Token<'_>)) {
    let (mut lo, mut hi, mut n) = (0u64, 0u64, 0usize);
    for &b in text {
        match ASCII_CLASS[b as usize] {
            KEEP => {
                let c = b.to_ascii_lowercase();
                if n < 8 {
                    lo |= (c as u64) << (8 * n);
                } else if n < 16 {
                    hi |= (c as u64) << (8 * (n - 8));
                } else {
                    if n == 16 {
                        long.clear();
                        long.extend_from_slice(&lo.to_le_bytes());
                        long.extend_from_slice(&hi.to_le_bytes());
                    }
                    long.push(c);
                }
                n += 1;
            }
            SPACE if n > 0 => {
                emit(if n <= 16 { Token::Short(lo, hi) } else { Token::Long(long) });
                (lo, hi, n) = (0, 0, 0);
            }
            _ => {}
        }
    }
    if n > 0 {
        emit(if n <= 16 { Token::Short(lo, hi) } else { Token::Long(long) });
    }
}

/// Encodes free text with a vocabulary, as `predict` needs: ids (truncated as
/// `truncate` says and padded to `max_len`) and the true length.
pub(crate) fn encode_text(text: &str, vocab: &Vocab, max_len: usize, truncate: Truncate) -> (Vec<u32>, u32) {
    let mut ids = Vec::new();
    let mut scratch = String::new();
    for_each_token(text, &mut scratch, |tok| ids.push(vocab.id(tok)));
    let length = u32::try_from(ids.len()).expect("a review has fewer than 2^32 tokens");
    ids.drain(..truncate.first_kept(ids.len(), max_len));
    ids.resize(max_len, Vocab::PAD);
    (ids, length)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::tokenize::tokenize;

    /// A deterministic stream of awkward ASCII text: every class of byte, runs of
    /// letters around the 8- and 16-byte key boundaries, and whitespace of every kind.
    fn awkward_ascii(seed: u64, len: usize) -> Vec<u8> {
        let mut rng = crate::util::Rng::new(seed);
        let pieces: [&[u8]; 12] =
            [b"a", b"Z", b"7", b" ", b"\t\n", b"\x0b\x0c\r", b"\x1c\x1d\x1e\x1f", b"'", b"<br />", b"abcdefgh", b"ABCDEFGHIJKLMNOP", b"\x00\x01\x7f-.,!"];
        let mut out = Vec::with_capacity(len + 16);
        while out.len() < len {
            out.extend_from_slice(pieces[rng.below(pieces.len())]);
        }
        out
    }

    #[test]
    fn the_ascii_fast_path_tokenizes_exactly_like_the_course_tokenizer() {
        let mut long = Vec::new();
        for seed in 0..300 {
            let text = awkward_ascii(seed, (seed as usize % 97) * 7);
            let mut fast = Vec::new();
            ascii_tokens(&text, &mut long, |t| fast.push(t.bytes()));
            let slow: Vec<Vec<u8>> = tokenize(std::str::from_utf8(&text).unwrap()).into_iter().map(String::into_bytes).collect();
            assert_eq!(fast, slow, "{:?}", String::from_utf8_lossy(&text));
        }
        for text in ["", " ", "a", "abcdefghijklmnop", "abcdefghijklmnopq", "x abcdefghijklmnopqrstuvwxyz0123 y"] {
            let mut fast = Vec::new();
            ascii_tokens(text.as_bytes(), &mut long, |t| fast.push(t.bytes()));
            let slow: Vec<Vec<u8>> = tokenize(text).into_iter().map(String::into_bytes).collect();
            assert_eq!(fast, slow, "{text:?}");
            for t in &slow {
                assert_eq!(Token::of(t).bytes(), *t);
            }
        }
    }

    /// Writes to `path` an IMDB-like archive of 40 awkward reviews (some with non-ASCII
    /// or broken UTF-8 text) and returns each review's archive name and text.
    fn write_awkward_archive(path: &Path) -> Vec<(String, Vec<u8>)> {
        let mut reviews: Vec<(String, Vec<u8>)> = Vec::new();
        for i in 0..40u32 {
            let (split, label) = (["train", "test"][(i % 2) as usize], ["pos", "neg"][(i / 2 % 2) as usize]);
            let mut text = awkward_ascii(i as u64, 50 + 13 * i as usize);
            match i % 5 {
                0 => text.extend_from_slice("caf\u{e9} \u{130}stanbul a\u{a0}b 5\u{212a}".as_bytes()),
                1 => text.extend_from_slice(b" broken \xff\xfe utf8 "),
                _ => {}
            }
            let rating = if label == "pos" { 7 + i % 4 } else { 1 + i % 4 };
            reviews.push((format!("aclImdb/{split}/{label}/{}_{rating}.txt", 1000 - i), text));
        }
        {
            let gz = flate2::write::GzEncoder::new(std::fs::File::create(path).unwrap(), flate2::Compression::fast());
            let mut tar = tar::Builder::new(gz);
            for (name, text) in &reviews {
                let mut h = tar::Header::new_gnu();
                h.set_size(text.len() as u64);
                h.set_mode(0o644);
                h.set_cksum();
                tar.append_data(&mut h, name, text.as_slice()).unwrap();
            }
            tar.into_inner().unwrap().finish().unwrap();
        }
        reviews
    }

    #[test]
    fn prepare_matches_a_plain_reimplementation_on_an_archive_with_awkward_reviews() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("imdb.tar.gz");
        let reviews = write_awkward_archive(&path);
        let config = EncodeConfig { vocab_size: 25, max_len: 12, truncate: Truncate::Head };
        let got = prepare(&path, config).unwrap();

        // The pipeline as plainly as it can be written.
        let mut all: Vec<(Split, u8, u32, u8, Vec<String>)> = reviews
            .iter()
            .map(|(name, text)| {
                let (split, label, id, rating) = imdb::parse_review_path(name).unwrap();
                (split, label, id, rating, tokenize(&String::from_utf8_lossy(text)))
            })
            .collect();
        all.sort_by_key(|r| (r.0 == Split::Test, r.1, r.2));
        let mut index: std::collections::HashMap<&str, usize> = Default::default();
        let mut words: Vec<Box<str>> = Vec::new();
        let mut counts = [Vec::new(), Vec::new()];
        for r in &all {
            for t in &r.4 {
                let i = *index.entry(t.as_str()).or_insert_with(|| {
                    words.push(t.as_str().into());
                    counts[0].push(0u64);
                    counts[1].push(0u64);
                    words.len() - 1
                });
                counts[(r.0 == Split::Test) as usize][i] += 1;
            }
        }
        let vocab = Vocab::from_counts(&words, &counts[0], config.vocab_size);
        assert_eq!(got.vocab, vocab);
        assert_eq!(got.stats.train_tokens, counts[0].iter().sum::<u64>());
        assert_eq!(got.stats.test_tokens, counts[1].iter().sum::<u64>());
        assert_eq!(got.stats.train_distinct, counts[0].iter().filter(|&&c| c > 0).count() as u64);
        let unk: u64 = all.iter().filter(|r| r.0 == Split::Test).flat_map(|r| &r.4).filter(|t| vocab.id(t) == Vocab::UNK).count() as u64;
        assert_eq!(got.stats.test_unk_tokens, unk);
        for (split, enc) in [(Split::Train, &got.train), (Split::Test, &got.test)] {
            let rows: Vec<_> = all.iter().filter(|r| r.0 == split).collect();
            assert_eq!(enc.len(), rows.len());
            for (k, r) in rows.iter().enumerate() {
                assert_eq!((enc.labels[k], enc.ids[k], enc.ratings[k]), (r.1, r.2, r.3));
                assert_eq!(enc.lengths[k] as usize, r.4.len());
                let (ids, _) = encode_text(&r.4.join(" "), &vocab, config.max_len, Truncate::Head);
                assert_eq!(&enc.tokens[k * config.max_len..(k + 1) * config.max_len], ids.as_slice());
            }
        }

        // --truncate tail: the same vocabulary and lengths, each row the review's last
        // max_len tokens.
        let tail = prepare(&path, EncodeConfig { truncate: Truncate::Tail, ..config }).unwrap();
        assert_eq!(tail.vocab, vocab);
        let mut long_reviews = 0;
        for (split, enc) in [(Split::Train, &tail.train), (Split::Test, &tail.test)] {
            for (k, r) in all.iter().filter(|r| r.0 == split).enumerate() {
                assert_eq!(enc.lengths[k] as usize, r.4.len());
                let kept = &r.4[r.4.len().saturating_sub(config.max_len)..];
                let mut want: Vec<u32> = kept.iter().map(|t| vocab.id(t)).collect();
                want.resize(config.max_len, Vocab::PAD);
                assert_eq!(&enc.tokens[k * config.max_len..(k + 1) * config.max_len], want.as_slice());
                let (ids, _) = encode_text(&r.4.join(" "), &vocab, config.max_len, Truncate::Tail);
                assert_eq!(ids, want);
                long_reviews += usize::from(r.4.len() > config.max_len);
            }
        }
        assert!(long_reviews > 0, "the fixture must have reviews longer than max_len");
    }
}
