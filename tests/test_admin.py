"""The admin area: people and staff roles, groups, members, certification with its log."""

import html
import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from models import ActionGroup, AuditEntry, MemberRole, Membership, Person, db
from tests import factories as f
from tests.dbstate import snapshot


@pytest.fixture
def admin(auth):
    person = f.person(email="admin@example.org", name="Alice Admin", admin=True)
    auth.login(person)
    return person


def reload(model, object_id):
    db.session.rollback()
    return db.session.get(model, object_id)


def count(model, *where) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def text_of(response) -> str:
    """The page's text with entities decoded, so that assertions read like the French UI."""
    return html.unescape(response.get_data(as_text=True))


# Access ----------------------------------------------------------------------------------

ADMIN_PAGES = ["/admin/", "/admin/personnes", "/admin/groupes"]


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_admin_pages_send_anonymous_visitors_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/connexion")


@pytest.mark.parametrize("role", [None, "animation", "finance", "manager"])
@pytest.mark.parametrize("url", ADMIN_PAGES + ["/admin/personnes/1", "/admin/groupes/1"])
def test_admin_pages_are_refused_to_everyone_but_admins(client, auth, url, role):
    if role == "manager":
        person, _group = f.manager_of()
    else:
        person = f.person(**({role: True} if role else {}))
    auth.login(person)
    response = client.get(url)
    assert response.status_code == 403
    assert "réservée aux administrateur·ices" in text_of(response)


def test_admin_link_in_the_menu_only_for_admins(client, auth):
    auth.login(f.person(animation=True))
    assert "/admin/personnes" not in text_of(client.get("/"))
    auth.logout()
    auth.login(f.person(admin=True))
    assert "/admin/personnes" in text_of(client.get("/"))


# People ----------------------------------------------------------------------------------


def test_people_list_shows_people_and_their_staff_roles(client, admin):
    f.person(email="camille@example.org", name="Camille Martin", finance=True, animation=True)
    page = text_of(client.get("/admin/personnes"))
    assert "Camille Martin" in page and "camille@example.org" in page
    assert "Équipe de suivi financier" in page and "Équipe d'animation" in page
    assert "2 personnes" in page


@pytest.mark.parametrize("q", ["camille", "MARTIN", "camille@exa", "cam mar"])
def test_people_search_by_name_or_email(client, admin, q):
    f.person(email="camille@example.org", name="Camille Martin")
    f.person(email="dominique@example.org", name="Dominique Leroy")
    page = text_of(client.get("/admin/personnes", query_string={"q": q}))
    assert "Camille Martin" in page
    assert "Dominique Leroy" not in page


def test_people_search_takes_wildcards_literally(client, admin):
    f.person(name="Camille Martin")
    page = text_of(client.get("/admin/personnes", query_string={"q": "%"}))
    assert "Camille Martin" not in page
    assert "Aucune personne ne correspond" in page


def test_people_list_is_paginated(app, client, admin):
    app.config["ADMIN_PER_PAGE"] = 2
    for n in range(5):
        f.person(name=f"Zoé {n}")
    first = text_of(client.get("/admin/personnes"))
    assert "Page 1 sur 3" in first and "Alice Admin" in first and "Zoé 0" in first
    assert "Zoé 1" not in first
    last = text_of(client.get("/admin/personnes?page=3"))
    assert "Zoé 3" in last and "Zoé 4" in last and "Zoé 0" not in last


@pytest.mark.parametrize("page", ["0", "-1", "abc", "99999999999", "2.5", "²"])
def test_malformed_page_numbers_are_ignored(client, admin, page):
    for url in ("/admin/personnes", "/admin/groupes"):
        assert client.get(url, query_string={"page": page}).status_code == 200


def test_admin_creates_a_person_with_staff_roles(client, admin):
    response = client.post(
        "/admin/personnes",
        data={
            "email": " Camille@Example.org ",
            "display_name": "Camille Martin",
            "password": "un mot de passe solide",
            "animation": "y",
            "finance": "y",
        },
    )
    assert response.status_code == 303
    person = db.session.scalar(select(Person).where(Person.email == "camille@example.org"))
    assert response.headers["Location"] == f"/admin/personnes/{person.id}"
    assert person.display_name == "Camille Martin"
    assert person.staff_roles == ["animation", "finance"]
    assert person.check_password("un mot de passe solide")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "person.create"))
    assert entry.actor_id == admin.id and entry.person_id == person.id
    assert "Le compte de Camille Martin est créé." in text_of(client.get(response.location))


