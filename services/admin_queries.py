"""Read-only queries for the admin pages and the command line: lists, members, logs.

Lists return a `select` that the view paginates; the others issue one query each.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, case, func, or_, select

from models import ActionGroup, AuditEntry, MemberRole, Membership, Person, db

CERTIFICATION_ACTIONS = ("group.certify", "group.decertify")


def _contains(column, text: str):
    """Case-insensitive substring match, with LIKE wildcards in the text taken literally."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped}%", escape="\\")


def people_query(q: str = "") -> Select:
    """People whose name or e-mail contains every word of `q`, by name."""
    query = select(Person)
    for word in q.split()[:8]:
        query = query.where(
            or_(_contains(Person.display_name, word), _contains(Person.email, word))
        )
    return query.order_by(func.lower(Person.display_name), Person.id)


def groups_query(q: str = "", certified: bool | None = None, departement: str = "") -> Select:
    """Groups whose name or commune contains every word of `q`, by name."""
    query = select(ActionGroup)
    for word in q.split()[:8]:
        query = query.where(
            or_(_contains(ActionGroup.name, word), _contains(ActionGroup.commune, word))
        )
    if certified is True:
        query = query.where(ActionGroup.certified_at.is_not(None))
    elif certified is False:
        query = query.where(ActionGroup.certified_at.is_(None))
    if departement:
        query = query.where(ActionGroup.departement == departement)
    return query.order_by(func.lower(ActionGroup.name), ActionGroup.id)


def member_counts(group_ids: list[int]) -> dict[int, int]:
    """Number of members of each of these groups, in one query."""
    if not group_ids:
        return {}
    rows = db.session.execute(
        select(Membership.group_id, func.count())
        .where(Membership.group_id.in_(group_ids))
        .group_by(Membership.group_id)
    ).all()
    return dict(rows)


@dataclass(frozen=True)
class GroupMember:
    person_id: int
    display_name: str
    email: str
    role: MemberRole


# Those who act for the group first.
_ROLE_ORDER = case(
    (Membership.role == MemberRole.referent, 0),
    (Membership.role == MemberRole.manager, 1),
    else_=2,
)


def group_members(group_id: int) -> list[GroupMember]:
    rows = db.session.execute(
        select(Person.id, Person.display_name, Person.email, Membership.role)
        .join(Membership, Membership.person_id == Person.id)
        .where(Membership.group_id == group_id)
        .order_by(_ROLE_ORDER, func.lower(Person.display_name), Person.id)
    ).all()
    return [GroupMember(*row) for row in rows]


@dataclass(frozen=True)
class PersonMembership:
    group_id: int
    name: str
    commune: str
    departement: str
    certified_at: datetime | None
    role: MemberRole


def person_memberships(person_id: int) -> list[PersonMembership]:
    rows = db.session.execute(
        select(
            ActionGroup.id,
            ActionGroup.name,
            ActionGroup.commune,
            ActionGroup.departement,
            ActionGroup.certified_at,
            Membership.role,
        )
        .join(Membership, Membership.group_id == ActionGroup.id)
        .where(Membership.person_id == person_id)
        .order_by(func.lower(ActionGroup.name), ActionGroup.id)
    ).all()
    return [PersonMembership(*row) for row in rows]


@dataclass(frozen=True)
class CertificationEntry:
    at: datetime
    certified: bool
    reason: str
    actor_name: str | None


def certification_log(group_id: int) -> list[CertificationEntry]:
    """Every certification decision on this group, the most recent first."""
    rows = db.session.execute(
        select(AuditEntry.at, AuditEntry.action, AuditEntry.reason, Person.display_name)
        .outerjoin(Person, Person.id == AuditEntry.actor_id)
        .where(AuditEntry.group_id == group_id, AuditEntry.action.in_(CERTIFICATION_ACTIONS))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    ).all()
    return [
        CertificationEntry(row.at, row.action == "group.certify", row.reason, row.display_name)
        for row in rows
    ]


def person_id_by_email(email: str) -> int | None:
    return db.session.scalar(
        select(Person.id).where(Person.email == Person.normalize_email(email or ""))
    )
