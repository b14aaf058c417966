//! Adam (Kingma & Ba, with PyTorch's defaults and update order), or AdamW with decoupled
//! weight decay, on plain tensors, so its state can be checkpointed and a resumed run
//! continues bit-identically; fused on CPU.
use tch::Tensor;

#[derive(Debug)]
pub struct Adam {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    /// Decoupled weight decay (`torch.optim.AdamW`): each update first multiplies the
    /// parameters by `1 - lr * weight_decay`. 0 is plain Adam.
    pub weight_decay: f64,
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
            weight_decay: 0.0,
            step: 0,
            m: params.iter().map(|p| p.zeros_like().detach()).collect(),
            v: params.iter().map(|p| p.zeros_like().detach()).collect(),
        }
    }

    /// One update: `p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)`, in
    /// `torch.optim.Adam`'s order (after AdamW's decay, when set). On the CPU, one fused
    /// pass over each parameter's floats; elsewhere (CUDA), tensor ops.
    pub fn step(&mut self, params: &[&Tensor], grads: &[Tensor]) {
        let _guard = tch::no_grad_guard();
        self.step += 1;
        let k = self.coefficients();
        for ((p, g), (m, v)) in params.iter().zip(grads).zip(self.m.iter_mut().zip(self.v.iter_mut())) {
            if !fused_cpu_update(p, g, m, v, &k) {
                tensor_ops_update(p, g, m, v, &k);
            }
        }
    }

    fn coefficients(&self) -> Coefficients {
        Coefficients {
            beta1: self.beta1,
            beta2: self.beta2,
            eps: self.eps,
            decay: 1.0 - self.lr * self.weight_decay,
            bc2_sqrt: (1.0 - self.beta2.powi(self.step as i32)).sqrt(),
            step_size: self.lr / (1.0 - self.beta1.powi(self.step as i32)),
        }
    }
}

/// The scalars of one update.
struct Coefficients {
    beta1: f64,
    beta2: f64,
    eps: f64,
    /// 1 - lr * weight_decay
    decay: f64,
    /// sqrt(1 - beta2^t)
    bc2_sqrt: f64,
    /// lr / (1 - beta1^t)
    step_size: f64,
}

/// The update as libtorch ops, two temporaries per parameter (any device).
fn tensor_ops_update(p: &Tensor, g: &Tensor, m: &mut Tensor, v: &mut Tensor, k: &Coefficients) {
    if k.decay != 1.0 {
        let _ = p.shallow_clone().g_mul_scalar_(k.decay);
    }
    let _ = m.lerp_(g, 1.0 - k.beta1);
    // tch's addcmul_ takes no scale, so (1 - b2) goes on one factor.
    let _ = v.g_mul_scalar_(k.beta2).addcmul_(g, &(g * (1.0 - k.beta2)));
    // addcdiv_ takes no scale either: -step_size is folded into the denominator.
    let mut denom = v.sqrt();
    let _ = denom.g_div_scalar_(k.bc2_sqrt).g_add_scalar_(k.eps).g_div_scalar_(-k.step_size);
    let _ = p.shallow_clone().addcdiv_(m, &denom);
}

