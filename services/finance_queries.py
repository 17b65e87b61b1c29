"""The finance team's dashboard and CSV exports of a budget round: read-only queries, and the
audit of an export (who took personal data out, and which file).

Each dashboard function issues a fixed number of queries, whatever the size of the round. The
export functions stream their rows (`yield_per`), so a round of 200,000 commitments is never
held in memory.
"""

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import Select, and_, case, func, or_, select

from models import (
    ActionGroup,
    AuditEntry,
    BudgetRound,
    Commitment,
    CommitmentStatus,
    Person,
    Proposal,
    ProposalStatus,
    Reservation,
    db,
)

from .access import require_staff
from .budget import current_round
from .errors import NotFound
from .tx import write_transaction

FINANCE_ROLES = ("finance", "admin")
AUDIT_LIMIT = 20
EXPORT_KINDS = ("engagements", "reservations")
# Rows fetched from the database at a time, and rows written per chunk of the response.
STREAM_BATCH = 1000
PARIS = ZoneInfo("Europe/Paris")


# The round --------------------------------------------------------------------------------


def round_for_dashboard(round_id: int | None) -> BudgetRound | None:
    """The round asked for (NotFound if unknown); by default the current one, else the latest
    created; None when no round exists yet."""
    if round_id is not None:
        budget_round = db.session.get(BudgetRound, round_id)
        if budget_round is None:
            raise NotFound(_("Ce budget participatif n'existe pas."))
        return budget_round
    return current_round() or db.session.scalar(
        select(BudgetRound).order_by(BudgetRound.created_at.desc(), BudgetRound.id.desc()).limit(1)
    )


@dataclass(frozen=True)
class RoundChoice:
    id: int
    name: str
    is_current: bool


def round_choices() -> list[RoundChoice]:
    """Every round for the selector, the latest first (a handful: one per period)."""
    rows = db.session.execute(
        select(BudgetRound.id, BudgetRound.name, BudgetRound.is_current).order_by(
            BudgetRound.opens_at.desc(), BudgetRound.id.desc()
        )
    ).all()
    return [RoundChoice(*row) for row in rows]


# Proposals by state -----------------------------------------------------------------------

# The dashboard's states, in display order: a published proposal is open or fundable.
STATES = (
    "draft",
    "submitted",
    "in_review",
    "published_open",
    "published_fundable",
    "declined",
    "withdrawn",
)


def state_counts(round_id: int) -> dict[str, int]:
    """Number of the round's proposals in each state, in one grouped query."""
    fundable = case((Proposal.fundable_at.is_not(None), 1), else_=0)
    rows = db.session.execute(
        select(Proposal.status, fundable, func.count(Proposal.id))
        .where(Proposal.round_id == round_id)
        .group_by(Proposal.status, fundable)
    ).all()
    counts = dict.fromkeys(STATES, 0)
    for status, is_fundable, n in rows:
        if status == ProposalStatus.published:
            counts["published_fundable" if is_fundable else "published_open"] += n
        else:
            counts[ProposalStatus(status).value] += n
    return counts


# Paginated tables -------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    rows: list
    total: int
    page: int
    pages: int


def _paginate(count_query: Select, rows_query: Select, page: int, per_page: int, row) -> Page:
    """Two queries: the total, then the page (a page beyond the last shows the last)."""
    total = db.session.scalar(count_query) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    result = db.session.execute(rows_query.limit(per_page).offset((page - 1) * per_page))
    return Page([row(*r) for r in result], total, page, pages)


@dataclass(frozen=True)
class ProposalReservations:
    id: int
    title: str
    slug: str
    status: ProposalStatus
    per_group_budget_cents: int
    commitment_count: int
    reserved_count: int
    reserved_cents: int
    fundable_at: datetime | None

    @property
    def is_public(self) -> bool:
        return self.status == ProposalStatus.published

    @property
    def outside_budget(self) -> int:
        """Active commitments of a fundable proposal that hold no reservation."""
        if self.fundable_at is None:
            return 0
        return max(0, self.commitment_count - self.reserved_count)


def _proposals_with_commitments(round_id: int):
    # Published ones, and any other that still counts commitments or reservations.
    return and_(
        Proposal.round_id == round_id,
        or_(
            Proposal.status == ProposalStatus.published,
            Proposal.commitment_count > 0,
            Proposal.reserved_count > 0,
        ),
    )


def proposal_reservations(round_id: int, page: int, per_page: int) -> Page:
    """The round's proposals, the ones that reserve the most first (counters, no join)."""
    where = _proposals_with_commitments(round_id)
    rows = (
        select(
            Proposal.id,
            Proposal.title,
            Proposal.slug,
            Proposal.status,
            Proposal.per_group_budget_cents,
            Proposal.commitment_count,
            Proposal.reserved_count,
            Proposal.reserved_cents,
            Proposal.fundable_at,
        )
        .where(where)
        .order_by(
            Proposal.reserved_cents.desc(), Proposal.commitment_count.desc(), Proposal.id.asc()
        )
    )
    count = select(func.count(Proposal.id)).where(where)
    return _paginate(count, rows, page, per_page, ProposalReservations)


