//! Adam (Kingma & Ba, with PyTorch's defaults and update order) on plain tensors, so its
//! state can be checkpointed and a resumed run continues bit-identically.
use tch::Tensor;

#[derive(Debug)]
pub struct Adam {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    /// Updates taken so far.
    pub step: i64,
    /// First and second moment estimates, one per parameter, same order as the params.
    pub m: Vec<Tensor>,
    pub v: Vec<Tensor>,
}

impl Adam {
    pub fn new(params: &[&Tensor], lr: f64) -> Adam {
        Adam {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            step: 0,
            m: params.iter().map(|p| p.zeros_like().detach()).collect(),
            v: params.iter().map(|p| p.zeros_like().detach()).collect(),
        }
    }

    /// One update: `p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)`.
    ///
    /// In place, in the order of `torch.optim.Adam`'s single-tensor path, with two
    /// temporaries per parameter: the plain RNN's epoch is short enough that an update
    /// which allocated nine (the first version) cost a measurable share of it (BENCHMARKS.md).
    pub fn step(&mut self, params: &[&Tensor], grads: &[Tensor]) {
        let _guard = tch::no_grad_guard();
        self.step += 1;
        let bc1 = 1.0 - self.beta1.powi(self.step as i32);
        let bc2_sqrt = (1.0 - self.beta2.powi(self.step as i32)).sqrt();
        let step_size = self.lr / bc1;
        for ((p, g), (m, v)) in params.iter().zip(grads).zip(self.m.iter_mut().zip(self.v.iter_mut())) {
            let _ = m.lerp_(g, 1.0 - self.beta1);
            // tch's addcmul_ takes no scale, so (1 - b2) goes on one factor.
            let _ = v.g_mul_scalar_(self.beta2).addcmul_(g, &(g * (1.0 - self.beta2)));
            // addcdiv_ takes no scale either: -step_size is folded into the denominator.
            let mut denom = v.sqrt();
            let _ = denom.g_div_scalar_(bc2_sqrt).g_add_scalar_(self.eps).g_div_scalar_(-step_size);
            let _ = p.shallow_clone().addcdiv_(m, &denom);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PyTorch's Adam written out in f64 for one scalar parameter.
    fn reference(p0: f64, grads: &[f64], lr: f64) -> f64 {
        let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-8);
        let (mut p, mut m, mut v) = (p0, 0.0, 0.0);
        for (t, g) in grads.iter().enumerate() {
            let t = t as i32 + 1;
            m = b1 * m + (1.0 - b1) * g;
            v = b2 * v + (1.0 - b2) * g * g;
            let denom = (v.sqrt() / (1.0 - b2.powi(t)).sqrt()) + eps;
            p -= lr / (1.0 - b1.powi(t)) * m / denom;
        }
        p
    }

    #[test]
    fn adam_matches_pytorchs_update_rule_over_several_steps() {
        let start = [1.0f64, -2.0, 0.5, 3.0];
        // Per step, per element: signs and sizes vary so m and v do not move in lockstep.
        let grads: Vec<[f64; 4]> = vec![[0.1, -0.3, 2.0, 0.0], [0.2, 0.1, -1.0, 1e-3], [-0.5, 0.4, 0.3, 5.0], [1.0, -0.2, 0.0, -2.0]];
        let p = Tensor::from_slice(&start).to_kind(tch::Kind::Float);
        let mut adam = Adam::new(&[&p], 0.01);
        for g in &grads {
            adam.step(&[&p], &[Tensor::from_slice(g).to_kind(tch::Kind::Float)]);
        }
        let got: Vec<f32> = Vec::try_from(&p).unwrap();
        for i in 0..4 {
            let want = reference(start[i], &grads.iter().map(|g| g[i]).collect::<Vec<_>>(), 0.01);
            assert!((got[i] as f64 - want).abs() < 1e-5, "element {i}: got {}, want {want}", got[i]);
        }
        assert_eq!(adam.step, 4);
    }
}
