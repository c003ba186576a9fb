//! The output policy: where a written file goes and how, so that an output never destroys
//! anything it should not. Every writer in this crate goes through [`write_atomic_with`].
//!
//! [`OutputTarget::resolve`] decides, from what is at the path now:
//!
//! | the path names | what happens |
//! |---|---|
//! | `-` | standard output ([`OutputTarget::Stdout`]) |
//! | nothing, or a regular file | **atomic**: the content is written to a hidden temporary file (`.gmm-XXXXXX.tmp`) in the destination's own directory (so the rename never crosses a file system), flushed, synced, then renamed over the destination; an existing file keeps its permission bits (and, where the process may set them, its owner and group) |
//! | a symbolic link (chain) to a regular file or to nothing | the link is followed and its **target** is written atomically as above; the link stays a link |
//! | a character device, a FIFO, a socket (`/dev/null`, a terminal, a named pipe) | written **through** in place: opened for writing, never replaced, never created |
//! | a link through `/proc` or `/dev/fd` (`/dev/stdout`, `/dev/stderr`, `/proc/self/fd/N`) | written through, truncating a regular file as the shell's `>` does: the process's own descriptors are never renamed over |
//! | a directory | an [`ErrorKind::Io`] error |
//!
//! If anything fails on the way to an atomic write, the temporary file is removed and the
//! destination is left as it was, so a reader never sees a half-written model or data file and
//! an interrupted run never destroys the previous output. A process that is killed by a signal
//! runs no destructors: a front end that handles `SIGINT`/`SIGTERM` calls
//! [`remove_temporary_files`] before it exits (the `gmm` command does), which removes the
//! temporary files of the writes in progress. Writing through a device or a pipe cannot be
//! atomic; what was written stays written.
//!
//! A new file is created with mode `0o666` minus the process umask, as a plain `File::create`
//! would, so results are not left readable by their owner only.

use std::fs::{File, Metadata};
use std::io::{self, BufWriter, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

use gmm_core::{Error, ErrorKind, Result};

/// The most symbolic links followed from one output path (Linux's `MAXSYMLINKS`).
const MAX_LINKS: usize = 40;

/// Where an output path sends its bytes; see the [module docs](self).
#[derive(Debug)]
pub enum OutputTarget {
    /// `-`: standard output.
    Stdout,
    /// An existing file that is not a regular file, or a descriptor link through `/proc` or
    /// `/dev/fd`: opened and written in place, never replaced.
    Through {
        /// The path to open.
        path: PathBuf,
        /// Truncate on open (a regular file reached through a descriptor link).
        truncate: bool,
    },
    /// A regular file or a new one: written to a temporary file in `path`'s directory, then
    /// renamed over `path`.
    Atomic {
        /// The destination, symbolic links resolved.
        path: PathBuf,
        /// What is there now (`None`: a new file); its permissions and owner are kept.
        existing: Option<Metadata>,
    },
}

/// Whether `path` is `-`, standard input or output by Unix convention.
pub fn is_stdio(path: &Path) -> bool {
    path.as_os_str() == "-"
}

impl OutputTarget {
    /// Decides where an output written to `path` goes (see the [module docs](self)); nothing is
    /// created or changed.
    ///
    /// # Errors
    /// [`ErrorKind::Io`] naming `path` when it is a directory, when a symbolic link in the way
    /// cannot be read, or after [`MAX_LINKS`](self) links (a loop).
    pub fn resolve(path: &Path) -> Result<Self> {
        if is_stdio(path) {
            return Ok(Self::Stdout);
        }
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => {
                return Err(Error::new(
                    ErrorKind::Io,
                    format!("cannot write {}: it is a directory", path.display()),
                ));
            }
            Ok(meta) if !meta.is_file() => {
                return Ok(Self::Through { path: path.to_path_buf(), truncate: false });
            }
            _ => {}
        }
        let mut current = path.to_path_buf();
        let mut through_descriptor = false;
        for _ in 0..MAX_LINKS {
            through_descriptor |= is_descriptor_link(&current);
            match std::fs::symlink_metadata(&current) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    let target =
                        std::fs::read_link(&current).map_err(|e| Error::io(path, "write", e))?;
                    current = match current.parent() {
                        Some(parent) if target.is_relative() => parent.join(target),
                        _ => target,
                    };
                }
                Ok(meta) => {
                    if through_descriptor {
                        return Ok(Self::Through { path: path.to_path_buf(), truncate: true });
                    }
                    return Ok(Self::Atomic { path: current, existing: Some(meta) });
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    if through_descriptor {
                        return Ok(Self::Through { path: path.to_path_buf(), truncate: true });
                    }
                    return Ok(Self::Atomic { path: current, existing: None });
                }
                Err(e) => return Err(Error::io(path, "write", e)),
            }
        }
        Err(Error::new(
            ErrorKind::Io,
            format!(
                "cannot write {}: more than {MAX_LINKS} symbolic links in the way (a loop?)",
                path.display()
            ),
        ))
    }
}

