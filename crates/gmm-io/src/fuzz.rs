//! The parsers' fuzz harness, kept in the test suite (issue 15): property-based tests with
//! `proptest` over arbitrary bytes and over mutations of valid files, for every reader —
//! delimited text (CSV, TSV, whitespace), labelled CSV, `.npy` (header and data, from a file
//! or a stream), model JSON, classifier JSON — and the input bounds. Every property says: no
//! panic, and what is accepted is well-formed (finite values, the shape the file states); the
//! round-trip properties say that what gmm writes reads back the same.
//!
//! Each property runs `PROPTEST_CASES` cases (256 by default, a second or two); `.ci/run` runs
//! the harness again with more. A failing case is printed minimised, so it can become a
//! regression test beside the parser.

use std::io::Cursor;
use std::path::Path;

use gmm_core::{CovarianceType, GaussianMixture, Matrix};
use proptest::prelude::*;

use crate::data_matrix::DataMatrix;
use crate::input::{TextLimits, read_checked};
use crate::labelled::{LabelColumn, parse_classifier, read_labelled_csv};
use crate::model_json::{model_to_json, parse_model};
use crate::npy::read_npy_from;
use crate::text::{Delimiter, parse_named_table, parse_text_matrix};

const PATH: &str = "fuzz.csv";

/// Bytes that matter to the parsers, to mutate valid files with.
fn interesting_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        Just(b','),
        Just(b'\n'),
        Just(b'\r'),
        Just(b'"'),
        Just(b'\t'),
        Just(b' '),
        Just(b'#'),
        Just(b'-'),
        Just(b'.'),
        Just(b'e'),
        Just(b'9'),
        Just(b'0'),
        Just(0u8),
        Just(0xffu8),
        Just(b'('),
        Just(b')'),
        Just(b'\''),
        Just(b'{'),
        Just(b'}'),
        Just(b'['),
        Just(b']'),
        Just(b':'),
        any::<u8>(),
    ]
}

/// Replace, insert or delete bytes of `valid` at random places.
fn mutated(valid: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let len = valid.len().max(1);
    prop::collection::vec((0..len, interesting_byte(), 0..3u8), 1..8).prop_map(move |edits| {
        let mut bytes = valid.clone();
        for (at, byte, op) in edits {
            let at = at.min(bytes.len());
            match op {
                0 if at < bytes.len() => bytes[at] = byte,
                1 => bytes.insert(at, byte),
                _ if at < bytes.len() => {
                    bytes.remove(at);
                }
                _ => bytes.push(byte),
            }
        }
        bytes
    })
}

fn check_table(result: gmm_core::Result<Matrix<f64>>) {
    if let Ok(m) = result {
        assert!(m.n_rows() > 0 && m.n_cols() > 0);
        assert_eq!(m.as_slice().len(), m.n_rows() * m.n_cols());
        assert!(m.as_slice().iter().all(|v| v.is_finite()), "accepted a non-finite value");
    }
}

fn parse_all_text(bytes: &[u8]) {
    let path = Path::new(PATH);
    for delimiter in [Delimiter::Comma, Delimiter::Tab, Delimiter::Whitespace] {
        check_table(parse_named_table(path, bytes, delimiter).map(|(m, _)| m));
    }
    check_table(parse_text_matrix(path, bytes));
    // The input bounds never panic either, and agree with themselves chunk by chunk.
    let whole = read_checked(path, &mut Cursor::new(bytes.to_vec()), TextLimits::LINES);
    assert_eq!(whole.is_ok(), !bytes.contains(&0));
}

fn npy_file(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
    let order = if fortran { "True" } else { "False" };
    let mut dict = format!("{{'descr': '{descr}', 'fortran_order': {order}, 'shape': {shape}, }}");
    let unpadded = 10 + dict.len() + 1;
    dict.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    dict.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out.extend_from_slice(data);
    out
}

fn read_npy_both(bytes: &[u8]) {
    let path = Path::new("fuzz.npy");
    let from_file = read_npy_from(path, &mut Cursor::new(bytes), Some(bytes.len() as u64));
    let from_stream = read_npy_from(path, &mut Cursor::new(bytes), None);
    // A stream and a file of the same bytes agree.
    assert_eq!(from_file.is_ok(), from_stream.is_ok(), "{from_file:?} vs {from_stream:?}");
    if let (Ok(a), Ok(b)) = (&from_file, &from_stream) {
        assert_eq!(a, b);
    }
    if let Ok(m) = from_file {
        assert!(m.n_rows() > 0 && m.n_cols() > 0);
    }
}

fn valid_npy() -> Vec<u8> {
    let data: Vec<u8> =
        [1.0f64, 3.0, 5.0, 2.0, 4.0, 6.0].iter().flat_map(|v| v.to_le_bytes()).collect();
    npy_file("<f8", true, "(3, 2)", &data)
}

const VALID_MODEL: &str = r#"{
  "covariance_type": "full",
  "weights": [0.4, 0.6],
  "means": [[0.0, 1.0], [5.0, 5.0]],
  "covariances": [[[1.0, 0.2], [0.2, 2.0]], [[0.5, 0.0], [0.0, 0.5]]]
}"#;

