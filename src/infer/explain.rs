//! Which words of a review moved a trained run's prediction: integrated gradients on the
//! embedding output (occlusion as a cross-check), one attribution per token read.
use super::LoadedRun;
use crate::data::imdb::{read_reviews, Split};
use crate::data::prepare::{Prepared, Truncate};
use crate::data::tokenize::for_each_token;
use crate::data::vocab::Vocab;
use crate::model::{Classifier, Readout};
use anyhow::{bail, Result};
use serde::Serialize;
use std::path::Path;
use tch::{Device, Kind, Tensor};

/// Integrated-gradients steps tried first when `--steps` is not given; doubled until
/// the attributions sum to f(x) - f(baseline) within 1%, up to [`MAX_AUTO_STEPS`].
/// Enough at once for the `final`, `last` and `mean` readouts where measured
/// (BENCHMARKS.md, "explain"); the `max` readouts, whose gradient jumps where the
/// maximum changes hands, sometimes need more.
pub(crate) const DEFAULT_STEPS: usize = 32;

/// The most steps the automatic doubling goes to.
pub(crate) const MAX_AUTO_STEPS: usize = 1024;

/// Completeness errors above this are warned about.
pub(crate) const COMPLETENESS_TOLERANCE: f64 = 0.01;

/// Interpolation steps (or occluded reviews) run through the model per call: bounds the
/// memory of one forward/backward pass however many steps are asked for.
const BATCH: usize = 64;

/// How attributions are computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Method {
    /// Integrated gradients on the embedding output: each token gets the sum over its
    /// embedding dimensions of (x - baseline) times the gradient averaged along the
    /// straight path from the baseline to x (midpoint rule).
    IntegratedGradients,
    /// Each token in turn replaced by `<pad>` (the review keeps its length): its
    /// attribution is f(review) - f(review with that token padded).
    Occlusion,
}

/// The input integrated gradients start from, at every position.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Baseline {
    /// `pad` for the `final` readout, `zeros` for the others.
    Auto,
    /// The `<pad>` embedding, so the baseline is an all-padding review of the same length
    /// (and the pads the `final` readout reads get no attribution). Only the `final`
    /// readout reads pads in training: the others leave `<pad>` at its random init.
    Pad,
    /// The zero vector.
    Zeros,
}

impl Baseline {
    /// `Auto` made `Pad` or `Zeros` for `readout`: `<pad>` is a learned "nothing here"
    /// only where training read it.
    pub(crate) fn resolve(self, readout: Readout) -> Baseline {
        match (self, readout) {
            (Baseline::Auto, Readout::Final) => Baseline::Pad,
            (Baseline::Auto, _) => Baseline::Zeros,
            (chosen, _) => chosen,
        }
    }
}

/// What to compute: the method, its steps and its baseline.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ExplainOptions {
    pub method: Method,
    /// Integrated-gradients steps; `None`: [`DEFAULT_STEPS`], doubled until complete
    /// within 1% (at most [`MAX_AUTO_STEPS`]). Ignored by occlusion.
    pub steps: Option<usize>,
    pub baseline: Baseline,
}

impl Default for ExplainOptions {
    fn default() -> Self {
        ExplainOptions { method: Method::IntegratedGradients, steps: None, baseline: Baseline::Auto }
    }
}

/// One token of a review and its share of the prediction.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct TokenAttribution {
    /// The word as the tokenizer reads it (lowercase letters and digits).
    pub token: String,
    /// Its vocabulary id (1 for `<unk>`).
    pub id: u32,
    /// Whether the word is out of the run's vocabulary (the model read `<unk>`).
    pub unk: bool,
    /// Whether the model read it: false past `--max-len` (before it with `--truncate tail`).
    pub read: bool,
    /// Logit units for the predicted class: positive for, negative against; `None`
    /// when not read.
    pub attribution: Option<f64>,
}

