"""Request and response bodies of the webhook endpoints."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from app.notifications.models import WebhookDelivery, WebhookSubscription

SubscriptionStatus = Literal["active", "failing", "disabled"]
DeliveryStatus = Literal["pending", "delivered", "failed"]


class WebhookIn(BaseModel):
    url: str = Field(max_length=2000, examples=["https://cfs.example.com/s321/events"],
                     description="Where events are POSTed; https (http outside production).")
    event_types: list[str] = Field(
        default=["*"], min_length=1, max_length=50,
        examples=[["hawb.released", "mawb.permit_to_transfer"]],
        description='Event types to receive (see the event catalogue), or ["*"] for all.')
    secret: str | None = Field(
        default=None, min_length=16, max_length=200,
        description="The signing secret; omitted, the service generates one.")


class WebhookOut(BaseModel):
    id: int
    url: str
    event_types: list[str]
    status: SubscriptionStatus = Field(
        description="failing: deliveries are held after repeated failed attempts until you "
                    "enable the subscription again.")
    consecutive_failures: int
    created_at: datetime
    failing_since: datetime | None
    last_error: str | None

    @classmethod
    def of(cls, sub: WebhookSubscription) -> WebhookOut:
        return cls(id=sub.id, url=sub.url, event_types=json.loads(sub.event_types),
                   status=sub.status,
                   consecutive_failures=sub.consecutive_failures, created_at=sub.created_at,
                   failing_since=sub.failing_since, last_error=sub.last_error)


class WebhookCreated(WebhookOut):
    secret: str = Field(description="Verifies the legacy S321-Signature header of every "
                                    "delivery. Shown only now: store it.")
    webhook_secret: str = Field(description="The same secret as Standard Webhooks verifiers "
                                            "take it (whsec_ and base64): verifies the "
                                            "webhook-signature header. Shown only now.")


class AdminWebhookOut(WebhookOut):
    organisation_id: int
    organisation_name: str


class DeliveryOut(BaseModel):
    id: int
    event_id: str = Field(description="The event's id, sent as S321-Event-Id; the same on "
                                      "every attempt and replay.")
    event_type: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None = Field(description="When a pending delivery is tried "
                                                         "next; null once it is settled.")
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None

    @classmethod
    def of(cls, d: WebhookDelivery) -> DeliveryOut:
        return cls(id=d.id, event_id=d.event_id, event_type=d.event_type,
                   status=d.status,
                   attempts=d.attempts,
                   next_attempt_at=d.next_attempt_at if d.status == "pending" else None,
                   last_status_code=d.last_status_code, last_error=d.last_error,
                   created_at=d.created_at, delivered_at=d.delivered_at)


class ReplayIn(BaseModel):
    since: AwareDatetime | None = Field(
        default=None, examples=["2025-04-15T00:00:00Z"],
        description="Only deliveries created at or after this time; all if omitted.")


class ReplayOut(BaseModel):
    replayed: int = Field(description="Failed deliveries queued again.")
