"""CSV answers, the same for the API and the console: an attachment of text whose cells are
neutralised by ``app.spreadsheet``."""

from __future__ import annotations

from typing import Any

from fastapi import Response

from app.analytics.exports import Export
from app.analytics.period import Period

# The OpenAPI description of a CSV answer.
CSV: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}}}}


def csv_response(text: str, filename: str) -> Response:
    return Response(text, media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def export_response(table: Export, period: Period) -> Response:
    """An analytics table over a period (``spreadsheet.cell`` for every cell)."""
    return csv_response(table.text(), table.filename(period))
