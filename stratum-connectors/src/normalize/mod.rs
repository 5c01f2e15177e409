//! Normalisation and SHA-256 hashing of customer information (PLATFORMS.md §1–§2).
//!
//! Pipeline for every field: classify ([`FieldValue::Raw`] / [`FieldValue::Hashed`],
//! else auto-detect) → Unicode NFC → trim → the platform's [`Rule`] → validate →
//! SHA-256 of the UTF-8 bytes → lowercase hex (Google can use base64 instead).
//!
//! Invalid customer data never fails an event: [`Normalizer::normalize`] returns a
//! [`FieldWarning`] and the caller drops that one field (D2).

mod countries;
mod numbering;
#[rustfmt::skip]
mod numbering_data;
mod pattern;
#[cfg(feature = "fuzzing")]
pub(crate) use phone::fuzzing as numbering_fuzzing;
mod phone;
mod rules;
mod states;

use std::borrow::Cow;

use base64::Engine as _;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

use crate::error::{Error, Result};
use crate::platform::{Field, Platform, Rule};

pub use phone::PhoneRegion;

/// A customer-information value as the caller has it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldValue {
    /// Plain text; always normalised and (for hashed keys) hashed, even if it looks
    /// like a digest.
    Raw(String),
    /// A value the caller hashed already; passed through, never hashed again.
    Hashed(Hashed),
    /// Unknown: a 64-hex-digit value (or, on Meta, `<64 hex>.<appendix>`) is treated
    /// as hashed, anything else as raw.
    Auto(String),
    /// A typed date (birth date only; any other field gets a warning).
    Date(NaiveDate),
}

impl FieldValue {
    /// A value of unknown kind, auto-detected.
    #[must_use]
    pub fn auto(value: impl Into<String>) -> Self {
        Self::Auto(value.into())
    }

    /// A raw value.
    #[must_use]
    pub fn raw(value: impl Into<String>) -> Self {
        Self::Raw(value.into())
    }
}

/// A SHA-256 digest the caller computed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Hashed {
    /// 64 hex digits (any case); on Meta optionally followed by Meta's appendix
    /// `.<2–8 of [A-Za-z0-9_-]>`.
    Hex(String),
    /// The 32 digest bytes in standard base64 (padded or not).
    Base64(String),
}

/// How `external_id` is normalised (D16).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExternalIdMode {
    /// Strip all whitespace, lowercase, hash (Meta's library, TikTok, Segment).
    #[default]
    Lowercase,
    /// Trim only, then hash: matches a Pixel that hashes the id as is.
    Exact,
    /// Meta only: send the trimmed id unhashed, as legacy Pixels do. Other
    /// platforms require hashing and use [`ExternalIdMode::Exact`].
    Unhashed,
}

/// How Google keys are encoded (Data Manager `encoding`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HashEncoding {
    /// Lowercase hex (the default everywhere).
    #[default]
    Hex,
    /// Standard base64 of the 32 digest bytes (Google `BASE64`).
    Base64,
}

/// Why one field was dropped. The event is still sent without it (D2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldWarning {
    /// The field that was dropped.
    pub field: Field,
    /// Why, as a stable code.
    pub code: WarningCode,
    /// A short explanation naming the rule that failed.
    pub message: String,
}

impl std::fmt::Display for FieldWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} dropped ({}): {}",
            self.field,
            self.code.as_str(),
            self.message
        )
    }
}

/// The stable reason codes of [`FieldWarning`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum WarningCode {
    /// The value is empty after normalisation.
    Empty,
    /// The platform does not accept this field.
    UnsupportedField,
    /// Not `local@domain.tld`.
    InvalidEmail,
    /// Not a phone number, not a possible length for its country calling code, or
    /// over 15 digits.
    InvalidPhone,
    /// Letters in a phone number (vanity numbers are not converted, D3).
    PhoneLetters,
    /// A national phone number under [`PhoneRegion::RequireInternational`].
    PhoneNoCountryCode,
    /// A US or Canadian state not in the table.
    InvalidState,
    /// A postal code that does not fit the country's format.
    InvalidZip,
    /// A country not in the table.
    InvalidCountry,
    /// A gender outside `f`/`female`/`woman`/`m`/`male`/`man`.
    InvalidGender,
    /// A date that is not in an accepted format or does not exist.
    InvalidBirthDate,
    /// A day/month order that cannot be told apart (D15).
    AmbiguousBirthDate,
    /// A date before 1900-01-01 or after today.
    BirthDateOutOfRange,
    /// An IP address that does not parse.
    InvalidIp,
    /// A click id that is not in the platform's format, or a bare `fbclid`.
    InvalidClickId,
    /// A value that claims to be a hash but is not a SHA-256 digest.
    InvalidHash,
    /// A hash in Meta's appendix format sent to another platform (D4).
    ForeignHashFormat,
    /// A hash given for a field the platform takes unhashed.
    HashInRawField,
    /// Google `address` needs given name, family name, region code and postal code
    /// together; a partial address is not sent.
    IncompleteAddress,
    /// A national phone number (no `+` or `00`) while no `phone_region` is
    /// configured to read it.
    PhoneRegionRequired,
    /// Not a drop: a note on a kept phone number ([`Normalized::note`]) that is
    /// possible for its region but not valid in the numbering-plan metadata (a
    /// fictional range such as 555, a range allocated after the metadata was cut,
    /// an exchange the metadata rejects).
    PhoneNotValid,
}

