//! Phone numbers: parsed with libphonenumber metadata (the `phonenumber` crate),
//! formatted as E.164 (PLATFORMS.md §1 "Phones", D3).

use std::borrow::Cow;
use std::fmt::Write as _;
use std::str::FromStr as _;

use phonenumber::country;
use serde::{Deserialize, Serialize};
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory as _};

use super::WarningCode;
use super::numbering;
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
    region: Option<country::Id>,
    /// The region's entry in the compiled numbering plan.
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
        let unset = region.is_none();
        let region = match region {
            None | Some(PhoneRegion::RequireInternational) => None,
            Some(PhoneRegion::Default(code)) => {
                let upper = code.trim().to_ascii_uppercase();
                let id = (upper.len() == 2)
                    .then(|| country::Id::from_str(&upper).ok())
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
                Some((id, upper))
            }
        };
        Ok(match region {
            None => Self {
                region: None,
                plan: None,
                unset,
            },
            Some((id, upper)) => Self {
                region: Some(id),
                plan: numbering::region_index(&upper),
                unset,
            },
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
        let (mut out, mut note) = self.read(text, plus)?;
        // Already in its output form (`+` and digits): reading it again is the
        // same reading.
        if text.strip_prefix('+') == Some(out.trim_start_matches('+')) {
            return Ok((out, note));
        }
        // Each re-read that differs strips at least one digit, so this ends; the
        // bound is only a guard.
        for _ in 0..16 {
            let again = if plus {
                self.read(&out, plus)?
            } else {
                self.read(&format!("+{out}"), plus)?
            };
            let settled = again.0 == out;
            (out, note) = again;
            if settled {
                break;
            }
        }
        Ok((out, note))
    }

    /// One reading of `text` (see [`PhoneParser::normalize`]).
    fn read(&self, text: &str, plus: bool) -> Outcome {
        let number = ascii_form(strip_extension(strip_tel(text)));
        let number = number.as_ref();
        let letters = if number.is_ascii() {
            number.bytes().any(|b| b.is_ascii_alphabetic())
        } else {
            number.chars().any(char::is_alphabetic)
        };
        if letters {
            return Err((
                WarningCode::PhoneLetters,
                "letters in a phone number; vanity numbers are not converted (D3)".into(),
            ));
        }
        let body = number.trim_start_matches(|c: char| c == '(' || c.is_whitespace());
        let international = if let Some(rest) = body.strip_prefix("00") {
            Some(Cow::Owned(format!("+{rest}")))
        } else if body.starts_with('+') {
            Some(Cow::Borrowed(body))
        } else {
            // Dialled through the region's international prefix (`011` from the
            // US): read as the international number it dials, exactly as `+…`.
            numbering::after_international_prefix(body, self.plan).map(Cow::Owned)
        };
        // A star carries no digit (libphonenumber drops it too); left in, it sends
        // the number down another parser than the same digits without it.
        let international = international.map(|n| {
            if n.contains('*') {
                Cow::Owned(n.replace('*', ""))
            } else {
                n
            }
        });
        if international.is_none() && self.region.is_none() {
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
        let invalid = |why: &str| (WarningCode::InvalidPhone, why.to_owned());
        let parsed = match numbering::parse(international.as_deref(), number, self.plan) {
            Some(parsed) => parsed,
            None => {
                // The metadata's own parser, for what the compiled fast path leaves
                // to it. Punctuation carries no meaning in an international number;
                // removing it first avoids the parser's reading of `+1650-555-1212`
                // as a country code `1650`.
                let n = match &international {
                    Some(n) => phonenumber::parse(None, without_punctuation(n)),
                    None => phonenumber::parse(self.region, number),
                }
                .map_err(|_| invalid("not a phone number"))?;
                // Given a default region, the crate reads a number it finds
                // dialled through an international prefix (or a `+` past the
                // start) with that region's metadata, and can strip the region's
                // national prefix from a foreign number (`0)0 39 06…` from GB
                // lost Rome's `0`). Those numbers are read above as the
                // international numbers they dial; one that still gets here
                // cannot be read exactly, and a wrong number is worse than none.
                if international.is_none()
                    && matches!(
                        n.code().source(),
                        country::Source::Idd | country::Source::Plus
                    )
                {
                    return Err(invalid(
                        "dialled through an international prefix in a form that cannot be \
                         read exactly; write it as +<country code> <number>",
                    ));
                }
                numbering::Parsed {
                    code: n.code().value(),
                    national: n.national().to_string(),
                }
            }
        };
        let mut out = String::with_capacity(16);
        if plus {
            out.push('+');
        }
        let _ = write!(out, "{}", parsed.code);
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
        let valid = match numbering::is_valid(&parsed) {
            Some(valid) => valid,
            None => phonenumber::parse(None, format!("+{}{}", parsed.code, parsed.national))
                .is_ok_and(|n| phonenumber::is_valid(&n)),
        };
        Ok((out, (!valid).then_some(WarningCode::PhoneNotValid)))
    }
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

/// `+` and the number's digits, without the punctuation people write between them.
fn without_punctuation(number: &str) -> String {
    number
        .chars()
        .filter(|&c| {
            !(c.is_whitespace()
                || matches!(
                    c,
                    '.' | '/' | '~' | '(' | ')' | '[' | ']' | '\u{ff08}' | '\u{ff09}'
                )
                || c.general_category() == GeneralCategory::DashPunctuation
                || c == '\u{2212}')
        })
        .collect()
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
