//! The sentiment classifier: Embedding -> recurrent stack -> Linear(H x directions, 1).
pub(crate) mod recurrent;

use crate::data::prepare::EncodeConfig;
use anyhow::{bail, Result};
use recurrent::{Recurrent, RecurrentConfig};
use serde::{Deserialize, Serialize};
use std::path::Path;
use tch::{Device, Kind, Tensor};

/// Where the embedding comes from and whether it trains.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum EmbeddingMode {
    /// N(0, 1) init, learned (course Q1).
    Random,
    /// GloVe vectors, never updated (course Q7).
    GloveFrozen,
    /// GloVe vectors as the starting point, then learned.
    GloveTuned,
}

impl EmbeddingMode {
    /// The name `--emb` takes, config.json and run names write.
    pub fn name(self) -> &'static str {
        match self {
            EmbeddingMode::Random => "random",
            EmbeddingMode::GloveFrozen => "glove-frozen",
            EmbeddingMode::GloveTuned => "glove-tuned",
        }
    }
}

impl Default for EmbeddingMode {
    fn default() -> Self {
        ModelConfig::DEFAULT.embedding
    }
}

impl EmbeddingMode {
    pub fn uses_glove(self) -> bool {
        !matches!(self, EmbeddingMode::Random)
    }
}

/// Inverted dropout with probability `p` when training, the identity otherwise.
fn dropout(x: &Tensor, p: f64, train: bool) -> Tensor {
    if train && p > 0.0 {
        x.dropout(p, true)
    } else {
        x.shallow_clone()
    }
}

/// Masked reductions of `output: [B, T, D]` over each review's real positions
/// (`t < lengths[b]`, lengths in `1..=T`): `[B, D]`, or `[B, 2D]` for mean+max.
fn pool(readout: Readout, output: &Tensor, lengths: &Tensor) -> Tensor {
    let t = output.size()[1];
    let positions = Tensor::arange(t, (Kind::Int64, output.device())).unsqueeze(0);
    let real = positions.lt_tensor(&lengths.unsqueeze(1)).unsqueeze(2);
    let kind = output.kind();
    let mean = || output.masked_fill(&real.logical_not(), 0.0).sum_dim_intlist(1, false, kind) / lengths.unsqueeze(1).to_kind(kind);
    let max = || output.masked_fill(&real.logical_not(), f64::NEG_INFINITY).amax(1, false);
    match readout {
        Readout::Mean => mean(),
        Readout::Max => max(),
        Readout::MeanMax => Tensor::cat(&[mean(), max()], 1),
        Readout::Final | Readout::Last => unreachable!("{readout:?} is not a pooling readout"),
    }
}

/// Which hidden state feeds the classifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Readout {
    /// The last layer's state after all max-len positions, pads included (the course's).
    Final,
    /// The state at each review's last real token; a backward direction starts from
    /// that token (as with packed sequences).
    Last,
    /// Mean of the last layer's outputs over real tokens.
    Mean,
    /// Element-wise max of the last layer's outputs over real tokens.
    Max,
    /// Mean and max concatenated (the classifier sees twice the features).
    #[value(name = "meanmax")]
    #[serde(rename = "meanmax")]
    MeanMax,
}

impl Readout {
    /// The name `--readout` takes, config.json and run names write.
    pub fn name(self) -> &'static str {
        match self {
            Readout::Final => "final",
            Readout::Last => "last",
            Readout::Mean => "mean",
            Readout::Max => "max",
            Readout::MeanMax => "meanmax",
        }
    }
}

impl Default for Readout {
    fn default() -> Self {
        ModelConfig::DEFAULT.readout
    }
}

