"""Members of the network of elected officials: mandates, applications and the animation
team's decisions, profiles, the directory, and the public animation team."""

import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, exists, func, or_, select, union
from sqlalchemy.orm import aliased, selectinload

from models import (
    ROLES_BY_LEVEL,
    AuditEntry,
    Mandate,
    MandateLevel,
    MandateRole,
    MandateSide,
    NetworkMember,
    NetworkStatus,
    NetworkTeamEntry,
    Person,
    Resource,
    TeamRole,
    Thread,
    db,
    network_member_theme,
    utcnow,
)

from . import groups
from .errors import Conflict, Invalid, NotAllowed, NotFound
from .network_access import forget_network_member, require_network_team
from .themes import parse_themes, theme_field_value, theme_key, themes_named
from .tx import for_update, write_transaction

PARIS = ZoneInfo("Europe/Paris")

COUNCIL_MAX_LENGTH = 200
MOTIVATION_MAX_LENGTH = 2000
PRESENTATION_MAX_LENGTH = 5000
REASON_MAX_LENGTH = 2000
TEAM_NAME_MAX_LENGTH = 120
TEAM_DESCRIPTION_MAX_LENGTH = 300
# What a profile lists of what the person shared, newest first (the total is counted).
SHARED_SHOWN = 20
RECENT_DECISIONS = 30

LEVEL_LABELS = {
    MandateLevel.municipal: _l("municipal"),
    MandateLevel.intercommunal: _l("intercommunal"),
    MandateLevel.departemental: _l("départemental"),
    MandateLevel.regional: _l("régional"),
    MandateLevel.depute: _l("député·e"),
    MandateLevel.senateur: _l("sénateur·rice"),
    MandateLevel.europeen: _l("député·e européen·ne"),
    MandateLevel.francais_etranger: _l("conseiller·e des Français de l'étranger"),
}
# The same levels as names of their own, capitalised: filters, badges, checkboxes.
LEVEL_TITLES = {
    MandateLevel.municipal: _l("Municipal"),
    MandateLevel.intercommunal: _l("Intercommunal"),
    MandateLevel.departemental: _l("Départemental"),
    MandateLevel.regional: _l("Régional"),
    MandateLevel.depute: _l("Député·e"),
    MandateLevel.senateur: _l("Sénateur·rice"),
    MandateLevel.europeen: _l("Député·e européen·ne"),
    MandateLevel.francais_etranger: _l("Conseiller·e des Français de l'étranger"),
}
ROLE_LABELS = {
    MandateRole.maire: _l("maire"),
    MandateRole.adjoint: _l("adjoint·e"),
    MandateRole.president: _l("président·e"),
    MandateRole.vice_president: _l("vice-président·e"),
    MandateRole.conseiller: _l("conseiller·e"),
    MandateRole.parlementaire: _l("parlementaire"),
}
SIDE_LABELS = {MandateSide.majorite: _l("majorité"), MandateSide.opposition: _l("opposition")}
STATUS_LABELS = {
    NetworkStatus.pending: _l("demande en attente"),
    NetworkStatus.member: _l("membre"),
    NetworkStatus.declined: _l("demande déclinée"),
    NetworkStatus.excluded: _l("exclu·e"),
}
TEAM_ROLE_LABELS = {
    TeamRole.co_lead: _l("co-animateur·rice"),
    TeamRole.member: _l("membre de l'équipe"),
}

# Metropolitan départements (20 was split into 2A and 2B in 1976) and the overseas ones.

# The audit actions of a person's place in the network (the team reads them on the profile).
DECISION_ACTIONS = ("network.apply", "network.accept", "network.decline", "network.exclude")


def paris_today() -> date:
    return datetime.now(PARIS).date()


def clean_departement(code: str | None) -> str | None:
    """A département code as written on a plate ("33", "2A", "974"), or None when empty."""
    code = (code or "").strip()
    return groups.clean_departement(code) if code else None


def _audit(actor: Person, action: str, person_id: int | None, **values) -> None:
    db.session.add(AuditEntry(actor_id=actor.id, action=action, person_id=person_id, **values))


def _lock_person(person_id: int) -> Person:
    """The person's row, locked: what serializes every change to their mandates and their
    place in the network (on SQLite the write transaction already does)."""
    person = db.session.scalar(for_update(select(Person).where(Person.id == person_id)))
    if person is None:
        raise NotFound(_("Cette personne n'existe pas."))
    return person


