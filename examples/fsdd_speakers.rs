//! Speaker identification on the Free Spoken Digit Dataset's MFCC frames (6 speakers,
//! `data/fsdd_mfcc/`, see its README): `cargo run --release --example fsdd_speakers`.
//!
//! Train on recordings 25-49 of every speaker and digit, test on recordings 0-24 (the `split`
//! column), 13 MFCCs per frame:
//!
//! * (a) one diagonal GMM per speaker, `K = 32`, fitted by EM (k-means start, as scikit-learn);
//! * (b) a 64-component UBM trained by splitting on all training frames, then one model per
//!   speaker with means MAP-adapted at `r = 16`, scored exactly and with top-5 selection.
//!
//! An utterance goes to the speaker with the highest total log-likelihood (for (b) the same as
//! the highest LLR: the UBM term is common); a frame to the speaker with the highest
//! log-likelihood of that frame. `bench/fsdd/sklearn_baseline.py` prints the same table for
//! scikit-learn; `bench/fsdd/compare.sh` runs both.
//!
//! With `--top-c-check K` (default 512; 0 skips it) it also trains a `K`-component UBM, adapts
//! the six speakers, and compares Gaussian selection (top-5, 10, 12, 20, and up to 16 within a
//! beam of 8 or 10 nats) against exact per-utterance LLRs: the largest difference and the time
//! of each, for one speaker model and for all six.

#[path = "shared/fsdd.rs"]
mod fsdd;

use std::path::Path;
use std::time::Instant;

use fsdd::{N_MFCC, SPEAKERS, Split, load};

use gmm::speech::adapt::{AdaptConfig, adapt};
use gmm::speech::ubm::{UbmConfig, train_ubm};
use gmm::speech::{DEFAULT_TOP_C, GaussianSelection, TopC};
use gmm::{CovarianceType, EmConfig, Error, GaussianMixture, Matrix};

/// Utterance and frame accuracy from per-speaker, per-frame log-likelihoods.
fn accuracies(split: &Split, ll: &[Vec<f64>]) -> (f64, f64) {
    let argmax = |f: &dyn Fn(usize) -> f64| {
        (0..ll.len()).fold(0, |best, s| if f(s) > f(best) { s } else { best })
    };
    let n = split.test_labels.len();
    let frames = (0..n).filter(|&t| argmax(&|s| ll[s][t]) == split.test_labels[t]).count();
    let utts = split
        .test_utts
        .iter()
        .filter(|&&(truth, start, count)| {
            argmax(&|s| ll[s][start..start + count].iter().sum()) == truth
        })
        .count();
    (utts as f64 / split.test_utts.len() as f64, frames as f64 / n as f64)
}

fn row(name: &str, train: f64, score: f64, (utt, frame): (f64, f64)) {
    println!("{name:<40} {train:>9.3} {score:>9.3} {utt:>8.3} {frame:>9.3}");
}

fn per_frame(model: &GaussianMixture<f32>, x: &Matrix<f32>) -> Result<Vec<f64>, Error> {
    Ok(model.score_samples(x.samples())?.iter().map(|&v| f64::from(v)).collect())
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    let check_k = match args.iter().position(|a| a == "--top-c-check") {
        Some(i) => args.get(i + 1).and_then(|v| v.parse().ok()).unwrap_or(512),
        None => 512,
    };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/fsdd_mfcc");
    let split = load(&dir)?;
    let n_train: usize = split.train.iter().map(|m| m.n_rows()).sum();
    println!(
        "FSDD MFCC: {} speakers, {n_train} training frames, {} test frames in {} utterances, \
         d = {N_MFCC}, {} threads",
        SPEAKERS.len(),
        split.test.n_rows(),
        split.test_utts.len(),
        rayon_threads()
    );
    println!(
        "{:<40} {:>9} {:>9} {:>8} {:>9}",
        "system (gmm)", "train s", "score s", "utt acc", "frame acc"
    );

    // (a) One diagonal GMM per speaker.
    let t = Instant::now();
    let mut models = Vec::new();
    for x in &split.train {
        models.push(EmConfig::new(32, CovarianceType::Diag).seed(0).fit(x.samples())?.model);
    }
    let train_a = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let ll: Vec<Vec<f64>> =
        models.iter().map(|m| per_frame(m, &split.test)).collect::<Result<_, _>>()?;
    row("per-speaker diag K=32", train_a, t.elapsed().as_secs_f64(), accuracies(&split, &ll));

    // (b) UBM + MAP-adapted means.
    let t = Instant::now();
    let pooled: Vec<f32> = split.train.iter().flat_map(|m| m.as_slice().iter().copied()).collect();
    let pooled = Matrix::from_vec(pooled, N_MFCC)?;
    let ubm = train_ubm(&UbmConfig::new(64), pooled.samples())?.model;
    let map = AdaptConfig::default().relevance(16.0);
    let speakers: Vec<GaussianMixture<f32>> =
        split.train.iter().map(|x| adapt(&ubm, x.samples(), &map)).collect::<Result<_, _>>()?;
    let train_b = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let ll: Vec<Vec<f64>> =
        speakers.iter().map(|m| per_frame(m, &split.test)).collect::<Result<_, _>>()?;
    row(
        "UBM K=64 + MAP means r=16 (exact)",
        train_b,
        t.elapsed().as_secs_f64(),
        accuracies(&split, &ll),
    );
    let t = Instant::now();
    let selection = GaussianSelection::new(&ubm, split.test.samples(), DEFAULT_TOP_C)?;
    let ll: Vec<Vec<f64>> = speakers
        .iter()
        .map(|m| selection.log_likelihoods(m, split.test.samples()))
        .collect::<Result<_, _>>()?;
    row(
        "UBM K=64 + MAP means r=16 (top-5)",
        train_b,
        t.elapsed().as_secs_f64(),
        accuracies(&split, &ll),
    );

    if check_k > 0 {
        top_c_check(&split, &pooled, check_k)?;
    }
    Ok(())
}

