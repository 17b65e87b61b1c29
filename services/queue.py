"""The animation team's queue: the submitted proposals to review, and who follows which.

What the queue lists. By default the proposals waiting for the team: submitted and in review
("en revue"). A filter picks one status, or every proposal the team has received ("toutes":
also the published, declined and withdrawn ones). Drafts are never listed: until its group
submits it, a draft is the group's work in progress (the team may still open one it is given
the address of, as the workspace rules allow, but it does not queue them).

Assignment. An animator takes a proposal in charge ("Me l'attribuer"): it becomes theirs to
follow and, if it was only submitted, it moves to in review at once, so that the group sees
someone is on it. Any team member may release a proposal (an absent colleague's work must be
reassignable); releasing does not move it back to submitted. Neither is possible on a draft
or a closed proposal. Taking a proposal someone else follows is refused: release it first,
so that two animators clicking at once never take it from each other in silence. Both are
audited ("proposal.assign", "proposal.release"; the move to in review as "proposal.review").

Every function issues a fixed number of queries, whatever the size of the queue.
"""

from dataclasses import dataclass, field, replace
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import Select, case, func, or_, select

from models import ActionGroup, AuditEntry, Category, Person, Proposal, ProposalStatus, db

from .errors import Conflict, NotAllowed
from .exchange import unread_counts
from .tx import write_transaction
from .workspace_access import TEAM_ROLES, lock_proposal, require_team

S = ProposalStatus
WAITING = (S.submitted, S.in_review)
RECEIVED = (S.submitted, S.in_review, S.published, S.declined, S.withdrawn)

# The status filter's values (in the address) and the statuses each one lists.
STATUS_FILTERS: dict[str, tuple[ProposalStatus, ...]] = {
    "a-traiter": WAITING,
    "soumises": (S.submitted,),
    "en-revue": (S.in_review,),
    "publiees": (S.published,),
    "refusees": (S.declined,),
    "retirees": (S.withdrawn,),
    "toutes": RECEIVED,
}
DEFAULT_STATUS = "a-traiter"
# The assignee filter: a person's id, or one of these.
ASSIGNEE_ME, ASSIGNEE_NOBODY = "moi", "personne"


@dataclass(frozen=True)
class QueueFilters:
    status: str = DEFAULT_STATUS
    category: str = ""
    departement: str = ""
    assignee: str = ""  # "", "moi", "personne" or a person's id as digits

    @property
    def statuses(self) -> tuple[ProposalStatus, ...]:
        return STATUS_FILTERS.get(self.status, WAITING)

    def with_status(self, status: str) -> "QueueFilters":
        return replace(self, status=status)

    def as_args(self) -> dict[str, str]:
        """The filters as query-string arguments, defaults left out."""
        args = {
            "statut": self.status if self.status != DEFAULT_STATUS else "",
            "categorie": self.category,
            "departement": self.departement,
            "animateur": self.assignee,
        }
        return {key: value for key, value in args.items() if value}


@dataclass(frozen=True)
class QueueRow:
    id: int
    title: str
    status: ProposalStatus
    category: Category
    submitted_at: datetime | None
    group_name: str | None
    departement: str | None
    assignee_id: int | None
    assignee_name: str | None
    unread: int = 0


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    # Per status, under the category, département and assignee filters (one grouped query).
    counts: dict[ProposalStatus, int] = field(default_factory=dict)
    total: int = 0
    page: int = 1
    pages: int = 1


def _narrowed(query: Select, person: Person, filters: QueueFilters) -> Select:
    """Every filter but the status, which the counts break down."""
    if filters.category:
        query = query.where(Proposal.category == filters.category)
    if filters.departement:
        query = query.where(
            Proposal.origin_group_id.in_(
                select(ActionGroup.id).where(ActionGroup.departement == filters.departement)
            )
        )
    if filters.assignee == ASSIGNEE_ME:
        query = query.where(Proposal.assignee_id == person.id)
    elif filters.assignee == ASSIGNEE_NOBODY:
        query = query.where(Proposal.assignee_id.is_(None))
    elif filters.assignee.isdecimal():
        query = query.where(Proposal.assignee_id == int(filters.assignee))
    return query


