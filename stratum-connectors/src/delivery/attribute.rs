//! From one request's outcome to the outcome of each of its events, following
//! only what the platforms document.
//!
//! - Google Data Manager uses a fast-fail model: a request with one invalid
//!   record is refused whole and none of it is processed. Its
//!   `google.rpc.BadRequest` field violations name events by their position in
//!   the request (`events[3].conversionValue`): those events are refused with
//!   their own descriptions; the others were not at fault and were not processed
//!   ([`EventOutcome::Unprocessed`]). A refusal that names no event (a bad
//!   token, a bad destination) refuses every event.
//!   <https://developers.google.com/data-manager/api/devguides/concepts/understand-errors>
//! - Meta documents that one invalid event rejects the whole batch and names no
//!   event in its error, so every event of a refused request is refused. A 2xx
//!   whose `events_received` is below the number sent is reported
//!   [`EventOutcome::Unconfirmed`] for every event of the request, since Meta
//!   does not say which were left out.
//!   <https://developers.facebook.com/docs/marketing-api/conversions-api/using-the-api>
//! - TikTok's `code`/`message` and Snapchat's `status`/`reason` describe the
//!   request only; their documented responses carry no per-event data.

use super::{EventOutcome, Outcome, PlatformError, RequestReport};

impl RequestReport {
    /// The outcome of each event of this request, in the order of
    /// [`RequestReport::events`], attributed as far as the platform's documented
    /// response allows (see [`EventOutcome`]).
    ///
    /// ```
    /// use stratum_connectors::delivery::{EventOutcome, Outcome, Receipt, RequestReport};
    ///
    /// // Meta answered 200 with `events_received: 1` for two events.
    /// let report = RequestReport {
    ///     request: 0,
    ///     events: vec![4, 7],
    ///     outcome: Outcome::Accepted,
    ///     attempts: 1,
    ///     status: Some(200),
    ///     receipt: Some(Receipt { events_received: Some(1), ..Receipt::default() }),
    /// };
    /// let unconfirmed = EventOutcome::Unconfirmed { received: 1, sent: 2 };
    /// assert_eq!(report.event_outcomes(), [unconfirmed.clone(), unconfirmed]);
    /// ```
    #[must_use]
    pub fn event_outcomes(&self) -> Vec<EventOutcome> {
        let sent = self.events.len();
        match &self.outcome {
            Outcome::Accepted => {
                let received = self.receipt.as_ref().and_then(|r| r.events_received);
                let outcome = match received {
                    Some(received) if usize::try_from(received).is_ok_and(|r| r < sent) => {
                        EventOutcome::Unconfirmed { received, sent }
                    }
                    _ => EventOutcome::Accepted,
                };
                vec![outcome; sent]
            }
            Outcome::Failed(e) => vec![EventOutcome::Failed(e.clone()); sent],
            Outcome::Refused(e) => refused(e, sent),
        }
    }
}

/// Splits a refusal between the events it names and the others.
fn refused(e: &PlatformError, sent: usize) -> Vec<EventOutcome> {
    let mut named: Vec<Vec<usize>> = vec![Vec::new(); sent];
    for (i, v) in e.violations.iter().enumerate() {
        if let Some(slot) = v.event().and_then(|p| named.get_mut(p)) {
            slot.push(i);
        }
    }
    if named.iter().all(Vec::is_empty) {
        return vec![EventOutcome::Refused(e.clone()); sent];
    }
    named
        .into_iter()
        .map(|own| {
            if own.is_empty() {
                return EventOutcome::Unprocessed(e.clone());
            }
            let violations: Vec<_> = own.iter().map(|&i| e.violations[i].clone()).collect();
            let message = violations
                .iter()
                .map(|v| v.description.as_str())
                .filter(|d| !d.is_empty())
                .collect::<Vec<_>>()
                .join("; ");
            EventOutcome::Refused(PlatformError {
                message: if message.is_empty() {
                    e.message.clone()
                } else {
                    message
                },
                reason: violations
                    .iter()
                    .find_map(|v| v.reason.clone())
                    .or_else(|| e.reason.clone()),
                violations,
                ..e.clone()
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use crate::delivery::{FieldViolation, Receipt, TransportError};

    fn report(outcome: Outcome, sent: usize, receipt: Option<Receipt>) -> RequestReport {
        RequestReport {
            request: 0,
            events: (10..10 + sent).collect(),
            outcome,
            attempts: 1,
            status: None,
            receipt,
        }
    }

    fn violation(field: &str, description: &str) -> FieldViolation {
        FieldViolation {
            field: field.into(),
            description: description.into(),
            reason: None,
        }
    }

    #[test]
    fn named_events_are_refused_with_their_own_violations() {
        let e = PlatformError {
            code: Some(400),
            status: Some("INVALID_ARGUMENT".into()),
            message: "Request contains an invalid argument.".into(),
            reason: Some("INVALID_ARGUMENT".into()),
            trace_id: Some("req-1".into()),
            violations: vec![
                violation("events[2].conversionValue", "must be positive"),
                violation("destinations[0].productDestinationId", "unknown"),
                violation("events[2].currency", "unknown currency"),
                // Beyond the request: kept at request level, attributed to nobody.
                violation("events[9].currency", "x"),
            ],
            ..PlatformError::default()
        };
        let got = report(Outcome::Refused(e.clone()), 4, None).event_outcomes();
        assert_eq!(got.len(), 4);
        for i in [0, 1, 3] {
            assert_eq!(got[i], EventOutcome::Unprocessed(e.clone()), "{i}");
        }
        let EventOutcome::Refused(own) = &got[2] else {
            panic!("{:?}", got[2]);
        };
        assert_eq!(own.message, "must be positive; unknown currency");
        assert_eq!(
            own.violations,
            [e.violations[0].clone(), e.violations[2].clone()]
        );
        assert_eq!(own.reason.as_deref(), Some("INVALID_ARGUMENT"));
        assert_eq!(
            (own.code, own.status.as_deref(), own.trace_id.as_deref()),
            (Some(400), Some("INVALID_ARGUMENT"), Some("req-1"))
        );
    }

    #[test]
    fn a_refusal_naming_no_event_refuses_all() {
        let e = PlatformError {
            message: "bad destination".into(),
            violations: vec![violation("destinations[0]", "unknown")],
            ..PlatformError::default()
        };
        let got = report(Outcome::Refused(e.clone()), 3, None).event_outcomes();
        assert_eq!(got, vec![EventOutcome::Refused(e); 3]);
    }

    #[test]
    fn fewer_events_received_than_sent_is_unconfirmed() {
        let receipt = |n| {
            Some(Receipt {
                events_received: Some(n),
                ..Receipt::default()
            })
        };
        let short = report(Outcome::Accepted, 3, receipt(2)).event_outcomes();
        assert_eq!(
            short,
            vec![
                EventOutcome::Unconfirmed {
                    received: 2,
                    sent: 3
                };
                3
            ]
        );
        for full in [receipt(3), receipt(4), Some(Receipt::default()), None] {
            let got = report(Outcome::Accepted, 3, full).event_outcomes();
            assert_eq!(got, vec![EventOutcome::Accepted; 3]);
        }
    }

    #[test]
    fn failures_apply_to_every_event() {
        let got = report(
            Outcome::Failed(TransportError::Connect {
                message: "x".into(),
            }),
            2,
            None,
        )
        .event_outcomes();
        assert!(got.iter().all(|o| o.code() == "connect"));
        assert_eq!(got.len(), 2);
    }
}