impl WarningCode {
    /// The stable snake_case code.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::UnsupportedField => "unsupported_field",
            Self::InvalidEmail => "invalid_email",
            Self::InvalidPhone => "invalid_phone",
            Self::PhoneLetters => "phone_letters",
            Self::PhoneNoCountryCode => "phone_no_country_code",
            Self::InvalidState => "invalid_state",
            Self::InvalidZip => "invalid_zip",
            Self::InvalidCountry => "invalid_country",
            Self::InvalidGender => "invalid_gender",
            Self::InvalidBirthDate => "invalid_birth_date",
            Self::AmbiguousBirthDate => "ambiguous_birth_date",
            Self::BirthDateOutOfRange => "birth_date_out_of_range",
            Self::InvalidIp => "invalid_ip",
            Self::InvalidClickId => "invalid_click_id",
            Self::InvalidHash => "invalid_hash",
            Self::ForeignHashFormat => "foreign_hash_format",
            Self::HashInRawField => "hash_in_raw_field",
            Self::IncompleteAddress => "incomplete_address",
            Self::PhoneRegionRequired => "phone_region_required",
            Self::PhoneNotValid => "phone_not_valid",
        }
    }
}

/// Where the value of a [`Normalized`] key came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Normalised and hashed here.
    Hashed,
    /// The caller's digest, passed through (its normalisation cannot be verified).
    PreHashed,
    /// Normalised and sent unhashed, as the platform wants.
    Raw,
}

/// One field, ready to send.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Normalized {
    /// The field.
    pub field: Field,
    /// The platform's key, e.g. `em`.
    pub key: &'static str,
    /// The value to send: the digest (hex, or base64 for Google `BASE64`), or the
    /// normalised raw value.
    pub value: String,
    /// The normalised text that was hashed, when it was hashed here.
    pub normalized: Option<String>,
    /// Where the value came from.
    pub origin: Origin,
    /// A doubt about a value that is still sent, e.g. [`WarningCode::PhoneNotValid`];
    /// `None` for most values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<WarningCode>,
}

/// Per-event facts some rules need: the event's country decides whether a state or
/// zip is checked against US/Canadian formats; the day of the call bounds birth
/// dates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Context<'a> {
    /// The event's country as ISO 3166-1 alpha-2 (either case), if known.
    pub country: Option<&'a str>,
    /// The day the call is judged at (the payload builders pass their `now`): birth
    /// dates after it are dropped. [`NormalizerConfig::today`], when set, takes
    /// precedence. With neither, only the 1900-01-01 lower bound is checked: the
    /// normaliser never reads the system clock.
    pub today: Option<NaiveDate>,
}

/// Validated settings of a [`Normalizer`]; deserialises through the same checks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NormalizerConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    phone_region: Option<PhoneRegion>,
    #[serde(default)]
    external_id_mode: ExternalIdMode,
    #[serde(default)]
    google_encoding: HashEncoding,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    today: Option<NaiveDate>,
}

stratum_core::validated_deserialize!(NormalizerConfig, RawNormalizerConfig);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNormalizerConfig {
    phone_region: Option<PhoneRegion>,
    #[serde(default)]
    external_id_mode: ExternalIdMode,
    #[serde(default)]
    google_encoding: HashEncoding,
    #[serde(default)]
    today: Option<NaiveDate>,
}

impl TryFrom<RawNormalizerConfig> for NormalizerConfig {
    type Error = Error;

    fn try_from(raw: RawNormalizerConfig) -> Result<Self> {
        let mut b = NormalizerConfig::builder()
            .external_id_mode(raw.external_id_mode)
            .google_encoding(raw.google_encoding);
        if let Some(r) = raw.phone_region {
            b = b.phone_region(r);
        }
        if let Some(t) = raw.today {
            b = b.today(t);
        }
        b.build()
    }
}

impl NormalizerConfig {
    /// A builder. Set [`NormalizerConfigBuilder::phone_region`] to read national
    /// phone numbers; without it only international ones (`+`, `00`) are read.
    pub fn builder() -> NormalizerConfigBuilder {
        NormalizerConfigBuilder::default()
    }

