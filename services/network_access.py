"""Who sees the network of elected officials' space, and who runs it: the checks every
network service and view repeats."""

from flask import g, has_app_context
from flask_babel import gettext as _
from sqlalchemy import select

from models import NetworkMember, NetworkStatus, Person, db

from .errors import NotAllowed


def network_member(person: Person | None) -> NetworkMember | None:
    """The person's application or membership (any status), or None; read once per request."""
    if person is None or not person.is_authenticated:
        return None
    cache = g.setdefault("network_members", {}) if has_app_context() else {}
    if person.id not in cache:
        cache[person.id] = db.session.scalar(
            select(NetworkMember).where(NetworkMember.person_id == person.id)
        )
    return cache[person.id]


def forget_network_member(person: Person | None) -> None:
    """After a service changed the person's status, the next read goes to the database."""
    if person is not None and has_app_context():
        g.setdefault("network_members", {}).pop(person.id, None)


def is_network_team(person: Person | None) -> bool:
    """The network's animation team (and admins): accept, exclude, moderate, support."""
    return bool(
        person is not None and person.is_authenticated and (person.is_network or person.is_admin)
    )


def is_network_member(person: Person | None) -> bool:
    member = network_member(person)
    return member is not None and member.status == NetworkStatus.member


def sees_network(person: Person | None) -> bool:
    """Members see the network's space; so do its animation team and admins."""
    return is_network_team(person) or is_network_member(person)


def require_network_space(person: Person | None) -> None:
    if not sees_network(person):
        member = network_member(person)
        if member is not None and member.status == NetworkStatus.pending:
            message = _(
                "Votre demande d'adhésion au réseau des élu·es attend la réponse de l'équipe "
                "d'animation : l'espace du réseau vous sera ouvert une fois acceptée."
            )
        else:
            message = _(
                "L'espace du réseau est réservé à ses membres. Les élu·es du mouvement peuvent "
                "demander à le rejoindre depuis la page du réseau."
            )
        raise NotAllowed(message)


def require_network_member(person: Person | None) -> None:
    """Acting as a member (depositing, posting, asking for support) needs membership itself."""
    if not is_network_member(person):
        require_network_space(person)
        raise NotAllowed(_("Seul·es les membres du réseau peuvent faire cela en leur nom."))


def require_network_team(person: Person | None) -> None:
    if not is_network_team(person):
        raise NotAllowed(_("Cette action est réservée à l'équipe d'animation du réseau."))
