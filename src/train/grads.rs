//! Gradient norms for the vanishing-gradient study: per parameter, per gate, per layer
//! and direction, computed on the device and fetched in one transfer per logging step.
use crate::model::Classifier;
use tch::{Kind, Tensor};

/// What one logged norm is the norm of.
#[derive(Clone, Debug, PartialEq)]
pub struct NormEntry {
    /// Recurrent layer index, `None` for the embedding, classifier and totals.
    pub layer: Option<i64>,
    /// `forward` or `reverse` (`-` outside the recurrent stack).
    pub direction: &'static str,
    /// PyTorch name without the layer suffix: `weight_ih`, `bias_hh`, `embedding.weight`,
    /// `fc.weight`, `total_pre_clip`, `total_post_clip`.
    pub parameter: String,
    /// Gate (`i f g o` for LSTM, `r z n` for GRU, `h` for RNN) or `all`.
    pub gate: &'static str,
}

/// The list of norms logged for a model, in the order [`parameter_norms`] returns them.
pub fn layout(model: &Classifier) -> Vec<NormEntry> {
    let gates = model.config.recurrent.cell.gate_names();
    let mut out = Vec::new();
    for (name, _) in model.trainable_parameters() {
        match parse_rnn_name(&name) {
            Some((param, layer, direction)) => {
                out.push(NormEntry { layer: Some(layer), direction, parameter: param.clone(), gate: "all" });
                if gates.len() > 1 {
                    for g in gates {
                        out.push(NormEntry { layer: Some(layer), direction, parameter: param.clone(), gate: g });
                    }
                }
            }
            None => out.push(NormEntry { layer: None, direction: "-", parameter: name, gate: "all" }),
        }
    }
    for total in ["total_pre_clip", "total_post_clip"] {
        out.push(NormEntry { layer: None, direction: "-", parameter: total.into(), gate: "all" });
    }
    out
}

/// `rnn.weight_hh_l2_reverse` -> (`weight_hh`, 2, `reverse`).
fn parse_rnn_name(name: &str) -> Option<(String, i64, &'static str)> {
    let rest = name.strip_prefix("rnn.")?;
    let (rest, direction) = match rest.strip_suffix("_reverse") {
        Some(r) => (r, "reverse"),
        None => (rest, "forward"),
    };
    let (param, layer) = rest.rsplit_once("_l")?;
    Some((param.to_string(), layer.parse().ok()?, direction))
}

/// Total L2 norm of a set of gradients, as a 0-d tensor on their device.
pub fn total_norm(grads: &[Tensor]) -> Tensor {
    let squares: Vec<Tensor> = grads.iter().map(|g| g.square().sum(Kind::Float)).collect();
    Tensor::stack(&squares, 0).sum(Kind::Float).sqrt()
}

/// Every norm of [`layout`] but the two totals, as one 1-D float tensor on the device.
/// `grads` are the trainable parameters' raw gradients (before clipping).
pub fn parameter_norms(model: &Classifier, grads: &[Tensor]) -> Tensor {
    let gates = model.config.recurrent.cell.gates();
    let mut parts: Vec<Tensor> = Vec::new();
    for ((name, _), g) in model.trainable_parameters().iter().zip(grads) {
        let full = g.norm().reshape([1]);
        parts.push(full);
        if name.starts_with("rnn.") && gates > 1 {
            // Rows are stacked gate by gate: [gates * H, ...] -> [gates, H * ...].
            let per_gate = g.reshape([gates, -1]).square().sum_dim_intlist(1, false, Kind::Float).sqrt();
            parts.push(per_gate);
        }
    }
    Tensor::cat(&parts, 0)
}

/// Per-position statistics of dL/dx_t (gradient w.r.t. the input embedding), summed
/// over an epoch on the device: positions counted from the start of the review and
/// back from its last real token.
pub struct TimeGrads {
    /// `[T]` sums of ||dL/dx_t|| over real tokens at position t from the start.
    pub from_start: Tensor,
    pub count_start: Tensor,
    /// `[T]` the same at position r = length-1-t back from the last real token.
    pub from_end: Tensor,
    pub count_end: Tensor,
}

impl TimeGrads {
    pub fn new(max_len: i64, device: tch::Device) -> TimeGrads {
        let z = || Tensor::zeros([max_len], (Kind::Float, device));
        TimeGrads { from_start: z(), count_start: z(), from_end: z(), count_end: z() }
    }

    /// `gx: [B, T, E]` (T at most the max_len given to `new`) the gradient w.r.t. the
    /// embedded batch; `lengths: [B]` int64.
    pub fn add(&mut self, gx: &Tensor, lengths: &Tensor) {
        let _guard = tch::no_grad_guard();
        let (b, t) = (gx.size()[0], gx.size()[1]);
        let norms = gx.square().sum_dim_intlist(2, false, Kind::Float).sqrt(); // [B, T]
        let positions = Tensor::arange(t, (Kind::Int64, gx.device())).unsqueeze(0).expand([b, t], false);
        let len = lengths.clamp(0, t).unsqueeze(1);
        let real = positions.lt_tensor(&len).to_kind(Kind::Float); // [B, T]
        let masked = &norms * &real;
        // A bucketed batch is cut to its longest review: it covers the first t positions.
        let _ = self.from_start.narrow(0, 0, t).g_add_(&masked.sum_dim_intlist(0, false, Kind::Float));
        let _ = self.count_start.narrow(0, 0, t).g_add_(&real.sum_dim_intlist(0, false, Kind::Float));
        // Back from the end: r = len - 1 - t, clamped so pads (r < 0) land in bucket 0
        // with weight 0.
        let back = (&len - 1 - &positions).clamp_min(0).reshape([-1]);
        let _ = self.from_end.scatter_add_(0, &back, &masked.reshape([-1]));
        let _ = self.count_end.scatter_add_(0, &back, &real.reshape([-1]));
    }
}