/// Whether `path` lies under `/proc` or `/dev/fd`, whose links name the process's descriptors.
fn is_descriptor_link(path: &Path) -> bool {
    let mut parts = path.components().filter(|c| !matches!(c, Component::CurDir));
    match (parts.next(), parts.next(), parts.next()) {
        (Some(Component::RootDir), Some(Component::Normal(top)), next) => {
            top == "proc"
                || (top == "dev"
                    && matches!(next, Some(Component::Normal(n))
                        if n == "fd" || n == "stdout" || n == "stderr" || n == "stdin"))
        }
        _ => false,
    }
}

/// Writes `bytes` to `path` by the output policy (see the [module docs](self)).
///
/// # Errors
/// [`ErrorKind::Io`] naming `path` and the operating system's message
/// (missing directory, permission denied, disk full, destination is a directory, ...).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// Writes `text` to `path`; see [`write_atomic`].
///
/// # Errors
/// As [`write_atomic`].
pub fn write_text(path: &Path, text: &str) -> Result<()> {
    write_atomic(path, text.as_bytes())
}

/// Writes to `path` through `write`, which gets a buffered writer, by the output policy (see
/// the [module docs](self)): for a regular or new file the writer is on a temporary file in
/// the destination's directory, renamed over the destination only once `write` has returned
/// `Ok` and the data is flushed and synced to disk.
///
/// # Errors
/// As [`write_atomic`]; an error returned by `write` is reported the same way. A failure to
/// write standard output keeps the [`io::Error`] as the source, so a front end can tell a
/// closed pipe (`io::ErrorKind::BrokenPipe`) from other failures.
pub fn write_atomic_with<F>(path: &Path, write: F) -> Result<()>
where
    F: FnOnce(&mut dyn Write) -> io::Result<()>,
{
    match OutputTarget::resolve(path)? {
        OutputTarget::Stdout => {
            let stdout = io::stdout();
            let mut writer = BufWriter::new(stdout.lock());
            write(&mut writer).and_then(|()| writer.flush()).map_err(|e| {
                let message = format!("cannot write to standard output: {e}");
                Error::new(ErrorKind::Io, message).with_source(e)
            })
        }
        OutputTarget::Through { path: through, truncate } => {
            let file = File::options()
                .write(true)
                .truncate(truncate)
                .open(&through)
                .map_err(|e| Error::io(path, "write", e))?;
            let mut writer = BufWriter::new(file);
            write(&mut writer)
                .and_then(|()| writer.flush())
                .map_err(|e| Error::io(path, "write", e))
        }
        OutputTarget::Atomic { path: destination, existing } => {
            write_replacing(path, &destination, existing.as_ref(), write)
        }
    }
}