def test_the_new_person_can_sign_in(client, admin, auth):
    client.post(
        "/admin/personnes",
        data={"email": "camille@example.org", "display_name": "Camille", "password": "x" * 12},
    )
    auth.logout()
    auth.login("camille@example.org", "x" * 12)


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"email": "pas-une-adresse"}, 422, "Adresse e-mail invalide."),
        ({"email": ""}, 422, "Indiquez une adresse e-mail."),
        ({"display_name": "   "}, 422, "Le nom affiché est obligatoire"),
        ({"display_name": ""}, 422, "Indiquez un nom."),
        ({"display_name": "n" * 121}, 422, "120 caractères au plus."),
        ({"password": "court"}, 422, "Entre 10 et 200 caractères."),
        ({"email": "deja@example.org"}, 409, "Un compte existe déjà avec cette adresse e-mail."),
    ],
)
def test_create_person_with_bad_input_writes_nothing(client, admin, data, status, message):
    f.person(email="deja@example.org")
    before = snapshot()
    form = {"email": "nouveau@example.org", "display_name": "Nouveau", "password": "x" * 12}
    form.update(data)
    response = client.post("/admin/personnes", data={**form, "admin": "y"})
    assert response.status_code == status
    page = text_of(response)
    assert message in page
    assert "Créer un compte" in page  # the form is shown again
    assert snapshot() == before


def test_person_page_shows_roles_and_group_memberships(client, admin):
    person = f.person(name="Camille Martin", finance=True)
    group = f.group("Groupe de Pessac")
    f.member(person, group, "referent")
    page = text_of(client.get(f"/admin/personnes/{person.id}"))
    assert "Camille Martin" in page
    assert "Groupe de Pessac" in page and "référent·e" in page
    assert f"/admin/groupes/{group.id}" in page
    assert re.search(r'id="finance"[^>]*checked|checked[^>]*id="finance"', page)


def test_unknown_person_is_404(client, admin):
    assert client.get("/admin/personnes/999").status_code == 404
    before = snapshot()
    response = client.post("/admin/personnes/999/roles", data={"finance": "y"})
    assert response.status_code == 404
    assert "Cette personne n'existe pas." in text_of(response)
    assert snapshot() == before


def test_admin_sets_staff_roles(client, admin):
    person = f.person(animation=True)
    response = client.post(
        f"/admin/personnes/{person.id}/roles", data={"finance": "y", "admin": "y"}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/personnes/{person.id}"
    assert reload(Person, person.id).staff_roles == ["finance", "admin"]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "person.roles"))
    assert (entry.old_value, entry.new_value, entry.actor_id) == (
        "animation",
        "finance,admin",
        admin.id,
    )


def test_admin_removes_every_staff_role(client, admin):
    person = f.person(animation=True, finance=True)
    assert client.post(f"/admin/personnes/{person.id}/roles", data={}).status_code == 303
    assert reload(Person, person.id).staff_roles == []


def test_admin_cannot_remove_their_own_admin_role(client, admin):
    before = snapshot()
    response = client.post(f"/admin/personnes/{admin.id}/roles", data={"animation": "y"})
    assert response.status_code == 422
    assert "Vous ne pouvez pas retirer votre propre rôle d'administration." in text_of(response)
    assert snapshot() == before
    assert reload(Person, admin.id).is_admin
    # Other roles of one's own stay editable.
    response = client.post(
        f"/admin/personnes/{admin.id}/roles", data={"admin": "y", "finance": "y"}
    )
    assert response.status_code == 303
    assert reload(Person, admin.id).staff_roles == ["finance", "admin"]


def test_an_admin_removed_from_admins_loses_access_at_once(client, auth, admin):
    other = f.person(admin=True)
    assert client.post(f"/admin/personnes/{other.id}/roles", data={}).status_code == 303
    auth.logout()
    auth.login(other)
    assert client.get("/admin/personnes").status_code == 403


# Groups ----------------------------------------------------------------------------------


