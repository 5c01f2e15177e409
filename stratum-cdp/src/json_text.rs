//! Reading JSON text in place: a scanner that checks a document as `serde_json`
//! checks it when it parses a `serde_json::Value`, and tells where each value lies,
//! without building anything.
//!
//! What the scanner accepts, `serde_json` parses (each value on its own, or the
//! document). The converse holds except for what the scanner declines to vouch
//! for: numbers that might not be a finite `f64` or that lie far below one (more
//! than 308 digits before the point, counting the exponent, or an exponent below
//! −300) and nesting deeper than [`MAX_DEPTH`] (`serde_json` stops at 128). Every
//! method returns `None` when it does not accept the text.

use std::borrow::Cow;

/// The deepest nesting of objects and arrays the scanner follows.
pub(crate) const MAX_DEPTH: usize = 100;

/// A string as it is written (between its quotes), and whether it holds an escape.
#[derive(Clone, Copy)]
pub(crate) struct JsonStr<'a> {
    text: &'a str,
    escaped: bool,
}

impl<'a> JsonStr<'a> {
    /// The string's value: borrowed from the text unless it holds an escape.
    #[inline(always)]
    pub(crate) fn value(self) -> Option<Cow<'a, str>> {
        if self.escaped {
            self.unescaped().map(Cow::Owned)
        } else {
            Some(Cow::Borrowed(self.text))
        }
    }

    #[cold]
    fn unescaped(self) -> Option<String> {
        serde_json::from_str(&format!("\"{}\"", self.text)).ok()
    }
}

/// A position in a JSON text.
pub(crate) struct Scanner<'a> {
    text: &'a str,
    pos: usize,
    /// Whitespace passed over so far, in bytes.
    whitespace: usize,
}

impl<'a> Scanner<'a> {
    /// At the start of `text`.
    pub(crate) fn new(text: &'a str) -> Self {
        Scanner {
            text,
            pos: 0,
            whitespace: 0,
        }
    }

    /// Whitespace passed over so far, in bytes: between two positions, what the
    /// text between them would lose when written compactly.
    #[inline]
    pub(crate) fn whitespace(&self) -> usize {
        self.whitespace
    }

