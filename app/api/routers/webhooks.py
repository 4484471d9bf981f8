"""Webhook subscriptions: register callback URLs, see deliveries, re-enable, replay."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy import select

from app.accounts.models import Organisation
from app.api.deps import AdminDep, CallerDep, SessionDep, SettingsDep, WriterSessionDep
from app.api.problems import problem_responses
from app.api.schemas.webhooks import (
    AdminWebhookOut,
    DeliveryOut,
    DeliveryStatus,
    ReplayIn,
    ReplayOut,
    SubscriptionStatus,
    WebhookCreated,
    WebhookIn,
    WebhookOut,
)
from app.kit.bounds import RowId
from app.kit.pagination import Page
from app.notifications import webhooks

router = APIRouter(prefix="/v1", tags=["webhooks"], responses=problem_responses(401))

_ABOUT = (
    "Events your organisation may see are POSTed as JSON (the event envelope), signed to the "
    "Standard Webhooks specification: headers `webhook-id` (the event id), "
    "`webhook-timestamp` and `webhook-signature`, which any Standard Webhooks library "
    "verifies with the `webhook_secret` (`whsec_...`) shown when you register. The older "
    "`S321-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of \"<t>.\" + body>` header under "
    "`secret` is still sent for one release. Answer 2xx within 10 s; anything else is "
    "retried with backoff. Delivery is at least once: de-duplicate on `webhook-id`. URLs "
    "must reach public addresses.")


@router.post("/webhooks", response_model=WebhookCreated, status_code=201,
             summary="Register a webhook (the signing secret is shown once)",
             description=_ABOUT, responses=problem_responses(422))
def create_webhook(body: WebhookIn, caller: CallerDep, session: WriterSessionDep,
                   settings: SettingsDep) -> WebhookCreated:
    sub, secret = webhooks.subscribe(
        session, caller.organisation_id, body.url, body.event_types, body.secret,
        allow_http=settings.environment != "production",
        allow_private=settings.webhook_allow_private_targets,
        max_subscriptions=settings.webhook_max_subscriptions)
    return WebhookCreated(**WebhookOut.of(sub).model_dump(), secret=secret,
                          webhook_secret=webhooks.signing_secret(secret))


@router.get("/webhooks", response_model=list[WebhookOut],
            summary="Your organisation's webhooks")
def list_webhooks(caller: CallerDep, session: SessionDep) -> list[WebhookOut]:
    return [WebhookOut.of(s)
            for s in webhooks.list_subscriptions(session, caller.organisation_id)]


@router.get("/webhooks/{webhook_id}", response_model=WebhookOut, summary="One webhook",
            responses=problem_responses(404))
def get_webhook(webhook_id: RowId, caller: CallerDep, session: SessionDep) -> WebhookOut:
    return WebhookOut.of(webhooks.get(session, caller.organisation_id, webhook_id))


@router.delete("/webhooks/{webhook_id}", status_code=204,
               summary="Delete a webhook and its pending deliveries",
               responses=problem_responses(404))
def delete_webhook(webhook_id: RowId, caller: CallerDep, session: WriterSessionDep) -> Response:
    webhooks.delete(session, caller.organisation_id, webhook_id)
    return Response(status_code=204)


@router.post("/webhooks/{webhook_id}/enable", response_model=WebhookOut,
             summary="Enable a failing webhook: its held deliveries resume",
             responses=problem_responses(404))
def enable_webhook(webhook_id: RowId, caller: CallerDep, session: WriterSessionDep
                   ) -> WebhookOut:
    return WebhookOut.of(webhooks.enable(session, caller.organisation_id, webhook_id))


@router.post("/webhooks/{webhook_id}/disable", response_model=WebhookOut,
             summary="Disable a webhook: nothing is delivered to it until enabled",
             responses=problem_responses(404))
def disable_webhook(webhook_id: RowId, caller: CallerDep, session: WriterSessionDep
                    ) -> WebhookOut:
    return WebhookOut.of(webhooks.disable(session, caller.organisation_id, webhook_id))


@router.get("/webhooks/{webhook_id}/deliveries", response_model=Page[DeliveryOut],
            summary="A webhook's deliveries, newest first", responses=problem_responses(404, 422))
def list_deliveries(
    webhook_id: RowId, caller: CallerDep, session: SessionDep,
    status: DeliveryStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query()] = None,
) -> Page[DeliveryOut]:
    page = webhooks.deliveries(session, caller.organisation_id, webhook_id, status=status,
                               limit=limit, cursor=cursor)
    return Page(items=[DeliveryOut.of(d) for d in page.items], total=page.total,
                next_cursor=page.next_cursor)


@router.post("/webhooks/{webhook_id}/replay", response_model=ReplayOut,
             summary="Send a webhook's failed deliveries again",
             description="Deliveries that were given up after every retry are queued again, "
                         "with the same event ids.",
             responses=problem_responses(404, 422))
def replay_webhook(webhook_id: RowId, caller: CallerDep, session: WriterSessionDep,
                   body: ReplayIn | None = None) -> ReplayOut:
    since = body.since if body else None
    return ReplayOut(replayed=webhooks.replay(session, caller.organisation_id, webhook_id,
                                              since))


@router.get("/admin/webhooks", response_model=list[AdminWebhookOut],
            summary="Every organisation's webhooks in a status (failing by default)",
            responses=problem_responses(403))
def admin_webhooks(_: AdminDep, session: SessionDep,
                   status: SubscriptionStatus = "failing") -> list[AdminWebhookOut]:
    subs = webhooks.failing(session, status)
    names = dict(session.execute(select(Organisation.id, Organisation.name).where(
        Organisation.id.in_(sorted({s.organisation_id for s in subs})))).all())
    return [AdminWebhookOut(**WebhookOut.of(s).model_dump(), organisation_id=s.organisation_id,
                            organisation_name=names.get(s.organisation_id, ""))
            for s in subs]
