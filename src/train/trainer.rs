//! One training run, a step at a time: [`Trainer`] owns the model, Adam, the checkpoint
//! state and the logs; [`Trainer::step`] trains on one batch, [`Trainer::end_epoch`]
//! evaluates, logs and checkpoints, [`Trainer::finish`] saves the model and summary.
use super::adam::Adam;
use super::average::WeightAverage;
use super::batches::{self, Batch, BatchPlan};
use super::checkpoint::{self, Accum, CheckpointState, EpochGrads, Trained};
use super::config::{self, TrainConfig};
use super::evaluate::{evaluate, Evaluation};
use super::grads::{self, NormEntry, TimeGrads};
use super::log::{LogPosition, RunLog};
use super::rows::{GradRow, StepRow};
use super::run::{EpochMetrics, RunDir, RunStatus, Summary};
use super::schedule;
use super::signal::Stop;
use super::splits::{DeviceSplits, RunData};
use super::{Outcome, RunOptions};
use crate::data::glove::GloveMatrix;
use crate::model::{Classifier, EmbeddingMode};
use anyhow::{bail, Context, Result};
use indicatif::ProgressBar;
use std::time::{Duration, Instant};
use tch::{Device, Kind, Tensor};

/// A training run in progress.
pub(crate) struct Trainer<'a> {
    cfg: &'a TrainConfig,
    run_dir: &'a RunDir,
    opts: &'a RunOptions,
    splits: DeviceSplits,
    model: Classifier,
    adam: Adam,
    /// `--ema`: the weights' moving average, which evaluation and the saved models use.
    average: Option<WeightAverage>,
    /// The trainable parameters (shallow clones), in the order of `names` and Adam's moments.
    params: Vec<Tensor>,
    names: Vec<String>,
    grad_layout: Vec<NormEntry>,
    state: CheckpointState,
    /// The gradient statistics of the epoch a resumed checkpoint interrupted.
    resumed_grads: Option<EpochGrads>,
    log: RunLog,
    history: Vec<EpochMetrics>,
    started: Instant,
    total_steps: u64,
    /// Losses are fetched from the device every this many steps (each fetch synchronises).
    log_every: usize,
    /// `--grad-every`, at most an epoch's steps (so that every epoch logs); 0 for none.
    grad_every: u64,
    /// `IMDB_RNN_INJECT_NAN_AT_STEP`: the tests' way to make a run diverge.
    inject_nan_at: Option<u64>,
}

/// The epoch in progress: its batches and what the training set has given so far.
pub(crate) struct Epoch {
    number: usize,
    plans: Vec<BatchPlan>,
    /// Token positions of all its batches (padding included), for tokens/s.
    positions: usize,
    next_batch: usize,
    started: Instant,
    loss_sum: Tensor,
    correct: Tensor,
    seen: i64,
    /// (step, batch, loss) not yet fetched from the device.
    pending_losses: Vec<(u64, usize, Tensor)>,
    /// (step, every norm of the layout) not yet fetched.
    pending_norms: Vec<(u64, Tensor)>,
    /// The fetched norms of the epoch's logged steps (for grads_epoch.csv) and its
    /// input gradients by position (for grads_time.csv).
    grads: EpochGrads,
    bar: ProgressBar,
}

impl Epoch {
    pub(crate) fn done(&self) -> bool {
        self.next_batch == self.plans.len()
    }
}

/// What follows an epoch.
pub(crate) enum EpochEnd {
    Next,
    /// `--patience` epochs without a better validation accuracy.
    EarlyStop,
    /// A signal came during the epoch; its checkpoint is saved.
    Stopped(Stop),
}

/// One batch's gradients, before clipping.
struct Gradients {
    loss: Tensor,
    logits: Tensor,
    params: Vec<Tensor>,
    /// dL/d(embedded input), on logged steps only.
    input: Option<Tensor>,
}

