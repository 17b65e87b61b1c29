"""Searching the library: French stemming on PostgreSQL, words, prefixes and no accents on
SQLite's FTS5; filters that combine; paging and ordering; input that is never search syntax;
the live search (htmx fragment) and the plain GET form."""

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import update

from models import (
    POSTGRESQL_SEARCH_INDEX,
    MandateLevel,
    Resource,
    ResourceKind,
    ResourceOutcome,
    db,
    utcnow,
)
from services import library
from tests.conftest import BACKEND, AuthActions
from tests.network_world import build_network_world, theme
from tests.test_queries import counting_queries

POSTGRESQL = BACKEND == "postgresql"


def text_of(response) -> str:
    page = html.unescape(response.get_data(as_text=True))
    return page.replace("\xa0", " ").replace("\u202f", " ")


@pytest.fixture
def world(app):
    return build_network_world()


@pytest.fixture
def member_client(app, world):
    client = app.test_client()
    AuthActions(client).login(world.people["member"])
    return client


def add(world, title: str, summary: str = "Un texte partagé.", **values) -> int:
    author = values.pop("author", world.other_member)
    fields = library.ResourceFields(
        kind=values.pop("kind", ResourceKind.autre),
        title=title,
        summary=summary,
        body=values.pop("body", ""),
        levels=tuple(values.pop("levels", ())),
        themes=values.pop("themes", ""),
        council=values.pop("council", ""),
        departement=values.pop("departement", ""),
        outcome=values.pop("outcome", None),
    )
    assert not values, values
    return library.deposit_resource(author, fields)


def found(q: str = "", **filters) -> list[str]:
    """The titles a search gives, in order."""
    result = library.search_resources(library.LibraryFilters(q=q, **filters))
    return [resource.title for resource in result.resources]


def titles_on(response) -> list[str]:
    return re.findall(r'<h2><a href="/reseau/ressources/\d+">([^<]*)</a></h2>', text_of(response))


# Words ---------------------------------------------------------------------------------------


@pytest.mark.skipif(not POSTGRESQL, reason="French stemming is PostgreSQL's")
def test_postgresql_finds_by_stemmed_french_words(world):
    add(world, "Repas du midi", "Passer les cantines bio en gestion publique.")
    add(world, "Eau potable", "Le retour de l'eau en régie, votée en 2024.")
    add(world, "Transports", "Deux régies de transport fusionnent.")
    add(world, "Sans rapport", "Une motion sur les horaires de la piscine.")

    assert found("cantine") == ["Repas du midi"]
    assert found("cantines biologiques") == []  # every word must match
    assert found("cantine bio") == ["Repas du midi"]
    assert sorted(found("régies")) == ["Eau potable", "Transports"]
    assert sorted(found("régie")) == ["Eau potable", "Transports"]
    assert found("votées") == ["Eau potable"]
    assert found("transport public") == []
    assert found("transport", kind=ResourceKind.autre) == ["Transports"]
    assert found("publiques") == ["Repas du midi"]


def test_a_plural_typed_in_the_singular_is_found_on_both_backends(world):
    """PostgreSQL stems both; SQLite matches each word as the start of a word."""
    add(world, "Repas du midi", "Passer les cantines bio en gestion publique.")
    add(world, "Sans rapport", "Une motion sur les horaires de la piscine.")
    assert found("cantine") == ["Repas du midi"]
    assert found("Cantine BIO") == ["Repas du midi"]


def test_accents_are_ignored_on_both_backends(world):
    add(world, "Eau potable", "Le retour de l'eau en régie publique.")
    add(world, "Vœu pour la piscine", "Des créneaux pour les écoles.")
    assert found("regie") == ["Eau potable"]
    assert found("REGIE publique") == ["Eau potable"]
    assert found("creneaux ecoles") == ["Vœu pour la piscine"]
    assert found("voeu") == ["Vœu pour la piscine"]


@pytest.mark.skipif(POSTGRESQL, reason="SQLite's FTS5 matching")
def test_sqlite_matches_words_as_prefixes_without_accents(world):
    add(world, "Délibération", "Tarification sociale de l'électricité municipale.")
    add(world, "Autre", "La piscine ferme tôt.")
    assert found("electri") == ["Délibération"]
    assert found("tarif munic") == ["Délibération"]
    assert found("électricité") == ["Délibération"]
    # The very common words are not required: « la » is not in the first.
    assert found("la tarification") == ["Délibération"]
    assert found("piscine electricite") == []


