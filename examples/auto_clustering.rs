//! Automatic clustering: 1,200 samples of a 4-component full-covariance mixture, mixtures with
//! 1 to 6 components fitted by EM (3 restarts each) and BIC choosing the count; the table, the
//! choice, a 3 x 2 figure of the learned (red) against the true (green) 90% ellipses for every
//! k, and the BIC curve: `cargo run --release --example auto_clustering` (writes
//! `docs/img/auto_clustering.png` and `docs/img/auto_clustering_bic.png`).

use std::path::Path;

use gmm::em::{Criterion, select};
use gmm::plot::{Figure, Format, MixtureView, Rgb, criterion_panel, mixture_panel};
use gmm::{CovarianceType, Error, ErrorKind};

#[path = "shared/four_clusters.rs"]
mod four_clusters;
use four_clusters::{N_SAMPLES, SAMPLE_SEED, four_clusters, selection_config};

fn main() -> Result<(), gmm::Error> {
    let truth = four_clusters()?;
    let (x, _) = truth.sample(N_SAMPLES, SAMPLE_SEED)?;
    let x = x.samples();
    let config = selection_config().criterion(Criterion::Bic);
    let selection = select(&config, x)?;
    println!(
        "{} samples of a {}-component full-covariance mixture; BIC over k = 1..6 (full, {} \
         restarts each):",
        x.n_samples(),
        truth.n_components(),
        config.get_em().get_n_init()
    );
    println!("   k  parameters  mean log-lik        BIC  EM iterations  converged");
    let mut rows = Vec::new();
    for c in &selection.candidates {
        let s = c.outcome.as_ref().map_err(Clone::clone)?;
        let mark =
            if c.n_components == selection.best_candidate().n_components { "  <-" } else { "" };
        println!(
            "  {:>2}  {:>10}  {:>12.4}  {:>9.1}  {:>13}  {:>9}{mark}",
            c.n_components,
            s.n_parameters,
            s.mean_log_likelihood,
            s.bic,
            s.n_iter,
            if s.converged { "yes" } else { "no" }
        );
        rows.push((c.n_components, c.covariance_type.as_str(), s.bic));
    }
    let chosen = selection.best_candidate().n_components;
    println!("BIC chooses k = {chosen} (the truth has {})", truth.n_components());
    println!("true mean log-likelihood of the sample: {:.4}", truth.score(x)?);

    // Every cell refitted from its own configuration (the same seed, so the same model as in
    // the selection), drawn over the data with the truth.
    let (red, green) = (Rgb(214, 39, 40), Rgb(44, 160, 44));
    let level = 0.9;
    let mut panels = Vec::new();
    for (k, _, bic) in &rows {
        let model = config.cell_config(*k, CovarianceType::Full).fit(x)?.model;
        if *k == chosen && model != selection.model {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                "the refit differs from the selection",
            ));
        }
        let mark = if *k == chosen { "  (BIC's choice)" } else { "" };
        let view = |colour, name: &str| {
            MixtureView::new([0, 1]).level(level).means(false).names("x", "y").uniform(colour, name)
        };
        // The data and the true ellipses first, the learned ellipses on top.
        let under = mixture_panel(&truth, Some(x), &view(green, "true, k = 4"))?;
        let learned = mixture_panel(&model, None, &view(red, &format!("learned, k = {k}")))?;
        panels.push(under.overlay(learned).title(format!("k = {k}, BIC {bic:.1}{mark}")));
    }
    // The same axes everywhere.
    let (mut xr, mut yr) = ([f64::INFINITY, f64::NEG_INFINITY], [f64::INFINITY, f64::NEG_INFINITY]);
    for p in &panels {
        let (a, b) = p.ranges();
        xr = [xr[0].min(a[0]), xr[1].max(a[1])];
        yr = [yr[0].min(b[0]), yr[1].max(b[1])];
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut figure = Figure::new(1200, 1500)
        .panels(3, 2)
        .title("Automatic clustering: learned (red) and true (green) 90% ellipses");
    for p in panels {
        figure = figure.panel(p.x_range(xr[0], xr[1]).y_range(yr[0], yr[1]));
    }
    let out = root.join("docs/img/auto_clustering.png");
    gmm::io::write_atomic(&out, &figure.render(Format::from_path(&out)?)?)?;
    println!("wrote {}", out.display());

    let out = root.join("docs/img/auto_clustering_bic.png");
    let figure = Figure::new(700, 500).panel(criterion_panel(&rows, "BIC")?);
    gmm::io::write_atomic(&out, &figure.render(Format::from_path(&out)?)?)?;
    println!("wrote {}", out.display());
    Ok(())
}
