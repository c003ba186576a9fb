//! Fit Old Faithful (272 eruptions: duration, waiting time) with 1 to 4 full-covariance
//! components and let BIC choose: `cargo run --release --example faithful`.

use std::path::Path;

use gmm::{CovarianceType, EmConfig};

fn main() -> Result<(), gmm::Error> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/faithful.csv");
    let data = gmm::io::read_csv(&path)?;
    let x = data.samples();
    println!("{}: {} samples x {} features", path.display(), x.n_samples(), x.n_features());
    let mut best = None;
    for k in 1..=4 {
        let fit = EmConfig::new(k, CovarianceType::Full).n_init(3).seed(1).tol(1e-6).fit(x)?;
        let bic = fit.model.bic(x)?;
        println!(
            "k = {k}: {:>3} iterations, mean log-likelihood {:.4}, BIC {bic:.2}",
            fit.report.n_iter, fit.report.final_log_likelihood
        );
        if best.as_ref().is_none_or(|(b, _)| bic < *b) {
            best = Some((bic, fit.model));
        }
    }
    let (bic, model) = best.expect("four fits ran");
    println!("BIC picks k = {} (BIC {bic:.2}):", model.n_components());
    for c in 0..model.n_components() {
        let cov = model.covariance_matrix(c);
        println!(
            "  weight {:.3}  mean ({:.3}, {:.3})  sd ({:.3}, {:.3})  correlation {:.3}",
            model.weights()[c],
            model.mean(c)[0],
            model.mean(c)[1],
            cov[0].sqrt(),
            cov[3].sqrt(),
            cov[1] / (cov[0] * cov[3]).sqrt()
        );
    }
    Ok(())
}