/// The atomic write: temporary file beside `destination`, then rename. Errors name `shown`
/// (the path the caller gave).
fn write_replacing<F>(
    shown: &Path,
    destination: &Path,
    existing: Option<&Metadata>,
    write: F,
) -> Result<()>
where
    F: FnOnce(&mut dyn Write) -> io::Result<()>,
{
    let dir = match destination.parent() {
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
    let temp = builder.tempfile_in(dir).map_err(|e| Error::io(shown, "write", e))?;
    let pending = Pending::register(temp.path());
    if let Some(meta) = existing {
        keep_permissions(temp.as_file(), meta).map_err(|e| Error::io(shown, "write", e))?;
    }
    {
        let mut writer = BufWriter::new(temp.as_file());
        write(&mut writer)
            .and_then(|()| writer.flush())
            .map_err(|e| Error::io(shown, "write", e))?;
    }
    temp.as_file().sync_all().map_err(|e| Error::io(shown, "write", e))?;
    temp.persist(destination).map_err(|e| Error::io(shown, "write", e.error))?;
    drop(pending);
    Ok(())
}

/// Gives `file` the permission bits of `existing` and, where allowed, its owner and group.
fn keep_permissions(file: &File, existing: &Metadata) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // Not ours to give away unless we may (root, or the same owner): best effort, as
        // `sed -i` does.
        let _ = std::os::unix::fs::fchown(file, Some(existing.uid()), Some(existing.gid()));
    }
    file.set_permissions(existing.permissions())
}

/// Temporary files of the writes in progress, for [`remove_temporary_files`].
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// A temporary file registered in [`PENDING`] while it exists.
struct Pending(PathBuf);

impl Pending {
    fn register(path: &Path) -> Self {
        let mut pending = PENDING.lock().unwrap_or_else(|e| e.into_inner());
        pending.push(path.to_path_buf());
        Self(path.to_path_buf())
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        let mut pending = PENDING.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = pending.iter().position(|p| *p == self.0) {
            pending.swap_remove(i);
        }
    }
}

