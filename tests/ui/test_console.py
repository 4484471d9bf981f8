"""The console's sessions, CSRF protection and page access (without a browser)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from app.accounts.models import OrgKind
from tests.conftest import MakeOrg, Org, sample, upload
from tests.support.console import csrf_of, sign_in
from tests.support.journeys import designate
from tests.support.manifests import line, manifest


def test_sign_in_sets_a_protected_cookie_and_sign_out_ends_it(client: TestClient,
                                                             forwarder: Org) -> None:
    assert client.get("/ui/manifests", follow_redirects=False).headers["location"] \
        == "/ui/sign-in?next=/ui/manifests"
    form = client.get("/ui/sign-in")
    response = client.post("/ui/sign-in", data={"api_key": forwarder.key,
                                                "csrf_token": csrf_of(form.text)},
                           follow_redirects=False)
    cookie = response.headers["set-cookie"]
    assert "s321_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http here; set over TLS
    page = client.get("/ui/manifests")
    assert page.status_code == 200
    assert forwarder.name in page.text
    out = client.post("/ui/sign-out", data={"csrf_token": csrf_of(page.text)},
                      follow_redirects=False)
    assert out.status_code == 303
    client.cookies.set("s321_session", cookie.split("s321_session=")[1].split(";")[0],
                       path="/ui")
    assert client.get("/ui/manifests", follow_redirects=False).status_code == 303


def test_a_wrong_key_is_refused(client: TestClient) -> None:
    form = client.get("/ui/sign-in")
    response = client.post("/ui/sign-in", data={"api_key": "s321_nope_nope",
                                                "csrf_token": csrf_of(form.text)})
    assert response.status_code == 401
    assert "unknown or has been revoked" in response.text


def test_forms_without_the_session_token_are_refused(client: TestClient, forwarder: Org,
                                                     broker: Org) -> None:
    form = client.get("/ui/sign-in")
    forged = client.post("/ui/sign-in", data={"api_key": forwarder.key,
                                              "csrf_token": "forged"})
    assert forged.status_code == 403
    designate(client, forwarder, broker)
    assert upload(client, forwarder, sample("lax_2025-04-15_clean.csv")).status_code == 201
    csrf = sign_in(client, broker)
    refused = client.post("/ui/review/approve-manifest", data={"mawb": "29775589382"})
    assert refused.status_code == 422  # no token at all
    refused = client.post("/ui/review/approve-manifest",
                          data={"mawb": "29775589382", "csrf_token": csrf + "x"})
    assert refused.status_code == 403
    assert "did not come from your current session" in refused.text
    assert "eligible" in client.get("/ui/review").text  # nothing was approved
    done = client.post("/ui/review/approve-manifest",
                       data={"mawb": "29775589382", "csrf_token": csrf})
    assert "Approved 28 eligible" in done.text
    signed_out = client.post("/ui/sign-out", data={})
    assert signed_out.status_code == 422
    assert form.status_code == 200


def test_a_forwarder_cannot_open_broker_pages_or_another_forwarders_manifest(
        client: TestClient, forwarder: Org, make_org: MakeOrg) -> None:
    assert upload(client, forwarder, sample("lax_2025-04-15_clean.csv")).status_code == 201
    other = make_org(OrgKind.FORWARDER)
    sign_in(client, other)
    assert client.get("/ui/review").status_code == 403
    assert client.get("/ui/cfs/W279").status_code == 403
    assert client.get("/ui/manifests/29775589382").status_code == 404
    assert client.get("/ui/manifests/29775589382/hawbs/HL0026457").status_code == 404
    assert "29775589382" not in client.get("/ui/manifests").text
    sign_in(client, forwarder)
    assert "29775589382" in client.get("/ui/manifests").text


def test_row_error_csv_neutralises_formulas(client: TestClient, forwarder: Org) -> None:
    body = manifest([line("HX1", "12.00"),
                     line("HX2", "=HYPERLINK(\"http://evil\")", **{"Consignee Name": "B"})])
    made = upload(client, forwarder, body)
    sign_in(client, forwarder)
    upload_id = made.json()["id"]
    page = client.get(f"/ui/uploads/{upload_id}")
    assert "HYPERLINK" in page.text
    exported = client.get(f"/ui/uploads/{upload_id}/errors.csv")
    assert exported.headers["content-type"].startswith("text/csv")
    assert "'=HYPERLINK" in exported.text
    assert ",=HYPERLINK" not in exported.text


def test_console_pages_forbid_framing_and_foreign_scripts(client: TestClient) -> None:
    for path in ("/ui/sign-in", "/ui/static/console.css", "/ui/nowhere"):
        headers = client.get(path).headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert "script-src 'self';" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"


def test_the_session_cookie_is_secure_when_the_settings_say_so(settings: Any) -> None:
    from app.main import create_app

    # Behind a TLS proxy the service sees plain http; the setting decides.
    behind_tls = settings.model_copy(update={"console_cookie_secure": True})
    with TestClient(create_app(behind_tls)) as client:
        assert "Secure" in client.get("/ui/sign-in").headers["set-cookie"]
    production = settings.model_copy(update={"environment": "production",
                                              "api_key_pepper": "p" * 40})
    with TestClient(create_app(production)) as client:
        assert "Secure" in client.get("/ui/sign-in").headers["set-cookie"]
    never = settings.model_copy(update={"console_cookie_secure": False})
    with TestClient(create_app(never), base_url="https://testserver") as client:
        assert "Secure" not in client.get("/ui/sign-in").headers["set-cookie"]
