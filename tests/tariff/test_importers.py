"""Operator imports of tariff data (HTS editions, program lists, programs, exchange rates)
and the `s321 hts import` / `s321 tariff ...` commands, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from app.cli import cli
from app.db import make_engine, make_session_factory, transaction
from app.errors import Conflict, Invalid
from app.hts.importer import loaded_codes
from app.settings import get_settings
from app.tariff import importers, tariff
from app.tariff.models import CurrencyRate, HtsEdition, HtsRate, TariffProgram, TariffProgramLine
from app.tariff.seeds import seed

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "hts"
HEADER = ('"HTS Number","Indent","Description","Unit of Quantity","General Rate of Duty",'
          '"Special Rate of Duty","Column 2 Rate of Duty","Quota Quantity",'
          '"Additional Duties"')
# Real 2024 lines: 6116.10.17 is rated on its 8-digit line, its 10-digit lines inherit;
# 6116.10.05.00 and 0101.30.00.00 carry their own rates; 0101.21.00 is rated "Free".
SCHEDULE = [
    HEADER,
    '"0101","0","Live horses, asses, mules and hinnies:","","","","","",""',
    '"0101.21.00","2","Purebred breeding animals","","Free","","Free","",""',
    '"0101.21.00.10","3","Males","[""No.""]","","","","",""',
    '"0101.30.00.00","1","Asses","[""No.""]","6.8%","Free (A+,AU,BH)","15%","",""',
    '"6116","0","Gloves, mittens and mitts, knitted or crocheted:","","","","","",""',
    '"6116.10.05.00","2","Ice hockey gloves","[""<il>doz. prs.<\\/il>"",""kg""]","Free","",'
    '"25%","",""',
    '"6116.10.17","6","Other","","23.5%","Free (AU,BH) 22.5% (E)","61%","",""',
    '"6116.10.17.20","7","Subject to cotton restraints (331)",'
    '"[""<il>doz. prs.<\\/il>"",""kg""]","","","","",""',
    '"6116.10.17.40","7","Other (831)","[""<il>doz. prs.<\\/il>"",""kg""]","","","","",""',
]


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def rates(db: sessionmaker[Session], edition: str) -> dict[str, HtsRate]:
    with db() as session:
        return {r.code: r for r in session.scalars(
            select(HtsRate).join(HtsEdition, HtsEdition.id == HtsRate.edition_id)
            .where(HtsEdition.name == edition))}


# -- Editions -----------------------------------------------------------------------------


def test_edition_lines_take_the_rates_of_their_rated_line(db: sessionmaker[Session],
                                                         tmp_path: Path) -> None:
    path = write(tmp_path / "hts_2025_mini.csv", SCHEDULE)
    with transaction(db) as session:
        result = importers.import_edition(session, path, "2025 mini", date(2025, 1, 1),
                                          "test file")
    assert (result.lines, result.own_rate, result.inherited, result.unrated) == (5, 2, 3, 0)
    assert not result.replaced
    assert result.statistical_lines == 5
    got = rates(db, "2025 mini")
    assert set(got) == {"0101210010", "0101300000", "6116100500", "6116101720", "6116101740"}
    cotton = got["6116101720"]
    assert (cotton.rated_code, cotton.general, cotton.special, cotton.column2) == (
        "61161017", "23.5%", "Free (AU,BH) 22.5% (E)", "61%")
    assert cotton.units == "doz. prs., kg"
    assert cotton.description == "Subject to cotton restraints (331)"
    assert got["6116101740"].rated_code == "61161017"
    hockey = got["6116100500"]
    assert (hockey.rated_code, hockey.general, hockey.special, hockey.column2) == (
        "6116100500", "Free", "", "25%")
    asses = got["0101300000"]
    assert (asses.rated_code, asses.general, asses.special, asses.units) == (
        "0101300000", "6.8%", "Free (A+,AU,BH)", "No.")
    assert (got["0101210010"].rated_code, got["0101210010"].general) == ("01012100", "Free")
    with db() as session:
        edition = session.scalars(select(HtsEdition)).one()
        assert (edition.name, edition.effective_from, edition.source, edition.line_count) == (
            "2025 mini", date(2025, 1, 1), "test file", 5)
        # Uploads check codes against the same import.
        assert loaded_codes(session) == set(got)


def test_reimporting_an_edition_replaces_its_lines_and_others_stay(
        db: sessionmaker[Session], tmp_path: Path) -> None:
    full = write(tmp_path / "full.csv", SCHEDULE)
    with transaction(db) as session:
        importers.import_edition(session, full, "2024", date(2024, 1, 1), "a")
        importers.import_edition(session, full, "2025", date(2025, 1, 1), "b")
    # The 2025 edition is corrected: the 8-digit rate changes and one line goes.
    smaller = write(tmp_path / "smaller.csv", [
        SCHEDULE[0], SCHEDULE[5], SCHEDULE[7].replace("23.5%", "19.7%"), SCHEDULE[8]])
    with transaction(db) as session:
        result = importers.import_edition(session, smaller, "2025", date(2025, 2, 1), "c")
    assert result.replaced
    assert result.lines == 1
    assert set(rates(db, "2025")) == {"6116101720"}
    assert rates(db, "2025")["6116101720"].general == "19.7%"
    assert len(rates(db, "2024")) == 5
    with db() as session:
        editions = [tuple(r) for r in session.execute(
            select(HtsEdition.name, HtsEdition.effective_from, HtsEdition.source,
                   HtsEdition.line_count).order_by(HtsEdition.effective_from))]
        assert editions == [("2024", date(2024, 1, 1), "a", 5),
                            ("2025", date(2025, 2, 1), "c", 1)]
        assert loaded_codes(session) == {"6116101720"}


def test_an_edition_on_another_editions_date_is_refused(db: sessionmaker[Session],
                                                        tmp_path: Path) -> None:
    path = write(tmp_path / "x.csv", SCHEDULE)
    with transaction(db) as session:
        importers.import_edition(session, path, "basic", date(2024, 1, 1), "")
    with pytest.raises(Conflict, match="'basic' already takes effect on 2024-01-01"), \
            transaction(db) as session:
        importers.import_edition(session, path, "rev 1", date(2024, 1, 1), "")


def test_a_file_that_is_not_a_schedule_is_refused(db: sessionmaker[Session],
                                                  tmp_path: Path) -> None:
    path = write(tmp_path / "x.csv", ["code,rate", "6116101720,5%"])
    with pytest.raises(Invalid, match=r"missing column.*HTS Number"), \
            transaction(db) as session:
        importers.import_edition(session, path, "x", date(2024, 1, 1), "")


def test_units_text() -> None:
    assert importers.units_text('["<il>doz. prs.</il>","kg"]') == "doz. prs., kg"
    assert importers.units_text("doz. prs., kg") == "doz. prs., kg"
    assert importers.units_text('["No."]') == "No."
    assert importers.units_text("") == ""


@pytest.fixture
def sqlite_db(sqlite_template: Path, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    path = tmp_path / "big.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    yield make_session_factory(engine)
    engine.dispose()


@pytest.mark.skipif(not (SHARED / "hts_2024_basic_edition.csv").exists(),
                    reason=f"the reference schedule is not here ({SHARED} is absent)")
def test_the_2024_basic_edition(sqlite_db: sessionmaker[Session]) -> None:
    """The whole USITC export (SQLite only: 19,671 lines). Counts checked by hand with the
    csv module: 8,190 lines rated on themselves, 11,480 by their 8-digit line, and
    9802.00.91.00 (no rate on itself or an 8-digit line)."""
    with transaction(sqlite_db) as session:
        result = importers.import_edition(session, SHARED / "hts_2024_basic_edition.csv",
                                          "2024 basic", date(2024, 1, 1), "USITC")
    assert (result.lines, result.own_rate, result.inherited, result.unrated) == (
        19_671, 8_190, 11_480, 1)
    got = rates(sqlite_db, "2024 basic")
    gloves = got["6116101720"]
    assert (gloves.rated_code, gloves.general, gloves.column2, gloves.units) == (
        "61161017", "23.5%", "61%", "doz. prs., kg")
    assert got["9802009100"].general == ""


# -- Program lists ------------------------------------------------------------------------


def lines(db: sessionmaker[Session]) -> set[tuple[str, str, date | None]]:
    with db() as session:
        return {(r.heading, r.hts_prefix, r.effective_from) for r in session.execute(select(
            TariffProgramLine.heading, TariffProgramLine.hts_prefix,
            TariffProgramLine.effective_from))}


REFERENCE_LIST = [
    "hts8,heading,rate_pct,list,source_note",
    '2845.20.00,9903.88.01,25,1,"U.S. note 20(b)"',
    '6116.10.17,9903.88.15,7.5,4A,"U.S. note 20(u)"',
    '6116.10.44,9903.88.15,7.5,4A,"U.S. note 20(u)"',
]


def test_program_lists_in_both_layouts(db: sessionmaker[Session], tmp_path: Path) -> None:
    path = write(tmp_path / "lists.csv", REFERENCE_LIST)
    with transaction(db) as session:
        assert importers.import_program_list(session, path) == 3
    assert lines(db) == {("9903.88.01", "28452000", None), ("9903.88.15", "61161017", None),
                         ("9903.88.15", "61161044", None)}
    # The operator layout: 8 or 10 digits, dots or none; 9903.88.15 is replaced whole.
    operator = write(tmp_path / "op.csv", ["heading,hts", "9903.88.15,6116.10.17.20",
                                           "99038815,61161099", ""])
    with transaction(db) as session:
        assert importers.import_program_list(session, operator) == 2
    assert lines(db) == {("9903.88.01", "28452000", None), ("9903.88.15", "6116101720", None),
                         ("9903.88.15", "61161099", None)}
    # With a heading: only its rows (the other heading's list stays).
    with transaction(db) as session:
        assert importers.import_program_list(session, path, "9903.88.01") == 1
    with db() as session:
        source = session.scalar(select(TariffProgramLine.source).where(
            TariffProgramLine.heading == "9903.88.01"))
    assert source == "U.S. note 20(b)"
    assert len(lines(db)) == 3


def test_the_tariff_reads_only_the_list_lines_its_codes_can_match(
        db: sessionmaker[Session], tmp_path: Path) -> None:
    seeded(db)
    with transaction(db) as session:
        assert importers.import_program_list(
            session, write(tmp_path / "lists.csv", REFERENCE_LIST)) == 3
    on = [date(2026, 11, 20)]
    with db() as session:
        gloves = tariff.load(session, ["6116101720", "0101300000"], on)
        nothing = tariff.load(session, [], on)
        listed = {p.heading for p in gloves.programs if p.uses_list}
    assert gloves.program_lines.rows() == [("9903.88.15", "61161017")]
    assert nothing.program_lines.is_empty()
    # A list counts as loaded whether or not one of its lines matched: the engine asks a
    # broker to review lines whose program's list is not loaded at all.
    assert {"9903.88.01", "9903.88.15"} <= listed
    assert gloves.lists_loaded() == nothing.lists_loaded() == {"9903.88.01", "9903.88.15"}


def test_a_list_file_without_heading_column_needs_one(db: sessionmaker[Session],
                                                      tmp_path: Path) -> None:
    path = write(tmp_path / "hts.csv", ["hts", "8471.30.01", "8471300150"])
    with pytest.raises(Invalid, match=r"missing column.*heading"), transaction(db) as session:
        importers.import_program_list(session, path)
    with transaction(db) as session:
        assert importers.import_program_list(session, path, "99038803") == 2
    assert lines(db) == {("9903.88.03", "84713001", None), ("9903.88.03", "8471300150", None)}


def test_increases_carry_their_date_and_duplicates_count_once(db: sessionmaker[Session],
                                                               tmp_path: Path) -> None:
    path = write(tmp_path / "inc.csv", [
        "hts8,heading,rate_pct,list,source_note,effective_from",
        "6307.90.98,9903.91.07,50,FYR 31(h),note 31(h),2026-01-01",
        "6307.90.98,9903.91.07,50,FYR 31(h),note 31(h),2026-01-01",
        "8507.60.00,9903.91.03,25,FYR 31(d),note 31(d),2024-09-27"])
    with transaction(db) as session:
        assert importers.import_program_list(session, path) == 2
    assert lines(db) == {("9903.91.07", "63079098", date(2026, 1, 1)),
                         ("9903.91.03", "85076000", date(2024, 9, 27))}


@pytest.mark.parametrize(("row", "column", "message"), [
    ("9903.88.15,6116.1O.17", "hts", "'6116.1O.17' is not an 8- or 10-digit HTS number"),
    ("9903.88.15,6116.10", "hts", "'6116.10' is not an 8- or 10-digit"),
    ("9903.88,6116.10.17", "heading", "'9903.88' is not a Chapter 99 heading"),
])
def test_a_bad_list_row_refuses_the_file(db: sessionmaker[Session], tmp_path: Path,
                                         row: str, column: str, message: str) -> None:
    first = write(tmp_path / "first.csv", ["heading,hts", "9903.88.15,6116.10.44"])
    with transaction(db) as session:
        importers.import_program_list(session, first)
    bad = write(tmp_path / "bad.csv", ["heading,hts", "9903.88.15,6116.10.17", row])
    with pytest.raises(Invalid) as refused, transaction(db) as session:
        importers.import_program_list(session, bad)
    assert f"row 3, column {column}: {message}" in refused.value.detail
    assert refused.value.extra["errors"][0] == {
        "row": 3, "column": column, "message": refused.value.extra["errors"][0]["message"]}
    assert lines(db) == {("9903.88.15", "61161044", None)}  # nothing changed


@pytest.mark.skipif(not (SHARED / "china_301_lists.csv").exists(),
                    reason=f"the China Section 301 lists are not here ({SHARED} is absent)")
def test_the_china_301_lists(db: sessionmaker[Session]) -> None:
    with transaction(db) as session:
        assert importers.import_program_list(session, SHARED / "china_301_lists.csv") == 10_019
    with db() as session:
        count = session.scalar(select(func.count()).select_from(TariffProgramLine).where(
            TariffProgramLine.heading == "9903.88.03"))
    assert count == 5_906


# -- Programs -----------------------------------------------------------------------------


def programs_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    columns = importers.program_columns()
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    for row in rows:
        writer.writerow({c: row.get(c, "") for c in columns})
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def seeded(db: sessionmaker[Session]) -> None:
    with transaction(db) as session:
        seed(session.connection())


LIST_3 = {"heading": "9903.88.03", "program": "section_301", "authority": "USTR",
          "description": "China Section 301 List 3", "ad_valorem_pct": "25", "origins": "CN",
          "uses_list": "true", "not_with": "section_301_fyr",
          "effective_from": "2019-05-10", "enabled": "true", "verified": "true",
          "source": "operator file"}
NEW = {"heading": "9903.99.01", "program": "test_program", "authority": "Test",
       "ad_valorem_pct": "7.5", "origins": "CN;HK", "hts_prefixes": "6116;6117",
       "effective_from": "2026-07-01", "effective_to": "2026-12-31", "enabled": "false"}


def test_programs_are_upserted_by_heading_and_date(db: sessionmaker[Session],
                                                   tmp_path: Path) -> None:
    seeded(db)
    with db() as session:
        before = session.scalar(select(func.count()).select_from(TariffProgram))
    path = programs_csv(tmp_path / "p.csv", [{**LIST_3, "ad_valorem_pct": "30"}, NEW])
    with transaction(db) as session:
        result = importers.import_programs(session, path)
    assert (result.added, result.updated) == (1, 1)
    with db() as session:
        assert session.scalar(select(func.count()).select_from(TariffProgram)) == before + 1
        list3 = session.scalars(select(TariffProgram).where(
            TariffProgram.heading == "9903.88.03",
            TariffProgram.effective_from == date(2019, 5, 10))).one()
        assert list3.ad_valorem_pct == Decimal(30)
        assert list3.source == "operator file"
        new = session.scalars(select(TariffProgram).where(
            TariffProgram.heading == "9903.99.01")).one()
        assert (new.origins, new.hts_prefixes, new.effective_to, new.enabled, new.verified) == (
            ["CN", "HK"], ["6116", "6117"], date(2026, 12, 31), False, False)
        assert new.ad_valorem_pct == Decimal("7.5")
    with transaction(db) as session:  # the same file again: nothing new
        assert importers.import_programs(session, path) == importers.ProgramImport(0, 2)


def test_the_seed_file_imports_as_is(db: sessionmaker[Session]) -> None:
    from app.tariff.seeds import DATA

    seeded(db)
    with transaction(db) as session:
        result = importers.import_programs(session, DATA / "programs.csv")
    assert result.added == 0
    assert result.updated == 38


def test_bad_program_rows_refuse_the_file(db: sessionmaker[Session], tmp_path: Path) -> None:
    path = programs_csv(tmp_path / "p.csv", [
        NEW, {**LIST_3, "ad_valorem_pct": "25%"},
        {**NEW, "heading": "9903.99.02", "effective_from": "2026-13-01"},
        {**NEW, "heading": "9903.99.03", "effective_to": "2026-06-30"}])
    with pytest.raises(Invalid) as refused, transaction(db) as session:
        importers.import_programs(session, path)
    detail = refused.value.detail
    assert "row 3, column ad_valorem_pct: '25%' is not a percentage" in detail
    assert "row 4, column effective_from: '2026-13-01' is not a date" in detail
    assert "row 5, column effective_to: the program ends (2026-06-30) on or before" in detail
    with db() as session:
        assert session.scalar(select(TariffProgram).where(
            TariffProgram.heading == "9903.99.01")) is None


def test_a_programs_file_in_another_layout_is_refused(db: sessionmaker[Session],
                                                      tmp_path: Path) -> None:
    path = write(tmp_path / "p.csv", ["heading,rate", "9903.88.03,25"])
    with pytest.raises(Invalid, match=r"missing column.*program, authority"), \
            transaction(db) as session:
        importers.import_programs(session, path)


# -- Exchange rates -----------------------------------------------------------------------


def test_currency_rates_are_upserted(db: sessionmaker[Session], tmp_path: Path) -> None:
    first = write(tmp_path / "rates.csv", ["currency,date,per_usd,source",
                                           "CNY,2026-06-01,7.1234,CBP certified",
                                           "eur,2026-06-01,0.92"])
    with transaction(db) as session:
        assert importers.import_currency_rates(session, first) == 2
    second = write(tmp_path / "rates2.csv", ["currency,date,per_usd",
                                             "CNY,2026-06-01,7.2000", "CNY,2026-06-02,7.21"])
    with transaction(db) as session:
        assert importers.import_currency_rates(session, second) == 2
    with db() as session:
        got = {(r.currency, r.on): (r.per_usd, r.source)
               for r in session.scalars(select(CurrencyRate))}
    assert got == {("CNY", date(2026, 6, 1)): (Decimal("7.2"), "rates2.csv"),
                   ("CNY", date(2026, 6, 2)): (Decimal("7.21"), "rates2.csv"),
                   ("EUR", date(2026, 6, 1)): (Decimal("0.92"), "rates.csv")}


def test_bad_currency_rows_refuse_the_file(db: sessionmaker[Session], tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", ["currency,date,per_usd", "CNY,2026-06-01,7.1",
                                      "YUAN,2026-06-01,7.1", "EUR,01/06/2026,-1"])
    with pytest.raises(Invalid) as refused, transaction(db) as session:
        importers.import_currency_rates(session, path)
    assert [(e["row"], e["column"]) for e in refused.value.extra["errors"]] == [
        (3, "currency"), (4, "date"), (4, "per_usd")]
    with db() as session:
        assert session.scalar(select(func.count()).select_from(CurrencyRate)) == 0


# -- Commands -----------------------------------------------------------------------------


@pytest.fixture
def run(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("S321_DATABASE_URL", database_url)
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps at 80 otherwise
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_hts_import_command(run: CliRunner, db: sessionmaker[Session],
                            tmp_path: Path) -> None:
    path = write(tmp_path / "hts_2025_rev1.csv", SCHEDULE)
    result = run.invoke(cli, ["hts", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "Loaded 5 statistical lines (edition hts_2025_rev1)." in result.output
    assert "in force from 2025-01-01: 5 lines with rates (2 their own, 3 from" in result.output
    result = run.invoke(cli, ["hts", "import", str(path), "--edition", "rev 1",
                              "--effective-from", "2025-03-01", "--source", "USITC"])
    assert result.exit_code == 0, result.output
    with db() as session:
        assert [tuple(r) for r in session.execute(
            select(HtsEdition.name, HtsEdition.effective_from, HtsEdition.source)
            .order_by(HtsEdition.id))] == [
            ("hts_2025_rev1", date(2025, 1, 1), "hts_2025_rev1.csv"),
            ("rev 1", date(2025, 3, 1), "USITC")]
    undated = write(tmp_path / "schedule.csv", SCHEDULE)
    result = run.invoke(cli, ["hts", "import", str(undated)])
    assert result.exit_code == 2
    assert "--effective-from" in result.output


def test_tariff_commands(run: CliRunner, db: sessionmaker[Session], tmp_path: Path) -> None:
    result = run.invoke(cli, ["tariff", "seed"])
    assert result.exit_code == 0, result.output
    assert "reference rows" in result.output
    assert "Added 0 reference rows" in run.invoke(cli, ["tariff", "seed"]).output

    path = write(tmp_path / "lists.csv", REFERENCE_LIST)
    result = run.invoke(cli, ["tariff", "import-list", str(path), "--heading", "9903.88.15"])
    assert result.exit_code == 0, result.output
    assert "Loaded 2 HTS lines" in result.output
    bad = write(tmp_path / "bad.csv", ["heading,hts", "9903.88.15,61X"])
    result = run.invoke(cli, ["tariff", "import-list", str(bad)])
    assert result.exit_code == 2
    assert "row 2, column hts" in result.output

    programs = programs_csv(tmp_path / "p.csv", [NEW])
    result = run.invoke(cli, ["tariff", "import-programs", str(programs)])
    assert result.exit_code == 0, result.output
    assert "1 added, 0 updated" in result.output

    rates_file = write(tmp_path / "r.csv", ["currency,date,per_usd", "CNY,2026-06-01,7.12"])
    result = run.invoke(cli, ["tariff", "import-rates", str(rates_file)])
    assert result.exit_code == 0, result.output
    assert "Stored 1 exchange rates" in result.output

    result = run.invoke(cli, ["tariff", "programs", "--on", "2019-06-01",
                              "--program", "section_301"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "9903.88.03" in result.output
    assert "9903.88.01" in result.output
    assert "9903.99.01" not in result.output
    with db() as session:
        assert session.scalar(select(func.count()).select_from(TariffProgramLine)) == 2
