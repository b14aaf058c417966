//! The training loop: batches planned by `batches` and gathered on the device, Adam(W)
//! on a learning-rate schedule, per-epoch evaluation, atomic checkpoints, bit-identical
//! resume, signal handling, gradient logging.
pub mod adam;
pub mod batches;
pub mod config;
pub mod grads;
pub mod run;
pub mod schedule;
pub mod signal;

use crate::data::glove::GloveMatrix;
use crate::data::prepare::{EncodedSplit, Prepared};
use crate::model::{Classifier, EmbeddingMode};
use crate::util::Rng;
use adam::Adam;
use anyhow::{bail, Context, Result};
use batches::{Batch, BatchPlan};
use config::TrainConfig;
use run::{CsvAppender, EpochMetrics, RunPaths, Summary};
use serde::{Deserialize, Serialize};
use signal::{Stop, StopFlags};
use std::collections::HashMap;
use std::time::Instant;
use tch::{Device, Kind, Tensor};

/// A split as device tensors.
pub struct SplitTensors {
    /// `[N, T]` int64 token ids.
    pub tokens: Tensor,
    /// `[N]` float 0/1.
    pub labels: Tensor,
    /// `[N]` int64 true lengths (uncapped).
    pub lengths: Tensor,
    /// The same lengths on the host, for the batch sampler.
    pub host_lengths: Vec<u32>,
    pub max_len: usize,
    pub len: usize,
}

impl SplitTensors {
    pub fn new(split: &EncodedSplit, max_len: usize, device: Device) -> SplitTensors {
        let n = split.len() as i64;
        let tokens: Vec<i64> = split.tokens.iter().map(|&t| t as i64).collect();
        let labels: Vec<f32> = split.labels.iter().map(|&l| l as f32).collect();
        let lengths: Vec<i64> = split.lengths.iter().map(|&l| l as i64).collect();
        SplitTensors {
            tokens: Tensor::from_slice(&tokens).reshape([n, max_len as i64]).to_device(device),
            labels: Tensor::from_slice(&labels).to_device(device),
            lengths: Tensor::from_slice(&lengths).to_device(device),
            host_lengths: split.lengths.clone(),
            max_len,
            len: split.len(),
        }
    }

    /// The rows and positions `plan` names, on this split's device.
    pub fn batch(&self, plan: &BatchPlan) -> Batch {
        batches::gather(plan, &self.tokens, &self.labels, &self.lengths, self.tokens.device())
    }
}

/// The splits a run uses, after `--subset` and `--val-frac`.
pub struct RunData {
    pub train: EncodedSplit,
    pub val: Option<EncodedSplit>,
    pub test: EncodedSplit,
}

/// Applies `--subset` (seeded random N of each split) and `--val-frac` (seeded hold-out
/// from train).
pub fn select_data(cfg: &TrainConfig, data: &Prepared) -> RunData {
    let max_len = cfg.encode.max_len;
    let pick = |split: &EncodedSplit, stream: u64| -> EncodedSplit {
        match cfg.subset {
            Some(n) if n < split.len() => {
                let mut keep: Vec<usize> = Rng::derive(cfg.seed, stream).permutation(split.len())[..n].to_vec();
                keep.sort_unstable();
                split.select(&keep, max_len)
            }
            _ => split.clone(),
        }
    };
    let train = pick(&data.train, 1);
    let test = pick(&data.test, 2);
    if cfg.val_frac > 0.0 {
        let perm = Rng::derive(cfg.seed, 3).permutation(train.len());
        let n_val = ((cfg.val_frac * train.len() as f64).round() as usize).clamp(1, train.len().saturating_sub(1).max(1));
        let mut val_idx = perm[..n_val].to_vec();
        let mut train_idx = perm[n_val..].to_vec();
        val_idx.sort_unstable();
        train_idx.sort_unstable();
        RunData { val: Some(train.select(&val_idx, max_len)), train: train.select(&train_idx, max_len), test }
    } else {
        RunData { train, val: None, test }
    }
}