# Mandates ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MandateData:
    """A mandate as typed in the form (enum values as strings, checked here)."""

    level: str
    council: str
    departement: str | None
    role: str
    side: str
    starts_on: date | None
    ends_on: date | None


@dataclass(frozen=True)
class _CleanMandate:
    level: MandateLevel
    council: str
    council_key: str
    departement: str | None
    role: MandateRole
    side: MandateSide
    starts_on: date
    ends_on: date | None


def _enum_value(cls, raw: str, message: str):
    try:
        return cls(raw)
    except ValueError as error:
        raise Invalid(message) from error


def _clean_mandate(data: MandateData) -> _CleanMandate:
    level = _enum_value(MandateLevel, data.level, _("Choisissez le niveau du mandat."))
    role = _enum_value(MandateRole, data.role, _("Choisissez la fonction exercée."))
    side = _enum_value(MandateSide, data.side, _("Indiquez majorité ou opposition."))
    allowed = ROLES_BY_LEVEL[level]
    if role not in allowed:
        raise Invalid(
            _(
                "Un mandat de niveau « %(level)s » ne peut pas avoir la fonction « %(role)s » : "
                "choisissez parmi %(allowed)s.",
                level=LEVEL_LABELS[level],
                role=ROLE_LABELS[role],
                allowed=", ".join(str(ROLE_LABELS[r]) for r in allowed),
            )
        )
    council = re.sub(r"\s+", " ", data.council or "").strip()
    if not council:
        raise Invalid(_("Indiquez le conseil ou le territoire du mandat."))
    if len(council) > COUNCIL_MAX_LENGTH:
        raise Invalid(
            _(
                "Le conseil ou le territoire compte %(max)d caractères au plus.",
                max=COUNCIL_MAX_LENGTH,
            )
        )
    if data.starts_on is None:
        raise Invalid(_("Indiquez la date de début du mandat."))
    if data.ends_on is not None and data.ends_on < data.starts_on:
        raise Invalid(_("La date de fin du mandat ne peut précéder sa date de début."))
    return _CleanMandate(
        level=level,
        council=council,
        council_key=theme_key(council),
        departement=clean_departement(data.departement),
        role=role,
        side=side,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
    )


def overlapping_mandate(
    person_id: int,
    level: MandateLevel,
    council_key: str,
    starts_on: date,
    ends_on: date | None,
    exclude_id: int | None = None,
) -> Mandate | None:
    """A mandate of the person on the same council whose dates meet these (both ends
    inclusive; no end date runs forever)."""
    query = select(Mandate).where(
        Mandate.person_id == person_id,
        Mandate.level == level,
        Mandate.council_key == council_key,
        or_(Mandate.ends_on.is_(None), Mandate.ends_on >= starts_on),
    )
    if ends_on is not None:
        query = query.where(Mandate.starts_on <= ends_on)
    if exclude_id is not None:
        query = query.where(Mandate.id != exclude_id)
    return db.session.scalar(query.order_by(Mandate.starts_on).limit(1))


def _describe(mandate: Mandate) -> str:
    if mandate.ends_on is None:
        return _(
            "« %(council)s », depuis le %(start)s",
            council=mandate.council,
            start=mandate.starts_on.strftime("%d/%m/%Y"),
        )
    return _(
        "« %(council)s », du %(start)s au %(end)s",
        council=mandate.council,
        start=mandate.starts_on.strftime("%d/%m/%Y"),
        end=mandate.ends_on.strftime("%d/%m/%Y"),
    )


def _require_no_overlap(person_id: int, clean: _CleanMandate, exclude_id: int | None) -> None:
    other = overlapping_mandate(
        person_id, clean.level, clean.council_key, clean.starts_on, clean.ends_on, exclude_id
    )
    if other is not None:
        raise Invalid(
            _(
                "Ce mandat chevauche dans le temps votre mandat %(other)s sur le même conseil : "
                "deux mandats sur un même conseil ne peuvent se chevaucher.",
                other=_describe(other),
            )
        )


