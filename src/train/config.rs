//! `imdb-rnn train` options in two stages: `TrainArgs` as parsed (flags, a TOML file,
//! a sweep's grid, all optional), then `TrainConfig`, validated and fully resolved.
//! Over 500 lines because `TrainArgs`' doc comments are every training flag's `--help`.
use super::defaults;
pub(crate) use super::device::{parse_device, DeviceSpec};
use crate::cpu::Denormals;
use crate::data::prepare::{EncodeConfig, Truncate};
use crate::model::recurrent::{Cell, Nonlinearity, RecurrentConfig};
use crate::model::{EmbeddingMode, ModelConfig, Readout};
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Training options. Every one may also come from `--config FILE.toml` (same names,
/// e.g. `layers = 3`); a flag given on the command line wins over the file.
#[derive(clap::Args, Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct TrainArgs {
    /// Recurrent cell [default: lstm].
    #[arg(long, value_enum)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cell: Option<Cell>,
    /// Activation of the plain RNN cell [default: tanh].
    #[arg(long, value_enum)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonlinearity: Option<Nonlinearity>,
    /// Number of stacked recurrent layers [default: 1].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layers: Option<i64>,
    /// Hidden units per layer and direction [default: 128].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hidden: Option<i64>,
    /// Embedding size [default: 100, or the GloVe file's dimension].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emb_dim: Option<i64>,
    /// Embedding: random (learned), glove-frozen or glove-tuned [default: random].
    #[arg(long, value_enum)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emb: Option<EmbeddingMode>,
    /// Run each layer in both directions.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bidirectional: Option<bool>,
    /// Dropout between recurrent layers during training, in [0, 1) [default: 0].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dropout: Option<f64>,
    /// Hidden state fed to the classifier: final (course), last, mean, max or meanmax
    /// (mean and max concatenated) [default: final].
    #[arg(long, value_enum)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readout: Option<Readout>,
    /// How training batches are drawn: random (shuffled, padded to --max-len) or bucket
    /// (reviews of similar length together, each batch cut to its longest review). The
    /// length-aware readouts ignore pads, so bucketing changes only which reviews share a
    /// batch and skips the padding's compute: it is their default. The course's final
    /// readout runs over all --max-len positions, so it takes random only
    /// [default: bucket for last/mean/max/meanmax, random for final].
    #[arg(long, value_enum)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batching: Option<Batching>,
    /// Dropout on the embedding output during training, in [0, 1) [default: 0].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emb_dropout: Option<f64>,
    /// Dropout on the features before the classifier during training, in [0, 1) [default: 0].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fc_dropout: Option<f64>,
    /// Decoupled weight decay (AdamW): each step first shrinks every trained weight by
    /// lr x this [default: 0, plain Adam].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight_decay: Option<f64>,
    /// Evaluate and save an exponential moving average of the weights instead of the
    /// weights themselves, updated after every step with this decay, in [0, 1): 0.998
    /// averages over about the last 500 steps. The first steps use a smaller decay,
    /// (1 + step) / (10 + step), so the random start soon drops out [default: 0, off].
    #[arg(long, value_name = "DECAY")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ema: Option<f64>,
    /// Learning rate over the run: constant; cosine (from --lr down to 0 at the last
    /// step); plateau (halve it after an epoch without a better validation accuracy;
    /// needs --val-frac) [default: constant].
    #[arg(long, value_enum)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lr_schedule: Option<LrSchedule>,
    /// Raise the learning rate linearly from 0 over this many first steps [default: 0].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warmup_steps: Option<u64>,
    /// Which part of a review longer than --max-len is kept: head (its beginning) or
    /// tail (its end) [default: head].
    #[arg(long, value_enum)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub truncate: Option<Truncate>,
    /// Epochs [default: 5].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epochs: Option<usize>,
    /// Batch size [default: 64].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<usize>,
    /// Adam learning rate [default: 0.001].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lr: Option<f64>,
    /// Seed for initialisation, shuffling, subsets and dropout [default: 0].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Clip the gradient's total L2 norm to this value (off by default).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clip: Option<f64>,
    /// Share of train reviews held out for validation, in [0, 1) [default: 0].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub val_frac: Option<f64>,
    /// Stop after this many epochs without a better validation accuracy (needs --val-frac).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patience: Option<usize>,
    /// Train and test on a seeded random N reviews of each split (quick studies, CI).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subset: Option<usize>,
    /// Evaluate on a seeded random N reviews of the test split [default: --subset's N, or
    /// all]: the test set measured after every epoch is often a quarter of the work.
    #[arg(long, value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_subset: Option<usize>,
    /// Vocabulary size, specials not counted [default: 10000].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vocab_size: Option<usize>,
    /// Tokens kept per review [default: 200].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_len: Option<usize>,
    /// Log gradient norms every N steps into grads.csv (0 = off) [default: 0].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grad_every: Option<usize>,
    /// Device: auto, cpu, cuda or cuda:N [default: auto].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// GloVe vectors: a path, a URL or a gensim name such as glove-wiki-gigaword-100
    /// [default: glove-wiki-gigaword-100 when --emb uses GloVe].
    #[arg(long, env = "IMDB_RNN_GLOVE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub glove: Option<String>,
    /// Subnormal floats on CPU: flush (to zero: fast) or keep (IEEE: the exact tail of a
    /// gradient study, but many times slower while gradients vanish) [default: flush].
    #[arg(long, value_enum)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub denormals: Option<Denormals>,
    /// CPU threads for libtorch's kernels [default: libtorch's, one per core]. Workers
    /// sharing a machine run best with cores / workers each.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threads: Option<usize>,
}

