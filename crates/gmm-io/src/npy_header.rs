//! The header of a `.npy` file: magic string, version, and the Python dict literal that gives
//! the dtype, the memory order and the shape.
//!
//! ```text
//! \x93NUMPY  major minor  header_len (u16 LE for 1.0, u32 LE for 2.0 and 3.0)
//! {'descr': '<f8', 'fortran_order': False, 'shape': (100000, 15), }   (space padded, '\n')
//! ```
//!
//! The dict is parsed by a small parser for the Python literals NumPy writes (strings, integers,
//! `True`/`False`/`None`, tuples, lists, dicts), so every malformed header — including shapes
//! whose product overflows — becomes an error message instead of a panic.

use std::io::{self, Read};
use std::path::Path;

use gmm_core::{Error, Result};

use crate::errors::parse_error;
use crate::input::MAX_NPY_HEADER_BYTES;

/// What the header says about the data that follows it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Header {
    /// The dtype string (`'<f8'`), or the source text of a structured dtype.
    pub(crate) descr: String,
    /// Column-major (`True`) or row-major (`False`) data.
    pub(crate) fortran_order: bool,
    /// The array's dimensions.
    pub(crate) shape: Vec<u64>,
    /// Offset of the first data byte.
    pub(crate) data_start: u64,
}

/// Reads the header from the start of a file of `file_len` bytes, leaving `reader` at the first
/// data byte.
pub(crate) fn read_header(
    path: &Path,
    reader: &mut impl Read,
    file_len: Option<u64>,
) -> Result<Header> {
    let read_err = |e: io::Error| -> Error {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            parse_error(path, "not a .npy file: the file is too short to hold a .npy header")
                .with_source(e)
        } else {
            Error::io(path, "read", e)
        }
    };
    let mut prefix = [0u8; 8];
    reader.read_exact(&mut prefix).map_err(read_err)?;
    let (magic, version) = prefix.split_at(6);
    if magic != b"\x93NUMPY" {
        return Err(parse_error(
            path,
            "not a .npy file: it does not start with the .npy magic string \"\\x93NUMPY\" \
             (write it with numpy.save)",
        ));
    }
    let header_len = match version {
        [1, 0] => {
            let mut len = [0u8; 2];
            reader.read_exact(&mut len).map_err(read_err)?;
            u64::from(u16::from_le_bytes(len))
        }
        [2 | 3, 0] => {
            let mut len = [0u8; 4];
            reader.read_exact(&mut len).map_err(read_err)?;
            u64::from(u32::from_le_bytes(len))
        }
        _ => {
            let (major, minor) = (version.first().copied(), version.get(1).copied());
            return Err(parse_error(
                path,
                format!(
                    "unsupported .npy format version {}.{} (gmm reads 1.0, 2.0 and 3.0)",
                    major.unwrap_or(0),
                    minor.unwrap_or(0)
                ),
            ));
        }
    };
    let text_start: u64 = if version == [1, 0] { 10 } else { 12 };
    let data_start = text_start + header_len;
    if header_len > MAX_NPY_HEADER_BYTES {
        return Err(parse_error(
            path,
            format!(
                "the .npy header says it is {header_len} bytes long, more than the {} KiB gmm \
                 reads (numpy.save writes headers under 1 KiB): the file is corrupt or not \
                 a float array",
                MAX_NPY_HEADER_BYTES >> 10
            ),
        ));
    }
    if let Some(file_len) = file_len
        && data_start > file_len
    {
        return Err(parse_error(
            path,
            format!(
                "the file is truncated: its .npy header should be {header_len} bytes but only \
                 {} bytes follow the {text_start}-byte prefix",
                file_len.saturating_sub(text_start)
            ),
        ));
    }
    // Bounded by the file size just checked, or by MAX_NPY_HEADER_BYTES.
    let mut text = Vec::new();
    reader.take(header_len).read_to_end(&mut text).map_err(read_err)?;
    if (text.len() as u64) < header_len {
        return Err(parse_error(path, "the file ended while reading the .npy header"));
    }
    let text =
        std::str::from_utf8(&text).map_err(|_| parse_error(path, "the .npy header is not text"))?;
    let (descr, fortran_order, shape) = parse_dict(text)
        .map_err(|why| parse_error(path, format!("invalid .npy header ({why}): {text:?}")))?;
    Ok(Header { descr, fortran_order, shape, data_start })
}

