"""Templates, and the small helpers pages share."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from app.kit.money import usd
from app.lifecycle.rollup import STAGES
from app.manifest.statuses import HawbStatus
from app.ui.session import Web

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
# Cents as dollars, exactly ("1234" -> "12.34"; blank for none).
templates.env.filters["usd"] = lambda cents: "" if cents is None else f"{usd(int(cents)):,}"
# Colour per stage of the roll-up bar (each also carries its name as text).
STAGE_OF = {status: stage for stage, statuses in STAGES for status in statuses}

_S = HawbStatus
# Status chips: the words a customs user reads, and a tone (colour) by what the status asks
# of them. Each chip also carries the status's code as its title.
STATUS_LABELS: dict[str, str] = {
    _S.RECEIVED: "received, not yet judged", _S.INVALID: "row errors",
    _S.NEEDS_REVIEW: "needs review", _S.BROKER_REJECTED: "rejected by the broker",
    _S.FORMAL_ENTRY: "formal entry", _S.ACE_REJECTED: "rejected by ACE",
    _S.ENTRY_SUMMARY_ACCEPTED: "entry summary accepted", _S.DUTY_PAID: "duty paid",
    _S.PERMIT_TO_TRANSFER: "permit to transfer", _S.HOLD: "on hold",
    _S.RECEIVED_AT_CFS: "at the CFS", _S.HANDED_TO_CARRIER: "handed to carrier",
}
TONES: dict[str, frozenset[str]] = {
    "bad": frozenset({_S.INVALID, _S.INELIGIBLE, _S.BROKER_REJECTED, _S.ACE_REJECTED,
                      _S.REFUSED}),
    "warn": frozenset({_S.NEEDS_REVIEW, _S.HOLD}),
    "good": frozenset({_S.ELIGIBLE, _S.RELEASED, _S.RECEIVED_AT_CFS, _S.HANDED_TO_CARRIER}),
    "busy": frozenset({_S.APPROVED, _S.SUBMITTING, _S.SUBMITTED, _S.ACCEPTED,
                       _S.ENTRY_SUMMARY_ACCEPTED, _S.DUTY_PAID, _S.PERMIT_TO_TRANSFER}),
}
TONE_LEGEND = (("bad", "needs a correction or was refused"), ("warn", "needs attention"),
               ("busy", "on its way through customs"), ("good", "cleared or ready"),
               ("neutral", "waiting, or left this service (formal entry)"))


def status_label(status: str | None) -> str:
    return "" if not status else STATUS_LABELS.get(status, status.replace("_", " "))


def status_tone(status: str | None) -> str:
    return next((tone for tone, members in TONES.items() if status in members), "neutral")


# The ports' local time, shown on hover beside the UTC the console prints.
PORT_ZONES = {"LAX": ZoneInfo("America/Los_Angeles"), "SFO": ZoneInfo("America/Los_Angeles"),
              "JFK": ZoneInfo("America/New_York"), "ATL": ZoneInfo("America/New_York")}


def when(moment: datetime | None, port: str | None = None, seconds: bool = True) -> Markup:
    """A stored time as UTC, saying so, in a <time> element; with a port, its local time as
    the hover text."""
    if moment is None:
        return Markup("")
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    shown = moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M") + " UTC"
    zone = PORT_ZONES.get(port or "")
    if zone is None:
        return Markup('<time datetime="{}">{}</time>').format(moment.isoformat(), shown)
    local = f"{moment.astimezone(zone).strftime('%Y-%m-%d %H:%M %Z')} at {port}"
    return Markup('<time datetime="{}" title="{}">{}</time>').format(moment.isoformat(), local,
                                                                     shown)


templates.env.filters["when"] = when
templates.env.filters["status_label"] = status_label
templates.env.filters["status_tone"] = status_tone
templates.env.globals["TONE_LEGEND"] = TONE_LEGEND


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


# Notices shown once after a form: never carried into another link.
_NOTICES = ("done", "error")


def this_page(request: Request, **changes: str) -> str:
    """The console path and query of this request, its notices dropped and ``changes``
    applied: a link to the next page, or where a form comes back to, keeps the filters."""
    params = {k: v for k, v in request.query_params.items()
              if k not in _NOTICES and k not in changes}
    params.update({k: v for k, v in changes.items() if v})
    path = "/ui" + request.url.path.removeprefix("/ui")
    return f"{path}?{urlencode(params)}" if params else path


def local(target: str, default: str = "/ui/") -> str:
    """Only ever redirect within the console (no open redirect)."""
    return target if target.startswith("/ui/") and not target.startswith("//") else default


def back_to(target: str, **messages: str) -> RedirectResponse:
    """See-other to a console page, with a notice (``done``) or ``error`` to show there."""
    separator = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{separator}{urlencode(messages)}", status_code=303)
