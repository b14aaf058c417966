//! Evaluation metrics of a trained run on its test split: accuracy and loss, the
//! confusion matrix, accuracy by review length, and the text `imdb-rnn eval` prints.
use serde::Serialize;

/// A run's test split scored by its model (`infer::score_test`): what the metrics are
/// computed from.
pub(crate) struct TestScores {
    pub loss: f64,
    pub accuracy: f64,
    /// P(positive) per review, in split order.
    pub probs: Vec<f32>,
    /// 1 positive, 0 negative.
    pub labels: Vec<u8>,
    /// True token count of each review, before truncation.
    pub lengths: Vec<u32>,
}

#[derive(Serialize)]
pub(crate) struct EvalReport {
    pub run: String,
    pub weights: String,
    pub reviews: usize,
    pub accuracy: f64,
    pub loss: f64,
    /// `[[true negatives, false positives], [false negatives, true positives]]`.
    pub confusion: [[usize; 2]; 2],
    pub by_length: Vec<LengthBucket>,
    /// An ensemble's runs, each scored alone on the same reviews (empty for one run).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<MemberScore>,
}

/// One run of an ensemble, scored alone.
#[derive(Serialize)]
pub(crate) struct MemberScore {
    pub run: String,
    pub weights: String,
    pub accuracy: f64,
    pub loss: f64,
}

#[derive(Serialize)]
pub(crate) struct LengthBucket {
    pub bucket: String,
    pub reviews: usize,
    pub accuracy: f64,
}

/// Upper ends (inclusive, in tokens before truncation) and names of the length buckets.
const LENGTH_EDGES: [(u32, &str); 4] = [(100, "<=100"), (200, "101-200"), (400, "201-400"), (u32::MAX, ">400")];

impl EvalReport {
    /// The metrics of `scores`, a review predicted positive when P(positive) > 0.5.
    pub(crate) fn new(run: String, weights: String, scores: &TestScores) -> EvalReport {
        let mut confusion = [[0usize; 2]; 2];
        let mut buckets = vec![(0usize, 0usize); LENGTH_EDGES.len()];
        for ((&p, &label), &len) in scores.probs.iter().zip(&scores.labels).zip(&scores.lengths) {
            let pred = usize::from(p > 0.5);
            confusion[label as usize][pred] += 1;
            let b = LENGTH_EDGES.iter().position(|(e, _)| len <= *e).unwrap_or(LENGTH_EDGES.len() - 1);
            buckets[b].0 += 1;
            buckets[b].1 += usize::from(pred == label as usize);
        }
        EvalReport {
            run,
            weights,
            reviews: scores.probs.len(),
            accuracy: scores.accuracy,
            loss: scores.loss,
            confusion,
            by_length: LENGTH_EDGES
                .iter()
                .zip(&buckets)
                .map(|((_, name), &(n, c))| LengthBucket {
                    bucket: format!("{name} tokens"),
                    reviews: n,
                    accuracy: if n == 0 { f64::NAN } else { c as f64 / n as f64 },
                })
                .collect(),
            members: Vec::new(),
        }
    }

    /// The text form, after a line naming the data (`data_line`, without its label).
    pub(crate) fn text(&self, data_line: &str) -> String {
        let confusion = self.confusion;
        let mut lines = vec![
            format!("run        {} ({})", self.run, self.weights),
            format!("data       {data_line}"),
            format!("test       {} reviews, accuracy {:.4}, loss {:.4}", self.reviews, self.accuracy, self.loss),
            format!("confusion  true neg {:>6}  false pos {:>6}", confusion[0][0], confusion[0][1]),
            format!("           false neg {:>5}  true pos {:>7}", confusion[1][0], confusion[1][1]),
        ];
        for b in &self.by_length {
            lines.push(format!("length     {:<16} {:>6} reviews  accuracy {:.4}", b.bucket, b.reviews, b.accuracy));
        }
        for m in &self.members {
            lines.push(format!("member     {} ({}): accuracy {:.4}, loss {:.4}", m.run, m.weights, m.accuracy, m.loss));
        }
        lines.iter().map(|l| format!("{l}\n")).collect()
    }
}
