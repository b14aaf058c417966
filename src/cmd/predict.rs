//! `imdb-rnn eval` and `imdb-rnn predict`: use a trained run directory.
use crate::cli::{EvalArgs, PredictArgs};
use crate::data::prepare::encode_text;
use crate::data::vocab::Vocab;
use crate::model::Classifier;
use crate::train::batches::Batch;
use crate::train::config::parse_device;
use crate::train::run::RunDir;
use anyhow::{Context, Result};
use serde::Serialize;
use std::io::BufRead;
use std::path::Path;
use tch::Tensor;

/// A run's configuration, vocabulary and model, and which weights file was loaded.
pub struct LoadedRun {
    pub record: super::train::RunRecord,
    pub vocab: Vocab,
    pub model: Classifier,
    /// `model.ot`, `best.ot`, or `checkpoint.ot` for a run that has not finished.
    pub weights: String,
}

/// Loads a run's vocabulary and model (final weights, or best.ot). A run without
/// model.ot (not finished) uses its last checkpoint, and says so on stderr.
pub fn load_run(dir: &Path, device: &str, best: bool) -> Result<LoadedRun> {
    let paths = RunDir::new(dir);
    let record = paths.read_config()?;
    let vocab: Vocab = serde_json::from_slice(&std::fs::read(paths.vocab()).with_context(|| format!("cannot read {}", paths.vocab().display()))?)
        .with_context(|| format!("{} is corrupt", paths.vocab().display()))?;
    let vocab = vocab.reindex();
    let device = parse_device(device)?;
    let weights = if best { paths.best() } else { paths.model() };
    let weights = if weights.exists() || best { weights } else { paths.checkpoint() };
    let mut model = Classifier::new(&record.config.model, device, None)?;
    if weights == paths.checkpoint() {
        if !weights.exists() {
            anyhow::bail!("{} has no trained weights yet (no model.ot or checkpoint.ot): train it first, or finish it with --resume", dir.display());
        }
        eprintln!("imdb-rnn: warning: {} has no model.ot (the run has not finished); using its last checkpoint.ot", dir.display());
        let saved: std::collections::HashMap<String, Tensor> =
            Tensor::load_multi_with_device(&weights, device).map_err(|e| crate::util::torch_error(e, &weights))?.into_iter().collect();
        model.copy_from(&saved, "model.", &weights)?;
    } else {
        model.load(&weights)?;
    }
    let weights = weights.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(LoadedRun { record, vocab, model, weights })
}

/// Reviews, one per line of `input`. A line that is not valid UTF-8 is decoded with
/// its bad bytes replaced (and named on stderr) instead of rejecting the whole input.
fn read_review_lines(input: impl BufRead) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for (i, line) in input.split(b'\n').enumerate() {
        let mut line = line.context("cannot read stdin")?;
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        let text = match String::from_utf8(line) {
            Ok(text) => text,
            Err(e) => {
                eprintln!("imdb-rnn: warning: stdin line {} is not valid UTF-8; its undecodable bytes were replaced by U+FFFD", i + 1);
                String::from_utf8_lossy(e.as_bytes()).into_owned()
            }
        };
        out.push(text);
    }
    Ok(out)
}

#[derive(Serialize)]
struct Prediction<'a> {
    text: &'a str,
    probability_positive: f64,
    label: &'static str,
    tokens: u32,
}

pub fn predict(args: &PredictArgs) -> Result<()> {
    let LoadedRun { record, vocab, model, .. } = load_run(&args.run, &args.device, false)?;
    let max_len = record.config.encode.max_len;
    let texts: Vec<String> = if args.texts.is_empty() { read_review_lines(std::io::stdin().lock())? } else { args.texts.clone() };
    let _guard = tch::no_grad_guard();
    for (done, chunk) in texts.chunks(256).enumerate().map(|(c, chunk)| (c * 256, chunk)) {
        let mut ids = Vec::with_capacity(chunk.len() * max_len);
        let mut lengths = Vec::with_capacity(chunk.len());
        for (i, t) in chunk.iter().enumerate() {
            let (row, len) = encode_text(t, &vocab, max_len, record.config.encode.truncate);
            if len == 0 {
                eprintln!(
                    "imdb-rnn: warning: review {} has no words (empty or punctuation only); its probability reflects the model, not the review",
                    done + i + 1
                );
            }
            ids.extend(row.into_iter().map(|i| i as i64));
            lengths.push(len as i64);
        }
        let batch = Batch::upload(&ids, max_len, &lengths, &[], model.device);
        let probs: Vec<f32> = Vec::<f32>::try_from(model.forward(&batch.tokens, &batch.lengths, false).sigmoid().to_device(tch::Device::Cpu))?;
        for ((t, p), len) in chunk.iter().zip(probs).zip(&lengths) {
            let label = if p > 0.5 { "positive" } else { "negative" };
            if args.json {
                let row = Prediction { text: t, probability_positive: p as f64, label, tokens: *len as u32 };
                crate::outln!("{}", serde_json::to_string(&row)?);
            } else {
                crate::outln!("{p:.4}\t{label}\t{}", t.chars().take(70).collect::<String>());
            }
        }
    }
    Ok(())
}

