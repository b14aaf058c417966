//! `--ema`: an exponential moving average of the trained weights, updated after every
//! step, which the run evaluates and saves in place of the weights themselves.
use tch::Tensor;

/// Steps over which the average warms up: at step t the decay is at most
/// (1 + t) / (WARMUP + t), so the first steps are not averaged with the random start.
const WARMUP: f64 = 10.0;

/// The moving average of the trainable parameters (in the trainer's order).
pub(crate) struct WeightAverage {
    decay: f64,
    /// One tensor per trainable parameter, shaped like it.
    pub(crate) averages: Vec<Tensor>,
}

impl WeightAverage {
    /// Starts the average at the parameters' current values.
    pub(crate) fn new(params: &[Tensor], decay: f64) -> WeightAverage {
        let _guard = tch::no_grad_guard();
        WeightAverage { decay, averages: params.iter().map(|p| p.detach().copy()).collect() }
    }

    /// The decay used after the `step`-th step (counted from 1).
    pub(crate) fn decay_at(&self, step: u64) -> f64 {
        self.decay.min((1.0 + step as f64) / (WARMUP + step as f64))
    }

    /// Folds the weights after the `step`-th step into the average:
    /// average = d * average + (1 - d) * weight.
    pub(crate) fn update(&mut self, params: &[Tensor], step: u64) {
        let weight = 1.0 - self.decay_at(step);
        let _guard = tch::no_grad_guard();
        for (avg, p) in self.averages.iter_mut().zip(params) {
            let _ = avg.lerp_(p, weight);
        }
    }

    /// Exchanges the parameters' values with the average's: called once to evaluate or
    /// save the averaged model, and once more to go on training the weights themselves.
    pub(crate) fn swap(&mut self, params: &[Tensor]) {
        let _guard = tch::no_grad_guard();
        for (avg, p) in self.averages.iter_mut().zip(params) {
            let trained = p.detach().copy();
            let mut p = p.shallow_clone();
            p.copy_(avg);
            avg.copy_(&trained);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(t: &Tensor) -> Vec<f32> {
        Vec::<f32>::try_from(t.flatten(0, -1)).unwrap()
    }

    #[test]
    fn the_average_follows_the_weights_with_the_warmed_up_decay() {
        let p = Tensor::from_slice(&[0.0f32, 10.0]);
        let mut avg = WeightAverage::new(&[p.shallow_clone()], 0.9);
        assert_eq!(avg.decay_at(1), 2.0 / 11.0);
        assert_eq!(avg.decay_at(1_000), 0.9);
        let _ = p.shallow_clone().fill_(1.0);
        avg.update(&[p.shallow_clone()], 1);
        // 2/11 of the start, 9/11 of the new weight.
        let d = 2.0f32 / 11.0;
        let expected = [d * 0.0 + (1.0 - d) * 1.0, d * 10.0 + (1.0 - d) * 1.0];
        for (got, want) in values(&avg.averages[0]).iter().zip(expected) {
            assert!((got - want).abs() < 1e-6, "{got} vs {want}");
        }
    }

    #[test]
    fn swapping_twice_gives_back_the_trained_weights() {
        let p = Tensor::from_slice(&[1.0f32, 2.0, 3.0]);
        let mut avg = WeightAverage::new(&[p.shallow_clone()], 0.5);
        let _ = p.shallow_clone().fill_(7.0);
        avg.swap(&[p.shallow_clone()]);
        assert_eq!(values(&p), [1.0, 2.0, 3.0]);
        assert_eq!(values(&avg.averages[0]), [7.0, 7.0, 7.0]);
        avg.swap(&[p.shallow_clone()]);
        assert_eq!(values(&p), [7.0, 7.0, 7.0]);
        assert_eq!(values(&avg.averages[0]), [1.0, 2.0, 3.0]);
    }
}
