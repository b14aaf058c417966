//! Where the data comes from: the official sources, the data directory, and turning a
//! user's `--imdb`/`--glove` value (path, URL or name) into a local file.
pub(crate) mod download;

use anyhow::{bail, Result};
use download::{Digest, FetchOptions, Remote};
use std::path::{Path, PathBuf};

/// The official IMDB archive (Maas et al. 2011), pinned as TensorFlow Datasets pins it.
pub(crate) const IMDB_URL: &str = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz";
pub(crate) const IMDB_FILE: &str = "aclImdb_v1.tar.gz";
pub(crate) const IMDB_SHA256: &str = "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe";
pub(crate) const IMDB_SIZE: u64 = 84_125_825;

/// GloVe releases of gensim-data. Only the 100d file's MD5 is published where we could
/// check it; the others are fetched unpinned (their structure is still validated on load).
pub(crate) const GLOVE_NAMES: [&str; 4] = ["glove-wiki-gigaword-50", "glove-wiki-gigaword-100", "glove-wiki-gigaword-200", "glove-wiki-gigaword-300"];
const GLOVE_100_MD5: &str = "40ec481866001177b8cd4cb0df92924f";

/// The data directory: `IMDB_RNN_HOME`, else `./data` when it exists (a checkout of
/// imdb-rnn has one), else `$XDG_DATA_HOME/imdb-rnn` (`~/.local/share/imdb-rnn`).
pub(crate) fn data_home() -> PathBuf {
    if let Some(h) = std::env::var_os("IMDB_RNN_HOME").filter(|h| !h.is_empty()) {
        return PathBuf::from(h);
    }
    if Path::new("data").is_dir() {
        return PathBuf::from("data");
    }
    let base = std::env::var_os("XDG_DATA_HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("imdb-rnn")
}

pub(crate) fn downloads_dir(home: &Path) -> PathBuf {
    home.join("downloads")
}

pub(crate) fn cache_dir(home: &Path) -> PathBuf {
    home.join("cache")
}

/// The official remote for IMDB, or for a GloVe release name.
pub(crate) fn official(name: &str) -> Option<Remote> {
    if name == "imdb" {
        return Some(Remote {
            file_name: IMDB_FILE.into(),
            url: mirrored(IMDB_FILE).unwrap_or_else(|| IMDB_URL.into()),
            size: Some(IMDB_SIZE),
            digest: Some(Digest::Sha256(IMDB_SHA256)),
        });
    }
    if GLOVE_NAMES.contains(&name) {
        let file = format!("{name}.gz");
        let url = mirrored(&file).unwrap_or_else(|| format!("https://github.com/RaRe-Technologies/gensim-data/releases/download/{name}/{file}"));
        let digest = (name == "glove-wiki-gigaword-100").then_some(Digest::Md5(GLOVE_100_MD5));
        return Some(Remote { file_name: file, url, size: None, digest });
    }
    None
}

/// `IMDB_RNN_MIRROR=<base URL>` replaces the official hosts (same file names).
fn mirrored(file: &str) -> Option<String> {
    let base = std::env::var("IMDB_RNN_MIRROR").ok().filter(|m| !m.is_empty())?;
    if base.starts_with("http://") || base.starts_with("https://") {
        Some(format!("{}/{file}", base.trim_end_matches('/')))
    } else {
        None
    }
}

/// A local mirror directory (`IMDB_RNN_MIRROR=/dir`) holding files under official names.
fn mirror_file(file: &str) -> Option<PathBuf> {
    let base = std::env::var_os("IMDB_RNN_MIRROR").filter(|m| !m.is_empty())?;
    let p = PathBuf::from(base).join(file);
    p.is_file().then_some(p)
}

/// What the user asked for with `--imdb` / `--glove`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Source {
    Official(String),
    Path(PathBuf),
    Url(String),
}

impl Source {
    pub(crate) fn parse(value: &str) -> Source {
        if value.starts_with("http://") || value.starts_with("https://") {
            Source::Url(value.into())
        } else if value == "imdb" || GLOVE_NAMES.contains(&value) {
            Source::Official(value.into())
        } else {
            Source::Path(value.into())
        }
    }
}

/// Resolves `source` to a local file, downloading into the data directory if needed.
/// A local path is the user's choice: it is not hash-checked, its structure is
/// validated when read. The path is absolute (canonical), so what a run records of it
/// holds from any working directory.
pub(crate) fn resolve(source: &Source, home: &Path, opts: &FetchOptions) -> Result<PathBuf> {
    let local = resolve_local(source, home, opts)?;
    Ok(std::fs::canonicalize(&local).unwrap_or(local))
}

/// A `--glove`/`--imdb` value as a run records it: a path made absolute (canonical)
/// when it exists; a URL, a name or a missing path as given.
pub(crate) fn absolute_value(value: &str) -> String {
    match Source::parse(value) {
        Source::Path(p) => std::fs::canonicalize(&p).map(|a| a.to_string_lossy().into_owned()).unwrap_or_else(|_| value.to_string()),
        _ => value.to_string(),
    }
}

/// The official name of a local file (`imdb`, `glove-wiki-gigaword-50`, ...) when its
/// name (and for IMDB, its pinned size) is the official file's.
pub(crate) fn official_name(path: &Path, bytes: u64) -> Option<String> {
    let file = path.file_name()?.to_str()?;
    if file == IMDB_FILE && bytes == IMDB_SIZE {
        return Some("imdb".into());
    }
    GLOVE_NAMES.iter().find(|n| file == format!("{n}.gz")).map(|n| n.to_string())
}

/// Where [`resolve`] finds `source` without fetching anything: the path itself, or its
/// file in the mirror or the data directory.
pub(crate) fn local_path(source: &Source, home: &Path) -> PathBuf {
    match source {
        Source::Path(p) => p.clone(),
        Source::Official(name) => {
            let file = official(name).expect("official names are known").file_name;
            mirror_file(&file).unwrap_or_else(|| downloads_dir(home).join(file))
        }
        Source::Url(url) => downloads_dir(home).join(url.rsplit('/').next().unwrap_or_default()),
    }
}

fn resolve_local(source: &Source, home: &Path, opts: &FetchOptions) -> Result<PathBuf> {
    match source {
        Source::Path(p) => {
            if !p.exists() {
                bail!("{} does not exist; pass an existing file, a URL, or leave the flag out to fetch the official data", p.display());
            }
            Ok(p.clone())
        }
        Source::Official(name) => {
            let remote = official(name).expect("official names are known");
            if let Some(local) = mirror_file(&remote.file_name) {
                return Ok(local);
            }
            download::fetch(&remote, &downloads_dir(home), opts)
        }
        Source::Url(url) => {
            let file_name = url.rsplit('/').next().filter(|n| !n.is_empty() && !n.contains(['?', '#']));
            let Some(file_name) = file_name else {
                bail!("cannot tell a file name from URL {url}; download it yourself and pass the path");
            };
            // The official file under another host keeps its pin.
            let pinned = [official("imdb")].into_iter().chain(GLOVE_NAMES.iter().map(|n| official(n))).flatten().find(|r| r.file_name == file_name);
            let remote =
                Remote { file_name: file_name.into(), url: url.clone(), size: pinned.as_ref().and_then(|r| r.size), digest: pinned.and_then(|r| r.digest) };
            download::fetch(&remote, &downloads_dir(home), opts)
        }
    }
}
