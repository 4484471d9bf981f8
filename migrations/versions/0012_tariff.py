"""Duties: HTS editions with their rates, Chapter 99 programs and their lists, fees,
certified exchange rates, each HAWB's duty breakdown; the de minimis timeline gains the
2026 rule, and no Type 86 after 2025-08-29.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

from app.tariff import seeds

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
JSON_LIST = sa.JSON()
NO_TYPE86 = (
    "EO 14324 keeps de minimis for goods of 50 USC 1702(b), such as books (CSMS #66065494), "
    "but ACE rejects every Type 86 entry and Section 321 claim from 2025-08-29, so such goods "
    "are entered as Type 11 (books are duty-free under their HTS rate and outside the IEEPA "
    "duties). Whether the 2026 rule keeps the carve-out is not settled in the sources: an "
    "operator who regains a Type 86 path for them adds their HTS prefixes here."
)
SUSPENSION_DAYS = (date(2025, 8, 29), date(2026, 2, 20))
INDEFINITE = {
    "name": "Suspension made indefinite by CBP rule",
    "effective_from": date(2026, 6, 24), "available": False, "value_limit_cents": 800_00,
    "excluded_origins": [], "exempt_hts_prefixes": [],
    "source": "CBP interim final rule under 19 USC 1321(b), 91 FR 37789 (19 CFR 10.151); "
              "secondary sources only (Alba Wheels Up, traverseintel)",
    "notes": NO_TYPE86,
}


def _policies() -> sa.TableClause:
    return sa.table(
        "deminimis_policies", sa.column("effective_from", sa.Date()),
        sa.column("exempt_hts_prefixes", sa.JSON()), sa.column("notes", sa.Text()),
        sa.column("source", sa.Text()), sa.column("name", sa.String()),
        sa.column("available", sa.Boolean()), sa.column("value_limit_cents", sa.BigInteger()),
        sa.column("excluded_origins", sa.JSON()), sa.column("created_at", TIMESTAMP))


def upgrade() -> None:
    op.create_table(
        "hts_editions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("imported_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hts_editions")),
        sa.UniqueConstraint("name", name=op.f("uq_hts_editions_name")),
    )
    op.create_table(
        "hts_rates",
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.Column("rated_code", sa.String(length=10), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("units", sa.Text(), nullable=False),
        sa.Column("general", sa.Text(), nullable=False),
        sa.Column("special", sa.Text(), nullable=False),
        sa.Column("column2", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["edition_id"], ["hts_editions.id"], ondelete="CASCADE",
                                name=op.f("fk_hts_rates_edition_id_hts_editions")),
        sa.PrimaryKeyConstraint("edition_id", "code", name=op.f("pk_hts_rates")),
    )
    op.create_table(
        "tariff_programs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("heading", sa.String(length=12), nullable=False),
        sa.Column("program", sa.String(length=40), nullable=False),
        sa.Column("authority", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("ad_valorem_pct", sa.Numeric(9, 4), nullable=False),
        sa.Column("origins", JSON_LIST, nullable=False),
        sa.Column("excluded_origins", JSON_LIST, nullable=False),
        sa.Column("hts_prefixes", JSON_LIST, nullable=False),
        sa.Column("uses_list", sa.Boolean(), nullable=False),
        sa.Column("excluded_prefixes", JSON_LIST, nullable=False),
        sa.Column("exempt_spi", JSON_LIST, nullable=False),
        sa.Column("not_with", JSON_LIST, nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_to", sa.Date(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tariff_programs")),
        sa.UniqueConstraint("heading", "effective_from",
                            name=op.f("uq_tariff_programs_heading_effective_from")),
    )
    op.create_table(
        "tariff_program_lines",
        sa.Column("heading", sa.String(length=12), nullable=False),
        sa.Column("hts_prefix", sa.String(length=10), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("heading", "hts_prefix", name=op.f("pk_tariff_program_lines")),
    )
    op.create_table(
        "tariff_fees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("fee_class", sa.String(length=3), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("rate_pct", sa.Numeric(9, 4), nullable=False),
        sa.Column("min_cents", sa.BigInteger(), nullable=False),
        sa.Column("max_cents", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tariff_fees")),
        sa.UniqueConstraint("kind", "effective_from", name=op.f("uq_tariff_fees_kind_effective_from")),
    )
    op.create_table(
        "currency_rates",
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("per_usd", sa.Numeric(20, 8), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("currency", "on", name=op.f("pk_currency_rates")),
    )
    op.create_table(
        "duty_lines",
        sa.Column("hawb_id", sa.BigInteger(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("number", sa.String(length=12), nullable=False),
        sa.Column("program", sa.String(length=40), nullable=False),
        sa.Column("rate", sa.Text(), nullable=False),
        sa.Column("basis_cents", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.Text(), nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("hawb_id", "line_no", "seq", name=op.f("pk_duty_lines")),
    )
    op.create_index("ix_duty_lines_program", "duty_lines", ["program"])
    with op.batch_alter_table("hawbs") as batch:
        batch.add_column(sa.Column("entry_type", sa.String(length=2), nullable=True))
        batch.add_column(sa.Column("duty_status", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("duty_cents", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("fees_cents", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("duty", sa.Text(), nullable=True))
    with op.batch_alter_table("hawb_lines") as batch:
        batch.add_column(sa.Column("net_weight_kg", sa.Numeric(12, 3), nullable=True))
        batch.add_column(sa.Column("spi", sa.Text(), nullable=True))
        batch.add_column(sa.Column("declared_value", sa.Numeric(16, 2), nullable=True))
        batch.add_column(sa.Column("fx_rate", sa.Numeric(20, 8), nullable=True))
        batch.add_column(sa.Column("fx_source", sa.Text(), nullable=True))

    policies = _policies()
    for day in SUSPENSION_DAYS:
        op.execute(policies.update().where(policies.c.effective_from == day).values(
            exempt_hts_prefixes=[], notes=NO_TYPE86))
    op.execute(policies.update().where(policies.c.effective_from == date(2026, 2, 20))
               .values(name="Suspension continued after the IEEPA ruling",
                       source="Executive Order 14388 (\"Continuing the Suspension of "
                              "Duty-Free De Minimis Treatment for All Countries\", "
                              "2026-02-20); CSMS #67845486"))
    op.bulk_insert(policies, [{**INDEFINITE, "created_at": datetime.now(UTC)}])
    seeds.seed(op.get_bind())


def downgrade() -> None:
    policies = _policies()
    op.execute(policies.delete().where(policies.c.effective_from == date(2026, 6, 24)))
    for day in SUSPENSION_DAYS:
        op.execute(policies.update().where(policies.c.effective_from == day).values(
            exempt_hts_prefixes=["49"], notes=""))
    op.execute(policies.update().where(policies.c.effective_from == date(2026, 2, 20))
               .values(name="Suspension continued", source="CSMS #67845486"))
    with op.batch_alter_table("hawb_lines") as batch:
        for name in ("fx_source", "fx_rate", "declared_value", "spi", "net_weight_kg"):
            batch.drop_column(name)
    with op.batch_alter_table("hawbs") as batch:
        for name in ("duty", "fees_cents", "duty_cents", "duty_status", "entry_type"):
            batch.drop_column(name)
    op.drop_index("ix_duty_lines_program", table_name="duty_lines")
    for table in ("duty_lines", "currency_rates", "tariff_fees", "tariff_program_lines",
                  "tariff_programs", "hts_rates", "hts_editions"):
        op.drop_table(table)
