"""The search page every signed-in organisation reaches from the navigation's search box."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from app.errors import InvalidRequest
from app.search import finder
from app.ui.render import page
from app.ui.session import WebDep, reader

router = APIRouter()


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, web: WebDep, q: str = "") -> Response:
    try:
        with reader(request)() as session:
            results = finder.search(session, finder.scope_of(session, web.caller), q[:200])
    except InvalidRequest as exc:
        return page(request, "search.html", web, status_code=422, q=q, results=None,
                    error=exc.detail)
    return page(request, "search.html", web, q=results.query, results=results,
                labels=finder.LABELS)
