"""Spending and reimbursement requests of a group, their receipts and their timeline."""

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import UTCDateTime, db, utcnow


class SpendingCategory(enum.StrEnum):
    printing = "printing"
    consumables = "consumables"
    equipment_purchase = "equipment_purchase"
    travel = "travel"
    accommodation = "accommodation"
    room_hire = "room_hire"
    equipment_hire = "equipment_hire"
    technical_hire = "technical_hire"
    vehicle_hire = "vehicle_hire"
    subscription = "subscription"


class SpendingStatus(enum.StrEnum):
    draft = "draft"
    awaiting_group = "awaiting_group"  # a second manager of the group validates
    awaiting_finance = "awaiting_finance"
    info_requested = "info_requested"  # the finance team asked the group a question
    approved = "approved"  # the ledger operations are written
    paid = "paid"
    refused = "refused"

    @property
    def is_submitted(self) -> bool:
        return self not in (SpendingStatus.draft,)

    @property
    def is_open(self) -> bool:
        """The group can still change the request."""
        return self in (
            SpendingStatus.draft,
            SpendingStatus.awaiting_group,
            SpendingStatus.awaiting_finance,
            SpendingStatus.info_requested,
        )


def _enum(cls, length=24):
    return Enum(cls, native_enum=False, length=length, validate_strings=True)


class SpendingRequest(db.Model):
    __tablename__ = "spending_request"
    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        # Written together at approval: the round's part and the envelope's part of the amount.
        CheckConstraint(
            "(round_cents IS NULL) = (envelope_cents IS NULL)", name="charges_together"
        ),
        CheckConstraint(
            "round_cents IS NULL OR (round_cents >= 0 AND envelope_cents >= 0 "
            "AND round_cents + envelope_cents = amount_cents)",
            name="charges_add_up",
        ),
        Index("ix_spending_request_group_id_created_at", "group_id", "created_at"),
        # The finance queue: by status, the oldest submitted first.
        Index("ix_spending_request_status_submitted_at", "status", "submitted_at"),
        Index("ix_spending_request_commitment_id", "commitment_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("action_group.id", ondelete="RESTRICT"))
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="RESTRICT"))
    # The person who last changed the request: like the author, they cannot validate it.
    last_editor_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="RESTRICT"))
    title: Mapped[str] = mapped_column(String(160))
    category: Mapped[SpendingCategory] = mapped_column(_enum(SpendingCategory))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    spent_on: Mapped[date] = mapped_column(Date)
    explanation: Mapped[str] = mapped_column(Text, default="")
    # Who is paid: a supplier, or a member reimbursed. The IBAN is shown masked except to the
    # finance team.
    payee_name: Mapped[str] = mapped_column(String(140))
    payee_iban: Mapped[str] = mapped_column(String(34))
    # The group's commitment on a fundable action this expense belongs to, if any.
    commitment_id: Mapped[int | None] = mapped_column(
        ForeignKey("commitment.id", ondelete="SET NULL")
    )
    status: Mapped[SpendingStatus] = mapped_column(
        _enum(SpendingStatus), default=SpendingStatus.draft
    )
    # Bumped by every change, so that a form filled in on a stale page is refused.
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Set at approval, from the ledger operations written then.
    reservation_id: Mapped[int | None] = mapped_column(
        ForeignKey("reservation.id", ondelete="RESTRICT")
    )
    round_cents: Mapped[int | None] = mapped_column(BigInteger)
    envelope_cents: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    group = relationship("ActionGroup", lazy="raise")
    author = relationship("Person", foreign_keys=[author_id], lazy="raise")


class SpendingReceipt(db.Model):
    """A receipt (PDF, JPEG, PNG) attached to a request; its file lives under UPLOADS_PATH."""

    __tablename__ = "spending_receipt"
    __table_args__ = (Index("ix_spending_receipt_request_id", "request_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("spending_request.id", ondelete="CASCADE"))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))


class SpendingEvent(db.Model):
    """One step of a request's timeline: who did what, when, with which comment."""

    __tablename__ = "spending_event"
    __table_args__ = (Index("ix_spending_event_request_id_at", "request_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("spending_request.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    # created, edited, receipt_added, receipt_removed, submitted, validated, returned,
    # info_requested, answered, approved, refused, paid
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str | None] = mapped_column(String(24))
    comment: Mapped[str] = mapped_column(Text, default="")

    actor = relationship("Person", lazy="raise")
