"""Members of the network of elected officials: the public page, applications and the
animation team's decisions, the directory and profiles, own profile, the public team; and who
may do what (ROUTES/EXPECTED for every POST of the `network` blueprint)."""

import html
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from models import (
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
    ResourceKind,
    TeamRole,
    Thread,
    db,
)
from services import network as service
from services.errors import Conflict, Invalid, NotAllowed
from tests.dbstate import snapshot
from tests.network_world import (
    DENIED,
    DONE,
    HIDDEN,
    LOGIN,
    NETWORK_ROLES,
    SHOWN,
    NetRoute,
    NetworkWorld,
    build_network_world,
    join,
    mandate,
    network_person,
    no_data,
    run_route,
    theme,
)
from tests.test_concurrency import as_person, run_together
from tests.test_queries import counting_queries


def page_text(response) -> str:
    """The page as a reader sees it (entities decoded)."""
    return html.unescape(response.get_data(as_text=True))


# Who may do what -----------------------------------------------------------------------------


def _member_row(person_id: int) -> NetworkMember | None:
    db.session.rollback()
    return db.session.scalar(select(NetworkMember).where(NetworkMember.person_id == person_id))


def _last_audit(action: str) -> AuditEntry:
    return db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id.desc())
    )


def _join_data(world, role):
    return {"motivation": "Élue à Quimper, je veux partager nos vœux.", "themes": "Cantines bio"}


def _joined(world: NetworkWorld, role: str, client) -> None:
    row = _member_row(world.people[role].id)
    assert row.status == NetworkStatus.pending
    assert row.motivation.startswith("Élue à Quimper")
    assert _last_audit("network.apply").person_id == world.people[role].id


MANDATE_FORM = {
    "level": "regional",
    "council": "Conseil régional de Bretagne",
    "departement": "",
    "role": "vice_president",
    "side": "majorite",
    "starts_on": "2021-07-02",
    "ends_on": "",
}


def _mandate_added(world, role, client) -> None:
    db.session.rollback()
    row = db.session.scalar(
        select(Mandate).where(
            Mandate.person_id == world.people[role].id, Mandate.council_key.contains("bretagne")
        )
    )
    assert row is not None and row.role == MandateRole.vice_president


def _members_mandate(world: NetworkWorld) -> None:
    world.ids["mandate"] = db.session.scalar(
        select(Mandate.id).where(Mandate.person_id == world.ids["member"])
    )


def _edit_mandate_data(world, role):
    return {
        "level": "municipal",
        "council": "Conseil municipal de Pessac",
        "departement": "33",
        "role": "adjoint",
        "side": "majorite",
        "starts_on": "2020-07-03",
        "ends_on": "2026-03-22",
    }


def _mandate_edited(world, role, client) -> None:
    db.session.rollback()
    row = db.session.get(Mandate, world.ids["mandate"])
    assert (row.role, row.ends_on) == (MandateRole.adjoint, date(2026, 3, 22))


def _mandate_deleted(world, role, client) -> None:
    db.session.rollback()
    assert db.session.get(Mandate, world.ids["mandate"]) is None


def _profile_data(world, role):
    return {"presentation": "Adjointe aux cantines.", "departement": "33", "themes": "Cantines bio"}


def _profile_saved(world, role, client) -> None:
    row = _member_row(world.people[role].id)
    assert row.presentation == "Adjointe aux cantines."


def _decided(status: NetworkStatus, who: str, action: str):
    def effect(world, role, client) -> None:
        row = _member_row(world.ids[who])
        assert row.status == status
        assert row.decided_by_id == world.people[role].id
        assert row.decided_at is not None
        entry = _last_audit(action)
        assert (entry.person_id, entry.actor_id) == (world.ids[who], world.people[role].id)

    return effect


def _team_entries(world: NetworkWorld) -> None:
    rows = [
        NetworkTeamEntry(display_name="Aïcha Co", role=TeamRole.co_lead, position=1),
        NetworkTeamEntry(display_name="Bruno Membre", role=TeamRole.member, position=1),
        NetworkTeamEntry(display_name="Chloé Membre", role=TeamRole.member, position=2),
    ]
    db.session.add_all(rows)
    db.session.commit()
    world.ids["team_entry"] = rows[2].id


def _team_names() -> list[str]:
    db.session.rollback()
    return [e.display_name for e in service.team_entries()]


def _team_entry_added(world, role, client) -> None:
    assert _team_names()[-1] == "Denise Nouvelle"


def _team_entry_edited(world, role, client) -> None:
    assert "Chloé Renommée" in _team_names()


def _team_entry_removed(world, role, client) -> None:
    assert "Chloé Membre" not in _team_names()


def _team_entry_moved(world, role, client) -> None:
    assert _team_names() == ["Aïcha Co", "Chloé Membre", "Bruno Membre"]


