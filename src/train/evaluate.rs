//! Loss and accuracy of a model over a split, without gradients: the per-epoch
//! evaluations of training and `imdb-rnn eval`.
use super::batches;
use super::splits::SplitTensors;
use crate::model::Classifier;
use tch::{Kind, Tensor};

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
