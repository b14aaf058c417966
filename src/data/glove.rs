//! Reads GloVe vectors (gensim's format with an `N D` header line, or Stanford's without
//! one; gzipped or plain; any dimension) into a `[vocab, dim]` embedding matrix.
use super::threaded_reader::ThreadedReader;
use super::vocab::Vocab;
use anyhow::{bail, Context, Result};
use serde::Serialize;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// The embedding matrix for a vocabulary, plus coverage information.
#[derive(Clone, Debug)]
pub(crate) struct GloveMatrix {
    pub dim: usize,
    /// Row-major `[vocab.len(), dim]`; rows of words not found (and `<pad>`, `<unk>`)
    /// are zeros, as the course does.
    pub data: Vec<f32>,
    pub coverage: Coverage,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct Coverage {
    /// Vocabulary words (specials excluded) that have a vector.
    pub found: usize,
    /// Vocabulary words, specials excluded.
    pub words: usize,
    /// The most frequent vocabulary words without a vector, most frequent first.
    pub top_missing: Vec<String>,
    /// Vectors in the file.
    pub file_words: usize,
}

impl Coverage {
    pub(crate) fn ratio(&self) -> f64 {
        if self.words == 0 {
            0.0
        } else {
            self.found as f64 / self.words as f64
        }
    }
}

/// Reads `path` and keeps vectors only for words of `vocab`. Floats are parsed only for
/// those lines; every line is still checked to have the right number of fields.
pub(crate) fn load(path: &Path, vocab: &Vocab) -> Result<GloveMatrix> {
    let start = std::time::Instant::now();
    let result = load_inner(path, vocab);
    super::prepare::report_phase("glove load", start);
    result
}

fn load_inner(path: &Path, vocab: &Vocab) -> Result<GloveMatrix> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot open GloVe file {}", path.display()))?;
    let mut raw = BufReader::with_capacity(1 << 20, file);
    let gz = raw.fill_buf().map(|b| b.starts_with(&[0x1f, 0x8b])).unwrap_or(false);
    let reader: Box<dyn BufRead> = if gz {
        // Inflating is most of the work: it runs on its own thread, overlapped with parsing.
        Box::new(ThreadedReader::new(flate2::bufread::GzDecoder::new(raw)))
    } else {
        Box::new(raw)
    };
    parse(reader, vocab, path)
}

fn parse(mut reader: Box<dyn BufRead>, vocab: &Vocab, path: &Path) -> Result<GloveMatrix> {
    let mut parser = Parser::new(vocab, path);
    let mut line = Vec::with_capacity(4096);
    let mut line_no = 0usize;
    loop {
        line.clear();
        let n = read_line(&mut reader, &mut line).with_context(|| format!("{}: read error (truncated or corrupt file?)", path.display()))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let text = trim_eol(&line);
        if text.is_empty() || parser.skip_unwanted(text) {
            continue;
        }
        parser.full_line(text, line_no)?;
    }
    parser.finish()
}

/// One pass over a GloVe file: the dimension once known, the rows of the vocabulary's
/// words found so far, and how many vectors the file held.
struct Parser<'v> {
    vocab: &'v Vocab,
    path: &'v Path,
    /// The vocabulary's own index hashes with SipHash; most of the file's 400k words are
    /// looked up once and missed, so a faster hash pays for building this.
    index: ahash::AHashMap<&'v str, usize>,
    dim: Option<usize>,
    data: Vec<f32>,
    seen: Vec<bool>,
    file_words: usize,
    /// The word count gensim's header claims.
    header_words: Option<usize>,
}