ROUTES: dict[str, NetRoute] = {
    "network.join": NetRoute("/reseau/adherer", _join_data, _joined),
    "network.add_mandate": NetRoute(
        "/reseau/mandats", lambda w, r: dict(MANDATE_FORM), _mandate_added
    ),
    "network.edit_mandate": NetRoute(
        "/reseau/mandats/{mandate}/modifier", _edit_mandate_data, _mandate_edited, _members_mandate
    ),
    "network.delete_mandate": NetRoute(
        "/reseau/mandats/{mandate}/suppression", no_data, _mandate_deleted, _members_mandate
    ),
    "network.edit_profile": NetRoute("/reseau/profil", _profile_data, _profile_saved),
    "network.accept": NetRoute(
        "/reseau/adhesions/{applicant}/accepter",
        lambda w, r: {"seen": "pending"},
        _decided(NetworkStatus.member, "applicant", "network.accept"),
    ),
    "network.decline": NetRoute(
        "/reseau/adhesions/{applicant}/decliner",
        lambda w, r: {"seen": "pending", "reason": "Aucun mandat en cours."},
        _decided(NetworkStatus.declined, "applicant", "network.decline"),
    ),
    "network.exclude": NetRoute(
        "/reseau/adhesions/{other_member}/exclure",
        lambda w, r: {"seen": "member", "reason": "Propos injurieux répétés."},
        _decided(NetworkStatus.excluded, "other_member", "network.exclude"),
    ),
    "network.add_team_entry": NetRoute(
        "/reseau/equipe",
        lambda w, r: {"display_name": "Denise Nouvelle", "role": "member", "description": ""},
        _team_entry_added,
        _team_entries,
    ),
    "network.edit_team_entry": NetRoute(
        "/reseau/equipe/{team_entry}/modifier",
        lambda w, r: {"display_name": "Chloé Renommée", "role": "member", "description": "x"},
        _team_entry_edited,
        _team_entries,
    ),
    "network.remove_team_entry": NetRoute(
        "/reseau/equipe/{team_entry}/suppression", no_data, _team_entry_removed, _team_entries
    ),
    "network.move_team_entry": NetRoute(
        "/reseau/equipe/{team_entry}/deplacer",
        lambda w, r: {"direction": "up"},
        _team_entry_moved,
        _team_entries,
    ),
}

TEAM_ONLY = (LOGIN, DENIED, DENIED, DENIED, DONE, DONE)
OWNER_ONLY = (LOGIN, HIDDEN, HIDDEN, DONE, HIDDEN, HIDDEN)

# One outcome per NETWORK_ROLES: anonymous, outsider, applicant, member, network, admin.
EXPECTED: dict[str, tuple] = {
    # Anyone signed in asks to join, except while an application waits or once a member.
    "network.join":              (LOGIN, DONE, DENIED, DENIED, DONE, DONE),
    # Mandates are declared before joining; each person touches only their own.
    "network.add_mandate":       (LOGIN, DONE, DONE, DONE, DONE, DONE),
    "network.edit_mandate":      OWNER_ONLY,
    "network.delete_mandate":    OWNER_ONLY,
    "network.edit_profile":      (LOGIN, DENIED, DENIED, DONE, DENIED, DENIED),
    "network.accept":            TEAM_ONLY,
    "network.decline":           TEAM_ONLY,
    "network.exclude":           TEAM_ONLY,
    "network.add_team_entry":    TEAM_ONLY,
    "network.edit_team_entry":   TEAM_ONLY,
    "network.remove_team_entry": TEAM_ONLY,
    "network.move_team_entry":   TEAM_ONLY,
}  # fmt: skip


def test_every_post_route_of_the_network_blueprint_is_in_the_matrix(app):
    posts = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "POST" in rule.methods and rule.endpoint.startswith("network.")
    }
    assert posts == set(ROUTES) == set(EXPECTED)
    assert all(len(outcomes) == len(NETWORK_ROLES) for outcomes in EXPECTED.values())


def test_matrix_paths_reach_their_endpoints(app):
    adapter = app.url_map.bind("localhost")
    ids = {"applicant": 1, "other_member": 2, "member": 3, "mandate": 4, "team_entry": 5}
    for endpoint, route in ROUTES.items():
        assert adapter.match(route.path.format(**ids), method="POST")[0] == endpoint


@pytest.mark.parametrize(("endpoint", "role"), [(e, r) for e in EXPECTED for r in NETWORK_ROLES])
def test_network_members_authorization(client, auth, endpoint, role):
    run_route(client, auth, ROUTES[endpoint], EXPECTED[endpoint][NETWORK_ROLES.index(role)], role)


