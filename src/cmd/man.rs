//! `imdb-rnn man`: roff man pages rendered from the same clap definitions as `--help`.
use crate::cli::{Cli, ManArgs};
use crate::util::write_atomic;
use anyhow::{Context, Result};
use clap::CommandFactory;

pub(crate) fn run(args: &ManArgs) -> Result<()> {
    let cmd = Cli::command();
    let Some(dir) = &args.out else {
        let page = render(cmd)?;
        crate::util::write_stdout(&page)?;
        return Ok(());
    };
    let mut written = 0usize;
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("imdb-rnn-{}", sub.get_name());
        // The page's title and SYNOPSIS use the command's own name, so give it the full
        // one; the version is only propagated to subcommands when parsing, so set it here.
        let page = render(sub.clone().name(name.clone()).display_name(name.clone()).version(env!("CARGO_PKG_VERSION")))?;
        write_atomic(&dir.join(format!("{name}.1")), &page)?;
        written += 1;
    }
    write_atomic(&dir.join("imdb-rnn.1"), &render(cmd)?)?;
    crate::errln!("wrote {} man pages to {}", written + 1, dir.display());
    Ok(())
}

fn render(cmd: clap::Command) -> Result<Vec<u8>> {
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut page).context("cannot render a man page")?;
    Ok(page)
}
