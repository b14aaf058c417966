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
use std::io::Read;
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"IMDBRNN\x01";
const FORMAT_VERSION: u32 = 2;

/// Everything that determines the encoded tensors. Two runs with equal keys share a cache.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CacheKey {
    /// Identity of the archive: canonical path, size and modification time.
    pub source: String,
    pub tokenizer_version: u32,
    pub format_version: u32,
    pub encode: EncodeConfig,
}

impl CacheKey {
    pub(crate) fn for_archive(path: &Path, encode: EncodeConfig) -> Result<CacheKey> {
        let canonical = path.canonicalize().with_context(|| format!("IMDB archive {} not found", path.display()))?;
        let meta = std::fs::metadata(&canonical)?;
        let mtime = meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map(|d| d.as_nanos()).unwrap_or(0);
        Ok(CacheKey {
            source: format!("{}|{}|{}", canonical.display(), meta.len(), mtime),
            tokenizer_version: TOKENIZER_VERSION,
            format_version: FORMAT_VERSION,
            encode,
        })
    }

    /// File name inside the cache directory: a short hash of the key.
    pub(crate) fn file_name(&self) -> String {
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
pub(crate) fn cache_path(dir: &Path, key: &CacheKey) -> PathBuf {
    dir.join(key.file_name())
}

/// Writes `data` atomically to `path`.
pub(crate) fn save(path: &Path, key: &CacheKey, data: &Prepared) -> Result<()> {
    let start = std::time::Instant::now();
    let result = save_inner(path, key, data);
    super::prepare::report_phase("cache save", start);
    result
}

fn save_inner(path: &Path, key: &CacheKey, data: &Prepared) -> Result<()> {
    let token_width = if data.vocab.len() <= 1 << 16 { 2 } else { 4 };
    let header =
        Header { key: key.clone(), vocab: data.vocab.clone(), stats: data.stats.clone(), n_train: data.train.len(), n_test: data.test.len(), token_width };
    let header = serde_json::to_vec(&header)?;
    let tokens = data.train.tokens.len() + data.test.tokens.len();
    let mut out = Vec::with_capacity(16 + header.len() + 10 * (data.train.len() + data.test.len()) + tokens * token_width + 8);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(header.len() as u64).to_le_bytes());
    out.extend_from_slice(&header);
    for split in [&data.train, &data.test] {
        put_u32s(&mut out, &split.ids);
        out.extend_from_slice(&split.ratings);
        out.extend_from_slice(&split.labels);
        put_u32s(&mut out, &split.lengths);
        if token_width == 2 {
            put_u16s(&mut out, &split.tokens);
        } else {
            put_u32s(&mut out, &split.tokens);
        }
    }
    let sum = checksum(&out[16..]);
    out.extend_from_slice(&sum.to_le_bytes());
    // No fsync (20 ms and more, on the critical path of every first run): should a power
    // cut leave the renamed file incomplete, its checksum fails and it is rebuilt.
    crate::util::write_atomic_with(path, &out, false)
}

/// Loads the cache at `path` if it exists and matches `key`. A missing file gives
/// `Ok(None)`; a stale or corrupt one is reported as `Err` so the caller rebuilds it.
pub(crate) fn load(path: &Path, key: &CacheKey) -> Result<Option<Prepared>> {
    let start = std::time::Instant::now();
    let result = load_inner(path, key);
    super::prepare::report_phase("cache load", start);
    result
}

fn load_inner(path: &Path, key: &CacheKey) -> Result<Option<Prepared>> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read cache {}", path.display())),
    };
    let len = file.metadata().with_context(|| format!("cannot read cache {}", path.display()))?.len();
    parse(file, len, key).with_context(|| format!("cache {} is stale or corrupt", path.display())).map(Some)
}

