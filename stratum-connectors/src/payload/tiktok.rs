//! TikTok Events API 2.0 request: `POST open_api/v1.3/event/track/` (PLATFORMS.md §3).

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use super::{Built, EventWarning, Rejected, check_batch_size, prepare};
use crate::error::{Error, Result};
use crate::event::{ActionSource, ConversionEvent};
use crate::normalize::Normalizer;
use crate::platform::Platform;

/// At most 1,000 events per request, all-or-nothing (third-party sources).
pub const MAX_BATCH: usize = 1_000;
/// Web and app events: 7 days (D18).
pub const MAX_AGE_DAYS: i64 = 7;
/// Offline events: 28 days (third-party sources).
pub const MAX_AGE_DAYS_OFFLINE: i64 = 28;

/// The body of one `event/track/` request. All its events share one
/// `event_source`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TikTokRequest {
    /// `web`, `app` or `offline`.
    pub event_source: &'static str,
    /// The Pixel code, app id or offline event set id.
    pub event_source_id: String,
    /// The events, at most [`MAX_BATCH`].
    pub data: Vec<TikTokEvent>,
}

/// One event of `data[]`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TikTokEvent {
    /// The event name, e.g. `CompletePayment`.
    pub event: String,
    /// Unix seconds.
    pub event_time: i64,
    /// The deduplication id (= Pixel's `event_id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// Customer information by TikTok key.
    pub user: BTreeMap<&'static str, String>,
    /// The page, for web events with a URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<Page>,
    /// Value, currency and contents, when any is given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<Properties>,
}

/// `page`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Page {
    /// The page URL.
    pub url: String,
}

/// `properties`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Properties {
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
    pub contents: Vec<TikTokContent>,
}

/// One of `properties.contents[]`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TikTokContent {
    /// Product id.
    pub content_id: String,
    /// Quantity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantity: Option<u32>,
    /// Unit price, as a JSON number.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "super::opt_decimal_number"
    )]
    pub price: Option<Decimal>,
}

/// TikTok's `event_source` for an [`ActionSource`].
#[must_use]
pub fn event_source(source: ActionSource) -> &'static str {
    match source {
        ActionSource::Website => "web",
        ActionSource::App => "app",
        _ => "offline",
    }
}

/// The event source ids of one advertiser: one request goes to one source.
///
/// JSON: `{"web": pixel code, "app": app id, "offline": event set id}`, each
/// optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventSourceIds {
    /// Pixel code, for website events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web: Option<String>,
    /// TikTok app id, for app events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// Offline event set id, for every other action source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offline: Option<String>,
}

/// Builds TikTok requests from neutral events.
#[derive(Clone, Debug)]
pub struct TikTokBuilder<'n> {
    normalizer: &'n Normalizer,
    ids: EventSourceIds,
    batch_size: usize,
}

impl<'n> TikTokBuilder<'n> {
    /// A builder for an advertiser's event sources (at least one).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] when no source id is set or one is empty.
    pub fn new(normalizer: &'n Normalizer, ids: EventSourceIds) -> Result<Self> {
        let all = [
            ("web", &ids.web),
            ("app", &ids.app),
            ("offline", &ids.offline),
        ];
        if all.iter().all(|(_, v)| v.is_none()) {
            return Err(Error::config(
                "event_source_ids",
                "has none; set the Pixel code, app id or offline event set id",
            ));
        }
        for (name, v) in all {
            if v.as_deref().is_some_and(|s| s.trim().is_empty()) {
                return Err(Error::config(
                    format!("event_source_ids.{name}"),
                    "is empty",
                ));
            }
        }
        Ok(Self {
            normalizer,
            ids,
            batch_size: MAX_BATCH,
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

    /// Validates, normalises and builds one event.
    ///
    /// # Errors
    ///
    /// `missing_required_field` (name; a source id for the event's source),
    /// `event_too_old` (7 days web/app, 28 offline), `event_in_future`,
    /// `invalid_currency`, `invalid_value`.
    pub fn event(
        &self,
        event: &ConversionEvent,
        now: DateTime<Utc>,
        index: usize,
        warnings: &mut Vec<EventWarning>,
    ) -> Result<TikTokEvent> {
        let source = event_source(event.action_source);
        if self.source_id(source).is_none() {
            return Err(super::missing(
                Platform::TikTok,
                "event_source_id",
                &format!("no {source} event source id is configured"),
            ));
        }
        let days = if source == "offline" {
            MAX_AGE_DAYS_OFFLINE
        } else {
            MAX_AGE_DAYS
        };
        let p = prepare(
            self.normalizer,
            Platform::TikTok,
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
        let properties = (event.value.is_some()
            || p.currency.is_some()
            || !event.contents.is_empty())
        .then(|| Properties {
            currency: p.currency.clone(),
            value: event.value,
            contents: event
                .contents
                .iter()
                .map(|c| TikTokContent {
                    content_id: c.id.trim().to_owned(),
                    quantity: c.quantity,
                    price: c.item_price,
                })
                .collect(),
        });
        Ok(TikTokEvent {
            event: p.event_name.to_owned(),
            event_time: event.event_time.timestamp(),
            event_id: event
                .event_id
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            user: p.keys.into_iter().map(|k| (k.key, k.value)).collect(),
            page: url.map(|u| Page { url: u.to_owned() }),
            properties,
        })
    }

    fn source_id(&self, source: &str) -> Option<&String> {
        match source {
            "web" => self.ids.web.as_ref(),
            "app" => self.ids.app.as_ref(),
            _ => self.ids.offline.as_ref(),
        }
    }

    /// Builds requests: events are grouped by event source (web, app, offline,
    /// in that order), then split by the batch size.
    #[must_use]
    pub fn build(&self, events: &[ConversionEvent], now: DateTime<Utc>) -> Built<TikTokRequest> {
        let mut out = Built::new();
        let mut groups: [Vec<(usize, TikTokEvent)>; 3] = [Vec::new(), Vec::new(), Vec::new()];
        for (index, e) in events.iter().enumerate() {
            match self.event(e, now, index, &mut out.warnings) {
                Ok(t) => {
                    let g = match event_source(e.action_source) {
                        "web" => 0,
                        "app" => 1,
                        _ => 2,
                    };
                    groups[g].push((index, t));
                }
                Err(error) => out.rejected.push(Rejected { index, error }),
            }
        }
        for (source, group) in ["web", "app", "offline"].into_iter().zip(groups) {
            let Some(id) = self.source_id(source) else {
                continue;
            };
            out.push_chunks(group, self.batch_size, |data| TikTokRequest {
                event_source: source,
                event_source_id: id.trim().to_owned(),
                data,
            });
        }
        out
    }
}
