//! A trained run put to use: its vocabulary and weights loaded from the run directory,
//! reviews classified, its test split scored (the metrics are [`crate::report::eval`]'s).
pub(crate) mod ensemble;
pub(crate) mod explain;
pub(crate) mod explain_view;
pub(crate) mod export;

use crate::data::prepare::{encode_text, EncodedSplit};
use crate::data::vocab::Vocab;
use crate::model::Classifier;
pub(crate) use crate::report::eval::TestScores;
use crate::train::batches::Batch;
use crate::train::config::parse_device;
use crate::train::run::{RunDir, RunRecord};
use anyhow::{Context, Result};
use serde::Serialize;
use std::io::BufRead;
use std::path::Path;
use tch::Tensor;

/// A run's configuration, vocabulary and model, and which weights file was loaded.
pub(crate) struct LoadedRun {
    pub record: RunRecord,
    pub vocab: Vocab,
    pub model: Classifier,
    /// `model.ot`, `best.ot`, or `checkpoint.ot` for a run that has not finished.
    pub weights: String,
}

/// Loads a run's vocabulary and model (final weights, or best.ot). A run without
/// model.ot (not finished) uses its last checkpoint, and says so on stderr.
pub(crate) fn load_run(dir: &Path, device: &str, best: bool) -> Result<LoadedRun> {
    let paths = RunDir::new(dir);
    let record = paths.read_config()?;
    let vocab: Vocab = serde_json::from_slice(&std::fs::read(paths.vocab()).with_context(|| format!("cannot read {}", paths.vocab().display()))?)
        .with_context(|| format!("{} is corrupt", paths.vocab().display()))?;
    let vocab = vocab.reindex();
    let device = parse_device(device)?;
    let weights = if best { paths.best() } else { paths.model() };
    if best && !weights.exists() {
        anyhow::bail!(
            "{} has no best.ot: it is written only by a run with a validation split (--val-frac); leave out --best to use the final weights",
            dir.display()
        );
    }
    let weights = if weights.exists() || best { weights } else { paths.checkpoint() };
    let mut model = Classifier::new(&record.config.model, device, None)?;
    if weights == paths.checkpoint() {
        if !weights.exists() {
            anyhow::bail!("{} has no trained weights yet (no model.ot or checkpoint.ot): train it first, or finish it with --resume", dir.display());
        }
        crate::errln!("imdb-rnn: warning: {} has no model.ot (the run has not finished); using its last checkpoint.ot", dir.display());
        let saved: std::collections::HashMap<String, Tensor> =
            Tensor::load_multi_with_device(&weights, device).map_err(|e| crate::util::torch_error(e, &weights))?.into_iter().collect();
        model.copy_from(&saved, "model.", &weights)?;
    } else {
        model.load(&weights)?;
    }
    let weights = weights.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(LoadedRun { record, vocab, model, weights })
}

/// Where to read a run's test reviews again: `source` as given, its IMDB archive the
/// one the run recorded unless `--imdb` names another; quiet, as scoring prints no progress.
pub(crate) fn recorded_source(dir: &Path, record: &RunRecord, source: &crate::data::source::DataSource) -> Result<crate::data::source::DataSource> {
    let mut source = source.clone();
    if source.imdb.is_none() {
        source.imdb = recorded_data(dir, record, "imdb")?;
    }
    source.quiet = true;
    Ok(source)
}

/// The `--imdb` (`role` `imdb`) or `--glove` (`glove`) value a run recorded, for a
/// command that reads the run's data again without the flag; refused in one line, naming
/// the run and the flag, when it is a file that is no longer where it was.
pub(crate) fn recorded_data(dir: &Path, record: &RunRecord, role: &str) -> Result<Option<String>> {
    let (value, flag, what) = match role {
        "imdb" => (Some(record.archive.as_str()), "--imdb", "IMDB archive"),
        _ => (record.config.glove.as_deref(), "--glove", "GloVe file"),
    };
    let Some(value) = value.filter(|v| !v.is_empty()) else { return Ok(None) };
    if !matches!(crate::fetch::Source::parse(value), crate::fetch::Source::Path(p) if !p.exists()) {
        return Ok(Some(value.to_string()));
    }
    let file = record.data_file(role);
    let size = file.and_then(|f| f.bytes).map(|b| format!(", {b} bytes")).unwrap_or_default();
    let official = file.and_then(|f| f.official.as_deref()).map(|n| format!(" (or {flag} {n}, the official file it was)")).unwrap_or_default();
    anyhow::bail!("run {} recorded its {what} as {value}{size}, which is not there; pass the file with {flag} PATH{official}", dir.display())
}

