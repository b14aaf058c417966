//! A stack of recurrent layers (tanh/ReLU RNN, LSTM, GRU) on libtorch's fused kernels
//! (`rnn_tanh`, `lstm`, `gru` and their packed `_data` forms; cuDNN on GPU), with
//! PyTorch's parameter names, layout and default initialisation, padded, packed, or
//! padded with packing's semantics at the real positions (`forward_masked`).
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

/// The recurrent cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Cell {
    /// Elman RNN, `h' = act(W_ih x + b_ih + W_hh h + b_hh)` (torch.nn.RNN).
    Rnn,
    /// Long short-term memory, gates i, f, g, o (torch.nn.LSTM).
    Lstm,
    /// Gated recurrent unit, gates r, z, n (torch.nn.GRU).
    Gru,
}

impl Default for Cell {
    fn default() -> Self {
        RecurrentConfig::DEFAULT.cell
    }
}

impl Cell {
    /// Every cell, in the course's order.
    pub const ALL: [Cell; 3] = [Cell::Rnn, Cell::Lstm, Cell::Gru];

    /// Rows stacked in each weight matrix per hidden unit.
    pub fn gates(self) -> i64 {
        match self {
            Cell::Rnn => 1,
            Cell::Lstm => 4,
            Cell::Gru => 3,
        }
    }
    /// Gate names in PyTorch's row order.
    pub fn gate_names(self) -> &'static [&'static str] {
        match self {
            Cell::Rnn => &["h"],
            Cell::Lstm => &["i", "f", "g", "o"],
            Cell::Gru => &["r", "z", "n"],
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Cell::Rnn => "rnn",
            Cell::Lstm => "lstm",
            Cell::Gru => "gru",
        }
    }
}

/// Activation of the plain RNN.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Nonlinearity {
    Tanh,
    Relu,
}

impl Default for Nonlinearity {
    fn default() -> Self {
        RecurrentConfig::DEFAULT.nonlinearity
    }
}

/// Shape of a recurrent stack.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecurrentConfig {
    pub cell: Cell,
    pub nonlinearity: Nonlinearity,
    pub input_size: i64,
    pub hidden_size: i64,
    pub num_layers: i64,
    pub bidirectional: bool,
    /// Dropout on the outputs of each layer but the last, during training.
    pub dropout: f64,
}

impl RecurrentConfig {
    /// The course's recurrent stack: one LSTM layer of 128 over 100-d embeddings. Every
    /// default of the stack is written here once.
    pub const DEFAULT: RecurrentConfig = RecurrentConfig {
        cell: Cell::Lstm,
        nonlinearity: Nonlinearity::Tanh,
        input_size: 100,
        hidden_size: 128,
        num_layers: 1,
        bidirectional: false,
        dropout: 0.0,
    };
}

impl Default for RecurrentConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A recurrent stack. Parameters live in `params` in PyTorch's `_flat_weights` order:
/// for each layer, for each direction, `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`.
#[derive(Debug)]
pub struct Recurrent {
    pub config: RecurrentConfig,
    /// `(name, tensor)`, e.g. `("weight_hh_l1_reverse", [gates*H, H])`.
    pub params: Vec<(String, Tensor)>,
}

/// What a forward pass returns.
pub struct RecurrentOutput {
    /// `[B, T, H * directions]` (padded positions are zeros when the input was packed).
    pub output: Tensor,
    /// `[layers * directions, B, H]`: the state after the last step each direction took.
    pub h_n: Tensor,
}

impl Recurrent {
    /// Creates the parameters on the CPU with PyTorch's default initialisation,
    /// U(-1/sqrt(H), 1/sqrt(H)) for every weight and bias, then moves them to `device`.
    pub fn new(config: &RecurrentConfig, device: Device) -> Recurrent {
        let h = config.hidden_size;
        let bound = 1.0 / (h as f64).sqrt();
        let dirs = if config.bidirectional { 2 } else { 1 };
        let gate_rows = config.cell.gates() * h;
        let mut params = Vec::new();
        for layer in 0..config.num_layers {
            let input = if layer == 0 { config.input_size } else { h * dirs };
            for dir in 0..dirs {
                let sfx = if dir == 1 { "_reverse" } else { "" };
                for (name, shape) in
                    [("weight_ih", vec![gate_rows, input]), ("weight_hh", vec![gate_rows, h]), ("bias_ih", vec![gate_rows]), ("bias_hh", vec![gate_rows])]
                {
                    let t = Tensor::empty(shape.as_slice(), (Kind::Float, Device::Cpu)).uniform_(-bound, bound);
                    params.push((format!("{name}_l{layer}{sfx}"), t.to_device(device).set_requires_grad(true)));
                }
            }
        }
        let stack = Recurrent { config: config.clone(), params };
        stack.flatten_for_cudnn();
        stack
    }