    /// The current position, in bytes.
    #[inline]
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// The text from `start` to the current position.
    #[inline]
    pub(crate) fn since(&self, start: usize) -> &'a str {
        self.text.get(start..self.pos).unwrap_or_default()
    }

    /// The byte at the current position.
    #[inline]
    pub(crate) fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    /// Past any whitespace.
    #[inline(always)]
    pub(crate) fn skip_ws(&mut self) {
        // Whitespace is below `!`, and compact text has none.
        if self.peek().is_none_or(|c| c <= b' ') {
            self.skip_some_ws();
        }
    }

    #[cold]
    fn skip_some_ws(&mut self) {
        let b = self.text.as_bytes();
        let start = self.pos;
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = b.get(self.pos) {
            self.pos += 1;
        }
        self.whitespace += self.pos - start;
    }

    /// Whether the text ends here.
    #[inline]
    pub(crate) fn at_end(&self) -> bool {
        self.pos == self.text.len()
    }

    /// The value at the current position (nested in `depth` objects and arrays),
    /// checked and passed over.
    pub(crate) fn value(&mut self, depth: usize) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' => self.object(depth, |s, _| s.value(depth + 1)).map(drop),
            b'[' => self.array(depth, |s| s.value(depth + 1)),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    /// The object at the current position (nested in `depth` objects and arrays),
    /// checked and passed over: `member` is called with each key, positioned at its
    /// value, which it must pass over. Whether the object is empty.
    pub(crate) fn object(
        &mut self,
        depth: usize,
        mut member: impl FnMut(&mut Self, JsonStr<'a>) -> Option<()>,
    ) -> Option<bool> {
        if depth >= MAX_DEPTH || self.peek()? != b'{' {
            return None;
        }
        self.pos += 1;
        self.skip_ws();
        if self.peek()? == b'}' {
            self.pos += 1;
            return Some(true);
        }
        loop {
            if self.peek()? != b'"' {
                return None;
            }
            let key = self.string()?;
            self.skip_ws();
            if self.peek()? != b':' {
                return None;
            }
            self.pos += 1;
            self.skip_ws();
            member(self, key)?;
            self.skip_ws();
            let next = self.peek()?;
            self.pos += 1;
            match next {
                b',' => self.skip_ws(),
                b'}' => return Some(false),
                _ => return None,
            }
        }
    }

    /// The array at the current position (nested in `depth` objects and arrays),
    /// checked and passed over: `item` is called positioned at each element, which
    /// it must pass over.
    pub(crate) fn array(
        &mut self,
        depth: usize,
        mut item: impl FnMut(&mut Self) -> Option<()>,
    ) -> Option<()> {
        if depth >= MAX_DEPTH || self.peek()? != b'[' {
            return None;
        }
        self.pos += 1;
        self.skip_ws();
        if self.peek()? == b']' {
            self.pos += 1;
            return Some(());
        }
        loop {
            item(self)?;
            self.skip_ws();
            let next = self.peek()?;
            self.pos += 1;
            match next {
                b',' => self.skip_ws(),
                b']' => return Some(()),
                _ => return None,
            }
        }
    }

    /// The string at the current position (its opening quote).
    #[inline(always)]
    pub(crate) fn string(&mut self) -> Option<JsonStr<'a>> {
        let b = self.text.as_bytes();
        let start = self.pos + 1;
        let mut i = start;
        let mut escaped = false;
        loop {
            i = plain_end(b, i);
            match *b.get(i)? {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    i = escape_end(b, i)?;
                }
                // A control character.
                _ => return None,
            }
        }
        self.pos = i + 1;
        Some(JsonStr {
            text: self.text.get(start..i)?,
            escaped,
        })
    }

    #[inline]
    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.pos + word.len();
        (self.text.as_bytes().get(self.pos..end)? == word).then(|| self.pos = end)
    }

    /// The number at the current position, when it surely is an `f64` that is
    /// finite and not rounded to zero from far below (see the module documentation).
    fn number(&mut self) -> Option<()> {
        let b = self.text.as_bytes();
        let mut i = self.pos;
        let digits = |i: &mut usize| {
            let start = *i;
            while b.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            *i - start
        };
        if b[i] == b'-' {
            i += 1;
        }
        let whole = match b.get(i)? {
            b'0' => {
                i += 1;
                1
            }
            b'1'..=b'9' => digits(&mut i),
            _ => return None,
        };
        if b.get(i) == Some(&b'.') {
            i += 1;
            if digits(&mut i) == 0 {
                return None;
            }
        }
        let mut exponent = 0i64;
        if let Some(b'e' | b'E') = b.get(i) {
            i += 1;
            let negative = b.get(i) == Some(&b'-');
            if let Some(b'-' | b'+') = b.get(i) {
                i += 1;
            }
            let start = i;
            if !(1..=4).contains(&digits(&mut i)) {
                return None;
            }
            let e: i64 = self.text.get(start..i)?.parse().ok()?;
            exponent = if negative { -e } else { e };
        }
        // |value| < 10^(whole + exponent), and f64::MAX ≈ 1.8 × 10^308.
        (whole as i64 + exponent.max(0) <= 308 && exponent >= -300).then(|| self.pos = i)
    }
}

/// The first position from `i` of a `"`, a `\` or a control character (the end of
/// the plain run of a string), or the end of `b`. Eight bytes at a time: a byte
/// is flagged in the high bit of its lane when it equals `"` or `\` or is below
/// 0x20; a borrow only ever flags lanes above a flagged one, so the lowest flag is
/// exact.
#[inline(always)]
pub(crate) fn plain_end(b: &[u8], mut i: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    while let Some(chunk) = b.get(i..i + 8) {
        let Ok(lanes) = <[u8; 8]>::try_from(chunk) else {
            break;
        };
        let w = u64::from_le_bytes(lanes);
        let quote = w ^ (ONES * u64::from(b'"'));
        let backslash = w ^ (ONES * u64::from(b'\\'));
        // `!w` stands for `!quote` and `!backslash` too: `"` and `\` have the
        // high bit clear, so the three agree on the high bits, the only ones kept.
        let found =
            (quote.wrapping_sub(ONES) | backslash.wrapping_sub(ONES) | w.wrapping_sub(ONES * 0x20))
                & !w
                & HIGH;
        if found != 0 {
            return i + (found.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&c) = b.get(i) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            break;
        }
        i += 1;
    }
    i
}