    /// The region used for national phone numbers, if one is configured.
    #[must_use]
    pub fn phone_region(&self) -> Option<&PhoneRegion> {
        self.phone_region.as_ref()
    }

    /// The external id mode.
    #[must_use]
    pub fn external_id_mode(&self) -> ExternalIdMode {
        self.external_id_mode
    }

    /// The encoding of Google digests.
    #[must_use]
    pub fn google_encoding(&self) -> HashEncoding {
        self.google_encoding
    }

    /// The fixed "today" for birth-date checks, if set (otherwise the day each call
    /// gives in its [`Context`]).
    #[must_use]
    pub fn today(&self) -> Option<NaiveDate> {
        self.today
    }
}

/// Builder of [`NormalizerConfig`].
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct NormalizerConfigBuilder {
    phone_region: Option<PhoneRegion>,
    external_id_mode: ExternalIdMode,
    google_encoding: HashEncoding,
    today: Option<NaiveDate>,
}

impl NormalizerConfigBuilder {
    /// Region for national phone numbers (no default; without it a national
    /// number is dropped with [`WarningCode::PhoneRegionRequired`]).
    pub fn phone_region(mut self, region: PhoneRegion) -> Self {
        self.phone_region = Some(region);
        self
    }

    /// External id mode (default [`ExternalIdMode::Lowercase`]).
    pub fn external_id_mode(mut self, mode: ExternalIdMode) -> Self {
        self.external_id_mode = mode;
        self
    }

    /// Encoding of Google digests (default [`HashEncoding::Hex`]).
    pub fn google_encoding(mut self, encoding: HashEncoding) -> Self {
        self.google_encoding = encoding;
        self
    }

    /// Fix "today" for the birth-date range check (tests, replays).
    pub fn today(mut self, today: NaiveDate) -> Self {
        self.today = Some(today);
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] when the phone region is not an ISO 3166-1 alpha-2
    /// code known to the numbering-plan metadata, or `today` is before 1900-01-01.
    pub fn build(self) -> Result<NormalizerConfig> {
        if let Some(region) = &self.phone_region {
            region.validate()?;
        }
        let phone_region = self.phone_region;
        if let Some(t) = self.today
            && t < rules::MIN_BIRTH_DATE
        {
            return Err(Error::config(
                "today",
                format!("is {t}; it must be 1900-01-01 or later"),
            ));
        }
        Ok(NormalizerConfig {
            phone_region,
            external_id_mode: self.external_id_mode,
            google_encoding: self.google_encoding,
            today: self.today,
        })
    }
}

/// Normalises and hashes customer information for every platform.
#[derive(Clone, Debug)]
pub struct Normalizer {
    config: NormalizerConfig,
    phone: phone::PhoneParser,
}

impl Normalizer {
    /// A normaliser with the given settings.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] when the phone region is unknown to the
    /// numbering-plan metadata.
    pub fn new(config: NormalizerConfig) -> Result<Self> {
        let phone = phone::PhoneParser::new(config.phone_region.as_ref())?;
        Ok(Self { config, phone })
    }

    /// The settings.
    #[must_use]
    pub fn config(&self) -> &NormalizerConfig {
        &self.config
    }

    /// Normalises many values of one field for one platform, splitting the work
    /// across up to `threads` threads (`0` or `1`: this thread only). Results are
    /// in input order and identical to calling [`Normalizer::normalize`] on each
    /// value; hashing dominates, so the speed-up is close to the thread count on
    /// large batches.
    ///
    /// ```
    /// use stratum_connectors::*;
    ///
    /// let n = Normalizer::new(
    ///     NormalizerConfig::builder().phone_region(PhoneRegion::Default("US".into())).build()?,
    /// )?;
    /// let values: Vec<FieldValue> = (0..10_000)
    ///     .map(|i| FieldValue::raw(format!(" User{i}@Example.com ")))
    ///     .chain([FieldValue::raw("not an email")])
    ///     .collect();
    /// let out = n.normalize_batch(Platform::Meta, Field::Email, &values, 2);
    /// assert_eq!(out[7].as_ref().map(|k| k.value.clone()).ok(), Some(sha256_hex("user7@example.com")));
    /// assert_eq!(out[10_000].as_ref().unwrap_err().code, WarningCode::InvalidEmail);
    /// # Ok::<(), Error>(())
    /// ```
    #[must_use]
    pub fn normalize_batch(
        &self,
        platform: Platform,
        field: Field,
        values: &[FieldValue],
        threads: usize,
    ) -> Vec<Result<Normalized, FieldWarning>> {
        self.normalize_chunked(values, threads, |n, chunk| {
            chunk
                .iter()
                .map(|v| n.normalize(platform, field, v))
                .collect::<Vec<_>>()
        })
        .into_iter()
        .flatten()
        .collect()
    }

