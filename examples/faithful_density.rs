//! Density estimation on Old Faithful (272 eruptions: duration and waiting time, minutes):
//! full-covariance mixtures with 1 to 4 components, their BIC, and their isodensity curves in a
//! 2 x 2 figure with BIC's choice marked: `cargo run --release --example faithful_density`
//! (writes `docs/img/faithful_density.png`).

use std::path::Path;

use gmm::plot::{Figure, Format, MixtureView, mixture_panel};
use gmm::{CovarianceType, EmConfig};

fn main() -> Result<(), gmm::Error> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let data = gmm::io::read_csv(&root.join("data/faithful.csv"))?;
    let x = data.samples();
    println!("Old Faithful: {} eruptions x {} features", x.n_samples(), x.n_features());
    let mut fits = Vec::new();
    for k in 1..=4 {
        let fit = EmConfig::new(k, CovarianceType::Full).n_init(3).seed(1).tol(1e-6).fit(x)?;
        let bic = fit.model.bic(x)?;
        println!(
            "  k = {k}: {:>3} EM iterations, mean log-likelihood {:>8.4}, BIC {bic:>8.2}",
            fit.report.n_iter, fit.report.final_log_likelihood
        );
        fits.push((k, bic, fit.model));
    }
    let chosen = fits
        .iter()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|f| f.0)
        .ok_or_else(|| gmm::Error::new(gmm::ErrorKind::InvalidConfig, "no fit"))?;
    println!("BIC chooses k = {chosen}");

    let mut figure = Figure::new(1200, 1000)
        .panels(2, 2)
        .title("Old Faithful: isodensity curves of full-covariance mixtures");
    for (k, bic, model) in &fits {
        let mark = if *k == chosen { " (BIC's choice)" } else { "" };
        let view = MixtureView::new([0, 1])
            .no_ellipses()
            .contours(8)
            .names("eruption duration (min)", "waiting time (min)")
            .title(format!("k = {k}, BIC {bic:.1}{mark}"));
        figure = figure.panel(mixture_panel(model, Some(x), &view)?);
    }
    let out = root.join("docs/img/faithful_density.png");
    gmm::io::write_atomic(&out, &figure.render(Format::from_path(&out)?)?)?;
    println!("wrote {}", out.display());
    Ok(())
}
