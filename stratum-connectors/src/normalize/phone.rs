//! Phone numbers: read as libphonenumber reads them, with its numbering-plan
//! metadata (`numbering.rs`), formatted as E.164 (PLATFORMS.md §1 "Phones", D3).

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory as _};

use super::WarningCode;
use super::numbering::{self, Unread};
use crate::error::{Error, Result};

/// How national phone numbers (no `+` or `00`) are read. There is deliberately no
/// default: a wrong guess produces a wrong key (PLATFORMS.md §6 pitfall 2). Without
/// one, international numbers are still read and a national number is dropped with
/// [`WarningCode::PhoneRegionRequired`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhoneRegion {
    /// Read national numbers as numbers of this ISO 3166-1 alpha-2 region, e.g. `GB`.
    Default(String),
    /// Drop national numbers with [`WarningCode::PhoneNoCountryCode`].
    RequireInternational,
}

impl PhoneRegion {
    pub(crate) fn validate(&self) -> Result<()> {
        PhoneParser::new(Some(self)).map(|_| ())
    }
}

/// A parser bound to the configured region.
#[derive(Clone, Debug)]
pub(crate) struct PhoneParser {
    /// The configured region's entry in the numbering plan; `None` when national
    /// numbers cannot be read.
    plan: Option<usize>,
    /// No region was configured: national numbers are dropped with
    /// [`WarningCode::PhoneRegionRequired`].
    unset: bool,
}

/// The normalised number and the note it is kept with, or why it is dropped.
type Outcome = Result<(String, Option<WarningCode>), (WarningCode, String)>;

impl PhoneParser {
    /// A parser for `region`; `None` when none is configured.
    pub(crate) fn new(region: Option<&PhoneRegion>) -> Result<Self> {
        let plan = match region {
            None | Some(PhoneRegion::RequireInternational) => None,
            Some(PhoneRegion::Default(code)) => {
                let upper = code.trim().to_ascii_uppercase();
                let plan = (upper.len() == 2)
                    .then(|| numbering::region_index(&upper))
                    .flatten()
                    .ok_or_else(|| {
                        Error::config(
                            "phone_region.default",
                            format!(
                                "is {code:?}; use an ISO 3166-1 alpha-2 region known to the \
                                 numbering plan, e.g. \"GB\" or \"US\""
                            ),
                        )
                    })?;
                Some(plan)
            }
        };
        Ok(Self {
            plan,
            unset: region.is_none(),
        })
    }

    /// E.164 digits, with a leading `+` when `plus` is set, and
    /// [`WarningCode::PhoneNotValid`] when the number is possible but not valid in
    /// the numbering-plan metadata (kept: PLATFORMS.md §1 asks for possible numbers).
    ///
    /// A number may read differently from its own output: the metadata strips a
    /// national prefix after the country code again (`+64 0000 55 0 4000`), or
    /// strips one the first reading had not reached (`00 55 0 9000559009` reads as
    /// `+55 9000559009`, from which Brazil's `90` is stripped in turn). The output
    /// is read again until it reads as itself, so that it always normalises to
    /// itself; an output that no longer reads as a possible number drops the
    /// number.
    pub(crate) fn normalize(&self, text: &str, plus: bool) -> Outcome {
        let (mut parsed, mut out, mut note) = self.read(text, plus)?;
        // Each re-read that differs strips at least one digit, so this ends; the
        // bound is only a guard.
        for _ in 0..16 {
            // Reading the output again goes straight to its calling code and
            // national number, from its digits (it is `+` and digits); when they
            // come out the same, so do the output and its note.
            if numbering::parse(Some(&out), &out, self.plan).as_ref() == Ok(&parsed) {
                break;
            }
            (parsed, out, note) = if plus {
                self.read(&out, plus)?
            } else {
                self.read(&format!("+{out}"), plus)?
            };
        }
        Ok((out, note))
    }

    /// One reading of `text` (see [`PhoneParser::normalize`]): the number read,
    /// its output form and note.
    fn read(
        &self,
        text: &str,
        plus: bool,
    ) -> Result<(numbering::Parsed, String, Option<WarningCode>), (WarningCode, String)> {
        let parsed = self.parse(text)?;
        let invalid = |why: &str| (WarningCode::InvalidPhone, why.to_owned());
        let mut out = String::with_capacity(16);
        if plus {
            out.push('+');
        }
        out.push_str(numbering::code_text(parsed.code, &mut [0; 5]));
        out.push_str(&parsed.national);
        let digits = out.bytes().filter(u8::is_ascii_digit).count();
        if digits > 15 {
            return Err(invalid("more than 15 digits"));
        }
        if !numbering::is_possible(&parsed) {
            return Err(invalid(
                "not a possible length for a number of its country calling code",
            ));
        }
        let valid = numbering::is_valid(&parsed);
        Ok((parsed, out, (!valid).then_some(WarningCode::PhoneNotValid)))
    }