@pytest.mark.skipif(POSTGRESQL, reason="SQLite's FTS5 matching (PostgreSQL stems)")
def test_sqlite_finds_the_singular_from_the_plural(world):
    add(world, "Repas", "La cantine bio de l'école, en régie.")
    add(world, "Presse", "Un journal municipal ouvert à l'opposition.")
    add(world, "Eau", "Le prix de l'eau potable.")
    add(world, "Bus", "Un bus gratuit le samedi.")
    assert found("cantines") == ["Repas"]
    assert found("régies écoles") == ["Repas"]
    assert found("journaux municipaux") == ["Presse"]
    assert found("eaux") == ["Eau"]
    assert found("bus") == ["Bus"]  # too short to be cut
    assert found("cantinesx") == []


def test_the_themes_the_council_and_the_kind_are_searched(world):
    add(
        world,
        "Texte A",
        themes="Travail détaché",
        council="Conseil régional de Bretagne",
        kind=ResourceKind.amendement,
    )
    add(world, "Texte B", kind=ResourceKind.motion)
    assert found("détaché") == ["Texte A"]
    assert found("Bretagne") == ["Texte A"]
    assert found("amendement") == ["Texte A"]
    assert found("motion") == ["Texte B"]


def test_an_edit_is_searched_at_once_and_a_deleted_resource_no_more(world):
    resource_id = add(world, "Avant", "Des jardins partagés.")
    assert found("jardins") == ["Avant"]
    library.update_resource(
        world.other_member,
        resource_id,
        library.ResourceFields(kind=ResourceKind.voeu, title="Après", summary="Des composteurs."),
    )
    assert found("jardins") == []
    assert found("composteur") == ["Après"]
    library.delete_resource(world.other_member, resource_id)
    assert found("composteur") == []


# Ordering and paging -------------------------------------------------------------------------


def _age(resource_id: int, days: int) -> None:
    db.session.execute(
        update(Resource)
        .where(Resource.id == resource_id)
        .values(created_at=utcnow() - timedelta(days=days))
    )
    db.session.commit()


def test_newest_first_without_words_and_most_relevant_first_with_them(world):
    once = add(world, "Mention en passant", "Il y est question de compost une seule fois.")
    many = add(
        world,
        "Le compost partagé",
        "Compost de quartier : composteurs collectifs et compost des cantines.",
        body="Guide du compost, du compost et encore du compost.",
    )
    latest = add(world, "La plus récente", "Rien à voir.")
    _age(many, 30)
    _age(once, 10)
    _age(latest, 1)

    assert found() == ["La plus récente", "Mention en passant", "Le compost partagé"]
    assert found("compost") == ["Le compost partagé", "Mention en passant"]


def test_results_come_twenty_a_page_with_the_total(member_client, world):
    ids = [add(world, f"Ressource {i:02d}", "Une ressource sur les mobilités.") for i in range(25)]
    for age, resource_id in enumerate(reversed(ids)):
        _age(resource_id, age + 1)

    first = member_client.get("/reseau/ressources/?q=mobilites")
    assert "25 ressources pour « mobilites »" in text_of(first)
    assert titles_on(first) == [f"Ressource {i:02d}" for i in range(24, 4, -1)]
    assert "Page 1 sur 2" in text_of(first)
    assert 'href="/reseau/ressources/?page=2&amp;q=mobilites"' in first.get_data(as_text=True)

    second = member_client.get("/reseau/ressources/?q=mobilites&page=2")
    assert titles_on(second) == [f"Ressource {i:02d}" for i in range(4, -1, -1)]
    # Past the last page: the last page; a page that is not a number: the first.
    assert titles_on(member_client.get("/reseau/ressources/?page=99999999")) == titles_on(second)
    assert titles_on(member_client.get("/reseau/ressources/?page=-3")) == titles_on(first)


def test_the_list_issues_the_same_queries_for_three_or_twenty_results(member_client, world):
    for i in range(3):
        add(world, f"Ressource {i}", levels=[MandateLevel.municipal], themes="Eau, Transports")
    with counting_queries() as few:
        member_client.get("/reseau/ressources/?q=ressource")
    for i in range(3, 20):
        add(world, f"Ressource {i}", levels=[MandateLevel.regional], themes=f"Thème {i}")
    with counting_queries() as many:
        response = member_client.get("/reseau/ressources/?q=ressource")
    assert len(titles_on(response)) == 20
    assert len(many) == len(few)