/// `(descr, fortran_order, shape)` from the header text.
fn parse_dict(text: &str) -> std::result::Result<(String, bool, Vec<u64>), String> {
    let mut parser = Parser { text, pos: 0, depth: 0 };
    let Py::Dict(entries) = parser.value()? else {
        return Err("it is not a dict".to_string());
    };
    parser.skip_space();
    if parser.pos < text.len() {
        return Err(format!("unexpected text after the dict at byte {}", parser.pos));
    }
    let get = |name: &str| {
        entries
            .iter()
            .find(|(key, _, _)| matches!(key, Py::Str(k) if k == name))
            .map(|(_, value, raw)| (value, raw))
            .ok_or_else(|| format!("no '{name}' key"))
    };
    let descr = match get("descr")? {
        (Py::Str(s), _) => s.clone(),
        (_, raw) => raw.to_string(),
    };
    let fortran_order = match get("fortran_order")? {
        (Py::Bool(b), _) => *b,
        (_, raw) => return Err(format!("'fortran_order' is {raw}, not True or False")),
    };
    let shape = match get("shape")? {
        (Py::Seq(dims), raw) => dims
            .iter()
            .map(|dim| match dim {
                Py::Int(Some(n)) => Ok(*n),
                _ => Err(format!("'shape' is {raw}, not a tuple of non-negative integers")),
            })
            .collect::<std::result::Result<Vec<u64>, String>>()?,
        (_, raw) => return Err(format!("'shape' is {raw}, not a tuple")),
    };
    Ok((descr, fortran_order, shape))
}

/// The Python literals a `.npy` header can hold.
#[derive(Debug)]
enum Py {
    Str(String),
    /// A non-negative integer that fits in `u64`, or `None` for any other integer.
    Int(Option<u64>),
    Bool(bool),
    None,
    /// A tuple or a list.
    Seq(Vec<Py>),
    /// Entries with the source text of each value.
    Dict(Vec<(Py, Py, String)>),
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    const MAX_DEPTH: usize = 32;

    fn peek(&self) -> Option<char> {
        self.text.get(self.pos..).and_then(|rest| rest.chars().next())
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    fn expect(&mut self, wanted: char) -> std::result::Result<(), String> {
        self.skip_space();
        match self.bump() {
            Some(c) if c == wanted => Ok(()),
            Some(c) => Err(format!("expected '{wanted}' at byte {}, found '{c}'", self.pos - 1)),
            None => Err(format!("expected '{wanted}', found the end of the header")),
        }
    }

    fn value(&mut self) -> std::result::Result<Py, String> {
        self.skip_space();
        let start = self.pos;
        match self.peek() {
            Some('{') => self.nested(|p| p.dict()),
            Some('(') => self.nested(|p| p.seq(')')),
            Some('[') => self.nested(|p| p.seq(']')),
            Some(quote @ ('\'' | '"')) => self.string(quote),
            Some(c) if c.is_ascii_digit() || c == '-' || c == '+' => Ok(self.integer()),
            Some(c) if c.is_ascii_alphabetic() => {
                while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                    self.bump();
                }
                match self.text.get(start..self.pos) {
                    Some("True") => Ok(Py::Bool(true)),
                    Some("False") => Ok(Py::Bool(false)),
                    Some("None") => Ok(Py::None),
                    other => {
                        Err(format!("unexpected name {:?} at byte {start}", other.unwrap_or("")))
                    }
                }
            }
            Some(c) => Err(format!("unexpected '{c}' at byte {start}")),
            None => Err("the header ends where a value was expected".to_string()),
        }
    }

    fn nested(
        &mut self,
        parse: impl FnOnce(&mut Self) -> std::result::Result<Py, String>,
    ) -> std::result::Result<Py, String> {
        if self.depth >= Self::MAX_DEPTH {
            return Err("too deeply nested".to_string());
        }
        self.depth += 1;
        self.bump();
        let value = parse(self);
        self.depth -= 1;
        value
    }

    /// After `{`.
    fn dict(&mut self) -> std::result::Result<Py, String> {
        let mut entries = Vec::new();
        loop {
            self.skip_space();
            if self.peek() == Some('}') {
                self.bump();
                return Ok(Py::Dict(entries));
            }
            let key = self.value()?;
            self.expect(':')?;
            self.skip_space();
            let start = self.pos;
            let value = self.value()?;
            let raw = self.text.get(start..self.pos).unwrap_or("").to_string();
            entries.push((key, value, raw));
            self.skip_space();
            match self.bump() {
                Some(',') => {}
                Some('}') => return Ok(Py::Dict(entries)),
                Some(c) => {
                    return Err(format!(
                        "expected ',' or '}}' at byte {}, found '{c}'",
                        self.pos - 1
                    ));
                }
                None => return Err("the dict is not closed".to_string()),
            }
        }
    }

