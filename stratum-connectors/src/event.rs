//! The platform-neutral conversion event every payload builder starts from.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::normalize::FieldValue;
use crate::platform::Field;

/// One conversion, independent of any platform.
///
/// Customer information is given per neutral [`Field`], raw or already hashed
/// ([`FieldValue`]); the payload builders normalise and hash it per platform.
///
/// ```
/// use stratum_connectors::{ActionSource, ConversionEvent, Field, FieldValue};
///
/// let event: ConversionEvent = stratum_connectors::from_json(r#"{
///     "event_name": "Purchase",
///     "event_time": "2026-03-01T12:00:00Z",
///     "event_id": "order-1001",
///     "action_source": "website",
///     "event_source_url": "https://shop.example/checkout",
///     "user": { "email": { "raw": "ada@example.com" } },
///     "value": "49.99",
///     "currency": "EUR"
/// }"#)?;
/// assert_eq!(event.action_source, ActionSource::Website);
/// assert_eq!(event.user.get(&Field::Email), Some(&FieldValue::raw("ada@example.com")));
/// # Ok::<(), stratum_connectors::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConversionEvent {
    /// The event name as the platform knows it (e.g. Meta `Purchase`, Snapchat
    /// `PURCHASE`); sent verbatim after trimming.
    pub event_name: String,
    /// When the conversion happened.
    pub event_time: DateTime<Utc>,
    /// The deduplication id shared with the browser tag (Pixel `eventID`,
    /// Snapchat `client_dedup_id`, Google `transactionId`). Never generated (D20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// Where the conversion happened.
    pub action_source: ActionSource,
    /// The page URL (required by Meta for website events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_source_url: Option<String>,
    /// Customer information per field.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub user: BTreeMap<Field, FieldValue>,
    /// The conversion value; needs [`ConversionEvent::currency`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Decimal>,
    /// ISO 4217 currency code of the value and item prices (any case; sent upper).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// The items of the conversion.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contents: Vec<Content>,
    /// The person's advertising consent, where it was collected. Google sends it
    /// as the event's `consent` (overriding the request's); the other platforms
    /// have no per-event consent field and ignore it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<Consent>,
}

/// Advertising consent as collected from the person (e.g. a consent banner);
/// `None` where a purpose was not asked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consent {
    /// Consent to their data being sent for advertising (Google `adUserData`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ad_user_data: Option<bool>,
    /// Consent to personalised advertising (Google `adPersonalization`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ad_personalization: Option<bool>,
}

impl Consent {
    /// Both purposes granted (`true`) or denied (`false`).
    #[must_use]
    pub fn all(granted: bool) -> Self {
        Self {
            ad_user_data: Some(granted),
            ad_personalization: Some(granted),
        }
    }
}

impl ConversionEvent {
    /// An event with no id, URL, customer information, value or contents.
    #[must_use]
    pub fn new(
        event_name: impl Into<String>,
        event_time: DateTime<Utc>,
        action_source: ActionSource,
    ) -> Self {
        Self {
            event_name: event_name.into(),
            event_time,
            event_id: None,
            action_source,
            event_source_url: None,
            user: BTreeMap::new(),
            value: None,
            currency: None,
            contents: Vec::new(),
            consent: None,
        }
    }

    /// Sets the person's advertising consent.
    #[must_use]
    pub fn with_consent(mut self, consent: Consent) -> Self {
        self.consent = Some(consent);
        self
    }

    /// Sets the deduplication id.
    #[must_use]
    pub fn with_event_id(mut self, id: impl Into<String>) -> Self {
        self.event_id = Some(id.into());
        self
    }

    /// Sets the page URL.
    #[must_use]
    pub fn with_url(mut self, url: impl Into<String>) -> Self {
        self.event_source_url = Some(url.into());
        self
    }

    /// Adds (or replaces) one customer-information field.
    #[must_use]
    pub fn with_user(mut self, field: Field, value: FieldValue) -> Self {
        self.user.insert(field, value);
        self
    }

    /// Sets value and currency.
    #[must_use]
    pub fn with_value(mut self, value: Decimal, currency: impl Into<String>) -> Self {
        self.value = Some(value);
        self.currency = Some(currency.into());
        self
    }

    /// Adds one item.
    #[must_use]
    pub fn with_content(mut self, content: Content) -> Self {
        self.contents.push(content);
        self
    }
}

/// Where a conversion happened; each platform has its own vocabulary for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionSource {
    /// On a website (Meta `website`, Google `WEB`, TikTok `web`, Snapchat `WEB`).
    Website,
    /// In a mobile app (Meta `app`, Google `APP`, TikTok `app`, Snapchat `MOBILE_APP`).
    App,
    /// In a physical store (Meta `physical_store`, Google `IN_STORE`, TikTok and
    /// Snapchat offline).
    PhysicalStore,
    /// Over the phone (Meta `phone_call`, Google `PHONE`, offline elsewhere).
    PhoneCall,
    /// By email (Meta `email`, Google `OTHER`, offline elsewhere).
    Email,
    /// In a chat (Meta `chat`, Google `OTHER`, offline elsewhere).
    Chat,
    /// Generated by a system, e.g. a renewal (Meta `system_generated`, Google
    /// `OTHER`, offline elsewhere).
    SystemGenerated,
    /// Anything else (Meta `other`, Google `OTHER`, offline elsewhere).
    Other,
}

/// One item of a conversion.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Content {
    /// The product id (SKU).
    pub id: String,
    /// How many were bought (≥ 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<u32>,
    /// The unit price in the event's currency (≥ 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_price: Option<Decimal>,
}

impl Content {
    /// An item with a quantity and a unit price.
    #[must_use]
    pub fn new(id: impl Into<String>, quantity: u32, item_price: Decimal) -> Self {
        Self {
            id: id.into(),
            quantity: Some(quantity),
            item_price: Some(item_price),
        }
    }
}
