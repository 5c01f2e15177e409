//! Meta Conversions API request: `POST /{version}/{pixel_id}/events` with `data[]`
//! (PLATFORMS.md §3).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use chrono::{DateTime, TimeDelta, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use super::{Built, Prepared, Rejected, check_batch_size, missing, prepare};
use crate::error::{Error, Result};
use crate::event::{ActionSource, ConversionEvent};
use crate::normalize::{Normalized, Normalizer};
use crate::platform::{Field, Platform};

/// At most 1,000 events per request; one invalid event rejects all (platform docs).
pub const MAX_BATCH: usize = 1_000;
/// Website, app and other events older than 7 days fail the request (platform docs).
pub const MAX_AGE_DAYS: i64 = 7;
/// `physical_store` events may be up to 62 days old (third-party sources).
pub const MAX_AGE_DAYS_PHYSICAL_STORE: i64 = 62;

/// The body of one Conversions API request.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MetaRequest {
    /// The events, at most [`MAX_BATCH`].
    pub data: Vec<MetaEvent>,
    /// Routes the events to the Test Events tool when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_event_code: Option<String>,
}

/// One server event.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MetaEvent {
    /// The event name, e.g. `Purchase`.
    pub event_name: String,
    /// Unix seconds.
    pub event_time: i64,
    /// The deduplication id (= Pixel `eventID`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// `website`, `app`, `physical_store`, `phone_call`, `email`, `chat`,
    /// `system_generated` or `other`.
    pub action_source: &'static str,
    /// The page URL (required for `website`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_source_url: Option<String>,
    /// Customer information by Meta key; hashed keys are one-element arrays, raw
    /// keys strings.
    pub user_data: BTreeMap<&'static str, UserValue>,
    /// Value, currency and contents, when any is given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_data: Option<MetaCustomData>,
    /// `["LDU"]` or `[]`, when the builder has a [`DataProcessing`] setting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_processing_options: Option<Vec<&'static str>>,
    /// With LDU only: `0` (Meta geolocates) or `1` (United States).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_processing_options_country: Option<u32>,
    /// With LDU only: `0` (Meta geolocates) or `1000` (California).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_processing_options_state: Option<u32>,
}

/// Meta's data processing options for US state privacy laws, sent on every event
/// of a builder: Limited Data Use (LDU) on, with its location, or explicitly off.
/// Without a setting the three fields are left out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataProcessing {
    /// `data_processing_options: []`: LDU explicitly off.
    Off,
    /// `data_processing_options: ["LDU"]` with this location.
    Ldu(LduLocation),
}

/// Where an LDU event's person is (the only two pairs Meta documents).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LduLocation {
    /// Country `0`, state `0`: Meta geolocates the event.
    #[default]
    Geolocate,
    /// Country `1` (United States), state `1000` (California).
    California,
}

impl DataProcessing {
    /// Reads the setting from Meta's own three fields, e.g. from configuration:
    /// `[]` with no location, or `["LDU"]` with country/state `0`/`0` or
    /// `1`/`1000` (or none, meaning `0`/`0`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for an option other than `LDU`, a location
    /// without LDU, or another location pair.
    pub fn from_parts(options: &[&str], country: Option<u32>, state: Option<u32>) -> Result<Self> {
        match options {
            [] => match (country, state) {
                (None, None) => Ok(Self::Off),
                _ => Err(Error::config(
                    "data_processing_options_country",
                    "a country or state needs data_processing_options [\"LDU\"]",
                )),
            },
            [o] if o.trim() == "LDU" => match (country, state) {
                (None, None) | (Some(0), Some(0)) => Ok(Self::Ldu(LduLocation::Geolocate)),
                (Some(1), Some(1000)) => Ok(Self::Ldu(LduLocation::California)),
                (c, s) => Err(Error::config(
                    "data_processing_options_country",
                    format!(
                        "country {c:?} with state {s:?} is not documented; use 0 and 0 \
                         (geolocate) or 1 and 1000 (California)"
                    ),
                )),
            },
            _ => Err(Error::config(
                "data_processing_options",
                format!("is {options:?}; it must be [] or [\"LDU\"]"),
            )),
        }
    }