/// A review explained: the prediction, the attributions, and how well they add up.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Explanation {
    pub label: &'static str,
    pub probability_positive: f64,
    /// The model's logit for "positive".
    pub logit: f64,
    pub method: Method,
    /// Integrated-gradients steps (`None` for occlusion).
    pub steps: Option<usize>,
    /// `None` for occlusion.
    pub baseline: Option<Baseline>,
    /// f: the logit of the predicted class (the positive logit, negated for a negative
    /// prediction), at the review.
    pub f_input: f64,
    /// f at the baseline (integrated gradients only).
    pub f_baseline: Option<f64>,
    /// The sum of every attribution, the pads' included.
    pub attribution_sum: f64,
    /// The part of that sum on the pads the `final` readout reads (0 with the `<pad>`
    /// baseline, and for the other readouts, which read no pads).
    pub pad_attribution: f64,
    /// |attribution_sum - (f_input - f_baseline)| / max(|f_input - f_baseline|, 0.01)
    /// (integrated gradients only); more steps make it smaller.
    pub completeness_error: Option<f64>,
    pub max_len: usize,
    pub truncate: Truncate,
    /// Every token of the review, in order, read or not.
    pub tokens: Vec<TokenAttribution>,
}

impl Explanation {
    /// Integrated gradients whose attributions do not add up within 1%.
    pub(crate) fn incomplete(&self) -> bool {
        self.completeness_error.is_some_and(|e| e > COMPLETENESS_TOLERANCE)
    }
}

/// Explains `text` with a loaded run, encoded as the run encodes reviews.
pub(crate) fn explain(run: &LoadedRun, text: &str, options: &ExplainOptions) -> Result<Explanation> {
    let mut words = Vec::new();
    let mut scratch = String::new();
    for_each_token(text, &mut scratch, |w| words.push(w.to_string()));
    let ids: Vec<u32> = words.iter().map(|w| run.vocab.id(w)).collect();
    explanation(run, words, ids, options)
}

/// Explains a review the run's vocabulary already encoded (`ids`, as a split of its
/// prepared data holds them: the tokens read, no padding), each token shown as the
/// vocabulary spells it (`<unk>` for the words it does not hold).
pub(crate) fn explain_encoded(run: &LoadedRun, ids: &[u32], options: &ExplainOptions) -> Result<Explanation> {
    let words = ids.iter().map(|&i| run.vocab.words().get(i as usize).cloned().unwrap_or_else(|| "<unk>".into())).collect();
    explanation(run, words, ids.to_vec(), options)
}

/// The explanation of a tokenized review (`words`, with their vocabulary `ids`).
fn explanation(run: &LoadedRun, words: Vec<String>, ids: Vec<u32>, options: &ExplainOptions) -> Result<Explanation> {
    if options.steps == Some(0) {
        bail!("integrated gradients need at least one step");
    }
    let encode = run.record.config.encode;
    let first = encode.truncate.first_kept(words.len(), encode.max_len);
    let read = first..first + words.len().min(encode.max_len);
    let read_ids: Vec<i64> = ids[read.clone()].iter().map(|&i| i as i64).collect();
    let a = attribute(&run.model, &read_ids, encode.max_len, options)?;
    let tokens = words
        .into_iter()
        .zip(ids)
        .enumerate()
        .map(|(i, (token, id))| {
            let attribution = read.contains(&i).then(|| a.per_token[i - read.start]);
            TokenAttribution { token, id, unk: id == Vocab::UNK, read: attribution.is_some(), attribution }
        })
        .collect();
    let logit = a.logit;
    Ok(Explanation {
        label: if logit > 0.0 { "positive" } else { "negative" },
        probability_positive: 1.0 / (1.0 + (-logit).exp()),
        logit,
        method: options.method,
        steps: a.steps,
        baseline: (options.method == Method::IntegratedGradients).then_some(options.baseline.resolve(run.model.config.readout)),
        f_input: a.f_input,
        f_baseline: a.f_baseline,
        attribution_sum: a.per_token.iter().sum::<f64>() + a.pad_attribution,
        pad_attribution: a.pad_attribution,
        completeness_error: a.completeness_error(),
        max_len: encode.max_len,
        truncate: encode.truncate,
        tokens,
    })
}