impl TrainArgs {
    /// Reads a TOML file of train options.
    pub(crate) fn from_toml_file(path: &Path) -> Result<TrainArgs> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read config {}", path.display()))?;
        let args: TrainArgs =
            toml::from_str(&text).with_context(|| format!("config {} is not valid (keys are the train flags, e.g. layers = 2)", path.display()))?;
        args.check_finite().with_context(|| format!("config {}", path.display()))?;
        Ok(args)
    }

    /// The floating-point options with their values and the range each accepts.
    fn floats(&self) -> [(&'static str, Option<f64>); 5] {
        [("lr", self.lr), ("clip", self.clip), ("dropout", self.dropout), ("val-frac", self.val_frac), ("ema", self.ema)]
    }

    /// Refuses NaN and infinite values, naming the option: merging options goes
    /// through JSON, which has neither, so they must never get that far.
    pub(crate) fn check_finite(&self) -> Result<()> {
        for (name, value) in self.floats() {
            if let Some(v) = value.filter(|v| !v.is_finite()) {
                bail!("--{name} {v}: not a finite number; --{name} must be {}", float_range(name));
            }
        }
        Ok(())
    }

    /// `self` with every option `over` sets replacing ours.
    pub(crate) fn overlay(&self, over: &TrainArgs) -> TrainArgs {
        let mut base = serde_json::to_value(self).expect("args serialise");
        let top = serde_json::to_value(over).expect("args serialise");
        if let (Some(b), Some(t)) = (base.as_object_mut(), top.as_object()) {
            for (k, v) in t {
                b.insert(k.clone(), v.clone());
            }
        }
        let mut merged: TrainArgs = serde_json::from_value(base).expect("merged args deserialise");
        // JSON turns NaN and infinity into null (unset): carry floats over as they are,
        // so `resolve` refuses them instead of silently using the default.
        merged.lr = over.lr.or(self.lr);
        merged.clip = over.clip.or(self.clip);
        merged.dropout = over.dropout.or(self.dropout);
        merged.val_frac = over.val_frac.or(self.val_frac);
        merged.ema = over.ema.or(self.ema);
        merged
    }

    /// Sets one option from `key=value` text (sweep grids), with the flag's name as key.
    pub(crate) fn set(&mut self, key: &str, value: &str) -> Result<()> {
        let key = key.replace('_', "-");
        let key = key.as_str();
        let mut map = serde_json::to_value(&*self)?;
        let parsed: serde_json::Value = match value.parse::<f64>() {
            _ if value == "true" || value == "false" => serde_json::Value::Bool(value == "true"),
            Ok(f) if !f.is_finite() => {
                let range = if float_range(key).is_empty() { String::new() } else { format!("; {key} must be {}", float_range(key)) };
                bail!("--grid {key}={value}: not a finite number{range}")
            }
            Ok(_) if !value.contains(['.', 'e', 'E']) => serde_json::from_str(value)?,
            Ok(f) => serde_json::json!(f),
            Err(_) => serde_json::Value::String(value.into()),
        };
        map.as_object_mut().expect("object").insert(key.to_string(), parsed);
        *self = serde_json::from_value(map).map_err(|e| anyhow::anyhow!("grid key {key}={value}: {e}"))?;
        Ok(())
    }
}

