"""HAWB and manifest statuses known so far. Stored as text: adding one is a plain migration."""

from __future__ import annotations

import enum


class HawbStatus(enum.StrEnum):
    RECEIVED = "received"
    INVALID = "invalid"


class ManifestStatus(enum.StrEnum):
    RECEIVED = "received"
    RECEIVED_WITH_ERRORS = "received_with_errors"
    EMPTY = "empty"


# A HAWB may be replaced by a corrected upload, or deleted, only in these statuses:
# once filed with CBP, corrections go through the broker instead.
AMENDABLE: frozenset[str] = frozenset({HawbStatus.RECEIVED, HawbStatus.INVALID})