    /// Runs `work` over contiguous chunks of `items` on up to `threads` threads
    /// (one chunk per thread, at least 4,096 items each) and returns the chunks'
    /// results in input order: the building block of
    /// [`Normalizer::normalize_batch`] for callers that write results straight
    /// into their own buffers (e.g. Arrow builders), one per chunk.
    ///
    /// ```
    /// use stratum_connectors::{Field, Normalizer, NormalizerConfig, PhoneRegion, Platform};
    ///
    /// let config = NormalizerConfig::builder().phone_region(PhoneRegion::Default("US".into()));
    /// let n = Normalizer::new(config.build()?)?;
    /// let emails: Vec<String> = (0..10_000).map(|i| format!("user{i}@example.com")).collect();
    /// let counts = n.normalize_chunked(&emails, 2, |n, chunk| {
    ///     chunk
    ///         .iter()
    ///         .filter(|e| n.normalize_str(Platform::Meta, Field::Email, e, true).is_ok())
    ///         .count()
    /// });
    /// assert_eq!(counts.iter().sum::<usize>(), 10_000);
    /// # Ok::<(), stratum_connectors::Error>(())
    /// ```
    pub fn normalize_chunked<T, R>(
        &self,
        items: &[T],
        threads: usize,
        work: impl Fn(&Self, &[T]) -> R + Sync,
    ) -> Vec<R>
    where
        T: Sync,
        R: Send,
    {
        run_parts(items, &mut [] as &mut [()], 0, threads, |chunk, _| {
            work(self, chunk)
        })
    }

    /// The width of every kept value when `platform` takes `field` hashed: 64
    /// (lowercase hex) or 44 (base64, Google when so configured); `None` when it
    /// takes the field unhashed.
    #[must_use]
    pub fn hashed_width(&self, platform: Platform, field: Field) -> Option<usize> {
        let spec = platform.spec(field)?;
        if !self.hashed(field, spec, is_meta(platform)) {
            return None;
        }
        Some(
            if is_google(platform) && self.config.google_encoding == HashEncoding::Base64 {
                44
            } else {
                64
            },
        )
    }

    /// Hashes a column into fixed-width slots, on up to `threads` threads: in the
    /// values of [`HashedColumn::into_parts`], row `i` is bytes
    /// `i * width .. (i + 1) * width`, zeros where the row was `None` or dropped. Each thread writes its rows' slots in
    /// place, so the column is assembled without a copy (the Python package's
    /// Arrow path builds its result on this buffer).
    ///
    /// `None` when `platform` takes `field` unhashed ([`Normalizer::hashed_width`])
    /// or when a kept value does not fit the width (a Meta hash passed through with
    /// its appendix): use [`Normalizer::normalize_chunked`] then.
    ///
    /// ```
    /// use stratum_connectors::{Field, Normalizer, NormalizerConfig, PhoneRegion, Platform};
    /// use stratum_connectors::{WarningCode, sha256_hex};
    ///
    /// let config = NormalizerConfig::builder().phone_region(PhoneRegion::Default("US".into()));
    /// let n = Normalizer::new(config.build()?)?;
    /// let rows = [Some(" Ann@Example.com"), None, Some("not an email")];
    /// let c = n.hash_column(Platform::Meta, Field::Email, &rows, true, 2).unwrap();
    /// assert_eq!(c.get(0), Some(sha256_hex("ann@example.com").as_str()));
    /// assert_eq!((c.get(1), c.warnings()[1]), (None, None));
    /// assert_eq!((c.get(2), c.warnings()[2]), (None, Some(WarningCode::InvalidEmail)));
    /// # Ok::<(), stratum_connectors::Error>(())
    /// ```
    #[must_use]
    pub fn hash_column(
        &self,
        platform: Platform,
        field: Field,
        rows: &[Option<&str>],
        detect_hashed: bool,
        threads: usize,
    ) -> Option<HashedColumn> {
        let mut column = HashedColumn::new(self.hashed_width(platform, field)?, rows.len());
        self.hash_column_into(platform, field, rows, detect_hashed, threads, &mut column)
            .then_some(column)
    }