/// How training batches are drawn (`--batching`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, Hash, Default)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Batching {
    /// A seeded shuffle, every batch padded to --max-len.
    #[default]
    Random,
    /// Similar lengths together, each batch cut to its longest review.
    Bucket,
}

/// The learning rate over a run (`--lr-schedule`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, Hash, Default)]
#[serde(rename_all = "lowercase")]
pub(crate) enum LrSchedule {
    #[default]
    Constant,
    Cosine,
    Plateau,
}

/// A validated, fully resolved training configuration (what config.json records).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub(crate) struct TrainConfig {
    pub model: ModelConfig,
    pub encode: EncodeConfig,
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    pub seed: u64,
    pub clip: Option<f64>,
    pub val_frac: f64,
    pub patience: Option<usize>,
    pub subset: Option<usize>,
    /// Test reviews evaluated when fewer than `subset`'s (`--test-subset`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_subset: Option<usize>,
    pub grad_every: usize,
    pub device: DeviceSpec,
    pub glove: Option<String>,
    #[serde(default)]
    pub batching: Batching,
    #[serde(default)]
    pub weight_decay: f64,
    /// `--ema`'s decay; 0 (off) in config.json files written before the option existed.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub ema: f64,
    #[serde(default)]
    pub lr_schedule: LrSchedule,
    #[serde(default)]
    pub warmup_steps: u64,
    /// Absent in config.json files written before the option existed: they flushed nothing.
    #[serde(default = "keep_denormals")]
    pub denormals: Denormals,
    /// `None`: libtorch's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<usize>,
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

fn keep_denormals() -> Denormals {
    Denormals::Keep
}

/// Checks a count flag is at least 1.
fn at_least_one<T: PartialOrd + From<u8> + std::fmt::Display>(flag: &str, value: T) -> Result<T> {
    if value < T::from(1) {
        bail!("--{flag} must be at least 1, got {value}");
    }
    Ok(value)
}

/// Checks a probability flag is in [0, 1).
fn probability(flag: &str, p: f64) -> Result<f64> {
    if !(0.0..1.0).contains(&p) {
        bail!("--{flag} must be in [0, 1), got {p}");
    }
    Ok(p)
}

/// The recurrent stack's options (`--layers`, `--hidden`, `--emb-dim` against the GloVe
/// file's dimension, `--dropout`), checked in that order.
fn resolve_recurrent(a: &TrainArgs, emb: EmbeddingMode, glove_dim: Option<i64>) -> Result<RecurrentConfig> {
    let layers = at_least_one("layers", a.layers.unwrap_or(defaults::LAYERS))?;
    let hidden = at_least_one("hidden", a.hidden.unwrap_or(defaults::HIDDEN))?;
    let emb_dim = embedding_size(emb, a.emb_dim, glove_dim)?;
    let dropout = a.dropout.unwrap_or(defaults::DROPOUT);
    if !(0.0..1.0).contains(&dropout) {
        bail!("--dropout must be {}, got {dropout}", float_range("dropout"));
    }
    Ok(RecurrentConfig {
        cell: a.cell.unwrap_or(defaults::CELL),
        nonlinearity: a.nonlinearity.unwrap_or(defaults::NONLINEARITY),
        input_size: emb_dim,
        hidden_size: hidden,
        num_layers: layers,
        bidirectional: a.bidirectional.unwrap_or(defaults::BIDIRECTIONAL),
        dropout,
    })
}

/// `--emb-dim`, or the GloVe file's dimension when the embedding uses one (a given
/// `--emb-dim` must then agree with it).
fn embedding_size(emb: EmbeddingMode, asked: Option<i64>, glove_dim: Option<i64>) -> Result<i64> {
    let emb_dim = match (emb.uses_glove(), asked, glove_dim) {
        (true, Some(d), Some(g)) if d != g => {
            bail!("--emb-dim {d} does not match the GloVe file's dimension {g}; drop --emb-dim or pass a {d}-d GloVe file")
        }
        (true, _, Some(g)) => g,
        (_, Some(d), _) => d,
        _ => defaults::EMB_DIM,
    };
    at_least_one("emb-dim", emb_dim)
}

