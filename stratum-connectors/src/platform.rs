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
