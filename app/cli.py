"""The `s321` command: serve, migrate, administer, import reference data, upload."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from app import migrate
from app.runtime import tune_memory
from app.settings import get_settings

cli = typer.Typer(help="Section 321 clearance service.", no_args_is_help=True)
db_cli = typer.Typer(help="Database schema migrations.", no_args_is_help=True)
admin_cli = typer.Typer(help="Organisations, API keys and people.", no_args_is_help=True)
hts_cli = typer.Typer(help="Harmonized Tariff Schedule reference data.", no_args_is_help=True)
docs_cli = typer.Typer(help="Generated documentation.", no_args_is_help=True)
tariff_cli = typer.Typer(help="Duties: Chapter 99 programs and their lists, fees, exchange "
                         "rates.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
cli.add_typer(admin_cli, name="admin")
cli.add_typer(hts_cli, name="hts")
cli.add_typer(tariff_cli, name="tariff")
cli.add_typer(docs_cli, name="docs")
console = Console()
err_console = Console(stderr=True)


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Default: S321_HOST (127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="Default: S321_PORT (8000)")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
    migrate_first: Annotated[bool, typer.Option("--migrate/--no-migrate",
                                                help="Bring the schema up to date first")] = True,
) -> None:
    """Run the HTTP API."""
    import uvicorn

    from app.observability import logs, multiproc
    from app.web.server import uvicorn_options

    settings = get_settings()
    logs.configure(settings)
    if workers > 1 and settings.worker_in_process and settings.ace_gateway == "simulated":
        err_console.print("The in-process ACE simulator lives in one process: with several "
                          "API processes, run `s321 ace-simulator` and set "
                          "S321_ACE_GATEWAY=http, or S321_WORKER_IN_PROCESS=false.")
        raise typer.Exit(2)
    if migrate_first:
        migrate.upgrade(settings.database_url)
    multiproc.clear()
    uvicorn.run("app.main:create_app", factory=True, host=host or settings.host,
                port=port or settings.port, workers=workers,
                log_config=logs.logging_config(settings), log_level=settings.log_level.lower(),
                **uvicorn_options(settings))


@cli.command("ace-simulator")
def ace_simulator(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port; the http adapter's default URL uses "
                                      "9086")] = 9086,
) -> None:
    """Run the ACE simulator as its own HTTP service (configured by S321_SIM_* variables)."""
    from app.ace_gateway.simulator import service
    from app.observability import logs
    from app.settings import LogSettings

    settings = LogSettings()
    logs.configure(settings)
    service.main(host, port, log_config=logs.logging_config(settings))


MetricsPort = Annotated[int | None, typer.Option(
    help="Serve Prometheus metrics at http://HOST:PORT/metrics")]
MetricsHost = Annotated[str, typer.Option(help="Interface for --metrics-port")]


@cli.command()
def worker(
    once: Annotated[bool, typer.Option(help="One pass, then exit")] = False,
    metrics_port: MetricsPort = None,
    metrics_host: MetricsHost = "127.0.0.1",
) -> None:
    """Run the submission worker: approved HAWBs to customs, customs' answers applied."""
    import signal

    from app.ace_gateway import registry
    from app.db import make_engine, make_session_factory
    from app.observability import logs, metrics
    from app.workers.analytics import start_refresher
    from app.workers.submission import Worker, config_from

    settings = get_settings()
    logs.configure(settings)
    if metrics_port:
        metrics.serve(metrics_port, metrics_host)
    gateway = registry.create(settings)
    writer = make_session_factory(make_engine(settings.database_url), writer=True)
    runner = Worker(writer, gateway, config_from(settings))
    try:
        if once:
            report = runner.run_once()
            console.print(f"auto-approved {report.auto_approved}, submitted "
                          f"{report.submitted}, messages {report.messages}, status changes "
                          f"{report.moved}" + (f", errors: {report.errors}" if report.errors
                                               else ""))
            return
        refresher = start_refresher(writer, settings)

        def stop(*_: object) -> None:
            runner.stop()
            refresher.stop()

        signal.signal(signal.SIGTERM, stop)
        runner.run()
    finally:
        gateway.close()


