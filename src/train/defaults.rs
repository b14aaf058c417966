//! Every default of a training option, once: [`super::config::TrainConfig::resolve`],
//! the `Default` impls of the model and encoding configs, run names, the GloVe source
//! and `--help` (checked against these by a test in `cli`) all read them here.
use super::config::{Batching, LrSchedule};
use crate::cpu::Denormals;
use crate::data::prepare::Truncate;
use crate::model::recurrent::{Cell, Nonlinearity};
use crate::model::{EmbeddingMode, Readout};

pub const CELL: Cell = Cell::Lstm;
pub const NONLINEARITY: Nonlinearity = Nonlinearity::Tanh;
pub const LAYERS: i64 = 1;
pub const HIDDEN: i64 = 128;
/// Without GloVe; with it, the GloVe file's dimension.
pub const EMB_DIM: i64 = 100;
pub const EMB: EmbeddingMode = EmbeddingMode::Random;
pub const BIDIRECTIONAL: bool = false;
pub const DROPOUT: f64 = 0.0;
pub const READOUT: Readout = Readout::Final;
/// For the final readout; the length-aware readouts default to [`Batching::Bucket`].
pub const BATCHING: Batching = Batching::Random;
pub const EMB_DROPOUT: f64 = 0.0;
pub const FC_DROPOUT: f64 = 0.0;
pub const WEIGHT_DECAY: f64 = 0.0;
pub const LR_SCHEDULE: LrSchedule = LrSchedule::Constant;
pub const WARMUP_STEPS: u64 = 0;
pub const TRUNCATE: Truncate = Truncate::Head;
pub const EPOCHS: usize = 5;
pub const BATCH_SIZE: usize = 64;
pub const LR: f64 = 1e-3;
pub const SEED: u64 = 0;
pub const VAL_FRAC: f64 = 0.0;
pub const VOCAB_SIZE: usize = 10_000;
pub const MAX_LEN: usize = 200;
pub const GRAD_EVERY: usize = 0;
pub const DEVICE: &str = "auto";
/// The GloVe vectors `--emb glove-frozen|glove-tuned` use without `--glove`.
pub const GLOVE: &str = "glove-wiki-gigaword-100";
pub const DENORMALS: Denormals = Denormals::Flush;