# Pages (GET) per role: OK (200), LOGIN, DENIED (403), HIDDEN (404).
OK = SHOWN
SPACE = (LOGIN, DENIED, DENIED, OK, OK, OK)
PAGES = {
    "/reseau/": (OK, OK, OK, OK, OK, OK),
    "/reseau/membres": SPACE,
    "/reseau/membres?niveau=municipal&departement=33": SPACE,
    "/reseau/membres/{other_member}": SPACE,
    "/reseau/membres/{member}": SPACE,
    # An applicant's profile: the team only (a member is told there is no such member).
    "/reseau/membres/{applicant}": (LOGIN, DENIED, DENIED, HIDDEN, OK, OK),
    "/reseau/membres/{outsider}": (LOGIN, DENIED, DENIED, HIDDEN, HIDDEN, HIDDEN),
    "/reseau/mandats": (LOGIN, OK, OK, OK, OK, OK),
    "/reseau/mandats/{mandate}/modifier": OWNER_ONLY[:3] + (OK,) + OWNER_ONLY[4:],
    "/reseau/adherer": (LOGIN, OK, DENIED, DENIED, OK, OK),
    "/reseau/profil": (LOGIN, DENIED, DENIED, OK, DENIED, DENIED),
    "/reseau/adhesions": (LOGIN, DENIED, DENIED, DENIED, OK, OK),
    "/reseau/equipe": (LOGIN, DENIED, DENIED, DENIED, OK, OK),
    "/reseau/equipe/{team_entry}/modifier": (LOGIN, DENIED, DENIED, DENIED, OK, OK),
}
STATUS = {OK: 200, LOGIN: 302, DENIED: 403, HIDDEN: 404}


@pytest.mark.parametrize(("path", "role"), [(p, r) for p in PAGES for r in NETWORK_ROLES])
def test_network_member_pages_per_role(client, auth, path, role):
    world = build_network_world()
    _members_mandate(world)
    _team_entries(world)
    if role != "anonymous":
        auth.login(world.people[role])
    before = snapshot()

    response = client.get(path.format(**world.ids))

    expected = PAGES[path][NETWORK_ROLES.index(role)]
    assert response.status_code == STATUS[expected], page_text(response)[:1000]
    if expected == LOGIN:
        assert response.headers["Location"].startswith("/connexion")
    if expected == DENIED:
        assert "Accès refusé" in page_text(response)
    assert snapshot() == before


# The public page -----------------------------------------------------------------------------


def test_the_public_page_presents_the_network_and_its_team_co_leads_first(client):
    db.session.add_all(
        [
            NetworkTeamEntry(display_name="Zoé Équipe", role=TeamRole.member, position=1),
            NetworkTeamEntry(
                display_name="Yann Coanimateur",
                role=TeamRole.co_lead,
                position=2,
                description="Conseiller régional de Bretagne",
            ),
            NetworkTeamEntry(
                display_name="Xavière Coanimatrice", role=TeamRole.co_lead, position=1
            ),
            NetworkTeamEntry(display_name="Albert Équipe", role=TeamRole.member, position=2),
        ]
    )
    db.session.commit()

    page = page_text(client.get("/reseau/"))

    for words in ("eau en régie publique", "cantines scolaires bio", "amendements, délibérations"):
        assert words in page
    assert "appui technique et juridique" in page
    order = [page.index(n) for n in ("Xavière", "Yann", "Zoé", "Albert")]
    assert order == sorted(order)
    assert "Conseiller régional de Bretagne" in page
    assert "Connectez-vous pour déclarer vos mandats" in page


@pytest.mark.parametrize(
    ("status", "reason", "says"),
    [
        (None, "", "Demander à rejoindre le réseau"),
        (NetworkStatus.pending, "", "attend la réponse de l'équipe d'animation"),
        (NetworkStatus.declined, "Pas de mandat en cours.", "Demander de nouveau"),
        (NetworkStatus.excluded, "Propos injurieux.", "Seule l'équipe d'animation peut"),
        (NetworkStatus.member, "", "Entrer dans l'espace du réseau"),
    ],
)
def test_the_public_page_tells_the_visitor_where_they_stand(client, auth, status, reason, says):
    person = network_person("elue@example.org")
    if status is not None:
        join(person, status, decision_reason=reason)
    auth.login(person)

    page = page_text(client.get("/reseau/"))

    assert says in page
    if reason:
        assert reason in page
    # The space's navigation only for those who see the space.
    assert ('class="network-nav"' in page) == (status == NetworkStatus.member)


# Joining --------------------------------------------------------------------------------------


