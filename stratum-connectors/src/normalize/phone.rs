//! Phone numbers: parsed with libphonenumber metadata (the `phonenumber` crate),
//! formatted as E.164 (PLATFORMS.md §1 "Phones", D3).

use std::borrow::Cow;
use std::fmt::Write as _;
use std::str::FromStr as _;

use phonenumber::country;
use serde::{Deserialize, Serialize};

use super::WarningCode;
use super::numbering;
use crate::error::{Error, Result};

/// How national phone numbers (no `+` or `00`) are read. There is deliberately no
/// default: a wrong guess produces a wrong key (PLATFORMS.md §6 pitfall 2).
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
        PhoneParser::new(self).map(|_| ())
    }
}

/// A parser bound to the configured region.
#[derive(Clone, Debug)]
pub(crate) struct PhoneParser {
    region: Option<country::Id>,
    /// The region's entry in the compiled numbering plan.
    plan: Option<usize>,
}

type Outcome = Result<String, (WarningCode, String)>;

impl PhoneParser {
    pub(crate) fn new(region: &PhoneRegion) -> Result<Self> {
        let region = match region {
            PhoneRegion::RequireInternational => None,
            PhoneRegion::Default(code) => {
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
            },
            Some((id, upper)) => Self {
                region: Some(id),
                plan: numbering::region_index(&upper),
            },
        })
    }

    /// E.164 digits, with a leading `+` when `plus` is set.
    pub(crate) fn normalize(&self, text: &str, plus: bool) -> Outcome {
        let number = strip_extension(text);
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
            None
        };
        if international.is_none() && self.region.is_none() {
            return Err((
                WarningCode::PhoneNoCountryCode,
                "a national number without `+` or `00` under `require_international`".into(),
            ));
        }
        let invalid = |why: &str| (WarningCode::InvalidPhone, why.to_owned());
        // The metadata's own parser, for what the compiled fast path leaves to it.
        let slow = || match &international {
            Some(n) => phonenumber::parse(None, n.as_ref()),
            None => phonenumber::parse(self.region, number),
        };
        let parsed = match numbering::parse(international.as_deref(), number, self.plan) {
            Some(parsed) => parsed,
            None => {
                let n = slow().map_err(|_| invalid("not a phone number"))?;
                numbering::Parsed {
                    code: n.code().value(),
                    national: n.national().to_string(),
                }
            }
        };
        let valid = match numbering::is_valid(&parsed) {
            Some(valid) => valid,
            None => slow().is_ok_and(|n| phonenumber::is_valid(&n)),
        };
        if !valid {
            return Err(invalid(
                "not a valid number for its region in the numbering-plan metadata",
            ));
        }
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
        Ok(out)
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