@cli.command()
def relay(
    once: Annotated[bool, typer.Option(help="Relay what is waiting, then exit")] = False,
    metrics_port: MetricsPort = None,
    metrics_host: MetricsHost = "127.0.0.1",
) -> None:
    """Run the outbox relay: events to Kafka (when S321_KAFKA_BOOTSTRAP is set) and to
    webhook subscribers."""
    import asyncio
    import signal

    from app.db import make_engine, make_session_factory
    from app.notifications.outbox_lag import OutboxLag
    from app.observability import logs, metrics
    from app.workers.relay import relay_from

    settings = get_settings()
    logs.configure(settings)
    engine = make_engine(settings.database_url)
    if metrics_port:
        metrics.serve(metrics_port, metrics_host, OutboxLag(engine))
    runner = relay_from(settings, make_session_factory(engine, writer=True))

    async def main() -> None:
        if once:
            try:
                report = await runner.run_once()
            finally:
                await runner.aclose()
            delivered = report.deliveries.delivered if report.deliveries else 0
            console.print(f"relayed {report.relayed} events, {delivered} webhook deliveries"
                          + (f", errors: {report.errors}" if report.errors else ""))
            return
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, runner.stop)
        await runner.run()

    asyncio.run(main())


@db_cli.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations up to REVISION (default: the latest)."""
    migrate.upgrade(get_settings().database_url, revision)


@db_cli.command("downgrade")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION ('base' for an empty database)."""
    migrate.downgrade(get_settings().database_url, revision)


@admin_cli.command("create-admin-key")
def create_admin_key(
    organisation: Annotated[str, typer.Option(help="Name of the administrators' "
                                              "organisation")] = "Administrators",
) -> None:
    """Create the administrators' organisation if needed and print a new key for it."""
    from app.accounts.service import ensure_admin_key
    from app.db import transaction

    settings = get_settings()
    migrate.upgrade(settings.database_url)
    with _database() as factory, transaction(factory) as session:
        token = ensure_admin_key(session, organisation, settings.api_key_pepper)
    err_console.print("Admin API key (shown once; store it safely):")
    print(token)


@admin_cli.command("create-org")
def create_org(name: str, kind: str,
               with_key: Annotated[bool, typer.Option(help="Also issue a key")] = True,
               filer_code: Annotated[str | None, typer.Option(
                   help="Brokers: CBP entry filer code")] = None,
               carrier_code: Annotated[str | None, typer.Option(
                   help="Carriers: the code used in manifests (UPS, DHL...)")] = None) -> None:
    """Create an organisation (forwarder, broker, cfs, carrier, admin) and print a key."""
    from app.accounts.models import OrgKind
    from app.accounts.service import create_organisation, issue_key
    from app.db import transaction

    kinds = [k.value for k in OrgKind]
    if kind not in kinds:
        raise typer.BadParameter(f"{kind!r} is not a kind of organisation: one of "
                                 f"{', '.join(kinds)}", param_hint="KIND")
    settings = get_settings()
    with _refusals(), _database() as factory, transaction(factory) as session:
        org = create_organisation(session, name, OrgKind(kind), filer_code, carrier_code)
        err_console.print(f"Organisation {org.id} ({org.kind}) created.")
        if with_key:
            _, token = issue_key(session, org, "created from the command line",
                                 settings.api_key_pepper)
            print(token)


@admin_cli.command("orgs")
def admin_orgs() -> None:
    """List the organisations: id, kind, name and codes."""
    from app.accounts.service import list_organisations

    with _database() as factory, factory() as session:
        orgs = list_organisations(session)
    table = Table("id", "kind", "name", "filer code", "carrier code",
                  title=f"{len(orgs)} organisations")
    for org in orgs:
        table.add_row(str(org.id), org.kind, org.name, org.filer_code or "",
                      org.carrier_code or "")
    console.print(table)