impl Readout {
    /// Whether the readout reads each review only up to its length (all but `final`).
    pub fn is_length_aware(self) -> bool {
        self != Readout::Final
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// Rows of the embedding (vocabulary size, specials included).
    pub vocab_size: i64,
    pub embedding: EmbeddingMode,
    pub recurrent: RecurrentConfig,
    pub readout: Readout,
    /// Dropout on the embedding output during training.
    #[serde(default)]
    pub emb_dropout: f64,
    /// Dropout on the features, before the classifier, during training.
    #[serde(default)]
    pub fc_dropout: f64,
}

impl ModelConfig {
    /// The course's model: a random embedding of the default vocabulary plus `<pad>` and
    /// `<unk>`, the default stack, the final hidden state read, no dropout. Every default
    /// of the model is written here or in [`RecurrentConfig::DEFAULT`], once.
    pub const DEFAULT: ModelConfig = ModelConfig {
        vocab_size: EncodeConfig::DEFAULT.vocab_size as i64 + 2,
        embedding: EmbeddingMode::Random,
        recurrent: RecurrentConfig::DEFAULT,
        readout: Readout::Final,
        emb_dropout: 0.0,
        fc_dropout: 0.0,
    };
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

pub struct Classifier {
    pub config: ModelConfig,
    /// `[vocab, E]`
    pub embedding: Tensor,
    pub rnn: Recurrent,
    /// `[1, H * directions]` (twice that for `meanmax`)
    pub fc_weight: Tensor,
    /// `[1]`
    pub fc_bias: Tensor,
    pub device: Device,
}

impl Classifier {
    /// Builds the model with PyTorch's default initialisation, drawn on the CPU from
    /// libtorch's generator (seed it first) so CPU and GPU runs start from the same
    /// weights. `pretrained` (`[vocab * E]`, row-major) replaces the embedding's init.
    pub fn new(config: &ModelConfig, device: Device, pretrained: Option<&[f32]>) -> Result<Classifier> {
        let e = config.recurrent.input_size;
        let embedding = match pretrained {
            Some(data) => {
                if data.len() as i64 != config.vocab_size * e {
                    bail!("pretrained embedding has {} values, expected {} x {}", data.len(), config.vocab_size, e);
                }
                Tensor::from_slice(data).reshape([config.vocab_size, e])
            }
            None => Tensor::randn([config.vocab_size, e], (Kind::Float, Device::Cpu)),
        };
        let trainable = config.embedding != EmbeddingMode::GloveFrozen;
        let embedding = embedding.to_device(device).set_requires_grad(trainable);
        let rnn = Recurrent::new(&config.recurrent, device);
        if config.readout.is_length_aware() && config.recurrent.bidirectional {
            rnn.flatten_per_direction();
        }
        let pooled = if config.readout == Readout::MeanMax { 2 } else { 1 };
        let fan_in = config.recurrent.hidden_size * rnn.directions() * pooled;
        let bound = 1.0 / (fan_in as f64).sqrt();
        let fc_weight = Tensor::empty([1, fan_in], (Kind::Float, Device::Cpu)).uniform_(-bound, bound);
        let fc_bias = Tensor::empty([1], (Kind::Float, Device::Cpu)).uniform_(-bound, bound);
        Ok(Classifier {
            config: config.clone(),
            embedding,
            rnn,
            fc_weight: fc_weight.to_device(device).set_requires_grad(true),
            fc_bias: fc_bias.to_device(device).set_requires_grad(true),
            device,
        })
    }

    /// Every parameter with its PyTorch-style name (`embedding.weight`,
    /// `rnn.weight_ih_l0`, `fc.weight`...), frozen ones included.
    pub fn named_parameters(&self) -> Vec<(String, &Tensor)> {
        let mut out = vec![("embedding.weight".to_string(), &self.embedding)];
        out.extend(self.rnn.params.iter().map(|(n, t)| (format!("rnn.{n}"), t)));
        out.push(("fc.weight".into(), &self.fc_weight));
        out.push(("fc.bias".into(), &self.fc_bias));
        out
    }

    /// The parameters the optimiser updates.
    pub fn trainable_parameters(&self) -> Vec<(String, &Tensor)> {
        self.named_parameters().into_iter().filter(|(_, t)| t.requires_grad()).collect()
    }

    pub fn parameter_count(&self) -> i64 {
        self.named_parameters().iter().map(|(_, t)| t.numel() as i64).sum()
    }

    /// `tokens: [B, T]` int64 -> `[B, T, E]`.
    pub fn embed(&self, tokens: &Tensor) -> Tensor {
        Tensor::embedding(&self.embedding, tokens, -1, false, false)
    }

    /// `x: [B, T, E]` (the embedded batch), `lengths: [B]` int64 (true lengths, on the
    /// model's device) -> logits `[B]`. Dropout on the embedding output and before the
    /// classifier applies when `train`.
    pub fn head(&self, x: &Tensor, lengths: &Tensor, train: bool) -> Tensor {
        let x = dropout(x, self.config.emb_dropout, train);
        self.classify(&self.features(&x, lengths, train), train)
    }