/// Reads a cache file of `len` bytes from `input`, streaming: the body is checksummed and
/// decoded a chunk at a time, straight into the arrays it fills (no copy of the whole
/// file in memory). Nothing is returned unless the checksum of header and body matches.
fn parse(input: impl Read, len: u64, key: &CacheKey) -> Result<Prepared> {
    let mut r = Body { input, sum: Checksum::new(len.saturating_sub(24)), chunk: Vec::new() };
    ensure!(len >= 24, "bad magic");
    let mut head = [0u8; 16];
    r.input.read_exact(&mut head)?;
    ensure!(&head[..8] == MAGIC, "bad magic");
    let header_len = u64::from_le_bytes(head[8..16].try_into().unwrap());
    ensure!(header_len <= len - 24, "truncated header");
    let body_len = len - 24 - header_len;
    let header_bytes = r.take(header_len as usize)?.to_vec();
    // The body's size follows from the header, so a header that does not parse, names
    // another key or does not fit the file is only reported once the checksum agrees
    // (else the file is simply corrupt, and says so).
    let header = serde_json::from_slice::<Header>(&header_bytes).map_err(anyhow::Error::from).and_then(|h| {
        if h.key != *key {
            bail!("made for {:?}, wanted {:?}", h.key, key);
        }
        let expected = body_size(&h, key.encode.max_len).filter(|&n| n == body_len);
        ensure!(expected.is_some(), "body of {body_len} bytes does not match its header");
        Ok(h)
    });
    let header = match header {
        Ok(h) => h,
        Err(e) => {
            r.skip(body_len)?;
            r.check_sum()?;
            return Err(e);
        }
    };
    let max_len = key.encode.max_len;
    let mut splits = Vec::new();
    for n in [header.n_train, header.n_test] {
        let ids = r.u32s(n)?;
        let ratings = r.take(n)?.to_vec();
        let labels = r.take(n)?.to_vec();
        let lengths = r.u32s(n)?;
        let tokens = if header.token_width == 2 { r.u16s(n * max_len)? } else { r.u32s(n * max_len)? };
        splits.push(EncodedSplit { ids, ratings, labels, lengths, tokens });
    }
    r.check_sum()?;
    let test = splits.pop().unwrap();
    let train = splits.pop().unwrap();
    let vocab = header.vocab.reindex();
    let max_token = train.tokens.iter().chain(&test.tokens).fold(0u32, |m, &t| m.max(t));
    ensure!((max_token as usize) < vocab.len() || train.tokens.len() + test.tokens.len() == 0, "token id out of vocabulary range");
    Ok(Prepared { config: key.encode, vocab, train, test, stats: header.stats })
}

/// Bytes of body that `header` describes, `None` when absurd.
fn body_size(h: &Header, max_len: usize) -> Option<u64> {
    if h.token_width != 2 && h.token_width != 4 {
        return None;
    }
    let mut total = 0u64;
    for n in [h.n_train, h.n_test] {
        let n = n as u64;
        let tokens = n.checked_mul(max_len as u64)?.checked_mul(h.token_width as u64)?;
        total = total.checked_add(n.checked_mul(10)?)?.checked_add(tokens)?;
    }
    Some(total)
}

/// The part of a cache file after the magic and header length: read through a reused
/// chunk buffer, every byte checksummed on the way.
struct Body<R> {
    input: R,
    sum: Checksum,
    chunk: Vec<u8>,
}

impl<R: Read> Body<R> {
    const CHUNK: usize = 1 << 20;

    /// The next `n` bytes (in the reused buffer).
    fn take(&mut self, n: usize) -> Result<&[u8]> {
        self.chunk.resize(n, 0);
        self.input.read_exact(&mut self.chunk).context("truncated body")?;
        self.sum.update(&self.chunk);
        Ok(&self.chunk)
    }

    fn skip(&mut self, mut n: u64) -> Result<()> {
        while n > 0 {
            let k = n.min(Self::CHUNK as u64) as usize;
            self.take(k)?;
            n -= k as u64;
        }
        Ok(())
    }