    /// On CUDA with cuDNN, moves the weights into one buffer and makes each parameter a
    /// view of it, as `torch.nn.RNNBase.flatten_parameters` (and tch's own LSTM/GRU) do:
    /// cuDNN then reads them in place instead of copying them into a buffer of its own
    /// at every call. In-place updates (Adam, checkpoint loading) keep the aliasing. If
    /// libtorch refuses, the weights stay as they are: slower on GPU, still correct.
    fn flatten_for_cudnn(&self) {
        let c = &self.config;
        let weights: Vec<&Tensor> = self.params.iter().map(|(_, t)| t).collect();
        self.flatten_weights(&weights, c.input_size, c.num_layers, c.bidirectional);
    }

    /// [`Recurrent::forward_masked`] runs a bidirectional stack one layer and direction
    /// at a time; cuDNN finds its weights in place only when each such call's four
    /// weights start a buffer of their own, so this gives each (layer, direction) one.
    /// Only for that path: the fused bidirectional call (`final`) needs the whole stack
    /// in one buffer, as `new` leaves it.
    pub fn flatten_per_direction(&self) {
        let c = &self.config;
        let dirs = self.directions();
        for layer in 0..c.num_layers {
            let input = if layer == 0 { c.input_size } else { c.hidden_size * dirs };
            for direction in 0..dirs {
                let first = ((layer * dirs + direction) * 4) as usize;
                let weights: Vec<&Tensor> = self.params[first..first + 4].iter().map(|(_, t)| t).collect();
                self.flatten_weights(&weights, input, 1, false);
            }
        }
    }

    fn flatten_weights(&self, weights: &[&Tensor], input_size: i64, layers: i64, bidirectional: bool) {
        let on_cuda = weights.first().is_some_and(|t| t.device().is_cuda());
        if !on_cuda || !tch::Cuda::cudnn_is_available() {
            return;
        }
        let c = &self.config;
        // cudnnRNNMode_t, as torch.backends.cudnn.rnn.get_cudnn_mode numbers them.
        let mode = match (c.cell, c.nonlinearity) {
            (Cell::Rnn, Nonlinearity::Relu) => 0,
            (Cell::Rnn, Nonlinearity::Tanh) => 1,
            (Cell::Lstm, _) => 2,
            (Cell::Gru, _) => 3,
        };
        let _guard = tch::no_grad_guard();
        if let Err(e) = Tensor::f_internal_cudnn_rnn_flatten_weight(weights, 4, input_size, mode, c.hidden_size, 0, layers, true, bidirectional) {
            crate::errln!("imdb-rnn: warning: cuDNN could not flatten the recurrent weights ({e}); cuDNN will copy them at every call");
        }
    }

    pub fn directions(&self) -> i64 {
        if self.config.bidirectional {
            2
        } else {
            1
        }
    }

    fn zeros_state(&self, batch: i64, like: &Tensor) -> Tensor {
        Tensor::zeros([self.config.num_layers * self.directions(), batch, self.config.hidden_size], (like.kind(), like.device()))
    }

    /// Runs over every position of a padded batch `x: [B, T, I]`, pads included
    /// (the course's model).
    pub fn forward_padded(&self, x: &Tensor, train: bool) -> RecurrentOutput {
        let c = &self.config;
        let weights: Vec<&Tensor> = self.params.iter().map(|(_, t)| t).collect();
        let h0 = self.zeros_state(x.size()[0], x);
        let dropout = if train { c.dropout } else { 0.0 };
        let (output, h_n) = match (c.cell, c.nonlinearity) {
            (Cell::Rnn, Nonlinearity::Tanh) => x.rnn_tanh(&h0, &weights, true, c.num_layers, dropout, train, c.bidirectional, true),
            (Cell::Rnn, Nonlinearity::Relu) => x.rnn_relu(&h0, &weights, true, c.num_layers, dropout, train, c.bidirectional, true),
            (Cell::Lstm, _) => {
                let (o, h, _c) = x.lstm(&[&h0, &h0], &weights, true, c.num_layers, dropout, train, c.bidirectional, true);
                (o, h)
            }
            (Cell::Gru, _) => x.gru(&h0, &weights, true, c.num_layers, dropout, train, c.bidirectional, true),
        };
        RecurrentOutput { output, h_n }
    }