    /// The calling code and national number of `text`, read as libphonenumber's
    /// parser reads it: the number starts at its first digit or `+`, trailing
    /// punctuation is dropped, and what remains must be digits and the
    /// punctuation libphonenumber allows, with at least three digits (or exactly
    /// two digits).
    pub(crate) fn parse(&self, text: &str) -> Result<numbering::Parsed, (WarningCode, String)> {
        // libphonenumber's `MAX_INPUT_STRING_LENGTH`, which also bounds the work
        // on any input.
        if text.len() > MAX_INPUT_LENGTH && text.chars().nth(MAX_INPUT_LENGTH).is_some() {
            return Err((
                WarningCode::InvalidPhone,
                format!("longer than {MAX_INPUT_LENGTH} characters"),
            ));
        }
        let number = ascii_form(strip_extension(strip_tel(text)));
        let number = number.as_ref();
        let letters = if number.is_ascii() {
            number.bytes().any(|b| b.is_ascii_alphabetic())
        } else {
            // The katakana prolonged sound mark is a letter to Unicode and a dash to
            // libphonenumber.
            number
                .chars()
                .any(|c| c.is_alphabetic() && !is_punctuation(c))
        };
        if letters {
            return Err((
                WarningCode::PhoneLetters,
                "letters in a phone number; vanity numbers are not converted (D3)".into(),
            ));
        }
        let invalid = |why: &str| (WarningCode::InvalidPhone, why.to_owned());
        let number = possible_number(number).ok_or_else(|| invalid("not a phone number"))?;
        let international = if let Some(rest) = number.strip_prefix("00") {
            Some(Cow::Owned(format!("+{rest}")))
        } else if number.starts_with('+') {
            Some(Cow::Borrowed(number))
        } else {
            // Dialled through the region's international prefix (`011` from the
            // US): read as the international number it dials, exactly as `+…`.
            numbering::after_international_prefix(number, self.plan).map(Cow::Owned)
        };
        if international.is_none() && self.plan.is_none() {
            return Err(if self.unset {
                (
                    WarningCode::PhoneRegionRequired,
                    "a national number without `+` or `00`, and no `phone_region` is \
                     configured to read it; set `phone_region`"
                        .into(),
                )
            } else {
                (
                    WarningCode::PhoneNoCountryCode,
                    "a national number without `+` or `00` under `require_international`".into(),
                )
            });
        }
        numbering::parse(international.as_deref(), number, self.plan).map_err(|why| {
            invalid(match why {
                Unread::CountryCode => "no country calling code starts the number",
                Unread::TooShort => "too few digits for a phone number",
                Unread::TooLong => "more digits than any numbering plan allows",
                Unread::ThroughPrefix => {
                    "dialled through an international prefix in a form that cannot be read \
                     exactly; write it as +<country code> <number>"
                }
            })
        })
    }
}

/// The longest text read as a phone number, in characters (libphonenumber's
/// limit).
const MAX_INPUT_LENGTH: usize = 250;

/// libphonenumber's `extractPossibleNumber` and `isViablePhoneNumber` on a number
/// without letters or extension: the text from its first digit or `+`, without
/// trailing characters that are not digits; `None` unless what remains is exactly
/// two digits, or pluses followed by digits, stars and the punctuation
/// libphonenumber allows between them, at least three digits in all.
fn possible_number(number: &str) -> Option<&str> {
    let start = number.find(|c: char| c == '+' || c.is_ascii_digit())?;
    let number = number[start..].trim_end_matches(|c: char| !c.is_numeric());
    let stripped = without_trailing_extension(number);
    // The viability pattern allows an extension only after three digits or more.
    (viable(number) || (stripped.len() < number.len() && digits_and_punctuation(stripped)))
        .then_some(stripped)
}

/// libphonenumber's `isViablePhoneNumber` on a number without letters or an
/// extension: exactly two digits, or at least three among punctuation.
fn viable(number: &str) -> bool {
    (number.len() == 2 && number.bytes().all(|b| b.is_ascii_digit()))
        || digits_and_punctuation(number)
}

/// Pluses, then at least three digits among stars and punctuation.
fn digits_and_punctuation(number: &str) -> bool {
    let body = number.trim_start_matches('+');
    let mut digits = 0;
    for c in body.chars() {
        if c.is_ascii_digit() {
            digits += 1;
        } else if !(c == '*' || is_punctuation(c)) {
            return false;
        }
    }
    digits >= 3
}

