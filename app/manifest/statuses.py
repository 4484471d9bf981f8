"""HAWB and manifest statuses known so far. Stored as text: adding one is a plain migration."""

from __future__ import annotations

import enum


class HawbStatus(enum.StrEnum):
    RECEIVED = "received"  # stored, not yet judged
    INVALID = "invalid"  # has row errors; not judged until corrected
    ELIGIBLE = "eligible"
    INELIGIBLE = "ineligible"  # route to formal or informal entry
    NEEDS_REVIEW = "needs_review"  # eligible on the rules, with red flags for the broker


class ManifestStatus(enum.StrEnum):
    RECEIVED = "received"
    RECEIVED_WITH_ERRORS = "received_with_errors"
    EMPTY = "empty"


# A HAWB may be replaced by a corrected upload, or deleted, only in these statuses:
# once filed with CBP, corrections go through the broker instead.
JUDGED: frozenset[str] = frozenset({HawbStatus.ELIGIBLE, HawbStatus.INELIGIBLE,
                                    HawbStatus.NEEDS_REVIEW})
AMENDABLE: frozenset[str] = frozenset({HawbStatus.RECEIVED, HawbStatus.INVALID} | JUDGED)
# Statuses whose eligibility decision may still be changed by re-evaluation; past them a
# change raises a compliance alert instead.
REDECIDABLE: frozenset[str] = frozenset({HawbStatus.RECEIVED} | JUDGED)
