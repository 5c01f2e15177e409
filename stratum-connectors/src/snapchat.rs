//! Snapchat Conversions API v3 field table (`user_data` keys, PLATFORMS.md §2).

use crate::platform::{Field, FieldSpec, Rule};

/// Snapchat's treatment of each field (Meta's formats, D10, D12, D17).
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
        Field::ClickId => FieldSpec::raw("sc_click_id", Rule::Verbatim),
        Field::BrowserId => FieldSpec::raw("sc_cookie1", Rule::Verbatim),
        Field::MobileAdId => FieldSpec::raw("madid", Rule::MobileAdIdLower),
    })
}
