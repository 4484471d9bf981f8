"""People in the console: signing in by email, password and authenticator code; viewers
who read but do not act; owners managing their organisation's people (and only theirs);
history naming the person who approved; a disabled person's session ending."""

from __future__ import annotations

import inspect
import re

import pyotp
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.accounts.models import OrgKind, Person, Role
from app.db import utcnow
from app.lifecycle.models import HawbHistory
from app.ui import account, analytics, brokers, carriers, cfs, common, forwarders
from tests.conftest import MakeOrg, Org, sample, upload
from tests.support.console import csrf_of, sign_in, sign_in_person
from tests.support.journeys import designate, history
from tests.support.people import PASSWORD, make_person

MAWB = "29775589382"


def _post_sign_in(client: TestClient, email: str, password: str, code: str = ""
                  ) -> tuple[int, str]:
    form = client.get("/ui/sign-in")
    response = client.post("/ui/sign-in", data={
        "email": email, "password": password, "code": code, "csrf_token": csrf_of(form.text)},
        follow_redirects=False)
    return response.status_code, response.text


def test_a_person_signs_in_by_email_and_is_throttled_after_failures(
        client: TestClient, db: sessionmaker[Session], forwarder: Org) -> None:
    jane = make_person(db, forwarder.id, "jane@pacific.test", Role.OPERATOR, "Jane Doe")
    status, text = _post_sign_in(client, "jane@pacific.test", "not the password")
    assert status == 401
    assert "This email and password do not match an active account." in text
    sign_in_person(client, "JANE@pacific.test", jane.password)
    page = client.get("/ui/today")
    assert "Pacific Rim Logistics — Jane Doe" in page.text
    client.post("/ui/sign-out", data={"csrf_token": csrf_of(page.text)})
    for _ in range(5):  # a success cleared the first failure
        assert _post_sign_in(client, jane.email, "still wrong")[0] == 401
    status, text = _post_sign_in(client, jane.email, jane.password)
    assert status == 429
    assert "Too many failed sign-ins for jane@pacific.test: try again in 15 minutes" in text


def test_the_authenticator_is_set_up_then_asked_for(client: TestClient,
                                                    db: sessionmaker[Session],
                                                    forwarder: Org) -> None:
    jane = make_person(db, forwarder.id, "jane@pacific.test")
    csrf = sign_in_person(client, jane.email, jane.password)
    started = client.post("/ui/account/totp", data={"csrf_token": csrf})
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', started.text)
    assert secret, started.text
    totp = pyotp.TOTP(secret.group(1))
    wrong = client.post("/ui/account/totp/confirm", data={"csrf_token": csrf, "code": "x"})
    assert wrong.status_code == 422
    confirmed = client.post("/ui/account/totp/confirm",
                            data={"csrf_token": csrf, "code": totp.now()})
    assert "Your authenticator is set up" in confirmed.text
    client.post("/ui/sign-out", data={"csrf_token": csrf})
    status, text = _post_sign_in(client, jane.email, jane.password)
    assert status == 401
    assert "Enter the 6-digit code your authenticator shows." in text
    assert _post_sign_in(client, jane.email, jane.password, "000000" if totp.now() != "000000"
                         else "111111")[0] == 401
    assert _post_sign_in(client, jane.email, jane.password, totp.now())[0] == 303


def test_a_viewer_reads_but_cannot_act(client: TestClient, db: sessionmaker[Session],
                                       forwarder: Org, broker: Org) -> None:
    designate(client, forwarder, broker)
    assert upload(client, forwarder, sample("lax_2025-04-15_clean.csv")).status_code == 201
    viewer = make_person(db, broker.id, "viewer@harbour.test", Role.VIEWER)
    csrf = sign_in_person(client, viewer.email, viewer.password)
    review = client.get("/ui/review")
    assert review.status_code == 200
    assert '<body class="viewer">' in review.text
    refused = client.post("/ui/review/approve-manifest",
                          data={"mawb": MAWB, "csrf_token": csrf})
    assert refused.status_code == 403
    assert "You are a viewer: you can read every page of your organisation but not act" \
        in refused.text
    refused = client.post("/ui/review/decide", data={"csrf_token": csrf, "action": "approve",
                                                     "hawb_ids": "1"})
    assert refused.status_code == 403
    with db() as session:
        assert session.scalars(select(HawbHistory)).all() == []
    # Not an owner either.
    assert client.get("/ui/people").status_code == 403
    # Their own account stays theirs, and they can sign out.
    assert client.post("/ui/account/totp", data={"csrf_token": csrf}).status_code == 200
    assert client.post("/ui/sign-out", data={"csrf_token": csrf},
                       follow_redirects=False).status_code == 303


