//! # gmm-io: file formats for the gmm library and command line
//!
//! * **Data** ([`data`], [`npy`], [`text`]): [`read_matrix`] picks a reader by extension —
//!   NumPy `.npy` (float32 or float64, 1-D or 2-D, C or Fortran order, kept in its precision as a
//!   [`DataMatrix`]) or delimited text (`.csv`, `.tsv`, `.txt`; numbers only, header row
//!   optional, read as `f64`). [`read_vector`] reads per-sample values such as sample weights.
//! * **Models** ([`model_json`]): JSON in the layout of scikit-learn's fitted attributes
//!   (`covariance_type`, `weights`, `means`, `covariances`), read with [`read_model`] /
//!   [`parse_model`] and written with [`write_model`] / [`model_to_json`].
//! * **Labelled data and classifiers** ([`labelled`]): [`read_labelled_csv`] reads a CSV file
//!   with a text label column; [`read_classifier`] / [`write_classifier`] store a classifier's
//!   parts ([`LabelledModels`]: classes, priors, one model per class in the model layout).
//! * **Output** ([`atomic`], [`npy`], [`text`]): `.npy` matrices, labels and vectors, CSV, text
//!   and models, every file written by one policy ([`OutputTarget`]): a regular file atomically
//!   — to a temporary file in the destination's directory, then renamed, keeping an existing
//!   file's permissions and following symbolic links to their target — so a file is complete
//!   or absent, never half-written; a device or a FIFO written through in place, never
//!   replaced; `-` to standard output.
//! * **Input bounds** ([`read_text_file`]): text is read with its lines bounded
//!   ([`MAX_LINE_BYTES`]) and NUL bytes refused, `.npy` headers bounded
//!   ([`MAX_NPY_HEADER_BYTES`]), so no path (`/dev/zero`, a FIFO) makes a reader run forever;
//!   `-` reads standard input.
//!
//! * **Streaming** ([`stream`]): [`NpySource`] reads any rows of a `.npy` file by positioned
//!   reads, [`StackedSource`] puts files end to end: row sources for out-of-core passes.
//! * **Statistics files** ([`acc`]): the versioned, self-describing, checksummed `.acc` files of
//!   `gmm acc`, `gmm sum-accs` and `gmm update`.
//!
//! Every function returns [`gmm_core::Error`] on bad input instead of panicking: `Io` with the
//! path and the operating system's message (the [`std::io::Error`] itself is the error's
//! [`source`](std::error::Error::source), as are the JSON and CSV parsers' errors), `Parse` naming the file and the position (line and
//! column for text, byte counts for `.npy`, key and index for models), `EmptyData`, and the
//! model checks of [`gmm_core::GaussianMixture::new`].
//!
//! ```
//! use gmm_core::{CovarianceType, GaussianMixture};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let model = GaussianMixture::<f64>::random(CovarianceType::Full, 3, 2, 1.0, 7)?;
//! let (x, _) = model.sample(100, 1)?;
//! gmm_io::write_npy_f64(&dir.path().join("x.npy"), &x)?;
//! gmm_io::write_model(&dir.path().join("model.json"), &model)?;
//!
//! let data = gmm_io::read_matrix(&dir.path().join("x.npy"))?.into_f64();
//! let again = gmm_io::read_model::<f64>(&dir.path().join("model.json"))?;
//! assert_eq!(data, x);
//! assert_eq!(again, model);
//! # Ok::<(), gmm_core::Error>(())
//! ```

pub mod acc;
pub mod atomic;
pub mod data;
mod data_matrix;
mod errors;
#[cfg(test)]
mod fuzz;
mod input;
pub mod labelled;
pub mod model_json;
pub mod npy;
mod npy_header;
pub mod stream;
pub mod text;

pub use acc::{AccHeader, AccKind, model_fingerprint, read_acc, write_acc};
pub use atomic::{
    OutputTarget, is_stdio, remove_temporary_files, write_atomic, write_atomic_with, write_text,
};
pub use data::{DataMatrix, read_matrix, read_matrix_with_names, read_vector};
pub use input::{MAX_LINE_BYTES, MAX_NPY_HEADER_BYTES, read_text_file};
pub use labelled::{
    ClassifierFile, LabelColumn, LabelledModels, LabelledTable, classifier_to_json,
    parse_classifier, read_classifier, read_labelled_csv, write_classifier,
};
pub use model_json::{model_to_json, parse_model, read_model, write_model};
pub use npy::{read_npy, write_npy_f32, write_npy_f64, write_npy_labels, write_npy_vector};
pub use stream::{NpyInfo, NpySource, StackedSource, npy_info};
pub use text::{Delimiter, read_csv, read_delimited, read_text_matrix, write_csv_matrix};
