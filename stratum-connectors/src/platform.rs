//! Platforms, customer-information fields and the per-platform field table
//! (PLATFORMS.md §2).

use serde::{Deserialize, Serialize};

/// An advertising platform with a conversion API. Each variant exists only when its
/// cargo feature is enabled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Platform {
    /// Meta Conversions API (feature `meta`).
    #[cfg(feature = "meta")]
    Meta,
    /// Google Data Manager API (feature `google`).
    #[cfg(feature = "google")]
    Google,
    /// TikTok Events API (feature `tiktok`).
    #[cfg(feature = "tiktok")]
    #[serde(rename = "tiktok")]
    TikTok,
    /// Snapchat Conversions API (feature `snapchat`).
    #[cfg(feature = "snapchat")]
    Snapchat,
}

impl Platform {
    /// Every platform compiled into this build, in a fixed order.
    pub const ALL: &'static [Platform] = &[
        #[cfg(feature = "meta")]
        Platform::Meta,
        #[cfg(feature = "google")]
        Platform::Google,
        #[cfg(feature = "tiktok")]
        Platform::TikTok,
        #[cfg(feature = "snapchat")]
        Platform::Snapchat,
    ];

    /// The snake_case name used in JSON (`meta`, `google`, `tiktok`, `snapchat`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            #[cfg(feature = "meta")]
            Self::Meta => "meta",
            #[cfg(feature = "google")]
            Self::Google => "google",
            #[cfg(feature = "tiktok")]
            Self::TikTok => "tiktok",
            #[cfg(feature = "snapchat")]
            Self::Snapchat => "snapchat",
        }
    }

    /// How this platform treats `field`, or `None` when the platform does not
    /// accept it (a `—` in PLATFORMS.md §2).
    #[must_use]
    pub fn spec(self, field: Field) -> Option<FieldSpec> {
        match self {
            #[cfg(feature = "meta")]
            Self::Meta => crate::meta::spec(field),
            #[cfg(feature = "google")]
            Self::Google => crate::google::spec(field),
            #[cfg(feature = "tiktok")]
            Self::TikTok => crate::tiktok::spec(field),
            #[cfg(feature = "snapchat")]
            Self::Snapchat => crate::snapchat::spec(field),
        }
    }
}

/// A platform by name, any ASCII case: `meta` (or `facebook`), `google`, `tiktok`,
/// `snapchat` (or `snap`).
///
/// ```
/// use stratum_connectors::Platform;
///
/// assert_eq!("Snap".parse::<Platform>()?, Platform::Snapchat);
/// assert_eq!("facebook".parse::<Platform>()?, Platform::Meta);
/// let err = "myspace".parse::<Platform>().unwrap_err();
/// assert_eq!((err.code(), err.field()), ("unknown_platform", Some("platform")));
/// # Ok::<(), stratum_connectors::Error>(())
/// ```
impl std::str::FromStr for Platform {
    type Err = crate::Error;

    fn from_str(name: &str) -> crate::Result<Self> {
        let key = name.trim().to_ascii_lowercase();
        let (feature, platform): (&str, Option<Platform>) = match key.as_str() {
            "meta" | "facebook" => (
                "meta",
                #[cfg(feature = "meta")]
                Some(Self::Meta),
                #[cfg(not(feature = "meta"))]
                None,
            ),
            "google" => (
                "google",
                #[cfg(feature = "google")]
                Some(Self::Google),
                #[cfg(not(feature = "google"))]
                None,
            ),
            "tiktok" => (
                "tiktok",
                #[cfg(feature = "tiktok")]
                Some(Self::TikTok),
                #[cfg(not(feature = "tiktok"))]
                None,
            ),
            "snapchat" | "snap" => (
                "snapchat",
                #[cfg(feature = "snapchat")]
                Some(Self::Snapchat),
                #[cfg(not(feature = "snapchat"))]
                None,
            ),
            _ => ("", None),
        };
        platform.ok_or_else(|| {
            let known: Vec<&str> = Self::ALL.iter().map(|p| p.as_str()).collect();
            let message = if feature.is_empty() {
                format!("expected one of {}", known.join(", "))
            } else {
                format!(
                    "the `{feature}` feature of stratum-connectors is not enabled in this build \
                     (enabled: {})",
                    known.join(", ")
                )
            };
            crate::Error::UnknownPlatform {
                name: name.to_owned(),
                message,
            }
        })
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A customer-information field, named independently of any platform.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// Email address.
    Email,
    /// Phone number.
    Phone,
    /// First (given) name.
    FirstName,
    /// Last (family) name.
    LastName,
    /// City.
    City,
    /// State, province or region.
    State,
    /// Postal code.
    Zip,
    /// Country.
    Country,
    /// Gender.
    Gender,
    /// Date of birth.
    BirthDate,
    /// The advertiser's own identifier for the person.
    ExternalId,
    /// Client IP address.
    ClientIp,
    /// Client user agent.
    UserAgent,
    /// Click id (`fbc`, gclid/gbraid/wbraid, `ttclid`, `sc_click_id`).
    ClickId,
    /// Browser id (`fbp`, `ttp`, `sc_cookie1`).
    BrowserId,
    /// Mobile advertising id (IDFA / AAID).
    MobileAdId,
}

impl Field {
    /// Every field, in a fixed order.
    pub const ALL: [Field; 16] = [
        Field::Email,
        Field::Phone,
        Field::FirstName,
        Field::LastName,
        Field::City,
        Field::State,
        Field::Zip,
        Field::Country,
        Field::Gender,
        Field::BirthDate,
        Field::ExternalId,
        Field::ClientIp,
        Field::UserAgent,
        Field::ClickId,
        Field::BrowserId,
        Field::MobileAdId,
    ];