/// The update in one pass over contiguous CPU floats; false (nothing done) otherwise.
///
/// Why: `torch.optim.Adam`'s seven ops over the 1M-value embedding take ~12 ms a step on
/// one core, ~15% of a plain-RNN epoch; one pass reads and writes each value once
/// (BENCHMARKS.md). Same arithmetic as the ops, in f32: lerp, then v, then the step.
fn fused_cpu_update(p: &Tensor, g: &Tensor, m: &Tensor, v: &Tensor, k: &Coefficients) -> bool {
    let n = p.numel();
    let fits = |t: &Tensor| t.device() == tch::Device::Cpu && t.kind() == tch::Kind::Float && t.is_contiguous() && t.numel() == n;
    if ![p, g, m, v].into_iter().all(fits) {
        return false;
    }
    // SAFETY: four distinct tensors (parameter, its gradient and Adam's own two buffers),
    // each contiguous f32 on the CPU with n values, checked above; no other thread
    // touches them during the step (gradients are no longer being written).
    let (p, g, m, v) = unsafe {
        (
            std::slice::from_raw_parts_mut(p.data_ptr() as *mut f32, n),
            std::slice::from_raw_parts(g.data_ptr() as *const f32, n),
            std::slice::from_raw_parts_mut(m.data_ptr() as *mut f32, n),
            std::slice::from_raw_parts_mut(v.data_ptr() as *mut f32, n),
        )
    };
    let (w1, b2, w2) = ((1.0 - k.beta1) as f32, k.beta2 as f32, (1.0 - k.beta2) as f32);
    let (bc2_sqrt, eps, step_size, decay) = (k.bc2_sqrt as f32, k.eps as f32, k.step_size as f32, k.decay as f32);
    if decay != 1.0 {
        p.iter_mut().for_each(|x| *x *= decay);
    }
    for i in 0..n {
        let gi = g[i];
        let mi = m[i] + w1 * (gi - m[i]);
        let vi = v[i] * b2 + w2 * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] -= step_size * mi / (vi.sqrt() / bc2_sqrt + eps);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PyTorch's Adam (AdamW when `wd > 0`) written out in f64 for one scalar parameter.
    fn reference(p0: f64, grads: &[f64], lr: f64, wd: f64) -> f64 {
        let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-8);
        let (mut p, mut m, mut v) = (p0, 0.0, 0.0);
        for (t, g) in grads.iter().enumerate() {
            let t = t as i32 + 1;
            p *= 1.0 - lr * wd;
            m = b1 * m + (1.0 - b1) * g;
            v = b2 * v + (1.0 - b2) * g * g;
            let denom = (v.sqrt() / (1.0 - b2.powi(t)).sqrt()) + eps;
            p -= lr / (1.0 - b1.powi(t)) * m / denom;
        }
        p
    }

    /// Runs `grads` through our Adam (fused when `contiguous`, tensor ops otherwise) and
    /// checks every element against the f64 reference.
    fn check_against_reference(wd: f64, contiguous: bool) {
        let start = [1.0f64, -2.0, 0.5, 3.0];
        // Per step, per element: signs and sizes vary so m and v do not move in lockstep.
        let grads: Vec<[f64; 4]> = vec![[0.1, -0.3, 2.0, 0.0], [0.2, 0.1, -1.0, 1e-3], [-0.5, 0.4, 0.3, 5.0], [1.0, -0.2, 0.0, -2.0]];
        let p = Tensor::from_slice(&start).to_kind(tch::Kind::Float);
        let mut adam = Adam::new(&[&p], 0.01);
        adam.weight_decay = wd;
        for g in &grads {
            let g = Tensor::from_slice(g).to_kind(tch::Kind::Float);
            let g = if contiguous { g } else { Tensor::stack(&[&g, &g], 1).select(1, 0) };
            adam.step(&[&p], &[g]);
        }
        let got: Vec<f32> = Vec::try_from(&p).unwrap();
        for i in 0..4 {
            let want = reference(start[i], &grads.iter().map(|g| g[i]).collect::<Vec<_>>(), 0.01, wd);
            assert!((got[i] as f64 - want).abs() < 1e-5, "wd {wd}, element {i}: got {}, want {want}", got[i]);
        }
        assert_eq!(adam.step, 4);
    }

    #[test]
    fn adam_matches_pytorchs_update_rule_over_several_steps() {
        check_against_reference(0.0, true);
        check_against_reference(0.0, false);
    }

    #[test]
    fn adamw_decays_the_weights_as_pytorchs_adamw_on_both_paths() {
        // A large decay (lr x wd = 0.05 a step) so it shows far above the tolerance.
        check_against_reference(5.0, true);
        check_against_reference(5.0, false);
        // And it does change the result.
        let with = reference(3.0, &[0.1, 0.1], 0.01, 5.0);
        assert!((with - reference(3.0, &[0.1, 0.1], 0.01, 0.0)).abs() > 0.1);
    }

    #[test]
    fn the_fused_cpu_pass_and_the_tensor_ops_give_the_same_update() {
        let p0 = Tensor::randn([1000], (tch::Kind::Float, tch::Device::Cpu));
        let grads: Vec<Tensor> = (0..5).map(|_| Tensor::randn([1000], (tch::Kind::Float, tch::Device::Cpu))).collect();
        let (fused, ops) = (p0.copy(), p0.copy());
        let (mut a, mut b) = (Adam::new(&[&fused], 0.01), Adam::new(&[&ops], 0.01));
        for g in &grads {
            a.step(&[&fused], &[g.shallow_clone()]);
            // Not contiguous, so the same step takes the ops path.
            let strided = Tensor::stack(&[g, g], 1).select(1, 0);
            assert!(!strided.is_contiguous());
            b.step(&[&ops], &[strided]);
        }
        let moved = (&fused - &p0).abs().max().double_value(&[]);
        let diff = (&fused - &ops).abs().max().double_value(&[]);
        assert!(moved > 1e-3, "the parameters did not move: {moved}");
        assert!(diff < 1e-6, "fused and ops updates differ by {diff}");
    }
}