impl<'a> Trainer<'a> {
    /// Builds the model and optimiser of `cfg` for the reviews `data` holds and, with
    /// `--resume`, restores the checkpoint; opens the logs.
    pub(crate) fn new(cfg: &'a TrainConfig, data: &RunData, glove: Option<&GloveMatrix>, run_dir: &'a RunDir, opts: &'a RunOptions) -> Result<Trainer<'a>> {
        let device = cfg.device.device()?;
        let splits = DeviceSplits::new(data, cfg.encode.max_len, device);
        if splits.train.len == 0 {
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
        let mut adam = Adam::new(&params.iter().collect::<Vec<_>>(), cfg.lr);
        adam.weight_decay = cfg.weight_decay;
        let mut average = (cfg.ema > 0.0).then(|| WeightAverage::new(&params, cfg.ema));
        let resume = opts.resume && run_dir.checkpoint_state().exists();
        let (state, resumed_grads) = match resume {
            true => checkpoint::load(run_dir, &mut model, &mut adam, average.as_mut(), &names).map(|(s, g)| (s, Some(g)))?,
            false => (CheckpointState::default(), None),
        };
        let resume_at = resume.then_some(LogPosition { epoch: state.epoch, step: state.global_step });
        let log = RunLog::open(run_dir, resume_at, cfg.grad_every > 0)?;
        let history = run_dir.read_metrics()?;
        Ok(Trainer {
            total_steps: (splits.train.len.div_ceil(cfg.batch_size) * cfg.epochs) as u64,
            log_every: if device == Device::Cpu { 1 } else { 50 },
            grad_every: cfg.grad_every.min(splits.train.len.div_ceil(cfg.batch_size)) as u64,
            inject_nan_at: std::env::var("IMDB_RNN_INJECT_NAN_AT_STEP").ok().and_then(|v| v.parse().ok()),
            started: Instant::now() - Duration::from_secs_f64(state.total_seconds),
            grad_layout: grads::layout(&model),
            cfg,
            run_dir,
            opts,
            splits,
            model,
            adam,
            average,
            params,
            names,
            state,
            resumed_grads,
            log,
            history,
        })
    }

    /// The next epoch, continuing where the checkpoint left off; `None` after the last.
    pub(crate) fn begin_epoch(&mut self) -> Option<Epoch> {
        let (cfg, device) = (self.cfg, self.model.device);
        let number = self.state.epoch + 1;
        if number > cfg.epochs {
            return None;
        }
        let grads = self.epoch_grads(self.splits.train.max_len as i64);
        let accum = &self.state.accum;
        let started = Instant::now() - Duration::from_secs_f64(accum.seconds);
        let train = &self.splits.train;
        let plans = batches::epoch_batches(&train.host_lengths, train.max_len, cfg.batch_size, cfg.batching, cfg.seed, number);
        let bar = progress(self.opts.progress, plans.len() as u64, &format!("{} epoch {number}/{}", self.opts.name, cfg.epochs));
        bar.set_position(self.state.next_batch as u64);
        Some(Epoch {
            number,
            positions: plans.iter().map(|p| p.rows.len() * p.width).sum(),
            plans,
            next_batch: self.state.next_batch,
            started,
            loss_sum: Tensor::from(accum.loss_sum).to_device(device),
            correct: Tensor::from(accum.correct).to_device(device),
            seen: accum.seen,
            pending_losses: Vec::new(),
            pending_norms: Vec::new(),
            grads,
            bar,
        })
    }

    /// Trains on the epoch's next batch. `Some` when the run ends here: the loss
    /// diverged, or a signal asked to stop (after a checkpoint).
    pub(crate) fn step(&mut self, epoch: &mut Epoch) -> Result<Option<Outcome>> {
        let batch_index = epoch.next_batch;
        let batch = self.splits.train.batch(&epoch.plans[batch_index]);
        self.reseed_dropout(epoch.number, batch_index);
        self.state.global_step += 1;
        let log_grads = self.grad_every > 0 && self.state.global_step.is_multiple_of(self.grad_every);
        let Gradients { loss, logits, params, input } = self.backward(&batch, log_grads);
        let params = self.clip(params, log_grads, &mut epoch.pending_norms);
        if let (Some(tg), Some(gx)) = (epoch.grads.time.as_mut(), input.as_ref()) {
            tg.add(gx, &batch.lengths);
        }
        self.adam.lr =
            self.cfg.lr * self.state.best.lr_scale * schedule::factor(self.cfg.lr_schedule, self.cfg.warmup_steps, self.state.global_step, self.total_steps);
        self.adam.step(&self.params.iter().collect::<Vec<_>>(), &params);
        if let Some(average) = self.average.as_mut() {
            average.update(&self.params, self.state.global_step);
        }
        {
            let _guard = tch::no_grad_guard();
            let detached = loss.detach();
            epoch.loss_sum += detached.to_kind(Kind::Double) * batch.len() as f64;
            epoch.correct += logits.gt(0.0).eq_tensor(&batch.labels.gt(0.5)).sum(Kind::Int64);
            epoch.pending_losses.push((self.state.global_step, batch_index, detached));
        }
        epoch.seen += batch.len();
        epoch.next_batch += 1;
        epoch.bar.inc(1);
        let stop = self.opts.stop.requested();
        if epoch.pending_losses.len() >= self.log_every || epoch.done() || stop.is_some() {
            if let Some(diverged) = self.flush(epoch)? {
                return Ok(Some(diverged));
            }
        }
        match stop {
            Some(stop) if !epoch.done() => {
                self.checkpoint_mid_epoch(epoch)?;
                epoch.bar.abandon();
                Ok(Some(Outcome::Stopped(stop)))
            }
            _ => Ok(None),
        }
    }

    /// Dropout draws from libtorch's generator: reseeded per batch so a run resumed
    /// mid-epoch draws the same masks.
    fn reseed_dropout(&self, epoch: usize, batch: usize) {
        let m = &self.cfg.model;
        if m.recurrent.dropout > 0.0 || m.emb_dropout > 0.0 || m.fc_dropout > 0.0 {
            tch::manual_seed((self.cfg.seed ^ (epoch as u64) << 32 ^ batch as u64) as i64);
        }
    }

    /// The batch's loss and gradients; on logged steps also dL/dx of the embedded input
    /// (through a detached copy when the embedding is frozen and has no gradient).
    fn backward(&self, batch: &Batch, log_grads: bool) -> Gradients {
        let mut x = self.model.embed(&batch.tokens);
        if log_grads && self.cfg.model.embedding == EmbeddingMode::GloveFrozen {
            x = x.detach().set_requires_grad(true);
        }
        let logits = self.model.head(&x, &batch.lengths, true);
        let mut loss = logits.binary_cross_entropy_with_logits::<Tensor>(&batch.labels, None, None, tch::Reduction::Mean);
        if self.inject_nan_at == Some(self.state.global_step) {
            loss *= f64::NAN;
        }
        let mut inputs: Vec<&Tensor> = self.params.iter().collect();
        if log_grads {
            inputs.push(&x);
        }
        let mut params = Tensor::run_backward(&[&loss], &inputs, false, false);
        let input = if log_grads { params.pop() } else { None };
        Gradients { loss, logits, params, input }
    }

    /// `--clip` as torch.nn.utils.clip_grad_norm_ does it; on logged steps queues the
    /// raw norms and the totals before and after clipping.
    fn clip(&self, grads: Vec<Tensor>, log_grads: bool, pending_norms: &mut Vec<(u64, Tensor)>) -> Vec<Tensor> {
        if self.cfg.clip.is_none() && !log_grads {
            return grads;
        }
        // Norms of the raw gradients, taken before clipping changes them.
        let raw_norms = log_grads.then(|| grads::parameter_norms(&self.model, &grads));
        let pre = grads::total_norm(&grads);
        let (grads, post) = match self.cfg.clip {
            Some(max) => {
                // Scale by max/(norm+1e-6) when above.
                let coef = (Tensor::from(max).to_device(self.model.device) / (&pre + 1e-6)).clamp_max(1.0);
                let clipped: Vec<Tensor> = grads.iter().map(|g| g * &coef).collect();
                let post = grads::total_norm(&clipped);
                (clipped, post)
            }
            None => {
                let post = pre.shallow_clone();
                (grads, post)
            }
        };
        if let Some(raw) = raw_norms {
            pending_norms.push((self.state.global_step, Tensor::cat(&[raw, pre.reshape([1]), post.reshape([1])], 0)));
        }
        grads
    }

    /// Fetches the pending losses and norms from the device and logs them. `Some` when
    /// a loss is not finite: the run diverged (its failed summary is written).
    fn flush(&mut self, epoch: &mut Epoch) -> Result<Option<Outcome>> {
        let losses = fetch_losses(&mut epoch.pending_losses, epoch.number)?;
        self.log.steps(&losses)?;
        if let Some(bad) = losses.iter().map(|r| r.loss).find(|v| !v.is_finite()) {
            epoch.bar.abandon();
            let msg = format!(
                "loss became {bad} at epoch {}, step {}; lower --lr or add --clip (the last good checkpoint is kept)",
                epoch.number, self.state.global_step
            );
            self.run_dir.write_summary(&Summary::failed(&self.opts.name, &msg, &self.history))?;
            return Ok(Some(Outcome::Diverged(msg)));
        }
        let norms = fetch_norms(&mut epoch.pending_norms, self.grad_layout.len())?;
        self.log.grads(norms.iter().flat_map(|(step, values)| self.grad_layout.iter().zip(values).map(|(e, &v)| GradRow::new(epoch.number, *step, e, v))))?;
        epoch.grads.norms.extend(norms.into_iter().map(|(_, values)| values));
        if epoch.bar.length().is_some() {
            let seen = epoch.seen.max(1) as f64;
            let acc = epoch.correct.int64_value(&[]) as f64 / seen;
            epoch.bar.set_message(format!("loss {:.4} acc {:.3}", epoch.loss_sum.double_value(&[]) / seen, acc));
        }
        Ok(None)
    }

    /// A checkpoint inside an epoch, with the epoch's accumulators, for a resume that
    /// reports the same epoch metrics.
    fn checkpoint_mid_epoch(&mut self, epoch: &Epoch) -> Result<()> {
        self.state.next_batch = epoch.next_batch;
        self.state.epoch = epoch.number - 1;
        self.state.accum = Accum {
            loss_sum: epoch.loss_sum.double_value(&[]),
            correct: epoch.correct.int64_value(&[]),
            seen: epoch.seen,
            seconds: epoch.started.elapsed().as_secs_f64(),
        };
        self.save_checkpoint(&epoch.grads)
    }

    fn save_checkpoint(&mut self, epoch_grads: &EpochGrads) -> Result<()> {
        self.state.adam_step = self.adam.step;
        self.state.total_seconds = self.started.elapsed().as_secs_f64();
        let trained = Trained { model: &self.model, adam: &self.adam, average: self.average.as_ref(), names: &self.names };
        checkpoint::save(self.run_dir, trained, &self.state, epoch_grads)
    }

    /// The gradient statistics an epoch starts from: those the checkpoint saved when it
    /// resumes mid-epoch, else none yet (with `--grad-every`; nothing without).
    fn epoch_grads(&mut self, max_len: i64) -> EpochGrads {
        let resumed = self.resumed_grads.take().filter(|_| self.state.next_batch > 0).unwrap_or_default();
        if self.cfg.grad_every == 0 {
            return EpochGrads::default();
        }
        let time = resumed.time.unwrap_or_else(|| TimeGrads::new(max_len, self.model.device));
        EpochGrads { norms: resumed.norms, time: Some(time) }
    }

    /// Evaluates the epoch's model (with `--ema`, the weights' moving average), logs the
    /// epoch, keeps the best weights, and takes the end-of-epoch checkpoint.
    pub(crate) fn end_epoch(&mut self, epoch: Epoch) -> Result<EpochEnd> {
        epoch.bar.finish_and_clear();
        let row = self.with_averaged_weights(|t| t.epoch_metrics(&epoch));
        self.print_epoch(&row);
        self.log.epoch(&row)?;
        if let Some(tg) = &epoch.grads.time {
            self.log.grads_time(epoch.number, tg)?;
        }
        if self.cfg.grad_every > 0 {
            self.log.grads_epoch(epoch.number, &self.grad_layout, &epoch.grads.norms)?;
        }
        let stop_early = self.with_averaged_weights(|t| t.track_best(&row))?;
        self.history.push(row);
        self.state.epoch = epoch.number;
        self.state.next_batch = 0;
        self.state.accum = Accum::default();
        self.save_checkpoint(&EpochGrads::default())?;
        if stop_early {
            if self.opts.progress {
                crate::errln!("{}: no better validation accuracy for {} epochs; stopping early", self.opts.name, self.state.best.bad_epochs);
            }
            return Ok(EpochEnd::EarlyStop);
        }
        Ok(match self.opts.stop.requested() {
            Some(stop) => EpochEnd::Stopped(stop),
            None => EpochEnd::Next,
        })
    }

    /// Runs `f` with the model holding the weights' moving average (with `--ema`; the
    /// trained weights without), and puts the trained weights back after it.
    fn with_averaged_weights<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        if let Some(average) = self.average.as_mut() {
            average.swap(&self.params);
        }
        let out = f(self);
        if let Some(average) = self.average.as_mut() {
            average.swap(&self.params);
        }
        out
    }

    /// The epoch's row of metrics.csv: training accumulators, validation and test.
    fn epoch_metrics(&self, epoch: &Epoch) -> EpochMetrics {
        let train_seconds = epoch.started.elapsed().as_secs_f64();
        let val = self.splits.val.as_ref().map(|v| evaluate(&self.model, v, false));
        let Evaluation { loss: test_loss, acc: test_acc, .. } = evaluate(&self.model, &self.splits.test, false);
        let seen = epoch.seen.max(1) as f64;
        EpochMetrics {
            epoch: epoch.number,
            train_loss: epoch.loss_sum.double_value(&[]) / seen,
            train_acc: epoch.correct.int64_value(&[]) as f64 / seen,
            val_loss: val.as_ref().map(|e| e.loss),
            val_acc: val.as_ref().map(|e| e.acc),
            test_loss,
            test_acc,
            lr: self.adam.lr,
            epoch_seconds: epoch.started.elapsed().as_secs_f64(),
            tokens_per_s: epoch.positions as f64 / train_seconds.max(1e-9),
        }
    }

    fn print_epoch(&self, row: &EpochMetrics) {
        if self.opts.progress {
            crate::errln!(
                "{} epoch {}/{}: train loss {:.4} acc {:.4}{} test loss {:.4} acc {:.4} ({:.1} s)",
                self.opts.name,
                row.epoch,
                self.cfg.epochs,
                row.train_loss,
                row.train_acc,
                row.val_acc.map(|a| format!(" val acc {a:.4}")).unwrap_or_default(),
                row.test_loss,
                row.test_acc,
                row.epoch_seconds
            );
        }
    }

    /// Best-epoch bookkeeping: the best test epoch, the best validation epoch (whose
    /// weights go to best.ot), `--patience` and the plateau schedule. True when the
    /// run should stop early.
    fn track_best(&mut self, row: &EpochMetrics) -> Result<bool> {
        let best = &mut self.state.best;
        if row.test_acc > best.test_acc || best.epoch == 0 {
            best.test_acc = row.test_acc;
            best.epoch = row.epoch;
        }
        let Some(va) = row.val_acc else { return Ok(false) };
        if best.val_acc.is_none_or(|b| va > b) {
            best.val_acc = Some(va);
            best.test_at_best_val = Some(row.test_acc);
            best.bad_epochs = 0;
            self.model.save(&self.run_dir.best())?;
            return Ok(false);
        }
        best.bad_epochs += 1;
        if self.cfg.lr_schedule == config::LrSchedule::Plateau {
            best.lr_scale *= schedule::PLATEAU_FACTOR;
        }
        Ok(self.cfg.patience.is_some_and(|p| best.bad_epochs >= p))
    }

    /// Saves model.ot (with `--ema`, the weights' moving average) and summary.json of the
    /// finished run.
    pub(crate) fn finish(mut self) -> Result<Outcome> {
        self.with_averaged_weights(|t| t.model.save(&t.run_dir.model()))?;
        let last = self.history.last().context("no epoch completed")?;
        let best = &self.state.best;
        let summary = Summary {
            name: self.opts.name.clone(),
            status: RunStatus::Finished,
            epochs_run: self.history.len(),
            final_test_acc: last.test_acc,
            final_test_loss: last.test_loss,
            best_test_acc: best.test_acc,
            best_epoch: best.epoch,
            test_acc_at_best_val: best.test_at_best_val,
            best_val_acc: best.val_acc,
            mean_epoch_seconds: self.history.iter().map(|m| m.epoch_seconds).sum::<f64>() / self.history.len() as f64,
            total_seconds: self.started.elapsed().as_secs_f64(),
            parameters: self.model.parameter_count(),
            reason: None,
        };
        self.run_dir.write_summary(&summary)?;
        Ok(Outcome::Finished(summary))
    }
}

/// The pending losses as steps.csv rows, in one transfer from the device.
fn fetch_losses(pending: &mut Vec<(u64, usize, Tensor)>, epoch: usize) -> Result<Vec<StepRow>> {
    if pending.is_empty() {
        return Ok(Vec::new());
    }
    let stacked = Tensor::stack(&pending.iter().map(|(_, _, t)| t.shallow_clone()).collect::<Vec<_>>(), 0);
    let values: Vec<f64> = Vec::<f64>::try_from(stacked.to_kind(Kind::Double).to_device(Device::Cpu))?;
    let rows = pending.iter().zip(values).map(|(&(step, batch, _), loss)| StepRow { epoch, step, batch, loss }).collect();
    pending.clear();
    Ok(rows)
}

/// The pending norms, `per_step` values for each step, in one transfer from the device.
fn fetch_norms(pending: &mut Vec<(u64, Tensor)>, per_step: usize) -> Result<Vec<(u64, Vec<f32>)>> {
    if pending.is_empty() {
        return Ok(Vec::new());
    }
    let all = Tensor::cat(&pending.iter().map(|(_, t)| t.shallow_clone()).collect::<Vec<_>>(), 0).to_device(Device::Cpu);
    let values: Vec<f32> = Vec::<f32>::try_from(all)?;
    let out = pending.iter().zip(values.chunks(per_step)).map(|(&(step, _), chunk)| (step, chunk.to_vec())).collect();
    pending.clear();
    Ok(out)
}

fn progress(show: bool, len: u64, prefix: &str) -> ProgressBar {
    use std::io::IsTerminal;
    if !show || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{prefix} {bar:30} {pos}/{len} {per_sec} eta {eta} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_prefix(prefix.to_string());
    bar
}