    /// [`Normalizer::hash_column`] appending to `column` (made with
    /// [`HashedColumn::new`] and this platform's [`Normalizer::hashed_width`]), so
    /// that a long column can be hashed block by block into one buffer. `false`
    /// (with `column` partly appended) when the width is not the platform's for
    /// this field or a kept value does not fit it.
    pub fn hash_column_into(
        &self,
        platform: Platform,
        field: Field,
        rows: &[Option<&str>],
        detect_hashed: bool,
        threads: usize,
        column: &mut HashedColumn,
    ) -> bool {
        let width = column.width;
        if self.hashed_width(platform, field) != Some(width) {
            return false;
        }
        let start = column.kept.len() * width;
        let Some(end) = rows
            .len()
            .checked_mul(width)
            .and_then(|n| n.checked_add(start))
        else {
            return false;
        };
        if column.values.len() < end {
            column.values.resize(end, 0);
        }
        let Some(out) = column.values.get_mut(start..end) else {
            return false;
        };
        let parts = run_parts(rows, out, width, threads, |rows, out| {
            let mut kept = Vec::with_capacity(rows.len());
            let mut warnings = Vec::with_capacity(rows.len());
            for (row, slot) in rows.iter().zip(out.chunks_exact_mut(width)) {
                let (k, w) =
                    match row.map(|t| self.normalize_str(platform, field, t, detect_hashed)) {
                        Some(Ok(n)) if n.value.len() == width => {
                            slot.copy_from_slice(n.value.as_bytes());
                            (true, None)
                        }
                        Some(Ok(_)) => return None,
                        Some(Err(w)) => (false, Some(w.code)),
                        None => (false, None),
                    };
                kept.push(k);
                warnings.push(w);
            }
            Some((kept, warnings))
        });
        for part in parts {
            let Some((kept, warnings)) = part else {
                return false;
            };
            column.kept.extend(kept);
            column.warnings.extend(warnings);
        }
        true
    }

    /// Normalises one field for one platform without event context.
    ///
    /// # Errors
    ///
    /// A [`FieldWarning`] when the field must be dropped; see [`WarningCode`].
    pub fn normalize(
        &self,
        platform: Platform,
        field: Field,
        value: &FieldValue,
    ) -> Result<Normalized, FieldWarning> {
        self.normalize_in(platform, field, value, Context::default())
    }

    /// [`Normalizer::normalize`] for a string slice, without building a
    /// [`FieldValue`]: with `detect_hashed` the text is read as
    /// [`FieldValue::Auto`] (a SHA-256 hex digest passes through), otherwise as
    /// [`FieldValue::Raw`].
    ///
    /// ```
    /// use stratum_connectors::{
    ///     Field, FieldValue, Normalizer, NormalizerConfig, PhoneRegion, Platform,
    /// };
    ///
    /// let config = NormalizerConfig::builder().phone_region(PhoneRegion::Default("US".into()));
    /// let n = Normalizer::new(config.build()?)?;
    /// let a = n.normalize_str(Platform::Meta, Field::Email, " Ann@Example.com ", true);
    /// let b = n.normalize(Platform::Meta, Field::Email, &FieldValue::auto(" Ann@Example.com "));
    /// assert_eq!(a, b);
    /// # Ok::<(), stratum_connectors::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Normalizer::normalize`].
    pub fn normalize_str(
        &self,
        platform: Platform,
        field: Field,
        text: &str,
        detect_hashed: bool,
    ) -> Result<Normalized, FieldWarning> {
        let spec = spec_of(platform, field)?;
        self.normalize_spec_str(
            platform,
            field,
            spec,
            text,
            detect_hashed,
            Context::default(),
        )
    }

    /// Normalises one field for one platform, with per-event context.
    ///
    /// # Errors
    ///
    /// A [`FieldWarning`] when the field must be dropped; see [`WarningCode`].
    pub fn normalize_in(
        &self,
        platform: Platform,
        field: Field,
        value: &FieldValue,
        ctx: Context<'_>,
    ) -> Result<Normalized, FieldWarning> {
        let spec = spec_of(platform, field)?;
        self.normalize_spec(platform, field, spec, value, ctx)
    }

    /// [`Normalizer::normalize_in`] with an explicit treatment, for keys a platform
    /// takes outside its event table (e.g. hashed mobile ad ids in audiences).
    #[cfg_attr(not(feature = "tiktok"), allow(dead_code))]
    pub(crate) fn normalize_spec(
        &self,
        platform: Platform,
        field: Field,
        spec: crate::platform::FieldSpec,
        value: &FieldValue,
        ctx: Context<'_>,
    ) -> Result<Normalized, FieldWarning> {
        let warn = |code: WarningCode, message: String| FieldWarning {
            field,
            code,
            message,
        };
        let hashed = self.hashed(field, spec, is_meta(platform));
        let (text, detect_hashed): (&str, bool) = match value {
            FieldValue::Hashed(h) => {
                return self.pass_through(platform, field, spec.key, hashed, h);
            }
            FieldValue::Date(d) => {
                if spec.rule != Rule::BirthDate {
                    return Err(warn(
                        WarningCode::UnsupportedField,
                        format!("a typed date was given for {field}"),
                    ));
                }
                let s =
                    rules::birth_date_typed(*d, self.today(ctx)).map_err(|(c, m)| warn(c, m))?;
                return Ok(self.finish(platform, field, spec.key, hashed, s));
            }
            FieldValue::Auto(s) => (s, true),
            FieldValue::Raw(s) => (s, false),
        };
        self.normalize_spec_str(platform, field, spec, text, detect_hashed, ctx)
    }