/// How many times this process has resolved a configuration with [`TrainConfig::resolve`]:
/// once per run (tests/one_resolve_per_run.rs holds it to that).
static RESOLVED: AtomicUsize = AtomicUsize::new(0);

/// The count of `TrainConfig::resolve` calls so far in this process.
pub fn resolve_calls() -> usize {
    RESOLVED.load(Ordering::Relaxed)
}

/// `--epochs`, `--batch-size` and `--lr`, then `--clip`, checked in that order.
fn resolve_steps(a: &TrainArgs) -> Result<(usize, usize, f64)> {
    let epochs = at_least_one("epochs", a.epochs.unwrap_or(defaults::EPOCHS))?;
    let batch_size = at_least_one("batch-size", a.batch_size.unwrap_or(defaults::BATCH_SIZE))?;
    let lr = a.lr.unwrap_or(defaults::LR);
    if !(lr > 0.0 && lr.is_finite()) {
        bail!("--lr must be {}, got {lr}", float_range("lr"));
    }
    if let Some(c) = a.clip {
        if !(c > 0.0 && c.is_finite()) {
            bail!("--clip must be {}, got {c}", float_range("clip"));
        }
    }
    Ok((epochs, batch_size, lr))
}

/// `--vocab-size`, `--max-len` and `--truncate`.
fn resolve_encode(a: &TrainArgs) -> Result<EncodeConfig> {
    let vocab_size = at_least_one("vocab-size", a.vocab_size.unwrap_or(defaults::VOCAB_SIZE))?;
    let max_len = at_least_one("max-len", a.max_len.unwrap_or(defaults::MAX_LEN))?;
    Ok(EncodeConfig { vocab_size, max_len, truncate: a.truncate.unwrap_or(defaults::TRUNCATE) })
}

/// `--batching`: bucketed batches for the length-aware readouts unless asked otherwise,
/// never for the final readout.
fn resolve_batching(asked: Option<Batching>, readout: Readout) -> Result<Batching> {
    Ok(match (asked, readout.is_length_aware()) {
        (Some(Batching::Bucket), false) => bail!(
            "--batching bucket needs a length-aware --readout (last, mean, max, meanmax): the final readout runs over all --max-len positions, so its batches keep them; drop --batching or change --readout"
        ),
        (Some(b), _) => b,
        (None, true) => Batching::Bucket,
        (None, false) => defaults::BATCHING,
    })
}

impl TrainConfig {
    /// Checks every option and fills defaults. `glove_dim` is the dimension of the
    /// GloVe file when the embedding uses one. Errors name the flag.
    pub(crate) fn resolve(a: &TrainArgs, glove_dim: Option<i64>) -> Result<TrainConfig> {
        RESOLVED.fetch_add(1, Ordering::Relaxed);
        TrainConfig::build(a, glove_dim)
    }

    /// This configuration, resolved before its GloVe file was looked at, with that file's
    /// dimension: what `resolve` with `glove_dim` gives, without resolving again.
    pub(crate) fn with_glove_dim(mut self, emb_dim: Option<i64>, glove_dim: i64) -> Result<TrainConfig> {
        self.model.recurrent.input_size = embedding_size(self.model.embedding, emb_dim, Some(glove_dim))?;
        Ok(self)
    }

