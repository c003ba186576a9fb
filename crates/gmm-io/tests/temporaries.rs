//! `remove_temporary_files`, in a process of its own (it removes every write in progress).

use std::path::PathBuf;

use gmm_core::ErrorKind;
use gmm_io::atomic::{remove_temporary_files, write_atomic_with};

#[test]
fn pending_temporary_files_are_removed_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.npy");
    std::fs::write(&path, "previous").unwrap();
    let mut seen: Option<PathBuf> = None;
    let mut removed = 0;
    let err = write_atomic_with(&path, |w| {
        w.write_all(b"partial")?;
        w.flush()?;
        seen = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(".gmm-"));
        // What the command line's signal handler does before it exits.
        removed = remove_temporary_files();
        Err(std::io::Error::other("interrupted"))
    })
    .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Io);
    let seen = seen.expect("the temporary file existed during the write");
    assert_eq!(removed, 1);
    assert!(!seen.exists());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "previous");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    assert_eq!(remove_temporary_files(), 0, "nothing is left registered");
}
