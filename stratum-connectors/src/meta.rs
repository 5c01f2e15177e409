//! Meta Conversions API: the `user_data` field table (PLATFORMS.md §2) and `fbc`
//! construction.

use crate::platform::{Field, FieldSpec, Rule};

/// Meta's treatment of each field.
pub(crate) fn spec(field: Field) -> Option<FieldSpec> {
    Some(match field {
        Field::Email => FieldSpec::hashed("em", Rule::Email),
        Field::Phone => FieldSpec::hashed("ph", Rule::PhoneDigits),
        Field::FirstName => FieldSpec::hashed("fn", Rule::Name),
        Field::LastName => FieldSpec::hashed("ln", Rule::Name),
        Field::City => FieldSpec::hashed("ct", Rule::City),
        Field::State => FieldSpec::hashed("st", Rule::State),
        Field::Zip => FieldSpec::hashed("zp", Rule::Zip),
        Field::Country => FieldSpec::hashed("country", Rule::Country),
        Field::Gender => FieldSpec::hashed("ge", Rule::Gender),
        Field::BirthDate => FieldSpec::hashed("db", Rule::BirthDate),
        Field::ExternalId => FieldSpec::hashed("external_id", Rule::ExternalId),
        Field::ClientIp => FieldSpec::raw("client_ip_address", Rule::Ip),
        Field::UserAgent => FieldSpec::raw("client_user_agent", Rule::Verbatim),
        Field::ClickId => FieldSpec::raw("fbc", Rule::Fbc),
        Field::BrowserId => FieldSpec::raw("fbp", Rule::Verbatim),
        Field::MobileAdId => FieldSpec::raw("madid", Rule::Verbatim),
    })
}

/// Builds Meta's `fbc` from a bare `fbclid` and the time the click id was first seen
/// (`fb.1.<first-seen ms>.<fbclid>`); the `fbclid` is kept byte for byte.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// let seen = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
/// assert_eq!(
///     stratum_connectors::meta::fbc_from_fbclid("IwAR2xYz", seen),
///     "fb.1.1772366400000.IwAR2xYz"
/// );
/// ```
#[must_use]
pub fn fbc_from_fbclid(fbclid: &str, first_seen: chrono::DateTime<chrono::Utc>) -> String {
    format!("fb.1.{}.{}", first_seen.timestamp_millis(), fbclid.trim())
}
