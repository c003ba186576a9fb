//! Atomic file writes: a file is written completely or not at all.
//!
//! Every writer in this crate goes through [`write_atomic_with`]: the content is written to a
//! temporary file in the destination's own directory (so the final rename never crosses a file
//! system), flushed and synced, then renamed over the destination. If anything fails on the way
//! the temporary file is removed and the destination is left as it was, so a reader never sees
//! a half-written model or data file and an interrupted run never destroys the previous output.
//!
//! The temporary file is created with mode `0o666` minus the process umask, as a plain
//! `File::create` would, so results are not left readable by their owner only.

use std::io::{self, BufWriter, Write};
use std::path::Path;

use gmm_core::{Error, Result};

/// Writes `bytes` to `path` atomically (temporary file in the same directory, then rename).
///
/// # Errors
/// [`ErrorKind::Io`](gmm_core::ErrorKind::Io) naming `path` and the operating system's message
/// (missing directory, permission denied, disk full, destination is a directory, ...).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// Writes `text` to `path` atomically; see [`write_atomic`].
///
/// # Errors
/// As [`write_atomic`].
pub fn write_text(path: &Path, text: &str) -> Result<()> {
    write_atomic(path, text.as_bytes())
}

/// Writes to `path` atomically through `write`, which gets a buffered writer on a temporary file
/// in the destination's directory; the file is renamed over `path` only once `write` has
/// returned `Ok` and the data is flushed and synced to disk.
///
/// # Errors
/// As [`write_atomic`]; an error returned by `write` is reported the same way.
pub fn write_atomic_with<F>(path: &Path, write: F) -> Result<()>
where
    F: FnOnce(&mut dyn Write) -> io::Result<()>,
{
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".gmm-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let temp = builder.tempfile_in(dir).map_err(|e| Error::io(path, "write", e))?;
    {
        let mut writer = BufWriter::new(temp.as_file());
        write(&mut writer)
            .and_then(|()| writer.flush())
            .map_err(|e| Error::io(path, "write", e))?;
    }
    temp.as_file().sync_all().map_err(|e| Error::io(path, "write", e))?;
    temp.persist(path).map_err(|e| Error::io(path, "write", e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use gmm_core::ErrorKind;

    #[test]
    fn writes_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        write_text(&path, "first").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "first");
        write_atomic(&path, b"second").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "second");
        // Only the destination is left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn failed_write_leaves_destination_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.json");
        write_text(&path, "old").unwrap();
        let err = write_atomic_with(&path, |w| {
            w.write_all(b"half")?;
            Err(io::Error::other("disk on fire"))
        })
        .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Io);
        assert!(err.message().contains("model.json"), "{err}");
        assert!(err.message().contains("disk on fire"), "{err}");
        let source = std::error::Error::source(&err).expect("the writer's error is kept");
        assert_eq!(source.to_string(), "disk on fire");
        assert!(source.is::<io::Error>());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn missing_directory_is_an_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no/such/dir/out.txt");
        let err = write_text(&path, "x").unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Io);
        assert!(err.message().contains("out.txt"), "{err}");
    }

    #[test]
    fn destination_is_a_directory() {
        let dir = tempfile::tempdir().unwrap();
        let err = write_text(dir.path(), "x").unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Io);
        // The temporary file was cleaned up.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[cfg(unix)]
    #[test]
    fn file_mode_follows_umask() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        write_text(&path, "x").unwrap();
        let plain = dir.path().join("plain.txt");
        std::fs::File::create(&plain).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        // The same mode as a plain `File::create` under the same umask.
        assert_eq!(mode(&path), mode(&plain));
    }
}
