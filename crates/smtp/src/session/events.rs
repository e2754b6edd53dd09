//! The mail events of a finished transaction (issue 14; Art. 12.6 and 15.4: the
//! usage statistics are computed from `store.events` for any past period):
//!
//! - **Delivered**, one per local recipient whose copy was stored, with the origin:
//!   `internal` (submitted here), `agency_relay` (MX from `[policy] agency_relays`),
//!   `internet` (MX, anyone else);
//! - **Submitted**, for the authenticated official, one per destination class among
//!   the recipients: `internal` (a mailbox of the official's own agency),
//!   `other_agency` (a mailbox of another agency here, or a domain of the
//!   provincial network — the relay's `[[routes]]`), `internet` (anything else);
//! - **Refused**, when the whole message is refused for good (5xx at the end of
//!   DATA): for the submitting official, or else for each local recipient, with the
//!   policy's reason code (`format_not_allowed`) or the reply code (`550`). A
//!   temporary refusal (4xx) is not an event: the client sends the message again.
//!
//! The **Bounced** event is the relay's (`congvu_relay::worker`).
//!
//! Recording never changes the reply (the decision is documented in `data.rs`):
//! the events of an accepted message are written in the blocking task that stored
//! it, after the store made it durable, and a failure to write them is logged — the
//! message is already delivered, a `451` would make the client send it twice.

use congvu_policy::Origin as Listener;
use congvu_store::{AccountId, DeliveryOutcome, Destination, EventRecord, MailEventKind, MailStore, Origin};
use tracing::error;

use super::{Envelope, Session};

/// Who the events of one transaction are about, known once its envelope is complete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Parties {
    pub(super) origin: Origin,
    /// The authenticated official and the code of their agency (submission only).
    pub(super) submitter: Option<(AccountId, String)>,
    /// Each local recipient's account and the code of its agency.
    pub(super) local: Vec<(AccountId, String)>,
    /// The destination class of each remote recipient.
    pub(super) remote: Vec<Destination>,
}

impl Session {
    pub(super) fn parties(&self, envelope: &Envelope) -> Parties {
        let agency_domains = &self.ctx.agency_domains;
        Parties {
            origin: event_origin(self.origin()),
            submitter: self.auth.as_ref().map(|a| (a.account, a.agency.clone())),
            local: envelope
                .local
                .iter()
                .map(|r| (r.account, r.agency.clone()))
                .collect(),
            remote: envelope
                .remote
                .iter()
                .map(|address| remote_destination(address, agency_domains))
                .collect(),
        }
    }
}

fn event_origin(listener: Listener) -> Origin {
    match listener {
        Listener::Submission => Origin::Internal,
        Listener::AgencyRelay => Origin::AgencyRelay,
        Listener::Internet => Origin::Internet,
    }
}

/// A remote address is another agency's when its domain is one the relay routes over
/// the provincial network.
fn remote_destination(address: &str, agency_domains: &[String]) -> Destination {
    let domain = congvu_relay::route::domain_of(address).unwrap_or_default();
    if agency_domains
        .iter()
        .any(|pattern| congvu_relay::route::domain_matches(pattern, domain))
    {
        Destination::OtherAgency
    } else {
        Destination::Internet
    }
}

/// The events of a stored message: `outcomes` are the store's, in the order of
/// `parties.local`.
pub(super) fn accepted(parties: &Parties, outcomes: &[DeliveryOutcome], at: i64) -> Vec<EventRecord> {
    let delivered = outcomes.iter().filter_map(|outcome| match outcome {
        DeliveryOutcome::Delivered { account, .. } => Some(EventRecord {
            at,
            account: *account,
            kind: MailEventKind::Delivered {
                origin: parties.origin,
            },
        }),
        DeliveryOutcome::OverQuota { .. } => None,
    });
    let mut events: Vec<EventRecord> = delivered.collect();
    if let Some((sender, agency)) = &parties.submitter {
        let local = parties.local.iter().map(|(_, recipient_agency)| {
            if recipient_agency == agency {
                Destination::Internal
            } else {
                Destination::OtherAgency
            }
        });
        let mut classes: Vec<Destination> = local.chain(parties.remote.iter().copied()).collect();
        // In a fixed order, so that one message's events are written alike every time.
        classes.sort_by_key(|destination| match destination {
            Destination::Internal => 0,
            Destination::OtherAgency => 1,
            Destination::Internet => 2,
        });
        classes.dedup();
        events.extend(classes.into_iter().map(|destination| EventRecord {
            at,
            account: *sender,
            kind: MailEventKind::Submitted { destination },
        }));
    }
    events
}

