"""Every table, imported in one place for Alembic and tests."""

from app.accounts.models import ApiKey, Organisation, WebSession
from app.ace_gateway.models import AceEntry, AceMessageRecord, EntryNumberSequence, GatewayState
from app.analytics.corrections.models import (
    CorrectionSource,
    PostSummaryCorrection,
    ProductHtsDay,
    ProductHtsMonth,
)
from app.analytics.models import DailyFact, MonthlyFact
from app.analytics.refunds.models import RefundClaim, RefundClaimEntry
from app.analytics.risks.models import (
    RiskConsigneeDay,
    RiskCustomsEvent,
    RiskGoodsLine,
    RiskSource,
    RiskSpelling,
    RiskValueRating,
    RiskWatermark,
)
from app.cfs.models import CfsReceipt, RenderedAnswer
from app.eligibility.models import ComplianceAlert, DeMinimisPolicy, GoodsExclusion
from app.events.models import OutboxEvent
from app.hts.models import HtsLine
from app.lifecycle.models import BrokerClient, HawbHistory
from app.manifest.journals import DeclarationChange, DirtyDay
from app.manifest.models import (
    Hawb,
    HawbLine,
    Manifest,
    RowError,
    UnassignedRow,
    Upload,
)
from app.notifications.models import WebhookDelivery, WebhookSubscription
from app.reference.models import CarrierVersion, CfsFacility, FacilityVersion
from app.tariff.models import (
    CurrencyRate,
    DutyLine,
    HtsEdition,
    HtsRate,
    TariffFee,
    TariffProgram,
    TariffProgramLine,
)

__all__ = [
    "AceEntry",
    "AceMessageRecord",
    "ApiKey",
    "BrokerClient",
    "CarrierVersion",
    "CfsFacility",
    "CfsReceipt",
    "ComplianceAlert",
    "CorrectionSource",
    "CurrencyRate",
    "DailyFact",
    "DeMinimisPolicy",
    "DeclarationChange",
    "DirtyDay",
    "DutyLine",
    "EntryNumberSequence",
    "FacilityVersion",
    "GatewayState",
    "GoodsExclusion",
    "Hawb",
    "HawbHistory",
    "HawbLine",
    "HtsEdition",
    "HtsLine",
    "HtsRate",
    "Manifest",
    "MonthlyFact",
    "Organisation",
    "OutboxEvent",
    "PostSummaryCorrection",
    "ProductHtsDay",
    "ProductHtsMonth",
    "RefundClaim",
    "RefundClaimEntry",
    "RenderedAnswer",
    "RiskConsigneeDay",
    "RiskCustomsEvent",
    "RiskGoodsLine",
    "RiskSource",
    "RiskSpelling",
    "RiskValueRating",
    "RiskWatermark",
    "RowError",
    "TariffFee",
    "TariffProgram",
    "TariffProgramLine",
    "UnassignedRow",
    "Upload",
    "WebSession",
    "WebhookDelivery",
    "WebhookSubscription",
]