@admin_cli.command("create-facility")
def create_facility(
    port: Annotated[str, typer.Argument(help="LAX, SFO, JFK or ATL")],
    firms_code: Annotated[str, typer.Argument(help="The facility's 4-character FIRMS code")],
    name: str,
    operator: Annotated[int, typer.Option(help="Id of the CFS organisation that runs it "
                                          "(`s321 admin orgs`)")],
    default: Annotated[bool, typer.Option(help="The port's default CFS: MAWBs that name "
                                          "none go there, those waiting for one too")] = True,
) -> None:
    """Register a CFS facility at a port."""
    from app.cfs import assignment, facilities
    from app.db import transaction

    with _refusals(), _database() as factory, transaction(factory) as session:
        facility = facilities.create(session, port=port, firms_code=firms_code, name=name,
                                     organisation_id=operator, is_default=default)
        adopted = assignment.assigned_to(session, facility)
    console.print(f"Facility {facility.firms_code} ({facility.name}) at {facility.port}"
                  + (", the port's default" if default else "") + "."
                  + (f" {adopted} MAWB(s) waiting for a CFS assigned to it." if adopted
                     else ""))


@admin_cli.command("designate")
def admin_designate(forwarder: Annotated[int, typer.Argument(help="Forwarder's id")],
                    broker: Annotated[int, typer.Argument(help="Broker's id")]) -> None:
    """Designate a broker for a forwarder (what the forwarder does with PUT
    /v1/brokers/{id}/designation): the broker reviews and files its HAWBs."""
    from app.accounts.models import OrgKind
    from app.accounts.service import get_organisation
    from app.db import transaction
    from app.errors import InvalidRequest
    from app.lifecycle import brokers

    with _refusals(), _database() as factory, transaction(factory) as session:
        org = get_organisation(session, forwarder)
        if org.kind != OrgKind.FORWARDER.value:
            raise InvalidRequest(f"Organisation {forwarder} ({org.name}) is a {org.kind}, not "
                                 "a forwarder.")
        brokers.designate(session, forwarder, broker)
    console.print(f"Broker {broker} now reviews and files for forwarder {forwarder}.")


@admin_cli.command("facilities")
def admin_facilities() -> None:
    """List the CFS facilities by port."""
    from app.cfs import facilities

    with _database() as factory, factory() as session:
        rows = facilities.all_facilities(session)
        table = Table("port", "FIRMS", "name", "operator id", "default",
                      title=f"{len(rows)} CFS facilities")
        for f in rows:
            table.add_row(f.port, f.firms_code, f.name, str(f.organisation_id),
                          "yes" if f.is_default else "")
    console.print(table)


@admin_cli.command("invite")
def admin_invite(
    organisation: Annotated[int, typer.Argument(help="The organisation's id (`s321 admin "
                                                "orgs`)")],
    email: str,
    role: Annotated[str, typer.Option(help="owner, operator or viewer")] = "operator",
    name: Annotated[str, typer.Option(help="The person's name (they can set it)")] = "",
) -> None:
    """Invite a person to an organisation and print the invitation link (shown once)."""
    from app.accounts import people
    from app.accounts.service import get_organisation
    from app.db import transaction
    from app.web.links import cli_link

    settings = get_settings()
    with _refusals(), _database() as factory, transaction(factory) as session:
        org = get_organisation(session, organisation)
        person, issued = people.invite(session, org, email, people.role_of(role),
                                       by="the command line", name=name)
        err_console.print(f"{person.email} invited to {org.name} as {person.role}; the link "
                          f"works once, until {issued.expires_at:%Y-%m-%d %H:%M} UTC "
                          "(or set a password now: `s321 admin set-password`):")
    print(cli_link(settings.host, settings.port, people.INVITATION, issued.token))


@admin_cli.command("people")
def admin_people(
    organisation: Annotated[int | None, typer.Argument(help="Only this organisation's "
                                                       "people")] = None,
) -> None:
    """List people: organisation, email, name, role, status."""
    from app.accounts import people
    from app.accounts.service import get_organisation, list_organisations

    with _refusals(), _database() as factory, factory() as session:
        if organisation is not None:
            get_organisation(session, organisation)
        names = {o.id: o.name for o in list_organisations(session)}
        rows = [p for p in people.all_people(session)
                if organisation is None or p.organisation_id == organisation]
        table = Table("id", "organisation", "email", "name", "role", "status", "authenticator",
                      title=f"{len(rows)} people")
        for p in rows:
            status = ("disabled" if p.disabled_at else "invited" if p.password_hash is None
                      else "active")
            table.add_row(str(p.id), f"{names[p.organisation_id]} ({p.organisation_id})",
                          p.email, p.name, p.role, status,
                          "yes" if p.totp_confirmed_at else "")
    console.print(table)


