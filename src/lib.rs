//! imdb-rnn: recurrent-network sentiment experiments on IMDB through libtorch.
//!
//! The modules follow the pipeline: [`fetch`] -> [`data`] -> [`model`] -> [`train`] ->
//! [`report`]; [`infer`] puts a trained run to use; [`cli`] and [`cmd`] wire them to the
//! command line.
pub mod cli;
pub mod cmd;
pub mod course;
pub mod cpu;
pub mod data;
pub mod destination;
pub mod exit;
pub mod fetch;
pub mod infer;
pub mod model;
pub mod report;
pub mod runtime;
pub mod sweep;
pub mod train;
pub mod util;