/// What [`attribute`] measured on one encoded review.
#[derive(Clone, Debug)]
pub(crate) struct Attribution {
    /// The positive logit at the review.
    pub logit: f64,
    /// f (the predicted class's logit) at the review and at the baseline.
    pub f_input: f64,
    /// Integrated-gradients steps used.
    pub steps: Option<usize>,
    pub f_baseline: Option<f64>,
    /// One per token read.
    pub per_token: Vec<f64>,
    /// The pads' share (the `final` readout reads up to max-len).
    pub pad_attribution: f64,
}

impl Attribution {
    /// How far the attributions are from adding up to f(x) - f(baseline), relative to
    /// it (to 0.01 logit when it is smaller); `None` without a baseline.
    pub(crate) fn completeness_error(&self) -> Option<f64> {
        let delta = self.f_input - self.f_baseline?;
        let sum = self.per_token.iter().sum::<f64>() + self.pad_attribution;
        Some((sum - delta).abs() / delta.abs().max(0.01))
    }
}

/// Attributes the prediction on `ids` (the tokens read, at most `max_len`) to each of
/// them. The model sees them as in training: padded to `max_len` for the `final`
/// readout (which reads the pads), unpadded for the length-aware ones (whose outputs
/// at real positions do not depend on pads).
pub(crate) fn attribute(model: &Classifier, ids: &[i64], max_len: usize, options: &ExplainOptions) -> Result<Attribution> {
    let read = ids.len();
    let width = if model.config.readout == Readout::Final { max_len.max(read) } else { read.max(1) };
    let mut padded = ids.to_vec();
    padded.resize(width, Vocab::PAD as i64);
    let tokens = Tensor::from_slice(&padded).view([1, width as i64]).to_device(model.device);
    let length = Tensor::from_slice(&[read as i64]).to_device(model.device);
    let x = tch::no_grad(|| model.embed(&tokens).detach());
    let logit = tch::no_grad(|| model.head(&x, &length, false)).double_value(&[0]);
    let sign = if logit > 0.0 { 1.0 } else { -1.0 };
    let per_position = match options.method {
        Method::IntegratedGradients => {
            let baseline = match options.baseline.resolve(model.config.readout) {
                Baseline::Pad => tch::no_grad(|| model.embed(&Tensor::zeros_like(&tokens))),
                _ => x.zeros_like(),
            };
            let f_baseline = sign * tch::no_grad(|| model.head(&baseline, &length, false)).double_value(&[0]);
            let mut steps = options.steps.unwrap_or(DEFAULT_STEPS);
            loop {
                let per_position = integrated_gradients(model, &x, &baseline, &length, sign, steps)?;
                let a = split_pads(logit, sign * logit, Some(f_baseline), Some(steps), per_position, read);
                let complete = a.completeness_error().is_some_and(|e| e <= COMPLETENESS_TOLERANCE);
                if options.steps.is_some() || complete || steps * 2 > MAX_AUTO_STEPS {
                    return Ok(a);
                }
                steps *= 2;
            }
        }
        Method::Occlusion => occlusion(model, &tokens, &length, read, sign),
    }?;
    Ok(split_pads(logit, sign * logit, None, None, per_position, read))
}

fn split_pads(logit: f64, f_input: f64, f_baseline: Option<f64>, steps: Option<usize>, mut per_position: Vec<f64>, read: usize) -> Attribution {
    let pad_attribution = per_position.drain(read.min(per_position.len())..).sum();
    Attribution { logit, f_input, steps, f_baseline, per_token: per_position, pad_attribution }
}