def test_a_forwarders_viewer_cannot_upload_and_an_operators_upload_names_them(
        client: TestClient, db: sessionmaker[Session], forwarder: Org) -> None:
    viewer = make_person(db, forwarder.id, "viewer@pacific.test", Role.VIEWER)
    csrf = sign_in_person(client, viewer.email, viewer.password)
    refused = client.post("/ui/upload", data={"csrf_token": csrf},
                          files={"file": ("m.csv", sample("lax_2025-04-15_clean.csv"))})
    assert refused.status_code == 403
    assert client.get("/v1/manifests", headers=forwarder.headers).json()["items"] == []
    # An operator's upload names them in the activity log.
    operator = make_person(db, forwarder.id, "op@pacific.test", Role.OPERATOR, "Ola Op")
    client.cookies.clear()
    csrf = sign_in_person(client, operator.email, operator.password)
    done = client.post("/ui/upload", data={"csrf_token": csrf},
                       files={"file": ("m.csv", sample("lax_2025-04-15_clean.csv"))},
                       follow_redirects=False)
    assert done.status_code == 303, done.text
    log = client.get("/v1/activity", headers=forwarder.headers,
                     params={"source": "upload"}).json()["items"]
    assert [i["actor"] for i in log] == ["Pacific Rim Logistics — Ola Op"]


def test_history_names_the_person_who_approved(client: TestClient, db: sessionmaker[Session],
                                               forwarder: Org, broker: Org) -> None:
    designate(client, forwarder, broker)
    assert upload(client, forwarder, sample("lax_2025-04-15_clean.csv")).status_code == 201
    jane = make_person(db, broker.id, "jane@harbour.test", Role.OPERATOR, "Jane Doe")
    csrf = sign_in_person(client, jane.email, jane.password)
    done = client.post("/ui/review/approve-manifest", data={"mawb": MAWB, "csrf_token": csrf})
    assert "Approved 28 eligible" in done.text
    with db() as session:
        rows = session.execute(select(HawbHistory.actor, HawbHistory.actor_person_id,
                                      HawbHistory.hawb_no)).all()
    assert len(rows) == 28
    assert {(actor, person) for actor, person, _ in rows} == {
        ("Harbour Customs Brokers — Jane Doe", jane.id)}
    hawb_no = rows[0][2]
    assert history(client, forwarder, MAWB, hawb_no)[0]["actor"] \
        == "Harbour Customs Brokers — Jane Doe"
    assert "Harbour Customs Brokers — Jane Doe" in client.get("/ui/activity").text
    # The upload names the forwarder's key that sent it.
    log = client.get("/v1/activity", headers=forwarder.headers,
                     params={"source": "upload"}).json()["items"]
    assert [i["actor"] for i in log] == [forwarder.by_key]


def test_an_owner_manages_their_people_and_no_one_elses(client: TestClient,
                                                        db: sessionmaker[Session],
                                                        broker: Org, make_org: MakeOrg
                                                        ) -> None:
    other = make_org(OrgKind.BROKER, "Other Brokers")
    theirs = make_person(db, other.id, "someone@other.test", Role.OPERATOR)
    owner = make_person(db, broker.id, "owner@harbour.test", Role.OWNER)
    csrf = sign_in_person(client, owner.email, owner.password)
    listed = client.get("/ui/people")
    assert "owner@harbour.test" in listed.text
    assert "someone@other.test" not in listed.text
    assert client.get(f"/ui/people?org={other.id}").status_code == 403
    for action in ("role", "disable", "reset"):
        refused = client.post(f"/ui/people/{theirs.id}",
                              data={"csrf_token": csrf, "action": action, "role": "viewer"})
        assert refused.status_code == 404, action
    assert client.post("/ui/people", data={"csrf_token": csrf, "org": str(other.id),
                                           "email": "x@other.test", "role": "owner"}
                       ).status_code == 403
    with db() as session:
        person = session.get(Person, theirs.id)
        assert person is not None
        assert (person.role, person.disabled_at) == ("operator", None)

    invited = client.post("/ui/people", data={"csrf_token": csrf, "org": str(broker.id),
                                              "email": "New@Harbour.test", "role": "viewer"})
    assert invited.status_code == 200, invited.text
    link = re.search(r'id="shown-once">http://testserver(/ui/invitation\?token=[^<]+)<',
                     invited.text)
    assert link, invited.text
    client.post("/ui/sign-out", data={"csrf_token": csrf})
    form = client.get(link.group(1))
    assert "For new@harbour.test (viewer)" in form.text
    token = link.group(1).split("token=")[1]
    accepted = client.post("/ui/invitation", data={
        "csrf_token": csrf_of(form.text), "token": token, "name": "New Person",
        "password": "a long enough password"})
    assert "Your password is set: sign in." in accepted.text
    again = client.post("/ui/invitation", data={
        "csrf_token": csrf_of(client.get(link.group(1)).text), "token": token,
        "name": "Mallory", "password": "another long password"})
    assert again.status_code == 422
    assert "already used" in again.text
    sign_in_person(client, "new@harbour.test", "a long enough password")


