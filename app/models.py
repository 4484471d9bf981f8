"""Every table, imported in one place for Alembic and tests."""

from app.accounts.models import ApiKey, Organisation
from app.ace_gateway.models import AceEntry, AceMessageRecord, EntryNumberSequence, GatewayState
from app.eligibility.models import ComplianceAlert, DeMinimisPolicy, GoodsExclusion
from app.hts.models import HtsLine
from app.lifecycle.models import BrokerClient, HawbHistory, OutboxEvent
from app.manifest.models import (
    Hawb,
    HawbLine,
    Manifest,
    RowError,
    UnassignedRow,
    Upload,
)

__all__ = [
    "AceEntry",
    "AceMessageRecord",
    "ApiKey",
    "BrokerClient",
    "ComplianceAlert",
    "DeMinimisPolicy",
    "EntryNumberSequence",
    "GatewayState",
    "GoodsExclusion",
    "Hawb",
    "HawbHistory",
    "HawbLine",
    "HtsLine",
    "Manifest",
    "Organisation",
    "OutboxEvent",
    "RowError",
    "UnassignedRow",
    "Upload",
]
