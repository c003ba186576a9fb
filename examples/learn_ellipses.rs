//! Learn a random 2-D, 2-component diagonal mixture back from 1,000 of its samples (k-means
//! start, 30 EM iterations, threshold 1e-8) and draw the learned and true 75% ellipses side by
//! side: `cargo run --release --example learn_ellipses` (writes `docs/img/learn_ellipses.png`).

use std::path::Path;

use gmm::plot::{Colouring, Figure, Format, MixtureView, mixture_panel};
use gmm::{CovarianceType, EmConfig, GaussianMixture, Init};

fn describe(name: &str, model: &GaussianMixture<f64>) {
    println!("{name}:");
    for c in 0..model.n_components() {
        let (m, v) = (model.mean(c), &model.covariances()[2 * c..2 * c + 2]);
        println!(
            "  weight {:.3}  mean ({:>6.3}, {:>6.3})  variances ({:.3}, {:.3})",
            model.weights()[c],
            m[0],
            m[1],
            v[0],
            v[1]
        );
    }
}

/// The same diagonal model with its components in the order `order`.
fn permuted(
    model: &GaussianMixture<f64>,
    order: &[usize],
) -> Result<GaussianMixture<f64>, gmm::Error> {
    let d = model.n_features();
    let pick =
        |v: &[f64], w: usize| order.iter().flat_map(|&c| v[c * w..(c + 1) * w].to_vec()).collect();
    GaussianMixture::new(
        model.covariance_type(),
        pick(model.weights(), 1),
        pick(model.means(), d),
        pick(model.covariances(), d),
    )
}

fn main() -> Result<(), gmm::Error> {
    let truth = GaussianMixture::<f64>::random(CovarianceType::Diag, 2, 2, 1.5, 9)?;
    let (x, labels) = truth.sample(1000, 8)?;
    let fit = EmConfig::new(2, CovarianceType::Diag)
        .init(Init::KMeans)
        .max_iter(30)
        .tol(1e-8)
        .seed(1)
        .fit(x.samples())?;
    // Number the learned components like the true ones (nearest mean), so colours match.
    let dist = |a: &[f64], b: &[f64]| (a[0] - b[0]).hypot(a[1] - b[1]);
    let swap = dist(truth.mean(0), fit.model.mean(1)) < dist(truth.mean(0), fit.model.mean(0));
    let learned = if swap { permuted(&fit.model, &[1, 0])? } else { fit.model.clone() };
    println!(
        "EM: {} iterations (converged: {}), mean log-likelihood {:.5} (truth: {:.5})",
        fit.report.n_iter,
        fit.report.converged,
        fit.report.final_log_likelihood,
        truth.score(x.samples())?
    );
    describe("true", &truth);
    describe("learned", &learned);

    let view = |title: &str| {
        MixtureView::new([0, 1])
            .level(0.75)
            .colouring(Colouring::Labels(labels.clone()))
            .title(title)
    };
    let left = mixture_panel(&learned, Some(x.samples()), &view("learned by EM (k-means start)"))?;
    let right = mixture_panel(&truth, Some(x.samples()), &view("true mixture"))?;
    // The same axes on both sides.
    let (lx, ly) = left.ranges();
    let (rx, ry) = right.ranges();
    let (xr, yr) = ([lx[0].min(rx[0]), lx[1].max(rx[1])], [ly[0].min(ry[0]), ly[1].max(ry[1])]);
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/img/learn_ellipses.png");
    let figure = Figure::new(1300, 600)
        .panels(1, 2)
        .title("1,000 samples of a random diagonal mixture: 75% ellipses")
        .panel(left.x_range(xr[0], xr[1]).y_range(yr[0], yr[1]))
        .panel(right.x_range(xr[0], xr[1]).y_range(yr[0], yr[1]));
    gmm::io::write_atomic(&out, &figure.render(Format::from_path(&out)?)?)?;
    println!("wrote {}", out.display());
    Ok(())
}
