//! Snapchat Conversions API v3 request: `POST tr.snapchat.com/v3/{id}/events`
//! (PLATFORMS.md §3).

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use super::{Built, EventWarning, Prepared, Rejected, check_batch_size, prepare};
use crate::error::{Error, Result};
use crate::event::{ActionSource, ConversionEvent};
use crate::normalize::Normalizer;
use crate::platform::{Field, Platform};

/// At most 2,000 events per request (third-party sources).
pub const MAX_BATCH: usize = 2_000;
/// Events older than 37 days are refused (platform docs).
pub const MAX_AGE_DAYS: i64 = 37;

/// The body of one v3 request.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SnapRequest {
    /// The events, at most [`MAX_BATCH`].
    pub data: Vec<SnapEvent>,
}

/// One event of `data[]`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SnapEvent {
    /// The event name, e.g. `PURCHASE`.
    pub event_name: String,
    /// Unix seconds.
    pub event_time: i64,
    /// The deduplication id (= Pixel `client_dedup_id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// `WEB`, `MOBILE_APP` or `OFFLINE`.
    pub action_source: &'static str,
    /// The page URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_source_url: Option<String>,
    /// Customer information by Snapchat key; hashed keys are one-element arrays,
    /// raw keys strings.
    pub user_data: BTreeMap<&'static str, SnapUserValue>,
    /// Value, currency and contents, when any is given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_data: Option<SnapCustomData>,
}

/// A `user_data` value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum SnapUserValue {
    /// A hashed key, sent as an array as v3 documents.
    Hashed([String; 1]),
    /// A raw key (`client_ip_address`, `client_user_agent`, `sc_click_id`,
    /// `sc_cookie1`, `madid`).
    Raw(String),
}

/// `custom_data`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SnapCustomData {
    /// ISO 4217, upper case.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// The value, as a JSON number.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "super::opt_decimal_number"
    )]
    pub value: Option<Decimal>,
    /// The items.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub contents: Vec<SnapContent>,
}

/// One of `custom_data.contents[]`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SnapContent {
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

/// Snapchat's `action_source` for an [`ActionSource`].
#[must_use]
pub fn action_source(source: ActionSource) -> &'static str {
    match source {
        ActionSource::Website => "WEB",
        ActionSource::App => "MOBILE_APP",
        _ => "OFFLINE",
    }
}

/// Builds Snapchat requests from neutral events.
#[derive(Clone, Debug)]
pub struct SnapBuilder<'n> {
    normalizer: &'n Normalizer,
    batch_size: usize,
}

impl<'n> SnapBuilder<'n> {
    /// A builder with the largest batch size ([`MAX_BATCH`]).
    #[must_use]
    pub fn new(normalizer: &'n Normalizer) -> Self {
        Self {
            normalizer,
            batch_size: MAX_BATCH,
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

    /// Validates, normalises and builds one event.
    ///
    /// # Errors
    ///
    /// `missing_required_field`, `event_too_old` (37 days), `event_in_future`,
    /// `invalid_currency`, `invalid_value`, and `insufficient_customer_info`
    /// without an email, phone, mobile ad id, or IP address and user agent.
    pub fn event(
        &self,
        event: &ConversionEvent,
        now: DateTime<Utc>,
        index: usize,
        warnings: &mut Vec<EventWarning>,
    ) -> Result<SnapEvent> {
        let p = prepare(
            self.normalizer,
            Platform::Snapchat,
            event,
            index,
            now,
            Some(TimeDelta::days(MAX_AGE_DAYS)),
            warnings,
        )?;
        check_customer_info(&p)?;
        let custom_data = (event.value.is_some()
            || p.currency.is_some()
            || !event.contents.is_empty())
        .then(|| SnapCustomData {
            currency: p.currency.clone(),
            value: event.value,
            contents: event
                .contents
                .iter()
                .map(|c| SnapContent {
                    id: c.id.trim().to_owned(),
                    quantity: c.quantity,
                    item_price: c.item_price,
                })
                .collect(),
        });
        Ok(SnapEvent {
            event_name: p.event_name.to_owned(),
            event_time: event.event_time.timestamp(),
            event_id: event
                .event_id
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            action_source: action_source(event.action_source),
            event_source_url: event
                .event_source_url
                .as_deref()
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .map(str::to_owned),
            user_data: p
                .keys
                .into_iter()
                .map(|k| {
                    let v = if k.origin == crate::Origin::Raw {
                        SnapUserValue::Raw(k.value)
                    } else {
                        SnapUserValue::Hashed([k.value])
                    };
                    (k.key, v)
                })
                .collect(),
            custom_data,
        })
    }

    /// Builds as many requests as the batch size needs from `events`.
    #[must_use]
    pub fn build(&self, events: &[ConversionEvent], now: DateTime<Utc>) -> Built<SnapRequest> {
        let mut out = Built::new();
        let mut ok = Vec::with_capacity(events.len());
        for (index, e) in events.iter().enumerate() {
            match self.event(e, now, index, &mut out.warnings) {
                Ok(s) => ok.push((index, s)),
                Err(error) => out.rejected.push(Rejected { index, error }),
            }
        }
        out.push_chunks(ok, self.batch_size, |data| SnapRequest { data });
        out
    }
}

fn check_customer_info(p: &Prepared<'_>) -> Result<()> {
    let ok = p.has(Field::Email)
        || p.has(Field::Phone)
        || p.has(Field::MobileAdId)
        || (p.has(Field::ClientIp) && p.has(Field::UserAgent));
    if ok {
        return Ok(());
    }
    Err(Error::InsufficientCustomerInfo {
        platform: "snapchat",
        present: p.present(),
        message: "send an email, a phone, a mobile ad id, or IP address and user agent".into(),
    })
}
