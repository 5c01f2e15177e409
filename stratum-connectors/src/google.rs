//! Google Data Manager field table (`userData` / `adIdentifiers`, PLATFORMS.md §2).

use crate::platform::{Field, FieldSpec, Rule};

/// Google's treatment of each field; city, state, gender, birth date, external id,
/// browser id and mobile ad id are not sent with events.
pub(crate) fn spec(field: Field) -> Option<FieldSpec> {
    Some(match field {
        Field::Email => FieldSpec::hashed("emailAddress", Rule::EmailGoogle),
        Field::Phone => FieldSpec::hashed("phoneNumber", Rule::PhonePlus),
        Field::FirstName => FieldSpec::hashed("givenName", Rule::NameGoogle),
        Field::LastName => FieldSpec::hashed("familyName", Rule::NameGoogle),
        Field::Zip => FieldSpec::raw("postalCode", Rule::ZipGoogle),
        Field::Country => FieldSpec::raw("regionCode", Rule::CountryUpper),
        Field::ClientIp => FieldSpec::raw("ipAddress", Rule::Ip),
        Field::UserAgent => FieldSpec::raw("userAgent", Rule::Verbatim),
        Field::ClickId => FieldSpec::raw("gclid", Rule::Verbatim),
        Field::City
        | Field::State
        | Field::Gender
        | Field::BirthDate
        | Field::ExternalId
        | Field::BrowserId
        | Field::MobileAdId => return None,
    })
}
