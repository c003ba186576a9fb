//! `gmm llr`: one average per-frame log-likelihood ratio per input file, in input order.

use gmm_core::{Error, ErrorKind, Real, Result};
use gmm_speech::{TopC, llr};

use super::frames::{Loader, Utterance, utterances};
use super::scale::file_precision;
use crate::args::{Dtype, LlrArgs};
use crate::output::{self, Paths};

/// Runs `gmm llr`.
pub fn run(args: LlrArgs) -> Result<()> {
    let utts = utterances(&args.frames, &args.segments)?;
    Paths::new()
        .input("SPEAKER", &args.speaker)
        .input("UBM", &args.ubm)
        .inputs("FRAMES", utts.iter().map(|u| u.file.as_path()))
        .maybe_input("--segments", args.segments.segments.as_deref())
        .check()?;
    match file_precision(&utts[0].file, None)? {
        Dtype::F32 => typed::<f32>(&args, &utts),
        Dtype::F64 => typed::<f64>(&args, &utts),
    }
}

fn typed<T: Real>(args: &LlrArgs, utts: &[Utterance]) -> Result<()> {
    let speaker = gmm_io::read_model::<T>(&args.speaker)?;
    let ubm = gmm_io::read_model::<T>(&args.ubm)?;
    if speaker.n_features() != ubm.n_features() {
        return Err(Error::new(
            ErrorKind::DimensionMismatch {
                expected: ubm.n_features(),
                found: speaker.n_features(),
            },
            format!(
                "the speaker model has {} features and the UBM {}: score with models of one \
                 feature space",
                speaker.n_features(),
                ubm.n_features()
            ),
        ));
    }
    let rule = args.top_c.map(|c| match args.beam {
        Some(beam) => TopC::new(c).beam(beam),
        None => TopC::new(c),
    });
    // Score everything first, so a bad file prints nothing but its error.
    let mut text = String::new();
    let mut loader = Loader::<T>::new();
    for utt in utts {
        let x = loader.frames(utt)?;
        let score = llr(&speaker, &ubm, x.samples(), rule).map_err(|e| e.context(&utt.name))?;
        text.push_str(&format!("{}\t{}\n", utt.name, output::number(score)));
    }
    output::print(&text)
}
