//! Field and platform names: ours, and every platform's own keys (`FromStr`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use stratum_connectors::{Field, Platform};

#[test]
fn every_platform_key_names_its_field() {
    for platform in Platform::ALL {
        for field in Field::ALL {
            if let Some(spec) = platform.spec(field) {
                assert_eq!(
                    spec.key.parse::<Field>().unwrap(),
                    field,
                    "{platform} `{}`",
                    spec.key
                );
            }
        }
    }
}

#[test]
fn documented_platform_keys_are_aliases() {
    let cases = [
        // Meta user_data
        ("em", Field::Email),
        ("ph", Field::Phone),
        ("fn", Field::FirstName),
        ("ln", Field::LastName),
        ("zp", Field::Zip),
        ("ct", Field::City),
        ("st", Field::State),
        ("db", Field::BirthDate),
        ("ge", Field::Gender),
        ("country", Field::Country),
        ("external_id", Field::ExternalId),
        ("client_ip_address", Field::ClientIp),
        ("client_user_agent", Field::UserAgent),
        ("fbc", Field::ClickId),
        ("fbp", Field::BrowserId),
        ("madid", Field::MobileAdId),
        // Google (Data Manager and Ads API user identifiers)
        ("hashedEmail", Field::Email),
        ("hashedPhoneNumber", Field::Phone),
        ("hashedFirstName", Field::FirstName),
        ("hashedLastName", Field::LastName),
        ("emailAddress", Field::Email),
        ("phoneNumber", Field::Phone),
        ("givenName", Field::FirstName),
        ("familyName", Field::LastName),
        ("regionCode", Field::Country),
        ("countryCode", Field::Country),
        ("postalCode", Field::Zip),
        ("zipCode", Field::Zip),
        ("hashed_email", Field::Email),
        ("hashed_phone_number", Field::Phone),
        ("gclid", Field::ClickId),
        ("gbraid", Field::ClickId),
        ("wbraid", Field::ClickId),
        // TikTok
        ("email", Field::Email),
        ("phone", Field::Phone),
        ("phone_number", Field::Phone),
        ("zip_code", Field::Zip),
        ("ip", Field::ClientIp),
        ("user_agent", Field::UserAgent),
        ("ttclid", Field::ClickId),
        ("ttp", Field::BrowserId),
        // Snapchat
        ("sc_click_id", Field::ClickId),
        ("sc_cookie1", Field::BrowserId),
        ("uuid_c1", Field::BrowserId),
        ("hashed_mobile_ad_id", Field::MobileAdId),
        // Any ASCII case, surrounding spaces
        ("EM", Field::Email),
        (" HashedEmail ", Field::Email),
        ("First_Name", Field::FirstName),
    ];
    for (name, field) in cases {
        assert_eq!(name.parse::<Field>().unwrap(), field, "{name}");
    }
}

#[test]
fn platform_names_and_aliases() {
    for (name, platform) in [
        ("meta", Platform::Meta),
        ("Facebook", Platform::Meta),
        ("google", Platform::Google),
        ("TikTok", Platform::TikTok),
        ("snapchat", Platform::Snapchat),
        ("snap", Platform::Snapchat),
        (" SNAP ", Platform::Snapchat),
    ] {
        assert_eq!(name.parse::<Platform>().unwrap(), platform, "{name}");
    }
    for p in Platform::ALL {
        assert_eq!(p.as_str().parse::<Platform>().unwrap(), *p);
    }
}

#[test]
fn unknown_names_are_their_own_errors_naming_the_argument() {
    let e = "shoe_size".parse::<Field>().unwrap_err();
    assert_eq!(e.code(), "unknown_field");
    assert_eq!(e.field(), Some("field"));
    assert!(e.to_string().contains("\"shoe_size\""), "{e}");
    let e = "myspace".parse::<Platform>().unwrap_err();
    assert_eq!(e.code(), "unknown_platform");
    assert_eq!(e.field(), Some("platform"));
    assert!(e.to_string().contains("snapchat"), "{e}");
    assert_eq!("".parse::<Field>().unwrap_err().code(), "unknown_field");
}

proptest::proptest! {
    #[test]
    fn any_text_is_a_field_or_unknown_field(name in "\\PC{0,24}") {
        match name.parse::<Field>() {
            Ok(f) => proptest::prop_assert_eq!(f.to_string().parse::<Field>().ok(), Some(f)),
            Err(e) => proptest::prop_assert_eq!(e.code(), "unknown_field"),
        }
        if let Err(e) = name.parse::<Platform>() {
            proptest::prop_assert_eq!(e.code(), "unknown_platform");
        }
    }
}
