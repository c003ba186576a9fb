//! Speech recipes on real frames (FSDD MFCCs, `data/fsdd_mfcc/`): UBM training is
//! deterministic across thread counts, and top-C scores stay close to exact ones.

use std::path::Path;

use gmm::em::adapt::{MapConfig, map_adapt};
use gmm::em::speech::llr;
use gmm::em::ubm::{UbmConfig, train_ubm};
use gmm::io::DataMatrix;
use gmm::{GaussianMixture, Matrix};

/// The first 13 columns (MFCCs) of the first `n` frames of a speaker.
fn frames(speaker: &str, n: usize) -> Matrix<f32> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("data/fsdd_mfcc/{speaker}.npy"));
    let DataMatrix::F32(m) = gmm::io::read_npy(&path).unwrap() else { panic!("float32 frames") };
    let rows: Vec<f32> =
        m.as_slice().chunks_exact(26).take(n).flat_map(|r| r[..13].to_vec()).collect();
    Matrix::from_vec(rows, 13).unwrap()
}

#[test]
fn ubm_is_bit_identical_for_any_thread_count() {
    let x = frames("george", 6000);
    let fit = |threads| train_ubm(&UbmConfig::new(16).threads(Some(threads)), x.samples()).unwrap();
    let (one, two) = (fit(1), fit(2));
    assert_eq!(one.model, two.model);
    assert_eq!(one.report.log_likelihood, two.report.log_likelihood);
    // The log-likelihood rises over the final iterations (no reg_covar effect at this scale).
    let finals: Vec<f64> =
        one.report.log_likelihood.iter().filter(|(k, _)| *k == 16).map(|&(_, ll)| ll).collect();
    assert!(finals.windows(2).all(|w| w[1] >= w[0] - 1e-9), "{finals:?}");
}

#[test]
fn top_c_llr_is_close_to_exact_on_fsdd() {
    let background = {
        let mut rows = Vec::new();
        for s in ["george", "jackson", "lucas", "nicolas", "theo", "yweweler"] {
            rows.extend(frames(s, 4000).into_vec());
        }
        Matrix::from_vec(rows, 13).unwrap()
    };
    let ubm: GaussianMixture<f32> =
        train_ubm(&UbmConfig::new(64), background.samples()).unwrap().model;
    let speaker = map_adapt(&ubm, frames("theo", 4000).samples(), &MapConfig::default()).unwrap();
    let test = frames("theo", 8000);
    // Utterance-sized chunks of 50 frames from the unseen part.
    let mut diffs = Vec::new();
    for chunk in test.as_slice()[4000 * 13..].chunks(50 * 13) {
        let x = Matrix::from_vec(chunk.to_vec(), 13).unwrap();
        let exact = llr(&speaker, &ubm, x.samples(), None).unwrap();
        let fast = llr(&speaker, &ubm, x.samples(), Some(5)).unwrap();
        diffs.push((exact - fast).abs());
    }
    let mean = diffs.iter().sum::<f64>() / diffs.len() as f64;
    assert!(mean < 0.01, "mean |top-5 - exact| = {mean}");
}