@pytest.fixture
def some_groups():
    return {
        "bordeaux": f.group("Les Jardins de Bordeaux", certified=True, departement="33"),
        "pessac": f.group("Pessac Solidaire", certified=False, departement="33"),
        "paris": f.group("Paris Jardins Partagés", certified=True, departement="75"),
        "ajaccio": f.group("Ajaccio en commun", certified=False, departement="2A"),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, {"bordeaux", "pessac", "paris", "ajaccio"}),
        ({"q": "jardins"}, {"bordeaux", "paris"}),
        ({"q": "bordeaux"}, {"bordeaux", "pessac", "ajaccio"}),  # commune of the factory groups
        ({"certifie": "oui"}, {"bordeaux", "paris"}),
        ({"certifie": "non"}, {"pessac", "ajaccio"}),
        ({"departement": "33"}, {"bordeaux", "pessac"}),
        ({"departement": "2a"}, {"ajaccio"}),
        ({"departement": "33", "certifie": "non"}, {"pessac"}),
        ({"q": "jardins", "departement": "75"}, {"paris"}),
        # Malformed filters are ignored, never an error.
        ({"certifie": "peut-être"}, {"bordeaux", "pessac", "paris", "ajaccio"}),
        ({"departement": "zzz"}, {"bordeaux", "pessac", "paris", "ajaccio"}),
    ],
)
def test_groups_list_search_and_filters(client, admin, some_groups, query, expected):
    db.session.execute(
        ActionGroup.__table__.update()
        .where(ActionGroup.id == some_groups["paris"].id)
        .values(commune="Paris")
    )
    db.session.commit()
    response = client.get("/admin/groupes", query_string=query)
    assert response.status_code == 200
    page = text_of(response)
    shown = {key for key, group in some_groups.items() if f'/admin/groupes/{group.id}"' in page}
    assert shown == expected


def test_groups_list_shows_member_counts_and_certification(client, admin, some_groups):
    for _ in range(3):
        f.member(f.person(), some_groups["pessac"], "member")
    page = text_of(client.get("/admin/groupes", query_string={"q": "pessac"}))
    assert "<td>3</td>" in page and "Non certifié" in page


def test_groups_list_is_paginated(app, client, admin, some_groups):
    app.config["ADMIN_PER_PAGE"] = 3
    page = text_of(client.get("/admin/groupes"))
    assert "Page 1 sur 2" in page and "4 groupes" in page
    second = text_of(client.get("/admin/groupes?page=2"))
    assert "Pessac Solidaire" in second  # alphabetical: Ajaccio, Les Jardins, Paris, Pessac
    assert "Ajaccio en commun" not in second


def test_groups_pagination_keeps_the_filters(app, client, admin, some_groups):
    app.config["ADMIN_PER_PAGE"] = 1
    page = text_of(client.get("/admin/groupes?certifie=non&departement=33"))
    assert "1 groupe" in page
    page = text_of(client.get("/admin/groupes?certifie=non"))
    assert "Page 1 sur 2" in page
    next_link = re.search(r'<a href="([^"]+)" rel="next">', page).group(1)
    assert parse_qs(urlsplit(next_link).query) == {"certifie": ["non"], "page": ["2"]}


def test_admin_creates_a_group_uncertified(client, admin):
    response = client.post(
        "/admin/groupes",
        data={"name": " Les Amis de Tulle ", "commune": "Tulle", "departement": "19"},
    )
    assert response.status_code == 303
    group = db.session.scalar(select(ActionGroup).where(ActionGroup.name == "Les Amis de Tulle"))
    assert response.headers["Location"] == f"/admin/groupes/{group.id}"
    assert (group.commune, group.departement, group.certified_at) == ("Tulle", "19", None)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.group_id == group.id))
    assert (entry.action, entry.actor_id) == ("group.create", admin.id)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"departement": "999"}, "Code de département invalide : « 999 »."),
        ({"departement": "20"}, "Code de département invalide : « 20 »."),
        ({"departement": ""}, "Indiquez le code du département."),
        ({"name": ""}, "Indiquez le nom du groupe."),
        ({"name": "   "}, "Le nom du groupe est obligatoire"),
        ({"name": "n" * 161}, "160 caractères au plus."),
        ({"commune": ""}, "Indiquez la commune."),
    ],
)
def test_create_group_with_bad_input_writes_nothing(client, admin, data, message):
    before = snapshot()
    form = {"name": "Nouveau groupe", "commune": "Tulle", "departement": "19", **data}
    response = client.post("/admin/groupes", data=form)
    assert response.status_code == 422
    assert message in text_of(response)
    assert snapshot() == before


def test_group_page_shows_members_and_log(client, admin):
    group = f.group("Pessac Solidaire")
    f.member(f.person(name="Camille Martin"), group, "referent")
    f.member(f.person(name="Dominique Leroy"), group, "member")
    page = text_of(client.get(f"/admin/groupes/{group.id}"))
    assert "Camille Martin" in page and "Dominique Leroy" in page
    assert page.index("Camille Martin") < page.index("Dominique Leroy")  # referents first
    assert "Historique de la certification" in page


GROUP_POSTS = [
    ("modifier", {"name": "X", "commune": "Y", "departement": "33"}),
    ("membres", {"email": "admin@example.org", "role": "member"}),
    ("certification", {"decision": "certify", "reason": "Essai"}),
    ("membres/1/retrait", {}),
]


