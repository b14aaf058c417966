//! The process's exit statuses, one enum: commands return one, `main` turns it into the
//! status number (README, "Exit codes").

/// How `imdb-rnn` ends, and the status number each way has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// Success; also when the reader of stdout went away (`imdb-rnn summary runs | head -1`).
    Success = 0,
    /// An error (bad input, a bad option value, I/O), said in one line on stderr.
    Error = 1,
    /// A command-line syntax error (an unknown flag or value); clap exits with it itself.
    Usage = 2,
    /// Training diverged (NaN or infinite loss); the last good checkpoint is kept.
    Diverged = 3,
    /// A sweep or gradient study finished, but some of its runs failed.
    SomeFailed = 4,
    /// Stopped by SIGINT after writing a checkpoint (128 + 2, as shells report it).
    Interrupted = 130,
    /// Stopped by SIGTERM after writing a checkpoint (128 + 15).
    Terminated = 143,
}

impl Exit {
    /// The status number.
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> std::process::ExitCode {
        std::process::ExitCode::from(exit.code())
    }
}

#[cfg(test)]
mod tests {
    use super::Exit;

    #[test]
    fn exit_statuses_keep_the_numbers_the_readme_documents() {
        let all = [Exit::Success, Exit::Error, Exit::Usage, Exit::Diverged, Exit::SomeFailed, Exit::Interrupted, Exit::Terminated];
        assert_eq!(all.map(Exit::code), [0, 1, 2, 3, 4, 130, 143]);
    }
}
