"""The `s321` command answers a user's mistake with one clear message and a non-zero exit
status, never a traceback, and creates no database where it was not asked to."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import ROOT


def s321(*args: str, cwd: Path, stdin: str | None = None,
         **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("S321_")}
    environ.update(COLUMNS="200", PYTHONPATH=str(ROOT), **env)
    return subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "-m", "app.cli", *args], cwd=cwd, env=environ, capture_output=True,
        text=True, timeout=120, check=False, input=stdin)


def no_traceback(result: subprocess.CompletedProcess[str]) -> str:
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert len(output.splitlines()) <= 8, output
    return " ".join(output.split())


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    for command in (["upload", "nope.csv", "--api-key", "k"], ["hts", "import", "nope.csv"],
                    ["tariff", "import-rates", "nope.csv"]):
        result = s321(*command, cwd=tmp_path)
        assert result.returncode == 2, command
        assert "'nope.csv' does not exist" in no_traceback(result), command


def test_a_stopped_server_is_named(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    (tmp_path / "m.csv").write_text("HAWB\nH1\n")
    result = s321("upload", "m.csv", "--api-key", "k", "--url", f"http://127.0.0.1:{port}",
                  cwd=tmp_path)
    assert result.returncode == 3
    assert (f"Could not reach the service at http://127.0.0.1:{port}"
            in no_traceback(result))


def test_admin_outside_the_checkout_creates_no_empty_database(tmp_path: Path) -> None:
    result = s321("admin", "create-org", "Pacific Rim Logistics", "forwarder", cwd=tmp_path)
    assert result.returncode == 2
    assert f"No database at {tmp_path / 's321.db'}" in no_traceback(result)
    assert list(tmp_path.iterdir()) == []
    result = s321("tariff", "programs", cwd=tmp_path)
    assert result.returncode == 2
    assert list(tmp_path.iterdir()) == []


def test_a_database_without_tables_says_to_upgrade(tmp_path: Path) -> None:
    (tmp_path / "s321.db").write_bytes(b"")
    result = s321("admin", "create-org", "Pacific Rim Logistics", "forwarder", cwd=tmp_path)
    assert result.returncode == 2
    assert "has no tables yet: run `s321 db upgrade`" in no_traceback(result)


@pytest.mark.parametrize("kind", ["martian", "Forwarder "])
def test_an_unknown_kind_of_organisation_lists_the_kinds(tmp_path: Path, kind: str) -> None:
    assert s321("admin", "create-admin-key", cwd=tmp_path).returncode == 0
    result = s321("admin", "create-org", "Pacific Rim Logistics", kind, cwd=tmp_path)
    assert result.returncode == 2
    assert "one of forwarder, broker, cfs, carrier, admin" in no_traceback(result)
    same = s321("admin", "create-org", "Pacific Rim Logistics", "forwarder", cwd=tmp_path)
    assert same.returncode == 0, same.stderr
    again = s321("admin", "create-org", "Pacific Rim Logistics", "forwarder", cwd=tmp_path)
    assert again.returncode == 2
    assert "already exists" in no_traceback(again)


def test_a_port_made_ready_from_the_command_line(tmp_path: Path) -> None:
    """Organisations, a facility and a designation, as the README's First steps make them."""
    assert s321("admin", "create-admin-key", cwd=tmp_path).returncode == 0
    for args in (("Pacific Rim Logistics", "forwarder"),
                 ("Harbor Customs Brokerage", "broker", "--filer-code", "B76"),
                 ("LAX Air Freight", "cfs"), ("UPS", "carrier", "--carrier-code", "UPS")):
        made = s321("admin", "create-org", *args, cwd=tmp_path)
        assert made.returncode == 0, made.stderr
    table = s321("admin", "orgs", cwd=tmp_path).stdout
    listed = " ".join(table.replace("│", " ").split())
    assert "2 forwarder Pacific Rim Logistics" in listed
    assert "3 broker Harbor Customs Brokerage B76" in listed
    facility = s321("admin", "create-facility", "LAX", "W279", "LAX Air Freight",
                    "--operator", "4", cwd=tmp_path)
    assert facility.returncode == 0, facility.stderr
    assert "Facility W279 (LAX Air Freight) at LAX, the port's default." in facility.stdout
    not_a_cfs = s321("admin", "create-facility", "LAX", "W280", "Elsewhere", "--operator",
                     "2", cwd=tmp_path)
    assert not_a_cfs.returncode == 2
    assert "Organisation 2 is not a CFS operator" in no_traceback(not_a_cfs)
    assert "W279" in s321("admin", "facilities", cwd=tmp_path).stdout
    designated = s321("admin", "designate", "2", "3", cwd=tmp_path)
    assert designated.returncode == 0, designated.stderr
    backwards = s321("admin", "designate", "3", "2", cwd=tmp_path)
    assert backwards.returncode == 2
    assert "is a broker, not a forwarder" in no_traceback(backwards)


def test_people_commands_refuse_with_one_message(tmp_path: Path) -> None:
    assert s321("admin", "create-admin-key", cwd=tmp_path).returncode == 0
    assert s321("admin", "create-org", "Harbor Customs Brokerage", "broker",
                cwd=tmp_path).returncode == 0
    for command, message in (
            (["admin", "invite", "9", "jane@harbor.test"], "Organisation 9 does not exist."),
            (["admin", "invite", "2", "jane@harbor.test", "--role", "boss"],
             "Role 'boss' is not one of: owner, operator, viewer."),
            (["admin", "invite", "2", "not-an-email"], "'not-an-email' is not an email"),
            (["admin", "people", "9"], "Organisation 9 does not exist.")):
        result = s321(*command, cwd=tmp_path)
        assert result.returncode == 2, command
        assert message in no_traceback(result), command
    invited = s321("admin", "invite", "2", "Jane@Harbor.test", "--role", "owner", cwd=tmp_path)
    assert invited.returncode == 0, invited.stderr
    assert invited.stdout.startswith("http://127.0.0.1:8000/ui/invitation?token=")
    again = s321("admin", "invite", "2", "jane@harbor.test", cwd=tmp_path)
    assert "jane@harbor.test already has an account." in no_traceback(again)
    unknown = s321("admin", "set-password", "nobody@harbor.test", "--password-stdin",
                   cwd=tmp_path, stdin="a long enough password\n")
    assert unknown.returncode == 2
    assert "No person has the email nobody@harbor.test" in no_traceback(unknown)
    short = s321("admin", "set-password", "jane@harbor.test", "--password-stdin",
                 cwd=tmp_path, stdin="short\n")
    assert short.returncode == 2
    assert "A password needs at least 12 characters." in no_traceback(short)
    done = s321("admin", "set-password", "jane@harbor.test", "--password-stdin",
                cwd=tmp_path, stdin="a long enough password\n")
    assert done.returncode == 0, done.stderr
    listed = s321("admin", "people", "2", cwd=tmp_path)
    assert "jane@harbor.test" in listed.stdout
    assert "owner" in listed.stdout
    assert "active" in listed.stdout
    none = s321("admin", "clear-authenticator", "jane@harbor.test", cwd=tmp_path)
    assert none.returncode == 2
    assert "jane@harbor.test has no authenticator set up." in no_traceback(none)
