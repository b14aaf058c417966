//! Loss and accuracy of a model over a split, without gradients: the per-epoch
//! evaluations of training and `imdb-rnn eval`.
use super::batches;
use super::splits::SplitTensors;
use crate::model::Classifier;
use tch::{Device, Kind, Tensor};

/// Reviews per evaluation batch on CPU: training's 64. Larger batches allocate (and
/// page-fault) more than they save there (BENCHMARKS.md).
pub(crate) const CPU_EVAL_BATCH: usize = 64;
/// Reviews per evaluation batch on CUDA: without gradients a batch of 64 leaves the GPU
/// mostly idle between kernel launches, and 1,024 reviews of 800 tokens through a
/// bidirectional layer of 128 take ~0.2 GB of activations.
pub(crate) const CUDA_EVAL_BATCH: usize = 1024;

/// How many reviews one evaluation batch holds on `device`.
pub(crate) fn evaluation_batch_size(device: Device) -> usize {
    if device.is_cuda() {
        CUDA_EVAL_BATCH
    } else {
        CPU_EVAL_BATCH
    }
}

/// Loss and accuracy over a split, in evaluation mode.
pub(crate) struct Evaluation {
    pub loss: f64,
    pub acc: f64,
    /// P(positive) per review, in split order; only when asked for (`eval` needs them,
    /// the per-epoch evaluations of training do not).
    pub probs: Option<Tensor>,
}

/// Runs the model over `split` without gradients, in batches of
/// [`evaluation_batch_size`] for its device.
pub(crate) fn evaluate(model: &Classifier, split: &SplitTensors, keep_probs: bool) -> Evaluation {
    evaluate_in_batches(model, split, keep_probs, evaluation_batch_size(model.device))
}

/// Runs the model over `split` without gradients, `batch_size` reviews at a time. The
/// length-aware readouts see the reviews sorted by length, each batch cut to its
/// longest review ([`batches::evaluation_batches`]); `probs` come back in split order.
pub(crate) fn evaluate_in_batches(model: &Classifier, split: &SplitTensors, keep_probs: bool, batch_size: usize) -> Evaluation {
    let _guard = tch::no_grad_guard();
    let mut loss_sum = Tensor::zeros([], (Kind::Double, model.device));
    let mut correct = Tensor::zeros([], (Kind::Int64, model.device));
    let mut probs = Vec::new();
    let plans = batches::evaluation_batches(&split.host_lengths, split.max_len, batch_size, model.config.readout.is_length_aware());
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::prepare::EncodedSplit;
    use crate::model::recurrent::{Cell, RecurrentConfig};
    use crate::model::{ModelConfig, Readout};

    /// 300 reviews of 1..=20 tokens, labels by the parity of the first token.
    fn split() -> EncodedSplit {
        let (n, max_len) = (300usize, 20usize);
        let mut s = EncodedSplit { ids: vec![], ratings: vec![], labels: vec![], lengths: vec![], tokens: vec![0; n * max_len] };
        for i in 0..n {
            let len = 1 + (i * 7) % max_len;
            for t in 0..len {
                s.tokens[i * max_len + t] = 2 + ((i * 31 + t * 17) % 50) as u32;
            }
            s.ids.push(i as u32);
            s.ratings.push(1);
            s.labels.push((s.tokens[i * max_len] % 2) as u8);
            s.lengths.push(len as u32);
        }
        s
    }

    #[test]
    fn evaluation_in_large_batches_gives_the_loss_accuracy_and_probabilities_of_batches_of_64() {
        let split = SplitTensors::new(&split(), 20, Device::Cpu);
        for readout in [Readout::Final, Readout::Last, Readout::MeanMax] {
            let recurrent = RecurrentConfig { cell: Cell::Gru, input_size: 8, hidden_size: 6, bidirectional: true, ..RecurrentConfig::default() };
            let config = ModelConfig { vocab_size: 52, recurrent, readout, ..ModelConfig::default() };
            tch::manual_seed(3);
            let model = Classifier::new(&config, Device::Cpu, None).unwrap();
            let small = evaluate_in_batches(&model, &split, true, CPU_EVAL_BATCH);
            let large = evaluate_in_batches(&model, &split, true, CUDA_EVAL_BATCH);
            assert_eq!(small.acc, large.acc, "{readout:?}");
            assert!((small.loss - large.loss).abs() < 1e-6, "{readout:?}: {} vs {}", small.loss, large.loss);
            let gap = (small.probs.unwrap() - large.probs.unwrap()).abs().max().double_value(&[]);
            assert!(gap < 1e-6, "{readout:?}: probabilities differ by {gap}");
        }
        assert_eq!(evaluation_batch_size(Device::Cpu), CPU_EVAL_BATCH);
        assert_eq!(evaluation_batch_size(Device::Cuda(0)), CUDA_EVAL_BATCH);
    }
}
