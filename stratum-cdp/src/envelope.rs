//! Splitting a batch document into its members and elements without parsing them.
//!
//! The scanner follows JSON's structure only (strings, escapes, brackets, commas),
//! so that one element with content a JSON parser rejects — a lone surrogate
//! escape, `NaN`, a control character — costs that element alone: each element is
//! then parsed on its own. It keeps no copy of the input and no tree, only spans.

use crate::json_text::plain_end;

/// A value's place in the input: `start..end`, and its length without
/// insignificant whitespace (the size of its compact form).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) compact_len: usize,
}

/// Why a document could not be split: what was expected and at which byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScanError {
    pub(crate) message: String,
}

fn err(what: &str, pos: usize) -> ScanError {
    ScanError {
        message: format!("{what} at byte {pos}"),
    }
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn skip_ws(json: &[u8], mut pos: usize) -> usize {
    while pos < json.len() && is_ws(json[pos]) {
        pos += 1;
    }
    pos
}

/// The end (one past the closing quote) of the string starting at `pos` (a `"`).
fn string_end(json: &[u8], pos: usize) -> Result<usize, ScanError> {
    let mut i = pos + 1;
    loop {
        i = plain_end(json, i);
        match json.get(i) {
            Some(b'"') => return Ok(i + 1),
            Some(b'\\') => i += 2,
            // A control character: the element's parser reports it.
            Some(_) => i += 1,
            None => return Err(err("unterminated string", pos)),
        }
    }
}

/// The span of the value starting at (or after whitespace from) `pos`.
pub(crate) fn value(json: &[u8], pos: usize) -> Result<Span, ScanError> {
    let start = skip_ws(json, pos);
    let Some(&first) = json.get(start) else {
        return Err(err("expected a value", start));
    };
    match first {
        b'"' => {
            let end = string_end(json, start)?;
            Ok(Span {
                start,
                end,
                compact_len: end - start,
            })
        }
        b'{' | b'[' => {
            let mut stack = vec![first];
            let mut compact = 1;
            let mut i = start + 1;
            while let Some(&open) = stack.last() {
                let Some(&b) = json.get(i) else {
                    return Err(err("unterminated object or array", start));
                };
                match b {
                    b'"' => {
                        let end = string_end(json, i)?;
                        compact += end - i;
                        i = end;
                        continue;
                    }
                    b'{' | b'[' => stack.push(b),
                    b'}' | b']' => {
                        let expected = if open == b'{' { b'}' } else { b']' };
                        if b != expected {
                            return Err(err("mismatched bracket", i));
                        }
                        stack.pop();
                    }
                    _ => {}
                }
                if !is_ws(b) {
                    compact += 1;
                }
                i += 1;
            }
            Ok(Span {
                start,
                end: i,
                compact_len: compact,
            })
        }
        b',' | b':' | b'}' | b']' => Err(err("expected a value", start)),
        _ => {
            let mut end = start;
            while end < json.len() && !is_ws(json[end]) && !matches!(json[end], b',' | b'}' | b']')
            {
                end += 1;
            }
            Ok(Span {
                start,
                end,
                compact_len: end - start,
            })
        }
    }
}

/// The members of the object that is the whole document: (key span, value span)
/// in document order. Only whitespace may follow the object.
pub(crate) fn object_members(json: &[u8]) -> Result<Vec<(Span, Span)>, ScanError> {
    let mut pos = skip_ws(json, 0);
    if json.get(pos) != Some(&b'{') {
        return Err(err("expected a JSON object", pos));
    }
    pos = skip_ws(json, pos + 1);
    let mut out = Vec::new();
    if json.get(pos) == Some(&b'}') {
        return trailing(json, pos + 1).map(|()| out);
    }
    loop {
        if json.get(pos) != Some(&b'"') {
            return Err(err("expected a string key", pos));
        }
        let key_end = string_end(json, pos)?;
        let key = Span {
            start: pos,
            end: key_end,
            compact_len: key_end - pos,
        };
        pos = skip_ws(json, key_end);
        if json.get(pos) != Some(&b':') {
            return Err(err("expected `:`", pos));
        }
        let v = value(json, pos + 1)?;
        out.push((key, v));
        pos = skip_ws(json, v.end);
        match json.get(pos) {
            Some(b',') => pos = skip_ws(json, pos + 1),
            Some(b'}') => return trailing(json, pos + 1).map(|()| out),
            _ => return Err(err("expected `,` or `}`", pos)),
        }
    }
}

/// The elements of the array spanned by `array`.
pub(crate) fn array_elements(json: &[u8], array: Span) -> Result<Vec<Span>, ScanError> {
    let json = &json[..array.end];
    let mut pos = array.start + 1;
    let mut out = Vec::new();
    pos = skip_ws(json, pos);
    if json.get(pos) == Some(&b']') {
        return Ok(out);
    }
    loop {
        let v = value(json, pos)?;
        out.push(v);
        pos = skip_ws(json, v.end);
        match json.get(pos) {
            Some(b',') => pos += 1,
            Some(b']') => return Ok(out),
            _ => return Err(err("expected `,` or `]`", pos)),
        }
    }
}

fn trailing(json: &[u8], pos: usize) -> Result<(), ScanError> {
    let end = skip_ws(json, pos);
    if end == json.len() {
        Ok(())
    } else {
        Err(err("trailing characters", end))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn text(json: &str, s: Span) -> &str {
        &json[s.start..s.end]
    }

    #[test]
    fn splits_members_and_elements_without_validating_them() {
        let json = r#" { "a" : 1 , "batch": [ {"x": "\ud800", "y": NaN}, [1, "]"] , -0 ] } "#;
        let members = object_members(json.as_bytes()).unwrap();
        let keys: Vec<&str> = members.iter().map(|(k, _)| text(json, *k)).collect();
        assert_eq!(keys, ["\"a\"", "\"batch\""]);
        let elems = array_elements(json.as_bytes(), members[1].1).unwrap();
        let texts: Vec<&str> = elems.iter().map(|s| text(json, *s)).collect();
        assert_eq!(texts, [r#"{"x": "\ud800", "y": NaN}"#, r#"[1, "]"]"#, "-0"]);
        assert_eq!(elems[0].compact_len, r#"{"x":"\ud800","y":NaN}"#.len());
    }

    #[test]
    fn structural_errors_say_where() {
        for bad in [
            "",
            "[]",
            "{",
            r#"{"a" 1}"#,
            r#"{"a":[1}"#,
            r#"{"a":"x}"#,
            r#"{"a":1} x"#,
            r#"{a:1}"#,
        ] {
            assert!(object_members(bad.as_bytes()).is_err(), "{bad}");
        }
        let json = r#"{"batch":[1 2]}"#;
        let m = object_members(json.as_bytes()).unwrap();
        let e = array_elements(json.as_bytes(), m[0].1).unwrap_err();
        assert_eq!(e.message, "expected `,` or `]` at byte 12");
    }
}
