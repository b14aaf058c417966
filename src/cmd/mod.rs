//! The commands, one module each: each parses its options and calls the work below `cmd/`.
pub mod course;
pub mod data;
pub mod embed;
pub mod explain;
pub mod export;
pub mod grads;
pub mod info;
pub mod man;
pub mod plot;
pub mod predict;
pub mod summary;
pub mod sweep;
pub mod train;

pub use crate::data::source::{fetch_options, glove_path, imdb_path, load_data, DataCache, Loaded};
