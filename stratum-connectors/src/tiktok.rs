//! TikTok Events API field table (`user` keys, PLATFORMS.md §2).

use crate::platform::{Field, FieldSpec, Rule};

/// TikTok's treatment of each field; gender, birth date and mobile ad id are not
/// sent with events.
pub(crate) fn spec(field: Field) -> Option<FieldSpec> {
    Some(match field {
        Field::Email => FieldSpec::hashed("email", Rule::Email),
        Field::Phone => FieldSpec::hashed("phone", Rule::PhonePlus),
        Field::FirstName => FieldSpec::hashed("first_name", Rule::Name),
        Field::LastName => FieldSpec::hashed("last_name", Rule::Name),
        Field::City => FieldSpec::raw("city", Rule::City),
        Field::State => FieldSpec::raw("state", Rule::State),
        Field::Zip => FieldSpec::hashed("zip_code", Rule::Zip),
        Field::Country => FieldSpec::raw("country", Rule::Country),
        Field::ExternalId => FieldSpec::hashed("external_id", Rule::ExternalId),
        Field::ClientIp => FieldSpec::raw("ip", Rule::Ip),
        Field::UserAgent => FieldSpec::raw("user_agent", Rule::Verbatim),
        Field::ClickId => FieldSpec::raw("ttclid", Rule::Verbatim),
        Field::BrowserId => FieldSpec::raw("ttp", Rule::Verbatim),
        Field::Gender | Field::BirthDate | Field::MobileAdId => return None,
    })
}
