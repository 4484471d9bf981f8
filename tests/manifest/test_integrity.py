"""HAWBs and lines carry no foreign keys (see app/manifest/models.py): the writers keep
them consistent, and these checks prove it after every kind of write."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.manifest.models import Hawb, HawbLine, Manifest, Upload
from tests.conftest import Org, sample, upload


def orphans(db: sessionmaker[Session]) -> dict[str, int]:
    with db() as session:
        lines = session.scalar(select(func.count()).select_from(HawbLine).where(
            ~HawbLine.hawb_id.in_(select(Hawb.id)))) or 0
        hawbs_manifest = session.scalar(select(func.count()).select_from(Hawb).where(
            ~Hawb.manifest_id.in_(select(Manifest.id)))) or 0
        hawbs_upload = session.scalar(select(func.count()).select_from(Hawb).where(
            ~Hawb.upload_id.in_(select(Upload.id)))) or 0
    return {"lines": lines, "hawbs_manifest": hawbs_manifest, "hawbs_upload": hawbs_upload}


def line_total(db: sessionmaker[Session]) -> int:
    with db() as session:
        return session.scalar(select(func.count()).select_from(HawbLine)) or 0


def test_amendment_and_deletion_leave_no_orphans(client: TestClient, forwarder: Org,
                                                 db: sessionmaker[Session]) -> None:
    clean = sample("lax_2025-04-15_clean.csv")
    upload(client, forwarder, clean)
    assert line_total(db) == 46
    # Re-send every HAWB with one description changed: all 30 replaced, lines not doubled.
    body = upload(client, forwarder, clean.replace(b"Knitted beanie hat", b"Beanie")).json()
    assert body["hawbs"]["replaced"] == 30
    assert line_total(db) == 46
    hawb = client.get("/v1/manifests/29775589382/hawbs", headers=forwarder.headers,
                      params={"limit": 1}).json()["items"][0]["hawb_no"]
    detail = client.get(f"/v1/manifests/29775589382/hawbs/{hawb}",
                        headers=forwarder.headers).json()
    assert client.delete(f"/v1/manifests/29775589382/hawbs/{hawb}",
                         headers=forwarder.headers).status_code == 204
    assert line_total(db) == 46 - detail["line_count"]
    assert orphans(db) == {"lines": 0, "hawbs_manifest": 0, "hawbs_upload": 0}
