//! The report's sections, one per group of course questions, and `--only`'s parser.
use anyhow::{bail, Result};

/// One section of the course report, in the report's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Section {
    Preparation,
    Rnn,
    Depth,
    Cells,
    Dictionary,
    Glove,
    Gradients,
    Beyond,
    Reading,
}

impl Section {
    pub(crate) const ALL: [Section; 9] = [
        Section::Preparation,
        Section::Rnn,
        Section::Depth,
        Section::Cells,
        Section::Dictionary,
        Section::Glove,
        Section::Gradients,
        Section::Beyond,
        Section::Reading,
    ];

    /// The name `--only` takes and the report's anchor.
    pub(crate) fn id(self) -> &'static str {
        match self {
            Section::Preparation => "prep",
            Section::Rnn => "q1-q2",
            Section::Depth => "q3",
            Section::Cells => "q4-q5",
            Section::Dictionary => "q6",
            Section::Glove => "q7-q8",
            Section::Gradients => "q9-q11",
            Section::Beyond => "beyond",
            Section::Reading => "reads",
        }
    }

    pub(crate) fn title(self) -> &'static str {
        match self {
            Section::Preparation => "Preparation: vocabulary and review lengths",
            Section::Rnn => "Q1-Q2: Embedding -> RNN -> Linear, learning curves",
            Section::Depth => "Q3: the number of layers as a hyper-parameter",
            Section::Cells => "Q4-Q5: LSTM and GRU, one and several layers",
            Section::Dictionary => "Q6: GloVe as a dictionary",
            Section::Glove => "Q7-Q8: frozen GloVe in each architecture",
            Section::Gradients => "Q9-Q11: gradient norms by layer, epoch and depth",
            Section::Beyond => "Beyond the course: why the RNN stays near chance, and what length-aware readouts reach",
            Section::Reading => "What the model reads: the words behind a prediction",
        }
    }

    /// The course questions the section answers (none for preparation and beyond).
    fn questions(self) -> &'static [u32] {
        match self {
            Section::Rnn => &[1, 2],
            Section::Depth => &[3],
            Section::Cells => &[4, 5],
            Section::Dictionary => &[6],
            Section::Glove => &[7, 8],
            Section::Gradients => &[9, 10, 11],
            Section::Preparation | Section::Beyond | Section::Reading => &[],
        }
    }
}

fn valid_list() -> String {
    Section::ALL.iter().map(|s| s.id()).collect::<Vec<_>>().join(", ")
}

/// `--only`: a comma list of section names (`prep`, `q1-q2`, `q3`, ..., `beyond`), single
/// questions (`q7`) or ranges of questions (`q9-q11`, `q1-q5`), each selecting the sections
/// that answer them; every section when absent. The result is in report order.
pub(crate) fn parse_only(text: Option<&str>) -> Result<Vec<Section>> {
    let Some(text) = text else { return Ok(Section::ALL.to_vec()) };
    let mut chosen = Vec::new();
    for item in text.split(',').map(str::trim) {
        let found = select(item);
        if found.is_empty() {
            bail!("--only {item:?}: not a section of the course report; valid sections: {} (or questions such as q7 or q1-q5)", valid_list());
        }
        chosen.extend(found);
    }
    chosen.sort();
    chosen.dedup();
    Ok(chosen)
}

/// The sections one `--only` item names.
fn select(item: &str) -> Vec<Section> {
    if let Some(s) = Section::ALL.iter().find(|s| s.id() == item) {
        return vec![*s];
    }
    let question = |q: &str| q.strip_prefix('q').and_then(|n| n.parse::<u32>().ok()).filter(|n| (1..=11).contains(n));
    let range = match item.split_once('-') {
        Some((a, b)) => question(a).zip(question(b)).filter(|(a, b)| a <= b),
        None => question(item).map(|q| (q, q)),
    };
    match range {
        Some((a, b)) => Section::ALL.iter().copied().filter(|s| s.questions().iter().any(|q| (a..=b).contains(q))).collect(),
        None => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_takes_section_names_single_questions_and_question_ranges_in_report_order() {
        assert_eq!(parse_only(None).unwrap(), Section::ALL);
        assert_eq!(parse_only(Some("q9-q11,q3")).unwrap(), [Section::Depth, Section::Gradients]);
        assert_eq!(parse_only(Some("q7")).unwrap(), [Section::Glove]);
        assert_eq!(parse_only(Some("q2-q4")).unwrap(), [Section::Rnn, Section::Depth, Section::Cells]);
        assert_eq!(parse_only(Some("beyond,prep,prep")).unwrap(), [Section::Preparation, Section::Beyond]);
    }

    #[test]
    fn only_refuses_what_names_no_section() {
        for bad in ["q12", "q0", "q5-q3", "x", "", "Q3"] {
            let err = parse_only(Some(bad)).unwrap_err().to_string();
            assert_eq!(
                err,
                format!("--only {bad:?}: not a section of the course report; valid sections: prep, q1-q2, q3, q4-q5, q6, q7-q8, q9-q11, beyond, reads (or questions such as q7 or q1-q5)")
            );
        }
    }
}