    /// Reads `n` little-endian values of `width` bytes, widened to u32 by `get`.
    fn values(&mut self, n: usize, width: usize, get: impl Fn(&[u8]) -> u32) -> Result<Vec<u32>> {
        let mut out = Vec::with_capacity(n);
        let per_chunk = Self::CHUNK / width;
        while out.len() < n {
            let k = (n - out.len()).min(per_chunk);
            let bytes = self.take(k * width)?;
            out.extend(bytes.chunks_exact(width).map(&get));
        }
        Ok(out)
    }

    fn u32s(&mut self, n: usize) -> Result<Vec<u32>> {
        self.values(n, 4, |c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
    }

    fn u16s(&mut self, n: usize) -> Result<Vec<u32>> {
        self.values(n, 2, |c| u16::from_le_bytes([c[0], c[1]]) as u32)
    }

    /// Reads the stored checksum (the file's last 8 bytes) and compares.
    fn check_sum(&mut self) -> Result<()> {
        let mut stored = [0u8; 8];
        self.input.read_exact(&mut stored).context("truncated body")?;
        ensure!(self.sum.clone().finish() == u64::from_le_bytes(stored), "checksum mismatch");
        let mut extra = [0u8; 1];
        ensure!(self.input.read(&mut extra)? == 0, "trailing bytes");
        Ok(())
    }
}

fn put_u32s(out: &mut Vec<u8>, values: &[u32]) {
    let start = out.len();
    out.resize(start + values.len() * 4, 0);
    for (d, v) in out[start..].chunks_exact_mut(4).zip(values) {
        d.copy_from_slice(&v.to_le_bytes());
    }
}

/// Token ids as u16 (the caller checked they fit).
fn put_u16s(out: &mut Vec<u8>, values: &[u32]) {
    let start = out.len();
    out.resize(start + values.len() * 2, 0);
    for (d, &v) in out[start..].chunks_exact_mut(2).zip(values) {
        d.copy_from_slice(&(v as u16).to_le_bytes());
    }
}

const CHECKSUM_MUL: u64 = 0x9E37_79B9_7F4A_7C15;

/// A fast non-cryptographic checksum (corruption detection, not tamper-proofing).
fn checksum(body: &[u8]) -> u64 {
    let mut sum = Checksum::new(body.len() as u64);
    sum.update(body);
    sum.finish()
}

/// [`checksum`], fed a piece at a time: 8-byte little-endian words folded in order,
/// then the bytes of an incomplete last word one by one.
#[derive(Clone)]
struct Checksum {
    h: u64,
    pending: [u8; 8],
    n_pending: usize,
}

impl Checksum {
    /// For `len` bytes in all.
    fn new(len: u64) -> Checksum {
        Checksum { h: 0xcbf2_9ce4_8422_2325 ^ len, pending: [0; 8], n_pending: 0 }
    }

    #[inline]
    fn word(h: u64, w: u64) -> u64 {
        (h ^ w).wrapping_mul(CHECKSUM_MUL).rotate_left(31)
    }

    fn update(&mut self, mut data: &[u8]) {
        if self.n_pending > 0 {
            let k = (8 - self.n_pending).min(data.len());
            self.pending[self.n_pending..self.n_pending + k].copy_from_slice(&data[..k]);
            self.n_pending += k;
            data = &data[k..];
            if self.n_pending < 8 {
                return;
            }
            self.h = Self::word(self.h, u64::from_le_bytes(self.pending));
            self.n_pending = 0;
        }
        let mut words = data.chunks_exact(8);
        let mut h = self.h;
        for c in &mut words {
            h = Self::word(h, u64::from_le_bytes(c.try_into().unwrap()));
        }
        self.h = h;
        let rest = words.remainder();
        self.pending[..rest.len()].copy_from_slice(rest);
        self.n_pending = rest.len();
    }