def test_an_elected_official_asks_to_join_and_waits_for_the_team(client, auth):
    person = network_person("elu@example.org")
    mandate(person)
    auth.login(person)
    form = page_text(client.get("/reseau/adherer"))
    assert "Conseil municipal de Pessac" in form  # their declared mandates, beside the form

    response = client.post(
        "/reseau/adherer",
        data={
            "motivation": "Partager nos délibérations sur l'eau.",
            "departement": "2a",
            "presentation": "Conseiller municipal d'opposition.",
            "themes": "Eau en régie publique, cantines bio, eau en regie publique",
        },
    )

    assert response.status_code == 303
    row = _member_row(person.id)
    assert row.status == NetworkStatus.pending and row.departement == "2A"
    member = service.own_membership(person)
    assert [t.name for t in member.themes] == ["Eau en régie publique", "cantines bio"]
    page = page_text(client.get("/reseau/"))
    assert "Votre demande d'adhésion est envoyée" in page
    # Still outside the space until the team accepts.
    assert client.get("/reseau/membres").status_code == 403


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"motivation": "  "}, "pourquoi vous souhaitez rejoindre"),
        ({"departement": "99"}, "Code de département invalide"),
        ({"themes": ",".join(f"thème {i}" for i in range(11))}, "10 thèmes au plus"),
    ],
)
def test_an_invalid_application_is_shown_again_and_nothing_written(client, auth, change, message):
    person = network_person("elu@example.org")
    auth.login(person)
    before = snapshot()

    response = client.post("/reseau/adherer", data={"motivation": "Partager.", **change})

    assert response.status_code == 422
    assert message in page_text(response)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (NetworkStatus.pending, "attend déjà la réponse"),
        (NetworkStatus.member, "déjà membre"),
        (NetworkStatus.excluded, "seule l'équipe d'animation peut vous y réadmettre"),
    ],
)
def test_asking_to_join_is_refused_while_pending_as_a_member_or_once_excluded(
    client, auth, status, message
):
    person = network_person("elu@example.org")
    join(person, status)
    auth.login(person)
    before = snapshot()

    response = client.post("/reseau/adherer", data={"motivation": "Encore."})

    assert response.status_code == 403
    assert message in page_text(response)
    assert client.get("/reseau/adherer").status_code == 403
    assert snapshot() == before


def test_a_declined_person_asks_again_and_the_application_reopens(client, auth):
    person = network_person("elu@example.org")
    team = network_person("equipe@example.org", network=True)
    join(person, NetworkStatus.pending, motivation="Première demande.")
    service.decline_application(team, person.id, "pending", "Aucun mandat déclaré.")
    auth.login(person)
    form = page_text(client.get("/reseau/adherer"))
    assert "Première demande." in form  # what they wrote, to start again from

    response = client.post("/reseau/adherer", data={"motivation": "Avec mes mandats."})

    assert response.status_code == 303
    row = _member_row(person.id)
    assert row.status == NetworkStatus.pending
    assert row.motivation == "Avec mes mandats."
    assert (row.decided_at, row.decided_by_id, row.decision_reason) == (None, None, "")
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.person_id == person.id).order_by(AuditEntry.id)
    ).all()
    assert actions == ["network.decline", "network.apply"]


# The team's decisions -------------------------------------------------------------------------


@pytest.fixture
def people(app):
    world = build_network_world()
    return world


def test_the_queue_lists_pending_applications_oldest_first_with_mandates_and_motivation(
    client, auth, people
):
    later = network_person("tardive@example.org")
    join(later, NetworkStatus.pending, motivation="Je suis arrivée après.")
    first_row = _member_row(people.ids["applicant"])
    first_row.applied_at = first_row.applied_at - timedelta(days=3)
    db.session.commit()
    auth.login(people.people["network"])

    page = page_text(client.get("/reseau/adhesions"))

    assert "2 demandes en attente" in page
    assert page.index("Candidate") < page.index("Tardive")
    assert "Conseil municipal de Brest" in page
    assert "Je suis arrivée après." in page


def test_accepting_opens_the_space_to_the_new_member(app, client, auth, people):
    auth.login(people.people["network"])

    response = client.post(
        f"/reseau/adhesions/{people.ids['applicant']}/accepter", data={"seen": "pending"}
    )

    assert response.status_code == 303
    assert response.headers["Location"].endswith("/reseau/adhesions")
    row = _member_row(people.ids["applicant"])
    assert row.status == NetworkStatus.member
    assert row.decided_by_id == people.people["network"].id
    other = app.test_client()
    other.post(
        "/connexion", data={"email": "candidate@example.org", "password": "correct horse battery"}
    )
    assert other.get("/reseau/membres").status_code == 200


def test_declining_needs_a_reason_which_the_person_then_reads(app, client, auth, people):
    auth.login(people.people["network"])
    before = snapshot()
    path = f"/reseau/adhesions/{people.ids['applicant']}/decliner"

    refused = client.post(path, data={"seen": "pending", "reason": "  "})

    assert refused.status_code == 422
    assert "Indiquez la raison" in page_text(refused)
    assert snapshot() == before

    assert client.post(path, data={"seen": "pending", "reason": "Hors mandat."}).status_code == 303
    row = _member_row(people.ids["applicant"])
    assert (row.status, row.decision_reason) == (NetworkStatus.declined, "Hors mandat.")
    other = app.test_client()
    other.post(
        "/connexion", data={"email": "candidate@example.org", "password": "correct horse battery"}
    )
    page = page_text(other.get("/reseau/"))
    assert "Hors mandat." in page and "Demander de nouveau" in page


