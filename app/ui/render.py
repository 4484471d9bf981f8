"""Templates, and the small helpers pages share."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from app.kit.money import usd
from app.lifecycle.rollup import STAGES
from app.ui.session import Web

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
# Cents as dollars, exactly ("1234" -> "12.34"; blank for none).
templates.env.filters["usd"] = lambda cents: "" if cents is None else f"{usd(int(cents)):,}"
# Colour per stage of the roll-up bar (each also carries its name as text).
STAGE_OF = {status: stage for stage, statuses in STAGES for status in statuses}


def page(request: Request, name: str, web: Web | None, status_code: int = 200,
         **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, {"web": web, **context},
                                      status_code=status_code)


def bar(counts: dict[str, int]) -> list[dict[str, Any]]:
    """The roll-up bar's segments: status, count, share (%) and stage."""
    total = sum(counts.values()) or 1
    return [{"status": status, "count": n, "share": round(100 * n / total, 1),
             "stage": STAGE_OF.get(status, "closed")}
            for status, n in sorted(counts.items(), key=lambda kv: -kv[1]) if n]


def local(target: str, default: str = "/ui/") -> str:
    """Only ever redirect within the console (no open redirect)."""
    return target if target.startswith("/ui/") and not target.startswith("//") else default


def back_to(target: str, **messages: str) -> RedirectResponse:
    """See-other to a console page, with a notice (``done``) or ``error`` to show there."""
    separator = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{separator}{urlencode(messages)}", status_code=303)