@dataclass(frozen=True)
class GroupReservations:
    id: int
    name: str
    commune: str
    departement: str
    reservations: int
    reserved_cents: int


def _active_reservations(round_id: int):
    return and_(Reservation.round_id == round_id, Reservation.released_at.is_(None))


def group_reservations(round_id: int, page: int, per_page: int) -> Page:
    """Groups holding active reservations on the round, the largest amount first."""
    active = _active_reservations(round_id)
    reserved = func.sum(Reservation.amount_cents)
    rows = (
        select(
            ActionGroup.id,
            ActionGroup.name,
            ActionGroup.commune,
            ActionGroup.departement,
            func.count(Reservation.id),
            reserved,
        )
        .join(ActionGroup, ActionGroup.id == Reservation.group_id)
        .where(active)
        .group_by(ActionGroup.id, ActionGroup.name, ActionGroup.commune, ActionGroup.departement)
        .order_by(reserved.desc(), ActionGroup.name, ActionGroup.id)
    )
    count = select(func.count(func.distinct(Reservation.group_id))).where(active)
    return _paginate(count, rows, page, per_page, GroupReservations)


@dataclass(frozen=True)
class OutsideBudget:
    commitment_id: int
    committed_at: datetime
    group_id: int
    group_name: str
    commune: str
    departement: str
    proposal_id: int
    proposal_title: str
    proposal_slug: str
    proposal_status: ProposalStatus
    per_group_budget_cents: int

    @property
    def proposal_is_public(self) -> bool:
        return self.proposal_status == ProposalStatus.published


def _outside_budget_where(round_id: int):
    return and_(
        Proposal.round_id == round_id,
        Proposal.fundable_at.is_not(None),
        Commitment.status == CommitmentStatus.active,
        Reservation.id.is_(None),
    )


def _with_active_reservation(query: Select) -> Select:
    return query.outerjoin(
        Reservation,
        and_(Reservation.commitment_id == Commitment.id, Reservation.released_at.is_(None)),
    )


def outside_budget(round_id: int, page: int, per_page: int) -> Page:
    """Active commitments on the round's fundable proposals without a reservation (« hors
    budget participatif »), in the order they would reserve if budget were freed."""
    where = _outside_budget_where(round_id)
    rows = _with_active_reservation(
        select(
            Commitment.id,
            Commitment.committed_at,
            ActionGroup.id,
            ActionGroup.name,
            ActionGroup.commune,
            ActionGroup.departement,
            Proposal.id,
            Proposal.title,
            Proposal.slug,
            Proposal.status,
            Proposal.per_group_budget_cents,
        )
        .select_from(Commitment)
        .join(Proposal, Proposal.id == Commitment.proposal_id)
        .join(ActionGroup, ActionGroup.id == Commitment.group_id)
    ).where(where)
    rows = rows.order_by(Commitment.committed_at, Commitment.id)
    count = _with_active_reservation(
        select(func.count(Commitment.id))
        .select_from(Commitment)
        .join(Proposal, Proposal.id == Commitment.proposal_id)
    ).where(where)
    return _paginate(count, rows, page, per_page, OutsideBudget)


@dataclass(frozen=True)
class RoundAuditEntry:
    id: int
    at: datetime
    action: str
    old_value: str
    new_value: str
    reason: str
    actor_name: str | None
    proposal_id: int | None
    proposal_title: str | None
    proposal_slug: str | None = None
    proposal_public: bool = False


def round_audit(round_id: int, limit: int = AUDIT_LIMIT, offset: int = 0) -> list[RoundAuditEntry]:
    """The round's audit entries (its settings, thresholds, exports), newest first, with who
    and which proposal: the finance dashboard's latest ones, a page of the round page's."""
    rows = db.session.execute(
        select(
            AuditEntry.id,
            AuditEntry.at,
            AuditEntry.action,
            AuditEntry.old_value,
            AuditEntry.new_value,
            AuditEntry.reason,
            Person.display_name,
            Proposal.id,
            Proposal.title,
            Proposal.slug,
            Proposal.status,
        )
        .outerjoin(Person, Person.id == AuditEntry.actor_id)
        .outerjoin(Proposal, Proposal.id == AuditEntry.proposal_id)
        .where(AuditEntry.round_id == round_id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return [RoundAuditEntry(*row[:10], row[10] == ProposalStatus.published) for row in rows]


def round_audit_count(round_id: int) -> int:
    return db.session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.round_id == round_id)
    )


# The export's audit -----------------------------------------------------------------------


def record_export(actor: Person, round_id: int, kind: str) -> None:
    """Audit an export of the round's data (group names are personal data): who, when, which
    file. Refused to anyone outside the finance team and the admins."""
    if kind not in EXPORT_KINDS:
        raise NotFound(_("Cet export n'existe pas."))
    with write_transaction():
        require_staff(actor, *FINANCE_ROLES)
        if db.session.get(BudgetRound, round_id) is None:
            raise NotFound(_("Ce budget participatif n'existe pas."))
        db.session.add(
            AuditEntry(actor_id=actor.id, action="round.export", round_id=round_id, new_value=kind)
        )


