//! Word vectors as a dictionary (course Q6): a word's vector, and the vocabulary ranked
//! by cosine similarity to it.
use serde::Serialize;

/// One vector per word, `[words.len(), dim]` row-major.
pub(crate) struct WordVectors<'a> {
    pub words: &'a [String],
    pub dim: usize,
    pub data: Vec<f32>,
}

#[derive(Serialize, Debug, Clone, PartialEq)]
pub(crate) struct Neighbour {
    pub word: String,
    pub cosine: f32,
}

impl WordVectors<'_> {
    pub(crate) fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    /// The `k` rows among `candidates` most similar to `query` by cosine, most similar
    /// first; rows that are all zeros (words without a vector) and the query word itself
    /// are left out.
    pub(crate) fn nearest(&self, query: &[f32], skip: Option<usize>, candidates: std::ops::Range<usize>, k: usize) -> Vec<Neighbour> {
        let qn = norm(query);
        if qn == 0.0 {
            return Vec::new();
        }
        let mut scored: Vec<(f32, usize)> = candidates
            .filter(|&i| Some(i) != skip)
            .filter_map(|i| {
                let r = self.row(i);
                let rn = norm(r);
                (rn > 0.0).then(|| (dot(query, r) / (qn * rn), i))
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        scored.truncate(k);
        scored.into_iter().map(|(cosine, i)| Neighbour { word: self.words[i].clone(), cosine }).collect()
    }
}

pub(crate) fn norm(v: &[f32]) -> f32 {
    dot(v, v).sqrt()
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbours_come_most_similar_first_without_the_word_itself_or_empty_rows() {
        let words: Vec<String> = ["good", "great", "fine", "bad", "none"].iter().map(|w| w.to_string()).collect();
        #[rustfmt::skip]
        let data = vec![
            1.0, 0.0,
            0.9, 0.1,
            0.5, 0.5,
            -1.0, 0.0,
            0.0, 0.0,
        ];
        let v = WordVectors { words: &words, dim: 2, data };
        let n = v.nearest(v.row(0), Some(0), 0..5, 10);
        let order: Vec<&str> = n.iter().map(|x| x.word.as_str()).collect();
        assert_eq!(order, ["great", "fine", "bad"]);
        assert!((n[0].cosine - 0.9 / (0.82f32).sqrt()).abs() < 1e-6);
        assert!((n[2].cosine + 1.0).abs() < 1e-6);
        assert_eq!(v.nearest(v.row(0), Some(0), 0..5, 1).len(), 1);
        assert!(v.nearest(v.row(4), None, 0..5, 3).is_empty(), "a zero vector has no neighbours");
    }
}
