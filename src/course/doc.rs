//! The course report as a document (sections of paragraphs, tables, figures and
//! commands), rendered twice: one self-contained HTML file (figures as data URIs) and a
//! Markdown twin whose figures are the PNG files next to it.
use crate::infer::explain_view::TOKEN_STYLE;
use crate::report::html::{escape, numeric_columns, table_html, STYLE};
use anyhow::Result;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// One piece of a section.
#[derive(Debug, Clone)]
pub(crate) enum Block {
    Paragraph(String),
    Table {
        header: Vec<String>,
        rows: Vec<Vec<String>>,
    },
    /// A PNG in the figures directory, with its caption.
    Figure {
        file: PathBuf,
        caption: String,
    },
    /// Shell commands, one per line.
    Commands(Vec<String>),
    /// An explained review: its heading, its tokens as tinted HTML spans, and the same
    /// as plain text (attributions in brackets) for the Markdown twin.
    Review {
        heading: String,
        spans: String,
        text: String,
    },
}

/// One section of the report.
#[derive(Debug, Clone)]
pub(crate) struct Part {
    pub id: String,
    pub title: String,
    /// The section's one-line finding, as the statistics rule judged it (for the summary
    /// at the top of the report).
    pub finding: Option<String>,
    pub blocks: Vec<Block>,
}

impl Part {
    pub(crate) fn new(id: &str, title: &str) -> Part {
        Part { id: id.into(), title: title.into(), finding: None, blocks: Vec::new() }
    }
    /// Sets the line the report's "Findings" summary shows for this section.
    pub(crate) fn finding(&mut self, text: impl Into<String>) {
        self.finding = Some(text.into());
    }
    pub(crate) fn say(&mut self, text: impl Into<String>) {
        self.blocks.push(Block::Paragraph(text.into()));
    }
    pub(crate) fn table(&mut self, header: &[&str], rows: Vec<Vec<String>>) {
        self.blocks.push(Block::Table { header: header.iter().map(|h| h.to_string()).collect(), rows });
    }
    pub(crate) fn figure(&mut self, file: PathBuf, caption: impl Into<String>) {
        self.blocks.push(Block::Figure { file, caption: caption.into() });
    }
    pub(crate) fn commands(&mut self, lines: Vec<String>) {
        self.blocks.push(Block::Commands(lines));
    }
    pub(crate) fn review(&mut self, heading: impl Into<String>, spans: String, text: String) {
        self.blocks.push(Block::Review { heading: heading.into(), spans, text });
    }
}

/// The whole report.
pub(crate) struct Doc {
    pub title: String,
    pub intro: Vec<String>,
    pub parts: Vec<Part>,
}

/// `**bold**` and `` `code` `` spans, the only inline markup readings use, as HTML.
fn inline_html(s: &str) -> String {
    let mut out = String::new();
    let (mut bold, mut code) = (false, false);
    let escaped = escape(s);
    let mut rest = escaped.as_str();
    while let Some(i) = rest.find(['*', '`']) {
        out.push_str(&rest[..i]);
        if rest[i..].starts_with("**") && !code {
            out.push_str(if bold { "</strong>" } else { "<strong>" });
            bold = !bold;
            rest = &rest[i + 2..];
        } else if rest[i..].starts_with('`') {
            out.push_str(if code { "</code>" } else { "<code>" });
            code = !code;
            rest = &rest[i + 1..];
        } else {
            out.push('*');
            rest = &rest[i + 1..];
        }
    }
    out.push_str(rest);
    out
}

impl Doc {
    pub(crate) fn html(&self, figures: &Path) -> Result<String> {
        let mut h = String::new();
        let _ = write!(
            h,
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{0}</title><style>{STYLE}{TOKEN_STYLE}</style></head><body><h1>{0}</h1>",
            escape(&self.title)
        );
        for p in &self.intro {
            let _ = write!(h, "<p>{}</p>", inline_html(p));
        }
        self.findings_html(&mut h);
        h.push_str("<nav class=\"toc\"><h2>Contents</h2><ol>");
        for part in &self.parts {
            let _ = write!(h, "<li><a href=\"#{}\">{}</a></li>", part.id, escape(&part.title));
        }
        h.push_str("</ol></nav>");
        for part in &self.parts {
            let _ = write!(h, "<section id=\"{}\"><h2>{}</h2>", part.id, escape(&part.title));
            for block in &part.blocks {
                match block {
                    Block::Paragraph(text) => {
                        let _ = write!(h, "<p>{}</p>", inline_html(text));
                    }
                    Block::Table { header, rows } => table_html(&mut h, header, rows, inline_html),
                    Block::Figure { file, caption } => h.push_str(&crate::report::html::img(&figures.join(file), caption)?),
                    Block::Commands(lines) => {
                        let _ = write!(h, "<pre>{}</pre>", escape(&lines.join("\n")));
                    }
                    Block::Review { heading, spans, .. } => {
                        let _ = write!(h, "<h3>{}</h3><p class=\"review\">{spans}</p>", inline_html(heading));
                    }
                }
            }
            h.push_str("</section>");
        }
        h.push_str("</body></html>\n");
        Ok(h)
    }