def test_a_decision_on_a_state_that_changed_meanwhile_is_refused_with_409(client, auth, people):
    team = db.session.get(Person, people.people["admin"].id)
    service.accept_member(team, people.ids["applicant"], "pending")
    auth.login(people.people["network"])
    before = snapshot()

    # The other team member's page still showed the application as pending.
    for action, data in (
        ("decliner", {"seen": "pending", "reason": "Trop tard."}),
        ("accepter", {"seen": "pending"}),
    ):
        response = client.post(f"/reseau/adhesions/{people.ids['applicant']}/{action}", data=data)
        assert response.status_code == 409
        assert "La situation a changé entre-temps" in page_text(response)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("decide", "seen", "who"),
    [
        (service.accept_member, "member", "member"),  # already a member
        (service.exclude_member, "pending", "applicant"),  # not a member yet
        (service.decline_application, "member", "member"),  # nothing pending
    ],
)
def test_a_decision_that_does_not_fit_the_status_is_a_conflict(app, people, decide, seen, who):
    team = db.session.get(Person, people.people["network"].id)
    before = snapshot()
    with pytest.raises(Conflict):
        decide(team, people.ids[who], seen, "Une raison.")
    assert snapshot() == before


def test_the_team_excludes_a_member_with_a_reason_from_the_profile_and_readmits_later(
    app, client, auth, people
):
    victim = people.ids["other_member"]
    auth.login(people.people["network"])
    profile = page_text(client.get(f"/reseau/membres/{victim}"))
    assert "Exclure" in profile

    response = client.post(
        f"/reseau/adhesions/{victim}/exclure",
        data={"seen": "member", "reason": "Propos injurieux.", "back": "profil"},
    )

    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/reseau/membres/{victim}")
    assert _member_row(victim).status == NetworkStatus.excluded
    profile = page_text(client.get(f"/reseau/membres/{victim}"))
    assert "Propos injurieux." in profile and "Réadmettre" in profile
    assert "Exclusion" in profile  # the decision history
    # Excluded: out of the space, and cannot ask again.
    other = app.test_client()
    other.post(
        "/connexion",
        data={"email": "autre-membre@example.org", "password": "correct horse battery"},
    )
    assert other.get("/reseau/membres").status_code == 403
    assert other.post("/reseau/adherer", data={"motivation": "Pardon."}).status_code == 403

    response = client.post(
        f"/reseau/adhesions/{victim}/accepter", data={"seen": "excluded", "back": "profil"}
    )
    assert response.status_code == 303
    assert _member_row(victim).status == NetworkStatus.member
    assert other.get("/reseau/membres").status_code == 200
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.person_id == victim).order_by(AuditEntry.id)
    ).all()
    assert actions == ["network.exclude", "network.accept"]


def test_the_queue_shows_recent_decisions_with_exclude_and_readmit(client, auth, people):
    team = db.session.get(Person, people.people["network"].id)
    service.accept_member(team, people.ids["applicant"], "pending")
    service.exclude_member(team, people.ids["member"], "member", "Absent depuis deux ans.")
    auth.login(people.people["admin"])

    page = page_text(client.get("/reseau/adhesions"))

    assert "Aucune demande n'attend de réponse" in page
    assert "Absent depuis deux ans." in page
    assert "Réadmettre" in page and "Exclure" in page
    assert f"/reseau/adhesions/{people.ids['member']}/accepter" in page
    assert f"/reseau/adhesions/{people.ids['applicant']}/exclure" in page


def test_a_decision_on_someone_who_never_applied_is_not_found(client, auth, people):
    auth.login(people.people["network"])
    before = snapshot()
    response = client.post(
        f"/reseau/adhesions/{people.ids['outsider']}/accepter", data={"seen": "pending"}
    )
    assert response.status_code == 404
    assert snapshot() == before


def test_decisions_without_the_seen_status_are_refused(client, auth, people):
    auth.login(people.people["network"])
    before = snapshot()
    response = client.post(f"/reseau/adhesions/{people.ids['applicant']}/accepter", data={})
    assert response.status_code == 422
    assert snapshot() == before


def test_a_service_call_by_someone_outside_the_team_is_refused(app, people):
    member = db.session.get(Person, people.ids["member"])
    with pytest.raises(NotAllowed):
        service.accept_member(member, people.ids["applicant"], "pending")
    with pytest.raises(NotAllowed):
        service.add_team_entry(member, "Quelqu'un", "member", "")


# The directory -----------------------------------------------------------------------------


