//! Streams labeled reviews out of an aclImdb archive (.tar.gz, .tar) or an extracted
//! aclImdb directory, without ever writing anything to disk.
use anyhow::{bail, Context, Result};
use std::io::{BufReader, Read};
use std::path::Path;

/// Which half of the dataset a review belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub(crate) enum Split {
    Train,
    Test,
}

/// Parses an archive member path; `None` for anything that is not a labeled review
/// (README, imdb.vocab, `train/unsup`, `*.feat`, `urls_*.txt`, `../evil`, `/abs/path`...).
pub(crate) fn parse_review_path(path: &str) -> Option<(Split, u8, u32, u8)> {
    let path = path.strip_prefix("./").unwrap_or(path);
    let mut parts = path.split('/');
    if parts.next()? != "aclImdb" {
        return None;
    }
    let split = match parts.next()? {
        "train" => Split::Train,
        "test" => Split::Test,
        _ => return None,
    };
    let label = match parts.next()? {
        "pos" => 1,
        "neg" => 0,
        _ => return None,
    };
    let file = parts.next()?;
    if parts.next().is_some() {
        return None;
    }
    let stem = file.strip_suffix(".txt")?;
    let (id, rating) = stem.split_once('_')?;
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let id: u32 = id.parse().ok()?;
    let rating: u8 = rating.parse().ok()?;
    if !(1..=10).contains(&rating) {
        return None;
    }
    Some((split, label, id, rating))
}

/// Where a labeled review comes from, parsed from its path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ReviewMeta {
    pub split: Split,
    /// 1 for `pos`, 0 for `neg`.
    pub label: u8,
    pub id: u32,
    pub rating: u8,
}

/// Calls `sink` with every labeled review of the archive or directory at `path`, in
/// archive order, and a reader over its text, so the caller can append it wherever it
/// wants (no allocation per review). Entries that are not regular files (links,
/// devices) are skipped.
pub(crate) fn read_reviews(path: &Path, mut sink: impl FnMut(ReviewMeta, &mut dyn Read) -> Result<()>) -> Result<()> {
    if path.is_dir() {
        return read_directory(path, &mut sink);
    }
    let file = std::fs::File::open(path).with_context(|| format!("cannot open IMDB archive {}", path.display()))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let (gz, tar) = {
        use std::io::BufRead;
        let buf = reader.fill_buf().with_context(|| format!("cannot read {}", path.display()))?;
        (buf.starts_with(&[0x1f, 0x8b]), buf.get(257..262) == Some(b"ustar"))
    };
    if !gz && !tar {
        // The user's own file (a review, a zip): say what it is not, not "fetch again".
        bail!(
            "--imdb {}: not an aclImdb archive (neither .tar.gz nor .tar); pass aclImdb_v1.tar.gz or its unpacked directory (imdb-rnn fetch imdb downloads it)",
            path.display()
        );
    }
    let result = if gz {
        // The buffer between inflate and tar makes inflate produce large chunks (tar's
        // own reads are 512-byte headers and short bodies, each costing a full call into
        // the decoder and a checksum update otherwise).
        read_tar(BufReader::with_capacity(256 << 10, flate2::bufread::GzDecoder::new(reader)), &mut sink)
    } else {
        read_tar(reader, &mut sink)
    };
    result.with_context(|| {
        format!("IMDB archive {} is truncated or corrupt; delete it and fetch again (imdb-rnn fetch imdb), or pass another with --imdb", path.display())
    })
}

fn read_tar(mut input: impl Read, sink: &mut impl FnMut(ReviewMeta, &mut dyn Read) -> Result<()>) -> Result<()> {
    let mut archive = tar::Archive::new(&mut input);
    for entry in archive.entries()? {
        let mut entry = entry?;
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let path_bytes = entry.path_bytes();
        let Ok(path) = std::str::from_utf8(&path_bytes) else { continue };
        let Some((split, label, id, rating)) = parse_review_path(path) else { continue };
        sink(ReviewMeta { split, label, id, rating }, &mut entry)?;
    }
    // tar stops at the end-of-archive block; read on to the end of the stream so that
    // gzip checks its CRC and length trailer (a cut or corrupt end is an error too).
    std::io::copy(&mut input, &mut std::io::sink())?;
    Ok(())
}

fn read_directory(root: &Path, sink: &mut impl FnMut(ReviewMeta, &mut dyn Read) -> Result<()>) -> Result<()> {
    // Accept both the directory holding aclImdb/ and aclImdb/ itself.
    let base = if root.join("aclImdb").is_dir() { root.join("aclImdb") } else { root.to_path_buf() };
    for split in ["train", "test"] {
        for label in ["pos", "neg"] {
            let dir = base.join(split).join(label);
            let Ok(listing) = std::fs::read_dir(&dir) else { continue };
            let mut names: Vec<_> = listing.filter_map(|e| e.ok()).collect();
            names.sort_by_key(|e| e.file_name());
            for e in names {
                if !e.file_type()?.is_file() {
                    continue; // never follow links
                }
                let name = e.file_name();
                let rel = format!("aclImdb/{split}/{label}/{}", name.to_string_lossy());
                let Some((split, label, id, rating)) = parse_review_path(&rel) else { continue };
                let text = std::fs::read(e.path()).with_context(|| format!("cannot read {}", e.path().display()))?;
                sink(ReviewMeta { split, label, id, rating }, &mut text.as_slice())?;
            }
        }
    }
    Ok(())
}

/// Fails unless both splits hold reviews; names the archive.
pub(crate) fn check_counts(path: &Path, train: usize, test: usize) -> Result<()> {
    match (train, test) {
        (0, 0) => bail!(
            "{} holds no labeled reviews (expected aclImdb/{{train,test}}/{{pos,neg}}/<id>_<rating>.txt); pass the aclImdb archive with --imdb",
            path.display()
        ),
        (0, _) => bail!("{} has no aclImdb/train reviews; pass a complete aclImdb archive with --imdb", path.display()),
        (_, 0) => bail!("{} has no aclImdb/test reviews; pass a complete aclImdb archive with --imdb", path.display()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn review_paths_are_recognised_and_everything_else_ignored() {
        assert_eq!(parse_review_path("aclImdb/train/pos/12_9.txt"), Some((Split::Train, 1, 12, 9)));
        assert_eq!(parse_review_path("./aclImdb/test/neg/0_2.txt"), Some((Split::Test, 0, 0, 2)));
        for p in [
            "aclImdb/train/unsup/1_0.txt",
            "aclImdb/train/labeledBow.feat",
            "aclImdb/train/urls_pos.txt",
            "aclImdb/README",
            "../evil",
            "/aclImdb/train/pos/1_9.txt",
            "aclImdb/train/pos/../../../evil/1_9.txt",
            "aclImdb/train/pos/x_9.txt",
            "aclImdb/train/pos/1_11.txt",
        ] {
            assert_eq!(parse_review_path(p), None, "{p}");
        }
    }
}