@admin_cli.command("set-password")
def admin_set_password(
    email: str,
    password_stdin: Annotated[bool, typer.Option("--password-stdin",
                                                 help="Read the password from standard "
                                                 "input instead of prompting")] = False,
) -> None:
    """Set a person's password (an invited person's too): bootstrap the first owner."""
    from app.accounts import people
    from app.db import transaction

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    with _refusals(), _database() as factory, transaction(factory) as session:
        person = people.set_password(session, email, password)
        console.print(f"Password set for {person.email} ({person.role} of organisation "
                      f"{person.organisation_id}); sign in at /ui/sign-in.")


@admin_cli.command("clear-authenticator")
def admin_clear_authenticator(email: str) -> None:
    """For a person who lost their authenticator: sign-in stops asking for its code (their
    sessions end); they may set one up again from their account page."""
    from app.accounts import people
    from app.db import transaction

    with _refusals(), _database() as factory, transaction(factory) as session:
        person = people.clear_authenticator(session, None,
                                            people.person_by_email(session, email).id)
        console.print(f"Authenticator cleared for {person.email}; they sign in with their "
                      "password alone until they set one up again.")


@contextmanager
def _database() -> Iterator[sessionmaker[Session]]:
    """A session factory on the configured database, whose engine is closed afterwards.

    Refuses (exit status 2) a SQLite file that does not exist, rather than create an empty
    one wherever the command happens to run, and a database with no schema yet."""
    from sqlalchemy import inspect
    from sqlalchemy.engine import make_url

    from app.db import make_engine, make_session_factory

    url = get_settings().database_url
    parsed = make_url(url)
    where = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database or "").resolve()
        where = str(path)
        if not path.exists():
            _fail(f"No database at {path}. S321_DATABASE_URL is {url!r}: run this command "
                  "where `s321 serve` runs, or set S321_DATABASE_URL. `s321 db upgrade` or "
                  "`s321 admin create-admin-key` creates a new one.")
    engine = make_engine(url)
    try:
        if not inspect(engine).has_table("alembic_version"):
            _fail(f"The database at {where} has no tables yet: run `s321 db upgrade`.")
        yield make_session_factory(engine)
    finally:
        engine.dispose()


def _fail(message: str, status: int = 2, label: str = "Error") -> NoReturn:
    """One line on stderr and an exit status, not a traceback."""
    from rich.markup import escape

    err_console.print(f"[red]{label}:[/red] {escape(message)}", highlight=False)
    raise typer.Exit(status)


@contextmanager
def _refusals() -> Iterator[None]:
    """A refusal (bad file, conflict) as one message and exit status 2, not a traceback."""
    from app.errors import DomainError

    try:
        yield
    except DomainError as exc:
        _fail(exc.detail, label="Refused")


def _date_option(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)",
                                 param_hint=option) from None


# A missing or unreadable file is a usage error naming it (exit status 2), not a traceback.
ExistingFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]

_YEAR = re.compile(r"(?<!\d)(19[5-9]\d|20\d\d)(?!\d)")


