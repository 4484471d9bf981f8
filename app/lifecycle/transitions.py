"""The one transition table of a HAWB's lifecycle after eligibility (DESIGN.md section 3),
for Type 86 and Type 11 entries alike.

Upload and eligibility set the first statuses (received, invalid, eligible, ineligible,
needs_review) in bulk; from a judged status on, every change is an event applied through
this table. A Type 11 (informal entry) HAWB is ineligible for de minimis and approved from
there (brokers.approve lets only those the duty engine priced as Type 11 through); after
ACE accepts its cargo release its entry summary is accepted and its daily statement paid.
"""

from __future__ import annotations

import enum

from app.manifest.statuses import HawbStatus as S


class Event(enum.StrEnum):
    APPROVE = "approve"  # broker
    REJECT = "reject"  # broker
    ROUTE_TO_FORMAL_ENTRY = "route_to_formal_entry"  # broker, ineligible HAWBs
    CLAIM = "claim"  # worker takes it to submit
    RELEASE_CLAIM = "release_claim"  # worker could not reach customs; it waits again
    SUBMIT = "submit"  # customs took the entry in
    ACCEPT = "accept"  # ACE accepted the entry
    ACE_REJECT = "ace_reject"
    ACCEPT_ENTRY_SUMMARY = "accept_entry_summary"  # Type 11: ACE accepted the AE
    PAY_STATEMENT = "pay_statement"  # Type 11: the daily statement carrying it was paid
    PERMIT_TO_TRANSFER = "permit_to_transfer"  # for the whole MAWB, to the CFS
    HOLD = "hold"  # 1H
    REMOVE_HOLD = "remove_hold"  # 1I
    RELEASE = "release"  # 1C
    REFUSE = "refuse"
    RECEIVE_AT_CFS = "receive_at_cfs"
    HAND_TO_CARRIER = "hand_to_carrier"


REVIEWABLE = (S.ELIGIBLE, S.NEEDS_REVIEW)
# ACE may answer before the worker has recorded that the submission went through.
IN_FLIGHT = (S.SUBMITTING, S.SUBMITTED)
# Customs' answer is the truth: an entry the worker gave back (its answer lost in a timeout)
# may have been filed all the same, and ACE's accept or reject then arrives first.
ANSWERABLE = (S.APPROVED, *IN_FLIGHT)
FILED = (S.ACCEPTED, S.PERMIT_TO_TRANSFER)
# Type 11 after its cargo release was accepted: the physical events (permit, hold, release)
# apply as to an accepted Type 86.
INFORMAL = (S.ENTRY_SUMMARY_ACCEPTED, S.DUTY_PAID)
# ACE may answer the summary or the payment after a permit to transfer or a hold: the
# status stays, the event is recorded.
STAYING = (S.PERMIT_TO_TRANSFER, S.HOLD)

TABLE: dict[tuple[str, Event], str] = {
    **{(s, Event.APPROVE): S.APPROVED for s in (*REVIEWABLE, S.BROKER_REJECTED, S.ACE_REJECTED,
                                                S.INELIGIBLE)},
    **{(s, Event.REJECT): S.BROKER_REJECTED for s in (*REVIEWABLE, S.APPROVED)},
    (S.INELIGIBLE, Event.ROUTE_TO_FORMAL_ENTRY): S.FORMAL_ENTRY,
    (S.APPROVED, Event.CLAIM): S.SUBMITTING,
    (S.SUBMITTING, Event.RELEASE_CLAIM): S.APPROVED,
    (S.SUBMITTING, Event.SUBMIT): S.SUBMITTED,
    **{(s, Event.ACCEPT): S.ACCEPTED for s in ANSWERABLE},
    **{(s, Event.ACE_REJECT): S.ACE_REJECTED for s in ANSWERABLE},
    (S.ACCEPTED, Event.ACCEPT_ENTRY_SUMMARY): S.ENTRY_SUMMARY_ACCEPTED,
    **{(s, Event.ACCEPT_ENTRY_SUMMARY): s for s in STAYING},
    (S.ENTRY_SUMMARY_ACCEPTED, Event.PAY_STATEMENT): S.DUTY_PAID,
    **{(s, Event.PAY_STATEMENT): s for s in STAYING},
    **{(s, Event.PERMIT_TO_TRANSFER): S.PERMIT_TO_TRANSFER for s in (S.ACCEPTED, *INFORMAL)},
    (S.HOLD, Event.PERMIT_TO_TRANSFER): S.HOLD,  # still held; the permit is recorded
    **{(s, Event.HOLD): S.HOLD for s in (*FILED, *INFORMAL)},
    (S.HOLD, Event.REMOVE_HOLD): S.ACCEPTED,
    **{(s, Event.RELEASE): S.RELEASED for s in (*FILED, *INFORMAL, S.HOLD)},
    **{(s, Event.REFUSE): S.REFUSED for s in (*FILED, *INFORMAL, S.HOLD)},
    (S.RELEASED, Event.RECEIVE_AT_CFS): S.RECEIVED_AT_CFS,
    (S.RECEIVED_AT_CFS, Event.HAND_TO_CARRIER): S.HANDED_TO_CARRIER,
}

STATUSES: frozenset[str] = frozenset(S)
# Where an event may start, for queries that pick the HAWBs an event applies to.
SOURCES: dict[Event, tuple[str, ...]] = {
    event: tuple(sorted(s for (s, e) in TABLE if e is event)) for event in Event}


def target(status: str, event: Event) -> str | None:
    """The status ``event`` moves ``status`` to; None when the table does not allow it."""
    return TABLE.get((status, event))


def reachable(start: str) -> frozenset[str]:
    """Every status some sequence of events can lead to from ``start``."""
    seen = {start}
    frontier = [start]
    while frontier:
        current = frontier.pop()
        for (source, _), to in TABLE.items():
            if source == current and to not in seen:
                seen.add(to)
                frontier.append(to)
    return frozenset(seen)