/// Per position of `x: [1, T, E]`: sum over E of (x - baseline) * the mean gradient of
/// `sign * logit` at the midpoints `baseline + (k + 1/2)/steps (x - baseline)`.
fn integrated_gradients(model: &Classifier, x: &Tensor, baseline: &Tensor, length: &Tensor, sign: f64, steps: usize) -> Result<Vec<f64>> {
    let diff = x - baseline;
    let mut total = diff.zeros_like().squeeze_dim(0);
    // cuDNN's RNN backward runs only in training mode; the native kernels have no such limit.
    let cudnn_off = CudnnOff::on(model.device);
    for start in (0..steps).step_by(BATCH) {
        let n = BATCH.min(steps - start) as i64;
        let alphas = (Tensor::arange_start(start as i64, start as i64 + n, (Kind::Float, model.device)) + 0.5) / steps as f64;
        let path = (baseline + alphas.view([n, 1, 1]) * &diff).detach().set_requires_grad(true);
        let logits = model.head(&path, &length.expand([n], false), false);
        let grads = Tensor::f_run_backward(&[logits.sum(Kind::Float) * sign], &[&path], false, false)?;
        total += grads[0].sum_dim_intlist(0, false, Kind::Float);
    }
    drop(cudnn_off);
    let per_position = (total / steps as f64 * diff.squeeze_dim(0)).sum_dim_intlist(1, false, Kind::Double);
    Ok(Vec::<f64>::try_from(per_position.to_device(Device::Cpu))?)
}

/// Per token read: f(review) - f(review with that token replaced by `<pad>`), where f
/// is `sign` times the logit.
fn occlusion(model: &Classifier, tokens: &Tensor, length: &Tensor, read: usize, sign: f64) -> Result<Vec<f64>> {
    let _guard = tch::no_grad_guard();
    let f_input = sign * model.forward(tokens, length, false).double_value(&[0]);
    let mut out = Vec::with_capacity(read);
    for start in (0..read).step_by(BATCH) {
        let n = BATCH.min(read - start) as i64;
        let positions = Tensor::arange_start(start as i64, start as i64 + n, (Kind::Int64, model.device));
        let mut occluded = tokens.repeat([n, 1]);
        let _ = occluded.scatter_(1, &positions.view([n, 1]), &Tensor::zeros([n, 1], (Kind::Int64, model.device)));
        let logits = model.forward(&occluded, &length.expand([n], false), false);
        out.extend(Vec::<f64>::try_from((logits.to_kind(Kind::Double) * sign).to_device(Device::Cpu))?.into_iter().map(|f| f_input - f));
    }
    Ok(out)
}

/// cuDNN disabled while it lives, on a CUDA device (restored on drop).
struct CudnnOff(bool);

impl CudnnOff {
    fn on(device: Device) -> CudnnOff {
        let off = device.is_cuda();
        if off {
            tch::Cuda::set_user_enabled_cudnn(false);
        }
        CudnnOff(off)
    }
}

impl Drop for CudnnOff {
    fn drop(&mut self) {
        if self.0 {
            tch::Cuda::set_user_enabled_cudnn(true);
        }
    }
}

/// A review of a run's test split, as `eval` scores it (the run's own `--subset`).
pub(crate) struct TestReview {
    /// 1 positive, 0 negative.
    pub label: u8,
    pub text: String,
}

