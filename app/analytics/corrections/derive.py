"""Deriving the corrections rows, set-based, one forwarder at a time.

A forwarder's rows are derived again, whole, when its signature changed: the count and
latest ``updated_at`` of its manifests (every upload and deletion sets it) and the count
and latest filing of its entries (``ace_entries``). The derivation reads the forwarder's
filed lines (HAWBs of entry type 11 or 01 whose duty was computed, with an entry number)
in one query, groups them with polars, and re-prices with the service's own engine
(``app.tariff.pricing``) only the candidate lines, never the whole table:

- a **product** is a normalised description (lower case, anything but letters and digits
  to single spaces, trimmed) and the shipper key of ``app.eligibility.consignee``;
- **consistency**: the filed lines of products filed under more than one HTS number,
  added up per arrival day and HTS number;
- **corrections**, per filed line: ``classification`` when the product's latest filing
  (latest arrival, then latest HAWB) is later and under another HTS number; ``origin``
  when it is later and declares another origin; ``spi`` when the line claims no program,
  its origin has a one-country program (``rules.SPI_BY_ORIGIN``) and the line's Special
  rate in the edition of its arrival date lists that program. Each is re-priced alone
  (the one field changed) on the arrival date; a line the engine cannot price exactly
  (needs review) is left out, and so is a line whose duty does not change.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

import polars as pl
from sqlalchemy import String, cast, delete, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from app.ace_gateway.models import AceEntry
from app.analytics.corrections.models import (
    CorrectionSource,
    PostSummaryCorrection,
    ProductHtsDay,
    ProductHtsMonth,
)
from app.analytics.corrections.rules import SPI_BY_ORIGIN
from app.db import transaction, utcnow
from app.manifest.bulk import read_frame, writer_for
from app.manifest.models import Hawb, HawbLine, Manifest
from app.manifest.statuses import HawbStatus
from app.tariff import pricing, tariff
from app.tariff import rates as rate_text
from app.tariff.engine import COMPUTED
from app.tariff.models import DutyLine

_LINES: dict[str, pl.DataType] = {
    "hawb_id": pl.Int64(), "hawb_no": pl.String(), "arrival_date": pl.Date(),
    "entry_type": pl.String(), "shipper_key": pl.String(), "shipper_name": pl.String(),
    "total_value_cents": pl.Int64(), "gross_weight_kg": pl.String(), "line_no": pl.Int64(),
    "description": pl.String(), "hts_code": pl.String(), "origin_country": pl.String(),
    "quantity": pl.String(), "unit": pl.String(), "value_cents": pl.Int64(),
    "net_weight_kg": pl.String(), "spi": pl.String(), "entry_number": pl.String(),
    "filed_at": pl.Datetime(),
}
_DUTIES: dict[str, pl.DataType] = {"hawb_id": pl.Int64(), "line_no": pl.Int64(),
                                   "duty_cents": pl.Int64()}


def product_description(expr: pl.Expr) -> pl.Expr:
    """A description as products are compared: lower case, any run of characters other
    than letters and digits one space, trimmed ("USB-C Cable, 1m" is "usb c cable 1m")."""
    return (expr.fill_null("").str.to_lowercase()
            .str.replace_all(r"[^\p{L}\p{N}]+", " ").str.strip_chars())


# --- what is out of date ----------------------------------------------------------------


def signatures(session: Session) -> dict[int, str]:
    """Per forwarder: what its rows depend on, as text."""
    m = Manifest
    manifests = session.execute(
        select(m.forwarder_id, func.count(), func.max(m.updated_at)).group_by(m.forwarder_id)
    ).all()
    entries = {
        f: (n, at) for f, n, at in session.execute(
            select(m.forwarder_id, func.count(), func.max(AceEntry.created_at))
            .join(m, m.id == AceEntry.manifest_id).group_by(m.forwarder_id)).all()}
    out = {}
    for forwarder, n, at in manifests:
        filed, last = entries.get(forwarder, (0, None))
        out[int(forwarder)] = f"{n}|{at}|{filed}|{last}"
    return out


def stale(session: Session) -> list[int]:
    """Forwarders whose rows are out of date (or gone: their manifests are)."""
    now = signatures(session)
    stored = {int(f): str(sig) for f, sig in session.execute(
        select(CorrectionSource.forwarder_id, CorrectionSource.signature)).all()}
    changed = {f for f, sig in now.items() if stored.get(f) != sig}
    return sorted(changed | (set(stored) - set(now)))


def refresh(session: Session, forwarders: Sequence[int] | None = None) -> dict[int, int]:
    """Derive the rows of these forwarders again (default: the out-of-date ones), in the
    caller's writer transaction; returns the corrections found per forwarder."""
    wanted = stale(session) if forwarders is None else list(forwarders)
    now = signatures(session)
    done: dict[int, int] = {}
    for forwarder in wanted:
        for table in (ProductHtsDay, ProductHtsMonth, PostSummaryCorrection):
            session.execute(delete(table).where(table.forwarder_id == forwarder))
        session.execute(delete(CorrectionSource).where(
            CorrectionSource.forwarder_id == forwarder))
        if forwarder not in now:
            done[forwarder] = 0
            continue
        done[forwarder] = derive(session, forwarder, utcnow())
        session.execute(insert(CorrectionSource), [{
            "forwarder_id": forwarder, "signature": now[forwarder], "derived_at": utcnow()}])
    return done


