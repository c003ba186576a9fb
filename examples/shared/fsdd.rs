//! The Free Spoken Digit Dataset's MFCC frames (`data/fsdd_mfcc/`, see its README) split as
//! the speaker example (`examples/fsdd_speakers.rs`) uses them, shared with its test
//! (`crates/gmm-speech/tests/integration/speech.rs`): train on recordings 25-49, test on 0-24
//! (the `split` column), the 13 MFCCs of every frame. It names the crates (`gmm_core`,
//! `gmm_io`) rather than the facade so that gmm-speech's tests can include it.

use std::path::Path;

use gmm_core::{Error, ErrorKind, Matrix};
use gmm_io::DataMatrix;

/// The six speakers, in label order.
pub const SPEAKERS: [&str; 6] = ["george", "jackson", "lucas", "nicolas", "theo", "yweweler"];
/// MFCCs per frame (the first 13 of the 26 columns).
pub const N_MFCC: usize = 13;

/// Training frames per speaker, and the test utterances (speaker, frames) concatenated.
pub struct Split {
    /// Each speaker's training frames.
    pub train: Vec<Matrix<f32>>,
    /// Every test utterance's frames, one after the other.
    pub test: Matrix<f32>,
    /// `(speaker, first frame, frame count)` of every test utterance, in `test`'s rows.
    pub test_utts: Vec<(usize, usize, usize)>,
    /// The speaker of every test frame.
    pub test_labels: Vec<usize>,
}

/// Reads `index.csv` and the per-speaker `.npy` files of `dir`.
pub fn load(dir: &Path) -> Result<Split, Error> {
    let index = std::fs::read_to_string(dir.join("index.csv")).map_err(|e| {
        Error::new(ErrorKind::Io, format!("{}: {e}", dir.join("index.csv").display()))
    })?;
    let mut train = Vec::new();
    let (mut test, mut test_utts, mut test_labels) = (Vec::new(), Vec::new(), Vec::new());
    for (s, name) in SPEAKERS.iter().enumerate() {
        let DataMatrix::F32(frames) = gmm_io::read_npy(&dir.join(format!("{name}.npy")))? else {
            return Err(Error::new(ErrorKind::Parse, format!("{name}.npy is not float32")));
        };
        let d = frames.n_cols();
        let mut tr = Vec::new();
        for line in index.lines().skip(1) {
            let f: Vec<&str> = line.split(',').collect();
            if f.len() < 8 || f[1] != *name {
                continue;
            }
            let parse = |v: &str| {
                v.parse::<usize>().map_err(|e| Error::new(ErrorKind::Parse, format!("{line}: {e}")))
            };
            let (start, count) = (parse(f[6])?, parse(f[7])?);
            let rows = frames.as_slice()[start * d..(start + count) * d]
                .chunks_exact(d)
                .flat_map(|r| r[..N_MFCC].iter().copied());
            if f[4] == "train" {
                tr.extend(rows);
            } else {
                test_utts.push((s, test.len() / N_MFCC, count));
                test.extend(rows);
                test_labels.extend(std::iter::repeat_n(s, count));
            }
        }
        train.push(Matrix::from_vec(tr, N_MFCC)?);
    }
    Ok(Split { train, test: Matrix::from_vec(test, N_MFCC)?, test_utts, test_labels })
}