/// `number` without an extension libphonenumber reads at its end from
/// characters other than letters (those, `#` and `;` are cut before): a tilde
/// (`~`, `～`) or commas, optionally `:` or `.`, then the extension's digits (up to
/// 9; up to 15 after two commas, which dial it automatically). As
/// libphonenumber's `maybeStripExtension`, the leftmost place where such an
/// extension starts is taken, and only when what comes before is a viable number.
fn without_trailing_extension(number: &str) -> &str {
    let digits = number.len() - number.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    if digits == 0 {
        return number;
    }
    let tail = &number[..number.len() - digits];
    let start = tail
        .char_indices()
        .map(|(i, _)| i)
        .find(|&i| extension_label(&tail[i..]).is_some_and(|max| digits <= max));
    match start {
        Some(i) if viable(&tail[..i]) => &tail[..i],
        _ => number,
    }
}

/// Whether `s` is what libphonenumber allows between a number and the digits of
/// an extension labelled with a tilde or commas: the most digits the extension
/// may then have.
fn extension_label(s: &str) -> Option<usize> {
    const SPACE: [char; 3] = [' ', '\u{a0}', '\t'];
    let after_label = |rest: &str| {
        let rest = rest.strip_prefix([':', '.', '\u{ff0e}']).unwrap_or(rest);
        rest.chars()
            .all(|c| SPACE.contains(&c) || c == ',' || c == '-')
    };
    // Separators, then `~` or `～`.
    let rest = s.trim_start_matches(|c: char| SPACE.contains(&c) || c == ',');
    if let Some(rest) = rest.strip_prefix(['~', '\u{ff5e}']) {
        return after_label(rest).then_some(9);
    }
    // Spaces, then commas: two or more dial the extension automatically.
    let rest = s.trim_start_matches(SPACE);
    let after = rest.trim_start_matches(',');
    let commas = rest.len() - after.len();
    (commas > 0 && after_label(after)).then_some(if commas >= 2 { 15 } else { 9 })
}

/// libphonenumber's `VALID_PUNCTUATION`: dashes, spaces, brackets, dots, slashes
/// and tildes, in their ASCII, typographic and full-width forms (`x` is in the
/// list too, but an `x` starts an extension here and is cut before).
fn is_punctuation(c: char) -> bool {
    matches!(
        c,
        '-' | 'x'
            | '\u{2010}'..='\u{2015}'
            | '\u{2212}'
            | '\u{30fc}'
            | '\u{ff0d}'..='\u{ff0f}'
            | ' '
            | '\u{a0}'
            | '\u{ad}'
            | '\u{200b}'
            | '\u{2060}'
            | '\u{3000}'
            | '('
            | ')'
            | '\u{ff08}'
            | '\u{ff09}'
            | '\u{ff3b}'
            | '\u{ff3d}'
            | '.'
            | '['
            | ']'
            | '/'
            | '~'
            | '\u{2053}'
            | '\u{223c}'
            | '\u{ff5e}'
    )
}

/// `text` with every decimal digit of another script (full-width, Arabic-Indic, …)
/// written as its ASCII digit, and the full-width plus sign as `+`, as
/// libphonenumber reads them.
fn ascii_form(text: &str) -> Cow<'_, str> {
    let other = |c: char| !c.is_ascii() && (c == FULL_WIDTH_PLUS || decimal_value(c).is_some());
    if text.is_ascii() || !text.chars().any(other) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| match decimal_value(c) {
                _ if c == FULL_WIDTH_PLUS => '+',
                Some(d) if !c.is_ascii() => char::from(b'0' + d),
                _ => c,
            })
            .collect(),
    )
}

/// U+FF0B, which libphonenumber reads as `+`.
const FULL_WIDTH_PLUS: char = '\u{ff0b}';

/// The value of a decimal digit of any script. Unicode assigns decimal digits
/// (general category Nd) only in contiguous runs of ten, 0 to 9, and where runs
/// follow each other directly (the mathematical digits) each is still ten long, so
/// the value is the distance to the start of the run of runs, modulo ten.
fn decimal_value(c: char) -> Option<u8> {
    if c.is_ascii_digit() {
        return Some(c as u8 - b'0');
    }
    if c.general_category() != GeneralCategory::DecimalNumber {
        return None;
    }
    let code = u32::from(c);
    // The longest run of runs (mathematical digits) is 50 long.
    let back = (1..=64)
        .take_while(|k| {
            code.checked_sub(*k)
                .and_then(char::from_u32)
                .is_some_and(|p| p.general_category() == GeneralCategory::DecimalNumber)
        })
        .count();
    u8::try_from(back % 10).ok()
}

