"""Action groups: creation, members and their roles, certification (admins only)."""

import re

from flask_babel import gettext as _
from sqlalchemy import select

from models import ActionGroup, AuditEntry, MemberRole, Membership, Person, db, utcnow

from .access import require_staff
from .errors import Conflict, Invalid, NotFound
from .tx import for_update, write_transaction

DEPARTEMENT_RE = re.compile(r"^(0[1-9]|1[0-9]|2[1-9]|2A|2B|[3-8][0-9]|9[0-5]|97[1-6]|98[0-9])$")


def clean_departement(code: str) -> str:
    code = (code or "").strip().upper()
    if len(code) == 1 and code.isdigit():
        code = "0" + code
    if not DEPARTEMENT_RE.match(code):
        raise Invalid(_("Code de département invalide : « %(code)s ».", code=code))
    return code


def _clean_fields(name: str, commune: str, departement: str) -> tuple[str, str, str]:
    name, commune = (name or "").strip(), (commune or "").strip()
    if not name or len(name) > 160:
        raise Invalid(_("Le nom du groupe est obligatoire (160 caractères au plus)."))
    if not commune or len(commune) > 120:
        raise Invalid(_("La commune est obligatoire (120 caractères au plus)."))
    return name, commune, clean_departement(departement)


def _audit(actor: Person | None, action: str, group_id: int, **values) -> None:
    db.session.add(
        AuditEntry(actor_id=actor.id if actor else None, action=action, group_id=group_id, **values)
    )


def create_group_unchecked(
    name: str,
    commune: str,
    departement: str,
    certified: bool = False,
    actor: Person | None = None,
) -> int:
    name, commune, departement = _clean_fields(name, commune, departement)
    with write_transaction():
        group = ActionGroup(
            name=name,
            commune=commune,
            departement=departement,
            certified_at=utcnow() if certified else None,
        )
        db.session.add(group)
        db.session.flush()
        _audit(actor, "group.create", group.id, new_value=name)
        if certified:
            _audit(actor, "group.certify", group.id, reason=_("Certifié à la création."))
        return group.id


def create_group(actor: Person, name: str, commune: str, departement: str) -> int:
    require_staff(actor, "admin")
    return create_group_unchecked(name, commune, departement, actor=actor)


def _lock_group(group_id: int) -> ActionGroup:
    group = db.session.scalar(for_update(select(ActionGroup).where(ActionGroup.id == group_id)))
    if group is None:
        raise NotFound(_("Ce groupe n'existe pas."))
    return group


def update_group(actor: Person, group_id: int, name: str, commune: str, departement: str) -> None:
    name, commune, departement = _clean_fields(name, commune, departement)
    with write_transaction():
        require_staff(actor, "admin")
        group = _lock_group(group_id)
        old = f"{group.name} · {group.commune} ({group.departement})"
        group.name, group.commune, group.departement = name, commune, departement
        _audit(
            actor,
            "group.update",
            group.id,
            old_value=old,
            new_value=f"{name} · {commune} ({departement})",
        )


def set_certification(actor: Person, group_id: int, certified: bool, reason: str) -> None:
    """Certify or decertify a group; the reason is logged with who and when."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_("Indiquez la raison de cette décision."))
    with write_transaction():
        require_staff(actor, "admin")
        group = _lock_group(group_id)
        if group.is_certified == certified:
            raise Conflict(
                _("Ce groupe est déjà certifié.")
                if certified
                else _("Ce groupe n'est pas certifié.")
            )
        group.certified_at = utcnow() if certified else None
        _audit(actor, "group.certify" if certified else "group.decertify", group.id, reason=reason)


def _parse_role(role: str) -> MemberRole:
    try:
        return MemberRole(role)
    except ValueError as error:
        raise Invalid(_("Rôle de membre inconnu.")) from error


def set_membership_unchecked(
    group_id: int, email: str, role: str, actor: Person | None = None
) -> None:
    """Add the person to the group with this role, or change their role."""
    member_role = _parse_role(role)
    with write_transaction():
        if actor is not None:
            require_staff(actor, "admin")
        group = _lock_group(group_id)
        person = db.session.scalar(
            select(Person).where(Person.email == Person.normalize_email(email or ""))
        )
        if person is None:
            raise Invalid(_("Aucun compte n'a cette adresse e-mail."))
        membership = db.session.scalar(
            select(Membership).where(
                Membership.group_id == group.id, Membership.person_id == person.id
            )
        )
        old = ""
        if membership is None:
            membership = Membership(group_id=group.id, person_id=person.id, role=member_role)
            db.session.add(membership)
        else:
            old = membership.role.value
            membership.role = member_role
        _audit(
            actor,
            "group.member",
            group.id,
            person_id=person.id,
            old_value=old,
            new_value=member_role.value,
        )


def set_membership(actor: Person, group_id: int, email: str, role: str) -> None:
    require_staff(actor, "admin")
    set_membership_unchecked(group_id, email, role, actor=actor)


def remove_membership(actor: Person, group_id: int, person_id: int) -> None:
    with write_transaction():
        require_staff(actor, "admin")
        group = _lock_group(group_id)
        membership = db.session.scalar(
            select(Membership).where(
                Membership.group_id == group.id, Membership.person_id == person_id
            )
        )
        if membership is None:
            raise NotFound(_("Cette personne n'est pas membre du groupe."))
        _audit(
            actor,
            "group.member",
            group.id,
            person_id=person_id,
            old_value=membership.role.value,
            new_value="",
        )
        db.session.delete(membership)
