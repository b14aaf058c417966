//! The course report as a document (sections of paragraphs, tables, figures and
//! commands), rendered twice: one self-contained HTML file (figures as data URIs) and a
//! Markdown twin whose figures are the PNG files next to it.
use crate::report::html::escape;
use anyhow::Result;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// One piece of a section.
#[derive(Debug, Clone)]
pub enum Block {
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
}

/// One section of the report.
#[derive(Debug, Clone)]
pub struct Part {
    pub id: String,
    pub title: String,
    pub blocks: Vec<Block>,
}

impl Part {
    pub fn new(id: &str, title: &str) -> Part {
        Part { id: id.into(), title: title.into(), blocks: Vec::new() }
    }
    pub fn say(&mut self, text: impl Into<String>) {
        self.blocks.push(Block::Paragraph(text.into()));
    }
    pub fn table(&mut self, header: &[&str], rows: Vec<Vec<String>>) {
        self.blocks.push(Block::Table { header: header.iter().map(|h| h.to_string()).collect(), rows });
    }
    pub fn figure(&mut self, file: PathBuf, caption: impl Into<String>) {
        self.blocks.push(Block::Figure { file, caption: caption.into() });
    }
    pub fn commands(&mut self, lines: Vec<String>) {
        self.blocks.push(Block::Commands(lines));
    }
}

/// The whole report.
pub struct Doc {
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

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}\
table{border-collapse:collapse;font-size:14px;margin:0.8em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}\
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}figure{margin:1em 0}img{max-width:100%;border:1px solid #ddd}\
figcaption{font-size:13px;color:#555}pre{background:#f7f7f7;padding:8px;overflow:auto;font-size:12.5px}\
section{border-top:1px solid #ddd;margin-top:2em}nav a{margin-right:1em}code{background:#f3f3f3;padding:0 3px}";

impl Doc {
    pub fn html(&self, figures: &Path) -> Result<String> {
        let mut h = String::new();
        let _ = write!(
            h,
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{0}</title><style>{STYLE}</style></head><body><h1>{0}</h1>",
            escape(&self.title)
        );
        for p in &self.intro {
            let _ = write!(h, "<p>{}</p>", inline_html(p));
        }
        h.push_str("<nav>");
        for part in &self.parts {
            let _ = write!(h, "<a href=\"#{}\">{}</a>", part.id, escape(&part.id));
        }
        h.push_str("</nav>");
        for part in &self.parts {
            let _ = write!(h, "<section id=\"{}\"><h2>{}</h2>", part.id, escape(&part.title));
            for block in &part.blocks {
                match block {
                    Block::Paragraph(text) => {
                        let _ = write!(h, "<p>{}</p>", inline_html(text));
                    }
                    Block::Table { header, rows } => {
                        h.push_str("<table><tr>");
                        for c in header {
                            let _ = write!(h, "<th>{}</th>", escape(c));
                        }
                        h.push_str("</tr>");
                        for row in rows {
                            h.push_str("<tr>");
                            for c in row {
                                let _ = write!(h, "<td>{}</td>", inline_html(c));
                            }
                            h.push_str("</tr>");
                        }
                        h.push_str("</table>");
                    }
                    Block::Figure { file, caption } => h.push_str(&crate::report::html::img(&figures.join(file), caption)?),
                    Block::Commands(lines) => {
                        let _ = write!(h, "<pre>{}</pre>", escape(&lines.join("\n")));
                    }
                }
            }
            h.push_str("</section>");
        }
        h.push_str("</body></html>\n");
        Ok(h)
    }

    /// Markdown; figures are linked as `figures_link/<file>`.
    pub fn markdown(&self, figures_link: &str) -> String {
        let mut m = format!("# {}\n\n", self.title);
        for p in &self.intro {
            let _ = write!(m, "{p}\n\n");
        }
        for part in &self.parts {
            let _ = write!(m, "## {}\n\n", part.title);
            for block in &part.blocks {
                match block {
                    Block::Paragraph(text) => {
                        let _ = write!(m, "{text}\n\n");
                    }
                    Block::Table { header, rows } => {
                        let cell = |c: &String| c.replace('|', "\\|");
                        let _ = writeln!(m, "| {} |", header.iter().map(cell).collect::<Vec<_>>().join(" | "));
                        let _ = writeln!(m, "|{}", header.iter().enumerate().map(|(i, _)| if i == 0 { "---|" } else { "---:|" }).collect::<String>());
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
                }
            }
        }
        m
    }
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
}