@hts_cli.command("import")
def hts_import(
    path: ExistingFile,
    edition: Annotated[str | None, typer.Option(help="Edition name (default: the file "
                                                "name without extension)")] = None,
    effective_from: Annotated[str | None, typer.Option(
        help="First entry date the edition's rates govern, YYYY-MM-DD (default: January 1 "
        "of the year in the file name)")] = None,
    source: Annotated[str | None, typer.Option(help="Where the file came from (default: "
                                               "its name)")] = None,
) -> None:
    """Load a USITC HTS CSV export: it replaces the schedule uploads are checked against
    and stores the edition with its rates (replacing an edition of the same name)."""
    from app.db import transaction
    from app.tariff.importers import import_edition

    start = _date_option(effective_from, "--effective-from")
    if start is None:
        found = _YEAR.search(path.name)
        if found is None:
            raise typer.BadParameter("no year in the file name: give the date the edition "
                                     "takes effect", param_hint="--effective-from")
        start = date(int(found.group(1)), 1, 1)
    name = edition or path.stem
    with _refusals(), _database() as factory, transaction(factory) as session:
        result = import_edition(session, path, name, start, source or path.name)
    console.print(f"Loaded {result.statistical_lines:,} statistical lines "
                  f"(edition {result.name}).")
    console.print(f"{'Replaced' if result.replaced else 'Stored'} edition {result.name} in "
                  f"force from {result.effective_from.isoformat()}: {result.lines:,} lines "
                  f"with rates ({result.own_rate:,} their own, {result.inherited:,} from "
                  f"their 8-digit line, {result.unrated:,} without a rate).")


@tariff_cli.command("seed")
def tariff_seed() -> None:
    """Add the reference fees and programs that are missing (never changes edited rows)."""
    from app.db import transaction
    from app.tariff.seeds import seed

    with _database() as factory, transaction(factory) as session:
        added = seed(session.connection())
    console.print(f"Added {added} reference rows (fees and Chapter 99 programs).")


@tariff_cli.command("import-list")
def tariff_import_list(
    path: ExistingFile,
    heading: Annotated[str | None, typer.Option(help="Load only this heading's rows (a "
                                                "file without a heading column: all)")] = None,
) -> None:
    """Load Chapter 99 program lists (heading,hts or hts8,heading,...); each heading in the
    file has its list replaced."""
    from app.db import transaction
    from app.tariff.importers import import_program_list

    with _refusals(), _database() as factory, transaction(factory) as session:
        count = import_program_list(session, path, heading)
    console.print(f"Loaded {count:,} HTS lines onto program lists.")


@tariff_cli.command("import-programs")
def tariff_import_programs(path: ExistingFile) -> None:
    """Add or update Chapter 99 programs from a CSV in the layout of
    app/tariff/data/programs.csv (by heading and effective date; all or nothing)."""
    from app.db import transaction
    from app.tariff.importers import import_programs

    with _refusals(), _database() as factory, transaction(factory) as session:
        result = import_programs(session, path)
    console.print(f"Programs: {result.added} added, {result.updated} updated.")


@tariff_cli.command("import-rates")
def tariff_import_rates(path: ExistingFile) -> None:
    """Load CBP-certified exchange rates: currency,date,per_usd[,source] (foreign currency
    units per US dollar)."""
    from app.db import transaction
    from app.tariff.importers import import_currency_rates

    with _refusals(), _database() as factory, transaction(factory) as session:
        count = import_currency_rates(session, path)
    console.print(f"Stored {count:,} exchange rates.")


@tariff_cli.command("programs")
def tariff_programs(
    on: Annotated[str | None, typer.Option(help="Only those in force on this date "
                                           "(YYYY-MM-DD)")] = None,
    program: Annotated[str | None, typer.Option(help="Program family, e.g. section_301")
                       ] = None,
) -> None:
    """Print the Chapter 99 programs."""
    from app.tariff.programs import list_programs

    day = _date_option(on, "--on")
    with _database() as factory, factory() as session:
        rows = list_programs(session, on=day, program=program)
    table = Table("id", "heading", "program", "rate %", "origins", "from", "to", "enabled",
                  "verified", "description",
                  title=f"{len(rows)} Chapter 99 programs" + (f" in force on {day}" if day
                                                              else ""))
    for p in rows:
        origins = ", ".join(p.origins or []) or "all"
        if p.excluded_origins:
            origins += " except " + ", ".join(p.excluded_origins)
        table.add_row(str(p.id), p.heading, p.program, f"{p.ad_valorem_pct.normalize():f}",
                      origins, p.effective_from.isoformat(),
                      p.effective_to.isoformat() if p.effective_to else "",
                      "yes" if p.enabled else "no", "yes" if p.verified else "no",
                      p.description)
    console.print(table)