    /// The text branch of [`Normalizer::normalize_spec`]: `detect_hashed` is
    /// [`FieldValue::Auto`], otherwise [`FieldValue::Raw`].
    fn normalize_spec_str(
        &self,
        platform: Platform,
        field: Field,
        spec: crate::platform::FieldSpec,
        text: &str,
        detect_hashed: bool,
        ctx: Context<'_>,
    ) -> Result<Normalized, FieldWarning> {
        let meta = is_meta(platform);
        let hashed = self.hashed(field, spec, meta);
        let t = nfc_trim(text);
        if detect_hashed && let Some(kind) = detect_hash(&t) {
            if kind == HashKind::MetaAppendix && !meta {
                return Err(FieldWarning {
                    field,
                    code: WarningCode::ForeignHashFormat,
                    message: "a hash with Meta's appendix was hashed under Meta's rules; \
                              it is dropped elsewhere (D4)"
                        .into(),
                });
            }
            return self.pass_through(
                platform,
                field,
                spec.key,
                hashed,
                &Hashed::Hex(t.into_owned()),
            );
        }
        self.normalize_text(platform, field, spec.rule, spec.key, hashed, &t, ctx)
    }

    /// Whether the platform takes this field hashed (unhashed external ids are a
    /// setting).
    fn hashed(&self, field: Field, spec: crate::platform::FieldSpec, meta: bool) -> bool {
        if field == Field::ExternalId && self.config.external_id_mode == ExternalIdMode::Unhashed {
            !meta
        } else {
            spec.hashed
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn normalize_text(
        &self,
        platform: Platform,
        field: Field,
        rule: Rule,
        key: &'static str,
        hashed: bool,
        text: &str,
        ctx: Context<'_>,
    ) -> Result<Normalized, FieldWarning> {
        let warn = |(code, message): (WarningCode, String)| FieldWarning {
            field,
            code,
            message,
        };
        let mut note = None;
        let mut phone = |plus: bool| {
            self.phone.normalize(text, plus).map(|(number, n)| {
                note = n;
                number
            })
        };
        let normalized = match rule {
            Rule::Email => rules::email(text, false),
            Rule::EmailGoogle => rules::email(text, true),
            Rule::PhoneDigits => phone(false),
            Rule::PhonePlus => phone(true),
            Rule::Name => rules::name(text),
            Rule::NameGoogle => rules::name_google(text),
            Rule::City => rules::city(text),
            Rule::State => rules::state(text, ctx.country),
            Rule::Zip => rules::zip(text, ctx.country),
            Rule::ZipGoogle => rules::zip_google(text, ctx.country),
            Rule::Country => rules::country(text, false),
            Rule::CountryUpper => rules::country(text, true),
            Rule::Gender => rules::gender(text),
            Rule::BirthDate => rules::birth_date(text, self.today(ctx)),
            Rule::ExternalId => {
                if self.config.external_id_mode == ExternalIdMode::Lowercase {
                    rules::external_id(text)
                } else {
                    rules::non_empty(text.to_owned())
                }
            }
            Rule::Ip => rules::ip(text),
            Rule::Verbatim => rules::non_empty(text.to_owned()),
            Rule::Fbc => rules::fbc(text),
            Rule::MobileAdIdLower => rules::non_empty(text.to_lowercase()),
        }
        .map_err(warn)?;
        // A rule can leave text that is no longer NFC (removing punctuation between a
        // letter and a combining mark); composing again keeps normalisation idempotent.
        let normalized = if normalized.is_ascii() {
            normalized
        } else {
            match nfc_trim(&normalized) {
                Cow::Borrowed(b) if b.len() == normalized.len() => normalized,
                other => other.into_owned(),
            }
        };
        let mut out = self.finish(platform, field, key, hashed, normalized);
        out.note = note;
        Ok(out)
    }

    fn finish(
        &self,
        platform: Platform,
        field: Field,
        key: &'static str,
        hashed: bool,
        normalized: String,
    ) -> Normalized {
        if !hashed {
            return Normalized {
                field,
                key,
                value: normalized,
                normalized: None,
                origin: Origin::Raw,
                note: None,
            };
        }
        let digest = stratum_core::digest::Digest::of_bytes(normalized.as_bytes());
        let value = self.encode(platform, &digest.0);
        Normalized {
            field,
            key,
            value,
            normalized: Some(normalized),
            origin: Origin::Hashed,
            note: None,
        }
    }

    fn encode(&self, platform: Platform, digest: &[u8; 32]) -> String {
        if is_google(platform) && self.config.google_encoding == HashEncoding::Base64 {
            base64::engine::general_purpose::STANDARD.encode(digest)
        } else {
            hex(digest)
        }
    }

    fn pass_through(
        &self,
        platform: Platform,
        field: Field,
        key: &'static str,
        hashed: bool,
        h: &Hashed,
    ) -> Result<Normalized, FieldWarning> {
        let warn = |code: WarningCode, message: String| FieldWarning {
            field,
            code,
            message,
        };
        if !hashed {
            return Err(warn(
                WarningCode::HashInRawField,
                format!("{platform} takes {field} unhashed; a digest cannot be sent as `{key}`"),
            ));
        }
        let (digest, appendix) = match h {
            Hashed::Hex(s) => {
                let t = nfc_trim(s);
                match detect_hash(&t) {
                    Some(HashKind::Hex) => (parse_hex(&t[..64]), None),
                    Some(HashKind::MetaAppendix) if is_meta(platform) => {
                        (parse_hex(&t[..64]), Some(t[64..].to_owned()))
                    }
                    Some(HashKind::MetaAppendix) => {
                        return Err(warn(
                            WarningCode::ForeignHashFormat,
                            "a hash with Meta's appendix was hashed under Meta's rules; \
                             it is dropped elsewhere (D4)"
                                .into(),
                        ));
                    }
                    None => {
                        return Err(warn(
                            WarningCode::InvalidHash,
                            format!(
                                "{} characters given; a SHA-256 hex digest is 64 hex digits \
                                 (32-hex MD5 values are not accepted, D5)",
                                t.chars().count()
                            ),
                        ));
                    }
                }
            }
            Hashed::Base64(s) => {
                let t = s.trim();
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(t)
                    .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(t))
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b).ok());
                match decoded {
                    Some(d) => (d, None),
                    None => {
                        return Err(warn(
                            WarningCode::InvalidHash,
                            "not the base64 of 32 digest bytes".into(),
                        ));
                    }
                }
            }
        };
        let mut value = self.encode(platform, &digest);
        if let Some(a) = appendix {
            value.push_str(&a);
        }
        Ok(Normalized {
            field,
            key,
            value,
            normalized: None,
            origin: Origin::PreHashed,
            note: None,
        })
    }

    /// The upper bound of birth dates: the configured day, else the call's, else none
    /// (the latest date there is).
    fn today(&self, ctx: Context<'_>) -> NaiveDate {
        self.config.today.or(ctx.today).unwrap_or(NaiveDate::MAX)
    }
}

