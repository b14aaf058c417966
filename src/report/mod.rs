//! What a person looks at after training: plots (PNG), summaries and the HTML report.
pub mod neighbours;
pub mod plots;
