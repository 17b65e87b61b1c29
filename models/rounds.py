"""Budget rounds (one participatory budget per period) and the reservations made on them."""

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import UTCDateTime, db, utcnow


class ThresholdPolicy(enum.StrEnum):
    # The base threshold (or a proposal's own), whatever remains.
    manual = "manual"
    # ceil(base × total / remaining): the threshold rises as the remaining budget shrinks.
    scaled = "scaled"


class BudgetRound(db.Model):
    __tablename__ = "budget_round"
    __table_args__ = (
        CheckConstraint("total_cents >= 0", name="total_not_negative"),
        CheckConstraint("base_threshold >= 1", name="base_threshold_positive"),
        # The database's own guard of « Σ reservations ≤ total », under any concurrency.
        CheckConstraint(
            "reserved_cents >= 0 AND reserved_cents <= total_cents", name="reserved_within_total"
        ),
        CheckConstraint("closes_at > opens_at", name="closes_after_opening"),
        # One current round at most.
        Index(
            "uq_budget_round_current",
            "is_current",
            unique=True,
            sqlite_where=text("is_current"),
            postgresql_where=text("is_current"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160))
    total_cents: Mapped[int] = mapped_column(BigInteger)
    base_threshold: Mapped[int]
    policy: Mapped[ThresholdPolicy] = mapped_column(
        Enum(ThresholdPolicy, native_enum=False, length=16, validate_strings=True),
        default=ThresholdPolicy.manual,
    )
    # Commitments are accepted from opens_at (included) to closes_at (excluded).
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    is_current: Mapped[bool] = mapped_column(default=False)
    # Σ of the active reservations, kept in the same transaction as the reservations.
    reserved_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    # Bumped by every change of the figures (a reservation, a release, a setting), so that the
    # public chart is rebuilt only when something changed.
    version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def remaining_cents(self) -> int:
        return self.total_cents - self.reserved_cents

    def accepts_commitments_at(self, moment: datetime) -> bool:
        return self.opens_at <= moment < self.closes_at


class Reservation(db.Model):
    """A commitment's share of the round: the proposal's per-group budget when reserved.

    Released (never deleted) when the commitment is withdrawn: the history of reservations
    over time stays readable.
    """

    __tablename__ = "reservation"
    __table_args__ = (
        CheckConstraint("amount_cents >= 0", name="amount_not_negative"),
        # A reservation per commitment at most (the released ones are history).
        Index(
            "uq_reservation_active_commitment",
            "commitment_id",
            unique=True,
            sqlite_where=text("released_at IS NULL"),
            postgresql_where=text("released_at IS NULL"),
        ),
        Index("ix_reservation_round_reserved_at", "round_id", "reserved_at"),
        Index("ix_reservation_proposal_id", "proposal_id"),
        Index("ix_reservation_group_id", "group_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("budget_round.id"))
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"))
    commitment_id: Mapped[int] = mapped_column(ForeignKey("commitment.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("action_group.id", ondelete="CASCADE"))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    reserved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    proposal = relationship("Proposal", lazy="raise")
    group = relationship("ActionGroup", lazy="raise")

    @property
    def is_active(self) -> bool:
        return self.released_at is None