    /// Runs over a padded batch `x: [B, T, I]` so that every output at a real position
    /// (`t < lengths[b]`) equals `pack_padded_sequence`'s, without packing: forward
    /// directions run over the padded batch (their outputs before a review's end never
    /// see its pads); backward directions run over each review reversed *within its
    /// length* (one gather), then the outputs are un-reversed, so each layer's backward
    /// state starts at the review's last real token. Outputs at pad positions are
    /// unspecified (callers mask them). `lengths`: `[B]` int64 on `x`'s device, each in
    /// `1..=T`; nothing is copied to the host.
    ///
    /// A unidirectional stack is one fused call; a bidirectional one runs layer by
    /// layer, one fused call per direction.
    pub fn forward_masked(&self, x: &Tensor, lengths: &Tensor, train: bool) -> Tensor {
        if !self.config.bidirectional {
            return self.forward_padded(x, train).output;
        }
        let c = &self.config;
        let reverse = reversal_within_length(lengths, x.size()[1]);
        let mut input = x.shallow_clone();
        for layer in 0..c.num_layers {
            if layer > 0 && train && c.dropout > 0.0 {
                input = input.dropout(c.dropout, train);
            }
            let forward = self.run_one(layer, 0, &input, train);
            let backward = self.run_one(layer, 1, &gather_time(&input, &reverse), train);
            input = Tensor::cat(&[forward, gather_time(&backward, &reverse)], 2);
        }
        input
    }

    /// One direction of one layer over `x: [B, T, I]` (a one-layer unidirectional fused
    /// call with that direction's weights); returns its outputs `[B, T, H]`.
    fn run_one(&self, layer: i64, direction: i64, x: &Tensor, train: bool) -> Tensor {
        let c = &self.config;
        let first = ((layer * self.directions() + direction) * 4) as usize;
        let weights: Vec<&Tensor> = self.params[first..first + 4].iter().map(|(_, t)| t).collect();
        let h0 = Tensor::zeros([1, x.size()[0], c.hidden_size], (x.kind(), x.device()));
        match (c.cell, c.nonlinearity) {
            (Cell::Rnn, Nonlinearity::Tanh) => x.rnn_tanh(&h0, &weights, true, 1, 0.0, train, false, true).0,
            (Cell::Rnn, Nonlinearity::Relu) => x.rnn_relu(&h0, &weights, true, 1, 0.0, train, false, true).0,
            (Cell::Lstm, _) => x.lstm(&[&h0, &h0], &weights, true, 1, 0.0, train, false, true).0,
            (Cell::Gru, _) => x.gru(&h0, &weights, true, 1, 0.0, train, false, true).0,
        }
    }

    /// Runs over each review's real tokens only (`pack_padded_sequence` semantics): the
    /// forward direction stops at, and the backward direction starts from, position
    /// `lengths[b] - 1`. `lengths` must be sorted in decreasing order, on the CPU,
    /// each at least 1 and at most T.
    pub fn forward_packed(&self, x: &Tensor, lengths: &Tensor, train: bool) -> RecurrentOutput {
        let c = &self.config;
        let total = x.size()[1];
        let (data, batch_sizes) = x.internal_pack_padded_sequence(lengths, true);
        let weights: Vec<&Tensor> = self.params.iter().map(|(_, t)| t).collect();
        let h0 = self.zeros_state(x.size()[0], x);
        let dropout = if train { c.dropout } else { 0.0 };
        let (out_data, h_n) = match (c.cell, c.nonlinearity) {
            (Cell::Rnn, Nonlinearity::Tanh) => Tensor::rnn_tanh_data(&data, &batch_sizes, &h0, &weights, true, c.num_layers, dropout, train, c.bidirectional),
            (Cell::Rnn, Nonlinearity::Relu) => Tensor::rnn_relu_data(&data, &batch_sizes, &h0, &weights, true, c.num_layers, dropout, train, c.bidirectional),
            (Cell::Lstm, _) => {
                let (o, h, _c) = Tensor::lstm_data(&data, &batch_sizes, &[&h0, &h0], &weights, true, c.num_layers, dropout, train, c.bidirectional);
                (o, h)
            }
            (Cell::Gru, _) => Tensor::gru_data(&data, &batch_sizes, &h0, &weights, true, c.num_layers, dropout, train, c.bidirectional),
        };
        let (output, _) = Tensor::internal_pad_packed_sequence(&out_data, &batch_sizes, true, 0.0, total);
        RecurrentOutput { output, h_n }
    }
}

/// `[B, T]` int64 time indices that reverse each review within its length: position `t`
/// takes `lengths[b] - 1 - t` for `t < lengths[b]`, pads stay where they are. The map is
/// its own inverse, so the same gather un-reverses.
pub fn reversal_within_length(lengths: &Tensor, total: i64) -> Tensor {
    let positions = Tensor::arange(total, (Kind::Int64, lengths.device())).unsqueeze(0);
    let lengths = lengths.unsqueeze(1);
    let reversed = (&lengths - 1) - &positions;
    reversed.where_self(&positions.lt_tensor(&lengths), &positions)
}

/// `x: [B, T, F]` reordered along time by `index: [B, T]`.
pub fn gather_time(x: &Tensor, index: &Tensor) -> Tensor {
    let size = x.size();
    x.gather(1, &index.unsqueeze(2).expand([size[0], size[1], size[2]], false), false)
}
