//! Small validation helpers shared by the config and observation constructors.

use crate::error::{Error, Result};

/// Longest duration any setting accepts (ten years): longer values are mistakes and
/// would overflow date arithmetic.
pub(crate) const MAX_DURATION: chrono::TimeDelta = chrono::TimeDelta::days(3650);

/// Checks a duration setting: positive (or non-negative when `allow_zero`) and at
/// most [`MAX_DURATION`].
pub(crate) fn duration(field: &str, d: chrono::TimeDelta, allow_zero: bool) -> Result<()> {
    let ok = if allow_zero {
        d >= chrono::TimeDelta::zero()
    } else {
        d > chrono::TimeDelta::zero()
    };
    if !ok || d > MAX_DURATION {
        return Err(Error::InvalidConfig {
            field: field.to_owned(),
            message: format!(
                "must be {} and at most {} seconds (ten years), got {}",
                if allow_zero {
                    "zero or more"
                } else {
                    "a positive number of seconds"
                },
                MAX_DURATION.num_seconds(),
                d.num_seconds()
            ),
        });
    }
    Ok(())
}

/// Checks that `value` is a finite number within `min..=max`.
pub(crate) fn finite_in(
    make: fn(String, String) -> Error,
    field: &str,
    value: f64,
    min: f64,
    max: f64,
) -> Result<()> {
    if !value.is_finite() {
        return Err(make(
            field.to_owned(),
            format!("must be a finite number in {min}..={max}, got {value}"),
        ));
    }
    if value < min || value > max {
        return Err(make(
            field.to_owned(),
            format!("must be in {min}..={max}, got {value}"),
        ));
    }
    Ok(())
}

pub(crate) fn config_err(field: String, message: String) -> Error {
    Error::InvalidConfig { field, message }
}

pub(crate) fn observation_err(field: String, message: String) -> Error {
    Error::InvalidObservation { field, message }
}