# CSV --------------------------------------------------------------------------------------

# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: str | None) -> str:
    """A text cell that a spreadsheet will not run as a formula."""
    text = value or ""
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def csv_amount(cents: int | None) -> str:
    """« 1234,50 »: a decimal comma and no thousands separator, read as a number in French."""
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    return f"{sign}{euros},{rest:02d}"


def csv_datetime(moment: datetime | None) -> str:
    """« 21/11/2026 14:05 », Paris time."""
    if moment is None:
        return ""
    return moment.astimezone(PARIS).strftime("%d/%m/%Y %H:%M")


def csv_stream(header: list[str], rows: Iterable[list[str]]) -> Iterator[bytes]:
    """UTF-8 with a BOM, semicolons, CRLF; written and sent by chunks of STREAM_BATCH rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    yield ("\ufeff" + buffer.getvalue()).encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    pending = 0
    for row in rows:
        writer.writerow(row)
        pending += 1
        if pending >= STREAM_BATCH:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue().encode("utf-8")


def export_filename(kind: str, round_name: str, round_id: int) -> str:
    """« engagements-budget-2027.csv »: ASCII only, so every browser keeps it."""
    ascii_name = unicodedata.normalize("NFKD", round_name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:80].strip("-")
    return f"{kind}-{slug or f'budget-{round_id}'}.csv"


def _streamed(query: Select):
    return db.session.execute(query.execution_options(yield_per=STREAM_BATCH))


def engagements_header() -> list[str]:
    return [
        _("Groupe"),
        _("Commune"),
        _("Département"),
        _("Proposition"),
        _("Statut de l'engagement (actif/retiré)"),
        _("Engagé le"),
        _("Retiré le"),
        _("Proposition finançable (oui/non)"),
        _("Réservation (réservée/hors budget/—)"),
        _("Montant réservé (€)"),
    ]


def engagements_rows(round_id: int) -> Iterator[list[str]]:
    """Every commitment (active and withdrawn) on the round's proposals, by proposal then in
    commitment order, with its active reservation if any."""
    labels = {
        "active": _("actif"),
        "withdrawn": _("retiré"),
        "yes": _("oui"),
        "no": _("non"),
        "reserved": _("réservée"),
        "outside": _("hors budget"),
        "none": "—",
    }
    query = _with_active_reservation(
        select(
            ActionGroup.name,
            ActionGroup.commune,
            ActionGroup.departement,
            Proposal.title,
            Commitment.status,
            Commitment.committed_at,
            Commitment.withdrawn_at,
            Proposal.fundable_at,
            Reservation.amount_cents,
        )
        .select_from(Commitment)
        .join(Proposal, Proposal.id == Commitment.proposal_id)
        .join(ActionGroup, ActionGroup.id == Commitment.group_id)
    )
    query = query.where(Proposal.round_id == round_id).order_by(
        Proposal.id, Commitment.committed_at, Commitment.id
    )
    for name, commune, dep, title, status, committed, withdrawn, fundable_at, amount in _streamed(
        query
    ):
        active = status == CommitmentStatus.active
        fundable = fundable_at is not None
        if amount is not None:
            reservation = labels["reserved"]
        elif active and fundable:
            reservation = labels["outside"]
        else:
            reservation = labels["none"]
        yield [
            csv_text(name),
            csv_text(commune),
            csv_text(dep),
            csv_text(title),
            labels["active"] if active else labels["withdrawn"],
            csv_datetime(committed),
            "" if active else csv_datetime(withdrawn),
            labels["yes"] if fundable else labels["no"],
            reservation,
            csv_amount(amount),
        ]


def reservations_header() -> list[str]:
    return [
        _("Groupe"),
        _("Commune"),
        _("Proposition"),
        _("Montant (€)"),
        _("Réservé le"),
        _("Libéré le"),
        _("État (active/libérée)"),
    ]


def reservations_rows(round_id: int) -> Iterator[list[str]]:
    """Every reservation on the round (active and released), in the order they were made."""
    active, released = _("active"), _("libérée")
    query = (
        select(
            ActionGroup.name,
            ActionGroup.commune,
            Proposal.title,
            Reservation.amount_cents,
            Reservation.reserved_at,
            Reservation.released_at,
        )
        .select_from(Reservation)
        .join(Proposal, Proposal.id == Reservation.proposal_id)
        .join(ActionGroup, ActionGroup.id == Reservation.group_id)
        .where(Reservation.round_id == round_id)
        .order_by(Reservation.reserved_at, Reservation.id)
    )
    for name, commune, title, amount, reserved_at, released_at in _streamed(query):
        yield [
            csv_text(name),
            csv_text(commune),
            csv_text(title),
            csv_amount(amount),
            csv_datetime(reserved_at),
            csv_datetime(released_at),
            active if released_at is None else released,
        ]


EXPORTS = {
    "engagements": (engagements_header, engagements_rows),
    "reservations": (reservations_header, reservations_rows),
}
