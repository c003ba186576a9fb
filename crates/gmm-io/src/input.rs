//! Reading an input whole, with bounds, so that no path can make a reader run forever.
//!
//! A path may name a regular file, `-` (standard input), a FIFO, a character device or a
//! symbolic link to one: anything but a regular file may never end (`/dev/zero`, a pipe fed by
//! `yes`). Text inputs are therefore read in chunks and refused
//!
//! * at the first NUL byte (text data, models and lists never hold one: the file is binary —
//!   an `.npy` array with a text extension, a device full of zeros), and
//! * at a line longer than [`MAX_LINE_BYTES`] (64 MiB: a row of a million numbers fits),
//!
//! each with the byte or line where it happened. `.npy` headers are bounded by
//! [`MAX_NPY_HEADER_BYTES`] in their own reader. A regular file's size is known, so it is read
//! in one go and then checked the same way.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use gmm_core::{Error, Result};

use crate::atomic::is_stdio;
use crate::errors::parse_error;

/// The longest line a text input (data, list) may have.
pub const MAX_LINE_BYTES: usize = 64 << 20;

/// The largest `.npy` header gmm reads (NumPy writes headers under 1 KiB for any 1-D or 2-D
/// float array, and its own reader refuses headers over 10,000 bytes by default).
pub const MAX_NPY_HEADER_BYTES: u64 = 1 << 20;

/// How an input is checked while it is read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TextLimits {
    /// The longest line, if bounded (JSON may be one long line).
    pub(crate) max_line: Option<usize>,
}

impl TextLimits {
    /// Delimited data and lists: bounded lines.
    pub(crate) const LINES: Self = Self { max_line: Some(MAX_LINE_BYTES) };
    /// JSON: no line bound, NUL bytes refused.
    pub(crate) const JSON: Self = Self { max_line: None };
}

/// Opens `path` for reading, `-` being standard input.
pub(crate) fn open(path: &Path) -> Result<Box<dyn Read>> {
    if is_stdio(path) {
        return Ok(Box::new(io::stdin().lock()));
    }
    let file = File::open(path).map_err(|e| Error::io(path, "read", e))?;
    Ok(Box::new(file))
}

/// The whole text input at `path` (`-`: standard input), checked against `limits` as it is
/// read: NUL bytes and over-long lines stop the reading with a [`Parse`](gmm_core::ErrorKind)
/// error naming the file and where.
pub(crate) fn read_text_bytes(path: &Path, limits: TextLimits) -> Result<Vec<u8>> {
    let regular = !is_stdio(path) && std::fs::metadata(path).is_ok_and(|m| m.is_file());
    if regular {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, "read", e))?;
        let mut check = Checker::new(limits);
        check.chunk(path, &bytes)?;
        return Ok(bytes);
    }
    read_checked(path, &mut open(path)?, limits)
}

/// Reads `reader` to its end, checked against `limits` as it is read (see [`read_text_bytes`]).
pub(crate) fn read_checked(
    path: &Path,
    reader: &mut dyn Read,
    limits: TextLimits,
) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let mut check = Checker::new(limits);
    let mut chunk = vec![0u8; 64 << 10];
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io(path, "read", e)),
        };
        check.chunk(path, &chunk[..n])?;
        bytes.extend_from_slice(&chunk[..n]);
    }
    Ok(bytes)
}

/// Reads a whole text input as UTF-8; for list files and the like.
///
/// Lines are bounded by [`MAX_LINE_BYTES`] and a NUL byte is refused, so a path that reads
/// forever (`/dev/zero`, a link to it) ends in an error at once instead of filling memory.
///
/// # Errors
/// [`ErrorKind::Io`](gmm_core::ErrorKind::Io) when the input cannot be read;
/// [`ErrorKind::Parse`](gmm_core::ErrorKind::Parse) for a NUL byte, an over-long line or text
/// that is not UTF-8, naming the file and where.
pub fn read_text_file(path: &Path) -> Result<String> {
    let bytes = read_text_bytes(path, TextLimits::LINES)?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = 1 + e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count();
        parse_error(path, format!("line {line}: the text is not UTF-8"))
    })
}

