//! Clustering Old Faithful with a 2-component full-covariance mixture: the partition (cluster
//! sizes, means, spreads) and a figure of the eruptions coloured by cluster with 75% ellipses:
//! `cargo run --release --example faithful_clusters` (writes `docs/img/faithful_clusters.png`).

use std::path::Path;

use gmm::core::geometry::confidence_ellipses;
use gmm::plot::{Colouring, Figure, Format, MixtureView, mixture_panel};
use gmm::{CovarianceType, EmConfig};

fn main() -> Result<(), gmm::Error> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let data = gmm::io::read_csv(&root.join("data/faithful.csv"))?;
    let x = data.samples();
    let fit = EmConfig::new(2, CovarianceType::Full).n_init(3).seed(1).tol(1e-6).fit(x)?;
    let model = &fit.model;
    let labels = model.predict(x)?;
    let proba = model.predict_proba(x)?;
    let level = 0.75;
    let ellipses = confidence_ellipses(model, [0, 1], level)?;
    println!(
        "Old Faithful, 2 full-covariance clusters ({} EM iterations, mean log-likelihood {:.4}):",
        fit.report.n_iter, fit.report.final_log_likelihood
    );
    for c in 0..model.n_components() {
        let members: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == c).collect();
        let cov = model.covariance_matrix(c);
        let inside =
            members.iter().filter(|&&i| ellipses[c].contains([x.row(i)[0], x.row(i)[1]])).count();
        let unsure = members.iter().filter(|&&i| proba.row(i)[c] < 0.9).count();
        println!(
            "  cluster {c}: {:>3} eruptions (weight {:.3}), mean duration {:.2} min, mean wait \
             {:.1} min, sd ({:.2}, {:.1}), correlation {:.2}; {:.0}% inside its {}% ellipse, \
             {unsure} with posterior < 0.9",
            members.len(),
            model.weights()[c],
            model.mean(c)[0],
            model.mean(c)[1],
            cov[0].sqrt(),
            cov[3].sqrt(),
            cov[1] / (cov[0] * cov[3]).sqrt(),
            100.0 * inside as f64 / members.len() as f64,
            level * 100.0
        );
    }
    let view = MixtureView::new([0, 1])
        .level(level)
        .colouring(Colouring::Labels(labels))
        .names("eruption duration (min)", "waiting time (min)")
        .title("Old Faithful: 2 clusters and their 75% ellipses");
    let out = root.join("docs/img/faithful_clusters.png");
    let figure = Figure::new(850, 650).panel(mixture_panel(model, Some(x), &view)?);
    gmm::io::write_atomic(&out, &figure.render(Format::from_path(&out)?)?)?;
    println!("wrote {}", out.display());
    Ok(())
}
