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
    pub fn step(&mut self, params: &[&Tensor], grads: &[Tensor]) {
        let _guard = tch::no_grad_guard();
        self.step += 1;
        let bc1 = 1.0 - self.beta1.powi(self.step as i32);
        let bc2_sqrt = (1.0 - self.beta2.powi(self.step as i32)).sqrt();
        let step_size = self.lr / bc1;
        for ((p, g), (m, v)) in params.iter().zip(grads).zip(self.m.iter_mut().zip(self.v.iter_mut())) {
            let _ = m.g_mul_scalar_(self.beta1).g_add_(&(g * (1.0 - self.beta1)));
            let _ = v.g_mul_scalar_(self.beta2).g_add_(&(g * g * (1.0 - self.beta2)));
            let denom = (v.sqrt() / bc2_sqrt) + self.eps;
            let _ = p.shallow_clone().g_sub_(&(&*m / denom * step_size));
        }
    }
}