    /// The three event fields: options, country and state.
    #[must_use]
    pub fn fields(self) -> (Vec<&'static str>, Option<u32>, Option<u32>) {
        match self {
            Self::Off => (Vec::new(), None, None),
            Self::Ldu(LduLocation::Geolocate) => (vec!["LDU"], Some(0), Some(0)),
            Self::Ldu(LduLocation::California) => (vec!["LDU"], Some(1), Some(1000)),
        }
    }
}

/// A `user_data` value: hashed keys are sent as arrays (Meta accepts several
/// values per key), raw ones as strings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum UserValue {
    /// A hashed key.
    Hashed([String; 1]),
    /// A raw key (`client_ip_address`, `client_user_agent`, `fbc`, `fbp`, `madid`,
    /// unhashed `external_id`).
    Raw(String),
}

/// `custom_data`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MetaCustomData {
    /// The value, as a JSON number.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "super::opt_decimal_number"
    )]
    pub value: Option<Decimal>,
    /// ISO 4217, upper case.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// The items.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub contents: Vec<MetaContent>,
}

/// One item of `custom_data.contents`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MetaContent {
    /// Product id.
    pub id: String,
    /// Quantity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantity: Option<u32>,
    /// Unit price, as a JSON number.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "super::opt_decimal_number"
    )]
    pub item_price: Option<Decimal>,
}

/// Meta's name for an [`ActionSource`].
#[must_use]
pub fn action_source(source: ActionSource) -> &'static str {
    match source {
        ActionSource::Website => "website",
        ActionSource::App => "app",
        ActionSource::PhysicalStore => "physical_store",
        ActionSource::PhoneCall => "phone_call",
        ActionSource::Email => "email",
        ActionSource::Chat => "chat",
        ActionSource::SystemGenerated => "system_generated",
        ActionSource::Other => "other",
    }
}

/// Builds Meta requests from neutral events.
#[derive(Clone, Debug)]
pub struct MetaBuilder<'n> {
    normalizer: &'n Normalizer,
    batch_size: usize,
    test_event_code: Option<String>,
    data_processing: Option<DataProcessing>,
}

impl<'n> MetaBuilder<'n> {
    /// A builder with the largest batch size ([`MAX_BATCH`]).
    #[must_use]
    pub fn new(normalizer: &'n Normalizer) -> Self {
        Self {
            normalizer,
            batch_size: MAX_BATCH,
            test_event_code: None,
            data_processing: None,
        }
    }

    /// Events per request, 1..=[`MAX_BATCH`].
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] outside that range.
    pub fn batch_size(mut self, size: usize) -> Result<Self> {
        self.batch_size = check_batch_size(size, MAX_BATCH)?;
        Ok(self)
    }

    /// Sends every request to the Test Events tool under this code.
    #[must_use]
    pub fn test_event_code(mut self, code: impl Into<String>) -> Self {
        self.test_event_code = Some(code.into());
        self
    }

    /// Sends `data_processing_options` (with country and state for LDU) on every
    /// event.
    #[must_use]
    pub fn data_processing(mut self, options: DataProcessing) -> Self {
        self.data_processing = Some(options);
        self
    }

    /// Validates, normalises and serialisable-builds one event.
    ///
    /// Field warnings are appended to `warnings` with `index`.
    ///
    /// # Errors
    ///
    /// `missing_required_field` (name; `event_source_url` and `client_user_agent`
    /// for website events), `event_too_old` (7 days, 62 for `physical_store`),
    /// `event_in_future`, `invalid_currency`, `invalid_value`, and
    /// `insufficient_customer_info` when the keys left are only some of city,
    /// country, state, zip, gender and user agent, or those plus exactly one of
    /// birth date, first name and last name.
    pub fn event(
        &self,
        event: &ConversionEvent,
        now: DateTime<Utc>,
        index: usize,
        warnings: &mut Vec<super::EventWarning>,
    ) -> Result<MetaEvent> {
        let days = if event.action_source == ActionSource::PhysicalStore {
            MAX_AGE_DAYS_PHYSICAL_STORE
        } else {
            MAX_AGE_DAYS
        };
        let p = prepare(
            self.normalizer,
            Platform::Meta,
            event,
            index,
            now,
            Some(TimeDelta::days(days)),
            warnings,
        )?;
        let url = event
            .event_source_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty());
        if event.action_source == ActionSource::Website {
            if url.is_none() {
                return Err(missing(
                    Platform::Meta,
                    "event_source_url",
                    "website events need the page URL",
                ));
            }
            if !p.has(Field::UserAgent) {
                return Err(missing(
                    Platform::Meta,
                    "user.user_agent",
                    "website events need `client_user_agent`",
                ));
            }
        }
        check_customer_info(&p)?;
        let (dpo, dpo_country, dpo_state) = match self.data_processing.map(DataProcessing::fields) {
            Some((o, c, s)) => (Some(o), c, s),
            None => (None, None, None),
        };
        Ok(MetaEvent {
            event_name: p.event_name.to_owned(),
            event_time: event.event_time.timestamp(),
            event_id: event
                .event_id
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            action_source: action_source(event.action_source),
            event_source_url: url.map(str::to_owned),
            user_data: user_data(p.keys),
            custom_data: custom_data(event, p.currency),
            data_processing_options: dpo,
            data_processing_options_country: dpo_country,
            data_processing_options_state: dpo_state,
        })
    }

    /// Builds as many requests as the batch size needs from `events`.
    ///
    /// Invalid events are [`Rejected`] (Meta would reject the whole request for
    /// one of them); the others are sent.
    #[must_use]
    pub fn build(&self, events: &[ConversionEvent], now: DateTime<Utc>) -> Built<MetaRequest> {
        let mut out = Built::new();
        let mut ok = Vec::with_capacity(events.len());
        for (index, e) in events.iter().enumerate() {
            match self.event(e, now, index, &mut out.warnings) {
                Ok(m) => ok.push((index, m)),
                Err(error) => out.rejected.push(Rejected { index, error }),
            }
        }
        out.push_chunks(ok, self.batch_size, |data| MetaRequest {
            data,
            test_event_code: self.test_event_code.clone(),
        });
        out
    }
}

