//! Reads GloVe vectors (gensim's format with an `N D` header line, or Stanford's without
//! one; gzipped or plain; any dimension) into a `[vocab, dim]` embedding matrix.
use super::vocab::Vocab;
use anyhow::{bail, Context, Result};
use serde::Serialize;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// The embedding matrix for a vocabulary, plus coverage information.
#[derive(Clone, Debug)]
pub struct GloveMatrix {
    pub dim: usize,
    /// Row-major `[vocab.len(), dim]`; rows of words not found (and `<pad>`, `<unk>`)
    /// are zeros, as the course does.
    pub data: Vec<f32>,
    pub coverage: Coverage,
}

#[derive(Clone, Debug, Serialize)]
pub struct Coverage {
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
    pub fn ratio(&self) -> f64 {
        if self.words == 0 { 0.0 } else { self.found as f64 / self.words as f64 }
    }
}

/// Reads `path` and keeps vectors only for words of `vocab`. Floats are parsed only for
/// those lines; every line is still checked to have the right number of fields.
pub fn load(path: &Path, vocab: &Vocab) -> Result<GloveMatrix> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot open GloVe file {}", path.display()))?;
    let mut raw = BufReader::with_capacity(1 << 20, file);
    let gz = raw.fill_buf().map(|b| b.starts_with(&[0x1f, 0x8b])).unwrap_or(false);
    let reader: Box<dyn BufRead> = if gz {
        Box::new(BufReader::with_capacity(1 << 20, flate2::bufread::GzDecoder::new(raw)))
    } else {
        Box::new(raw)
    };
    parse(reader, vocab, path)
}

fn parse(mut reader: Box<dyn BufRead>, vocab: &Vocab, path: &Path) -> Result<GloveMatrix> {
    let here = |line_no: usize| format!("{}:{line_no}", path.display());
    let mut line = Vec::with_capacity(4096);
    let mut line_no = 0usize;
    let mut dim: Option<usize> = None;
    let mut data: Vec<f32> = Vec::new();
    let mut seen = vec![false; vocab.len()];
    let mut file_words = 0usize;

    loop {
        line.clear();
        let n = read_line(&mut reader, &mut line).with_context(|| format!("{}: read error (truncated or corrupt file?)", path.display()))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let text = trim_eol(&line);
        if text.is_empty() {
            continue;
        }
        let Ok(text) = std::str::from_utf8(text) else {
            bail!("{}: line is not UTF-8; is this a GloVe text file?", here(line_no));
        };
        if line_no == 1 {
            // gensim's header: two integers, "<words> <dim>".
            let mut it = text.split(' ');
            if let (Some(a), Some(b), None) = (it.next(), it.next(), it.next()) {
                if let (Ok(_), Ok(d)) = (a.parse::<usize>(), b.parse::<usize>()) {
                    if d == 0 {
                        bail!("{}: header says dimension 0", here(line_no));
                    }
                    dim = Some(d);
                    continue;
                }
            }
        }
        let (word, rest) = text.split_once(' ').unwrap_or((text, ""));
        let d = match dim {
            Some(d) => d,
            None => {
                let d = rest.split(' ').filter(|s| !s.is_empty()).count();
                if d == 0 {
                    bail!("{}: word {word:?} has no values; expected `word v1 ... vD`", here(line_no));
                }
                dim = Some(d);
                d
            }
        };
        if data.is_empty() {
            data = vec![0.0; vocab.len() * d];
        }
        file_words += 1;
        let id = vocab.id(word) as usize;
        let wanted = id >= Vocab::SPECIALS && !seen[id];
        let mut count = 0usize;
        for (k, field) in rest.split(' ').filter(|s| !s.is_empty()).enumerate() {
            count += 1;
            let not_a_number = || {
                anyhow::anyhow!("{}: value {field:?} of word {word:?} is not a number; pass a GloVe text file with --glove", here(line_no))
            };
            if wanted && k < d {
                // NaN and infinities parse but would poison training: refused like any non-number.
                data[id * d + k] = field.parse::<f32>().ok().filter(|v| v.is_finite()).ok_or_else(not_a_number)?;
            } else if !field.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E')) {
                // Lines of words outside the vocabulary are not parsed (that is most of
                // the file), but a field that cannot be a number still stops the load.
                return Err(not_a_number());
            }
        }
        if count != d {
            bail!("{}: word {word:?} has {count} values, expected {d}; the file is truncated or not GloVe text", here(line_no));
        }
        if wanted {
            seen[id] = true;
        }
    }
    let Some(dim) = dim else {
        bail!("{}: no vectors found (empty file?); pass a GloVe text file with --glove", path.display());
    };
    if file_words == 0 {
        bail!("{}: no vectors found after the header; pass a GloVe text file with --glove", path.display());
    }
    let words = vocab.len() - Vocab::SPECIALS;
    let found = seen.iter().filter(|&&s| s).count();
    let top_missing = (Vocab::SPECIALS..vocab.len()).filter(|&i| !seen[i]).take(20).map(|i| vocab.words()[i].clone()).collect();
    Ok(GloveMatrix { dim, data, coverage: Coverage { found, words, top_missing, file_words } })
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
pub fn peek_dim(path: &Path) -> Result<usize> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot open GloVe file {}", path.display()))?;
    let mut raw = BufReader::new(file);
    let gz = raw.fill_buf().map(|b| b.starts_with(&[0x1f, 0x8b])).unwrap_or(false);
    let mut reader: Box<dyn BufRead> =
        if gz { Box::new(BufReader::new(flate2::bufread::GzDecoder::new(raw))) } else { Box::new(raw) };
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
}
