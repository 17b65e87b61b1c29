"""The audit log: who changed what, when, from which value to which, and why."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import UTCDateTime, db, utcnow


class AuditEntry(db.Model):
    __tablename__ = "audit_entry"
    __table_args__ = (
        Index("ix_audit_entry_group_id_at", "group_id", "at"),
        Index("ix_audit_entry_proposal_id_at", "proposal_id", "at"),
        Index("ix_audit_entry_round_id_at", "round_id", "at"),
        Index("ix_audit_entry_support_request_id_at", "support_request_id", "at"),
        # A person's history: roles, and the network's decisions on their membership.
        Index("ix_audit_entry_person_id_at", "person_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    # A dotted verb: "group.certify", "proposal.threshold_override", "person.roles"…
    action: Mapped[str] = mapped_column(String(64))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("action_group.id", ondelete="CASCADE"))
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    # The budget round a change belongs to (its settings, a proposal's threshold on it).
    round_id: Mapped[int | None] = mapped_column(ForeignKey("budget_round.id", ondelete="CASCADE"))
    # A support request of the network (its status and assignee history).
    support_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("support_request.id", ondelete="CASCADE")
    )
    old_value: Mapped[str] = mapped_column(Text, default="")
    new_value: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")

    actor = relationship("Person", foreign_keys=[actor_id], lazy="raise")