def test_a_disabled_persons_session_stops(client: TestClient, db: sessionmaker[Session],
                                          forwarder: Org, admin: Org) -> None:
    jane = make_person(db, forwarder.id, "jane@pacific.test")
    sign_in_person(client, jane.email, jane.password)
    assert client.get("/ui/today").status_code == 200
    disabled = client.patch(f"/v1/people/{jane.id}", headers=admin.headers,
                            json={"disabled": True})
    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["disabled_at"] is not None
    gone = client.get("/ui/today", follow_redirects=False)
    assert gone.status_code == 303
    assert gone.headers["location"].startswith("/ui/sign-in")
    assert _post_sign_in(client, jane.email, PASSWORD)[0] == 401
    with db() as session:
        person = session.get(Person, jane.id)
        assert person is not None
        assert person.disabled_at is not None
        assert person.disabled_at <= utcnow()


def test_an_api_key_session_still_signs_in_and_history_names_the_key(
        client: TestClient, db: sessionmaker[Session], forwarder: Org, broker: Org) -> None:
    designate(client, forwarder, broker)
    assert upload(client, forwarder, sample("lax_2025-04-15_clean.csv")).status_code == 201
    csrf = sign_in(client, broker)
    client.post("/ui/review/approve-manifest", data={"mawb": MAWB, "csrf_token": csrf})
    with db() as session:
        actors = set(session.execute(select(HawbHistory.actor,
                                            HawbHistory.actor_person_id)).all())
    assert actors == {(broker.by_key, None)}
    assert client.get("/ui/account").status_code == 403


def test_every_console_form_goes_through_the_viewer_check() -> None:
    """A form added later cannot forget viewers: every POST route checks its session's form
    (check_csrf refuses viewers unless told the form does not act) or refuses them first."""
    public = {"/sign-in", "/invitation", "/reset"}  # no session yet
    own = {"/sign-out", "/account/password", "/account/totp", "/account/totp/confirm"}
    checked = []
    for module in (common, account, forwarders, brokers, cfs, carriers, analytics):
        for route in module.router.routes:
            if not isinstance(route, APIRoute) or "POST" not in route.methods:
                continue
            source = inspect.getsource(route.endpoint)
            if route.path in public:
                assert "check_csrf" not in source, route.path
                continue
            if route.path in own:
                assert "acts=False" in source, route.path
            else:
                assert "acts=False" not in source, route.path
                assert "check_csrf(web, " in source or "acting(web)" in source, route.path
            checked.append(route.path)
    assert {"/review/decide", "/upload", "/cfs/{firms}/receipt", "/parcels/{hawb_id}/pickup",
            "/people"} <= set(checked)


def test_an_owner_clears_a_lost_authenticator(client: TestClient, db: sessionmaker[Session],
                                              broker: Org) -> None:
    owner = make_person(db, broker.id, "owner@harbour.test", Role.OWNER)
    ravi = make_person(db, broker.id, "ravi@harbour.test")
    with db() as session, session.begin():
        person = session.get(Person, ravi.id)
        assert person is not None
        person.totp_secret = pyotp.random_base32()
        person.totp_confirmed_at = utcnow()
    assert _post_sign_in(client, ravi.email, ravi.password)[0] == 401  # a code is asked for
    csrf = sign_in_person(client, owner.email, owner.password)
    cleared = client.post(f"/ui/people/{ravi.id}", data={"csrf_token": csrf,
                                                         "action": "authenticator"})
    assert cleared.status_code == 200
    assert "ravi@harbour.test: authenticator cleared" in cleared.text
    unknown = client.post(f"/ui/people/{ravi.id}", data={"csrf_token": csrf, "action": "x"})
    assert unknown.status_code == 422
    client.post("/ui/sign-out", data={"csrf_token": csrf})
    assert _post_sign_in(client, ravi.email, ravi.password)[0] == 303
