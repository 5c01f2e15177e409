//! Google Data Manager request: `POST datamanager.googleapis.com/v1/events:ingest`
//! (PLATFORMS.md §3). Field names are Data Manager's camelCase.

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{Built, EventWarning, Prepared, Rejected, check_batch_size, prepare};
use crate::error::{Error, Result};
use crate::event::{ActionSource, Consent, ConversionEvent};
use crate::normalize::{FieldWarning, HashEncoding, Normalizer, WarningCode};
use crate::platform::{Field, Platform};

/// At most 2,000 events per request (platform docs).
pub const MAX_BATCH: usize = 2_000;
/// At most 10 user identifiers per event (platform docs).
pub const MAX_IDENTIFIERS: usize = 10;
/// Older events are sent with an [`EventWarning::OldEvent`] (usual click lookback).
pub const WARN_AGE_DAYS: i64 = 90;

/// The body of one `events:ingest` request.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IngestEventsRequest {
    /// Where the events go.
    pub destinations: Vec<Destination>,
    /// The events, at most [`MAX_BATCH`].
    pub events: Vec<GoogleEvent>,
    /// `HEX` or `BASE64`: how the hashed identifiers are encoded.
    pub encoding: &'static str,
    /// Validate without ingesting.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub validate_only: bool,
    /// Consent for every event of the request, unless an event has its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consent: Option<GoogleConsent>,
}

/// `consent`: the Digital Markets Act consent of the request or of one event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GoogleConsent {
    /// Consent to ad user data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ad_user_data: Option<ConsentStatus>,
    /// Consent to ad personalisation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ad_personalization: Option<ConsentStatus>,
}

/// `ConsentStatus`; an unspecified purpose is left out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ConsentStatus {
    /// `CONSENT_GRANTED`.
    #[serde(rename = "CONSENT_GRANTED")]
    Granted,
    /// `CONSENT_DENIED`.
    #[serde(rename = "CONSENT_DENIED")]
    Denied,
}

impl GoogleConsent {
    /// Google's form of a neutral [`Consent`], or `None` when neither purpose is
    /// given (an empty `consent` says nothing).
    #[must_use]
    pub fn from_neutral(consent: Consent) -> Option<Self> {
        let status = |b: bool| {
            if b {
                ConsentStatus::Granted
            } else {
                ConsentStatus::Denied
            }
        };
        let c = Self {
            ad_user_data: consent.ad_user_data.map(status),
            ad_personalization: consent.ad_personalization.map(status),
        };
        (c.ad_user_data.is_some() || c.ad_personalization.is_some()).then_some(c)
    }
}

/// A conversion destination (`destinations[]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Destination {
    /// The account that receives the conversions.
    pub operating_account: OperatingAccount,
    /// The conversion action id.
    pub product_destination_id: String,
}

/// `operatingAccount`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperatingAccount {
    /// E.g. `GOOGLE_ADS`.
    pub account_type: String,
    /// The account id, digits only.
    pub account_id: String,
}

/// One event of `events[]`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GoogleEvent {
    /// The deduplication id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    /// RFC 3339, UTC.
    pub event_timestamp: String,
    /// `WEB`, `APP`, `IN_STORE`, `PHONE` or `OTHER`.
    pub event_source: &'static str,
    /// Hashed identifiers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_data: Option<UserData>,
    /// Click ids.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ad_identifiers: Option<AdIdentifiers>,
    /// IP and user agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_device_info: Option<DeviceInfo>,
    /// ISO 4217, upper case.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// The value, as a JSON number.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "super::opt_decimal_number"
    )]
    pub conversion_value: Option<Decimal>,
    /// The items.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cart_data: Option<CartData>,
    /// This event's consent, overriding the request's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consent: Option<GoogleConsent>,
}

/// `userData`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserData {
    /// At most [`MAX_IDENTIFIERS`].
    pub user_identifiers: Vec<UserIdentifier>,
}