# Filters -------------------------------------------------------------------------------------


def test_filters_combine(world):
    water = world.theme
    canteens = theme("Cantines bio")
    add(
        world,
        "Tout correspond",
        kind=ResourceKind.voeu,
        levels=[MandateLevel.municipal, MandateLevel.departemental],
        themes="Eau en régie publique, Cantines bio",
        departement="33",
        outcome=ResourceOutcome.adopte,
    )
    add(
        world,
        "Autre type",
        kind=ResourceKind.motion,
        levels=[MandateLevel.municipal],
        themes="Eau en régie publique",
        departement="33",
        outcome=ResourceOutcome.adopte,
    )
    add(
        world,
        "Autre niveau",
        kind=ResourceKind.voeu,
        levels=[MandateLevel.regional],
        themes="Eau en régie publique",
        departement="33",
        outcome=ResourceOutcome.adopte,
    )
    add(
        world,
        "Autre thème",
        kind=ResourceKind.voeu,
        levels=[MandateLevel.municipal],
        themes="Cantines bio",
        departement="33",
        outcome=ResourceOutcome.adopte,
    )
    add(
        world,
        "Autre département",
        kind=ResourceKind.voeu,
        levels=[MandateLevel.municipal],
        themes="Eau en régie publique",
        departement="29",
        outcome=ResourceOutcome.adopte,
    )
    add(
        world,
        "Autre issue",
        kind=ResourceKind.voeu,
        levels=[MandateLevel.municipal],
        themes="Eau en régie publique",
        departement="33",
        outcome=ResourceOutcome.rejete,
    )
    every = dict(
        kind=ResourceKind.voeu,
        level=MandateLevel.municipal,
        theme_id=water.id,
        departement="33",
        outcome=ResourceOutcome.adopte,
    )
    assert found(**every) == ["Tout correspond"]
    # Each filter alone keeps every resource it matches.
    assert sorted(found(kind=ResourceKind.voeu)) == sorted(
        ["Tout correspond", "Autre niveau", "Autre thème", "Autre département", "Autre issue"]
    )
    assert "Autre niveau" not in found(level=MandateLevel.municipal)
    assert sorted(found(level=MandateLevel.departemental)) == ["Tout correspond"]
    assert sorted(found(theme_id=canteens.id)) == ["Autre thème", "Tout correspond"]
    assert found(departement="29") == ["Autre département"]
    assert found(outcome=ResourceOutcome.rejete) == ["Autre issue"]
    # Words and filters together.
    assert found("voeu", **every) == ["Tout correspond"]
    assert found("motion", **every) == []


def test_filters_are_read_from_the_address(member_client, world):
    add(world, "Vœu adopté en Gironde", kind=ResourceKind.voeu, departement="33",
        outcome=ResourceOutcome.adopte, levels=[MandateLevel.municipal],
        themes="Eau en régie publique")  # fmt: skip
    add(world, "Motion rejetée", kind=ResourceKind.motion, outcome=ResourceOutcome.rejete)
    response = member_client.get(
        "/reseau/ressources/?type=voeu&niveau=municipal&departement=33&issue=adopte"
        f"&theme={world.theme.id}"
    )
    assert titles_on(response) == ["Vœu adopté en Gironde"]
    page = response.get_data(as_text=True)
    assert '<option value="voeu" selected>' in page
    assert '<option value="municipal" selected>' in page
    assert f'<option value="{world.theme.id}" selected>' in page
    assert '<option value="adopte" selected>' in page
    assert 'name="departement" value="33"' in page


@pytest.mark.parametrize(
    "query",
    [
        "type=tract",
        "niveau=cantonal",
        "issue=gagne",
        "theme=abc",
        "theme=99999999999999",
        "departement=ZZZ",
        "departement=" + "9" * 50,
        "page=abc",
        "page=" + "9" * 40,
    ],
)
def test_unknown_filter_values_are_ignored(member_client, world, query):
    add(world, "Une ressource")
    response = member_client.get(f"/reseau/ressources/?{query}")
    assert response.status_code == 200
    assert titles_on(response) == ["Une ressource"]


# Input that is not search syntax ---------------------------------------------------------------


