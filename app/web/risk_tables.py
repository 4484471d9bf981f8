"""The compliance-risk tables, registered once for the API (a JSON page and a CSV each) and
the console (its tab and CSV links): each table's finder in ``app.analytics.risks`` and its
rows as the API gives them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Response
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from sqlalchemy.orm import Session

from app.analytics.exports import Export
from app.analytics.period import Period
from app.analytics.risks import consignees as risks_consignees
from app.analytics.risks import customs as risks_customs
from app.analytics.risks import declarations as risks_declarations
from app.analytics.risks import goods as risks_goods
from app.analytics.risks.findings import Kind
from app.kit.money import cents_to_usd
from app.kit.pagination import Page, PageOf, Paging
from app.manifest.queries import Scope
from app.web.csv import export_response

D = TypeVar("D")
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class RiskTable(Generic[D, M]):
    """A risk table: its finder in app.analytics, and its rows as the API gives them, as
    JSON pages or as one CSV (the console's CSV is the same)."""

    name: str
    find: Callable[[Session, Scope, Period, Paging], PageOf[D]]
    model: type[M]
    row: Callable[[D], M]

    def page(self, session: Session, scope: Scope, period: Period, paging: Paging
             ) -> Page[M]:
        found = self.find(session, scope, period, paging)
        return Page(items=[self.row(x) for x in found.items], total=found.total,
                       next_cursor=found.next_cursor)

    def csv(self, session: Session, scope: Scope, period: Period) -> Response:
        found = self.find(session, scope, period, Paging(None))
        rows = [tuple(self.row(x).model_dump(mode="json").values()) for x in found.items]
        return export_response(Export(self.name, tuple(self.model.model_fields), rows), period)


@dataclass(frozen=True)
class Exposed:
    """A registered table, the findings it needs brought up to date first, and the API's
    summaries of its page and its CSV."""

    table: RiskTable[Any, Any]
    kinds: tuple[Kind, ...]
    summary: str
    csv_summary: str


EXPOSED: list[Exposed] = []  # in the order of the API's paths
TABLES: dict[str, RiskTable[Any, Any]] = {}


def _register(table: RiskTable[Any, Any], *kinds: Kind, summary: str, csv_summary: str
              ) -> None:
    EXPOSED.append(Exposed(table, kinds, summary, csv_summary))
    TABLES[table.name] = table


def _usd(cents: int) -> Decimal:
    return cents_to_usd(cents) or Decimal("0.00")


# The rows are read from the domain's findings (``from_attributes``); amounts in cents
# become USD through their ``*_cents`` attribute.
Usd = Annotated[Decimal, BeforeValidator(_usd)]
UsdOrNone = Annotated[Decimal | None, BeforeValidator(cents_to_usd)]


def _cents(name: str, description: str | None = None) -> Any:
    return Field(validation_alias=name, description=description)


class _Row(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --- one person, one day ------------------------------------------------------------------


class OverLimitOut(_Row):
    arrival_date: date
    consignee_key: str = Field(
        description="The consignee as eligibility identifies one "
        "person: NAME|STREET|ZIP5, normalised.",
        examples=["JAMES LEE|4129 WASHINGTON AVE|11284"],
    )
    consignee_name: str | None = Field(description="As your manifests write it.")
    hawbs: int = Field(description="Your HAWBs to the consignee that day.")
    value_usd: Usd = _cents("value_cents", "Their total declared value.")
    limit_usd: Usd = _cents("limit_cents", "The de minimis limit in force that day.")
    with_other_filers: bool = Field(
        description="Other filers' HAWBs to the consignee that day count towards the limit too."
    )
    bills: list[str] = Field(description="Your HAWBs, as MAWB/HAWB.")


class SplitShipmentOut(OverLimitOut):
    shipper_name: str | None = Field(description="The shipper, as your manifests write it.")
    largest_usd: Usd = _cents("largest_cents",
                              "Your largest of these HAWBs; each is within the limit.")


_register(RiskTable("consignees-over-limit", risks_consignees.over_limit, OverLimitOut,
                  OverLimitOut.model_validate), Kind.CONSIGNEE_DAYS,
        summary="Consignees whose HAWBs arriving on one day total more than the de minimis "
                "limit (one person, one day)",
        csv_summary="Consignees over the limit as CSV")
_register(RiskTable("split-shipments", risks_consignees.split_shipments, SplitShipmentOut,
                  SplitShipmentOut.model_validate), Kind.CONSIGNEE_DAYS,
        summary="Suspected split shipments: HAWBs from one shipper to one consignee on one "
                "day, each within the limit, together over it",
        csv_summary="Suspected split shipments as CSV")


# --- consignees written in several ways ---------------------------------------------------


class SpellingsOut(_Row):
    consignee_key: str = Field(examples=["JAMES LEE|4129 WASHINGTON AVE|11284"])
    spellings: int = Field(description="Different ways the name and address were written.")
    shippers: int
    forwarders: int
    hawbs: int
    first_arrival: date
    last_arrival: date
    examples: list[str] = Field(description="The most used spellings, with their HAWBs.")


_register(RiskTable("consignee-spellings", risks_consignees.spellings, SpellingsOut,
                  SpellingsOut.model_validate), Kind.SPELLINGS,
        summary="Consignees declared with different names or addresses by different shippers "
                "or forwarders",
        csv_summary="Consignee spellings as CSV")


# --- goods ----------------------------------------------------------------------------------


class VagueOut(_Row):
    description: str = Field(examples=["Gift"])
    lines: int
    hawbs: int
    value_usd: Usd = _cents("value_cents")
    first_arrival: date
    last_arrival: date


class MismatchOut(_Row):
    hts_code: str = Field(examples=["6109100012"])
    hts_description: str | None = Field(description="The loaded schedule's description.")
    description: str = Field(examples=["LED desk lamp, USB powered"])
    lines: int
    hawbs: int
    value_usd: Usd = _cents("value_cents")


_register(RiskTable("vague-descriptions", risks_goods.vague_descriptions, VagueOut,
                  VagueOut.model_validate), Kind.GOODS,
        summary="Descriptions too vague for CBP to identify the goods",
        csv_summary="Vague descriptions as CSV")
_register(RiskTable("hts-mismatches", risks_goods.hts_mismatches, MismatchOut,
                  MismatchOut.model_validate), Kind.GOODS,
        summary="HTS lines whose description names no goods of the HTS chapter",
        csv_summary="HTS mismatches as CSV")


# --- value per kg -----------------------------------------------------------------------------


class HeadingValueOut(_Row):
    heading: str = Field(examples=["6109"])
    heading_description: str | None
    hawbs_rated: int = Field(
        description="Your HAWBs of this heading alone, of 0.5 kg or more, with a value."
    )
    typical_usd_per_kg_from: Decimal = Field(description="The bin of the middle HAWB.")
    typical_usd_per_kg_to: Decimal
    low_outliers: int = Field(description="HAWBs about ten times cheaper per kg, or more.")
    high_outliers: int = Field(description="HAWBs about ten times dearer per kg, or more.")
    outlier_value_usd: Usd = _cents("outlier_value_cents")


class ValueOutlierOut(_Row):
    mawb: str
    hawb_no: str
    arrival_date: date
    value_usd: Usd = _cents("value_cents")
    gross_weight_kg: Decimal
    usd_per_kg: Decimal
    side: str = Field(description="low or high", examples=["low"])


_register(RiskTable("value-per-kg", risks_goods.value_per_kg, HeadingValueOut,
                  HeadingValueOut.model_validate), Kind.GOODS,
        summary="Value per kg by HTS heading: the typical range and the outliers",
        csv_summary="Value per kg by heading as CSV")
def outliers_table(heading: str) -> RiskTable[risks_goods.ValueOutlier, ValueOutlierOut]:
    """One heading's value outliers, as a table of its own."""

    def find(session: Session, scope: Scope, period: Period, paging: Paging
             ) -> PageOf[risks_goods.ValueOutlier]:
        return risks_goods.value_outliers(session, scope, period, heading, paging)

    return RiskTable(f"value-per-kg-{heading}", find, ValueOutlierOut,
                     ValueOutlierOut.model_validate)


# --- declarations changed between uploads -----------------------------------------------------


class ChangedDeclarationOut(_Row):
    mawb: str
    hawb_no: str
    arrival_date: date
    changed: list[str] = Field(description="value, hts, description", examples=[["value", "hts"]])
    earlier_status: str = Field(
        description="Where the earlier version stood.", examples=["ineligible"]
    )
    value_before_usd: UsdOrNone = _cents("value_before_cents")
    value_after_usd: UsdOrNone = _cents("value_after_cents")
    hts_before: str
    hts_after: str
    descriptions_before: str
    descriptions_after: str
    earlier_upload_id: int
    later_upload_id: int
    recorded_at: datetime


_register(RiskTable("changed-declarations", risks_declarations.changed_declarations,
                  ChangedDeclarationOut, ChangedDeclarationOut.model_validate),
        summary="HAWBs a later upload declared with another value, HTS number or description",
        csv_summary="Changed declarations as CSV")


# --- holds and rejections -----------------------------------------------------------------------


class StopCauseOut(_Row):
    kind: str = Field(
        description="customs_rejection, customs_hold, agency_review, "
        "agency_refusal, refusal or broker_rejection",
        examples=["customs_rejection"],
    )
    cause: str = Field(
        description="The error code, disposition, agency or reason.", examples=["S07"]
    )
    detail: str = Field(description="What the cause means, or an example of its message.")
    hawbs: int
    events: int


_register(RiskTable("holds-and-rejections", risks_customs.holds_and_rejections, StopCauseOut,
                  StopCauseOut.model_validate), Kind.CUSTOMS,
        summary="Holds and rejections by cause: customs, partner agencies, brokers",
        csv_summary="Holds and rejections as CSV")