    /// [`TrainConfig::resolve`]'s work, uncounted: for the reference a run name is told from.
    fn build(a: &TrainArgs, glove_dim: Option<i64>) -> Result<TrainConfig> {
        let emb = a.emb.unwrap_or(defaults::EMB);
        let recurrent = resolve_recurrent(a, emb, glove_dim)?;
        let (epochs, batch_size, lr) = resolve_steps(a)?;
        let val_frac = a.val_frac.unwrap_or(defaults::VAL_FRAC);
        if !(0.0..1.0).contains(&val_frac) {
            bail!("--val-frac must be {}, got {val_frac}", float_range("val-frac"));
        }
        if a.patience.is_some() && val_frac == 0.0 {
            bail!("--patience needs a validation split: add --val-frac (e.g. 0.1)");
        }
        if a.subset == Some(0) || a.test_subset == Some(0) {
            bail!("--{} must be at least 1", if a.subset == Some(0) { "subset" } else { "test-subset" });
        }
        let encode = resolve_encode(a)?;
        let device = DeviceSpec::parse(a.device.as_deref().unwrap_or(defaults::DEVICE))?;
        device.device()?;
        if a.nonlinearity == Some(Nonlinearity::Relu) && a.cell.unwrap_or(defaults::CELL) != Cell::Rnn {
            bail!("--nonlinearity relu applies to --cell rnn only");
        }
        if a.threads == Some(0) {
            bail!("--threads must be at least 1, got 0");
        }
        let readout = a.readout.unwrap_or(defaults::READOUT);
        let batching = resolve_batching(a.batching, readout)?;
        let emb_dropout = probability("emb-dropout", a.emb_dropout.unwrap_or(defaults::EMB_DROPOUT))?;
        let fc_dropout = probability("fc-dropout", a.fc_dropout.unwrap_or(defaults::FC_DROPOUT))?;
        let weight_decay = a.weight_decay.unwrap_or(defaults::WEIGHT_DECAY);
        if !(weight_decay >= 0.0 && weight_decay.is_finite()) {
            bail!("--weight-decay must be a number >= 0, got {weight_decay}");
        }
        let ema = probability("ema", a.ema.unwrap_or(defaults::EMA))?;
        let lr_schedule = a.lr_schedule.unwrap_or(defaults::LR_SCHEDULE);
        if lr_schedule == LrSchedule::Plateau && val_frac == 0.0 {
            bail!("--lr-schedule plateau needs a validation split: add --val-frac (e.g. 0.1)");
        }
        // A path is recorded absolute: the run's config.json must name the file from any directory.
        let glove = if emb.uses_glove() { Some(crate::fetch::absolute_value(a.glove.as_deref().unwrap_or(defaults::GLOVE))) } else { None };
        Ok(TrainConfig {
            model: ModelConfig { vocab_size: encode.vocab_size as i64 + 2, embedding: emb, recurrent, readout, emb_dropout, fc_dropout },
            encode,
            epochs,
            batch_size,
            lr,
            seed: a.seed.unwrap_or(defaults::SEED),
            clip: a.clip,
            val_frac,
            patience: a.patience,
            subset: a.subset,
            test_subset: a.test_subset,
            grad_every: a.grad_every.unwrap_or(defaults::GRAD_EVERY),
            device,
            glove,
            batching,
            weight_decay,
            ema,
            lr_schedule,
            warmup_steps: a.warmup_steps.unwrap_or(defaults::WARMUP_STEPS),
            denormals: a.denormals.unwrap_or(defaults::DENORMALS),
            threads: a.threads,
        })
    }

    /// A readable run name from the options, e.g. `lstm-l3-h128-random-final-s0`, or
    /// `gru-l1-h128-random-last-e10-clip1-len400-s0` with non-default options.
    pub(crate) fn default_name(&self) -> String {
        let r = &self.model.recurrent;
        let mut name = r.cell.name().to_string();
        if r.nonlinearity == Nonlinearity::Relu {
            name.push_str("-relu");
        }
        name.push_str(&format!("-l{}-h{}", r.num_layers, r.hidden_size));
        if r.bidirectional {
            name.push_str("-bi");
        }
        name.push_str(&format!("-{}-{}", self.model.embedding.name(), self.model.readout.name()));
        // Every other option that differs from its default, so a README command rerun
        // with one of them changed gets its own directory.
        let optional = [
            (r.input_size != defaults::EMB_DIM, format!("-emb{}", r.input_size)),
            (r.dropout != defaults::DROPOUT, format!("-drop{}", r.dropout)),
            (self.epochs != defaults::EPOCHS, format!("-e{}", self.epochs)),
            (self.batch_size != defaults::BATCH_SIZE, format!("-b{}", self.batch_size)),
            (self.lr != defaults::LR, format!("-lr{}", self.lr)),
            (self.clip.is_some(), format!("-clip{}", self.clip.unwrap_or_default())),
            (self.val_frac != defaults::VAL_FRAC, format!("-val{}", self.val_frac)),
            (self.patience.is_some(), format!("-pat{}", self.patience.unwrap_or_default())),
            (self.encode.vocab_size != defaults::VOCAB_SIZE, format!("-vocab{}", self.encode.vocab_size)),
            (self.encode.max_len != defaults::MAX_LEN, format!("-len{}", self.encode.max_len)),
            (self.grad_every != defaults::GRAD_EVERY, format!("-grads{}", self.grad_every)),
        ];
        for (differs, part) in optional {
            if differs {
                name.push_str(&part);
            }
        }
        if let Some(n) = self.subset {
            name.push_str(&format!("-n{n}"));
        }
        if let Some(n) = self.test_subset {
            name.push_str(&format!("-test{n}"));
        }
        if let Some(tail) = self.other_options_tag() {
            name.push_str(&tail);
        }
        name.push_str(&format!("-s{}", self.seed));
        name
    }

