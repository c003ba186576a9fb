//! Frame inputs of the speech commands (`ubm`, `adapt`, `llr`, `stats`): frame files, list
//! files and segments (utterances as row ranges of frame files), loaded in one precision.
//!
//! * A **frame file** (`.npy`, f32 or f64, or text) is one utterance: all its rows.
//! * A **list file** (`.list`, `.lst`, `.scp`) names frame files, one per line (blank lines and
//!   `#` comments skipped, relative paths relative to the list's folder); lists do not nest.
//! * A **segments file** (`--segments`) names utterances as row ranges of frame files, so a
//!   file may hold many utterances (a speaker's, a recording's):
//!   - Kaldi-style text, one utterance per line: `UTTERANCE FILE FIRST-ROW ROW-COUNT`
//!     (whitespace-separated, `#` comments; rows zero-based);
//!   - or a CSV index with a header (`.csv`): the columns `utterance`, `frame_start`,
//!     `frame_count`, and `file` or a `--file-template` such as `{speaker}.npy` that builds the
//!     file name from the row's columns — the bundled FSDD `index.csv` is one.
//!
//!   `--where COLUMN=VALUE` keeps the utterances whose column has that value (repeatable, all
//!   must hold; the Kaldi columns are named `utterance`, `file`, `frame_start`, `frame_count`).
//!   Files are relative to the segments file's folder.

use std::path::{Path, PathBuf};

use gmm_core::{Error, ErrorKind, Matrix, Real, Result};

use crate::args::SegmentArgs;

/// One utterance: rows `first..first + count` of `file` (all of them when `rows` is `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Utterance {
    /// Its name in outputs: the segment's name, or the file's path.
    pub name: String,
    /// The frame file.
    pub file: PathBuf,
    /// `(first, count)`, or every row.
    pub rows: Option<(usize, usize)>,
}

/// Whether `path` names a list file (`.list`, `.lst`, `.scp`).
fn is_list(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()).map(|e| e.to_ascii_lowercase()).as_deref(),
        Some("list" | "lst" | "scp")
    )
}

/// The utterances named by `inputs` (list files expanded in place) and then by the segments
/// file of `segments`, if any.
pub fn utterances(inputs: &[PathBuf], segments: &SegmentArgs) -> Result<Vec<Utterance>> {
    let whole = |file: PathBuf| Utterance { name: file.display().to_string(), file, rows: None };
    let mut out: Vec<Utterance> = expand(inputs)?.into_iter().map(whole).collect();
    match &segments.segments {
        Some(path) => out.extend(read_segments(path, segments)?),
        None => {
            if !segments.filters.is_empty() || segments.file_template.is_some() {
                return Err(Error::new(
                    ErrorKind::InvalidConfig,
                    "--where and --file-template select rows of a segments file: give \
                     --segments FILE",
                ));
            }
        }
    }
    if out.is_empty() {
        return Err(Error::new(
            ErrorKind::EmptyData,
            match &segments.segments {
                Some(path) => {
                    format!("{}: no utterance is left (check the --where filters)", path.display())
                }
                None => "no frame files given (the lists are empty)".to_string(),
            },
        ));
    }
    Ok(out)
}

/// The frame files named by `inputs`, list files expanded in place (one path per line; blank
/// lines and lines starting with `#` skipped; relative paths relative to the list's folder).
pub fn expand(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for input in inputs {
        if !is_list(input) {
            out.push(input.clone());
            continue;
        }
        let text = gmm_io::read_text_file(input)?;
        let base = input.parent().unwrap_or(Path::new(""));
        for (i, line) in text.lines().map(str::trim).enumerate() {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let p = Path::new(line);
            if is_list(p) {
                return Err(Error::new(
                    ErrorKind::InvalidConfig,
                    format!(
                        "{}: line {} names the list file {line}: lists do not nest; name frame \
                         files (.npy, .csv, .tsv, .txt) or give both lists on the command line",
                        input.display(),
                        i + 1
                    ),
                ));
            }
            out.push(if p.is_absolute() { p.to_path_buf() } else { base.join(p) });
        }
    }
    Ok(out)
}