#[allow(unused_variables)]
fn is_meta(platform: Platform) -> bool {
    #[cfg(feature = "meta")]
    {
        platform == Platform::Meta
    }
    #[cfg(not(feature = "meta"))]
    {
        false
    }
}

#[allow(unused_variables)]
fn is_google(platform: Platform) -> bool {
    #[cfg(feature = "google")]
    {
        platform == Platform::Google
    }
    #[cfg(not(feature = "google"))]
    {
        false
    }
}

/// NFC (skipped for text already in NFC, e.g. all ASCII) then trim.
pub(crate) fn nfc_trim(s: &str) -> Cow<'_, str> {
    if s.is_ascii() || is_nfc_quick(s.chars()) == IsNormalized::Yes {
        Cow::Borrowed(trim(s))
    } else {
        let n: String = s.nfc().collect();
        Cow::Owned(n.trim().to_owned())
    }
}

/// A column hashed into fixed-width slots ([`Normalizer::hash_column`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HashedColumn {
    width: usize,
    /// Zeroed ahead for the rows announced (the pages are only touched, in
    /// parallel, by the threads that fill them).
    values: Vec<u8>,
    kept: Vec<bool>,
    warnings: Vec<Option<WarningCode>>,
}

impl HashedColumn {
    /// An empty column of `width`-byte slots with room for `rows` rows.
    #[must_use]
    pub fn new(width: usize, rows: usize) -> Self {
        Self {
            width,
            values: vec![0; rows.saturating_mul(width)],
            kept: Vec::with_capacity(rows),
            warnings: Vec::with_capacity(rows),
        }
    }

    /// Bytes per row: 64 (hex) or 44 (base64).
    #[must_use]
    pub fn width(&self) -> usize {
        self.width
    }

    /// Row `i`'s digest, if it has one.
    #[must_use]
    pub fn get(&self, i: usize) -> Option<&str> {
        if !self.kept.get(i).copied().unwrap_or(false) {
            return None;
        }
        let bytes = self.values.get(i * self.width..(i + 1) * self.width)?;
        std::str::from_utf8(bytes).ok()
    }

    /// Whether row `i` has a digest.
    #[must_use]
    pub fn kept(&self) -> &[bool] {
        &self.kept
    }

    /// Why each row was dropped (`None` when kept or when the row was `None`).
    #[must_use]
    pub fn warnings(&self) -> &[Option<WarningCode>] {
        &self.warnings
    }

