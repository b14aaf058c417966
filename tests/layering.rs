//! The layering docs/ARCHITECTURE.md states, kept true: every module under `src/` names
//! only modules of a lower layer, and the table lists exactly the crate's modules.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The crate's macros, by the module that defines them.
const MACROS: [(&str, &str); 3] = [("errln", "util"), ("out", "util"), ("outln", "util")];

/// `module -> layer`, from the rows `| N | `a`, `b` |` of ARCHITECTURE.md's table.
fn layer_table(doc: &str) -> BTreeMap<String, u32> {
    let mut layers = BTreeMap::new();
    for line in doc.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let [_, layer, modules, _] = cells[..] else { continue };
        let Ok(layer) = layer.parse::<u32>() else { continue };
        for m in modules.split(',') {
            layers.insert(m.trim().trim_matches('`').to_string(), layer);
        }
    }
    layers
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The modules a source file names: each `crate::NAME` in it (macros mapped to their module).
fn named_modules(text: &str) -> Vec<String> {
    text.match_indices("crate::")
        .filter(|(i, _)| !text[..*i].ends_with('$') && !text[..*i].ends_with(|c: char| c.is_alphanumeric() || c == '_'))
        .map(|(i, m)| text[i + m.len()..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect::<String>())
        .map(|name| MACROS.iter().find(|(mac, _)| *mac == name).map_or(name, |(_, module)| module.to_string()))
        .collect()
}

/// The layering violations of `src/`: `file: module (layer a) names other (layer b)`.
fn violations(src: &Path, layers: &BTreeMap<String, u32>) -> Vec<String> {
    let mut files = Vec::new();
    sources(src, &mut files);
    files.sort();
    let mut found = Vec::new();
    for file in files {
        let rel = file.strip_prefix(src).unwrap();
        let module = rel.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_string();
        if module == "lib" || module == "main" {
            continue;
        }
        let Some(&own) = layers.get(&module) else {
            found.push(format!("{}: module {module} is not in ARCHITECTURE.md's layer table", rel.display()));
            continue;
        };
        let text = std::fs::read_to_string(&file).unwrap();
        for other in named_modules(&text) {
            match layers.get(&other) {
                _ if other == module => {}
                Some(&layer) if layer < own => {}
                Some(&layer) => found.push(format!("{}: {module} (layer {own}) names {other} (layer {layer})", rel.display())),
                None => found.push(format!("{}: names crate::{other}, which is not in the layer table", rel.display())),
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn every_module_names_only_modules_of_a_lower_layer_than_its_own() {
    let layers = layer_table(&std::fs::read_to_string(root().join("docs/ARCHITECTURE.md")).unwrap());
    assert!(layers.len() >= 10, "the layer table was not found: {layers:?}");
    let found = violations(&root().join("src"), &layers);
    assert!(found.is_empty(), "layering violations:\n{}", found.join("\n"));
}

#[test]
fn the_layer_table_lists_exactly_the_modules_of_lib_rs() {
    let layers = layer_table(&std::fs::read_to_string(root().join("docs/ARCHITECTURE.md")).unwrap());
    let lib = std::fs::read_to_string(root().join("src/lib.rs")).unwrap();
    let mut declared: Vec<String> = lib
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod ").or_else(|| l.trim().strip_prefix("mod ")))
        .map(|m| m.trim_end_matches(';').to_string())
        .collect();
    declared.sort();
    let listed: Vec<String> = layers.keys().cloned().collect();
    assert_eq!(listed, declared);
}

#[test]
fn an_upward_edge_is_reported_naming_the_file_and_both_layers() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("data")).unwrap();
    std::fs::write(tmp.path().join("data/source.rs"), "use crate::cli::DataSource;\nuse crate::fetch::resolve;\n").unwrap();
    std::fs::write(tmp.path().join("cli.rs"), "use crate::data::source::DataSource;\ncrate::errln!(\"x\");\n").unwrap();
    let layers = layer_table("| 0 | `util` |\n| 2 | `fetch` |\n| 4 | `data` |\n| 11 | `cli` |\n");
    assert_eq!(violations(tmp.path(), &layers), ["data/source.rs: data (layer 4) names cli (layer 11)"]);
}