/// The columns of a segments file's utterances.
const KALDI_COLUMNS: [&str; 4] = ["utterance", "file", "frame_start", "frame_count"];

/// The utterances of a segments file (see the [module docs](self)).
fn read_segments(path: &Path, args: &SegmentArgs) -> Result<Vec<Utterance>> {
    let filters = args
        .filters
        .iter()
        .map(|f| {
            f.split_once('=').ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidConfig,
                    format!("--where {f:?}: write COLUMN=VALUE, e.g. --where split=train"),
                )
            })
        })
        .collect::<Result<Vec<(&str, &str)>>>()?;
    let text = gmm_io::read_text_file(path)?;
    let base = path.parent().unwrap_or(Path::new(""));
    let is_csv = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let at = |line: usize, message: String| {
        Error::new(ErrorKind::Parse, format!("{}: line {line}: {message}", path.display()))
    };
    let mut header: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || (!is_csv && trimmed.starts_with('#')) {
            continue;
        }
        let fields: Vec<String> = if is_csv {
            trimmed.split(',').map(|f| f.trim().trim_matches('"').to_string()).collect()
        } else {
            trimmed.split_whitespace().map(str::to_string).collect()
        };
        if header.is_empty() {
            if is_csv {
                header = fields;
                header[0] = header[0].trim_start_matches('\u{feff}').to_string();
                for (name, _) in &filters {
                    if !header.iter().any(|h| h == name) {
                        return Err(at(
                            line,
                            format!(
                                "--where {name}=...: there is no column {name:?} (the columns \
                                 are {})",
                                header.join(", ")
                            ),
                        ));
                    }
                }
                let needed = ["utterance", "frame_start", "frame_count"]
                    .into_iter()
                    .chain(args.file_template.is_none().then_some("file"));
                for name in needed {
                    if !header.iter().any(|h| h == name) {
                        return Err(at(
                            line,
                            format!(
                                "the index has no {name:?} column (the columns are {}): a \
                                 segments CSV needs utterance, frame_start, frame_count and \
                                 file (or --file-template, e.g. '{{speaker}}.npy')",
                                header.join(", ")
                            ),
                        ));
                    }
                }
                continue;
            }
            header = KALDI_COLUMNS.iter().map(|c| c.to_string()).collect();
            if let Some(template) = &args.file_template {
                return Err(Error::new(
                    ErrorKind::InvalidConfig,
                    format!(
                        "--file-template {template:?} builds file names from a CSV index's \
                         columns; {} is Kaldi-style text, which names the file in its second \
                         field",
                        path.display()
                    ),
                ));
            }
        }
        if fields.len() != header.len() {
            return Err(at(
                line,
                format!(
                    "{} fields but {} expected ({})",
                    fields.len(),
                    header.len(),
                    header.join(" ")
                ),
            ));
        }
        let get = |name: &str| {
            header.iter().position(|h| h == name).map(|j| fields[j].as_str()).unwrap_or("")
        };
        if !filters.iter().all(|(name, value)| get(name) == *value) {
            continue;
        }
        let number = |name: &str| {
            let v = get(name);
            v.parse::<usize>().map_err(|_| {
                at(line, format!("{name} {v:?} is not a row number (a whole number from 0)"))
            })
        };
        let (first, count) = (number("frame_start")?, number("frame_count")?);
        if count == 0 {
            return Err(at(line, "frame_count is 0: an utterance needs frames".to_string()));
        }
        let file = match &args.file_template {
            Some(template) => fill(template, &header, &fields).map_err(|m| at(line, m))?,
            None => get("file").to_string(),
        };
        let file = Path::new(&file);
        out.push(Utterance {
            name: get("utterance").to_string(),
            file: if file.is_absolute() { file.to_path_buf() } else { base.join(file) },
            rows: Some((first, count)),
        });
    }
    Ok(out)
}