/// The number of an RFC 3966 `tel:` URI (any case); other text unchanged. Its
/// parameters (`;ext=`, `;phone-context=`) are removed with the extension.
fn strip_tel(text: &str) -> &str {
    match text.get(..4) {
        Some(scheme) if scheme.eq_ignore_ascii_case("tel:") => text[4..].trim_start(),
        _ => text,
    }
}

/// Everything before an extension marker (`ext`, `x`, `#`, `;`), which is dropped
/// (D3).
fn strip_extension(text: &str) -> &str {
    let lower = text.as_bytes();
    let mut i = 0;
    while i < lower.len() {
        let c = lower[i].to_ascii_lowercase();
        if c == b'#' || c == b';' || c == b'x' {
            return &text[..i];
        }
        if c == b'e'
            && lower.get(i + 1).map(u8::to_ascii_lowercase) == Some(b'x')
            && lower.get(i + 2).map(u8::to_ascii_lowercase) == Some(b't')
        {
            return &text[..i];
        }
        i += 1;
    }
    text
}

/// The phone rule's reading, for the differential fuzz target.
#[cfg(feature = "fuzzing")]
pub(crate) mod fuzzing {
    use super::{PhoneParser, PhoneRegion};

    /// The reading of `text` as the phone rule reads it, with `region` (e.g.
    /// `"GB"`) as the default region: `(country calling code, national significant
    /// number)`, or `None` when the number is dropped before its length and
    /// validity are judged.
    #[must_use]
    pub fn parse(text: &str, region: &str) -> Option<(u16, String)> {
        let parser = PhoneParser::new(Some(&PhoneRegion::Default(region.to_owned()))).ok()?;
        let parsed = parser.parse(text).ok()?;
        Some((parsed.code, parsed.national))
    }

    /// Whether a parsed number is valid in the numbering-plan metadata.
    #[must_use]
    pub fn is_valid(code: u16, national: &str) -> bool {
        super::numbering::is_valid(&super::numbering::Parsed {
            code,
            national: national.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn gb() -> PhoneParser {
        PhoneParser::new(Some(&PhoneRegion::Default("GB".into()))).unwrap()
    }

    #[test]
    fn text_longer_than_libphonenumber_reads_is_dropped() {
        let number = "+44 20 7946 0958";
        let padded = |n: usize| format!("{number}{}", " ".repeat(n - number.len()));
        assert_eq!(gb().parse(&padded(250)).unwrap().national, "2079460958");
        let (code, why) = gb().parse(&padded(251)).unwrap_err();
        assert_eq!(code, WarningCode::InvalidPhone);
        assert!(why.contains("250"), "{why}");
        // Characters, not bytes: 250 two-byte no-break spaces still read.
        let nbsp = format!("{number}{}", "\u{a0}".repeat(250 - number.len()));
        assert!(nbsp.len() > 250);
        assert_eq!(gb().parse(&nbsp).unwrap().national, "2079460958");
    }

    #[test]
    fn extensions_after_a_tilde_or_commas_are_dropped_only_at_the_end() {
        let national = |text: &str| gb().parse(text).map(|p| p.national);
        assert_eq!(national("020 7946 0958 ~ 12").unwrap(), "2079460958");
        assert_eq!(
            national("020 7946 0958,,123456789012").unwrap(),
            "2079460958"
        );
        assert_eq!(national("020 7946 0958, 12").unwrap(), "2079460958");
        // A tilde between digits is punctuation, unless only digits follow it.
        assert_eq!(national("020~7946 0958").unwrap(), "2079460958");
        assert_eq!(national("020~7946~0958").unwrap(), "0207946");
        // Ten digits after one comma are no extension, and a comma is no punctuation.
        assert!(national("020 7946 0958,1234567890").is_err());
        // The viability pattern allows an extension only after three digits.
        assert!(national("35,8").is_err());
    }

    #[test]
    fn punctuation_libphonenumber_allows_is_read_and_other_characters_drop_the_number() {
        let national = |text: &str| gb().parse(text).map(|p| p.national);
        for text in [
            "020\u{2010}7946\u{2013}0958",
            "（020）7946\u{3000}0958",
            "020/7946.0958",
            "[020] 7946\u{a0}0958",
            "020\u{30fc}7946\u{30fc}0958",
            "\u{ff10}\u{ff12}\u{ff10} 7946 0958",
            "  (020) 7946 0958!?",
        ] {
            assert_eq!(national(text).unwrap(), "2079460958", "{text:?}");
        }
        for text in [
            "020\t7946 0958",
            "020_7946_0958",
            "020|7946|0958",
            "020 7946 0958 \u{2022} 1",
        ] {
            assert_eq!(
                national(text).unwrap_err().0,
                WarningCode::InvalidPhone,
                "{text:?}"
            );
        }
    }
}