    /// After `(` or `[`.
    fn seq(&mut self, close: char) -> std::result::Result<Py, String> {
        let mut items = Vec::new();
        loop {
            self.skip_space();
            if self.peek() == Some(close) {
                self.bump();
                return Ok(Py::Seq(items));
            }
            items.push(self.value()?);
            self.skip_space();
            match self.bump() {
                Some(',') => {}
                Some(c) if c == close => return Ok(Py::Seq(items)),
                Some(c) => {
                    return Err(format!(
                        "expected ',' or '{close}' at byte {}, found '{c}'",
                        self.pos - 1
                    ));
                }
                None => return Err(format!("a sequence is not closed with '{close}'")),
            }
        }
    }

    fn string(&mut self, quote: char) -> std::result::Result<Py, String> {
        let start = self.pos;
        self.bump();
        let mut out = String::new();
        loop {
            match self.bump() {
                None => return Err(format!("the string starting at byte {start} is not closed")),
                Some(c) if c == quote => return Ok(Py::Str(out)),
                Some('\\') => match self.bump() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some(c) => out.push(c),
                    None => return Err("the header ends inside a string".to_string()),
                },
                Some(c) => out.push(c),
            }
        }
    }

    fn integer(&mut self) -> Py {
        let negative = match self.peek() {
            Some('-') => {
                self.bump();
                true
            }
            Some('+') => {
                self.bump();
                false
            }
            _ => false,
        };
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.bump();
        }
        let digits = self.text.get(start..self.pos).unwrap_or("");
        // Python 2 wrote long integers with an `L` suffix.
        if matches!(self.peek(), Some('L' | 'l')) {
            self.bump();
        }
        let value = digits.parse::<u64>().ok().filter(|&n| !negative || n == 0);
        Py::Int(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_numpy_headers() {
        let (descr, fortran, shape) =
            parse_dict("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }   \n").unwrap();
        assert_eq!((descr.as_str(), fortran, shape), ("<f8", false, vec![3, 2]));
        let (_, fortran, shape) =
            parse_dict("{\"shape\": (7,), \"fortran_order\": True, \"descr\": \">f4\"}").unwrap();
        assert_eq!((fortran, shape), (true, vec![7]));
        let (_, _, shape) =
            parse_dict("{'descr': '<f8', 'fortran_order': False, 'shape': (), }").unwrap();
        assert!(shape.is_empty());
        let (_, _, shape) =
            parse_dict("{'descr': '<f8', 'fortran_order': False, 'shape': (3L, 2L), }").unwrap();
        assert_eq!(shape, vec![3, 2]);
        let (descr, _, _) = parse_dict(
            "{'descr': [('x', '<f8'), ('y', '<i4')], 'fortran_order': False, 'shape': (3,), }",
        )
        .unwrap();
        assert_eq!(descr, "[('x', '<f8'), ('y', '<i4')]");
    }

    #[test]
    fn rejects_malformed_headers() {
        for (text, needle) in [
            ("{'descr': '<f8', 'fortran_order': False}", "no 'shape' key"),
            ("{'descr': '<f8', 'fortran_order': 0, 'shape': (1,)}", "'fortran_order' is 0"),
            ("{'descr': '<f8', 'fortran_order': False, 'shape': (-1, 2)}", "non-negative"),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999999,)}",
                "non-negative",
            ),
            ("{'descr': '<f8', 'fortran_order': False, 'shape': 3}", "not a tuple"),
            ("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2)", "not closed"),
            ("{'descr': '<f8", "not closed"),
            ("[1, 2]", "not a dict"),
            ("{} extra", "after the dict"),
            ("{'a': 1.5}", "found '.'"),
            ("{'a': nan}", "unexpected name"),
            ("", "ends where a value"),
        ] {
            let err = parse_dict(text).unwrap_err();
            assert!(err.contains(needle), "{text}: {err}");
        }
        let deep = format!("{}{}", "(".repeat(100), ")".repeat(100));
        assert!(parse_dict(&deep).unwrap_err().contains("deeply"));
    }
}