/// Gaussian selection (fixed top-C and beam rules) against exact per-utterance LLRs for a
/// `k`-component UBM.
fn top_c_check(split: &Split, pooled: &Matrix<f32>, k: usize) -> Result<(), Error> {
    let t = Instant::now();
    let fit = train_ubm(&UbmConfig::new(k), pooled.samples())?;
    let ubm = fit.model;
    let ubm_s = t.elapsed().as_secs_f64();
    let speakers: Vec<GaussianMixture<f32>> = split
        .train
        .iter()
        .map(|x| adapt(&ubm, x.samples(), &AdaptConfig::default()))
        .collect::<Result<_, _>>()?;
    let x = split.test.samples();
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let refs: Vec<&GaussianMixture<f32>> = speakers.iter().collect();
    // Exact: the UBM and every speaker model over all test frames (per-frame values kept).
    let u = per_frame(&ubm, &split.test)?;
    let exact: Vec<(Vec<f64>, Vec<f64>)> = speakers
        .iter()
        .map(|m| per_frame(m, &split.test).map(|s| (s, u.clone())))
        .collect::<Result<_, _>>()?;
    println!(
        "\ntop-C vs exact LLR, UBM K={} (trained in {ubm_s:.2} s, {} removed), {} utterances x {} \
         speakers; times: medians of {REPEATS}, speed-ups: medians of the per-repeat ratios \
         (exact and top-C timed back to back):",
        ubm.n_components(),
        fit.report.removed,
        split.test_utts.len(),
        speakers.len()
    );
    let rules = [
        TopC::new(DEFAULT_TOP_C),
        TopC::new(10),
        TopC::new(12),
        TopC::new(20),
        TopC::new(16).beam(8.0),
        TopC::new(16).beam(10.0),
    ];
    for rule in rules {
        let (mut e1, mut ea, mut t1, mut ta, mut r1, mut ra) =
            (vec![], vec![], vec![], vec![], vec![], vec![]);
        let (mut fast, mut mean_selected) = (Vec::new(), 0.0);
        for _ in 0..REPEATS {
            // Exact: 1 speaker = UBM + that speaker; 6 speakers = UBM + all six.
            let t = Instant::now();
            let _ = per_frame(&ubm, &split.test)?;
            let _ = per_frame(&speakers[0], &split.test)?;
            let one = t.elapsed().as_secs_f64();
            for m in &speakers[1..] {
                let _ = per_frame(m, &split.test)?;
            }
            let all = t.elapsed().as_secs_f64();
            let t = Instant::now();
            let sel = GaussianSelection::select(&ubm, x, rule)?;
            let _ = sel.log_likelihoods(&speakers[0], x)?;
            let top_one = t.elapsed().as_secs_f64();
            let t = Instant::now();
            let sel = GaussianSelection::select(&ubm, x, rule)?;
            mean_selected = sel.mean_selected();
            fast = sel
                .log_likelihoods_many(&refs, x)?
                .into_iter()
                .map(|s| (s, sel.ubm_log_likelihoods().to_vec()))
                .collect();
            let top_all = t.elapsed().as_secs_f64();
            r1.push(one / top_one);
            ra.push(all / top_all);
            e1.push(one);
            ea.push(all);
            t1.push(top_one);
            ta.push(top_all);
        }
        let name = match rule.get_beam() {
            Some(beam) => format!("top-{}, beam {beam}", rule.get_c()),
            None => format!("top-{}", rule.get_c()),
        };
        println!(
            "  {name} ({mean_selected:.2} per frame): |LLR diff| {}\n    1 speaker: exact {:.1} \
             ms, selected {:.1} ms ({:.1}x); 6 speakers: exact {:.1} ms, selected {:.1} ms ({:.1}x)",
            diff_summary(split, &exact, &fast),
            median(e1) * 1e3,
            median(t1) * 1e3,
            median(r1),
            median(ea) * 1e3,
            median(ta) * 1e3,
            median(ra)
        );
    }
    Ok(())
}

/// Timing repeats of the top-C check (medians reported).
const REPEATS: usize = 7;

/// Max, 99th percentile and mean of the per-utterance |exact LLR - top-C LLR| over every
/// (speaker, test utterance) pair, and the length of the utterance with the largest difference.
fn diff_summary(
    split: &Split,
    exact: &[(Vec<f64>, Vec<f64>)],
    fast: &[(Vec<f64>, Vec<f64>)],
) -> String {
    let mut diffs = Vec::new();
    let mut worst = (0.0f64, 0usize);
    for (e, f) in exact.iter().zip(fast) {
        for &(_, start, count) in &split.test_utts {
            let llr = |(spk, ubm): &(Vec<f64>, Vec<f64>)| {
                (start..start + count).map(|t| spk[t] - ubm[t]).sum::<f64>() / count as f64
            };
            let diff = (llr(e) - llr(f)).abs();
            if diff > worst.0 {
                worst = (diff, count);
            }
            diffs.push(diff);
        }
    }
    let mean = diffs.iter().sum::<f64>() / diffs.len() as f64;
    diffs.sort_by(f64::total_cmp);
    let p99 = diffs[(diffs.len() * 99) / 100];
    let over = diffs.iter().filter(|&&d| d > 0.01).count();
    format!(
        "max {:.5} ({} frames), p99 {p99:.5}, mean {mean:.5}, {over}/{} over 0.01",
        worst.0,
        worst.1,
        diffs.len()
    )
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}