# --- deriving one forwarder -----------------------------------------------------------


def _filed(forwarder: int) -> tuple[object, ...]:
    return (Manifest.forwarder_id == forwarder, Hawb.status != HawbStatus.INVALID.value,
            Hawb.entry_type.in_((pricing.TYPE_11, pricing.TYPE_01)),
            Hawb.duty_status == COMPUTED)


def read_lines(session: Session, forwarder: int) -> pl.DataFrame:
    h, ln = Hawb, HawbLine
    stmt = (
        select(h.id, h.hawb_no, h.arrival_date, h.entry_type, h.shipper_key, h.shipper_name,
               h.total_value_cents, cast(h.gross_weight_kg, String), ln.line_no, ln.description,
               ln.hts_code, ln.origin_country, cast(ln.quantity, String), ln.unit,
               ln.value_cents, cast(ln.net_weight_kg, String), ln.spi, AceEntry.entry_number,
               AceEntry.created_at)
        .join(Manifest, Manifest.id == h.manifest_id)
        .join(AceEntry, AceEntry.hawb_id == h.id)
        .join(ln, ln.hawb_id == h.id)
        .where(*_filed(forwarder), ln.line_no.is_not(None)))  # type: ignore[arg-type]
    lines = read_frame(session, stmt, _LINES)
    d = DutyLine
    duties = read_frame(session, (
        select(d.hawb_id, d.line_no, func.sum(d.amount_cents))
        .join(Hawb, Hawb.id == d.hawb_id)
        .join(Manifest, Manifest.id == Hawb.manifest_id)
        .join(AceEntry, AceEntry.hawb_id == Hawb.id)
        .where(*_filed(forwarder), d.kind != "fee")  # type: ignore[arg-type]
        .group_by(d.hawb_id, d.line_no)), _DUTIES)
    return lines.join(duties, on=["hawb_id", "line_no"], how="left").with_columns(
        pl.col("duty_cents").fill_null(0),
        pl.col("value_cents").fill_null(0),
        pl.concat_str(product_description(pl.col("description")),
                      pl.col("shipper_key").fill_null(""), separator="|").alias("product_key"))


def derive(session: Session, forwarder: int, at: datetime) -> int:
    lines = read_lines(session, forwarder).filter(pl.col("hts_code").is_not_null())
    if lines.is_empty():
        return 0
    _consistency(session, forwarder, lines)
    return _corrections(session, forwarder, lines)