    fn finish(self) -> u64 {
        let mut h = self.h;
        for &b in &self.pending[..self.n_pending] {
            h = (h ^ b as u64).wrapping_mul(CHECKSUM_MUL).rotate_left(31);
        }
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The checksum as first written (one pass over a slice): the format depends on it.
    fn reference_checksum(body: &[u8]) -> u64 {
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

    #[test]
    fn the_streamed_checksum_equals_the_one_pass_checksum_for_any_split() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        for len in [0, 1, 7, 8, 9, 63, 64, 999, 1000] {
            let body = &data[..len];
            assert_eq!(checksum(body), reference_checksum(body), "len {len}");
            for cuts in [[0, 0], [1, 2], [3, 11], [5, 5], [8, 16], [len / 3, len / 2]] {
                let (a, b) = (cuts[0].min(len), cuts[1].min(len).max(cuts[0].min(len)));
                let mut sum = Checksum::new(len as u64);
                sum.update(&body[..a]);
                sum.update(&body[a..b]);
                sum.update(&body[b..]);
                assert_eq!(sum.finish(), reference_checksum(body), "len {len} cuts {a} {b}");
            }
        }
    }

    fn sample() -> (CacheKey, Prepared) {
        let words: Vec<String> = ["<pad>", "<unk>", "good", "bad"].iter().map(|s| s.to_string()).collect();
        let vocab = Vocab::from_parts(words, vec![0, 0, 3, 2]);
        let encode = EncodeConfig { vocab_size: 2, max_len: 3, ..EncodeConfig::default() };
        let split = |ids: Vec<u32>, tokens: Vec<u32>| EncodedSplit {
            ratings: vec![9; ids.len()],
            labels: vec![1; ids.len()],
            lengths: vec![3; ids.len()],
            ids,
            tokens,
        };
        let key = CacheKey { source: "x|1|2".into(), tokenizer_version: 1, format_version: FORMAT_VERSION, encode };
        let data = Prepared {
            config: encode,
            vocab,
            train: split(vec![4, 7], vec![2, 3, 0, 3, 1, 1]),
            test: split(vec![5], vec![2, 2, 2]),
            stats: CorpusStats { train_tokens: 6, test_tokens: 3, train_distinct: 2, test_unk_tokens: 0 },
        };
        (key, data)
    }

    #[test]
    fn a_saved_cache_loads_back_identical_and_any_flipped_byte_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.bin");
        let (key, data) = sample();
        save(&path, &key, &data).unwrap();
        let back = load(&path, &key).unwrap().unwrap();
        assert_eq!((back.train.tokens.clone(), back.test.tokens.clone()), (data.train.tokens.clone(), data.test.tokens.clone()));
        assert_eq!((back.train.ids.clone(), back.test.lengths.clone()), (data.train.ids.clone(), data.test.lengths.clone()));
        assert_eq!(back.vocab, data.vocab);
        assert_eq!(back.stats, data.stats);
        let good = std::fs::read(&path).unwrap();
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x10;
            std::fs::write(&path, &bad).unwrap();
            assert!(load(&path, &key).is_err(), "flipped byte {i} of {}", good.len());
        }
        for cut in [0, 8, 20, good.len() / 2, good.len() - 1] {
            std::fs::write(&path, &good[..cut]).unwrap();
            assert!(load(&path, &key).is_err(), "cut at {cut}");
        }
        let mut longer = good.clone();
        longer.push(0);
        std::fs::write(&path, &longer).unwrap();
        assert!(load(&path, &key).is_err(), "a trailing byte");
        let other = CacheKey { source: "y|1|2".into(), ..key };
        std::fs::write(&path, &good).unwrap();
        assert!(format!("{:#}", load(&path, &other).unwrap_err()).contains("made for"));
        assert!(std::fs::read_dir(dir.path()).unwrap().count() == 1, "no temp file left");
    }
}
