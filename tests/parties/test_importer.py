"""Importer of record numbers: the forms CBP accepts, normalised; the rest refused with a
reason."""

from __future__ import annotations

import pytest

from app.parties import importer

VALID = [
    # EIN with suffix (stdnum.us.ein: 12 is an IRS campus prefix)
    ("12-345678900", "12-345678900"),
    ("12-3456789 00", "12-345678900"),
    ("12-3456789ab", "12-3456789AB"),
    (" 95-1234567 01 ", "95-123456701"),
    # SSN
    ("123-45-6789", "123-45-6789"),
    ("123 - 45 - 6789", "123-45-6789"),
    # CBP-assigned number
    ("252720-00001", "252720-00001"),
]

INVALID = [
    ("", "empty"),
    ("00-123456700", "not a valid EIN"),  # 00 is no IRS campus prefix
    ("07-123456700", "not a valid EIN"),
    ("12-3456789", "without its 2-character suffix"),
    ("000-12-3456", "not a valid social security number"),
    ("666-12-3456", "not a valid social security number"),
    ("912-34-5678", "not a valid social security number"),
    ("123-00-6789", "not a valid social security number"),
    ("12345678900", "write it with its hyphens"),
    ("123456789", "is not an importer of record number"),
    ("ACME", "is not an importer of record number"),
    ("12-345678900X", "is not an importer of record number"),
    ("2527-2000001", "is not an importer of record number"),
]


@pytest.mark.parametrize(("sent", "canonical"), VALID)
def test_accepted_forms_are_normalised(sent: str, canonical: str) -> None:
    assert importer.normalise(sent) == canonical
    assert importer.problem(sent) is None


@pytest.mark.parametrize(("sent", "reason"), INVALID)
def test_other_forms_are_refused_with_the_reason(sent: str, reason: str) -> None:
    with pytest.raises(importer.InvalidImporter, match=reason):
        importer.normalise(sent)
    assert reason in (importer.problem(sent) or "")
