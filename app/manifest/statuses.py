"""HAWB and manifest statuses. Stored as text: adding one is a plain migration."""

from __future__ import annotations

import enum


class HawbStatus(enum.StrEnum):
    RECEIVED = "received"  # stored, not yet judged
    INVALID = "invalid"  # has row errors; not judged until corrected
    ELIGIBLE = "eligible"
    INELIGIBLE = "ineligible"  # route to formal or informal entry
    NEEDS_REVIEW = "needs_review"  # eligible on the rules, with red flags for the broker
    # From here on the lifecycle's transition table (app/lifecycle/transitions.py) rules.
    APPROVED = "approved"  # by a broker, who will file it
    BROKER_REJECTED = "broker_rejected"  # the forwarder must correct it
    FORMAL_ENTRY = "formal_entry"  # ineligible; handed to formal or informal entry
    SUBMITTING = "submitting"  # claimed by a worker, being sent to customs
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    # Type 11: ACE accepted the entry summary; then the daily statement carrying its duties
    # and fees was paid.
    ENTRY_SUMMARY_ACCEPTED = "entry_summary_accepted"
    DUTY_PAID = "duty_paid"
    ACE_REJECTED = "ace_rejected"  # the forwarder corrects, the broker re-approves
    PERMIT_TO_TRANSFER = "permit_to_transfer"  # its MAWB may move to the CFS
    HOLD = "hold"  # 1H
    RELEASED = "released"  # 1C
    REFUSED = "refused"
    RECEIVED_AT_CFS = "received_at_cfs"
    HANDED_TO_CARRIER = "handed_to_carrier"


# A carrier's parcels: released HAWBs on their way to it (its list and its ETag follow them).
PARCELS: tuple[str, ...] = (HawbStatus.RELEASED.value, HawbStatus.RECEIVED_AT_CFS.value,
                            HawbStatus.HANDED_TO_CARRIER.value)


class ManifestStatus(enum.StrEnum):
    RECEIVED = "received"
    RECEIVED_WITH_ERRORS = "received_with_errors"
    EMPTY = "empty"


# A HAWB may be replaced by a corrected upload, or deleted, only in these statuses:
# once filed with CBP, corrections go through the broker instead.
JUDGED: frozenset[str] = frozenset({HawbStatus.ELIGIBLE, HawbStatus.INELIGIBLE,
                                    HawbStatus.NEEDS_REVIEW})
AMENDABLE: frozenset[str] = frozenset({HawbStatus.RECEIVED, HawbStatus.INVALID,
                                       HawbStatus.BROKER_REJECTED, HawbStatus.ACE_REJECTED}
                                      | JUDGED)
# Statuses whose eligibility decision may still be changed by re-evaluation; past them a
# change raises a compliance alert instead.
REDECIDABLE: frozenset[str] = frozenset({HawbStatus.RECEIVED} | JUDGED)