/// Removes the temporary files of the atomic writes in progress and returns how many it
/// removed. For a front end about to exit on a signal (no destructor runs then); the writes
/// themselves then fail, and their destinations are left as they were.
pub fn remove_temporary_files() -> usize {
    let mut pending = PENDING.lock().unwrap_or_else(|e| e.into_inner());
    let removed = pending.iter().filter(|p| std::fs::remove_file(p).is_ok()).count();
    pending.clear();
    removed
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
        assert!(err.message().contains("directory"), "{err}");
        // No temporary file was left.
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

    #[cfg(unix)]
    #[test]
    fn an_existing_file_keeps_its_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        for bits in [0o600, 0o640, 0o666, 0o755] {
            let path = dir.path().join(format!("secret-{bits:o}.json"));
            std::fs::write(&path, "old").unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(bits)).unwrap();
            write_text(&path, "new").unwrap();
            assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
            assert_eq!(mode(&path), bits, "mode of a rewritten {bits:o} file");
        }
    }

    #[cfg(unix)]
    #[test]
    fn symbolic_links_are_followed_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.json");
        std::fs::write(&real, "old").unwrap();
        std::fs::create_dir(dir.path().join("links")).unwrap();
        // A relative link to a relative link to the file.
        let inner = dir.path().join("links/inner");
        std::os::unix::fs::symlink("../real.json", &inner).unwrap();
        let outer = dir.path().join("outer");
        std::os::unix::fs::symlink("links/inner", &outer).unwrap();
        write_text(&outer, "new").unwrap();
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
        assert!(std::fs::symlink_metadata(&outer).unwrap().file_type().is_symlink());
        assert!(std::fs::symlink_metadata(&inner).unwrap().file_type().is_symlink());
        // A dangling link creates its target.
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink("created.txt", &dangling).unwrap();
        write_text(&dangling, "made").unwrap();
        assert_eq!(std::fs::read_to_string(dir.path().join("created.txt")).unwrap(), "made");
        assert!(std::fs::symlink_metadata(&dangling).unwrap().file_type().is_symlink());
        // A loop is an error, not a hang.
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::os::unix::fs::symlink("b", &a).unwrap();
        std::os::unix::fs::symlink("a", &b).unwrap();
        let err = write_text(&a, "x").unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Io);
        // No temporary file left anywhere.
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let name = entry.unwrap().file_name();
            assert!(!name.to_string_lossy().starts_with(".gmm-"), "{name:?}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn fifos_are_written_through_not_replaced() {
        use std::io::Read;
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success());
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || {
                let mut text = String::new();
                File::open(fifo).unwrap().read_to_string(&mut text).unwrap();
                text
            })
        };
        write_text(&fifo, "through the pipe").unwrap();
        assert_eq!(reader.join().unwrap(), "through the pipe");
        use std::os::unix::fs::FileTypeExt;
        assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    /// A character device made in a temporary directory (`mknod NAME c MAJOR MINOR`), when the
    /// process may make one (root); `None` otherwise.
    #[cfg(unix)]
    fn device(dir: &Path, name: &str, major: u32, minor: u32) -> Option<PathBuf> {
        let path = dir.join(name);
        let status = std::process::Command::new("mknod")
            .arg(&path)
            .args(["c", &major.to_string(), &minor.to_string()])
            .stderr(std::process::Stdio::null())
            .status()
            .ok()?;
        status.success().then_some(path)
    }

    #[cfg(unix)]
    #[test]
    fn character_devices_are_written_through_not_replaced() {
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().unwrap();
        // The null device (1, 3) and the full device (1, 7), made here, never the system's.
        let Some(null) = device(dir.path(), "null", 1, 3) else {
            eprintln!("skipped: mknod needs root");
            return;
        };
        write_text(&null, "discarded").unwrap();
        assert!(std::fs::symlink_metadata(&null).unwrap().file_type().is_char_device());
        // Through a symbolic link too.
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&null, &link).unwrap();
        write_text(&link, "discarded").unwrap();
        assert!(std::fs::symlink_metadata(&null).unwrap().file_type().is_char_device());
        let full = device(dir.path(), "full", 1, 7).unwrap();
        let err = write_text(&full, "no space").unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Io);
        assert!(err.message().contains("full"), "{err}");
        let source = std::error::Error::source(&err).unwrap();
        let io = source.downcast_ref::<io::Error>().unwrap();
        assert_eq!(io.raw_os_error(), Some(28), "ENOSPC: {io}");
        assert!(std::fs::symlink_metadata(&full).unwrap().file_type().is_char_device());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
    }

    #[test]
    fn descriptor_links_are_recognised() {
        for (path, expected) in [
            ("/dev/stdout", true),
            ("/dev/stderr", true),
            ("/dev/fd/1", true),
            ("/proc/self/fd/1", true),
            ("/dev/null", false),
            ("/devices/x", false),
            ("dev/stdout", false),
            ("/work/out.json", false),
        ] {
            assert_eq!(is_descriptor_link(Path::new(path)), expected, "{path}");
        }
        assert!(matches!(OutputTarget::resolve(Path::new("-")).unwrap(), OutputTarget::Stdout));
    }

    #[test]
    fn temporary_files_are_registered_while_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.npy");
        let mut seen = None;
        write_atomic_with(&path, |w| {
            w.write_all(b"partial")?;
            let pending = PENDING.lock().unwrap().clone();
            seen = pending.into_iter().find(|p| p.starts_with(dir.path()));
            Ok(())
        })
        .unwrap();
        let seen = seen.expect("the temporary file is registered during the write");
        assert!(seen.file_name().unwrap().to_string_lossy().starts_with(".gmm-"));
        assert!(!PENDING.lock().unwrap().contains(&seen), "unregistered after the rename");
        assert!(!seen.exists());
        // (Removing them is tested in its own process: tests/temporaries.rs.)
    }
}
