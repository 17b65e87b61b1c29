"""Action proposals and the groups' commitments to them (a commitment is the vote)."""

import enum
import unicodedata
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import UTCDateTime, db, utcnow


class ProposalStatus(enum.StrEnum):
    draft = "draft"
    submitted = "submitted"
    in_review = "in_review"
    published = "published"
    declined = "declined"
    withdrawn = "withdrawn"


class Category(enum.StrEnum):
    alimentation = "alimentation"
    solidarite = "solidarite"
    ecologie = "ecologie"
    logement = "logement"
    education = "education"
    sante = "sante"
    culture = "culture"
    mobilite = "mobilite"


class CommitmentStatus(enum.StrEnum):
    active = "active"
    withdrawn = "withdrawn"


def fold_text(text: str) -> str:
    """Lower case without accents, so that « energie » finds « Énergie » on every backend."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _enum(cls):
    return Enum(cls, native_enum=False, length=16, validate_strings=True)


class Proposal(db.Model):
    __tablename__ = "proposal"
    __table_args__ = (
        CheckConstraint("per_group_budget_cents >= 0", name="budget_not_negative"),
        CheckConstraint(
            "threshold_override IS NULL OR threshold_override >= 1", name="override_positive"
        ),
        CheckConstraint("commitment_count >= 0", name="count_not_negative"),
        CheckConstraint(
            "reserved_count >= 0 AND reserved_cents >= 0", name="reserved_not_negative"
        ),
        Index("ix_proposal_status_published_at", "status", "published_at"),
        # The animation team's queue: by status, the oldest submitted first.
        Index("ix_proposal_status_submitted_at", "status", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("budget_round.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(220), unique=True)
    summary: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text, default="")
    # "Comment faire": steps and material, Markdown like the body.
    how_to: Mapped[str] = mapped_column(Text, default="", server_default="")
    category: Mapped[Category] = mapped_column(_enum(Category))
    per_group_budget_cents: Mapped[int]
    origin_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("action_group.id", ondelete="SET NULL")
    )
    status: Mapped[ProposalStatus] = mapped_column(
        _enum(ProposalStatus), default=ProposalStatus.draft
    )
    threshold_override: Mapped[int | None]
    # Kept in the same transaction as the commitments it counts (rule "count = active rows").
    commitment_count: Mapped[int] = mapped_column(default=0)
    # Bumped by every change a live page shows (a commitment, a withdrawal, a threshold), so
    # that a poll notices a withdrawal and a commitment that leave the count unchanged.
    live_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # Recorded once, when the count first reaches the threshold; never cleared.
    fundable_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fundable_threshold: Mapped[int | None]
    fundable_count: Mapped[int | None]
    # The active reservations of its commitments on the round: how many, and their sum; kept
    # in the same transaction as the reservations. Active commitments beyond reserved_count
    # on a fundable proposal are « hors budget participatif ».
    reserved_count: Mapped[int] = mapped_column(default=0, server_default="0")
    reserved_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # Accent- and case-folded title and summary, for search on every backend.
    search_text: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Optimistic lock of the editors: a save names the version it started from, and a save
    # from an older version is refused instead of silently overwriting a colleague's work.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    # The animator who follows the proposal in the animation team's queue.
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), index=True
    )
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decline_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdraw_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    round = relationship("BudgetRound", lazy="raise")
    origin_group = relationship("ActionGroup", lazy="raise")
    author = relationship("Person", foreign_keys=[author_id], lazy="raise")
    assignee = relationship("Person", foreign_keys=[assignee_id], lazy="raise")

    @property
    def is_fundable(self) -> bool:
        return self.fundable_at is not None

    @property
    def is_public(self) -> bool:
        return self.status == ProposalStatus.published

    @property
    def is_closed(self) -> bool:
        """Declined or withdrawn: nothing more happens to it."""
        return self.status in (ProposalStatus.declined, ProposalStatus.withdrawn)


@event.listens_for(Proposal, "before_insert")
@event.listens_for(Proposal, "before_update")
def _fold_search_text(_mapper, _connection, proposal: Proposal) -> None:
    proposal.search_text = fold_text(f"{proposal.title}\n{proposal.summary}")


class Commitment(db.Model):
    """A group's promise to reproduce an action locally; counts as its vote."""

    __tablename__ = "commitment"
    __table_args__ = (
        UniqueConstraint("group_id", "proposal_id"),
        Index("ix_commitment_proposal_status_at", "proposal_id", "status", "committed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("action_group.id", ondelete="CASCADE"))
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[CommitmentStatus] = mapped_column(
        _enum(CommitmentStatus), default=CommitmentStatus.active
    )
    # Set on the first commitment and again when a withdrawn one is renewed: the order of
    # reservations follows it.
    committed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    group = relationship("ActionGroup", lazy="raise")
    proposal = relationship("Proposal", lazy="raise")
    person = relationship("Person", lazy="raise")

    @property
    def is_active(self) -> bool:
        return self.status == CommitmentStatus.active


class BudgetLine(db.Model):
    """One line of what a group needs to reproduce the action (item, amount per group)."""

    __tablename__ = "budget_line"
    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        Index("ix_budget_line_proposal_position", "proposal_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"))
    position: Mapped[int]
    item: Mapped[str] = mapped_column(String(200))
    amount_cents: Mapped[int]


class ProposalRevision(db.Model):
    """One save of a proposal's text: who, when, which fields changed, and the whole text
    after the save (so that any revision can be shown, compared and restored on its own)."""

    __tablename__ = "proposal_revision"
    __table_args__ = (UniqueConstraint("proposal_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"))
    # Equal to the proposal's version after this save.
    number: Mapped[int]
    author_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # "creation", "edit" or "restore".
    kind: Mapped[str] = mapped_column(String(16), default="edit")
    restored_from: Mapped[int | None]
    # {field: [old, new]} for the fields this save changed.
    changes: Mapped[dict] = mapped_column(JSON, default=dict)
    # {field: value} for every editable field after this save.
    snapshot: Mapped[dict] = mapped_column(JSON, default=dict)

    author = relationship("Person", lazy="raise")