    /// `-x` and a short hash of every option that differs from its default and that
    /// [`default_name`](Self::default_name) does not spell out (weight decay, schedule,
    /// warm-up, dropouts, truncation, batching, the GloVe file, and any option added
    /// later), so two runs that differ in any option get two directories. What only says
    /// how a run computes (threads, device, subnormals) is left out.
    fn other_options_tag(&self) -> Option<String> {
        const SPELLED_OUT: [&str; 22] = [
            "model.recurrent.cell",
            "model.recurrent.nonlinearity",
            "model.recurrent.num_layers",
            "model.recurrent.hidden_size",
            "model.recurrent.bidirectional",
            "model.recurrent.input_size",
            "model.recurrent.dropout",
            "model.embedding",
            "model.readout",
            "model.vocab_size",
            "epochs",
            "batch_size",
            "lr",
            "clip",
            "val_frac",
            "patience",
            "encode.vocab_size",
            "encode.max_len",
            "grad_every",
            "subset",
            "test_subset",
            "seed",
        ];
        const HOW_NOT_WHAT: [&str; 3] = ["threads", "device", "denormals"];
        // The same embedding and readout, whose choice sets other defaults (the GloVe
        // file, bucketed batches): those defaults add nothing to the name.
        let same_mode = TrainArgs { emb: Some(self.model.embedding), readout: Some(self.model.readout), ..TrainArgs::default() };
        let reference = TrainConfig::build(&same_mode, Some(self.model.recurrent.input_size)).ok()?;
        let (a, b) = (serde_json::to_value(&reference).ok()?, serde_json::to_value(self).ok()?);
        let ignore: Vec<&str> = SPELLED_OUT.iter().chain(HOW_NOT_WHAT.iter()).copied().collect();
        let mut differing = Vec::new();
        differing_leaves(&a, &b, "", &ignore, &mut differing);
        if differing.is_empty() {
            return None;
        }
        use sha2::Digest;
        let text: String = differing.iter().map(|(path, _, value)| format!("{path}={value};")).collect();
        let digest = sha2::Sha256::digest(text.as_bytes());
        Some(format!("-x{}", digest.iter().take(3).map(|b| format!("{b:02x}")).collect::<String>()))
    }
}

/// Every leaf path at which `a` and `b` differ, outside `ignore`, with both values, in
/// path order.
fn differing_leaves(a: &serde_json::Value, b: &serde_json::Value, path: &str, ignore: &[&str], out: &mut Vec<(String, serde_json::Value, serde_json::Value)>) {
    if ignore.contains(&path) || a == b {
        return;
    }
    match (a, b) {
        (serde_json::Value::Object(x), serde_json::Value::Object(y)) => {
            let null = serde_json::Value::Null;
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let sub = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                differing_leaves(x.get(k).unwrap_or(&null), y.get(k).unwrap_or(&null), &sub, ignore, out);
            }
        }
        _ => out.push((path.to_string(), a.clone(), b.clone())),
    }
}

/// What a floating-point option accepts, for error messages ("" for other options).
fn float_range(name: &str) -> &'static str {
    match name {
        "lr" | "clip" => "a positive finite number",
        "dropout" | "val-frac" | "ema" => "in [0, 1)",
        _ => "",
    }
}

