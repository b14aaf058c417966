//! `imdb-rnn fetch` and `imdb-rnn data`.
use crate::cli::{DataArgs, FetchArgs};
use crate::data::prepare::EncodeConfig;
use crate::data::report::{DataReport, GloveReport};
use crate::fetch::{self, Source};
use anyhow::{bail, Result};

pub(crate) fn fetch(args: &FetchArgs) -> Result<()> {
    let home = fetch::data_home();
    let names = if args.names.is_empty() { vec!["imdb".to_string()] } else { args.names.clone() };
    for name in &names {
        if fetch::official(name).is_none() {
            bail!("unknown dataset {name:?}: expected imdb or one of {}", fetch::GLOVE_NAMES.join(", "));
        }
    }
    for name in &names {
        let source = if name == "imdb" { Source::parse(args.source.imdb.as_deref().unwrap_or("imdb")) } else { Source::Official(name.clone()) };
        let path = fetch::resolve(&source, &home, &super::fetch_options(&args.source))?;
        crate::outln!("{name}\t{}", path.display());
    }
    Ok(())
}

pub(crate) fn data(args: &DataArgs) -> Result<()> {
    if args.vocab_size == 0 {
        bail!("--vocab-size must be at least 1");
    }
    if args.max_len == 0 {
        bail!("--max-len must be at least 1");
    }
    let encode = EncodeConfig { vocab_size: args.vocab_size, max_len: args.max_len, ..EncodeConfig::default() };
    let (archive, data, origin) = super::load_data(&args.source, encode)?;
    let mut report = DataReport::new(&archive.display().to_string(), origin, &data, args.top);
    if let Some(g) = &args.glove {
        let path = super::glove_path(g, &args.source, &fetch::data_home())?;
        let m = crate::data::glove::load(&path, &data.vocab)?;
        report.glove = Some(GloveReport { file: path.display().to_string(), dim: m.dim, coverage_ratio: m.coverage.ratio(), coverage: m.coverage });
    }
    if args.output.json {
        crate::outln!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        crate::out!("{}", report.render());
    }
    Ok(())
}