# (what is typed, whether it finds the resource: every word typed must be in it)
SYNTAX = [
    ('"cantine" AND', False),
    ("cantine AND NOT", False),
    ("cantine OR", False),
    ("NEAR(cantine bio", False),
    ("NEAR(cantine, bio)", False),
    ("search_text:cantine", False),
    ("*", True),
    ("cantine*", True),
    ('"', True),
    ('""', True),
    ("\"cantine' bio", True),
    ("(cantine", True),
    ("cantine)", True),
    ("^cantine", True),
    ("-cantine", True),
    ("cantine & bio | !", True),
    ("cantine:*", True),
    ("'; DROP TABLE resource; --", False),
    ("\x00cantine\x01", True),
    ("🥕 cantine", True),
    ("c" * 500, False),
    ("cantine " * 100, True),
    ("%_\\", True),
]


@pytest.mark.parametrize(("q", "finds"), SYNTAX)
def test_search_syntax_typed_in_the_box_is_never_an_error(member_client, world, q, finds):
    add(world, "Repas du midi", "Passer les cantines bio en gestion publique.")
    add(world, "Sans rapport", "Une motion sur les horaires de la piscine.")
    response = member_client.get("/reseau/ressources/", query_string={"q": q})
    assert response.status_code == 200
    titles = titles_on(response)
    if finds and "cantine" in q:
        assert titles == ["Repas du midi"]
    elif finds:  # nothing to search in what was typed: every resource
        assert sorted(titles) == ["Repas du midi", "Sans rapport"]
    else:
        assert titles == []


def test_a_long_search_is_cut_to_two_hundred_characters(member_client, world):
    response = member_client.get("/reseau/ressources/", query_string={"q": "é" * 500})
    assert response.status_code == 200
    assert "é" * 200 in text_of(response) and "é" * 201 not in text_of(response)


# Live search and the plain form -----------------------------------------------------------------


def test_the_search_form_is_a_plain_get_form_with_live_search(member_client, world):
    add(world, "Une ressource")
    response = member_client.get("/reseau/ressources/?q=ressource")
    page = response.get_data(as_text=True)
    form = re.search(r"<form[^>]*role=\"search\"[^>]*>", page)[0]
    assert 'method="get"' in form and 'action="/reseau/ressources/"' in form
    assert 'hx-get="/reseau/ressources/"' in form and 'hx-target="#library-results"' in form
    assert 'hx-trigger="input changed delay:300ms, search, submit"' in form
    assert 'hx-push-url="true"' in form
    assert '<label for="q">' in page and 'name="q" value="ressource"' in page
    assert '<button type="submit">Rechercher</button>' in page
    assert 'id="library-results"' in page
    assert "HX-Request" in response.headers["Vary"]


def test_the_live_search_answers_with_the_results_fragment_only(member_client, world, hx):
    add(world, "Repas du midi", "Passer les cantines bio en gestion publique.")
    add(world, "Sans rapport")
    response = member_client.get(
        "/reseau/ressources/?q=cantine", headers={**hx, "HX-Target": "library-results"}
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.lstrip().startswith('<div id="library-results">')
    assert "<html" not in page and "<form" not in page
    assert titles_on(response) == ["Repas du midi"]
    assert 'role="status"' in page and "1 ressource pour « cantine »" in text_of(response)
    assert "HX-Request" in response.headers["Vary"]


def test_a_search_that_finds_nothing_says_so(member_client, world):
    add(world, "Repas du midi")
    response = member_client.get("/reseau/ressources/?q=introuvable")
    assert "0 ressource pour « introuvable »" in text_of(response)
    assert "Aucune ressource ne correspond à ces critères." in text_of(response)


@pytest.mark.skipif(not POSTGRESQL, reason="PostgreSQL's GIN index")
def test_postgresql_search_can_use_the_french_gin_index(world):
    """The search filters and ranks on the stored vector, which the GIN index covers: no
    vector is computed per row (that made a common word cost 264 ms over 20,000 resources)."""
    from sqlalchemy import event, text

    add(world, "Repas du midi", "Passer les cantines bio en gestion publique.")
    ran = []

    def capture(conn, cursor, statement, parameters, *args):
        if "plainto_tsquery" in statement and "count(" not in statement:
            ran.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        assert found("cantine") == ["Repas du midi"]
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    statement, parameters = ran[0]
    assert "to_tsvector" not in statement and statement.count("resource.search_vector") == 2
    connection = db.session.connection()
    connection.execute(text("SET LOCAL enable_seqscan = off"))
    plan = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters).scalars().all()
    db.session.rollback()
    assert POSTGRESQL_SEARCH_INDEX in "\n".join(plan), plan