def _mandate_summary(clean: _CleanMandate) -> str:
    end = clean.ends_on.isoformat() if clean.ends_on else "…"
    return (
        f"{clean.level.value} · {clean.council} · {clean.role.value} · {clean.side.value} · "
        f"{clean.starts_on.isoformat()} → {end}"
    )


def add_mandate(actor: Person, data: MandateData) -> int:
    """Declare a mandate of the signed-in person; its id. Any signed-in person may: an
    elected official declares mandates before asking to join."""
    clean = _clean_mandate(data)
    with write_transaction():
        _lock_person(actor.id)
        _require_no_overlap(actor.id, clean, None)
        mandate = Mandate(
            person_id=actor.id,
            level=clean.level,
            council=clean.council,
            council_key=clean.council_key,
            departement=clean.departement,
            role=clean.role,
            side=clean.side,
            starts_on=clean.starts_on,
            ends_on=clean.ends_on,
        )
        db.session.add(mandate)
        db.session.flush()
        _audit(actor, "network.mandate_add", actor.id, new_value=_mandate_summary(clean))
        return mandate.id


def own_mandate(actor: Person, mandate_id: int) -> Mandate:
    """One of the person's own mandates; 404 for anyone else's (never shown, never touched)."""
    mandate = db.session.get(Mandate, mandate_id)
    if mandate is None or mandate.person_id != actor.id:
        raise NotFound(_("Ce mandat n'existe pas, ou n'est pas le vôtre."))
    return mandate


def _lock_own_mandate(actor: Person, mandate_id: int) -> Mandate:
    mandate = db.session.scalar(for_update(select(Mandate).where(Mandate.id == mandate_id)))
    if mandate is None or mandate.person_id != actor.id:
        raise NotFound(_("Ce mandat n'existe pas, ou n'est pas le vôtre."))
    return mandate


def update_mandate(actor: Person, mandate_id: int, data: MandateData) -> None:
    clean = _clean_mandate(data)
    with write_transaction():
        _lock_person(actor.id)
        mandate = _lock_own_mandate(actor, mandate_id)
        # The mandate itself is what is being changed: it conflicts with nothing.
        _require_no_overlap(actor.id, clean, mandate.id)
        old = _mandate_summary(_CleanMandate(**{k: getattr(mandate, k) for k in _FIELDS}))
        for name in _FIELDS:
            setattr(mandate, name, getattr(clean, name))
        _audit(
            actor,
            "network.mandate_update",
            actor.id,
            old_value=old,
            new_value=_mandate_summary(clean),
        )


_FIELDS = tuple(_CleanMandate.__dataclass_fields__)


def delete_mandate(actor: Person, mandate_id: int) -> None:
    with write_transaction():
        _lock_person(actor.id)
        mandate = _lock_own_mandate(actor, mandate_id)
        old = _mandate_summary(_CleanMandate(**{k: getattr(mandate, k) for k in _FIELDS}))
        db.session.delete(mandate)
        _audit(actor, "network.mandate_delete", actor.id, old_value=old)


def mandates_of(person_id: int) -> list[Mandate]:
    """All the person's mandates, current and past: the most recent first."""
    return list(
        db.session.scalars(
            select(Mandate)
            .where(Mandate.person_id == person_id)
            .order_by(Mandate.starts_on.desc(), Mandate.id.desc())
        )
    )


def is_current(mandate: Mandate, today: date) -> bool:
    return mandate.starts_on <= today and (mandate.ends_on is None or mandate.ends_on >= today)


def _current(today: date):
    return and_(
        Mandate.starts_on <= today, or_(Mandate.ends_on.is_(None), Mandate.ends_on >= today)
    )


# Applications and decisions ---------------------------------------------------------------------


def _text(value: str | None, max_length: int, too_long: str) -> str:
    value = (value or "").strip()
    if len(value) > max_length:
        raise Invalid(too_long)
    return value