/// The first option in which two configurations differ, e.g. `--epochs is 1 there, 2
/// now`, found by walking their JSON (so options added later are covered too). Paths
/// in `ignore` (such as `model.vocab_size`) are not compared.
pub(crate) fn first_difference(there: &TrainConfig, now: &TrainConfig, ignore: &[&str]) -> Option<String> {
    let (a, b) = (serde_json::to_value(there).ok()?, serde_json::to_value(now).ok()?);
    let mut differing = Vec::new();
    differing_leaves(&a, &b, "", ignore, &mut differing);
    let (path, x, y) = differing.into_iter().next()?;
    let show = |v: &serde_json::Value| match v {
        serde_json::Value::Null => "unset".to_string(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    // The thread count changes only float rounding, yet a run resumed on another one is
    // no longer bit-identical to itself, so it is not waved through: say why.
    let why = if path == "threads" { ": it changes float rounding, so a run keeps the count it started with" } else { "" };
    Some(format!("{} is {} there, {} now{why}", option_of(&path), show(&x), show(&y)))
}

/// The flag behind a path of [`TrainConfig`]'s JSON.
fn option_of(path: &str) -> String {
    match path {
        "model.vocab_size" => "the data's vocabulary (embedding rows)".into(),
        "encode.vocab_size" => "--vocab-size".into(),
        "model.embedding" => "--emb".into(),
        "model.recurrent.num_layers" => "--layers".into(),
        "model.recurrent.hidden_size" => "--hidden".into(),
        "model.recurrent.input_size" => "--emb-dim".into(),
        _ => format!("--{}", path.rsplit('.').next().unwrap_or(path).replace('_', "-")),
    }
}

/// Resolves a run directory name inside `runs_dir`, refusing names that would escape it.
pub(crate) fn run_dir(runs_dir: &Path, name: &str) -> Result<PathBuf> {
    let ok = !name.is_empty() && name != "." && name != ".." && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.=,+".contains(c));
    if !ok {
        bail!("--name {name:?}: use letters, digits and - _ . = , + only (the run directory lives inside --runs-dir)");
    }
    Ok(runs_dir.join(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_reads_back_as_the_text_it_was_given() {
        for text in ["auto", "cpu", "cuda", "cuda:1"] {
            let spec = DeviceSpec::parse(text).unwrap();
            assert_eq!(spec.to_string(), text);
            assert_eq!(serde_json::to_string(&spec).unwrap(), format!("\"{text}\""));
            assert_eq!(serde_json::from_str::<DeviceSpec>(&format!("\"{text}\"")).unwrap(), spec);
        }
        assert_eq!(DeviceSpec::parse("cuda:1").unwrap(), DeviceSpec::Cuda(Some(1)));
        assert_eq!(DeviceSpec::parse("tpu").unwrap_err().to_string(), "--device tpu: expected auto, cpu, cuda or cuda:N");
        assert_eq!(DeviceSpec::parse("cuda:x").unwrap_err().to_string(), "--device cuda:x: expected cuda:N with N a GPU index");
        assert_eq!(DeviceSpec::Cpu.device().unwrap(), tch::Device::Cpu);
    }

    #[test]
    fn options_left_unset_resolve_to_the_defaults() {
        let cfg = TrainConfig::resolve(&TrainArgs::default(), None).unwrap();
        assert_eq!(cfg.model, ModelConfig::default());
        assert_eq!(cfg.encode, EncodeConfig::default());
        assert_eq!((cfg.epochs, cfg.batch_size, cfg.lr, cfg.seed), (defaults::EPOCHS, defaults::BATCH_SIZE, defaults::LR, defaults::SEED));
        assert_eq!((cfg.device, cfg.glove.as_deref(), cfg.denormals), (DeviceSpec::Auto, None, defaults::DENORMALS));
        assert_eq!(cfg.default_name(), "lstm-l1-h128-random-final-s0", "no option differs from its default");
        let glove = TrainArgs { emb: Some(EmbeddingMode::GloveFrozen), ..TrainArgs::default() };
        assert_eq!(TrainConfig::resolve(&glove, Some(50)).unwrap().glove.as_deref(), Some(defaults::GLOVE));
        assert_eq!(TrainConfig::resolve(&glove, Some(100)).unwrap().default_name(), "lstm-l1-h128-glove-frozen-final-s0");
    }

    #[test]
    fn a_glove_dimension_given_after_resolving_gives_what_resolving_with_it_gives() {
        let cases: [&[(&str, &str)]; 6] = [
            &[],
            &[("emb", "glove-frozen")],
            &[("emb", "glove-tuned"), ("emb-dim", "50")],
            &[("emb", "glove-tuned"), ("emb-dim", "300")],
            &[("emb", "glove-frozen"), ("hidden", "16"), ("glove", "glove-wiki-gigaword-50")],
            &[("emb-dim", "32")],
        ];
        for case in cases {
            let mut args = TrainArgs::default();
            for (k, v) in case {
                args.set(k, v).unwrap();
            }
            for dim in [50, 100, 0] {
                let once = TrainConfig::resolve(&args, None).unwrap().with_glove_dim(args.emb_dim, dim).map_err(|e| e.to_string());
                let direct = TrainConfig::resolve(&args, Some(dim)).map_err(|e| e.to_string());
                assert_eq!(once, direct, "{case:?} with a {dim}-d GloVe file");
            }
        }
    }

    /// A non-default value for every train flag (what only says how a run computes
    /// maps to `None`); the test below fails for a flag added without one.
    fn non_default(flag: &str) -> Option<(&'static str, &'static str)> {
        let value = match flag {
            "threads" | "device" | "denormals" | "config" => return None,
            "cell" => ("cell", "gru"),
            "nonlinearity" => ("nonlinearity", "relu"),
            "layers" => ("layers", "2"),
            "hidden" => ("hidden", "64"),
            "emb_dim" => ("emb-dim", "50"),
            "emb" => ("emb", "glove-tuned"),
            "bidirectional" => ("bidirectional", "true"),
            "dropout" => ("dropout", "0.1"),
            "readout" => ("readout", "mean"),
            "batching" => ("batching", "random"),
            "emb_dropout" => ("emb-dropout", "0.2"),
            "fc_dropout" => ("fc-dropout", "0.2"),
            "weight_decay" => ("weight-decay", "0.1"),
            "ema" => ("ema", "0.99"),
            "lr_schedule" => ("lr-schedule", "cosine"),
            "warmup_steps" => ("warmup-steps", "10"),
            "truncate" => ("truncate", "tail"),
            "epochs" => ("epochs", "2"),
            "batch_size" => ("batch-size", "32"),
            "lr" => ("lr", "0.01"),
            "seed" => ("seed", "3"),
            "clip" => ("clip", "1.5"),
            "val_frac" => ("val-frac", "0.2"),
            "patience" => ("patience", "2"),
            "subset" => ("subset", "100"),
            "test_subset" => ("test-subset", "50"),
            "vocab_size" => ("vocab-size", "500"),
            "max_len" => ("max-len", "50"),
            "grad_every" => ("grad-every", "2"),
            "glove" => ("glove", "other-glove.txt"),
            other => panic!("--{other}: give it a non-default value in this test, so run names are checked to tell it apart"),
        };
        Some(value)
    }

    #[test]
    fn every_option_changed_from_its_default_gives_a_run_name_of_its_own() {
        let flags: Vec<String> = <TrainArgs as clap::Args>::augment_args(clap::Command::new("train")).get_arguments().map(|a| a.get_id().to_string()).collect();
        let mut names = std::collections::BTreeMap::new();
        names.insert(TrainConfig::resolve(&TrainArgs::default(), None).unwrap().default_name(), "(defaults)".to_string());
        for flag in &flags {
            let Some((key, value)) = non_default(flag) else { continue };
            let mut args = TrainArgs::default();
            args.set(key, value).unwrap();
            // What the option needs to apply: relu is the plain RNN's, random batches differ
            // from the default only for a length-aware readout (which buckets), a GloVe file
            // needs a GloVe embedding, patience a validation split.
            let needs = match key {
                "nonlinearity" => Some(("cell", "rnn")),
                "batching" => Some(("readout", "mean")),
                "glove" => Some(("emb", "glove-frozen")),
                "patience" => Some(("val-frac", "0.1")),
                _ => None,
            };
            if let Some((k, v)) = needs {
                args.set(k, v).unwrap();
            }
            let dim = args.emb.filter(|e| e.uses_glove()).map(|_| 100);
            let name = TrainConfig::resolve(&args, dim).unwrap_or_else(|e| panic!("--{key} {value}: {e:#}")).default_name();
            if let Some(before) = names.insert(name.clone(), format!("--{key} {value}")) {
                panic!("--{key} {value} and {before} share the run name {name}");
            }
        }
        assert!(names.len() > 25, "{names:?}");
        // The shell loop over a weight decay: each value its own directory.
        let wd = |v: &str| {
            let mut a = TrainArgs::default();
            a.set("weight-decay", v).unwrap();
            TrainConfig::resolve(&a, None).unwrap().default_name()
        };
        assert_ne!(wd("0.0"), wd("0.1"));
        assert_ne!(wd("0.1"), wd("0.2"));
    }
}
