//! Which reviews make up each batch: the per-epoch sampler (`--batching random|bucket`),
//! a pure function of (seed, epoch) so a resumed run draws the same batches, and the
//! `Batch` it cuts out of a split's device tensors.
use super::config::Batching;
use crate::util::Rng;
use tch::{Device, Tensor};

/// Reviews per pool when bucketing: pools of this many batches are sorted by length, so
/// batches hold similar lengths while which reviews meet still changes every epoch.
pub(crate) const POOL_BATCHES: usize = 50;

/// One batch of an epoch, as the sampler plans it on the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BatchPlan {
    /// Row indices into the split.
    pub rows: Vec<usize>,
    /// Token positions the batch keeps: `max_len` for random batches, the longest of its
    /// reviews (capped at `max_len`, at least 1) for bucketed ones.
    pub width: usize,
}

/// A review's length as the model sees it: at most `max_len`, at least 1.
pub(crate) fn kept_length(length: u32, max_len: usize) -> usize {
    (length as usize).clamp(1, max_len)
}

/// The batches of `epoch` (1-based) over reviews of true `lengths`.
///
/// `random`: a seeded permutation cut into batches of `batch_size`, each `max_len` wide.
/// `bucket`: the same permutation cut into pools of [`POOL_BATCHES`] batches; each pool
/// is sorted by kept length (ties keep permutation order), cut into batches, each
/// trimmed to its longest review; then the order of all batches is shuffled.
pub(crate) fn epoch_batches(lengths: &[u32], max_len: usize, batch_size: usize, batching: Batching, seed: u64, epoch: usize) -> Vec<BatchPlan> {
    let perm = Rng::derive(seed, 10_000 + epoch as u64).permutation(lengths.len());
    match batching {
        Batching::Random => perm.chunks(batch_size).map(|rows| BatchPlan { rows: rows.to_vec(), width: max_len }).collect(),
        Batching::Bucket => {
            let mut plans: Vec<BatchPlan> = Vec::with_capacity(lengths.len().div_ceil(batch_size));
            for pool in perm.chunks(batch_size * POOL_BATCHES) {
                let mut pool = pool.to_vec();
                pool.sort_by_key(|&i| kept_length(lengths[i], max_len));
                for rows in pool.chunks(batch_size) {
                    let width = rows.iter().map(|&i| kept_length(lengths[i], max_len)).max().unwrap_or(1);
                    plans.push(BatchPlan { rows: rows.to_vec(), width });
                }
            }
            Rng::derive(seed, 20_000 + epoch as u64).shuffle(&mut plans);
            plans
        }
    }
}

/// The evaluation batches of a split: in split order at full width for the `final`
/// readout; for the length-aware ones sorted by length and each trimmed to its longest
/// review (order does not change a review's result, padding only costs time).
pub(crate) fn evaluation_batches(lengths: &[u32], max_len: usize, batch_size: usize, length_aware: bool) -> Vec<BatchPlan> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    if !length_aware {
        return order.chunks(batch_size).map(|rows| BatchPlan { rows: rows.to_vec(), width: max_len }).collect();
    }
    order.sort_by_key(|&i| kept_length(lengths[i], max_len));
    order
        .chunks(batch_size)
        .map(|rows| BatchPlan { rows: rows.to_vec(), width: rows.iter().map(|&i| kept_length(lengths[i], max_len)).max().unwrap_or(1) })
        .collect()
}

/// Rows of reviews on the device: a whole split, or one batch cut out of it.
pub(crate) struct Batch {
    /// `[B, width]` int64 token ids.
    pub tokens: Tensor,
    /// `[B]` float 0/1 (empty when the reviews have no labels, as in `predict`).
    pub labels: Tensor,
    /// `[B]` int64 true lengths (uncapped).
    pub lengths: Tensor,
}

impl Batch {
    /// Host rows as device tensors: `tokens` holds `lengths.len()` rows of `width` ids;
    /// `labels` is one per row, or empty for unlabelled reviews.
    pub(crate) fn upload(tokens: &[i64], width: usize, lengths: &[i64], labels: &[f32], device: Device) -> Batch {
        Batch {
            tokens: Tensor::from_slice(tokens).reshape([lengths.len() as i64, width as i64]).to_device(device),
            labels: Tensor::from_slice(labels).to_device(device),
            lengths: Tensor::from_slice(lengths).to_device(device),
        }
    }

    /// The rows `plan` names, keeping their first `plan.width` positions: how training,
    /// evaluation and gradient logging all cut a batch out of a split.
    pub(crate) fn select(&self, plan: &BatchPlan) -> Batch {
        let rows: Vec<i64> = plan.rows.iter().map(|&i| i as i64).collect();
        let index = Tensor::from_slice(&rows).to_device(self.tokens.device());
        Batch {
            tokens: self.tokens.narrow(1, 0, plan.width as i64).index_select(0, &index),
            labels: self.labels.index_select(0, &index),
            lengths: self.lengths.index_select(0, &index),
        }
    }