@pytest.fixture
def directory(app):
    """Members with mandates at several levels, in several départements, with themes."""
    world = build_network_world()
    water, canteens = world.theme, theme("Cantines bio")

    def add(email, departement, *mandates, themes=()):
        person = network_person(email)
        join(person, departement=departement)
        row_themes = list(themes)
        if row_themes:
            loaded = service.own_membership(person)
            loaded.themes = row_themes
            db.session.commit()
        for fields in mandates:
            mandate(person, **fields)
        return person

    today = service.paris_today()
    people = {
        "regionale": add(
            "regionale@example.org",
            "35",
            {
                "level": MandateLevel.regional,
                "council": "Conseil régional de Bretagne",
                "council_key": "conseil regional de bretagne",
                "departement": "29",
                "role": MandateRole.vice_president,
            },
            themes=[water],
        ),
        "maire": add(
            "maire@example.org",
            None,
            {"role": MandateRole.maire, "departement": "29", "council": "Mairie de Brest"},
            themes=[canteens],
        ),
        # A past municipal mandate only: not "municipal" now.
        "ancienne": add(
            "ancienne@example.org",
            "29",
            {"ends_on": today - timedelta(days=1), "departement": "29"},
            {
                "level": MandateLevel.depute,
                "council": "Assemblée nationale",
                "council_key": "assemblee nationale",
                "role": MandateRole.parlementaire,
                "departement": None,
                "side": MandateSide.opposition,
            },
            themes=[water, canteens],
        ),
    }
    return world, people, water, canteens


def _listed(client, query: str) -> set[str]:
    page = page_text(client.get(f"/reseau/membres{query}"))
    return {
        name
        for name in ("Regionale", "Maire", "Ancienne", "Membre-Reseau", "Autre-Membre", "Candidate")
        if f">{name}</a></h2>" in page
    }


def test_the_directory_lists_members_only_with_their_current_mandates(client, auth, directory):
    world, people, *_ = directory
    auth.login(world.people["member"])

    page = page_text(client.get("/reseau/membres"))

    assert _listed(client, "") == {
        "Regionale",
        "Maire",
        "Ancienne",
        "Membre-Reseau",
        "Autre-Membre",
    }
    assert "6 membres" not in page and "5 membres" in page
    assert "Conseil régional de Bretagne" in page
    assert "Assemblée nationale" in page
    # A past mandate is not shown in the directory (the profile has it).
    assert page.count("Conseil municipal de Pessac") == 1


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?niveau=municipal", {"Maire", "Membre-Reseau"}),
        ("?niveau=regional", {"Regionale"}),
        ("?niveau=depute", {"Ancienne"}),
        ("?niveau=departemental", {"Autre-Membre"}),
        ("?niveau=senateur", set()),
        # The member's own département, or a current mandate's.
        ("?departement=29", {"Regionale", "Maire", "Ancienne", "Autre-Membre"}),
        ("?departement=35", {"Regionale"}),
        ("?departement=33", {"Membre-Reseau"}),
        ("?theme={water}", {"Regionale", "Ancienne"}),
        ("?theme={canteens}", {"Maire", "Ancienne"}),
        # Combined: every filter at once.
        ("?niveau=municipal&departement=29", {"Maire"}),
        ("?niveau=municipal&departement=29&theme={water}", set()),
        ("?departement=29&theme={water}", {"Regionale", "Ancienne"}),
        ("?niveau=depute&theme={canteens}&departement=29", {"Ancienne"}),
        # Malformed filters are ignored, never an error.
        ("?niveau=roi&departement=zz&theme=abc&page=-1", None),
    ],
)
def test_the_directory_filters_by_level_departement_and_theme_combined(
    client, auth, directory, query, expected
):
    world, people, water, canteens = directory
    auth.login(world.people["member"])
    query = query.format(water=water.id, canteens=canteens.id)

    response = client.get(f"/reseau/membres{query}")

    assert response.status_code == 200
    everyone = {"Regionale", "Maire", "Ancienne", "Membre-Reseau", "Autre-Membre"}
    assert _listed(client, query) == (everyone if expected is None else expected)


def test_the_directory_answers_htmx_with_the_results_alone_and_varies_on_it(
    client, auth, hx, directory
):
    world, *_ = directory
    auth.login(world.people["member"])

    fragment = client.get(
        "/reseau/membres?niveau=regional", headers={**hx, "HX-Target": "member-results"}
    )
    page = client.get("/reseau/membres?niveau=regional")

    assert fragment.status_code == page.status_code == 200
    body = page_text(fragment)
    assert body.lstrip().startswith('<div id="member-results">')
    assert "<html" not in body and "Regionale" in body and "Maire" not in body
    assert 'role="status"' in body
    assert "HX-Request" in fragment.headers["Vary"] and "HX-Request" in page.headers["Vary"]
    # The plain page carries the same GET form htmx submits, with hx-push-url.
    full = page_text(page)
    assert 'method="get"' in full and 'hx-push-url="true"' in full
    assert '<option value="regional" selected>' in full