def apply_to_network(
    actor: Person,
    motivation: str,
    departement: str | None,
    presentation: str,
    themes: str,
) -> None:
    """Ask to join the network, or ask again after a decline: the application waits for the
    animation team. Refused while one waits, to a member, and to an excluded person."""
    motivation = _text(
        motivation,
        MOTIVATION_MAX_LENGTH,
        _("La motivation compte %(max)d caractères au plus.", max=MOTIVATION_MAX_LENGTH),
    )
    if not motivation:
        raise Invalid(_("Dites en quelques mots pourquoi vous souhaitez rejoindre le réseau."))
    presentation = _text(
        presentation,
        PRESENTATION_MAX_LENGTH,
        _("La présentation compte %(max)d caractères au plus.", max=PRESENTATION_MAX_LENGTH),
    )
    departement = clean_departement(departement)
    theme_names = parse_themes(themes)
    with write_transaction():
        _lock_person(actor.id)
        member = _lock_member(actor.id)
        old = ""
        if member is None:
            # The collection set while transient: once added, a lazy="raise" load would fire.
            member = NetworkMember(person_id=actor.id, themes=[])
            db.session.add(member)
        else:
            old = member.status.value
            require_may_apply(member)
        member.status = NetworkStatus.pending
        member.motivation = motivation
        member.presentation = presentation
        member.departement = departement
        member.applied_at = utcnow()
        # The previous decision stays in the audit log; the row says where things stand now.
        member.decided_at = None
        member.decided_by_id = None
        member.decision_reason = ""
        member.themes = themes_named(theme_names)
        _audit(actor, "network.apply", actor.id, old_value=old, new_value="pending")
    forget_network_member(actor)


def _lock_member(person_id: int) -> NetworkMember | None:
    """The person's place in the network, locked, with its themes."""
    return db.session.scalar(
        for_update(select(NetworkMember).where(NetworkMember.person_id == person_id)).options(
            selectinload(NetworkMember.themes)
        )
    )


def require_may_apply(member: NetworkMember) -> None:
    """Refused (403) while an application waits, to a member, and to an excluded person."""
    if member.status == NetworkStatus.pending:
        raise NotAllowed(
            _(
                "Votre demande d'adhésion attend déjà la réponse de l'équipe d'animation : "
                "inutile de la renouveler."
            )
        )
    if member.status == NetworkStatus.member:
        raise NotAllowed(_("Vous êtes déjà membre du réseau des élu·es."))
    if member.status == NetworkStatus.excluded:
        raise NotAllowed(
            _(
                "Vous avez été exclu·e du réseau : seule l'équipe d'animation peut vous y "
                "réadmettre."
            )
        )


# From which statuses each decision may be taken.
_DECISIONS = {
    "accept": (
        "network.accept",
        NetworkStatus.member,
        (NetworkStatus.pending, NetworkStatus.declined, NetworkStatus.excluded),
    ),
    "decline": ("network.decline", NetworkStatus.declined, (NetworkStatus.pending,)),
    "exclude": ("network.exclude", NetworkStatus.excluded, (NetworkStatus.member,)),
}


def _status_now(status: NetworkStatus) -> str:
    return {
        NetworkStatus.pending: _("sa demande attend une réponse"),
        NetworkStatus.member: _("cette personne est membre"),
        NetworkStatus.declined: _("sa demande a été déclinée"),
        NetworkStatus.excluded: _("cette personne est exclue"),
    }[status]


def _decide(actor: Person, person_id: int, decision: str, seen: str, reason: str) -> None:
    """Take a decision on someone's place in the network, under a lock on their row. `seen`
    is the status the team member saw: if it changed meanwhile, nothing is decided (409)."""
    action, new_status, allowed = _DECISIONS[decision]
    reason = _text(
        reason,
        REASON_MAX_LENGTH,
        _("La raison compte %(max)d caractères au plus.", max=REASON_MAX_LENGTH),
    )
    if decision != "accept" and not reason:
        raise Invalid(_("Indiquez la raison de cette décision : elle sera montrée à la personne."))
    with write_transaction():
        require_network_team(actor)
        member = _lock_member(person_id)
        if member is None:
            raise NotFound(_("Cette personne n'a jamais demandé à rejoindre le réseau."))
        if member.status.value != seen or member.status not in allowed:
            raise Conflict(
                _(
                    "La situation a changé entre-temps (%(now)s) : rien n'a été décidé. "
                    "Relisez la page avant de décider.",
                    now=_status_now(member.status),
                )
            )
        old = member.status.value
        member.status = new_status
        member.decided_at = utcnow()
        member.decided_by_id = actor.id
        member.decision_reason = reason
        _audit(actor, action, person_id, old_value=old, new_value=new_status.value, reason=reason)
        person = db.session.get(Person, person_id)
    forget_network_member(person)