    /// The snake_case name used in JSON and in warnings.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Phone => "phone",
            Self::FirstName => "first_name",
            Self::LastName => "last_name",
            Self::City => "city",
            Self::State => "state",
            Self::Zip => "zip",
            Self::Country => "country",
            Self::Gender => "gender",
            Self::BirthDate => "birth_date",
            Self::ExternalId => "external_id",
            Self::ClientIp => "client_ip",
            Self::UserAgent => "user_agent",
            Self::ClickId => "click_id",
            Self::BrowserId => "browser_id",
            Self::MobileAdId => "mobile_ad_id",
        }
    }
}

/// A field by our name (`email`, `first_name`, …) or by a platform's own key for
/// it, any ASCII case: Meta and Snapchat `em`, `ph`, `fn`, `ln`, `ct`, `st`, `zp`,
/// `country`, `db`, `ge`, `external_id`, `client_ip_address`, `client_user_agent`,
/// `fbc`, `fbp`, `madid`, `sc_click_id`, `sc_cookie1` (and Snapchat's earlier
/// `hashed_email`, `hashed_phone_number`, `hashed_ip_address`,
/// `hashed_mobile_ad_id`, `uuid_c1`); Google `emailAddress`, `phoneNumber`,
/// `givenName`, `familyName`, `regionCode`, `postalCode`, `hashedEmail`,
/// `hashedPhoneNumber`, `hashedFirstName`, `hashedLastName`, `countryCode`,
/// `zipCode`, `ipAddress`, `userAgent`, `gclid`, `gbraid`, `wbraid`; TikTok `email`,
/// `phone`, `phone_number`, `first_name`, `last_name`, `zip_code`, `ip`,
/// `user_agent`, `ttclid`, `ttp`.
///
/// ```
/// use stratum_connectors::Field;
///
/// assert_eq!("em".parse::<Field>()?, Field::Email);
/// assert_eq!("hashedPhoneNumber".parse::<Field>()?, Field::Phone);
/// assert_eq!("zp".parse::<Field>()?, Field::Zip);
/// let err = "shoe_size".parse::<Field>().unwrap_err();
/// assert_eq!((err.code(), err.field()), ("unknown_field", Some("field")));
/// # Ok::<(), stratum_connectors::Error>(())
/// ```
impl std::str::FromStr for Field {
    type Err = crate::Error;

