"""The loaded Harmonized Tariff Schedule: its 10-digit statistical lines."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class HtsLine(Base):
    __tablename__ = "hts_lines"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    description: Mapped[str] = mapped_column(Text)
    # The line's description prefixed by its headings', as the schedule reads it.
    full_description: Mapped[str] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(Text, default="")
    general_rate: Mapped[str] = mapped_column(Text, default="")
    edition: Mapped[str] = mapped_column(String(60))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