/// The end of the escape at `i` (a `\`); `None` for an unknown escape or an
/// unpaired surrogate, which `serde_json` rejects in a string.
fn escape_end(b: &[u8], i: usize) -> Option<usize> {
    match *b.get(i + 1)? {
        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Some(i + 2),
        b'u' => match hex4(b, i + 2)? {
            // A leading surrogate must be followed by a trailing one.
            0xD800..=0xDBFF => {
                let paired = b.get(i + 6..i + 8) == Some(b"\\u".as_slice())
                    && (0xDC00..=0xDFFF).contains(&hex4(b, i + 8)?);
                paired.then_some(i + 12)
            }
            0xDC00..=0xDFFF => None,
            _ => Some(i + 6),
        },
        _ => None,
    }
}

/// The four hex digits at `i`.
fn hex4(b: &[u8], i: usize) -> Option<u16> {
    b.get(i..i + 4)?.iter().try_fold(0u16, |n, &c| {
        Some(n << 4 | (c as char).to_digit(16)? as u16)
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Whether the scanner accepts `text` as one value, with nothing after it.
    fn accepts(text: &str) -> bool {
        let mut s = Scanner::new(text);
        s.value(0).is_some() && s.at_end()
    }

    #[test]
    fn accepts_what_serde_json_parses_and_declines_the_rest() {
        for (text, ok) in [
            (
                r#"{"a":[1,-0.5e-3,true,false,null,"x\"\\\/\b\f\n\r\t\u00e9"]}"#,
                true,
            ),
            (r#""\ud83d\ude00""#, true),
            (r#""\ud83d""#, false),
            (r#""\ud83d\u0041""#, false),
            (r#""\ude00""#, false),
            (r#""\x""#, false),
            ("\"a\u{1}\"", false),
            ("\"a\u{7f}é\"", true),
            ("01", false),
            ("1.", false),
            ("1e", false),
            ("-", false),
            ("1e307", true),
            ("9.99e307", true),
            // Finite, but the bound is coarse: declined, left to `serde_json`.
            ("1e308", false),
            ("1e309", false),
            ("123456789012345678901234567890", true),
            ("1e-300", true),
            ("1e-301", false),
            ("[1,]", false),
            (r#"{"a":1,}"#, false),
            (r#"{"a" 1}"#, false),
            ("nul", false),
            ("NaN", false),
        ] {
            assert_eq!(accepts(text), ok, "{text}");
            if ok {
                assert!(
                    serde_json::from_str::<serde_json::Value>(text).is_ok(),
                    "{text}"
                );
            }
        }
    }

    #[test]
    fn nesting_beyond_the_limit_is_declined() {
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(accepts(&deep(MAX_DEPTH)));
        assert!(!accepts(&deep(MAX_DEPTH + 1)));
    }

    #[test]
    fn plain_runs_end_at_the_first_special_byte() {
        // Every offset of the special byte within and across eight-byte chunks,
        // after multi-byte characters and from every start.
        for special in ["\"", "\\", "\u{0}", "\u{1f}"] {
            for at in 0..20 {
                let head = "é".repeat(at / 2) + &"x".repeat(at % 2);
                let text = format!("{head}{special}{}", "y".repeat(9));
                for start in 0..=head.len() {
                    assert_eq!(plain_end(text.as_bytes(), start), head.len(), "{text:?}");
                }
            }
        }
        assert_eq!(plain_end(b"0123456789abcdef", 3), 16);
        assert_eq!(plain_end(b"\x7f\xc3\xa9 ~", 0), 5);
    }
}