@docs_cli.command("events")
def docs_events() -> None:
    """Print docs/events.md (the event catalogue and its JSON schemas)."""
    from app.events.docs import render_events

    sys.stdout.write(render_events())


@docs_cli.command("csv-format")
def docs_csv_format() -> None:
    """Print docs/csv-format.md (the manifest columns and error codes)."""
    from app.manifest.docs import render_csv_format

    sys.stdout.write(render_csv_format())


@cli.command()
def upload(
    path: ExistingFile,
    url: Annotated[str, typer.Option(envvar="S321_URL")] = "http://127.0.0.1:8000",
    api_key: Annotated[str, typer.Option(envvar="S321_API_KEY", prompt=True,
                                         hide_input=True)] = "",
    mawb: str | None = None, flight_no: str | None = None,
    arrival_date: str | None = None, port: str | None = None,
    idempotency_key: Annotated[str | None, typer.Option(
        help="Reuse to retry safely; one is generated otherwise")] = None,
    errors_csv: Annotated[Path | None, typer.Option(help="Write every row error here")] = None,
    show: Annotated[int, typer.Option(help="Row errors to print")] = 50,
) -> None:
    """Upload a manifest (CSV, .xlsx or JSON) to a running service and print its report.

    Exit status: 0 stored without errors, 1 stored with row errors, 2 refused, 3 the service
    could not be reached.
    """
    from app.client import Client, UploadRefused, write_errors_csv

    params = {k: v for k, v in {"mawb": mawb, "flight_no": flight_no,
                                "arrival_date": arrival_date, "port": port}.items() if v}
    with Client(url, api_key) as client, _unreachable(url):
        try:
            with Progress("[progress.description]{task.description}", BarColumn(),
                          DownloadColumn(), TransferSpeedColumn(), console=err_console) as bar:
                task = bar.add_task(f"Uploading {path.name}", total=path.stat().st_size)
                result = client.upload(path, params=params, idempotency_key=idempotency_key,
                                       on_progress=lambda n: bar.advance(task, n))
        except UploadRefused as exc:
            err_console.print(f"[red]Refused ({exc.status}):[/red] {exc}")
            sys.exit(2)
        _report(result, show)
        if errors_csv is not None and result["errors_total"]:
            written = write_errors_csv(client.errors(result["errors_url"]), errors_csv)
            console.print(f"{written} row errors written to {errors_csv}")
    sys.exit(1 if result["errors_total"] else 0)


@contextmanager
def _unreachable(url: str) -> Iterator[None]:
    """No answer from the service: one line and exit status 3, not a traceback."""
    import httpx

    try:
        yield
    except httpx.TransportError as exc:
        _fail(f"Could not reach the service at {url} ({exc or type(exc).__name__}). Is "
              "`s321 serve` running there? The address is --url or S321_URL.", 3)


def _report(result: dict[str, object], show: int) -> None:
    hawbs = result["hawbs"]
    assert isinstance(hawbs, dict)
    verb = "Stored" if result["outcome"] == "created" else "Already stored (nothing new)"
    console.print(
        f"{verb}: upload {result['id']}, MAWB {result['mawb']} flight {result['flight_no']} "
        f"arriving {result['port']} {result['arrival_date']}: {result['rows']} rows, "
        f"{hawbs['received']} HAWBs ({hawbs['valid']} valid, {hawbs['invalid']} with errors, "
        f"{hawbs['replaced']} replaced)."
    )
    statuses = result.get("statuses") or {}
    assert isinstance(statuses, dict)
    if statuses:
        console.print("HAWB statuses: " + ", ".join(f"{n} {s}" for s, n in statuses.items()))
    errors = result["errors"]
    assert isinstance(errors, list)
    if not errors:
        return
    table = Table("row", "column", "HAWB", "problem", title=f"{result['errors_total']} row errors")
    for err in errors[:show]:
        table.add_row(str(err["row"]), err["column"] or "", err["hawb"] or "", err["message"])
    console.print(table)


def main() -> None:
    tune_memory()  # before anything imports polars
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    cli()


if __name__ == "__main__":
    main()
