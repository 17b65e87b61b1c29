"""Who may act for which group: the checks every service repeats after taking its lock."""

from flask_babel import gettext as _
from sqlalchemy import select

from models import ActionGroup, MemberRole, Membership, Person, db

from .errors import NotAllowed


def role_in_group(person: Person | None, group_id: int) -> MemberRole | None:
    if person is None or not person.is_authenticated:
        return None
    return db.session.scalar(
        select(Membership.role).where(
            Membership.person_id == person.id, Membership.group_id == group_id
        )
    )


def managed_groups(person: Person | None) -> list[ActionGroup]:
    """The groups this person acts for (manager or referent), by name."""
    if person is None or not person.is_authenticated:
        return []
    return list(
        db.session.scalars(
            select(ActionGroup)
            .join(Membership, Membership.group_id == ActionGroup.id)
            .where(
                Membership.person_id == person.id,
                Membership.role.in_([MemberRole.manager, MemberRole.referent]),
            )
            .order_by(ActionGroup.name)
        )
    )


def require_group_manager(person: Person, group: ActionGroup) -> None:
    role = role_in_group(person, group.id)
    if role is None or not role.acts_for_group:
        raise NotAllowed(
            _(
                "Seuls les gestionnaires et référent·es du groupe « %(name)s » "
                "peuvent agir en son nom.",
                name=group.name,
            )
        )


def require_certified(group: ActionGroup) -> None:
    if not group.is_certified:
        raise NotAllowed(
            _(
                "Le groupe « %(name)s » n'est pas certifié : seuls les groupes certifiés "
                "proposent, s'engagent et sont remboursés. La certification est accordée "
                "par l'équipe d'administration.",
                name=group.name,
            )
        )


def require_staff(person: Person, *roles: str) -> None:
    if not person.is_authenticated or not any(getattr(person, f"is_{r}") for r in roles):
        raise NotAllowed(_("Cette action est réservée à l'équipe habilitée."))