    /// Rows.
    #[must_use]
    pub fn len(&self) -> usize {
        self.kept.len()
    }

    /// Whether there are no rows.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }

    /// `(values, kept, warnings)`: `len() × width` bytes of ASCII (row `i`'s digest
    /// at `i × width`, zeros where it has none), and the per-row flags and
    /// warnings.
    #[must_use]
    pub fn into_parts(mut self) -> (Vec<u8>, Vec<bool>, Vec<Option<WarningCode>>) {
        self.values.truncate(self.kept.len() * self.width);
        (self.values, self.kept, self.warnings)
    }
}

/// Runs `work` over contiguous parts of `items` on up to `threads` threads (at
/// least 4,096 items each), giving each part its own slice of `out`
/// (`per_item` elements of `out` per item), and returns the parts' results in
/// input order.
fn run_parts<T, O, R>(
    items: &[T],
    out: &mut [O],
    per_item: usize,
    threads: usize,
    work: impl Fn(&[T], &mut [O]) -> R + Sync,
) -> Vec<R>
where
    T: Sync,
    O: Send,
    R: Send,
{
    /// Below this many values per thread, threads cost more than they save.
    const MIN_PER_THREAD: usize = 4096;
    let threads = threads.clamp(1, items.len().div_ceil(MIN_PER_THREAD).max(1));
    let per = items.len().div_ceil(threads).max(1);
    if threads == 1 {
        return vec![work(items, out)];
    }
    let work = &work;
    std::thread::scope(|scope| {
        let mut handles = Vec::with_capacity(threads);
        let mut rest = out;
        for chunk in items.chunks(per) {
            let take = (chunk.len() * per_item).min(rest.len());
            let (mine, tail) = std::mem::take(&mut rest).split_at_mut(take);
            rest = tail;
            handles.push(scope.spawn(move || work(chunk, mine)));
        }
        handles
            .into_iter()
            .map(|h| match h.join() {
                Ok(part) => part,
                // Every input gives a typed outcome; a panic here is a bug and
                // travels on to the caller as it would on one thread.
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
}

/// The platform's rule for `field`, or the warning that it takes no such field.
fn spec_of(platform: Platform, field: Field) -> Result<crate::platform::FieldSpec, FieldWarning> {
    platform.spec(field).ok_or_else(|| FieldWarning {
        field,
        code: WarningCode::UnsupportedField,
        message: format!("{platform} does not accept {field}"),
    })
}

/// `str::trim`, returning at once when both ends are visible ASCII (most values).
fn trim(s: &str) -> &str {
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(first), Some(last)) if first.is_ascii_graphic() && last.is_ascii_graphic() => s,
        _ => s.trim(),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum HashKind {
    Hex,
    MetaAppendix,
}

/// `^[0-9A-Fa-f]{64}$` or Meta's `^[0-9A-Fa-f]{64}\.[A-Za-z0-9_-]{2,8}$`.
fn detect_hash(s: &str) -> Option<HashKind> {
    let b = s.as_bytes();
    if b.len() < 64 || !b[..64].iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    if b.len() == 64 {
        return Some(HashKind::Hex);
    }
    let rest = &b[64..];
    let ok = rest.first() == Some(&b'.')
        && (3..=9).contains(&rest.len())
        && rest[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-');
    ok.then_some(HashKind::MetaAppendix)
}

/// Lowercase hex of a digest.
pub(crate) fn hex(bytes: &[u8; 32]) -> String {
    stratum_core::digest::Digest(*bytes).to_hex()
}

/// 64 hex digits (checked by [`detect_hash`]) into bytes.
fn parse_hex(s: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (o, pair) in out.iter_mut().zip(s.as_bytes().chunks_exact(2)) {
        *o = (nibble(pair[0]) << 4) | nibble(pair[1]);
    }
    out
}

fn nibble(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => 0,
    }
}

/// SHA-256 of `text` as lowercase hex; the hashing step of the pipeline on its own.
#[must_use]
pub fn sha256_hex(text: &str) -> String {
    stratum_core::digest::Digest::of_bytes(text.as_bytes()).to_hex()
}

/// The lowercase ISO 3166-1 alpha-2 code of a country code, name or alias, if known
/// (the event context for state and zip rules).
pub(crate) fn country_code(text: &str) -> Option<&'static str> {
    rules::country_alpha2(&nfc_trim(text))
}

#[cfg(test)]
mod tests {
    proptest::proptest! {
        #[test]
        fn the_quick_trim_is_str_trim(s in "\\PC{0,12}|[ \\t\\n\\u{a0}\\u{2003}a-z!~]{0,12}") {
            proptest::prop_assert_eq!(super::trim(&s), s.trim());
        }
    }
}