/// `template` with every `{column}` replaced by the row's value.
fn fill(
    template: &str,
    header: &[String],
    fields: &[String],
) -> std::result::Result<String, String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| format!("--file-template {template:?} has an unclosed '{{'"))?;
        let name = &after[..close];
        let j = header.iter().position(|h| h == name).ok_or_else(|| {
            format!(
                "--file-template {template:?} names the column {name:?}, which the index does \
                 not have (the columns are {})",
                header.join(", ")
            )
        })?;
        out.push_str(&fields[j]);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Loads one file as `T`.
pub fn load<T: Real>(path: &Path) -> Result<Matrix<T>> {
    gmm_io::read_matrix(path)?.try_into_real().map_err(|e| e.context(path.display()))
}

/// Loads utterances one after the other, keeping the last file read (segments of one file
/// usually follow each other).
pub struct Loader<T: Real> {
    cached: Option<(PathBuf, Matrix<T>)>,
}

impl<T: Real> Loader<T> {
    /// Nothing loaded yet.
    pub fn new() -> Self {
        Self { cached: None }
    }

    /// The frames of `utt`.
    pub fn frames(&mut self, utt: &Utterance) -> Result<Matrix<T>> {
        let Some((first, count)) = utt.rows else {
            return load::<T>(&utt.file);
        };
        if self.cached.as_ref().is_none_or(|(p, _)| *p != utt.file) {
            self.cached = Some((utt.file.clone(), load::<T>(&utt.file)?));
        }
        let Some((_, m)) = &self.cached else { unreachable!("just loaded") };
        let n = m.n_rows();
        if first.checked_add(count).is_none_or(|end| end > n) {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                format!(
                    "utterance {}: rows {first}..{} of {}, which has {n} rows: fix the segments \
                     file",
                    utt.name,
                    first.saturating_add(count),
                    utt.file.display()
                ),
            ));
        }
        let d = m.n_cols();
        Matrix::from_vec(m.as_slice()[first * d..(first + count) * d].to_vec(), d)
    }
}

