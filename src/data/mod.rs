//! The data pipeline: archive -> tokens -> vocabulary -> padded ids, cached on disk.
pub(crate) mod cache;
pub(crate) mod glove;
pub(crate) mod imdb;
mod interner;
pub(crate) mod prepare;
pub(crate) mod report;
pub(crate) mod source;
mod threaded_reader;
pub(crate) mod tokenize;
pub(crate) mod vocab;

use anyhow::Result;
use prepare::{EncodeConfig, Prepared};
use std::path::Path;

/// Where a [`Prepared`] came from, for logs and config.json.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Origin {
    Cache,
    Archive,
}

/// Loads the encoded dataset for `archive`, from the cache in `cache_dir` when it holds
/// a valid one, else by reading the archive (and then caching the result). A stale or
/// corrupt cache file is reported on stderr and rebuilt, never trusted.
pub(crate) fn load(archive: &Path, encode: EncodeConfig, cache_dir: &Path, quiet: bool) -> Result<(Prepared, Origin)> {
    crate::util::remove_stale_temp_files(cache_dir);
    let key = cache::CacheKey::for_archive(archive, encode)?;
    let path = cache::cache_path(cache_dir, &key);
    match cache::load(&path, &key) {
        Ok(Some(p)) => return Ok((p, Origin::Cache)),
        Ok(None) => {}
        Err(e) => {
            if !quiet {
                crate::errln!("imdb-rnn: {e:#}; rebuilding it");
            }
        }
    }
    let prepared = prepare::prepare(archive, encode)?;
    if let Err(e) = cache::save(&path, &key, &prepared) {
        // Not fatal: the data is in memory; the next run will just read the archive again.
        if !quiet {
            crate::errln!("imdb-rnn: warning: {e:#}");
        }
    }
    Ok((prepared, Origin::Archive))
}
