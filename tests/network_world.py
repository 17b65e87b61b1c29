"""The people of the network's authorization tests, one per kind, and the runner of a route.

Each network test module (members, library, discussion, support) declares its mutating routes
in `ROUTES` (endpoint → NetRoute) and the outcome per role in `EXPECTED` (endpoint → one
outcome per NETWORK_ROLES); tests/test_network_authorization.py checks that together they
cover every mutating route of the network's blueprints, and runs them all.
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from werkzeug.security import generate_password_hash

from models import (
    Mandate,
    MandateLevel,
    MandateRole,
    MandateSide,
    NetworkMember,
    NetworkStatus,
    NetworkTheme,
    Person,
    db,
    utcnow,
)
from tests import factories as f
from tests.dbstate import snapshot

NETWORK_ROLES = (
    "anonymous",
    "outsider",  # signed in, never asked to join
    "applicant",  # asked to join, waiting
    "member",
    "network",  # the network's animation team (staff role), not a member themself
    "admin",
)

# Outcomes
DONE = "done"  # 303 and the effect happened
LOGIN = "login"  # 302 to the sign-in page, nothing written
DENIED = "denied"  # 403, nothing written
HIDDEN = "hidden"  # 404, nothing written
SHOWN = "shown"  # 200 and nothing written (a preview, a fragment)


@functools.cache
def _password_hash() -> str:
    return generate_password_hash(f.PASSWORD)


def network_person(email: str, **roles) -> Person:
    person = Person(email=email, display_name=email.partition("@")[0].title())
    person.password_hash = _password_hash()
    for role, value in roles.items():
        setattr(person, f"is_{role}", value)
    db.session.add(person)
    db.session.commit()
    return person


def theme(name: str) -> NetworkTheme:
    from models import fold_text

    row = NetworkTheme(name=name, key=fold_text(name))
    db.session.add(row)
    db.session.commit()
    return row


def join(person: Person, status: NetworkStatus = NetworkStatus.member, **fields) -> NetworkMember:
    """The person's place in the network, written directly."""
    now = utcnow()
    row = NetworkMember(
        person_id=person.id,
        status=status,
        motivation=fields.pop("motivation", "Élue, je veux partager mes délibérations."),
        applied_at=now,
        decided_at=None if status == NetworkStatus.pending else now,
        **fields,
    )
    db.session.add(row)
    db.session.commit()
    return row


def mandate(person: Person, **fields) -> Mandate:
    values = {
        "level": MandateLevel.municipal,
        "council": "Conseil municipal de Pessac",
        "council_key": "conseil municipal de pessac",
        "departement": "33",
        "role": MandateRole.conseiller,
        "side": MandateSide.opposition,
        "starts_on": date(2020, 7, 3),
        "ends_on": None,
    }
    values.update(fields)
    row = Mandate(person_id=person.id, **values)
    db.session.add(row)
    db.session.commit()
    return row


@dataclass
class NetworkWorld:
    people: dict[str, Person]  # by role (no "anonymous")
    other_member: Person  # a second member, author of things the first does not own
    theme: NetworkTheme
    ids: dict[str, int] = field(default_factory=dict)  # filled by each module's setup


def build_network_world() -> NetworkWorld:
    people = {
        "outsider": network_person("exterieure@example.org"),
        "applicant": network_person("candidate@example.org"),
        "member": network_person("membre-reseau@example.org"),
        "network": network_person("animation-reseau@example.org", network=True),
        "admin": network_person("admin-reseau@example.org", admin=True),
    }
    other = network_person("autre-membre@example.org")
    join(people["applicant"], NetworkStatus.pending)
    join(people["member"], departement="33")
    join(other, departement="29")
    mandate(
        people["applicant"],
        council="Conseil municipal de Brest",
        council_key="conseil municipal de brest",
        departement="29",
    )
    mandate(people["member"])
    mandate(
        other,
        level=MandateLevel.departemental,
        council="Conseil départemental du Finistère",
        council_key="conseil departemental du finistere",
        departement="29",
        role=MandateRole.vice_president,
        side=MandateSide.majorite,
    )
    world = NetworkWorld(people, other, theme("Eau en régie publique"))
    world.ids = {
        "member": people["member"].id,
        "other_member": other.id,
        "applicant": people["applicant"].id,
        "outsider": people["outsider"].id,
        "theme": world.theme.id,
    }
    return world  # fmt: skip


@dataclass
class NetRoute:
    path: str  # formatted with NetworkWorld.ids
    data: Callable[[NetworkWorld, str], dict]
    effect: Callable[[NetworkWorld, str, object], None]
    # Rows the route acts on, made before the request: setup(world) adds to world.ids.
    setup: Callable[[NetworkWorld], None] | None = None


def no_data(world: NetworkWorld, role: str) -> dict:
    return {}


def run_route(client, auth, route: NetRoute, expected: str, role: str) -> None:
    """Sign in as `role`, POST the route, and check the outcome (nothing written unless
    DONE)."""
    world = build_network_world()
    if route.setup is not None:
        route.setup(world)
    if role != "anonymous":
        auth.login(world.people[role])
    data = route.data(world, role)
    before = snapshot()

    response = client.post(route.path.format(**world.ids), data=data)

    body = response.get_data(as_text=True)[:2000]
    if expected == DONE:
        assert response.status_code == 303, body
        route.effect(world, role, client)
        return
    if expected == LOGIN:
        assert response.status_code == 302, body
        assert response.headers["Location"].startswith("/connexion")
    elif expected == DENIED:
        assert response.status_code == 403, body
    elif expected == HIDDEN:
        assert response.status_code == 404, body
    elif expected == SHOWN:
        assert response.status_code == 200, body
    else:
        raise AssertionError(f"unknown outcome {expected}")
    assert snapshot() == before