    /// The classifier on `features: [B, F]`: dropout (when `train`), then Linear(F, 1).
    pub fn classify(&self, features: &Tensor, train: bool) -> Tensor {
        let features = dropout(features, self.config.fc_dropout, train);
        features.matmul(&self.fc_weight.tr()).squeeze_dim(1) + &self.fc_bias
    }

    /// What the readout feeds the classifier, `[B, F]`, from `x: [B, T, E]`. The
    /// length-aware readouts run on the padded batch (`Recurrent::forward_masked`) and
    /// read only real positions: gathers and masked reductions on the device, no packing
    /// and no host sync.
    pub fn features(&self, x: &Tensor, lengths: &Tensor, train: bool) -> Tensor {
        match self.config.readout {
            Readout::Final => self.last_states(&self.rnn.forward_padded(x, train).h_n),
            readout => {
                let lengths = lengths.clamp(1, x.size()[1]);
                let output = self.rnn.forward_masked(x, &lengths, train);
                match readout {
                    Readout::Last => {
                        // Forward directions end at length - 1; a backward one ends at 0.
                        let at_end = output.gather(1, &(&lengths - 1).view([-1, 1, 1]).expand([-1, 1, output.size()[2]], false), false).squeeze_dim(1);
                        if self.rnn.directions() == 2 {
                            let h = self.config.recurrent.hidden_size;
                            Tensor::cat(&[at_end.narrow(1, 0, h), output.select(1, 0).narrow(1, h, h)], 1)
                        } else {
                            at_end
                        }
                    }
                    _ => pool(readout, &output, &lengths),
                }
            }
        }
    }

    /// [`Classifier::features`] through packed sequences (`pack_padded_sequence`: sort,
    /// lengths copied to the host, packed kernels, unsort): the oracle the unpacked
    /// readouts are tested against; training does not use it.
    pub fn features_packed(&self, x: &Tensor, lengths: &Tensor, train: bool) -> Tensor {
        if self.config.readout == Readout::Final {
            return self.features(x, lengths, train);
        }
        let clamped = lengths.clamp(1, x.size()[1]);
        let (sorted, order) = clamped.sort(0, true);
        let restore = order.argsort(0, false);
        let out = self.rnn.forward_packed(&x.index_select(0, &order), &sorted.to_device(Device::Cpu), train);
        let sorted_features = match self.config.readout {
            Readout::Last => self.last_states(&out.h_n),
            readout => pool(readout, &out.output, &sorted),
        };
        sorted_features.index_select(0, &restore)
    }

    /// The last layer's state(s) from `h_n: [layers * directions, B, H]`, directions
    /// concatenated.
    fn last_states(&self, h_n: &Tensor) -> Tensor {
        let layers = h_n.size()[0];
        if self.rnn.directions() == 2 {
            Tensor::cat(&[h_n.get(layers - 2), h_n.get(layers - 1)], 1)
        } else {
            h_n.get(layers - 1)
        }
    }

    pub fn forward(&self, tokens: &Tensor, lengths: &Tensor, train: bool) -> Tensor {
        self.head(&self.embed(tokens), lengths, train)
    }

    /// Saves every parameter under its name.
    pub fn save(&self, path: &Path) -> Result<()> {
        crate::util::save_tensors_atomic(&self.named_parameters(), path)
    }

    /// Copies saved parameters into this model (names and shapes must match).
    pub fn load(&mut self, path: &Path) -> Result<()> {
        let saved = Tensor::load_multi(path).map_err(|e| crate::util::torch_error(e, path))?;
        let saved: std::collections::HashMap<String, Tensor> = saved.into_iter().collect();
        self.copy_from(&saved, "", path)
    }

    /// Copies tensors named `<prefix><param name>` from `saved`.
    pub fn copy_from(&mut self, saved: &std::collections::HashMap<String, Tensor>, prefix: &str, path: &Path) -> Result<()> {
        let _guard = tch::no_grad_guard();
        for (name, param) in self.named_parameters() {
            let key = format!("{prefix}{name}");
            let Some(src) = saved.get(&key) else {
                bail!("{} has no tensor {key}; was it written by another model configuration?", path.display());
            };
            if src.size() != param.size() {
                bail!("{}: {key} has shape {:?}, the model expects {:?}", path.display(), src.size(), param.size());
            }
            param.shallow_clone().copy_(src);
        }
        Ok(())
    }
}