def queue_page(person: Person, filters: QueueFilters, page: int, per_page: int) -> QueuePage:
    """One page of the queue, the oldest submitted first, with the counts per status and the
    person's unread messages per row: three queries."""
    count_rows = db.session.execute(
        _narrowed(
            select(Proposal.status, func.count(Proposal.id)).where(Proposal.status.in_(RECEIVED)),
            person,
            filters,
        ).group_by(Proposal.status)
    ).all()
    counts = {status: 0 for status in RECEIVED}
    counts.update({status: n for status, n in count_rows})
    total = sum(counts[status] for status in filters.statuses)
    pages = max(1, -(-total // per_page))
    page = min(page, pages)
    assignee = Person.__table__.alias("assignee")
    query = (
        _narrowed(
            select(
                Proposal.id,
                Proposal.title,
                Proposal.status,
                Proposal.category,
                Proposal.submitted_at,
                ActionGroup.name.label("group_name"),
                ActionGroup.departement,
                Proposal.assignee_id,
                assignee.c.display_name.label("assignee_name"),
            )
            .outerjoin(ActionGroup, ActionGroup.id == Proposal.origin_group_id)
            .outerjoin(assignee, assignee.c.id == Proposal.assignee_id)
            .where(Proposal.status.in_(filters.statuses)),
            person,
            filters,
        )
        .order_by(
            case((Proposal.submitted_at.is_(None), 1), else_=0),
            Proposal.submitted_at,
            Proposal.id,
        )
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    rows = db.session.execute(query).all()
    unread = unread_counts(person, [row.id for row in rows])
    return QueuePage(
        rows=[QueueRow(*row, unread=unread.get(row.id, 0)) for row in rows],
        counts=counts,
        total=total,
        page=page,
        pages=pages,
    )


def team_members() -> list[tuple[int, str]]:
    """(id, name) of everyone who may be assigned a proposal, by name: one query."""
    return [
        (row.id, row.display_name)
        for row in db.session.execute(
            select(Person.id, Person.display_name)
            .where(or_(*(getattr(Person, f"is_{role}").is_(True) for role in TEAM_ROLES)))
            .order_by(Person.display_name, Person.id)
        )
    ]


def _lock_assignable(proposal_id: int) -> Proposal:
    proposal = lock_proposal(proposal_id)
    if proposal.status == S.draft:
        raise NotAllowed(
            _(
                "Cette proposition est encore un brouillon de son groupe : elle ne peut être "
                "suivie qu'une fois soumise."
            )
        )
    if proposal.is_closed:
        raise NotAllowed(_("Cette proposition est close : elle n'a plus besoin d'être suivie."))
    return proposal


def _name_of(person_id: int) -> str:
    return db.session.scalar(select(Person.display_name).where(Person.id == person_id)) or ""


def assign_to_self(person: Person, proposal_id: int) -> Proposal:
    """Take the proposal in charge; a submitted proposal moves to in review."""
    with write_transaction():
        require_team(person)
        proposal = _lock_assignable(proposal_id)
        if proposal.assignee_id == person.id:
            raise Conflict(_("Vous suivez déjà cette proposition."))
        if proposal.assignee_id is not None:
            raise Conflict(
                _(
                    "Cette proposition est déjà suivie par %(name)s : libérez-la d'abord si "
                    "vous la reprenez.",
                    name=_name_of(proposal.assignee_id),
                )
            )
        proposal.assignee_id = person.id
        db.session.add(
            AuditEntry(
                actor_id=person.id,
                action="proposal.assign",
                proposal_id=proposal.id,
                old_value="",
                new_value=str(person.id),
            )
        )
        if proposal.status == S.submitted:
            proposal.status = S.in_review
            db.session.add(
                AuditEntry(
                    actor_id=person.id,
                    action="proposal.review",
                    proposal_id=proposal.id,
                    old_value=S.submitted.value,
                    new_value=S.in_review.value,
                    reason=_("Prise en charge par l'équipe d'animation."),
                )
            )
        return proposal


def release(person: Person, proposal_id: int) -> Proposal:
    """Leave the proposal without an assignee; any team member may (a colleague may be away)."""
    with write_transaction():
        require_team(person)
        proposal = _lock_assignable(proposal_id)
        if proposal.assignee_id is None:
            raise Conflict(_("Cette proposition n'est suivie par personne."))
        old = proposal.assignee_id
        proposal.assignee_id = None
        db.session.add(
            AuditEntry(
                actor_id=person.id,
                action="proposal.release",
                proposal_id=proposal.id,
                old_value=str(old),
                new_value="",
            )
        )
        return proposal
