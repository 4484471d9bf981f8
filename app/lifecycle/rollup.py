"""A MAWB's roll-up: its HAWBs counted by status, and the stage the MAWB as a whole is at."""

from __future__ import annotations

from app.manifest.statuses import HawbStatus as S

# Stages, least advanced first. A MAWB is at the least advanced stage of its HAWBs, leaving
# out those that left the path to release (refused, handed to formal entry: Type 01).
STAGES: tuple[tuple[str, frozenset[str]], ...] = (
    ("needs_correction", frozenset({S.INVALID, S.BROKER_REJECTED, S.ACE_REJECTED})),
    ("awaiting_review", frozenset({S.RECEIVED, S.ELIGIBLE, S.NEEDS_REVIEW, S.INELIGIBLE})),
    ("awaiting_submission", frozenset({S.APPROVED, S.SUBMITTING})),
    ("in_customs", frozenset({S.SUBMITTED, S.ACCEPTED, S.ENTRY_SUMMARY_ACCEPTED,
                              S.DUTY_PAID})),
    ("on_hold", frozenset({S.HOLD})),
    ("permit_to_transfer", frozenset({S.PERMIT_TO_TRANSFER})),
    ("released", frozenset({S.RELEASED})),
    ("at_cfs", frozenset({S.RECEIVED_AT_CFS})),
    ("handed_to_carrier", frozenset({S.HANDED_TO_CARRIER})),
)
LEFT_TYPE86 = frozenset({S.REFUSED, S.FORMAL_ENTRY})


def mawb_status(counts: dict[str, int]) -> str:
    present = {status for status, n in counts.items() if n}
    if not present:
        return "empty"
    for stage, statuses in STAGES:
        if present & statuses:
            return stage
    return "closed"  # every HAWB refused or handed to formal entry