def accept_member(actor: Person, person_id: int, seen: str, note: str = "") -> None:
    """Accept an application, or readmit a declined or excluded person."""
    _decide(actor, person_id, "accept", seen, note)


def decline_application(actor: Person, person_id: int, seen: str, reason: str) -> None:
    _decide(actor, person_id, "decline", seen, reason)


def exclude_member(actor: Person, person_id: int, seen: str, reason: str) -> None:
    _decide(actor, person_id, "exclude", seen, reason)


# Own profile --------------------------------------------------------------------------------------


def update_profile(actor: Person, presentation: str, departement: str | None, themes: str) -> None:
    """A member's own presentation, département and themes, as the directory shows them."""
    presentation = _text(
        presentation,
        PRESENTATION_MAX_LENGTH,
        _("La présentation compte %(max)d caractères au plus.", max=PRESENTATION_MAX_LENGTH),
    )
    departement = clean_departement(departement)
    theme_names = parse_themes(themes)
    with write_transaction():
        member = _lock_member(actor.id)
        if member is None or member.status != NetworkStatus.member:
            raise NotAllowed(_("Seul·es les membres du réseau ont un profil à modifier."))
        member.presentation = presentation
        member.departement = departement
        old_themes = theme_field_value(member.themes)
        member.themes = themes_named(theme_names)
        _audit(
            actor,
            "network.profile",
            actor.id,
            old_value=old_themes,
            new_value=theme_field_value(member.themes),
        )


def own_membership(person: Person) -> NetworkMember | None:
    """The person's row with its themes (for the profile form)."""
    return db.session.scalar(
        select(NetworkMember)
        .where(NetworkMember.person_id == person.id)
        .options(selectinload(NetworkMember.themes))
    )


# The directory -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DirectoryFilters:
    level: MandateLevel | None = None
    departement: str | None = None
    theme_id: int | None = None

    @property
    def active(self) -> bool:
        return bool(self.level or self.departement or self.theme_id)


@dataclass
class DirectoryEntry:
    member: NetworkMember
    mandates: list[Mandate]  # current ones


def _directory_query(filters: DirectoryFilters, today: date):
    query = select(NetworkMember).where(NetworkMember.status == NetworkStatus.member)
    if filters.level is not None:
        query = query.where(
            exists().where(
                Mandate.person_id == NetworkMember.person_id,
                Mandate.level == filters.level,
                _current(today),
            )
        )
    if filters.departement is not None:
        # The people of the département, found once (their own département, or a current
        # mandate's): an OR with a correlated EXISTS made both backends probe every member.
        living = aliased(NetworkMember)
        query = query.where(
            NetworkMember.person_id.in_(
                union(
                    select(living.person_id).where(living.departement == filters.departement),
                    select(Mandate.person_id).where(
                        Mandate.departement == filters.departement, _current(today)
                    ),
                )
            )
        )
    if filters.theme_id is not None:
        query = query.where(
            exists().where(
                network_member_theme.c.member_id == NetworkMember.id,
                network_member_theme.c.theme_id == filters.theme_id,
            )
        )
    return query


def directory_page(
    filters: DirectoryFilters, page: int, per_page: int
) -> tuple[list[DirectoryEntry], int]:
    """One page of members (by name) with their current mandates, and how many match: four
    or five queries whatever the page holds."""
    today = paris_today()
    query = _directory_query(filters, today)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    members = list(
        db.session.scalars(
            query.join(Person, Person.id == NetworkMember.person_id)
            .order_by(func.lower(Person.display_name), Person.id)
            .limit(per_page)
            .offset((page - 1) * per_page)
            .options(selectinload(NetworkMember.person), selectinload(NetworkMember.themes))
        )
    )
    by_person: dict[int, list[Mandate]] = {m.person_id: [] for m in members}
    if by_person:
        for mandate in db.session.scalars(
            select(Mandate)
            .where(Mandate.person_id.in_(list(by_person)), _current(today))
            .order_by(Mandate.starts_on, Mandate.id)
        ):
            by_person[mandate.person_id].append(mandate)
    return [DirectoryEntry(m, by_person[m.person_id]) for m in members], total


# A profile ----------------------------------------------------------------------------------


