//! The dataset report of `imdb-rnn data`: what a user checks before training.
use super::glove::Coverage;
use super::prepare::{EncodedSplit, Prepared};
use serde::Serialize;

#[derive(Serialize)]
pub(crate) struct DataReport {
    pub archive: String,
    pub origin: super::Origin,
    pub vocab_size: usize,
    pub max_len: usize,
    pub train: SplitReport,
    pub test: SplitReport,
    pub train_tokens: u64,
    pub train_distinct_tokens: u64,
    pub test_tokens: u64,
    /// Share of all test tokens that are outside the vocabulary.
    pub test_unk_share: f64,
    /// The most frequent vocabulary words with their train counts.
    pub top_words: Vec<(String, u64)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub glove: Option<GloveReport>,
}

#[derive(Serialize)]
pub(crate) struct GloveReport {
    pub file: String,
    pub dim: usize,
    #[serde(flatten)]
    pub coverage: Coverage,
    pub coverage_ratio: f64,
}

#[derive(Serialize)]
pub(crate) struct SplitReport {
    pub reviews: usize,
    pub positive: usize,
    pub negative: usize,
    /// Review length in tokens at percentiles 50, 90, 95, 99 and the maximum.
    pub length_p50: u32,
    pub length_p90: u32,
    pub length_p95: u32,
    pub length_p99: u32,
    pub length_max: u32,
    pub length_mean: f64,
    /// Share of reviews longer than max_len (their tail is cut off).
    pub truncated_share: f64,
}

impl SplitReport {
    fn new(split: &EncodedSplit, max_len: usize) -> SplitReport {
        let mut lengths = split.lengths.clone();
        lengths.sort_unstable();
        let pct = |p: f64| -> u32 {
            if lengths.is_empty() {
                return 0;
            }
            // Nearest-rank percentile.
            let rank = ((p / 100.0) * lengths.len() as f64).ceil().max(1.0) as usize;
            lengths[rank.min(lengths.len()) - 1]
        };
        let n = split.len().max(1) as f64;
        SplitReport {
            reviews: split.len(),
            positive: split.positives(),
            negative: split.len() - split.positives(),
            length_p50: pct(50.0),
            length_p90: pct(90.0),
            length_p95: pct(95.0),
            length_p99: pct(99.0),
            length_max: lengths.last().copied().unwrap_or(0),
            length_mean: lengths.iter().map(|&l| l as f64).sum::<f64>() / n,
            truncated_share: split.lengths.iter().filter(|&&l| l as usize > max_len).count() as f64 / n,
        }
    }
}

impl DataReport {
    pub(crate) fn new(archive: &str, origin: super::Origin, data: &Prepared, top_k: usize) -> DataReport {
        let v = &data.vocab;
        let top_words = v.words().iter().zip(v.counts()).skip(super::vocab::Vocab::SPECIALS).take(top_k).map(|(w, &c)| (w.clone(), c)).collect();
        DataReport {
            archive: archive.into(),
            origin,
            vocab_size: v.len(),
            max_len: data.config.max_len,
            train: SplitReport::new(&data.train, data.config.max_len),
            test: SplitReport::new(&data.test, data.config.max_len),
            train_tokens: data.stats.train_tokens,
            train_distinct_tokens: data.stats.train_distinct,
            test_tokens: data.stats.test_tokens,
            test_unk_share: data.stats.test_unk_tokens as f64 / data.stats.test_tokens.max(1) as f64,
            top_words,
            glove: None,
        }
    }

    /// Human-readable text.
    pub(crate) fn render(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(s, "archive        {} (from {:?})", self.archive, self.origin);
        let _ = writeln!(s, "vocabulary     {} ids (<pad>=0, <unk>=1, then the most frequent train words), max length {}", self.vocab_size, self.max_len);
        let _ = writeln!(
            s,
            "\n{:<6} {:>8} {:>8} {:>8} {:>6} {:>6} {:>6} {:>6} {:>6} {:>8} {:>10}",
            "split", "reviews", "pos", "neg", "p50", "p90", "p95", "p99", "max", "mean", "truncated"
        );
        for (name, r) in [("train", &self.train), ("test", &self.test)] {
            let _ = writeln!(
                s,
                "{:<6} {:>8} {:>8} {:>8} {:>6} {:>6} {:>6} {:>6} {:>6} {:>8.1} {:>9.1}%",
                name,
                r.reviews,
                r.positive,
                r.negative,
                r.length_p50,
                r.length_p90,
                r.length_p95,
                r.length_p99,
                r.length_max,
                r.length_mean,
                100.0 * r.truncated_share
            );
        }
        let _ = writeln!(s, "\ntrain tokens   {} ({} distinct)", self.train_tokens, self.train_distinct_tokens);
        let _ = writeln!(s, "test tokens    {} ({:.2}% are <unk>)", self.test_tokens, 100.0 * self.test_unk_share);
        let words: Vec<String> = self.top_words.iter().map(|(w, c)| format!("{w} ({c})")).collect();
        let _ = writeln!(s, "top words      {}", words.join(", "));
        if let Some(g) = &self.glove {
            let _ = writeln!(
                s,
                "glove          {} ({} words, dim {}): {} of {} vocabulary words found ({:.1}%); most frequent missing: {}",
                g.file,
                g.coverage.file_words,
                g.dim,
                g.coverage.found,
                g.coverage.words,
                100.0 * g.coverage_ratio,
                g.coverage.top_missing.join(", ")
            );
        }
        s
    }
}
