//! imdb-rnn: recurrent-network sentiment experiments on IMDB through libtorch.
//!
//! The modules follow the pipeline: `fetch` -> `data` -> `model` -> `train` -> `report`;
//! `infer` puts a trained run to use; `cli` and `cmd` wire them to the command line
//! (docs/ARCHITECTURE.md).
//!
//! Every module is crate-private. The public surface is what lies outside the library
//! needs, re-exported here: the binary (`src/main.rs`) and the integration tests that
//! check the network against PyTorch and its own invariants (`tests/`).
#![warn(unreachable_pub)]
mod cli;
mod cmd;
mod course;
mod cpu;
mod data;
mod destination;
mod exit;
mod fetch;
mod infer;
mod model;
mod report;
mod runtime;
mod sweep;
mod train;
mod util;

// The binary: parse the command line, run it, end the process.
pub use cli::Cli;
pub use cmd::run;
pub use cpu::at_process_start;
pub use exit::Exit;
pub use util::{reopen_closed_stdio, StdoutClosed};

// The tests: the network, its gradient norms and optimiser, the tokenizer, and the count
// of configurations resolved.
pub use data::tokenize::tokenize;
pub use model::recurrent::{gather_time, reversal_within_length, Cell, Nonlinearity, RecurrentConfig};
pub use model::{Classifier, EmbeddingMode, ModelConfig, Readout};
pub use train::adam::Adam;
pub use train::config::resolve_calls;
pub use train::grads;
