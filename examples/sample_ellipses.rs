//! Sample a 2-D, 3-component diagonal mixture and draw its 75% confidence ellipses over the
//! samples: `cargo run --release --example sample_ellipses` (writes
//! `docs/img/sample_ellipses.png`).

use std::path::Path;

use gmm::core::geometry::confidence_ellipses;
use gmm::plot::{Colouring, Figure, Format, MixtureView, mixture_panel};
use gmm::{CovarianceType, GaussianMixture};

fn main() -> Result<(), gmm::Error> {
    let model = GaussianMixture::<f64>::new(
        CovarianceType::Diag,
        vec![0.2, 0.45, 0.35],
        vec![4.1, 3.0, 1.0, 5.0, -2.0, -3.0],
        vec![1.0, 1.5, 3.0, 4.0, 2.0, 3.5],
    )?;
    let (x, labels) = model.sample(1000, 2024)?;
    let level = 0.75;
    println!("1,000 samples from a 3-component diagonal mixture; {}% ellipses:", level * 100.0);
    for e in confidence_ellipses(&model, [0, 1], level)? {
        let own: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == e.component).collect();
        let inside = own.iter().filter(|&&i| e.contains([x.row(i)[0], x.row(i)[1]])).count();
        println!(
            "  component {}: {:>3} samples, {:.1}% inside its ellipse (semi-axes {:.2}, {:.2})",
            e.component,
            own.len(),
            100.0 * inside as f64 / own.len() as f64,
            e.semi_axes[0],
            e.semi_axes[1]
        );
    }
    let view = MixtureView::new([0, 1])
        .level(level)
        .colouring(Colouring::Labels(labels))
        .title("1,000 samples and the 75% ellipses of the mixture");
    let panel = mixture_panel(&model, Some(x.samples()), &view)?;
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/img/sample_ellipses.png");
    let figure = Figure::new(800, 650).panel(panel);
    gmm::io::write_atomic(&out, &figure.render(Format::from_path(&out)?)?)?;
    println!("wrote {}", out.display());
    Ok(())
}