    /// The one-screen summary: each section's finding, linked to the section.
    fn findings_html(&self, h: &mut String) {
        let found: Vec<&Part> = self.parts.iter().filter(|p| p.finding.is_some()).collect();
        if found.is_empty() {
            return;
        }
        h.push_str("<section id=\"findings\" class=\"findings\"><h2>Findings</h2><ul>");
        for part in found {
            let _ =
                write!(h, "<li><a href=\"#{}\">{}</a>: {}</li>", part.id, escape(short_title(&part.title)), inline_html(part.finding.as_deref().unwrap_or("")));
        }
        h.push_str("</ul></section>");
    }

    /// Markdown; figures are linked as `figures_link/<file>`.
    pub(crate) fn markdown(&self, figures_link: &str) -> String {
        let mut m = format!("# {}\n\n", self.title);
        for p in &self.intro {
            let _ = write!(m, "{p}\n\n");
        }
        if self.parts.iter().any(|p| p.finding.is_some()) {
            m.push_str("## Findings\n\n");
            for part in self.parts.iter().filter(|p| p.finding.is_some()) {
                let _ = writeln!(m, "- [{}](#{}): {}", short_title(&part.title), part.id, part.finding.as_deref().unwrap_or(""));
            }
            m.push('\n');
        }
        m.push_str("## Contents\n\n");
        for (i, part) in self.parts.iter().enumerate() {
            let _ = writeln!(m, "{}. [{}](#{})", i + 1, part.title, part.id);
        }
        m.push('\n');
        for part in &self.parts {
            let _ = write!(m, "<a id=\"{}\"></a>\n\n## {}\n\n", part.id, part.title);
            for block in &part.blocks {
                match block {
                    Block::Paragraph(text) => {
                        let _ = write!(m, "{text}\n\n");
                    }
                    Block::Table { header, rows } => {
                        let cell = |c: &String| c.replace('|', "\\|");
                        let _ = writeln!(m, "| {} |", header.iter().map(cell).collect::<Vec<_>>().join(" | "));
                        let numeric = numeric_columns(header.len(), rows);
                        let _ = writeln!(m, "|{}", numeric.iter().map(|&n| if n { "---:|" } else { "---|" }).collect::<String>());
                        for row in rows {
                            let _ = writeln!(m, "| {} |", row.iter().map(cell).collect::<Vec<_>>().join(" | "));
                        }
                        m.push('\n');
                    }
                    Block::Figure { file, caption } => {
                        let _ = write!(m, "![{caption}]({figures_link}/{})\n\n", file.display());
                    }
                    Block::Commands(lines) => {
                        let _ = write!(m, "```sh\n{}\n```\n\n", lines.join("\n"));
                    }
                    Block::Review { heading, text, .. } => {
                        let _ = write!(m, "### {heading}\n\n```text\n{}\n```\n\n", text.trim_end());
                    }
                }
            }
        }
        m
    }
}

/// A section title up to its colon: `Q3`, `Preparation`, `Beyond the course`.
fn short_title(title: &str) -> &str {
    title.split(':').next().unwrap_or(title)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_keep_their_bold_and_code_spans_in_html_and_escape_the_rest() {
        assert_eq!(
            inline_html("GRU reaches **0.61** with `--readout last` <b>"),
            "GRU reaches <strong>0.61</strong> with <code>--readout last</code> &lt;b&gt;"
        );
        assert_eq!(inline_html("2 * 3"), "2 * 3");
    }

    #[test]
    fn the_page_fits_a_phone_and_opens_with_its_findings_and_contents() {
        let mut a = Part::new("q3", "Q3: depth");
        a.finding("depth: within seed noise (n = 3)");
        a.table(&["model", "accuracy"], vec![vec!["RNN 1 layer".into(), "0.5".into()]]);
        let b = Part::new("q6", "Q6: GloVe");
        let doc = Doc { title: "t".into(), intro: vec![], parts: vec![a, b] };
        let html = doc.html(Path::new("/nonexistent")).unwrap();
        assert!(html.contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"));
        let findings = html.find("<h2>Findings</h2>").expect("findings");
        let toc = html.find("<nav class=\"toc\">").expect("contents");
        assert!(findings < toc && toc < html.find("<section id=\"q3\">").unwrap());
        assert!(html.contains("<li><a href=\"#q3\">Q3</a>: depth: within seed noise (n = 3)</li>"));
        assert!(html.contains("<li><a href=\"#q6\">Q6: GloVe</a></li>"));
        assert!(html.contains("<div class=\"scroll\"><table><tr><th>model</th><th class=\"num\">accuracy</th>"));
        let md = doc.markdown("f");
        assert!(md.contains("- [Q3](#q3): depth: within seed noise (n = 3)\n"));
        assert!(md.contains("| model | accuracy |\n|---|---:|\n"));
    }
}