/// Loads and stacks every utterance as `T`; all must have the same number of columns.
pub fn load_stacked<T: Real>(utts: &[Utterance]) -> Result<Matrix<T>> {
    // One file: its matrix as read, without a second copy.
    if let [utt] = utts {
        return Loader::<T>::new().frames(utt);
    }
    let mut values = Vec::new();
    let mut d = None;
    let mut loader = Loader::<T>::new();
    for utt in utts {
        let m = loader.frames(utt)?;
        if let Some(d) = d
            && m.n_cols() != d
        {
            return Err(Error::new(
                ErrorKind::DimensionMismatch { expected: d, found: m.n_cols() },
                format!(
                    "{}: {} columns, but the first file has {d}: give frames of one dimension",
                    utt.file.display(),
                    m.n_cols()
                ),
            ));
        }
        d = Some(m.n_cols());
        values.extend(m.into_vec());
    }
    Matrix::from_vec(values, d.unwrap_or(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(segments: &Path, filters: &[&str], template: Option<&str>) -> SegmentArgs {
        SegmentArgs {
            segments: Some(segments.to_path_buf()),
            filters: filters.iter().map(|s| s.to_string()).collect(),
            file_template: template.map(str::to_string),
        }
    }

    #[test]
    fn kaldi_and_csv_segments() {
        let dir = tempfile::tempdir().unwrap();
        let kaldi = dir.path().join("segments");
        std::fs::write(&kaldi, "# utt file first count\nu1 a.npy 0 3\n\nu2 sub/b.npy 3 2\n")
            .unwrap();
        let utts = utterances(&[], &args(&kaldi, &[], None)).unwrap();
        assert_eq!(utts.len(), 2);
        assert_eq!(utts[1].name, "u2");
        assert_eq!(utts[1].file, dir.path().join("sub/b.npy"));
        assert_eq!(utts[1].rows, Some((3, 2)));
        let only = utterances(&[], &args(&kaldi, &["file=a.npy"], None)).unwrap();
        assert_eq!(only.len(), 1);

        let csv = dir.path().join("index.csv");
        std::fs::write(
            &csv,
            "utterance,speaker,split,frame_start,frame_count\n0_a_0,a,test,0,4\n0_a_1,a,train,4,2\n\
             0_b_0,b,train,0,5\n",
        )
        .unwrap();
        let train = args(&csv, &["split=train"], Some("{speaker}.npy"));
        let utts = utterances(&[], &train).unwrap();
        let names: Vec<&str> = utts.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(names, ["0_a_1", "0_b_0"]);
        assert_eq!(utts[1].file, dir.path().join("b.npy"));
        assert_eq!(utts[0].rows, Some((4, 2)));
    }

    #[test]
    fn bad_segments_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let kaldi = dir.path().join("segments");
        let csv = dir.path().join("index.csv");
        std::fs::write(&csv, "utterance,speaker,frame_start,frame_count\nu,a,0,1\n").unwrap();
        for (text, filters, template, needle) in [
            ("u1 a.npy 0\n", vec![], None, "line 1: 3 fields but 4"),
            ("u1 a.npy x 3\n", vec![], None, "frame_start \"x\""),
            ("u1 a.npy -1 3\n", vec![], None, "frame_start \"-1\""),
            ("u1 a.npy 0 0\n", vec![], None, "frame_count is 0"),
            ("u1 a.npy 0 1\n", vec!["split"], None, "COLUMN=VALUE"),
            ("u1 a.npy 0 1\n", vec![], Some("{file}"), "Kaldi-style"),
            ("u1 a.npy 0 1\n", vec!["speaker=x"], None, "no utterance is left"),
        ] {
            std::fs::write(&kaldi, text).unwrap();
            let err = utterances(&[], &args(&kaldi, &filters, template)).unwrap_err();
            assert!(err.message().contains(needle), "{text:?}: {err}");
        }
        for (filters, template, needle) in [
            (vec![], None, "no \"file\" column"),
            (vec!["split=train"], Some("{speaker}.npy"), "no column \"split\""),
            (vec![], Some("{spk}.npy"), "column \"spk\""),
            (vec![], Some("{speaker.npy"), "unclosed"),
        ] {
            let err = utterances(&[], &args(&csv, &filters, template)).unwrap_err();
            assert!(err.message().contains(needle), "{err}");
        }
        let no_segments = SegmentArgs {
            segments: None,
            filters: vec!["split=train".into()],
            file_template: None,
        };
        let err = utterances(&[PathBuf::from("a.npy")], &no_segments).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::InvalidConfig);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// The segments parser's fuzz harness: any text, as Kaldi lines or as a CSV index,
        /// with or without filters and a template, gives utterances or an error, never a panic.
        #[test]
        fn segments_parser_takes_any_text(
            text in "(([a-z0-9_,.{}= \\t-]|\\n){0,120})",
            filter in proptest::option::of("[a-z]{1,3}=[a-z0-9]{0,2}"),
            template in proptest::option::of("[a-z{}.]{0,10}"),
        ) {
            let dir = tempfile::tempdir().unwrap();
            for name in ["segments", "index.csv"] {
                let path = dir.path().join(name);
                std::fs::write(&path, &text).unwrap();
                let filters: Vec<&str> = filter.iter().map(String::as_str).collect();
                if let Ok(utts) = utterances(&[], &args(&path, &filters, template.as_deref())) {
                    proptest::prop_assert!(utts.iter().all(|u| u.rows.is_some_and(|(_, n)| n > 0)));
                }
            }
        }
    }
}
