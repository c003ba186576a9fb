//! `gmm-make-frames OUT.npy ROWS [--features D] [--components K] [--seed S]`: writes a float32
//! `.npy` of ROWS x D samples of a random diagonal K-component mixture, a chunk at a time (so
//! files far larger than memory can be made): the data of `docs/SCALE.md`'s out-of-core runs.

use std::io::Write;
use std::path::PathBuf;

use clap::Parser;
use gmm_core::{CovarianceType, GaussianMixture};

/// Writes a large float32 .npy of mixture samples.
#[derive(Parser)]
struct Args {
    /// Output file (.npy).
    output: PathBuf,
    /// Rows.
    rows: usize,
    /// Features per row.
    #[arg(long, default_value_t = 39)]
    features: usize,
    /// Components of the mixture drawn from.
    #[arg(long, default_value_t = 16)]
    components: usize,
    /// Seed of the mixture and of the samples.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

const CHUNK: usize = 1 << 20;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let (n, d) = (args.rows, args.features);
    let model =
        GaussianMixture::<f32>::random(CovarianceType::Diag, args.components, d, 3.0, args.seed)?;
    let mut dict = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({n}, {d}), }}");
    while !(10 + dict.len() + 1).is_multiple_of(64) {
        dict.push(' ');
    }
    dict.push('\n');
    let mut out = std::io::BufWriter::with_capacity(8 << 20, std::fs::File::create(&args.output)?);
    out.write_all(b"\x93NUMPY\x01\x00")?;
    out.write_all(&(dict.len() as u16).to_le_bytes())?;
    out.write_all(dict.as_bytes())?;
    let mut written = 0;
    let mut chunk = 0u64;
    while written < n {
        let rows = CHUNK.min(n - written);
        let (x, _) = model.sample(rows, args.seed.wrapping_mul(1_000_003).wrapping_add(chunk))?;
        for v in x.as_slice() {
            out.write_all(&v.to_le_bytes())?;
        }
        written += rows;
        chunk += 1;
    }
    out.flush()?;
    Ok(())
}
