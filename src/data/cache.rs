//! On-disk cache of the encoded dataset, keyed by what produced it, verified on load.
//!
//! Layout: magic, header length (u64 LE), JSON header (key, vocabulary, stats, sizes),
//! body (little-endian arrays), then a 64-bit checksum of header and body. Written to a temp
//! file and renamed, so a crash never leaves a half-written cache under its final name.
use super::prepare::{CorpusStats, EncodeConfig, EncodedSplit, Prepared};
use super::tokenize::TOKENIZER_VERSION;
use super::vocab::Vocab;
use anyhow::{bail, ensure, Context, Result};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"IMDBRNN\x01";
const FORMAT_VERSION: u32 = 2;

/// Everything that determines the encoded tensors. Two runs with equal keys share a cache.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheKey {
    /// Identity of the archive: canonical path, size and modification time.
    pub source: String,
    pub tokenizer_version: u32,
    pub format_version: u32,
    pub encode: EncodeConfig,
}

impl CacheKey {
    pub fn for_archive(path: &Path, encode: EncodeConfig) -> Result<CacheKey> {
        let canonical = path
            .canonicalize()
            .with_context(|| format!("IMDB archive {} not found", path.display()))?;
        let meta = std::fs::metadata(&canonical)?;
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        Ok(CacheKey {
            source: format!("{}|{}|{}", canonical.display(), meta.len(), mtime),
            tokenizer_version: TOKENIZER_VERSION,
            format_version: FORMAT_VERSION,
            encode,
        })
    }

    /// File name inside the cache directory: a short hash of the key.
    pub fn file_name(&self) -> String {
        let json = serde_json::to_vec(self).expect("key serialises");
        let digest = sha2::Sha256::digest(&json);
        let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        format!("encoded-{hex}.bin")
    }
}

#[derive(Serialize, Deserialize)]
struct Header {
    key: CacheKey,
    vocab: Vocab,
    stats: CorpusStats,
    n_train: usize,
    n_test: usize,
    /// Bytes per token id in the body: 2 when the vocabulary fits u16, else 4.
    token_width: usize,
}

/// Path of the cache file for `key` inside `dir`.
pub fn cache_path(dir: &Path, key: &CacheKey) -> PathBuf {
    dir.join(key.file_name())
}

/// Writes `data` atomically to `path`.
pub fn save(path: &Path, key: &CacheKey, data: &Prepared) -> Result<()> {
    let token_width = if data.vocab.len() <= 1 << 16 { 2 } else { 4 };
    let header = Header {
        key: key.clone(),
        vocab: data.vocab.clone(),
        stats: data.stats.clone(),
        n_train: data.train.len(),
        n_test: data.test.len(),
        token_width,
    };
    let header = serde_json::to_vec(&header)?;
    let mut body = Vec::with_capacity((data.train.tokens.len() + data.test.tokens.len()) * token_width);
    for split in [&data.train, &data.test] {
        put_u32s(&mut body, &split.ids);
        body.extend_from_slice(&split.ratings);
        body.extend_from_slice(&split.labels);
        put_u32s(&mut body, &split.lengths);
        if token_width == 2 {
            body.extend(split.tokens.iter().flat_map(|&t| (t as u16).to_le_bytes()));
        } else {
            put_u32s(&mut body, &split.tokens);
        }
    }
    let mut out = Vec::with_capacity(MAGIC.len() + 8 + header.len() + body.len() + 8);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(header.len() as u64).to_le_bytes());
    out.extend_from_slice(&header);
    out.extend_from_slice(&body);
    let sum = checksum(&out[16..]);
    out.extend_from_slice(&sum.to_le_bytes());
    crate::util::write_atomic(path, &out)
}

/// Loads the cache at `path` if it exists and matches `key`. A missing file gives
/// `Ok(None)`; a stale or corrupt one is reported as `Err` so the caller rebuilds it.
pub fn load(path: &Path, key: &CacheKey) -> Result<Option<Prepared>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read cache {}", path.display())),
    };
    parse(&bytes, key).with_context(|| format!("cache {} is stale or corrupt", path.display())).map(Some)
}

fn parse(bytes: &[u8], key: &CacheKey) -> Result<Prepared> {
    ensure!(bytes.len() >= 24 && &bytes[..8] == MAGIC, "bad magic");
    let header_len = u64::from_le_bytes(bytes[8..16].try_into().unwrap()) as usize;
    ensure!(header_len <= bytes.len() - 24, "truncated header");
    // Header and body both: a corrupt vocabulary word is as wrong as a corrupt token id.
    let stored = u64::from_le_bytes(bytes[bytes.len() - 8..].try_into().unwrap());
    ensure!(checksum(&bytes[16..bytes.len() - 8]) == stored, "checksum mismatch");
    let header: Header = serde_json::from_slice(&bytes[16..16 + header_len])?;
    if header.key != *key {
        bail!("made for {:?}, wanted {:?}", header.key, key);
    }
    let body = &bytes[16 + header_len..bytes.len() - 8];
    let max_len = key.encode.max_len;
    let mut cursor = Cursor { body, pos: 0 };
    let mut splits = Vec::new();
    for n in [header.n_train, header.n_test] {
        let ids = cursor.u32s(n)?;
        let ratings = cursor.bytes(n)?.to_vec();
        let labels = cursor.bytes(n)?.to_vec();
        let lengths = cursor.u32s(n)?;
        let tokens = if header.token_width == 2 {
            cursor.bytes(n * max_len * 2)?.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]]) as u32).collect()
        } else {
            cursor.u32s(n * max_len)?
        };
        splits.push(EncodedSplit { ids, ratings, labels, lengths, tokens });
    }
    ensure!(cursor.pos == body.len(), "trailing bytes");
    let test = splits.pop().unwrap();
    let train = splits.pop().unwrap();
    let vocab = header.vocab.reindex();
    ensure!(
        train.tokens.iter().chain(&test.tokens).all(|&t| (t as usize) < vocab.len()),
        "token id out of vocabulary range"
    );
    Ok(Prepared { config: key.encode, vocab, train, test, stats: header.stats })
}

struct Cursor<'a> {
    body: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        ensure!(self.pos + n <= self.body.len(), "truncated body");
        let s = &self.body[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn u32s(&mut self, n: usize) -> Result<Vec<u32>> {
        Ok(self.bytes(n * 4)?.chunks_exact(4).map(|c| u32::from_le_bytes(c.try_into().unwrap())).collect())
    }
}

fn put_u32s(out: &mut Vec<u8>, values: &[u32]) {
    out.extend(values.iter().flat_map(|v| v.to_le_bytes()));
}

/// A fast non-cryptographic checksum (corruption detection, not tamper-proofing).
fn checksum(body: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ body.len() as u64;
    let mut chunks = body.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes(c.try_into().unwrap());
        h = (h ^ w).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(31);
    }
    for &b in chunks.remainder() {
        h = (h ^ b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(31);
    }
    h
}
