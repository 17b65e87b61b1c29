"""Read-side queries for published proposals: lists, live states, engaged groups.

Each function issues a fixed number of queries, whatever the size of the data.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, bindparam, case, func, select

from models import (
    ActionGroup,
    BudgetRound,
    Category,
    Commitment,
    CommitmentStatus,
    Illustration,
    Proposal,
    ProposalStatus,
    Reservation,
    db,
    fold_text,
)

from .budget import effective_threshold_sql, exhausted_sql
from .images import file_names

CATEGORY_LABELS = {
    Category.alimentation: "Alimentation",
    Category.solidarite: "Solidarité",
    Category.ecologie: "Écologie",
    Category.logement: "Logement",
    Category.education: "Éducation populaire",
    Category.sante: "Santé",
    Category.culture: "Culture",
    Category.mobilite: "Mobilité",
}

SORTS = ("recentes", "proches", "financables")
STATUS_FILTERS = ("ouverte", "financable")


@dataclass(frozen=True)
class LiveState:
    """What a progress bar shows; its token lets a poll say whether anything changed."""

    id: int
    count: int
    threshold: int
    fundable: bool
    version: int = 0
    title: str = ""
    # Nothing remains in the round: no proposal can become fundable any more.
    exhausted: bool = False
    # Commitments holding a reservation on the round (fundable proposals).
    reserved_count: int = 0
    reserved_cents: int = 0

    @property
    def token(self) -> str:
        # The fourth part: 1 fundable, 2 open with nothing left in the round, 0 open.
        phase = 1 if self.fundable else 2 if self.exhausted else 0
        return f"{self.id}.{self.count}.{self.threshold}.{phase}.{self.version}"

    @property
    def outside_budget(self) -> int:
        """Active commitments of a fundable proposal that hold no reservation."""
        return max(0, self.count - self.reserved_count) if self.fundable else 0

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.count / self.threshold)) if self.threshold else 100


@dataclass(frozen=True)
class ProposalCard:
    id: int
    slug: str
    title: str
    summary: str
    category: Category
    per_group_budget_cents: int
    published_at: datetime | None
    fundable_at: datetime | None
    state: LiveState
    # The cover's thumbnail (a file name under /medias/), its alternative text and size; a
    # new cover or alternative text makes a new card, so the rendered-card cache stays right.
    cover_thumb: str | None = None
    cover_alt: str = ""
    cover_width: int = 0
    cover_height: int = 0
    # Its round's name and commitment dates (the commit control says when they are closed).
    round_name: str = ""
    round_opens_at: datetime | None = None
    round_closes_at: datetime | None = None


@dataclass(frozen=True)
class ListFilters:
    q: str = ""
    category: str = ""
    status: str = ""
    sort: str = "recentes"


def _card_columns():
    return (
        Proposal.id,
        Proposal.slug,
        Proposal.title,
        Proposal.summary,
        Proposal.category,
        Proposal.per_group_budget_cents,
        Proposal.published_at,
        Proposal.fundable_at,
        Proposal.commitment_count,
        Proposal.live_version,
        Proposal.reserved_count,
        Proposal.reserved_cents,
        effective_threshold_sql.label("threshold"),
        exhausted_sql.label("exhausted"),
        Illustration.stored_name.label("cover_name"),
        Illustration.format.label("cover_format"),
        Illustration.alt_text.label("cover_alt"),
        Illustration.thumb_width.label("cover_width"),
        Illustration.thumb_height.label("cover_height"),
        BudgetRound.name.label("round_name"),
        BudgetRound.opens_at.label("round_opens_at"),
        BudgetRound.closes_at.label("round_closes_at"),
    )


def _cards_from(query: Select) -> Select:
    """The card columns' joins: the round (threshold) and the cover, if any (at most one row:
    one cover per proposal, and it always has its alternative text)."""
    return query.join(BudgetRound, BudgetRound.id == Proposal.round_id).outerjoin(
        Illustration,
        and_(
            Illustration.proposal_id == Proposal.id,
            Illustration.is_cover,
            Illustration.alt_text != "",
        ),
    )


def _to_card(row) -> ProposalCard:
    return ProposalCard(
        id=row.id,
        slug=row.slug,
        title=row.title,
        summary=row.summary,
        category=row.category,
        per_group_budget_cents=row.per_group_budget_cents,
        published_at=row.published_at,
        fundable_at=row.fundable_at,
        state=_live_state(row),
        cover_thumb=file_names(row.cover_name, row.cover_format)[1] if row.cover_name else None,
        cover_alt=row.cover_alt or "",
        cover_width=row.cover_width or 0,
        cover_height=row.cover_height or 0,
        round_name=row.round_name,
        round_opens_at=row.round_opens_at,
        round_closes_at=row.round_closes_at,
    )


def _filtered(query: Select, filters: ListFilters) -> Select:
    query = query.where(Proposal.status == ProposalStatus.published)
    if filters.category:
        query = query.where(Proposal.category == filters.category)
    if filters.status == "ouverte":
        query = query.where(Proposal.fundable_at.is_(None))
    elif filters.status == "financable":
        query = query.where(Proposal.fundable_at.is_not(None))
    for word in fold_text(filters.q).split()[:8]:
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Proposal.search_text.like(f"%{escaped}%", escape="\\"))
    return query


def published_cards_query(filters: ListFilters) -> Select:
    query = _filtered(_cards_from(select(*_card_columns())), filters)
    if filters.sort == "proches":
        # Open proposals first, the fewest missing commitments first.
        missing = effective_threshold_sql - Proposal.commitment_count
        query = query.order_by(
            case((Proposal.fundable_at.is_(None), 0), else_=1), missing, Proposal.id.desc()
        )
    elif filters.sort == "financables":
        query = query.order_by(
            case((Proposal.fundable_at.is_(None), 1), else_=0),
            Proposal.fundable_at.desc(),
            Proposal.id.desc(),
        )
    else:
        query = query.order_by(Proposal.published_at.desc(), Proposal.id.desc())
    return query


def page_of_cards(filters: ListFilters, page: int, per_page: int):
    """(cards, total) for one page: two queries; the count reads the proposal table alone."""
    total = db.session.scalar(_filtered(select(func.count(Proposal.id)), filters))
    query = published_cards_query(filters)
    rows = db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).all()
    return [_to_card(row) for row in rows], total


# Built once, bound per call: building a statement costs more than running it here.
_CARD = _cards_from(select(*_card_columns()))
_CARD_BY_SLUG = _CARD.where(
    Proposal.slug == bindparam("slug"), Proposal.status == ProposalStatus.published
)
_CARD_BY_ID = _CARD.where(
    Proposal.id == bindparam("id"), Proposal.status == ProposalStatus.published
)


def card_by_slug(slug: str) -> ProposalCard | None:
    row = db.session.execute(_CARD_BY_SLUG, {"slug": slug}).first()
    return _to_card(row) if row else None


def card_by_id(proposal_id: int) -> ProposalCard | None:
    row = db.session.execute(_CARD_BY_ID, {"id": proposal_id}).first()
    return _to_card(row) if row else None


# Built once: the statements of the polls, the hottest in the app.
_ALL_LIVE_STATES = (
    select(
        Proposal.id,
        Proposal.commitment_count,
        effective_threshold_sql.label("threshold"),
        Proposal.fundable_at,
        Proposal.live_version,
        Proposal.title,
        Proposal.reserved_count,
        Proposal.reserved_cents,
        exhausted_sql.label("exhausted"),
    )
    .join(BudgetRound, BudgetRound.id == Proposal.round_id)
    .where(Proposal.status == ProposalStatus.published)
)
_LIVE_STATES = _ALL_LIVE_STATES.where(Proposal.id.in_(bindparam("ids", expanding=True)))


def _live_state(row) -> LiveState:
    return LiveState(
        row.id,
        row.commitment_count,
        row.threshold,
        row.fundable_at is not None,
        row.live_version,
        row.title,
        bool(row.exhausted),
        row.reserved_count,
        row.reserved_cents,
    )


def all_live_states() -> dict[int, LiveState]:
    """Every published proposal's live state, in one query (a snapshot for the polls)."""
    return {row.id: _live_state(row) for row in db.session.execute(_ALL_LIVE_STATES)}