fn parse_models(text: &str) {
    if let Ok(model) = parse_model::<f64>(text) {
        // What is accepted writes and reads back to the same model.
        let again = parse_model::<f64>(&model_to_json(&model)).expect("our own JSON reads back");
        assert_eq!(again, model);
    }
    let _ = parse_model::<f32>(text);
    let _ = parse_classifier::<f64>(text);
}

proptest! {
    #[test]
    fn text_parsers_take_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        parse_all_text(&bytes);
    }

    #[test]
    fn text_parsers_take_mutated_tables(
        bytes in mutated(b"a,b\n1.5,-2e3\n\n3,4\n\"5\",6\r\n# c\n7 8\n".to_vec())
    ) {
        parse_all_text(&bytes);
    }

    #[test]
    fn csv_round_trips(
        values in prop::collection::vec(
            prop_oneof![any::<f64>().prop_filter("finite", |v| v.is_finite()), -1e3..1e3f64],
            1..40,
        ),
        n_cols in 1..5usize,
        header in any::<bool>(),
    ) {
        let n = values.len() / n_cols;
        prop_assume!(n > 0);
        let m = Matrix::from_vec(values[..n * n_cols].to_vec(), n_cols).unwrap();
        let mut text = String::new();
        if header {
            let names: Vec<String> = (0..n_cols).map(|j| format!("c{j}")).collect();
            text += &names.join(",");
            text.push('\n');
        }
        for i in 0..n {
            let row: Vec<String> = m.row(i).iter().map(|v| format!("{v:?}")).collect();
            text += &row.join(",");
            text.push('\n');
        }
        let (back, names) = parse_named_table(Path::new(PATH), text.as_bytes(), Delimiter::Comma)
            .expect("a written table reads back");
        prop_assert_eq!(back, m);
        prop_assert_eq!(names.is_some(), header);
    }

    #[test]
    fn npy_reader_takes_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        read_npy_both(&bytes);
        let mut with_magic = b"\x93NUMPY\x01\x00".to_vec();
        with_magic.extend_from_slice(&bytes);
        read_npy_both(&with_magic);
    }

    #[test]
    fn npy_reader_takes_mutated_files(bytes in mutated(valid_npy())) {
        read_npy_both(&bytes);
    }

    #[test]
    fn npy_headers_with_any_shape_and_dtype(
        descr in prop_oneof![
            Just("<f8".to_string()), Just(">f4".to_string()), Just("<i8".to_string()),
            "[<>|]?[a-z][0-9]{1,2}",
        ],
        dims in prop::collection::vec(
            prop_oneof![0..5u64, any::<u64>(), Just(u64::MAX)],
            0..4,
        ),
        fortran in any::<bool>(),
        data_len in 0..100usize,
    ) {
        let shape = match dims.as_slice() {
            [n] => format!("({n},)"),
            _ => format!("({})", dims.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")),
        };
        read_npy_both(&npy_file(&descr, fortran, &shape, &vec![0x3f; data_len]));
    }

    #[test]
    fn model_parsers_take_any_text(text in "\\PC{0,200}") {
        parse_models(&text);
    }

    #[test]
    fn model_parsers_take_mutated_models(bytes in mutated(VALID_MODEL.as_bytes().to_vec())) {
        if let Ok(text) = std::str::from_utf8(&bytes) {
            parse_models(text);
        }
    }

    #[test]
    fn models_round_trip(
        k in 1..4usize,
        d in 1..4usize,
        cov in prop_oneof![
            Just(CovarianceType::Diag), Just(CovarianceType::Full),
            Just(CovarianceType::Spherical), Just(CovarianceType::Tied),
        ],
        seed in any::<u64>(),
    ) {
        let model = GaussianMixture::<f64>::random(cov, k, d, 3.0, seed).unwrap();
        let again = parse_model::<f64>(&model_to_json(&model)).unwrap();
        prop_assert_eq!(again, model);
    }
}

proptest! {
    // Labelled CSV reads files: fewer cases.
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn labelled_csv_takes_mutated_tables(
        bytes in mutated(b"x,y,label\n1,2,a\n3,4,b\n\n5,6,\"c,d\"\n".to_vec())
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("labelled.csv");
        std::fs::write(&path, &bytes).unwrap();
        for label in [LabelColumn::Required("label"), LabelColumn::IfPresent("label")] {
            if let Ok(table) = read_labelled_csv(&path, label) {
                prop_assert!(table.features.as_slice().iter().all(|v| v.is_finite()));
                if let Some(labels) = &table.labels {
                    prop_assert_eq!(labels.len(), table.features.n_rows());
                }
            }
        }
    }
}

#[test]
fn data_matrix_conversion_never_panics() {
    for v in [f64::MAX, -f64::MAX, 1e39, 3.4028235e38, f64::MIN_POSITIVE, 0.0] {
        let m = DataMatrix::F64(Matrix::from_vec(vec![v, 1.0], 1).unwrap());
        let _ = m.try_into_real::<f32>();
    }
}
