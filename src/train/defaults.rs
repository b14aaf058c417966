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

pub(crate) const CELL: Cell = RecurrentConfig::DEFAULT.cell;
pub(crate) const NONLINEARITY: Nonlinearity = RecurrentConfig::DEFAULT.nonlinearity;
pub(crate) const LAYERS: i64 = RecurrentConfig::DEFAULT.num_layers;
pub(crate) const HIDDEN: i64 = RecurrentConfig::DEFAULT.hidden_size;
/// Without GloVe; with it, the GloVe file's dimension.
pub(crate) const EMB_DIM: i64 = RecurrentConfig::DEFAULT.input_size;
pub(crate) const EMB: EmbeddingMode = ModelConfig::DEFAULT.embedding;
pub(crate) const BIDIRECTIONAL: bool = RecurrentConfig::DEFAULT.bidirectional;
pub(crate) const DROPOUT: f64 = RecurrentConfig::DEFAULT.dropout;
pub(crate) const READOUT: Readout = ModelConfig::DEFAULT.readout;
/// For the final readout; the length-aware readouts default to [`Batching::Bucket`].
pub(crate) const BATCHING: Batching = Batching::Random;
pub(crate) const EMB_DROPOUT: f64 = ModelConfig::DEFAULT.emb_dropout;
pub(crate) const FC_DROPOUT: f64 = ModelConfig::DEFAULT.fc_dropout;
pub(crate) const WEIGHT_DECAY: f64 = 0.0;
/// `--ema` off: the run evaluates and saves the trained weights themselves.
pub(crate) const EMA: f64 = 0.0;
pub(crate) const LR_SCHEDULE: LrSchedule = LrSchedule::Constant;
pub(crate) const WARMUP_STEPS: u64 = 0;
pub(crate) const TRUNCATE: Truncate = EncodeConfig::DEFAULT.truncate;
pub(crate) const EPOCHS: usize = 5;
pub(crate) const BATCH_SIZE: usize = 64;
pub(crate) const LR: f64 = 1e-3;
pub(crate) const SEED: u64 = 0;
pub(crate) const VAL_FRAC: f64 = 0.0;
pub(crate) const VOCAB_SIZE: usize = EncodeConfig::DEFAULT.vocab_size;
pub(crate) const MAX_LEN: usize = EncodeConfig::DEFAULT.max_len;
pub(crate) const GRAD_EVERY: usize = 0;
pub(crate) const DEVICE: &str = "auto";
/// The GloVe vectors `--emb glove-frozen|glove-tuned` use without `--glove`.
pub(crate) const GLOVE: &str = "glove-wiki-gigaword-100";
pub(crate) const DENORMALS: Denormals = Denormals::Flush;