    fn from_str(name: &str) -> crate::Result<Self> {
        let key = name.trim().to_ascii_lowercase();
        if let Some(field) = Self::ALL.iter().find(|f| f.as_str() == key) {
            return Ok(*field);
        }
        let field = match key.as_str() {
            "em"
            | "emailaddress"
            | "email_address"
            | "hashedemail"
            | "hashed_email"
            | "hashedemailaddress"
            | "hashed_email_address"
            | "sha256_email_address" => Self::Email,
            "ph"
            | "phonenumber"
            | "phone_number"
            | "hashedphonenumber"
            | "hashed_phone_number"
            | "sha256_phone_number" => Self::Phone,
            "fn" | "givenname" | "given_name" | "hashedfirstname" | "hashed_first_name"
            | "firstname" | "sha256_first_name" => Self::FirstName,
            "ln" | "familyname" | "family_name" | "hashedlastname" | "hashed_last_name"
            | "lastname" | "sha256_last_name" => Self::LastName,
            "ct" => Self::City,
            "st" | "region" => Self::State,
            "zp" | "zip_code" | "zipcode" | "postalcode" | "postal_code" => Self::Zip,
            "regioncode" | "region_code" | "countrycode" | "country_code" => Self::Country,
            "ge" => Self::Gender,
            "db" | "dob" | "date_of_birth" | "dateofbirth" | "birthdate" => Self::BirthDate,
            "externalid" => Self::ExternalId,
            "ip" | "client_ip_address" | "ipaddress" | "ip_address" | "hashed_ip_address" => {
                Self::ClientIp
            }
            "client_user_agent" | "useragent" => Self::UserAgent,
            "fbc" | "gclid" | "gbraid" | "wbraid" | "ttclid" | "sc_click_id" => Self::ClickId,
            "fbp" | "ttp" | "sc_cookie1" | "uuid_c1" => Self::BrowserId,
            "madid" | "hashed_mobile_ad_id" => Self::MobileAdId,
            _ => {
                let expected: Vec<&str> = Self::ALL.iter().map(|f| f.as_str()).collect();
                return Err(crate::Error::UnknownField {
                    name: name.to_owned(),
                    expected: expected.join(", "),
                });
            }
        };
        Ok(field)
    }
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a platform sends a field: its key, whether it is hashed, and the rule that
/// normalises it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldSpec {
    /// The platform's key for the field, e.g. `em`, `emailAddress`.
    pub key: &'static str,
    /// `true` when the platform expects the SHA-256 of the normalised value.
    pub hashed: bool,
    /// The normalisation rule.
    pub rule: Rule,
}

impl FieldSpec {
    pub(crate) const fn hashed(key: &'static str, rule: Rule) -> Self {
        Self {
            key,
            hashed: true,
            rule,
        }
    }

    pub(crate) const fn raw(key: &'static str, rule: Rule) -> Self {
        Self {
            key,
            hashed: false,
            rule,
        }
    }
}

/// A normalisation rule of PLATFORMS.md §2. Applied after NFC and trimming.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Rule {
    /// Lowercase, strip all whitespace, require `local@domain.tld` (D6).
    Email,
    /// [`Rule::Email`], then on `gmail.com`/`googlemail.com` remove `.` and the
    /// `+suffix` from the local part (D22).
    EmailGoogle,
    /// E.164 digits without `+` (Meta, Snapchat).
    PhoneDigits,
    /// E.164 with `+` (Google, TikTok; D7).
    PhonePlus,
    /// Lowercase; remove Unicode punctuation and whitespace; any script (D8, D10).
    Name,
    /// Lowercase; collapse inner whitespace; keep punctuation; drop prefixes and
    /// suffixes (D9).
    NameGoogle,
    /// Lowercase, keep ASCII `a-z0-9` only (D11).
    City,
    /// US/DC/territory/Canadian name or code → 2 letters, else lowercase `a-z0-9`;
    /// never truncated (D13).
    State,
    /// Lowercase, no spaces or `-`; US → 5 digits (D14).
    Zip,
    /// Trim only; US codes must be `NNNNN` or `NNNNN-NNNN` (Google `postalCode`).
    ZipGoogle,
    /// ISO 3166-1 alpha-2, lowercase, from codes, English names and aliases (D13).
    Country,
    /// As [`Rule::Country`], uppercase (Google `regionCode`).
    CountryUpper,
    /// `f` or `m`.
    Gender,
    /// `YYYYMMDD` (D15).
    BirthDate,
    /// Strip whitespace, lowercase (D16); see [`ExternalIdMode`](crate::ExternalIdMode).
    ExternalId,
    /// Canonical textual IP address.
    Ip,
    /// Verbatim (after NFC and trim).
    Verbatim,
    /// Meta `fbc`: `fb.<n>.<ms>.<fbclid>`, case-sensitive.
    Fbc,
    /// Lowercase, hyphens kept (D17).
    MobileAdIdLower,
}