def _consistency(session: Session, forwarder: int, lines: pl.DataFrame) -> None:
    several = (lines.group_by("product_key").agg(pl.col("hts_code").n_unique().alias("n"))
               .filter(pl.col("n") > 1).select("product_key"))
    rows = (lines.join(several, on="product_key", how="semi")
            .sort("arrival_date", "hawb_id", "line_no")
            .group_by("arrival_date", "product_key", "hts_code", maintain_order=True)
            .agg(pl.col("description").first(), pl.col("shipper_name").first(),
                 pl.len().alias("lines"), pl.col("value_cents").sum(),
                 pl.col("duty_cents").sum())
            .with_columns(pl.lit(forwarder).alias("forwarder_id")))
    out = writer_for(session.connection())
    out.insert(ProductHtsDay.__tablename__, rows)
    months = (rows.with_columns(pl.col("arrival_date").dt.truncate("1mo").alias("month"))
              .group_by("forwarder_id", "month", "product_key", "hts_code", maintain_order=True)
              .agg(pl.col("description").first(), pl.col("shipper_name").first(),
                   pl.col("lines").sum(), pl.col("value_cents").sum(),
                   pl.col("duty_cents").sum()))
    out.insert(ProductHtsMonth.__tablename__, months)


def _latest(lines: pl.DataFrame) -> pl.DataFrame:
    """Per product, its latest filing: HTS number, origin, arrival, entry and HAWB."""
    return (lines.sort("arrival_date", "hawb_id", "line_no")
            .group_by("product_key")
            .agg(pl.col("hts_code").last().alias("later_hts"),
                 pl.col("origin_country").last().alias("later_origin"),
                 pl.col("arrival_date").last().alias("later_date"),
                 pl.col("entry_number").last().alias("later_entry"),
                 pl.col("hawb_no").last().alias("later_hawb")))


def _spi_candidates(session: Session, lines: pl.DataFrame) -> pl.DataFrame:
    """Lines claiming no program whose origin's program the line's Special rate lists."""
    origins = pl.DataFrame({"origin_country": list(SPI_BY_ORIGIN),
                            "claim": list(SPI_BY_ORIGIN.values())})
    open_ = lines.filter(pl.col("spi").fill_null("").str.strip_chars() == "").join(
        origins, on="origin_country")
    if open_.is_empty():
        return open_.with_columns(pl.lit("").alias("evidence"))
    loaded = tariff.load(session, open_.get_column("hts_code").unique().to_list(),
                         open_.get_column("arrival_date").unique().to_list())
    with_rates = (open_.sort("arrival_date")
                  .join_asof(loaded.editions, left_on="arrival_date", right_on="e_from",
                             strategy="backward")
                  .join(loaded.rates.select("edition_id", "hts_code", "special"),
                        on=["edition_id", "hts_code"], how="left"))
    pairs = with_rates.select("special", "claim").unique().drop_nulls()
    granted = pl.DataFrame(
        [(text, claim) for text, claim in pairs.iter_rows()
         if rate_text.program_rate(text, claim) is not None],
        schema={"special": pl.String, "claim": pl.String}, orient="row")
    return with_rates.join(granted, on=["special", "claim"]).with_columns(
        pl.format("The Special rate of {} lists {} ({}); origin {}; rules of origin to be "
                  "confirmed", pl.col("hts_code"), pl.col("claim"), pl.col("special"),
                  pl.col("origin_country")).alias("evidence"))