/// One of `userIdentifiers[]`: exactly one member is set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum UserIdentifier {
    /// Hashed email.
    EmailAddress(String),
    /// Hashed E.164 phone.
    PhoneNumber(String),
    /// Hashed names with raw region and postal code.
    Address(AddressInfo),
}

/// `address`: all four members are required.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AddressInfo {
    /// Hashed given name.
    pub given_name: String,
    /// Hashed family name.
    pub family_name: String,
    /// ISO 3166-1 alpha-2, upper case.
    pub region_code: String,
    /// Raw postal code.
    pub postal_code: String,
}

/// `adIdentifiers`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdIdentifiers {
    /// Google click id.
    pub gclid: String,
}

/// `eventDeviceInfo`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceInfo {
    /// Verbatim user agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// Canonical IP address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
}

/// `cartData`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CartData {
    /// The items.
    pub items: Vec<Item>,
}

/// One of `cartData.items[]`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    /// Product id.
    pub merchant_product_id: String,
    /// Quantity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantity: Option<u32>,
    /// Unit price, as a JSON number.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "super::opt_decimal_number"
    )]
    pub unit_price: Option<Decimal>,
}

/// Google's `eventSource` for an [`ActionSource`].
#[must_use]
pub fn event_source(source: ActionSource) -> &'static str {
    match source {
        ActionSource::Website => "WEB",
        ActionSource::App => "APP",
        ActionSource::PhysicalStore => "IN_STORE",
        ActionSource::PhoneCall => "PHONE",
        ActionSource::Email
        | ActionSource::Chat
        | ActionSource::SystemGenerated
        | ActionSource::Other => "OTHER",
    }
}

/// Builds Data Manager requests from neutral events.
#[derive(Clone, Debug)]
pub struct GoogleBuilder<'n> {
    normalizer: &'n Normalizer,
    destinations: Vec<Destination>,
    batch_size: usize,
    validate_only: bool,
    consent: Option<GoogleConsent>,
}

