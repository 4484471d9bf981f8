"""Search: one query over HAWB number, MAWB, tracking number, entry number and consignee
name, within what the caller may see."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import CallerDep, SessionDep
from app.api.problems import problem_responses
from app.api.schemas.search import SearchOut
from app.search import finder

router = APIRouter(prefix="/v1", tags=["search"], responses=problem_responses(401))


@router.get("/search", response_model=SearchOut, responses=problem_responses(422),
            summary="Find HAWBs by HAWB number, MAWB, tracking number, entry number or "
                    "consignee name",
            description="Exact HAWB, tracking and entry numbers and MAWBs (`176-12345675` or "
                        "`17612345675`); consignee names by their beginning, in any case. "
                        "Forwarders find their own HAWBs, brokers their clients', a CFS those "
                        "of the MAWBs assigned to its facilities, a carrier its parcels, "
                        "administrators all. At most `limit` hits; `more` says there were "
                        "others.")
def search(caller: CallerDep, session: SessionDep,
           q: Annotated[str, Query(description="At least 3 characters.", max_length=200)] = "",
           limit: Annotated[int, Query(ge=1, le=finder.MAX_LIMIT)] = 50) -> SearchOut:
    scope = finder.scope_of(session, caller)
    return SearchOut.model_validate(finder.search(session, scope, q, limit=limit))