/// Loss and accuracy over a split, in evaluation mode.
pub struct Evaluation {
    pub loss: f64,
    pub acc: f64,
    /// P(positive) per review, in split order; only when asked for (`eval` needs them,
    /// the per-epoch evaluations of training do not).
    pub probs: Option<Tensor>,
}

/// Runs the model over `split` at training's batch size, without gradients. The
/// length-aware readouts see the reviews sorted by length, each batch cut to its
/// longest review ([`batches::evaluation_batches`]); `probs` come back in split order.
pub fn evaluate(model: &Classifier, split: &SplitTensors, keep_probs: bool) -> Evaluation {
    let _guard = tch::no_grad_guard();
    let mut loss_sum = Tensor::zeros([], (Kind::Double, model.device));
    let mut correct = Tensor::zeros([], (Kind::Int64, model.device));
    let mut probs = Vec::new();
    // Training's batch size: larger evaluation batches allocate (and page-fault) more
    // than they save on CPU (BENCHMARKS.md).
    let plans = batches::evaluation_batches(&split.host_lengths, split.max_len, 64, model.config.readout.is_length_aware());
    let n = split.len as i64;
    for plan in &plans {
        let batch = split.batch(plan);
        let logits = model.forward(&batch.tokens, &batch.lengths, false);
        let loss = logits.binary_cross_entropy_with_logits::<Tensor>(&batch.labels, None, None, tch::Reduction::Sum);
        loss_sum += loss.to_kind(Kind::Double);
        correct += logits.gt(0.0).eq_tensor(&batch.labels.gt(0.5)).sum(Kind::Int64);
        if keep_probs {
            probs.push(logits.sigmoid());
        }
    }
    let probs = keep_probs.then(|| {
        if probs.is_empty() {
            return Tensor::zeros([0], (Kind::Float, model.device));
        }
        // Back to split order: position k of the evaluation order holds row order[k].
        let order: Vec<i64> = plans.iter().flat_map(|p| p.rows.iter().map(|&i| i as i64)).collect();
        let restore = Tensor::from_slice(&order).to_device(model.device).argsort(0, false);
        Tensor::cat(&probs, 0).index_select(0, &restore)
    });
    Evaluation { loss: loss_sum.double_value(&[]) / n.max(1) as f64, acc: correct.int64_value(&[]) as f64 / n.max(1) as f64, probs }
}

/// How a run ended.
#[derive(Debug)]
pub enum Outcome {
    Finished(Summary),
    /// A signal stopped it after a checkpoint.
    Stopped(Stop),
    /// The loss went NaN or infinite; the last good checkpoint is kept.
    Diverged(String),
}

/// Run-time switches that are not part of the experiment.
pub struct RunOptions {
    pub resume: bool,
    pub progress: bool,
    pub stop: StopFlags,
    pub name: String,
}

