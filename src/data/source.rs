//! The data a command asked for (`--imdb`, `--glove`: a path, URL or gensim name): found or
//! downloaded, prepared once and shared by every run of the command ([`DataCache`]).
use crate::data::glove::GloveMatrix;
use crate::data::prepare::{EncodeConfig, Prepared};
use crate::fetch::{self, download::FetchOptions, Source};
use anyhow::Result;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Where the data comes from; shared by the commands that read it.
#[derive(clap::Args, Debug, Clone, Default)]
pub(crate) struct DataSource {
    /// IMDB: path to an aclImdb archive (.tar.gz/.tar) or directory, or a URL
    /// [default: the official archive, fetched into the data directory].
    #[arg(long, env = "IMDB_RNN_IMDB", value_name = "PATH|URL")]
    pub imdb: Option<String>,
    /// Never use the network; fail if a file is not already cached.
    #[arg(long, env = "IMDB_RNN_OFFLINE", value_parser = clap::builder::BoolishValueParser::new(), num_args = 0..=1, default_missing_value = "true")]
    pub offline: Option<bool>,
    /// Do not print progress.
    #[arg(long, short)]
    pub quiet: bool,
}

pub(crate) fn fetch_options(source: &DataSource) -> FetchOptions {
    FetchOptions { offline: source.offline.unwrap_or(false), progress: !source.quiet, ..FetchOptions::default() }
}

/// The local IMDB archive the user asked for (downloading the official one if needed).
pub(crate) fn imdb_path(source: &DataSource, home: &Path) -> Result<PathBuf> {
    let src = Source::parse(source.imdb.as_deref().unwrap_or("imdb"));
    fetch::resolve(&src, home, &fetch_options(source))
}

/// A local GloVe file for `value` (path, URL or gensim name).
pub(crate) fn glove_path(value: &str, source: &DataSource, home: &Path) -> Result<PathBuf> {
    fetch::resolve(&Source::parse(value), home, &fetch_options(source))
}

/// Resolves, reads (or loads from cache) and encodes IMDB.
pub(crate) fn load_data(source: &DataSource, encode: EncodeConfig) -> Result<(PathBuf, Prepared, crate::data::Origin)> {
    let home = fetch::data_home();
    let archive = imdb_path(source, &home)?;
    let (data, origin) = crate::data::load(&archive, encode, &fetch::cache_dir(&home), source.quiet)?;
    Ok((archive, data, origin))
}

/// Prepared datasets and GloVe matrices, each loaded once however many runs ask for it
/// (one for `train`, every point of a sweep or a gradient study).
pub(crate) struct DataCache<'a> {
    source: &'a DataSource,
    prepared: HashMap<EncodeConfig, (PathBuf, Prepared)>,
    glove: HashMap<(String, EncodeConfig), GloveMatrix>,
    glove_files: HashMap<String, PathBuf>,
}

/// What one run trains on.
pub(crate) struct Loaded<'c> {
    /// The IMDB archive the data came from (recorded in the run's config.json).
    pub archive: &'c Path,
    pub data: &'c Prepared,
    /// The GloVe matrix over `data`'s vocabulary, when the run asked for GloVe.
    pub glove: Option<&'c GloveMatrix>,
}

impl<'a> DataCache<'a> {
    pub(crate) fn new(source: &'a DataSource) -> DataCache<'a> {
        DataCache { source, prepared: HashMap::new(), glove: HashMap::new(), glove_files: HashMap::new() }
    }

    /// The local GloVe file for `value` (a path, URL or gensim name), fetched if need be;
    /// looked up once however many runs ask.
    pub(crate) fn glove_file(&mut self, value: &str) -> Result<PathBuf> {
        if let Some(path) = self.glove_files.get(value) {
            return Ok(path.clone());
        }
        let path = glove_path(value, self.source, &fetch::data_home())?;
        self.glove_files.insert(value.to_string(), path.clone());
        Ok(path)
    }

    /// The data encoded with `encode` and, with `glove` (a path, URL or gensim name),
    /// its vectors for that data's vocabulary.
    pub(crate) fn load(&mut self, encode: EncodeConfig, glove: Option<&str>) -> Result<Loaded<'_>> {
        if !self.prepared.contains_key(&encode) {
            let (archive, data, _) = load_data(self.source, encode)?;
            self.prepared.insert(encode, (archive, data));
        }
        let glove_key = match glove {
            Some(value) => {
                let key = (value.to_string(), encode);
                if !self.glove.contains_key(&key) {
                    let path = self.glove_file(value)?;
                    let matrix = crate::data::glove::load(&path, &self.prepared[&encode].1.vocab)?;
                    self.glove.insert(key.clone(), matrix);
                }
                Some(key)
            }
            None => None,
        };
        let (archive, data) = &self.prepared[&encode];
        Ok(Loaded { archive, data, glove: glove_key.map(|k| &self.glove[&k]) })
    }
}