/// The one warning for the reviews without words (empty or punctuation only), by their
/// 1-based number in the input; `None` when there are none.
pub(crate) fn no_words_warning(numbers: &[usize]) -> Option<String> {
    const SHOWN: usize = 5;
    let (first, rest) = numbers.split_at(numbers.len().min(SHOWN));
    let list = first.iter().map(usize::to_string).collect::<Vec<_>>().join(", ");
    let more = if rest.is_empty() { String::new() } else { format!(" and {} more", rest.len()) };
    let (noun, verb) = if numbers.len() == 1 { ("review", "has") } else { ("reviews", "have") };
    (!numbers.is_empty()).then(|| {
        format!(
            "imdb-rnn: warning: {} {noun} {verb} no words (empty or punctuation only): {list}{more}; their probability reflects the model, not the review",
            numbers.len()
        )
    })
}

/// Reviews, one per line of `input`. A line that is not valid UTF-8 is decoded with
/// its bad bytes replaced (and named on stderr) instead of rejecting the whole input.
pub(crate) fn read_review_lines(input: impl BufRead) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for (i, line) in input.split(b'\n').enumerate() {
        let mut line = line.context("cannot read stdin")?;
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        let text = match String::from_utf8(line) {
            Ok(text) => text,
            Err(e) => {
                crate::errln!("imdb-rnn: warning: stdin line {} is not valid UTF-8; its undecodable bytes were replaced by U+FFFD", i + 1);
                String::from_utf8_lossy(e.as_bytes()).into_owned()
            }
        };
        out.push(text);
    }
    Ok(out)
}

/// One review classified, as `predict --json` prints it.
#[derive(Serialize)]
pub(crate) struct Prediction<'a> {
    pub text: &'a str,
    pub probability_positive: f64,
    /// The model's output before the sigmoid; absent for an ensemble, whose probability
    /// is the mean of its members'.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logit: Option<f64>,
    pub label: &'static str,
    /// Words of the review found by the tokenizer (before truncation).
    pub tokens: u32,
}

impl<'a> Prediction<'a> {
    /// Labelled positive above probability 0.5.
    pub(crate) fn new(text: &'a str, probability_positive: f64, logit: Option<f64>, tokens: u32) -> Prediction<'a> {
        let label = if probability_positive > 0.5 { "positive" } else { "negative" };
        Prediction { text, probability_positive, logit, label, tokens }
    }
}

/// Reviews classified per call: bounds the memory of one forward pass however long stdin is.
pub(crate) const CLASSIFY_CHUNK: usize = 256;

/// Classifies `texts` with the run's own encoding; a review without words gets
/// `tokens` 0 (its probability reflects the model, not the review).
pub(crate) fn classify<'t>(run: &LoadedRun, texts: &'t [String]) -> Result<Vec<Prediction<'t>>> {
    let LoadedRun { record, vocab, model, .. } = run;
    let max_len = record.config.encode.max_len;
    let _guard = tch::no_grad_guard();
    let mut ids = Vec::with_capacity(texts.len() * max_len);
    let mut lengths = Vec::with_capacity(texts.len());
    for t in texts {
        let (row, len) = encode_text(t, vocab, max_len, record.config.encode.truncate);
        ids.extend(row.into_iter().map(|i| i as i64));
        lengths.push(len as i64);
    }
    let batch = Batch::upload(&ids, max_len, &lengths, &[], model.device);
    let logits = model.forward(&batch.tokens, &batch.lengths, false);
    let probs: Vec<f32> = Vec::<f32>::try_from(logits.sigmoid().to_device(tch::Device::Cpu))?;
    let logits: Vec<f32> = Vec::<f32>::try_from(logits.to_device(tch::Device::Cpu))?;
    Ok(texts
        .iter()
        .zip(probs.into_iter().zip(logits))
        .zip(&lengths)
        .map(|((text, (p, logit)), len)| Prediction::new(text, p as f64, Some(logit as f64), *len as u32))
        .collect())
}

/// `split` (encoded with the run's own encoding) scored by the run's model: loss,
/// accuracy, and P(positive) of each review, with the split's labels and lengths.
fn score_split(run: &LoadedRun, split: &EncodedSplit) -> Result<TestScores> {
    let test = crate::train::SplitTensors::new(split, run.record.config.encode.max_len, run.model.device);
    let crate::train::Evaluation { loss, acc, probs } = crate::train::evaluate(&run.model, &test, true);
    let probs: Vec<f32> = Vec::<f32>::try_from(probs.expect("asked for").to_device(tch::Device::Cpu))?;
    Ok(TestScores { loss, accuracy: acc, probs, labels: split.labels.clone(), lengths: split.lengths.clone() })
}