@dataclass
class Profile:
    person: Person
    member: NetworkMember
    mandates: list[Mandate]  # all, the most recent first
    resources: list[Resource]
    resource_count: int
    threads: list[Thread]
    thread_count: int
    history: list[AuditEntry]  # for the team only; empty otherwise


def profile_of(person_id: int, for_team: bool) -> Profile:
    """A member's profile; 404 for anyone who is not a member, unless the team asks."""
    member = db.session.scalar(
        select(NetworkMember)
        .where(NetworkMember.person_id == person_id)
        .options(
            selectinload(NetworkMember.person),
            selectinload(NetworkMember.themes),
            selectinload(NetworkMember.decided_by),
        )
    )
    if member is None or (member.status != NetworkStatus.member and not for_team):
        raise NotFound(_("Cette personne n'est pas membre du réseau."))
    resources = list(
        db.session.scalars(
            select(Resource)
            .where(Resource.author_id == person_id)
            .order_by(Resource.created_at.desc(), Resource.id.desc())
            .limit(SHARED_SHOWN)
        )
    )
    threads = list(
        db.session.scalars(
            select(Thread)
            .where(Thread.author_id == person_id)
            .order_by(Thread.created_at.desc(), Thread.id.desc())
            .limit(SHARED_SHOWN)
        )
    )
    history = []
    if for_team:
        history = list(
            db.session.scalars(
                select(AuditEntry)
                .where(AuditEntry.person_id == person_id, AuditEntry.action.in_(DECISION_ACTIONS))
                .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
                .limit(50)
                .options(selectinload(AuditEntry.actor))
            )
        )
    return Profile(
        person=member.person,
        member=member,
        mandates=mandates_of(person_id),
        resources=resources,
        resource_count=_count_if_full(resources, Resource.author_id == person_id),
        threads=threads,
        thread_count=_count_if_full(threads, Thread.author_id == person_id),
        history=history,
    )


def _count_if_full(rows: list, condition) -> int:
    if len(rows) < SHARED_SHOWN:
        return len(rows)
    return db.session.scalar(select(func.count()).where(condition))


# The applications queue ------------------------------------------------------------------------


@dataclass
class Application:
    member: NetworkMember
    mandates: list[Mandate]


def pending_applications(page: int, per_page: int) -> tuple[list[Application], int]:
    """Applications waiting, the oldest first, with all the applicants' mandates."""
    base = select(NetworkMember).where(NetworkMember.status == NetworkStatus.pending)
    total = db.session.scalar(select(func.count()).select_from(base.subquery()))
    members = list(
        db.session.scalars(
            base.order_by(NetworkMember.applied_at, NetworkMember.id)
            .limit(per_page)
            .offset((page - 1) * per_page)
            .options(selectinload(NetworkMember.person), selectinload(NetworkMember.themes))
        )
    )
    return [
        Application(m, ms) for m, ms in zip(members, _mandates_by_person(members), strict=True)
    ], total


def _mandates_by_person(members: list[NetworkMember]) -> list[list[Mandate]]:
    by_person: dict[int, list[Mandate]] = {m.person_id: [] for m in members}
    if by_person:
        for mandate in db.session.scalars(
            select(Mandate)
            .where(Mandate.person_id.in_(list(by_person)))
            .order_by(Mandate.starts_on.desc(), Mandate.id.desc())
        ):
            by_person[mandate.person_id].append(mandate)
    return [by_person[m.person_id] for m in members]


def recent_decisions(limit: int = RECENT_DECISIONS) -> list[NetworkMember]:
    """The places in the network decided most recently, with who decided."""
    return list(
        db.session.scalars(
            select(NetworkMember)
            .where(NetworkMember.decided_at.is_not(None))
            .order_by(NetworkMember.decided_at.desc(), NetworkMember.id.desc())
            .limit(limit)
            .options(selectinload(NetworkMember.person), selectinload(NetworkMember.decided_by))
        )
    )


# The public animation team --------------------------------------------------------------------

_TEAM_ORDER = case((NetworkTeamEntry.role == TeamRole.co_lead, 0), else_=1)


def team_entries() -> list[NetworkTeamEntry]:
    """The animation team as the public page shows it: co-leads first, then the team."""
    return list(
        db.session.scalars(
            select(NetworkTeamEntry).order_by(
                _TEAM_ORDER, NetworkTeamEntry.position, NetworkTeamEntry.id
            )
        )
    )


