//! The model-selection claim of `examples/auto_clustering.rs`: on that example's 4-cluster
//! mixture (`examples/shared/four_clusters.rs`, the same definition the example draws), BIC over
//! k = 1..6 with the example's settings picks k = 4 — for the example's sampling seed and for
//! four others.

use gmm::em::{Criterion, select};

use crate::four_clusters::{N_SAMPLES, SAMPLE_SEED, four_clusters, selection_config};

#[test]
fn bic_picks_four_on_the_four_cluster_example_over_several_seeds() {
    let truth = four_clusters().unwrap();
    assert_eq!(truth.n_components(), 4);
    let config = selection_config().criterion(Criterion::Bic);
    for seed in [SAMPLE_SEED, 1, 2, 3, 4] {
        let (x, _) = truth.sample(N_SAMPLES, seed).unwrap();
        let selection = select(&config, x.samples()).unwrap();
        let bics: Vec<(usize, f64)> = selection
            .candidates
            .iter()
            .map(|c| (c.n_components, c.outcome.as_ref().map_or(f64::NAN, |s| s.bic)))
            .collect();
        assert_eq!(bics.len(), 6, "sampling seed {seed}");
        assert_eq!(selection.best_candidate().n_components, 4, "sampling seed {seed}: {bics:?}");
        assert_eq!(selection.model.n_components(), 4);
    }
}