fn user_data(mut keys: Vec<Normalized>) -> BTreeMap<&'static str, UserValue> {
    // In key order the map is built without sorting (one comparison per key).
    keys.sort_unstable_by_key(|k| key_rank(k.field));
    keys.into_iter()
        .map(|k| {
            let v = if k.origin == crate::Origin::Raw {
                UserValue::Raw(k.value)
            } else {
                UserValue::Hashed([k.value])
            };
            (k.key, v)
        })
        .collect()
}

/// The position of a field's Meta key in the alphabetical order of all keys.
fn key_rank(field: Field) -> usize {
    static RANKS: OnceLock<[usize; Field::ALL.len()]> = OnceLock::new();
    let ranks = RANKS.get_or_init(|| {
        let mut by_key = Field::ALL;
        by_key.sort_by_key(|f| Platform::Meta.spec(*f).map(|s| s.key));
        let mut ranks = [0; Field::ALL.len()];
        for (rank, f) in by_key.iter().enumerate() {
            if let Some(i) = Field::ALL.iter().position(|g| g == f) {
                ranks[i] = rank;
            }
        }
        ranks
    });
    Field::ALL
        .iter()
        .position(|g| *g == field)
        .and_then(|i| ranks.get(i).copied())
        .unwrap_or(usize::MAX)
}

fn custom_data(event: &ConversionEvent, currency: Option<String>) -> Option<MetaCustomData> {
    if event.value.is_none() && currency.is_none() && event.contents.is_empty() {
        return None;
    }
    Some(MetaCustomData {
        value: event.value,
        currency,
        contents: event
            .contents
            .iter()
            .map(|c| MetaContent {
                id: c.id.trim().to_owned(),
                quantity: c.quantity,
                item_price: c.item_price,
            })
            .collect(),
    })
}

/// Meta's documented insufficient combinations (PLATFORMS.md §3).
fn check_customer_info(p: &Prepared<'_>) -> Result<()> {
    const WEAK: [Field; 6] = [
        Field::City,
        Field::Country,
        Field::State,
        Field::Zip,
        Field::Gender,
        Field::UserAgent,
    ];
    let strong: Vec<Field> = p
        .keys
        .iter()
        .map(|k| k.field)
        .filter(|f| !WEAK.contains(f))
        .collect();
    let insufficient = match strong.as_slice() {
        [] => true,
        [one] => matches!(one, Field::BirthDate | Field::FirstName | Field::LastName),
        _ => false,
    };
    if insufficient {
        return Err(Error::InsufficientCustomerInfo {
            platform: "meta",
            present: p.present(),
            message:
                "send at least an email, phone, external id, click or browser id, IP address, \
                      mobile ad id, or two of birth date and names"
                    .into(),
        });
    }
    Ok(())
}
