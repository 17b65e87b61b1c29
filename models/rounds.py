"""Budget rounds: one participatory budget per period."""

from datetime import datetime

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import UTCDateTime, db, utcnow


class BudgetRound(db.Model):
    __tablename__ = "budget_round"
    __table_args__ = (
        CheckConstraint("total_cents >= 0", name="total_not_negative"),
        CheckConstraint("base_threshold >= 1", name="base_threshold_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160))
    total_cents: Mapped[int]
    base_threshold: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