/// Training-set accumulators of the current epoch (kept in checkpoints so a run
/// resumed mid-epoch reports the same epoch metrics).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
struct Accum {
    loss_sum: f64,
    correct: i64,
    seen: i64,
    seconds: f64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
struct Best {
    test_acc: f64,
    epoch: usize,
    val_acc: Option<f64>,
    test_at_best_val: Option<f64>,
    bad_epochs: usize,
    /// What `--lr-schedule plateau` has multiplied the learning rate by so far.
    #[serde(default = "one")]
    lr_scale: f64,
}

fn one() -> f64 {
    1.0
}

/// checkpoint.json: where in the run the checkpoint.ot next to it was taken.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
struct CheckpointState {
    /// Completed epochs.
    epoch: usize,
    /// Next batch of epoch `epoch + 1` (0 at an epoch boundary).
    next_batch: usize,
    global_step: u64,
    adam_step: i64,
    accum: Accum,
    best: Best,
    total_seconds: f64,
}

/// Trains `cfg` on `data`, writing into `paths`. Resumes from the checkpoint when asked.
pub fn train(cfg: &TrainConfig, data: &Prepared, glove: Option<&GloveMatrix>, paths: &RunPaths, opts: &RunOptions) -> Result<Outcome> {
    let device = config::parse_device(&cfg.device)?;
    let selected = select_data(cfg, data);
    let max_len = cfg.encode.max_len;
    let train_t = SplitTensors::new(&selected.train, max_len, device);
    let val_t = selected.val.as_ref().map(|v| SplitTensors::new(v, max_len, device));
    let test_t = SplitTensors::new(&selected.test, max_len, device);
    if train_t.len == 0 {
        bail!("no training reviews left (subset/val-frac too small)");
    }

    tch::manual_seed(cfg.seed as i64);
    let pretrained = match (cfg.model.embedding.uses_glove(), glove) {
        (true, Some(g)) => Some(g.data.as_slice()),
        (true, None) => bail!("--emb {:?} needs GloVe vectors (--glove)", cfg.model.embedding),
        _ => None,
    };
    let mut model = Classifier::new(&cfg.model, device, pretrained)?;
    let names: Vec<String> = model.trainable_parameters().into_iter().map(|(n, _)| n).collect();
    let params: Vec<Tensor> = model.trainable_parameters().into_iter().map(|(_, t)| t.shallow_clone()).collect();
    let param_refs: Vec<&Tensor> = params.iter().collect();
    let mut adam = Adam::new(&param_refs, cfg.lr);
    adam.weight_decay = cfg.weight_decay;

    let mut state = CheckpointState { best: Best { lr_scale: 1.0, ..Best::default() }, ..CheckpointState::default() };
    if opts.resume && paths.checkpoint_state().exists() {
        state = load_checkpoint(paths, &mut model, &mut adam, &names)?;
        // Drop rows written after the checkpoint (a crash between row and checkpoint).
        let (epoch, step) = (state.epoch as u64, state.global_step);
        run::truncate_rows(&paths.metrics(), |l| run::field(l, 0).is_some_and(|e| e <= epoch))?;
        run::truncate_rows(&paths.steps(), |l| run::field(l, 1).is_some_and(|s| s <= step))?;
        run::truncate_rows(&paths.grads(), |l| run::field(l, 1).is_some_and(|s| s <= step))?;
        run::truncate_rows(&paths.grads_epoch(), |l| run::field(l, 0).is_some_and(|e| e <= epoch))?;
        run::truncate_rows(&paths.grads_time(), |l| run::field(l, 0).is_some_and(|e| e <= epoch))?;
    } else {
        for p in [paths.metrics(), paths.steps(), paths.grads(), paths.grads_epoch(), paths.grads_time()] {
            let _ = std::fs::remove_file(p);
        }
    }
    let mut metrics_csv = CsvAppender::open(&paths.metrics(), run::METRICS_HEADER)?;
    let mut steps_csv = CsvAppender::open(&paths.steps(), run::STEPS_HEADER)?;
    let grad_layout = grads::layout(&model);
    let mut grads_csv = if cfg.grad_every > 0 { Some(CsvAppender::open(&paths.grads(), run::GRADS_HEADER)?) } else { None };

    let n = train_t.len;
    let bs = cfg.batch_size;
    let batches = n.div_ceil(bs);
    let total_steps = (batches * cfg.epochs) as u64;
    let log_every = if device == Device::Cpu { 1 } else { 50 };
    let inject_nan_at: Option<u64> = std::env::var("IMDB_RNN_INJECT_NAN_AT_STEP").ok().and_then(|v| v.parse().ok());
    let started = Instant::now() - std::time::Duration::from_secs_f64(state.total_seconds);
    let mut history = run::read_metrics(&paths.dir).unwrap_or_default();

    for epoch in state.epoch + 1..=cfg.epochs {
        let epoch_start = Instant::now() - std::time::Duration::from_secs_f64(state.accum.seconds);
        let plans = batches::epoch_batches(&train_t.host_lengths, max_len, bs, cfg.batching, cfg.seed, epoch);
        let epoch_positions: usize = plans.iter().map(|p| p.rows.len() * p.width).sum();
        let mut loss_sum = Tensor::from(state.accum.loss_sum).to_device(device);
        let mut correct = Tensor::from(state.accum.correct).to_device(device);
        let mut seen = state.accum.seen;
        let mut pending_losses: Vec<(u64, usize, Tensor)> = Vec::new();
        let mut pending_norms: Vec<(u64, Tensor)> = Vec::new();
        let mut epoch_norms: Vec<Vec<f32>> = Vec::new();
        let mut time_grads = (cfg.grad_every > 0).then(|| grads::TimeGrads::new(max_len as i64, device));
        let bar = progress(opts.progress, batches as u64, &format!("{} epoch {epoch}/{}", opts.name, cfg.epochs));
        bar.set_position(state.next_batch as u64);

        let mut batch = state.next_batch;
        while batch < batches {
            let Batch { tokens, labels, lengths } = train_t.batch(&plans[batch]);
            let len = plans[batch].rows.len() as i64;
            let m = &cfg.model;
            if m.recurrent.dropout > 0.0 || m.emb_dropout > 0.0 || m.fc_dropout > 0.0 {
                // Dropout draws from libtorch's generator: reseed per batch so a run
                // resumed mid-epoch draws the same masks.
                tch::manual_seed((cfg.seed ^ (epoch as u64) << 32 ^ batch as u64) as i64);
            }
            state.global_step += 1;
            let log_grads = cfg.grad_every > 0 && state.global_step.is_multiple_of(cfg.grad_every as u64);
            let mut x = model.embed(&tokens);
            if log_grads && cfg.model.embedding == EmbeddingMode::GloveFrozen {
                x = x.detach().set_requires_grad(true);
            }
            let logits = model.head(&x, &lengths, true);
            let mut loss = logits.binary_cross_entropy_with_logits::<Tensor>(&labels, None, None, tch::Reduction::Mean);
            if inject_nan_at == Some(state.global_step) {
                loss *= f64::NAN;
            }
            let mut inputs: Vec<&Tensor> = param_refs.clone();
            if log_grads {
                inputs.push(&x);
            }
            let mut all_grads = Tensor::run_backward(&[&loss], &inputs, false, false);
            let gx = if log_grads { all_grads.pop() } else { None };
            let mut grads_v = all_grads;
            // Norms of the raw gradients, taken before clipping changes them.
            let raw_norms = log_grads.then(|| grads::parameter_norms(&model, &grads_v));
            if cfg.clip.is_some() || log_grads {
                let pre = grads::total_norm(&grads_v);
                let post = match cfg.clip {
                    Some(max) => {
                        // torch.nn.utils.clip_grad_norm_: scale by max/(norm+1e-6) when above.
                        let coef = (Tensor::from(max).to_device(device) / (&pre + 1e-6)).clamp_max(1.0);
                        grads_v = grads_v.iter().map(|g| g * &coef).collect();
                        grads::total_norm(&grads_v)
                    }
                    None => pre.shallow_clone(),
                };
                if let Some(raw) = raw_norms {
                    pending_norms.push((state.global_step, Tensor::cat(&[raw, pre.reshape([1]), post.reshape([1])], 0)));
                }
            }
            if let (Some(tg), Some(gx)) = (time_grads.as_mut(), gx.as_ref()) {
                tg.add(gx, &lengths);
            }
            adam.lr = cfg.lr * state.best.lr_scale * schedule::factor(cfg.lr_schedule, cfg.warmup_steps, state.global_step, total_steps);
            adam.step(&param_refs, &grads_v);
            {
                let _guard = tch::no_grad_guard();
                let detached = loss.detach();
                loss_sum += detached.to_kind(Kind::Double) * len as f64;
                correct += logits.gt(0.0).eq_tensor(&labels.gt(0.5)).sum(Kind::Int64);
                pending_losses.push((state.global_step, batch, detached));
            }
            seen += len;
            batch += 1;
            bar.inc(1);

            if pending_losses.len() >= log_every || batch == batches || opts.stop.requested().is_some() {
                let values = flush_losses(&mut pending_losses, epoch, &mut steps_csv)?;
                if let Some(bad) = values.iter().find(|v| !v.is_finite()) {
                    bar.abandon();
                    let msg =
                        format!("loss became {bad} at epoch {epoch}, step {}; lower --lr or add --clip (the last good checkpoint is kept)", state.global_step);
                    write_summary_failed(paths, &opts.name, &msg, &history)?;
                    return Ok(Outcome::Diverged(msg));
                }
                if let Some(csv) = grads_csv.as_mut() {
                    flush_norms(&mut pending_norms, epoch, &grad_layout, csv, &mut epoch_norms)?;
                }
                if bar.length().is_some() {
                    let acc = correct.int64_value(&[]) as f64 / seen.max(1) as f64;
                    bar.set_message(format!("loss {:.4} acc {:.3}", loss_sum.double_value(&[]) / seen.max(1) as f64, acc));
                }
            }
            if let Some(stop) = opts.stop.requested() {
                if batch < batches {
                    state.next_batch = batch;
                    state.epoch = epoch - 1;
                    state.accum =
                        Accum { loss_sum: loss_sum.double_value(&[]), correct: correct.int64_value(&[]), seen, seconds: epoch_start.elapsed().as_secs_f64() };
                    state.adam_step = adam.step;
                    state.total_seconds = started.elapsed().as_secs_f64();
                    save_checkpoint(paths, &model, &adam, &names, &state)?;
                    bar.abandon();
                    return Ok(Outcome::Stopped(stop));
                }
            }
        }
        bar.finish_and_clear();
        let train_seconds = epoch_start.elapsed().as_secs_f64();
        let (val_loss, val_acc) = match &val_t {
            Some(v) => {
                let e = evaluate(&model, v, false);
                (Some(e.loss), Some(e.acc))
            }
            None => (None, None),
        };
        let Evaluation { loss: test_loss, acc: test_acc, .. } = evaluate(&model, &test_t, false);
        let row = EpochMetrics {
            epoch,
            train_loss: loss_sum.double_value(&[]) / seen.max(1) as f64,
            train_acc: correct.int64_value(&[]) as f64 / seen.max(1) as f64,
            val_loss,
            val_acc,
            test_loss,
            test_acc,
            lr: adam.lr,
            epoch_seconds: epoch_start.elapsed().as_secs_f64(),
            tokens_per_s: epoch_positions as f64 / train_seconds.max(1e-9),
        };
        if opts.progress {
            eprintln!(
                "{} epoch {epoch}/{}: train loss {:.4} acc {:.4}{} test loss {:.4} acc {:.4} ({:.1} s)",
                opts.name,
                cfg.epochs,
                row.train_loss,
                row.train_acc,
                val_acc.map(|a| format!(" val acc {a:.4}")).unwrap_or_default(),
                test_loss,
                test_acc,
                row.epoch_seconds
            );
        }
        metrics_csv.line(&row.csv())?;
        metrics_csv.flush()?;
        if let Some(tg) = &time_grads {
            write_time_grads(paths, epoch, tg)?;
        }
        if cfg.grad_every > 0 {
            write_epoch_norms(paths, epoch, &grad_layout, &epoch_norms)?;
        }

        // Best-epoch bookkeeping and early stopping.
        if test_acc > state.best.test_acc || state.best.epoch == 0 {
            state.best.test_acc = test_acc;
            state.best.epoch = epoch;
        }
        let mut stop_early = false;
        if let Some(va) = val_acc {
            if state.best.val_acc.is_none_or(|b| va > b) {
                state.best.val_acc = Some(va);
                state.best.test_at_best_val = Some(test_acc);
                state.best.bad_epochs = 0;
                model.save(&paths.best())?;
            } else {
                state.best.bad_epochs += 1;
                stop_early = cfg.patience.is_some_and(|p| state.best.bad_epochs >= p);
                if cfg.lr_schedule == config::LrSchedule::Plateau {
                    state.best.lr_scale *= schedule::PLATEAU_FACTOR;
                }
            }
        }
        history.push(row);
        state.epoch = epoch;
        state.next_batch = 0;
        state.accum = Accum::default();
        state.adam_step = adam.step;
        state.total_seconds = started.elapsed().as_secs_f64();
        save_checkpoint(paths, &model, &adam, &names, &state)?;
        if stop_early {
            if opts.progress {
                eprintln!("{}: no better validation accuracy for {} epochs; stopping early", opts.name, state.best.bad_epochs);
            }
            break;
        }
        if let Some(stop) = opts.stop.requested() {
            return Ok(Outcome::Stopped(stop));
        }
    }

    model.save(&paths.model())?;
    let last = history.last().context("no epoch completed")?;
    let summary = Summary {
        name: opts.name.clone(),
        status: "finished".into(),
        epochs_run: history.len(),
        final_test_acc: last.test_acc,
        final_test_loss: last.test_loss,
        best_test_acc: state.best.test_acc,
        best_epoch: state.best.epoch,
        test_acc_at_best_val: state.best.test_at_best_val,
        best_val_acc: state.best.val_acc,
        mean_epoch_seconds: history.iter().map(|m| m.epoch_seconds).sum::<f64>() / history.len() as f64,
        total_seconds: started.elapsed().as_secs_f64(),
        parameters: model.parameter_count(),
        reason: None,
    };
    summary.write(&paths.summary())?;
    Ok(Outcome::Finished(summary))
}

fn flush_losses(pending: &mut Vec<(u64, usize, Tensor)>, epoch: usize, csv: &mut CsvAppender) -> Result<Vec<f64>> {
    if pending.is_empty() {
        return Ok(Vec::new());
    }
    let stacked = Tensor::stack(&pending.iter().map(|(_, _, t)| t.shallow_clone()).collect::<Vec<_>>(), 0);
    let values: Vec<f64> = Vec::<f64>::try_from(stacked.to_kind(Kind::Double).to_device(Device::Cpu))?;
    for ((step, batch, _), v) in pending.iter().zip(&values) {
        csv.line(&format!("{epoch},{step},{batch},{v}"))?;
    }
    csv.flush()?;
    pending.clear();
    Ok(values)
}

fn flush_norms(
    pending: &mut Vec<(u64, Tensor)>,
    epoch: usize,
    layout: &[grads::NormEntry],
    csv: &mut CsvAppender,
    epoch_norms: &mut Vec<Vec<f32>>,
) -> Result<()> {
    if pending.is_empty() {
        return Ok(());
    }
    // One transfer for every norm of every pending step.
    let all = Tensor::cat(&pending.iter().map(|(_, t)| t.shallow_clone()).collect::<Vec<_>>(), 0).to_device(Device::Cpu);
    let values: Vec<f32> = Vec::<f32>::try_from(all)?;
    for ((step, _), chunk) in pending.iter().zip(values.chunks(layout.len())) {
        for (e, v) in layout.iter().zip(chunk) {
            let layer = e.layer.map(|l| l.to_string()).unwrap_or_default();
            csv.line(&format!("{epoch},{step},{layer},{},{},{},{v}", e.direction, e.parameter, e.gate))?;
        }
        epoch_norms.push(chunk.to_vec());
    }
    csv.flush()?;
    pending.clear();
    Ok(())
}

fn write_epoch_norms(paths: &RunPaths, epoch: usize, layout: &[grads::NormEntry], epoch_norms: &[Vec<f32>]) -> Result<()> {
    if epoch_norms.is_empty() {
        return Ok(());
    }
    let mut csv = CsvAppender::open(&paths.grads_epoch(), run::GRADS_EPOCH_HEADER)?;
    for (i, e) in layout.iter().enumerate() {
        let mut v: Vec<f32> = epoch_norms.iter().map(|row| row[i]).collect();
        let last = *v.last().unwrap();
        let mean = v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64;
        v.sort_by(|a, b| a.total_cmp(b));
        let median = if v.len() % 2 == 1 { v[v.len() / 2] as f64 } else { (v[v.len() / 2 - 1] as f64 + v[v.len() / 2] as f64) / 2.0 };
        let max = *v.last().unwrap();
        let layer = e.layer.map(|l| l.to_string()).unwrap_or_default();
        csv.line(&format!("{epoch},{layer},{},{},{},{mean},{median},{max},{last}", e.direction, e.parameter, e.gate))?;
    }
    csv.flush()
}

fn write_time_grads(paths: &RunPaths, epoch: usize, tg: &grads::TimeGrads) -> Result<()> {
    let get = |t: &Tensor| Vec::<f32>::try_from(t.to_device(Device::Cpu)).unwrap_or_default();
    let (s, cs, e, ce) = (get(&tg.from_start), get(&tg.count_start), get(&tg.from_end), get(&tg.count_end));
    let mut csv = CsvAppender::open(&paths.grads_time(), run::GRADS_TIME_HEADER)?;
    for t in 0..s.len() {
        let mean = |sum: f32, c: f32| if c > 0.0 { format!("{}", sum / c) } else { String::new() };
        csv.line(&format!("{epoch},{t},{},{},{t},{},{}", mean(s[t], cs[t]), cs[t], mean(e[t], ce[t]), ce[t]))?;
    }
    csv.flush()
}

fn write_summary_failed(paths: &RunPaths, name: &str, reason: &str, history: &[EpochMetrics]) -> Result<()> {
    Summary::failed(name, reason, history).write(&paths.summary())
}

fn save_checkpoint(paths: &RunPaths, model: &Classifier, adam: &Adam, names: &[String], state: &CheckpointState) -> Result<()> {
    let mut named: Vec<(String, Tensor)> = model.named_parameters().into_iter().map(|(n, t)| (format!("model.{n}"), t.shallow_clone())).collect();
    for (i, n) in names.iter().enumerate() {
        named.push((format!("adam.m.{n}"), adam.m[i].shallow_clone()));
        named.push((format!("adam.v.{n}"), adam.v[i].shallow_clone()));
    }
    named.push(("meta.adam_step".into(), Tensor::from(adam.step)));
    // Both files are written before either replaces its old version: a full disk
    // leaves the previous checkpoint whole and consistent.
    let weights = crate::util::stage_tensors(&named, &paths.checkpoint())?;
    let state = crate::util::stage(&paths.checkpoint_state(), serde_json::to_string_pretty(state)?.as_bytes(), true)?;
    weights.commit()?;
    state.commit()
}

fn load_checkpoint(paths: &RunPaths, model: &mut Classifier, adam: &mut Adam, names: &[String]) -> Result<CheckpointState> {
    let state: CheckpointState = serde_json::from_slice(&std::fs::read(paths.checkpoint_state())?)
        .with_context(|| format!("{} is corrupt; delete the run directory to start over", paths.checkpoint_state().display()))?;
    let saved: HashMap<String, Tensor> =
        Tensor::load_multi_with_device(paths.checkpoint(), model.device).map_err(|e| crate::util::torch_error(e, &paths.checkpoint()))?.into_iter().collect();
    let step = saved.get("meta.adam_step").map(|t| t.int64_value(&[])).unwrap_or(-1);
    if step != state.adam_step {
        bail!(
            "{} and {} disagree (step {step} vs {}); the run was killed while checkpointing: delete the run directory to start over",
            paths.checkpoint().display(),
            paths.checkpoint_state().display(),
            state.adam_step
        );
    }
    model.copy_from(&saved, "model.", &paths.checkpoint())?;
    let _guard = tch::no_grad_guard();
    for (i, n) in names.iter().enumerate() {
        for (which, dst) in [("m", &mut adam.m[i]), ("v", &mut adam.v[i])] {
            let key = format!("adam.{which}.{n}");
            let src = saved.get(&key).with_context(|| format!("{} lacks {key}", paths.checkpoint().display()))?;
            dst.copy_(src);
        }
    }
    adam.step = state.adam_step;
    Ok(state)
}

fn progress(show: bool, len: u64, prefix: &str) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !show || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{prefix} {bar:30} {pos}/{len} {per_sec} eta {eta} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_prefix(prefix.to_string());
    bar
}