def test_the_directory_is_paged_and_keeps_its_filters_in_the_links(client, auth, app):
    world = build_network_world()
    for i in range(65):
        person = network_person(f"elu{i:02d}@example.org")
        join(person, departement="13")
    auth.login(world.people["member"])

    first = page_text(client.get("/reseau/membres?departement=13"))
    last = page_text(client.get("/reseau/membres?departement=13&page=3"))

    assert "65 membres" in first and "Page 1 sur 3" in first
    assert "departement=13" in first and "page=2" in first
    assert first.count('class="member-card"') == 30
    assert last.count('class="member-card"') == 5


def test_the_directory_issues_the_same_number_of_queries_for_3_or_30_members(client, auth, app):
    world = build_network_world()
    auth.login(world.people["member"])
    water = world.theme

    def add_members(n: int, start: int) -> None:
        for i in range(start, start + n):
            person = network_person(f"elu{i:03d}@example.org")
            row = join(person, departement="29")
            loaded = service.own_membership(person)
            loaded.themes = [water]
            db.session.commit()
            mandate(person, departement="29", council=f"Mairie {i}", council_key=f"mairie {i}")
            del row

    def count() -> int:
        client.get("/reseau/membres?departement=29")  # warm-up
        with counting_queries() as statements:
            assert client.get("/reseau/membres?departement=29").status_code == 200
        return len(statements)

    add_members(2, 0)
    few = count()
    add_members(28, 100)
    many = count()

    assert few == many


# Profiles -------------------------------------------------------------------------------------


def test_a_profile_shows_mandates_current_and_past_and_what_the_person_shared(client, auth, people):
    author = people.people["member"]
    row = _member_row(author.id)
    row.presentation = "Adjointe **aux cantines**."
    db.session.commit()
    mandate(
        author,
        council="Conseil municipal de Talence",
        council_key="conseil municipal de talence",
        starts_on=date(2008, 3, 16),
        ends_on=date(2014, 3, 29),
    )
    db.session.add_all(
        [
            Resource(
                author_id=author.id,
                kind=ResourceKind.voeu,
                title="Vœu pour une eau en régie",
                summary="Un vœu adopté.",
            ),
            Thread(author_id=author.id, title="Cantines : vos marchés publics ?"),
        ]
    )
    db.session.commit()
    resource_id = db.session.scalar(select(Resource.id))
    thread_id = db.session.scalar(select(Thread.id))
    auth.login(people.other_member)

    page = page_text(client.get(f"/reseau/membres/{author.id}"))

    assert "<strong>aux cantines</strong>" in page
    assert "Conseil municipal de Pessac" in page and "en cours" in page
    assert "Conseil municipal de Talence" in page and "terminé" in page
    assert "Vœu pour une eau en régie" in page
    assert f'href="/reseau/ressources/{resource_id}"' in page
    assert "Cantines : vos marchés publics ?" in page
    assert f'href="/reseau/discussions/{thread_id}"' in page
    # Members do not see the team's part.
    assert "Pour l'équipe d'animation" not in page and "Exclure" not in page


def test_the_team_sees_an_applicants_profile_with_status_and_history(client, auth, people):
    auth.login(people.people["network"])
    page = page_text(client.get(f"/reseau/membres/{people.ids['applicant']}"))
    assert "demande en attente" in page
    assert "Élue, je veux partager mes délibérations." in page  # the motivation
    assert "Accepter" in page and "Décliner" in page


def test_a_decision_refused_from_the_profile_comes_back_to_the_profile(client, auth, people):
    auth.login(people.people["network"])
    response = client.post(
        f"/reseau/adhesions/{people.ids['applicant']}/decliner",
        data={"seen": "pending", "reason": "", "back": "profil"},
    )
    assert response.status_code == 422
    body = page_text(response)
    assert "Indiquez la raison" in body and "Pour l'équipe d'animation" in body


# Own profile ---------------------------------------------------------------------------------


def test_a_member_edits_their_presentation_departement_and_themes(client, auth, people):
    member = people.people["member"]
    auth.login(member)
    assert "Mon profil dans le réseau" in page_text(client.get("/reseau/profil"))

    response = client.post(
        "/reseau/profil",
        data={
            "presentation": "Élue d'opposition à Pessac.",
            "departement": "33",
            "themes": "eau en REGIE publique, Travail détaché",
        },
    )

    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/reseau/membres/{member.id}")
    db.session.rollback()
    # An existing theme is found whatever the spelling; a new one is created.
    assert sorted(t.name for t in service.own_membership(member).themes) == [
        "Eau en régie publique",
        "Travail détaché",
    ]
    page = page_text(client.get(f"/reseau/membres/{member.id}"))
    assert "Élue d'opposition à Pessac." in page and "Travail détaché" in page
    # The theme filter of the directory finds the member.
    assert "Membre-Reseau" in _listed(client, f"?theme={people.ids['theme']}")