#[derive(Serialize)]
pub struct EvalReport {
    pub run: String,
    pub weights: String,
    pub reviews: usize,
    pub accuracy: f64,
    pub loss: f64,
    /// `[[true negatives, false positives], [false negatives, true positives]]`.
    pub confusion: [[usize; 2]; 2],
    pub by_length: Vec<LengthBucket>,
}

#[derive(Serialize)]
pub struct LengthBucket {
    pub bucket: String,
    pub reviews: usize,
    pub accuracy: f64,
}

pub fn eval(args: &EvalArgs) -> Result<()> {
    let LoadedRun { record, model, weights, .. } = load_run(&args.run, &args.device, args.best)?;
    let mut source = args.source.clone();
    if source.imdb.is_none() {
        source.imdb = Some(record.archive.clone());
    }
    source.quiet = true;
    let (_archive, data, _) = super::load_data(&source, record.config.encode)?;
    let selected = crate::train::select_data(&record.config, &data);
    let test = crate::train::SplitTensors::new(&selected.test, record.config.encode.max_len, model.device);
    let crate::train::Evaluation { loss, acc: accuracy, probs } = crate::train::evaluate(&model, &test, true);
    let probs: Vec<f32> = Vec::<f32>::try_from(probs.expect("asked for").to_device(tch::Device::Cpu))?;
    let mut confusion = [[0usize; 2]; 2];
    let edges = [(100u32, "<=100"), (200, "101-200"), (400, "201-400"), (u32::MAX, ">400")];
    let mut buckets = vec![(0usize, 0usize); edges.len()];
    for ((&p, &label), &len) in probs.iter().zip(&selected.test.labels).zip(&selected.test.lengths) {
        let pred = usize::from(p > 0.5);
        confusion[label as usize][pred] += 1;
        let b = edges.iter().position(|(e, _)| len <= *e).unwrap_or(edges.len() - 1);
        buckets[b].0 += 1;
        buckets[b].1 += usize::from(pred == label as usize);
    }
    let report = EvalReport {
        run: args.run.display().to_string(),
        weights,
        reviews: probs.len(),
        accuracy,
        loss,
        confusion,
        by_length: edges
            .iter()
            .zip(&buckets)
            .map(|((_, name), &(n, c))| LengthBucket {
                bucket: format!("{name} tokens"),
                reviews: n,
                accuracy: if n == 0 { f64::NAN } else { c as f64 / n as f64 },
            })
            .collect(),
    };
    if args.json {
        crate::outln!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    crate::outln!("run        {} ({})", report.run, report.weights);
    // Without --imdb the run's own archive is scored, and always with its own --subset.
    let subset = record.config.subset.map(|n| format!(", the run's seeded --subset {n}")).unwrap_or_default();
    let origin = if args.source.imdb.is_none() { " (the run's own, from config.json)" } else { "" };
    crate::outln!("data       {archive}{origin}, test split{subset}", archive = source.imdb.as_deref().unwrap_or_default());
    crate::outln!("test       {} reviews, accuracy {:.4}, loss {:.4}", report.reviews, report.accuracy, report.loss);
    crate::outln!("confusion  true neg {:>6}  false pos {:>6}", confusion[0][0], confusion[0][1]);
    crate::outln!("           false neg {:>5}  true pos {:>7}", confusion[1][0], confusion[1][1]);
    for b in &report.by_length {
        crate::outln!("length     {:<16} {:>6} reviews  accuracy {:.4}", b.bucket, b.reviews, b.accuracy);
    }
    Ok(())
}