impl<'v> Parser<'v> {
    fn new(vocab: &'v Vocab, path: &'v Path) -> Parser<'v> {
        let index = vocab.words().iter().enumerate().map(|(i, w)| (w.as_str(), i)).collect();
        Parser { vocab, path, index, dim: None, data: Vec::new(), seen: vec![false; vocab.len()], file_words: 0, header_words: None }
    }

    fn here(&self, line_no: usize) -> String {
        format!("{}:{line_no}", self.path.display())
    }

    /// Counts a vector of dimension `d`, allocating the matrix at the first one.
    fn count_vector(&mut self, d: usize) {
        if self.data.is_empty() {
            self.data = vec![0.0; self.vocab.len() * d];
        }
        self.file_words += 1;
    }

    /// Fast path for the usual line, `word v1 ... vD` (once D is known) of a word
    /// outside the vocabulary: one pass over the bytes counts the fields and checks
    /// they hold only number characters and spaces. Anything else (a wanted word, a
    /// bad character, a wrong count, non-UTF-8) returns false and takes
    /// [`Parser::full_line`], which gives the same result and the precise error.
    #[inline]
    fn skip_unwanted(&mut self, text: &[u8]) -> bool {
        let Some(d) = self.dim else { return false };
        let split = text.iter().position(|&b| b == b' ').unwrap_or(text.len());
        let rest = text.get(split + 1..).unwrap_or(&[]);
        let (fields, clean) = scan_numbers(rest);
        if clean && fields == d {
            if let Ok(word) = std::str::from_utf8(&text[..split]) {
                let id = self.index.get(word).copied().unwrap_or(Vocab::UNK as usize);
                if id < Vocab::SPECIALS || self.seen[id] {
                    self.count_vector(d);
                    return true;
                }
            }
        }
        false
    }

    /// gensim's header on line 1: two integers, "<words> <dim>". Returns whether `text`
    /// was one.
    fn header(&mut self, text: &str, line_no: usize) -> Result<bool> {
        let mut it = text.split(' ');
        if let (Some(a), Some(b), None) = (it.next(), it.next(), it.next()) {
            if let (Ok(n), Ok(d)) = (a.parse::<usize>(), b.parse::<usize>()) {
                if d == 0 {
                    bail!("{}: header says dimension 0", self.here(line_no));
                }
                self.dim = Some(d);
                self.header_words = Some(n);
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// A line checked field by field: the header, or a vector (kept when its word is a
    /// wanted vocabulary word).
    fn full_line(&mut self, text: &[u8], line_no: usize) -> Result<()> {
        let Ok(text) = std::str::from_utf8(text) else {
            bail!("{}: line is not UTF-8; is this a GloVe text file?", self.here(line_no));
        };
        if line_no == 1 && self.header(text, line_no)? {
            return Ok(());
        }
        let (word, rest) = text.split_once(' ').unwrap_or((text, ""));
        let d = match self.dim {
            Some(d) => d,
            None => {
                let d = rest.split(' ').filter(|s| !s.is_empty()).count();
                if d == 0 {
                    bail!("{}: word {word:?} has no values; expected `word v1 ... vD`", self.here(line_no));
                }
                self.dim = Some(d);
                d
            }
        };
        self.count_vector(d);
        let id = self.index.get(word).copied().unwrap_or(Vocab::UNK as usize);
        let wanted = id >= Vocab::SPECIALS && !self.seen[id];
        let mut count = 0usize;
        for (k, field) in rest.split(' ').filter(|s| !s.is_empty()).enumerate() {
            count += 1;
            let not_a_number =
                || anyhow::anyhow!("{}: value {field:?} of word {word:?} is not a number; pass a GloVe text file with --glove", self.here(line_no));
            if wanted && k < d {
                // NaN and infinities parse but would poison training: refused like any non-number.
                self.data[id * d + k] = field.parse::<f32>().ok().filter(|v| v.is_finite()).ok_or_else(not_a_number)?;
            } else if !field.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E')) {
                // Lines of words outside the vocabulary are not parsed (that is most of
                // the file), but a field that cannot be a number still stops the load.
                return Err(not_a_number());
            }
        }
        if count != d {
            bail!("{}: word {word:?} has {count} values, expected {d}; the file is truncated or not GloVe text", self.here(line_no));
        }
        if wanted {
            self.seen[id] = true;
        }
        Ok(())
    }

    /// The matrix and its coverage, or an error when the file held no vectors.
    fn finish(self) -> Result<GloveMatrix> {
        let Parser { vocab, path, dim, data, seen, file_words, header_words, .. } = self;
        let Some(dim) = dim else {
            bail!("{}: no vectors found (empty file?); pass a GloVe text file with --glove", path.display());
        };
        if file_words == 0 {
            bail!("{}: no vectors found after the header; pass a GloVe text file with --glove", path.display());
        }
        if let Some(n) = header_words.filter(|&n| n > file_words) {
            // Whole lines of valid vectors: usable, but a file cut short on a line boundary
            // looks exactly like this.
            crate::errln!(
                "imdb-rnn: warning: {}: the header says {n} words but the file holds {file_words}; it may be truncated (using the {file_words} read)",
                path.display()
            );
        }
        let words = vocab.len() - Vocab::SPECIALS;
        let found = seen.iter().filter(|&&s| s).count();
        let top_missing = (Vocab::SPECIALS..vocab.len()).filter(|&i| !seen[i]).take(20).map(|i| vocab.words()[i].clone()).collect();
        Ok(GloveMatrix { dim, data, coverage: Coverage { found, words, top_missing, file_words } })
    }
}

/// Byte classes for [`scan_numbers`].
const NUM_BAD: u8 = 0;
const NUM_SPACE: u8 = 1;
const NUM_CHAR: u8 = 2;

const fn number_class() -> [u8; 256] {
    let mut t = [NUM_BAD; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = if c == b' ' {
            NUM_SPACE
        } else if c.is_ascii_digit() || matches!(c, b'.' | b'-' | b'+' | b'e' | b'E') {
            NUM_CHAR
        } else {
            NUM_BAD
        };
        b += 1;
    }
    t
}
static NUMBER_CLASS: [u8; 256] = number_class();

/// Counts the space-separated fields of `rest` (runs of spaces count once, as
/// `split(' ').filter(non-empty)` does), and whether every byte is a space or one of
/// the characters a number is written with.
#[inline]
fn scan_numbers(rest: &[u8]) -> (usize, bool) {
    let mut fields = 0usize;
    let mut bad = false;
    let mut prev_space = true;
    for &b in rest {
        let class = NUMBER_CLASS[b as usize];
        let space = class == NUM_SPACE;
        bad |= class == NUM_BAD;
        fields += (prev_space && !space) as usize;
        prev_space = space;
    }
    (fields, !bad)
}

fn read_line(reader: &mut dyn BufRead, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    reader.read_until(b'\n', buf)
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let mut end = line.len();
    while end > 0 && (line[end - 1] == b'\n' || line[end - 1] == b'\r' || line[end - 1] == b' ') {
        end -= 1;
    }
    &line[..end]
}

/// Reads just the dimension (first vector line or header) of a GloVe file, cheaply.
pub(crate) fn peek_dim(path: &Path) -> Result<usize> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot open GloVe file {}", path.display()))?;
    let mut raw = BufReader::new(file);
    let gz = raw.fill_buf().map(|b| b.starts_with(&[0x1f, 0x8b])).unwrap_or(false);
    let mut reader: Box<dyn BufRead> = if gz { Box::new(BufReader::new(flate2::bufread::GzDecoder::new(raw))) } else { Box::new(raw) };
    let mut first = String::new();
    reader.by_ref().take(1 << 20).read_line(&mut first).with_context(|| format!("{}: cannot read", path.display()))?;
    let fields: Vec<&str> = first.split_whitespace().collect();
    match fields.as_slice() {
        [a, b] if a.parse::<usize>().is_ok() && b.parse::<usize>().is_ok() => Ok(b.parse()?),
        [_, rest @ ..] if !rest.is_empty() => Ok(rest.len()),
        _ => bail!("{}:1: not a GloVe line; pass a GloVe text file with --glove", path.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab(words: &[&str]) -> Vocab {
        let mut all = vec!["<pad>".to_string(), "<unk>".to_string()];
        all.extend(words.iter().map(|w| w.to_string()));
        let n = all.len();
        Vocab::from_parts(all, vec![1; n])
    }

    fn write(content: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("g.txt");
        std::fs::write(&p, content).unwrap();
        (d, p)
    }

    #[test]
    fn gensim_header_and_stanford_headerless_files_give_the_same_matrix() {
        let v = vocab(&["the", "cat", "zzz"]);
        let (_a, with) = write("3 2\nthe 0.5 1\ncat -1 2.5\ndog 3 3\n");
        let (_b, without) = write("the 0.5 1\ncat -1 2.5\ndog 3 3\n");
        let m1 = load(&with, &v).unwrap();
        let m2 = load(&without, &v).unwrap();
        assert_eq!(m1.dim, 2);
        assert_eq!(m1.data, m2.data);
        assert_eq!(&m1.data[4..8], &[0.5, 1.0, -1.0, 2.5]);
        assert_eq!(&m1.data[8..10], &[0.0, 0.0]);
        assert_eq!((m1.coverage.found, m1.coverage.words), (2, 3));
        assert_eq!(m1.coverage.top_missing, ["zzz"]);
    }

    #[test]
    fn a_short_line_is_an_error_naming_file_and_line() {
        let v = vocab(&["the"]);
        let (_d, p) = write("the 1 2 3\ncat 1 2\n");
        let e = format!("{:#}", load(&p, &v).unwrap_err());
        assert!(e.contains("g.txt:2: word \"cat\" has 2 values, expected 3"), "{e}");
    }

    #[test]
    fn a_non_number_is_an_error_naming_file_and_line() {
        let v = vocab(&["the"]);
        let (_d, p) = write("2 2\nthe 1 x\n");
        let e = format!("{:#}", load(&p, &v).unwrap_err());
        assert!(e.contains("g.txt:2: value \"x\" of word \"the\" is not a number"), "{e}");
    }

    #[test]
    fn an_empty_file_is_an_error() {
        let (_d, p) = write("");
        let e = format!("{:#}", load(&p, &vocab(&["a"])).unwrap_err());
        assert!(e.contains("no vectors found"), "{e}");
    }

    /// Many lines, most of words outside the vocabulary (the fast path), across several
    /// of the decompressing thread's chunks.
    fn big_file(bad_line: Option<usize>) -> String {
        let mut s = String::from("3000 3\n");
        for i in 0..30_000usize {
            let word = match i % 1000 {
                7 => "the".to_string(),
                500 => "cat".to_string(),
                _ => format!("w{i}"),
            };
            let third = if Some(i) == bad_line { "1.5x".to_string() } else { format!("{}e-3", i % 97) };
            s += &format!("{word} 0.{i} -{i}.25 {third}\n");
        }
        s
    }

    #[test]
    fn a_gzipped_file_gives_the_same_matrix_and_the_same_errors_as_the_plain_one() {
        use std::io::Write;
        let v = vocab(&["the", "cat", "dog"]);
        for bad in [None, Some(9_999), Some(500)] {
            let text = big_file(bad);
            let (d, plain) = write(&text);
            let gz = d.path().join("g.gz");
            let mut enc = flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), flate2::Compression::fast());
            enc.write_all(text.as_bytes()).unwrap();
            enc.finish().unwrap();
            match (load(&plain, &v), load(&gz, &v)) {
                (Ok(a), Ok(b)) => {
                    assert!(bad.is_none());
                    assert_eq!(a.data, b.data);
                    // First occurrences win: "the" is line 9 of the file (word 7).
                    assert_eq!(&a.data[2 * 3..3 * 3], &[0.7, -7.25, 7e-3]);
                    assert_eq!((a.coverage.found, a.coverage.file_words), (2, 30_000));
                }
                (Err(a), Err(b)) => {
                    let (a, b) = (format!("{a:#}"), format!("{b:#}"));
                    assert_eq!(a.replace("g.txt", "g.gz"), b);
                    assert!(a.contains(&format!("g.txt:{}: value \"1.5x\"", bad.unwrap() + 2)), "{a}");
                }
                (a, b) => panic!("plain {:?} vs gz {:?}", a.map(|m| m.dim), b.map(|m| m.dim)),
            }
        }
        // A cut gzip stream is a read error, not a short matrix.
        let (d, _) = write("");
        let gz = d.path().join("cut.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(big_file(None).as_bytes()).unwrap();
        let whole = enc.finish().unwrap();
        std::fs::write(&gz, &whole[..whole.len() / 2]).unwrap();
        let e = format!("{:#}", load(&gz, &v).unwrap_err());
        assert!(e.contains("cut.gz: read error (truncated or corrupt file?)"), "{e}");
    }
}