/// Review `index` (0-based) of the run's test split, its text read again from `archive`.
pub(crate) fn test_review(run: &LoadedRun, data: &Prepared, archive: &Path, index: usize) -> Result<TestReview> {
    let test = crate::train::select_data(&run.record.config, data).test;
    if index >= test.len() {
        bail!("--test-index {index}: the run's test split has {} reviews (0 to {}); choose one of them", test.len(), test.len().saturating_sub(1));
    }
    let (label, id) = (test.labels[index], test.ids[index]);
    let mut text = None;
    read_reviews(archive, |r, body| {
        if r.split == Split::Test && r.label == label && r.id == id {
            let mut bytes = Vec::new();
            body.read_to_end(&mut bytes)?;
            text = Some(String::from_utf8_lossy(&bytes).into_owned());
        }
        Ok(())
    })?;
    let Some(text) = text else {
        bail!("{} no longer holds test review {id} (label {label}); pass the archive the run trained on with --imdb", archive.display())
    };
    Ok(TestReview { label, text })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::recurrent::{Cell, Nonlinearity, RecurrentConfig};
    use crate::model::{EmbeddingMode, ModelConfig};

    fn model(cell: Cell, readout: Readout, bidirectional: bool) -> Classifier {
        tch::manual_seed(11);
        let recurrent = RecurrentConfig { cell, nonlinearity: Nonlinearity::Tanh, input_size: 8, hidden_size: 12, num_layers: 2, bidirectional, dropout: 0.0 };
        let config = ModelConfig { vocab_size: 50, embedding: EmbeddingMode::Random, recurrent, readout, emb_dropout: 0.0, fc_dropout: 0.0 };
        let m = Classifier::new(&config, Device::Cpu, None).unwrap();
        // A logit of a few units, as a trained model gives, instead of the init's ~0.1, and
        // inputs that do not saturate the cells (which then forget all but the last steps).
        tch::no_grad(|| {
            let _ = m.fc_weight.shallow_clone().g_mul_scalar_(8.0);
            let _ = m.embedding.shallow_clone().g_mul_scalar_(0.5);
        });
        m
    }

    fn review() -> Vec<i64> {
        (0..30).map(|i| (i * 7 % 48 + 2) as i64).collect()
    }

    #[test]
    fn integrated_gradients_add_up_to_the_logit_change_for_every_cell_readout_and_direction() {
        let mut failures = Vec::new();
        let mut sizable = 0;
        for cell in [Cell::Rnn, Cell::Lstm, Cell::Gru] {
            for readout in [Readout::Final, Readout::Last, Readout::Mean, Readout::Max, Readout::MeanMax] {
                for bidirectional in [false, true] {
                    for baseline in [Baseline::Pad, Baseline::Zeros] {
                        let m = model(cell, readout, bidirectional);
                        let options = ExplainOptions { baseline, ..ExplainOptions::default() };
                        // Two pads after the review, which the `final` readout reads.
                        let a = attribute(&m, &review(), 32, &options).unwrap();
                        let delta = a.f_input - a.f_baseline.unwrap();
                        let error = a.completeness_error().unwrap();
                        eprintln!("{cell:?} {readout:?} bi={bidirectional} {baseline:?}: delta {delta:+.3} error {error:.5} steps {:?}", a.steps);
                        if error > COMPLETENESS_TOLERANCE {
                            failures.push(format!("{cell:?} {readout:?} bi={bidirectional} {baseline:?}: error {error} (delta {delta})"));
                        }
                        sizable += usize::from(delta.abs() > 0.05);
                        assert_eq!(a.per_token.len(), 30);
                    }
                }
            }
        }
        assert!(failures.is_empty(), "completeness off by more than 1%:\n{}", failures.join("\n"));
        // Errors are relative to |delta| (0.01 at least): most deltas must be sizable.
        assert!(sizable >= 45, "only {sizable} of 60 logit changes above 0.05");
    }

    #[test]
    fn with_the_pad_baseline_the_pads_the_final_readout_reads_get_nothing() {
        let m = model(Cell::Lstm, Readout::Final, false);
        let a = attribute(&m, &review(), 40, &ExplainOptions::default()).unwrap();
        assert_eq!(a.pad_attribution, 0.0);
        let zeros = attribute(&m, &review(), 40, &ExplainOptions { baseline: Baseline::Zeros, ..ExplainOptions::default() }).unwrap();
        assert_ne!(zeros.pad_attribution, 0.0);
    }

    #[test]
    fn occlusion_measures_the_change_when_one_token_becomes_pad() {
        let m = model(Cell::Gru, Readout::Mean, true);
        let ids = review();
        let a = attribute(&m, &ids, 40, &ExplainOptions { method: Method::Occlusion, ..ExplainOptions::default() }).unwrap();
        let mut occluded = ids.clone();
        occluded[4] = 0;
        let f = |ids: &[i64]| {
            let tokens = Tensor::from_slice(ids).view([1, -1]);
            a.logit.signum() * tch::no_grad(|| m.forward(&tokens, &Tensor::from_slice(&[30i64]), false)).double_value(&[0])
        };
        assert!((a.per_token[4] - (f(&ids) - f(&occluded))).abs() < 1e-5, "{} vs {}", a.per_token[4], f(&ids) - f(&occluded));
        assert!(a.f_baseline.is_none() && a.completeness_error().is_none());
    }

    #[test]
    fn a_review_without_words_is_explained_by_nothing() {
        let m = model(Cell::Rnn, Readout::Last, false);
        let a = attribute(&m, &[], 40, &ExplainOptions::default()).unwrap();
        assert!(a.per_token.is_empty());
    }
}
