//! The commands, one module each; shared steps (resolving and loading data) live here.
pub mod data;
pub mod grads;
pub mod info;
pub mod man;
pub mod plot;
pub mod predict;
pub mod summary;
pub mod sweep;
pub mod train;

use crate::cli::DataSource;
use crate::data::prepare::{EncodeConfig, Prepared};
use crate::fetch::{self, download::FetchOptions, Source};
use anyhow::Result;
use std::path::{Path, PathBuf};

pub fn fetch_options(source: &DataSource) -> FetchOptions {
    FetchOptions { offline: source.offline.unwrap_or(false), progress: !source.quiet, ..FetchOptions::default() }
}

/// The local IMDB archive the user asked for (downloading the official one if needed).
pub fn imdb_path(source: &DataSource, home: &Path) -> Result<PathBuf> {
    let src = Source::parse(source.imdb.as_deref().unwrap_or("imdb"));
    fetch::resolve(&src, home, &fetch_options(source))
}

/// A local GloVe file for `value` (path, URL or gensim name).
pub fn glove_path(value: &str, source: &DataSource, home: &Path) -> Result<PathBuf> {
    fetch::resolve(&Source::parse(value), home, &fetch_options(source))
}

/// Resolves, reads (or loads from cache) and encodes IMDB.
pub fn load_data(source: &DataSource, encode: EncodeConfig) -> Result<(PathBuf, Prepared, crate::data::Origin)> {
    let home = fetch::data_home();
    let archive = imdb_path(source, &home)?;
    let (data, origin) = crate::data::load(&archive, encode, &fetch::cache_dir(&home), source.quiet)?;
    Ok((archive, data, origin))
}