/// The events of a message refused for good: for the submitter, or else for every
/// local recipient.
pub(super) fn refused(parties: &Parties, rule: &str, at: i64) -> Vec<EventRecord> {
    let accounts: Vec<AccountId> = match &parties.submitter {
        Some((sender, _)) => vec![*sender],
        None => parties.local.iter().map(|(account, _)| *account).collect(),
    };
    accounts
        .into_iter()
        .map(|account| EventRecord {
            at,
            account,
            kind: MailEventKind::Refused {
                rule: rule.to_owned(),
            },
        })
        .collect()
}

/// Writes `events` (one store write); a failure is logged, never returned (see the
/// file's doc).
pub(super) fn record(store: &dyn MailStore, events: &[EventRecord], id: &str) {
    if events.is_empty() {
        return;
    }
    if let Err(error) = store.record_events(events) {
        error!(id, events = events.len(), %error, "mail events not recorded");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use congvu_store::{MailboxId, Uid};

    const SENDER: AccountId = AccountId(1);
    const COLLEAGUE: AccountId = AccountId(2);
    const OTHER_AGENCY: AccountId = AccountId(3);

    fn delivered(account: AccountId) -> DeliveryOutcome {
        DeliveryOutcome::Delivered {
            account,
            mailbox: MailboxId(account.0),
            uid: Uid::new(1).unwrap(),
        }
    }

    fn submission(remote: Vec<Destination>) -> Parties {
        Parties {
            origin: Origin::Internal,
            submitter: Some((SENDER, "sttt".to_owned())),
            local: vec![(COLLEAGUE, "sttt".to_owned()), (OTHER_AGENCY, "syt".to_owned())],
            remote,
        }
    }

    fn kinds(events: &[EventRecord]) -> Vec<(u64, MailEventKind)> {
        events.iter().map(|e| (e.account.0, e.kind.clone())).collect()
    }

    #[test]
    fn remote_domains_of_the_network_are_other_agencies() {
        let routes = ["bacninh.gov.vn".to_owned(), "*.thanhhoa.gov.vn".to_owned()];
        let table = [
            ("a@bacninh.gov.vn", Destination::OtherAgency),
            ("a@BACNINH.gov.vn", Destination::OtherAgency),
            ("a@syt.thanhhoa.gov.vn", Destination::OtherAgency),
            ("a@thanhhoa.gov.vn", Destination::Internet),
            ("a@gmail.com", Destination::Internet),
            ("no-domain", Destination::Internet),
        ];
        for (address, expected) in table {
            assert_eq!(remote_destination(address, &routes), expected, "{address}");
        }
        assert_eq!(remote_destination("a@bacninh.gov.vn", &[]), Destination::Internet);
    }

    #[test]
    fn a_submission_is_one_event_per_destination_class_and_one_per_delivery() {
        let parties = submission(vec![Destination::Internet, Destination::Internet]);
        let outcomes = [
            delivered(COLLEAGUE),
            DeliveryOutcome::OverQuota {
                account: OTHER_AGENCY,
            },
        ];
        let events = accepted(&parties, &outcomes, 100);
        assert!(events.iter().all(|e| e.at == 100));
        assert_eq!(
            kinds(&events),
            [
                (
                    2,
                    MailEventKind::Delivered {
                        origin: Origin::Internal
                    }
                ),
                (
                    1,
                    MailEventKind::Submitted {
                        destination: Destination::Internal
                    }
                ),
                (
                    1,
                    MailEventKind::Submitted {
                        destination: Destination::OtherAgency
                    }
                ),
                (
                    1,
                    MailEventKind::Submitted {
                        destination: Destination::Internet
                    }
                ),
            ]
        );
    }

    #[test]
    fn mail_from_outside_is_delivered_with_its_origin_and_submitted_by_nobody() {
        let parties = Parties {
            origin: Origin::AgencyRelay,
            submitter: None,
            local: vec![(COLLEAGUE, "sttt".to_owned())],
            remote: Vec::new(),
        };
        assert_eq!(
            kinds(&accepted(&parties, &[delivered(COLLEAGUE)], 5)),
            [(
                2,
                MailEventKind::Delivered {
                    origin: Origin::AgencyRelay
                }
            )]
        );
        assert_eq!(event_origin(Listener::Internet), Origin::Internet);
        assert_eq!(event_origin(Listener::Submission), Origin::Internal);
    }

    #[test]
    fn a_refusal_is_the_submitters_or_each_local_recipients() {
        let refused_rule = |rule: &str| MailEventKind::Refused {
            rule: rule.to_owned(),
        };
        let parties = submission(vec![Destination::Internet]);
        assert_eq!(
            kinds(&refused(&parties, "format_not_allowed", 7)),
            [(1, refused_rule("format_not_allowed"))]
        );
        let inbound = Parties {
            submitter: None,
            origin: Origin::Internet,
            ..parties
        };
        assert_eq!(
            kinds(&refused(&inbound, "550", 7)),
            [(2, refused_rule("550")), (3, refused_rule("550"))]
        );
    }
}