def live_states(ids: list[int]) -> dict[int, LiveState]:
    """Current states of these published proposals, in one query."""
    if not ids:
        return {}
    return {row.id: _live_state(row) for row in db.session.execute(_LIVE_STATES, {"ids": ids})}


@dataclass(frozen=True)
class EngagedGroup:
    group_id: int
    name: str
    commune: str
    departement: str
    committed_at: datetime
    note: str
    # Engaged on a fundable action without a reservation: « hors budget participatif ».
    outside_budget: bool = False


ENGAGED_ON_PAGE = 24


_ENGAGED_GROUPS = (
    select(
        ActionGroup.id,
        ActionGroup.name,
        ActionGroup.commune,
        ActionGroup.departement,
        Commitment.committed_at,
        Commitment.note,
        and_(Proposal.fundable_at.is_not(None), Reservation.id.is_(None)).label("outside"),
    )
    .join(Commitment, Commitment.group_id == ActionGroup.id)
    .join(Proposal, Proposal.id == Commitment.proposal_id)
    .outerjoin(
        Reservation,
        and_(Reservation.commitment_id == Commitment.id, Reservation.released_at.is_(None)),
    )
    .where(
        Commitment.proposal_id == bindparam("proposal_id"),
        Commitment.status == CommitmentStatus.active,
    )
    .order_by(Commitment.committed_at.desc(), Commitment.id.desc())
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)


def engaged_groups(proposal_id: int, limit: int = ENGAGED_ON_PAGE, offset: int = 0):
    """The groups engaged on a proposal, the latest first; a page of them, in one query."""
    rows = db.session.execute(
        _ENGAGED_GROUPS, {"proposal_id": proposal_id, "limit": limit, "offset": offset}
    ).all()
    return [EngagedGroup(*row[:6], bool(row[6])) for row in rows]


def commitments_of_groups(group_ids: list[int], proposal_id: int) -> dict[int, Commitment]:
    """The commitments (active or withdrawn) of these groups to one proposal, by group."""
    if not group_ids:
        return {}
    rows = db.session.scalars(
        select(Commitment).where(
            and_(Commitment.proposal_id == proposal_id, Commitment.group_id.in_(group_ids))
        )
    )
    return {c.group_id: c for c in rows}


def reserved_amounts(commitment_ids: list[int]) -> dict[int, int]:
    """The active reservation of each of these commitments, by commitment (none: absent)."""
    if not commitment_ids:
        return {}
    rows = db.session.execute(
        select(Reservation.commitment_id, Reservation.amount_cents).where(
            Reservation.commitment_id.in_(commitment_ids), Reservation.released_at.is_(None)
        )
    )
    return dict(rows.all())
