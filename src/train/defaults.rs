//! Every default of a training option, by flag: [`super::config::TrainConfig::resolve`],
//! run names, the GloVe source and `--help` (checked against these by a test in `cli`)
//! all read them here. The model's and the encoding's are written once with their types
//! ([`ModelConfig::DEFAULT`], [`RecurrentConfig::DEFAULT`], [`EncodeConfig::DEFAULT`]) and
//! only named here; the training's own are written here.
use super::config::{Batching, LrSchedule};
use crate::cpu::Denormals;
use crate::data::prepare::{EncodeConfig, Truncate};
use crate::model::recurrent::{Cell, Nonlinearity, RecurrentConfig};
use crate::model::{EmbeddingMode, ModelConfig, Readout};

pub const CELL: Cell = RecurrentConfig::DEFAULT.cell;
pub const NONLINEARITY: Nonlinearity = RecurrentConfig::DEFAULT.nonlinearity;
pub const LAYERS: i64 = RecurrentConfig::DEFAULT.num_layers;
pub const HIDDEN: i64 = RecurrentConfig::DEFAULT.hidden_size;
/// Without GloVe; with it, the GloVe file's dimension.
pub const EMB_DIM: i64 = RecurrentConfig::DEFAULT.input_size;
pub const EMB: EmbeddingMode = ModelConfig::DEFAULT.embedding;
pub const BIDIRECTIONAL: bool = RecurrentConfig::DEFAULT.bidirectional;
pub const DROPOUT: f64 = RecurrentConfig::DEFAULT.dropout;
pub const READOUT: Readout = ModelConfig::DEFAULT.readout;
/// For the final readout; the length-aware readouts default to [`Batching::Bucket`].
pub const BATCHING: Batching = Batching::Random;
pub const EMB_DROPOUT: f64 = ModelConfig::DEFAULT.emb_dropout;
pub const FC_DROPOUT: f64 = ModelConfig::DEFAULT.fc_dropout;
pub const WEIGHT_DECAY: f64 = 0.0;
pub const LR_SCHEDULE: LrSchedule = LrSchedule::Constant;
pub const WARMUP_STEPS: u64 = 0;
pub const TRUNCATE: Truncate = EncodeConfig::DEFAULT.truncate;
pub const EPOCHS: usize = 5;
pub const BATCH_SIZE: usize = 64;
pub const LR: f64 = 1e-3;
pub const SEED: u64 = 0;
pub const VAL_FRAC: f64 = 0.0;
pub const VOCAB_SIZE: usize = EncodeConfig::DEFAULT.vocab_size;
pub const MAX_LEN: usize = EncodeConfig::DEFAULT.max_len;
pub const GRAD_EVERY: usize = 0;
pub const DEVICE: &str = "auto";
/// The GloVe vectors `--emb glove-frozen|glove-tuned` use without `--glove`.
pub const GLOVE: &str = "glove-wiki-gigaword-100";
pub const DENORMALS: Denormals = Denormals::Flush;