def test_unknown_group_is_404(client, admin):
    assert client.get("/admin/groupes/999").status_code == 404
    before = snapshot()
    for path, data in GROUP_POSTS:
        response = client.post(f"/admin/groupes/999/{path}", data=data)
        assert response.status_code == 404, path
        assert "Ce groupe n'existe pas." in text_of(response)
    assert snapshot() == before


def test_admin_updates_a_group(client, admin):
    group = f.group("Pessac Solidaire")
    response = client.post(
        f"/admin/groupes/{group.id}/modifier",
        data={"name": "Pessac en commun", "commune": "Pessac", "departement": "2b"},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/groupes/{group.id}"
    group = reload(ActionGroup, group.id)
    assert (group.name, group.commune, group.departement) == ("Pessac en commun", "Pessac", "2B")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "group.update"))
    assert entry.old_value == "Pessac Solidaire · Bordeaux (33)"


def test_update_group_with_bad_input_writes_nothing(client, admin):
    group = f.group("Pessac Solidaire")
    before = snapshot()
    response = client.post(
        f"/admin/groupes/{group.id}/modifier",
        data={"name": "Pessac en commun", "commune": "Pessac", "departement": "00"},
    )
    assert response.status_code == 422
    page = text_of(response)
    assert "Code de département invalide : « 00 »." in page
    assert 'value="Pessac en commun"' in page  # what was typed is kept
    assert snapshot() == before


def membership(group_id: int, person_id: int) -> Membership | None:
    db.session.rollback()
    return db.session.scalar(
        select(Membership).where(Membership.group_id == group_id, Membership.person_id == person_id)
    )


@pytest.mark.parametrize("role", ["member", "manager", "referent"])
def test_admin_adds_a_member_by_email(client, admin, role):
    group = f.group()
    person = f.person(email="camille@example.org")
    response = client.post(
        f"/admin/groupes/{group.id}/membres", data={"email": "Camille@example.org ", "role": role}
    )
    assert response.status_code == 303
    assert membership(group.id, person.id).role == MemberRole(role)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "group.member"))
    assert (entry.person_id, entry.old_value, entry.new_value) == (person.id, "", role)


def test_admin_changes_a_members_role(client, admin):
    group = f.group()
    person = f.person()
    f.member(person, group, "member")
    response = client.post(
        f"/admin/groupes/{group.id}/membres", data={"email": person.email, "role": "manager"}
    )
    assert response.status_code == 303
    assert membership(group.id, person.id).role == MemberRole.manager
    assert count(Membership) == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "inconnu@example.org", "role": "manager"}, "Aucun compte n'a cette adresse"),
        ({"email": "", "role": "manager"}, "Indiquez une adresse e-mail."),
        ({"email": "camille@example.org", "role": "chef"}, "Le formulaire contient des erreurs"),
    ],
)
def test_add_member_with_bad_input_writes_nothing(client, admin, data, message):
    group = f.group()
    f.person(email="camille@example.org")
    before = snapshot()
    response = client.post(f"/admin/groupes/{group.id}/membres", data=data)
    assert response.status_code == 422
    assert message in text_of(response)
    assert snapshot() == before


def test_admin_removes_a_member(client, admin):
    group = f.group()
    person = f.person(name="Camille Martin")
    f.member(person, group, "manager")
    response = client.post(f"/admin/groupes/{group.id}/membres/{person.id}/retrait")
    assert response.status_code == 303
    assert membership(group.id, person.id) is None
    assert "Camille Martin ne fait plus partie du groupe." in text_of(client.get(response.location))


def test_removing_someone_who_is_not_a_member_is_404(client, admin):
    group = f.group()
    person = f.person()
    before = snapshot()
    response = client.post(f"/admin/groupes/{group.id}/membres/{person.id}/retrait")
    assert response.status_code == 404
    assert "Cette personne n'est pas membre du groupe." in text_of(response)
    assert snapshot() == before
    assert client.post(f"/admin/groupes/{group.id}/membres/999/retrait").status_code == 404


# Certification ---------------------------------------------------------------------------


def certification_entries(group_id: int) -> list[AuditEntry]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.group_id == group_id,
                AuditEntry.action.in_(["group.certify", "group.decertify"]),
            )
            .order_by(AuditEntry.id)
        )
    )