    /// Reviews in the batch.
    pub(crate) fn len(&self) -> i64 {
        self.lengths.size()[0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lengths(n: usize) -> Vec<u32> {
        let mut r = Rng::new(3);
        (0..n).map(|_| 1 + r.below(600) as u32).collect()
    }

    #[test]
    fn random_batches_are_the_seeded_permutation_in_order_at_full_width() {
        let l = lengths(130);
        let plans = epoch_batches(&l, 200, 64, Batching::Random, 5, 2);
        let flat: Vec<usize> = plans.iter().flat_map(|p| p.rows.clone()).collect();
        assert_eq!(flat, Rng::derive(5, 10_002).permutation(130));
        assert_eq!(plans.iter().map(|p| p.rows.len()).collect::<Vec<_>>(), vec![64, 64, 2]);
        assert!(plans.iter().all(|p| p.width == 200));
    }

    #[test]
    fn bucketing_takes_every_review_once_per_epoch() {
        let l = lengths(7000);
        for epoch in 1..=3 {
            let plans = epoch_batches(&l, 400, 32, Batching::Bucket, 1, epoch);
            let mut seen: Vec<usize> = plans.iter().flat_map(|p| p.rows.clone()).collect();
            seen.sort_unstable();
            assert_eq!(seen, (0..7000).collect::<Vec<_>>(), "epoch {epoch}");
            assert_eq!(plans.len(), 7000usize.div_ceil(32));
        }
    }

    #[test]
    fn bucketing_is_a_pure_function_of_seed_and_epoch() {
        let l = lengths(5000);
        let a = epoch_batches(&l, 400, 32, Batching::Bucket, 1, 4);
        assert_eq!(a, epoch_batches(&l, 400, 32, Batching::Bucket, 1, 4));
        assert_ne!(a, epoch_batches(&l, 400, 32, Batching::Bucket, 1, 5), "epochs differ");
        assert_ne!(a, epoch_batches(&l, 400, 32, Batching::Bucket, 2, 4), "seeds differ");
    }

    #[test]
    fn bucketed_batches_are_sorted_within_pools_and_trimmed_to_their_longest_review() {
        let (n, bs, max_len) = (7000, 32, 400);
        let l = lengths(n);
        let plans = epoch_batches(&l, max_len, bs, Batching::Bucket, 9, 1);
        let kept = |i: usize| kept_length(l[i], max_len);
        for p in &plans {
            let longest = p.rows.iter().map(|&i| kept(i)).max().unwrap();
            assert_eq!(p.width, longest);
            assert!(p.rows.windows(2).all(|w| kept(w[0]) <= kept(w[1])), "a batch is sorted by length");
        }
        // Rebuild each pool from the permutation: its batches, in sorted order, tile the
        // pool sorted by length.
        let perm = Rng::derive(9, 10_001).permutation(n);
        let mut batches_checked = 0;
        for pool in perm.chunks(bs * POOL_BATCHES) {
            let mut sorted = pool.to_vec();
            sorted.sort_by_key(|&i| kept(i));
            for rows in sorted.chunks(bs) {
                assert!(plans.iter().any(|p| p.rows == rows), "a batch of the sorted pool is missing");
                batches_checked += 1;
            }
        }
        assert_eq!(batches_checked, plans.len());
        // Bucketing really removes padding: within 2% of the real tokens.
        let bucket_cells: usize = plans.iter().map(|p| p.width * p.rows.len()).sum();
        let real: usize = (0..n).map(kept).sum();
        assert!(bucket_cells * 100 < real * 102, "{bucket_cells} cells for {real} real tokens");
        // The batch order is shuffled, not pool by pool in ascending length.
        assert!(plans.windows(2).any(|w| w[0].width > w[1].width));
    }

    #[test]
    fn evaluation_batches_cover_the_split_sorted_for_length_aware_readouts() {
        let l = lengths(300);
        let full = evaluation_batches(&l, 200, 64, false);
        assert_eq!(full.iter().flat_map(|p| p.rows.clone()).collect::<Vec<_>>(), (0..300).collect::<Vec<_>>());
        assert!(full.iter().all(|p| p.width == 200));
        let sorted = evaluation_batches(&l, 200, 64, true);
        let mut rows: Vec<usize> = sorted.iter().flat_map(|p| p.rows.clone()).collect();
        assert!(rows.windows(2).all(|w| kept_length(l[w[0]], 200) <= kept_length(l[w[1]], 200)));
        rows.sort_unstable();
        assert_eq!(rows, (0..300).collect::<Vec<_>>());
        assert!(sorted.iter().all(|p| p.width == p.rows.iter().map(|&i| kept_length(l[i], 200)).max().unwrap()));
    }
}