/// A JSON document at `path` (`-`: standard input) as UTF-8 text, NUL bytes refused; `what`
/// names it in the message for text that is not UTF-8 ("a JSON model").
pub(crate) fn read_json_text(path: &Path, what: &str) -> Result<String> {
    let bytes = read_text_bytes(path, TextLimits::JSON)?;
    String::from_utf8(bytes).map_err(|e| {
        parse_error(path, format!("the file is not UTF-8 text, so not {what}")).with_source(e)
    })
}

/// Checks chunks of an input for NUL bytes and line lengths.
struct Checker {
    limits: TextLimits,
    /// Bytes read before the current chunk.
    offset: u64,
    /// Newlines seen so far.
    lines: u64,
    /// Length of the current (unfinished) line.
    line_len: usize,
}

impl Checker {
    fn new(limits: TextLimits) -> Self {
        Self { limits, offset: 0, lines: 0, line_len: 0 }
    }

    fn chunk(&mut self, path: &Path, bytes: &[u8]) -> Result<()> {
        if let Some(at) = bytes.iter().position(|&b| b == 0) {
            let line = self.lines + 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count() as u64;
            return Err(parse_error(
                path,
                format!(
                    "line {line} (byte {}): a NUL byte, so this is not a text file (is it \
                     binary, such as an .npy array, or a device that never ends?)",
                    self.offset + at as u64
                ),
            ));
        }
        if let Some(max) = self.limits.max_line {
            for piece in bytes.split_inclusive(|&b| b == b'\n') {
                let ends_line = piece.last() == Some(&b'\n');
                self.line_len += piece.len() - usize::from(ends_line);
                if self.line_len > max {
                    return Err(parse_error(
                        path,
                        format!(
                            "line {} is longer than {} MiB: gmm reads text with one sample per \
                             line (is this a text file?)",
                            self.lines + 1,
                            max >> 20
                        ),
                    ));
                }
                if ends_line {
                    self.lines += 1;
                    self.line_len = 0;
                }
            }
        }
        self.offset += bytes.len() as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gmm_core::ErrorKind;

    #[test]
    fn nul_bytes_are_refused_with_their_position() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("zeros.csv");
        std::fs::write(&path, b"1,2\n3,4\n5,\x006\n").unwrap();
        let err = read_text_bytes(&path, TextLimits::LINES).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Parse);
        assert!(err.message().contains("zeros.csv"), "{err}");
        assert!(err.message().contains("line 3 (byte 10)") && err.message().contains("NUL"));
    }

    #[test]
    fn long_lines_are_refused() {
        let mut check = Checker::new(TextLimits { max_line: Some(8) });
        let path = Path::new("long.csv");
        check.chunk(path, b"12345678\n1234").unwrap();
        check.chunk(path, b"5678\n").unwrap();
        let err = check.chunk(path, b"123456789").unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Parse);
        assert!(err.message().contains("line 3 is longer"), "{err}");
        // JSON lines are not bounded.
        let mut check = Checker::new(TextLimits::JSON);
        check.chunk(path, &[b' '; 1000]).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn an_endless_fifo_of_zeros_stops_at_once() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("zero.csv");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let writer = {
            let fifo = fifo.clone();
            std::thread::spawn(move || {
                let mut out = File::options().write(true).open(fifo).unwrap();
                let zeros = vec![0u8; 1 << 16];
                // Until the reader goes away (broken pipe): "forever".
                let mut written = 0usize;
                while out.write_all(&zeros).is_ok() {
                    written += zeros.len();
                }
                written
            })
        };
        let err = read_text_file(&fifo).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Parse);
        assert!(err.message().contains("NUL"), "{err}");
        drop(err);
        let written = writer.join().unwrap();
        assert!(written < 64 << 20, "stopped early: {written} bytes");
    }
}
