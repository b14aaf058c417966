//! A `BufRead` whose inner reader runs on its own thread, so that decompressing a file
//! overlaps with parsing it (the GloVe loader's gzip input).
use std::io::{BufRead, Read};

/// A `BufRead` over a reader that runs on its own thread, a megabyte ahead: the
/// thread decompresses while the caller parses. Errors reach the caller unchanged.
pub(super) struct ThreadedReader {
    rx: Option<std::sync::mpsc::Receiver<std::io::Result<Vec<u8>>>>,
    recycle: std::sync::mpsc::Sender<Vec<u8>>,
    thread: Option<std::thread::JoinHandle<()>>,
    chunk: Vec<u8>,
    pos: usize,
}

impl ThreadedReader {
    const CHUNK: usize = 1 << 20;

    /// Starts the thread that reads `inner`.
    pub(super) fn new(mut inner: impl Read + Send + 'static) -> ThreadedReader {
        let (tx, rx) = std::sync::mpsc::sync_channel::<std::io::Result<Vec<u8>>>(4);
        let (recycle, recycled) = std::sync::mpsc::channel::<Vec<u8>>();
        let thread = std::thread::spawn(move || loop {
            let mut buf = recycled.try_recv().unwrap_or_default();
            buf.resize(Self::CHUNK, 0);
            let mut filled = 0;
            let result = loop {
                match inner.read(&mut buf[filled..]) {
                    Ok(0) => break Ok(()),
                    Ok(n) => {
                        filled += n;
                        if filled == buf.len() {
                            break Ok(());
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => break Err(e),
                }
            };
            buf.truncate(filled);
            let last = filled < Self::CHUNK || result.is_err();
            // A failed send means the reader was dropped: stop.
            if filled > 0 && tx.send(Ok(buf)).is_err() {
                return;
            }
            if let Err(e) = result {
                let _ = tx.send(Err(e));
                return;
            }
            if last {
                return;
            }
        });
        ThreadedReader { rx: Some(rx), recycle, thread: Some(thread), chunk: Vec::new(), pos: 0 }
    }
}

impl Read for ThreadedReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for ThreadedReader {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        while self.pos == self.chunk.len() {
            let Some(rx) = &self.rx else { return Ok(&[]) };
            match rx.recv() {
                Ok(Ok(next)) => {
                    let used = std::mem::replace(&mut self.chunk, next);
                    let _ = self.recycle.send(used);
                    self.pos = 0;
                }
                Ok(Err(e)) => {
                    self.rx = None;
                    return Err(e);
                }
                Err(_) => {
                    self.rx = None;
                    return Ok(&[]);
                }
            }
        }
        Ok(&self.chunk[self.pos..])
    }

    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.chunk.len());
    }
}

impl Drop for ThreadedReader {
    fn drop(&mut self) {
        self.rx = None; // the thread's next send fails and it stops
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
