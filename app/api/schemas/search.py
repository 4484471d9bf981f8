"""Response body of the search: the HAWBs found and what matched."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MatchedField = Literal["hawb_no", "mawb", "tracking_no", "entry_number", "consignee_name"]


class SearchHitOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    matched: list[MatchedField] = Field(description="What the query matched on this HAWB "
                                        "(more than one when, say, its HAWB number is also "
                                        "its tracking number).")
    hawb_id: int
    hawb_no: str
    status: str
    mawb: str
    port: str
    arrival_date: date
    cfs: str | None = Field(description="The FIRMS code of the CFS its MAWB goes to.")
    carrier: str | None
    tracking_no: str | None
    consignee_name: str | None
    entry_number: str | None


class SearchOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    query: str = Field(description="The query as searched (spaces collapsed).")
    hits: list[SearchHitOut]
    more: bool = Field(description="More HAWBs matched than the limit: narrow the query.")
    searched: list[MatchedField] = Field(description="What the query was compared with: "
                                         "only 11 digits are a MAWB, only a filer code, 7 "
                                         "digits and a valid check digit an entry number.")