def _corrections(session: Session, forwarder: int, lines: pl.DataFrame) -> int:
    later = lines.join(_latest(lines), on="product_key").filter(
        pl.col("later_date") > pl.col("arrival_date"))
    classification = later.filter(pl.col("later_hts") != pl.col("hts_code")).with_columns(
        pl.lit("classification").alias("cause"), pl.lit("hts_code").alias("field"),
        pl.col("hts_code").alias("value_filed"), pl.col("later_hts").alias("value_corrected"),
        pl.format("The same product was filed later under HTS {}: entry {} (HAWB {}) of {}",
                  pl.col("later_hts"), pl.col("later_entry"), pl.col("later_hawb"),
                  pl.col("later_date")).alias("evidence"),
        pl.col("later_hts").alias("hts_code"))
    origin = later.filter(pl.col("later_origin").is_not_null()
                          & (pl.col("later_origin") != pl.col("origin_country").fill_null(""))
                          ).with_columns(
        pl.lit("origin").alias("cause"), pl.lit("origin_country").alias("field"),
        pl.col("origin_country").fill_null("").alias("value_filed"),
        pl.col("later_origin").alias("value_corrected"),
        pl.format("A later upload declared the same product of origin {}: entry {} (HAWB {}) "
                  "of {}", pl.col("later_origin"), pl.col("later_entry"),
                  pl.col("later_hawb"), pl.col("later_date")).alias("evidence"),
        pl.col("later_origin").alias("origin_country"))
    spi = _spi_candidates(session, lines).with_columns(
        pl.lit("spi").alias("cause"), pl.lit("spi").alias("field"),
        pl.lit("").alias("value_filed"), pl.col("claim").alias("value_corrected"),
        pl.col("claim").alias("spi"))
    keep = [*_LINES, "duty_cents", "cause", "field", "value_filed", "value_corrected",
            "evidence"]
    candidates = pl.concat([c.select(keep) for c in (classification, origin, spi)],
                           how="vertical_relaxed")
    if candidates.is_empty():
        return 0
    candidates = candidates.with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias("key"))
    priced = _reprice(session, candidates)
    found = candidates.join(priced, on="key").filter(
        pl.col("duty_corrected_cents") != pl.col("duty_cents"))
    if found.is_empty():
        return 0
    rows = found.select(
        pl.lit(forwarder).alias("forwarder_id"), "arrival_date",
        pl.col("filed_at").dt.date().alias("entry_date"), "entry_number", "entry_type",
        "hawb_id", "hawb_no", "line_no", "cause", "field", "value_filed", "value_corrected",
        "evidence", pl.col("duty_cents").alias("duty_filed_cents"), "duty_corrected_cents",
        "programs")
    writer_for(session.connection()).insert(PostSummaryCorrection.__tablename__, rows)
    return rows.height


def _reprice(session: Session, candidates: pl.DataFrame) -> pl.DataFrame:
    """Each candidate line priced alone, with its HAWB's date, entry type, value and
    weight: key, duty_corrected_cents (fees left out), programs (JSON: cents per program)."""
    hawbs = candidates.select("key", "arrival_date", "entry_type", "total_value_cents",
                              "gross_weight_kg")
    lines = candidates.select(pl.col("key"), pl.lit(1, dtype=pl.Int64).alias("line_no"),
                              "hts_code", "origin_country", "quantity", "unit",
                              "value_cents", "net_weight_kg", "spi")
    out = []
    for computed in pricing.price(session, hawbs, lines):
        exact = computed.hawbs.filter(pl.col("duty_status") == COMPUTED).select("key")
        duties = computed.duties.filter(pl.col("kind") != "fee").join(exact, on="key")
        by_program = duties.group_by("key", "program").agg(pl.col("amount_cents").sum())
        docs: dict[int, dict[str, int]] = {k: {} for k in exact.get_column("key").to_list()}
        for key, program, cents in by_program.iter_rows():
            docs[key][program] = int(cents)
        out += [(k, sum(d.values()), json.dumps(dict(sorted(d.items()))))
                for k, d in docs.items()]
    return pl.DataFrame(out, schema={"key": pl.Int64, "duty_corrected_cents": pl.Int64,
                                     "programs": pl.String}, orient="row")


def ensure_fresh(reader: sessionmaker[Session], writer: sessionmaker[Session]) -> dict[int, int]:
    """The analytics refresher's pass: each out-of-date forwarder derived in its own
    transaction, so that one forwarder's uploads hold no lock over everyone's. Requests
    never derive (a forwarder's derivation reads all its filed lines): they read the rows
    as the refresher last left them, at most ``S321_ANALYTICS_REFRESH_S`` behind (longer while
    its passes are long: ``S321_ANALYTICS_REFRESH_SHARE``)."""
    with reader() as session:
        wanted = stale(session)
    done: dict[int, int] = {}
    for forwarder in wanted:
        with transaction(writer) as session:
            done.update(refresh(session, [forwarder]))
    return done