def _clean_team_entry(display_name: str, role: str, description: str) -> tuple[str, TeamRole, str]:
    display_name = re.sub(r"\s+", " ", display_name or "").strip()
    if not display_name:
        raise Invalid(_("Indiquez le nom de la personne."))
    if len(display_name) > TEAM_NAME_MAX_LENGTH:
        raise Invalid(_("Le nom compte %(max)d caractères au plus.", max=TEAM_NAME_MAX_LENGTH))
    team_role = _enum_value(TeamRole, role, _("Choisissez le rôle dans l'équipe."))
    description = _text(
        description,
        TEAM_DESCRIPTION_MAX_LENGTH,
        _("La description compte %(max)d caractères au plus.", max=TEAM_DESCRIPTION_MAX_LENGTH),
    )
    return display_name, team_role, description


def _lock_team() -> list[NetworkTeamEntry]:
    """Every entry, locked (positions are compared across rows)."""
    return list(
        db.session.scalars(
            for_update(
                select(NetworkTeamEntry).order_by(NetworkTeamEntry.position, NetworkTeamEntry.id)
            )
        )
    )


def add_team_entry(actor: Person, display_name: str, role: str, description: str) -> int:
    display_name, team_role, description = _clean_team_entry(display_name, role, description)
    with write_transaction():
        require_network_team(actor)
        entries = _lock_team()
        last = max((e.position for e in entries if e.role == team_role), default=0)
        entry = NetworkTeamEntry(
            display_name=display_name, role=team_role, description=description, position=last + 1
        )
        db.session.add(entry)
        db.session.flush()
        _audit(actor, "network.team_add", None, new_value=f"{display_name} ({team_role.value})")
        return entry.id


def _locked_entry(entries: list[NetworkTeamEntry], entry_id: int) -> NetworkTeamEntry:
    for entry in entries:
        if entry.id == entry_id:
            return entry
    raise NotFound(_("Cette personne ne figure plus dans l'équipe d'animation."))


def update_team_entry(
    actor: Person, entry_id: int, display_name: str, role: str, description: str
) -> None:
    display_name, team_role, description = _clean_team_entry(display_name, role, description)
    with write_transaction():
        require_network_team(actor)
        entries = _lock_team()
        entry = _locked_entry(entries, entry_id)
        old = f"{entry.display_name} ({entry.role.value})"
        if entry.role != team_role:
            # Changing role: last of the new list.
            entry.position = 1 + max(
                (e.position for e in entries if e.role == team_role and e.id != entry.id),
                default=0,
            )
        entry.display_name, entry.role, entry.description = display_name, team_role, description
        _audit(
            actor,
            "network.team_update",
            None,
            old_value=old,
            new_value=f"{display_name} ({team_role.value})",
        )


def remove_team_entry(actor: Person, entry_id: int) -> None:
    with write_transaction():
        require_network_team(actor)
        entry = _locked_entry(_lock_team(), entry_id)
        _audit(
            actor,
            "network.team_remove",
            None,
            old_value=f"{entry.display_name} ({entry.role.value})",
        )
        db.session.delete(entry)


def move_team_entry(actor: Person, entry_id: int, direction: str) -> None:
    """Move an entry one place up or down among those of its role."""
    if direction not in ("up", "down"):
        raise Invalid(_("Direction inconnue."))
    with write_transaction():
        require_network_team(actor)
        entries = _lock_team()
        entry = _locked_entry(entries, entry_id)
        same_role = sorted(
            (e for e in entries if e.role == entry.role), key=lambda e: (e.position, e.id)
        )
        index = same_role.index(entry)
        target = index - 1 if direction == "up" else index + 1
        if not 0 <= target < len(same_role):
            raise Conflict(
                _("Cette personne est déjà en tête de liste.")
                if direction == "up"
                else _("Cette personne est déjà en fin de liste.")
            )
        same_role[index], same_role[target] = same_role[target], same_role[index]
        # Renumber the whole role: positions stay distinct whatever they were before.
        for position, row in enumerate(same_role, start=1):
            row.position = position
        _audit(actor, "network.team_move", None, new_value=f"{entry.display_name} {direction}")