def test_an_invalid_profile_is_shown_again_and_nothing_written(client, auth, people):
    auth.login(people.people["member"])
    before = snapshot()
    response = client.post("/reseau/profil", data={"departement": "100", "presentation": "x"})
    assert response.status_code == 422
    assert "Code de département invalide" in page_text(response)
    assert snapshot() == before


def test_only_a_member_has_a_profile_to_edit(app, people):
    applicant = db.session.get(Person, people.ids["applicant"])
    with pytest.raises(NotAllowed):
        service.update_profile(applicant, "x", None, "")


# The public team ------------------------------------------------------------------------------


def test_the_team_maintains_the_public_team_list(client, auth, people):
    auth.login(people.people["network"])

    for name, role in (("Bruno", "member"), ("Aïcha", "co_lead"), ("Chloé", "member")):
        response = client.post(
            "/reseau/equipe", data={"display_name": name, "role": role, "description": ""}
        )
        assert response.status_code == 303
    assert _team_names() == ["Aïcha", "Bruno", "Chloé"]
    chloe = db.session.scalar(
        select(NetworkTeamEntry).where(NetworkTeamEntry.display_name == "Chloé")
    )

    client.post(f"/reseau/equipe/{chloe.id}/deplacer", data={"direction": "up"})
    assert _team_names() == ["Aïcha", "Chloé", "Bruno"]
    # Becoming a co-lead puts them at the end of the co-leads.
    client.post(
        f"/reseau/equipe/{chloe.id}/modifier",
        data={"display_name": "Chloé", "role": "co_lead", "description": "Élue à Lyon"},
    )
    assert _team_names() == ["Aïcha", "Chloé", "Bruno"]
    public = page_text(client.get("/reseau/"))
    assert "Élue à Lyon" in public
    assert public.index("Co-animation") < public.index("Chloé") < public.index("L'équipe</h3>")

    client.post(f"/reseau/equipe/{chloe.id}/suppression")
    assert _team_names() == ["Aïcha", "Bruno"]


def test_moving_the_first_entry_up_is_a_conflict_and_changes_nothing(app, people):
    team = db.session.get(Person, people.people["network"].id)
    first = service.add_team_entry(team, "Aïcha", "co_lead", "")
    before = snapshot()
    with pytest.raises(Conflict):
        service.move_team_entry(team, first, "up")
    assert snapshot() == before


@pytest.mark.parametrize(
    "data",
    [
        {"display_name": "", "role": "member"},
        {"display_name": "Aïcha", "role": "chef"},
        {"display_name": "Aïcha", "role": "member", "description": "x" * 301},
    ],
)
def test_an_invalid_team_entry_is_shown_again_with_422(client, auth, people, data):
    auth.login(people.people["network"])
    before = snapshot()
    response = client.post("/reseau/equipe", data=data)
    assert response.status_code == 422
    assert 'role="alert"' in page_text(response)
    assert snapshot() == before


def test_the_service_checks_team_entries_too(app, people):
    team = db.session.get(Person, people.people["network"].id)
    with pytest.raises(Invalid):
        service.add_team_entry(team, "x" * 121, "member", "")
    with pytest.raises(Invalid):
        service.add_team_entry(team, "Aïcha", "member", "x" * 301)


# Concurrency ---------------------------------------------------------------------------------


def test_two_team_members_deciding_on_one_application_at_once_make_one_decision(app, people):
    team_ids = [people.people["network"].id, people.people["admin"].id]
    applicant = people.ids["applicant"]

    def accept(who):
        return service.accept_member(who, applicant, "pending")

    def decline(who):
        return service.decline_application(who, applicant, "pending", "Hors mandat.")

    def decide(i: int):
        return as_person(app, team_ids[i % 2], accept if i % 2 == 0 else decline)

    results = run_together(6, decide)

    assert sum(r is None for r in results) == 1, results
    assert all(isinstance(r, Conflict) for r in results if r is not None), results
    row = _member_row(applicant)
    decisions = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.person_id == applicant,
            AuditEntry.action.in_(["network.accept", "network.decline"]),
        )
    ).all()
    assert len(decisions) == 1
    assert row.status.value == decisions[0].new_value


def test_asking_to_join_twice_at_once_gives_one_application(app):
    person = network_person("elu@example.org")
    person_id = person.id

    results = run_together(
        4,
        lambda i: as_person(
            app, person_id, lambda who: service.apply_to_network(who, "Partager.", "33", "", "")
        ),
    )

    assert sum(r is None for r in results) == 1, results
    assert all(isinstance(r, NotAllowed) for r in results if r is not None), results
    db.session.rollback()
    rows = db.session.scalars(select(NetworkMember).where(NetworkMember.person_id == person_id))
    assert len(rows.all()) == 1
    applies = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "network.apply")
    ).all()
    assert len(applies) == 1