impl<'n> GoogleBuilder<'n> {
    /// A builder sending to `destinations` (at least one).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for an empty list or a destination with an empty id.
    pub fn new(normalizer: &'n Normalizer, destinations: Vec<Destination>) -> Result<Self> {
        if destinations.is_empty() {
            return Err(Error::config(
                "destinations",
                "is empty; at least one is required",
            ));
        }
        for (i, d) in destinations.iter().enumerate() {
            if d.product_destination_id.trim().is_empty()
                || d.operating_account.account_id.trim().is_empty()
            {
                return Err(Error::config(
                    format!("destinations[{i}]"),
                    "has an empty account or product destination id",
                ));
            }
        }
        Ok(Self {
            normalizer,
            destinations,
            batch_size: MAX_BATCH,
            validate_only: false,
            consent: None,
        })
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

    /// Asks Google to validate without ingesting.
    #[must_use]
    pub fn validate_only(mut self, yes: bool) -> Self {
        self.validate_only = yes;
        self
    }

    /// Sends `consent` on every request; events with their own
    /// [`ConversionEvent::consent`] override it. A consent with neither purpose
    /// given is not sent.
    #[must_use]
    pub fn consent(mut self, consent: Consent) -> Self {
        self.consent = GoogleConsent::from_neutral(consent);
        self
    }

    /// Validates, normalises and builds one event.
    ///
    /// # Errors
    ///
    /// `missing_required_field`, `event_in_future`, `invalid_currency`,
    /// `invalid_value`, and `insufficient_customer_info` when neither a user
    /// identifier nor a click id is left. Events older than 90 days are sent with
    /// an [`EventWarning::OldEvent`].
    pub fn event(
        &self,
        event: &ConversionEvent,
        now: DateTime<Utc>,
        index: usize,
        warnings: &mut Vec<EventWarning>,
    ) -> Result<GoogleEvent> {
        let p = prepare(
            self.normalizer,
            Platform::Google,
            event,
            index,
            now,
            None,
            warnings,
        )?;
        let age = now.signed_duration_since(event.event_time);
        if age > TimeDelta::days(WARN_AGE_DAYS) {
            warnings.push(EventWarning::OldEvent {
                index,
                age_days: age.num_days(),
            });
        }
        let ids = identifiers(&p, index, warnings);
        let gclid = p.get(Field::ClickId).map(str::to_owned);
        if ids.is_empty() && gclid.is_none() {
            return Err(Error::InsufficientCustomerInfo {
                platform: "google",
                present: p.present(),
                message: "send an email, a phone, a full address (names, country, zip) or a gclid"
                    .into(),
            });
        }
        let ua = p.get(Field::UserAgent).map(str::to_owned);
        let ip = p.get(Field::ClientIp).map(str::to_owned);
        Ok(GoogleEvent {
            transaction_id: event
                .event_id
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            event_timestamp: event
                .event_time
                .to_rfc3339_opts(SecondsFormat::AutoSi, true),
            event_source: event_source(event.action_source),
            user_data: (!ids.is_empty()).then_some(UserData {
                user_identifiers: ids,
            }),
            ad_identifiers: gclid.map(|gclid| AdIdentifiers { gclid }),
            event_device_info: (ua.is_some() || ip.is_some()).then_some(DeviceInfo {
                user_agent: ua,
                ip_address: ip,
            }),
            currency: p.currency.clone(),
            conversion_value: event.value,
            cart_data: (!event.contents.is_empty()).then(|| CartData {
                items: event
                    .contents
                    .iter()
                    .map(|c| Item {
                        merchant_product_id: c.id.trim().to_owned(),
                        quantity: c.quantity,
                        unit_price: c.item_price,
                    })
                    .collect(),
            }),
            consent: event.consent.and_then(GoogleConsent::from_neutral),
        })
    }

    /// Builds as many requests as the batch size needs from `events`.
    #[must_use]
    pub fn build(
        &self,
        events: &[ConversionEvent],
        now: DateTime<Utc>,
    ) -> Built<IngestEventsRequest> {
        let mut out = Built::new();
        let mut ok = Vec::with_capacity(events.len());
        for (index, e) in events.iter().enumerate() {
            match self.event(e, now, index, &mut out.warnings) {
                Ok(m) => ok.push((index, m)),
                Err(error) => out.rejected.push(Rejected { index, error }),
            }
        }
        let encoding = match self.normalizer.config().google_encoding() {
            HashEncoding::Hex => "HEX",
            HashEncoding::Base64 => "BASE64",
        };
        out.push_chunks(ok, self.batch_size, |events| IngestEventsRequest {
            destinations: self.destinations.clone(),
            events,
            encoding,
            validate_only: self.validate_only,
            consent: self.consent,
        });
        out
    }
}

/// Email, phone and (when complete) address identifiers.
fn identifiers(
    p: &Prepared<'_>,
    index: usize,
    warnings: &mut Vec<EventWarning>,
) -> Vec<UserIdentifier> {
    let mut ids = Vec::with_capacity(3);
    if let Some(e) = p.get(Field::Email) {
        ids.push(UserIdentifier::EmailAddress(e.to_owned()));
    }
    if let Some(ph) = p.get(Field::Phone) {
        ids.push(UserIdentifier::PhoneNumber(ph.to_owned()));
    }
    let parts = [
        Field::FirstName,
        Field::LastName,
        Field::Country,
        Field::Zip,
    ];
    match parts.map(|f| p.get(f)) {
        [Some(g), Some(f), Some(r), Some(z)] => ids.push(UserIdentifier::Address(AddressInfo {
            given_name: g.to_owned(),
            family_name: f.to_owned(),
            region_code: r.to_owned(),
            postal_code: z.to_owned(),
        })),
        present => {
            for (field, v) in parts.iter().zip(present) {
                if v.is_some() {
                    warnings.push(EventWarning::Field {
                        index,
                        warning: FieldWarning {
                            field: *field,
                            code: WarningCode::IncompleteAddress,
                            message: "Google needs given name, family name, country and zip \
                                      together; a partial address is not sent"
                                .into(),
                        },
                    });
                }
            }
        }
    }
    ids.truncate(super::google::MAX_IDENTIFIERS);
    ids
}