def test_certify_then_decertify_with_reasons_logged(client, admin):
    group = f.group(certified=False)
    response = client.post(
        f"/admin/groupes/{group.id}/certification",
        data={"decision": "certify", "reason": "Charte signée, trois réunions tenues"},
    )
    assert response.status_code == 303
    assert reload(ActionGroup, group.id).certified_at is not None
    response = client.post(
        f"/admin/groupes/{group.id}/certification",
        data={"decision": "decertify", "reason": "Groupe inactif depuis un an"},
    )
    assert response.status_code == 303
    assert reload(ActionGroup, group.id).certified_at is None
    entries = certification_entries(group.id)
    assert [(e.action, e.reason, e.actor_id) for e in entries] == [
        ("group.certify", "Charte signée, trois réunions tenues", admin.id),
        ("group.decertify", "Groupe inactif depuis un an", admin.id),
    ]
    page = text_of(client.get(f"/admin/groupes/{group.id}"))
    log = page[page.index("Historique de la certification") :]
    assert log.index("Groupe inactif depuis un an") < log.index("Charte signée")
    assert "Alice Admin" in log and "Retrait de la certification" in log


@pytest.mark.parametrize("reason", ["", "   "])
def test_certification_needs_a_reason(client, admin, reason):
    group = f.group(certified=False)
    before = snapshot()
    response = client.post(
        f"/admin/groupes/{group.id}/certification", data={"decision": "certify", "reason": reason}
    )
    assert response.status_code == 422
    assert "Indiquez la raison de cette décision." in text_of(response)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("certified", "decision", "message"),
    [
        (True, "certify", "Ce groupe est déjà certifié."),
        (False, "decertify", "Ce groupe n'est pas certifié."),
    ],
)
def test_a_stale_certification_decision_is_a_conflict(client, admin, certified, decision, message):
    """Two admins, or a page left open: the second decision is refused, not toggled back."""
    group = f.group(certified=certified)
    before = snapshot()
    response = client.post(
        f"/admin/groupes/{group.id}/certification", data={"decision": decision, "reason": "Essai"}
    )
    assert response.status_code == 409
    assert message in text_of(response)
    assert snapshot() == before


def test_an_unknown_certification_decision_is_refused(client, admin):
    group = f.group(certified=False)
    before = snapshot()
    response = client.post(
        f"/admin/groupes/{group.id}/certification", data={"decision": "toggle", "reason": "Essai"}
    )
    assert response.status_code == 422
    assert snapshot() == before


def test_certification_log_is_shown_in_paris_time(client, admin):
    group = f.group(certified=False)
    db.session.add(
        AuditEntry(
            at=datetime(2026, 7, 14, 10, 5, tzinfo=UTC),
            actor_id=admin.id,
            action="group.certify",
            group_id=group.id,
            reason="Fête du groupe",
        )
    )
    db.session.add(
        AuditEntry(
            at=datetime(2026, 1, 10, 23, 30, tzinfo=UTC),
            actor_id=None,
            action="group.decertify",
            group_id=group.id,
            reason="Import initial",
        )
    )
    db.session.commit()
    page = text_of(client.get(f"/admin/groupes/{group.id}"))
    assert "14 juillet 2026 à 12:05" in page  # summer time: UTC+2
    assert "11 janvier 2026 à 00:30" in page  # winter time: UTC+1
    assert "ligne de commande" in page  # no actor: created from the command line


def test_a_group_certified_on_the_command_line_shows_the_reason(client, admin, runner):
    result = runner.invoke(
        args=[
            "groups",
            "create",
            "Tulle en commun",
            "--commune",
            "Tulle",
            "--departement",
            "19",
            "--certified",
        ]
    )
    assert result.exit_code == 0, result.output
    group = db.session.scalar(select(ActionGroup).where(ActionGroup.name == "Tulle en commun"))
    page = text_of(client.get(f"/admin/groupes/{group.id}"))
    assert "Certifié à la création." in page


# CSRF ------------------------------------------------------------------------------------


def _token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, "no CSRF token in the page"
    return match.group(1)


def test_admin_forms_carry_and_need_a_csrf_token(csrf_app):
    client = csrf_app.test_client()
    f.person(email="admin@example.org", admin=True)
    token = _token(text_of(client.get("/connexion")))
    response = client.post(
        "/connexion",
        data={"email": "admin@example.org", "password": f.PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 303
    data = {"email": "camille@example.org", "display_name": "Camille", "password": "x" * 12}
    before = snapshot()
    response = client.post("/admin/personnes", data=data)
    assert response.status_code == 400
    assert "Le formulaire a expiré" in text_of(response)
    assert snapshot() == before
    token = _token(text_of(client.get("/admin/personnes")))
    response = client.post("/admin/personnes", data={**data, "csrf_token": token})
    assert response.status_code == 303
    assert count(Person, Person.email == "camille@example.org") == 1
