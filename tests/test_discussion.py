"""The network's discussion list: the list of threads and its filters, opening a thread,
replies with quotes (plain form and htmx), the live poll, moderation, subscriptions and the
unsubscribe link; and who may do what (ROUTES/EXPECTED for every POST of `discussion`).

The e-mails themselves, against a real SMTP server, are in tests/test_mail.py."""

import html
import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from models import (
    AuditEntry,
    MandateLevel,
    NetworkMember,
    NetworkStatus,
    NetworkTheme,
    NotifyMode,
    Person,
    Post,
    PostNotification,
    Subscription,
    Thread,
    db,
    utcnow,
)
from services import discussion as service
from services.errors import Conflict, Invalid, NotAllowed, NotFound
from tests.dbstate import snapshot
from tests.network_world import (
    DENIED,
    DONE,
    LOGIN,
    NETWORK_ROLES,
    NetRoute,
    NetworkWorld,
    build_network_world,
    network_person,
    no_data,
    run_route,
)
from tests.network_world import theme as make_theme

BASE = "/reseau/discussions"


# Rows ----------------------------------------------------------------------------------------


def make_thread(
    author: Person,
    title: str = "La régie publique de l'eau, retours d'expérience",
    theme: NetworkTheme | None = None,
    level: MandateLevel | None = None,
    bodies: tuple[str, ...] = ("Qui a repris l'eau en régie ? Comment s'est passé le transfert ?",),
    at=None,
) -> tuple[Thread, list[Post]]:
    """A thread and its messages written directly (no subscription, no notification)."""
    at = at or utcnow()
    thread = Thread(
        title=title,
        author_id=author.id,
        theme_id=theme.id if theme is not None else None,
        level=level,
        created_at=at,
        last_post_at=at,
        post_count=0,
    )
    db.session.add(thread)
    db.session.flush()
    posts = []
    for body in bodies:
        post = Post(thread_id=thread.id, author_id=author.id, body=body, created_at=at)
        db.session.add(post)
        thread.post_count += 1
        posts.append(post)
    db.session.commit()
    return thread, posts


def subscribe(person: Person, thread: Thread | None = None, theme: NetworkTheme | None = None):
    row = Subscription(
        person_id=person.id,
        thread_id=thread.id if thread is not None else None,
        theme_id=theme.id if theme is not None else None,
    )
    db.session.add(row)
    db.session.commit()
    return row


def fresh(model, row_id):
    db.session.rollback()
    return db.session.get(model, row_id)


def person_of(world: NetworkWorld, role: str) -> Person:
    return db.session.get(Person, world.people[role].id)


def text_of(response) -> str:
    """The page's text with HTML entities decoded (« n'existe » rather than « n&#39;existe »)."""
    return html.unescape(response.get_data(as_text=True))


def subscribed(person_id: int, thread_id: int | None = None, theme_id: int | None = None) -> bool:
    db.session.rollback()
    statement = select(Subscription.id).where(Subscription.person_id == person_id)
    if thread_id is not None:
        statement = statement.where(Subscription.thread_id == thread_id)
    if theme_id is not None:
        statement = statement.where(Subscription.theme_id == theme_id)
    return db.session.scalar(statement) is not None


# Access to the pages -------------------------------------------------------------------------

PAGE_STATUS = {
    "anonymous": 302,
    "outsider": 403,
    "applicant": 403,
    "member": 200,
    "network": 200,
    "admin": 200,
}


@pytest.mark.parametrize("role", NETWORK_ROLES)
@pytest.mark.parametrize(
    "page", ["index", "thread", "new_thread", "subscriptions", "poll", "filtered"]
)
def test_discussion_pages_open_to_members_and_the_team_only(client, auth, role, page):
    world = build_network_world()
    thread, _posts = make_thread(world.other_member, theme=world.theme)
    paths = {
        "index": f"{BASE}/",
        "filtered": f"{BASE}/?theme={world.theme.id}&niveau=municipal",
        "thread": f"{BASE}/{thread.id}",
        "new_thread": f"{BASE}/nouvelle",
        "subscriptions": f"{BASE}/abonnements",
        "poll": f"{BASE}/{thread.id}/etat?v=0.0.0",
    }
    if role != "anonymous":
        auth.login(world.people[role])
    headers = {"HX-Request": "true"} if page == "poll" else {}

    response = client.get(paths[page], headers=headers)

    if role == "anonymous" and page == "poll":  # htmx is told to load the sign-in page
        assert response.status_code == 401
        assert response.headers["HX-Redirect"].startswith("/connexion")
        return
    assert response.status_code == PAGE_STATUS[role], text_of(response)[:500]
    if role == "anonymous":
        assert response.headers["Location"].startswith("/connexion")
    if role in ("outsider", "applicant"):
        assert "réservé" in text_of(response) or "attend" in text_of(response)


@pytest.mark.parametrize("role", NETWORK_ROLES)
def test_the_moderation_page_is_the_teams(client, auth, role):
    world = build_network_world()
    _thread, posts = make_thread(world.other_member)
    if role != "anonymous":
        auth.login(world.people[role])

    response = client.get(f"{BASE}/messages/{posts[0].id}/masquer")

    expected = {"anonymous": 302, "network": 200, "admin": 200}.get(role, 403)
    assert response.status_code == expected


def test_unknown_thread_or_message_is_404_in_french(client, auth):
    world = build_network_world()
    auth.login(world.people["network"])
    for path in (f"{BASE}/999", f"{BASE}/999/etat", f"{BASE}/messages/999/masquer"):
        response = client.get(path, headers={"HX-Request": "true"} if "etat" in path else {})
        assert response.status_code == 404, path
        assert "n'existe pas" in text_of(response)


# The list ------------------------------------------------------------------------------------


def test_threads_are_listed_newest_activity_first_with_their_visible_counts(client, auth):
    world = build_network_world()
    now = utcnow()
    old, _ = make_thread(
        world.other_member, title="Ancienne discussion", at=now - timedelta(days=3)
    )
    recent, _ = make_thread(
        world.other_member, title="Discussion récente", bodies=("Un", "Deux", "Trois")
    )
    middle, posts = make_thread(
        world.other_member, title="Discussion du milieu", at=now - timedelta(days=1)
    )
    auth.login(world.people["member"])
    # A reply moves a thread to the top.
    assert (
        client.post(f"{BASE}/{old.id}/repondre", data={"body": "Je relance !"}).status_code == 303
    )

    page = text_of(client.get(f"{BASE}/"))

    titles = re.findall(r'class="thread-title"><a href="[^"]+">([^<]+)</a>', page)
    assert titles == ["Ancienne discussion", "Discussion récente", "Discussion du milieu"]
    assert "3 discussions" in page
    assert "3 messages" in page and "2 messages" in page and "1 message<" in page


def test_threads_filter_by_theme_and_by_level(client, auth):
    world = build_network_world()
    canteens = make_theme("Cantines bio")
    make_thread(world.other_member, title="L'eau à Brest", theme=world.theme)
    make_thread(
        world.other_member,
        title="Cantines du département",
        theme=canteens,
        level=MandateLevel.departemental,
    )
    make_thread(world.other_member, title="Cantines municipales", theme=canteens)
    auth.login(world.people["member"])

    by_theme = text_of(client.get(f"{BASE}/?theme={canteens.id}"))
    by_both = text_of(client.get(f"{BASE}/?theme={canteens.id}&niveau=departemental"))
    by_level = text_of(client.get(f"{BASE}/?niveau=departemental"))
    nonsense = client.get(f"{BASE}/?theme=abc&niveau=roi&page=-3")

    assert "Cantines municipales" in by_theme and "Cantines du département" in by_theme
    assert "L'eau à Brest" not in by_theme
    assert "Cantines du département" in by_both and "Cantines municipales" not in by_both
    assert "Cantines du département" in by_level and "Cantines municipales" not in by_level
    assert "Départemental" in by_level
    assert nonsense.status_code == 200 and "3 discussions" in text_of(nonsense)


def test_the_filter_answers_htmx_with_the_results_fragment_only(client, auth, hx):
    world = build_network_world()
    make_thread(world.other_member, title="L'eau à Brest", theme=world.theme)
    auth.login(world.people["member"])

    response = client.get(
        f"{BASE}/?theme={world.theme.id}", headers={**hx, "HX-Target": "thread-results"}
    )

    body = text_of(response)
    assert '<div id="thread-results">' in body and "<html" not in body
    assert "Suivre ce thème" in body
    assert "HX-Request" in response.headers["Vary"]


def test_the_list_is_paginated(client, auth):
    world = build_network_world()
    now = utcnow()
    for n in range(23):
        make_thread(world.other_member, title=f"Sujet numéro {n:02d}", at=now - timedelta(hours=n))
    auth.login(world.people["member"])

    first = text_of(client.get(f"{BASE}/"))
    second = text_of(client.get(f"{BASE}/?page=2"))

    assert "Sujet numéro 00" in first and "Sujet numéro 19" in first
    assert "Sujet numéro 20" not in first
    assert "Sujet numéro 20" in second and "Sujet numéro 22" in second
    assert "Page 2 sur 2" in second


# Opening a thread ----------------------------------------------------------------------------


def test_a_member_opens_a_thread_on_a_new_theme_and_follows_it(client, auth):
    world = build_network_world()
    auth.login(world.people["member"])

    response = client.post(
        f"{BASE}/nouvelle",
        data={
            "title": "  Travail détaché : quelles clauses ?  ",
            "theme": "Travail détaché",
            "level": "regional",
            "body": "Avez-vous des **clauses** à partager ?",
        },
    )

    assert response.status_code == 303
    thread = db.session.scalar(select(Thread))
    assert response.headers["Location"] == f"{BASE}/{thread.id}"
    assert thread.title == "Travail détaché : quelles clauses ?"
    assert thread.level == MandateLevel.regional and thread.post_count == 1
    theme = db.session.get(NetworkTheme, thread.theme_id)
    assert theme.name == "Travail détaché"
    assert subscribed(world.people["member"].id, thread_id=thread.id)
    page = text_of(client.get(response.headers["Location"]))
    assert "<strong>clauses</strong>" in page and "Régional" in page
    assert "Ne plus suivre cette discussion" in page


def test_an_existing_theme_is_reused_whatever_its_spelling(client, auth):
    world = build_network_world()
    auth.login(world.people["network"])

    response = client.post(
        f"{BASE}/nouvelle",
        data={"title": "Tarification sociale", "theme": "eau EN regie publique", "body": "Oui."},
    )

    assert response.status_code == 303
    assert db.session.scalar(select(func.count()).select_from(NetworkTheme)) == 1
    assert db.session.scalar(select(Thread.theme_id)) == world.theme.id


@pytest.mark.parametrize(
    "data, message",
    [
        ({"title": "", "theme": "Eau", "body": "Texte"}, "Donnez un titre"),
        ({"title": "Ok", "theme": "Eau", "body": "Texte"}, "Entre 3 et 200 caractères"),
        ({"title": "Un titre", "theme": "", "body": "Texte"}, "Choisissez un thème"),
        ({"title": "Un titre", "theme": "Eau, Cantines", "body": "Texte"}, "un seul thème"),
        ({"title": "Un titre", "theme": "Eau", "body": "   "}, "Écrivez votre message"),
        ({"title": "Un titre", "theme": "Eau", "body": "x", "level": "roi"}, "Not a valid"),
    ],
)
def test_an_invalid_thread_is_refused_with_its_form_and_nothing_written(
    client, auth, data, message
):
    world = build_network_world()
    auth.login(world.people["member"])
    before = snapshot()

    response = client.post(f"{BASE}/nouvelle", data=data)

    assert response.status_code == 422
    body = text_of(response)
    assert message.lower() in body.lower() or "choix valide" in body.lower(), body[-3000:]
    assert snapshot() == before


# Replies and quotes --------------------------------------------------------------------------


def test_a_reply_without_javascript_comes_back_to_its_anchor(client, auth):
    world = build_network_world()
    thread, _posts = make_thread(world.other_member)
    auth.login(world.people["member"])

    response = client.post(f"{BASE}/{thread.id}/repondre", data={"body": "Chez nous, en 2021."})

    post = db.session.scalar(select(Post).order_by(Post.id.desc()))
    assert response.status_code == 303
    assert response.headers["Location"] == f"{BASE}/{thread.id}#message-{post.id}"
    assert post.author_id == world.people["member"].id
    thread = fresh(Thread, thread.id)
    assert thread.post_count == 2 and thread.last_post_at == post.created_at
    assert subscribed(world.people["member"].id, thread_id=thread.id)
    page = text_of(client.get(response.headers["Location"]))
    assert "Votre message est publié." in page and "Chez nous, en 2021." in page


def test_a_reply_with_htmx_returns_the_messages_and_an_empty_form(client, auth, hx):
    world = build_network_world()
    thread, _posts = make_thread(world.other_member)
    auth.login(world.people["member"])

    response = client.post(
        f"{BASE}/{thread.id}/repondre", data={"body": "Réponse *vive*"}, headers=hx
    )

    body = text_of(response)
    post_id = db.session.scalar(select(func.max(Post.id)))
    assert response.status_code == 200
    assert body.lstrip().startswith('<section id="thread-posts"')
    assert f'id="message-{post_id}"' in body and "<em>vive</em>" in body
    assert '<section id="repondre" class="reply" hx-swap-oob="true"' in body
    assert "Réponse *vive*</textarea>" not in body
    assert '<div id="abonnement" class="thread-follow" hx-swap-oob="true">' in body
    assert "Ne plus suivre cette discussion" in body
    state = service.thread_state(person_of(world, "member"), thread.id)
    assert f"v={state}" in body
    assert "HX-Request" in response.headers["Vary"]


def test_an_empty_reply_is_refused_in_place_with_htmx_and_without(client, auth, hx):
    world = build_network_world()
    thread, _posts = make_thread(world.other_member)
    auth.login(world.people["member"])
    before = snapshot()

    with_htmx = client.post(f"{BASE}/{thread.id}/repondre", data={"body": " "}, headers=hx)
    plain = client.post(f"{BASE}/{thread.id}/repondre", data={"body": ""})

    assert with_htmx.status_code == 422
    assert with_htmx.headers["HX-Retarget"] == "#repondre"
    assert with_htmx.headers["HX-Reswap"] == "outerHTML"
    assert text_of(with_htmx).lstrip().startswith('<section id="repondre"')
    assert "Écrivez votre message" in text_of(with_htmx)
    assert plain.status_code == 422 and "<h1>" in text_of(plain)
    assert "Écrivez votre message" in text_of(plain)
    assert snapshot() == before


def test_citer_prefills_the_form_and_the_reply_shows_the_quote(client, auth):
    world = build_network_world()
    thread, posts = make_thread(
        world.other_member, bodies=("Nous avons gagné la régie en **2019** après un long débat.",)
    )
    auth.login(world.people["member"])

    form_page = text_of(client.get(f"{BASE}/{thread.id}?citer={posts[0].id}"))
    assert f'name="quoted_post_id" type="hidden" value="{posts[0].id}"' in form_page
    assert "Vous citez le message de Autre-Membre" in form_page

    client.post(
        f"{BASE}/{thread.id}/repondre",
        data={"body": "Bravo !", "quoted_post_id": str(posts[0].id)},
    )
    reply = db.session.scalar(select(Post).order_by(Post.id.desc()))
    assert reply.quoted_post_id == posts[0].id
    page = text_of(client.get(f"{BASE}/{thread.id}"))
    quote = page.split(f'id="message-{reply.id}"')[1].split("</blockquote>")[0]
    assert f'href="#message-{posts[0].id}">Autre-Membre a écrit :' in quote
    assert "Nous avons gagné la régie en **2019** après un long débat." in quote


def test_citer_ignores_a_message_of_another_thread_or_nonsense(client, auth):
    world = build_network_world()
    thread, _posts = make_thread(world.other_member)
    _other, other_posts = make_thread(world.other_member, title="Autre sujet")
    auth.login(world.people["member"])

    for value in (str(other_posts[0].id), "abc", "99999999999"):
        page = text_of(client.get(f"{BASE}/{thread.id}?citer={value}"))
        assert 'name="quoted_post_id" type="hidden" value=""' in page
        assert "Vous citez" not in page


def test_a_reply_cannot_quote_a_hidden_message_or_one_of_another_thread(client, auth):
    world = build_network_world()
    thread, posts = make_thread(world.other_member, bodies=("Un", "Deux"))
    _other, other_posts = make_thread(world.other_member, title="Autre sujet")
    service.hide_post(person_of(world, "network"), posts[1].id, "Hors sujet")
    auth.login(world.people["member"])
    before = snapshot()

    for quoted in (posts[1].id, other_posts[0].id):
        response = client.post(
            f"{BASE}/{thread.id}/repondre", data={"body": "Je cite", "quoted_post_id": quoted}
        )
        assert response.status_code == 422
        assert "ne peut pas être cité" in text_of(response)
        # The text typed comes back, without the quote: sent again, it goes through.
        assert "Je cite</textarea>" in text_of(response)
        assert 'name="quoted_post_id" type="hidden" value=""' in text_of(response)
    assert snapshot() == before


# The live poll -------------------------------------------------------------------------------


def test_the_poll_is_204_until_something_changes(client, auth, hx):
    world = build_network_world()
    thread, _posts = make_thread(world.other_member)
    member = person_of(world, "member")
    auth.login(member)
    state = service.thread_state(member, thread.id)

    unchanged = client.get(f"{BASE}/{thread.id}/etat?v={state}", headers=hx)
    service.post_reply(person_of(world, "admin"), thread.id, "Du nouveau !")
    changed = client.get(f"{BASE}/{thread.id}/etat?v={state}", headers=hx)

    assert unchanged.status_code == 204 and unchanged.get_data() == b""
    assert changed.status_code == 200
    body = text_of(changed)
    assert "Du nouveau !" in body and body.lstrip().startswith('<section id="thread-posts"')
    assert '<div id="live-announcer" hx-swap-oob="innerHTML">1 nouveau message' in body
    new_state = service.thread_state(member, thread.id)
    assert new_state != state and f"v={new_state}" in body
    assert client.get(f"{BASE}/{thread.id}/etat?v={new_state}", headers=hx).status_code == 204


def test_the_poll_sees_a_message_hidden_or_shown_again(client, auth, hx):
    world = build_network_world()
    thread, posts = make_thread(world.other_member, bodies=("Un", "Deux"))
    member, team = person_of(world, "member"), person_of(world, "network")
    auth.login(member)
    states = [service.thread_state(member, thread.id)]

    service.hide_post(team, posts[1].id, "Insultant")
    states.append(service.thread_state(member, thread.id))
    hidden_view = text_of(client.get(f"{BASE}/{thread.id}/etat?v={states[0]}", headers=hx))
    service.unhide_post(team, posts[1].id)
    states.append(service.thread_state(member, thread.id))

    # Shown again, the thread is as it was: a page that missed both has nothing to change.
    assert states[0] != states[1] and states[2] == states[0]
    assert "Deux" not in hidden_view and "1 message<" in hidden_view
    shown = client.get(f"{BASE}/{thread.id}/etat?v={states[1]}", headers=hx)
    assert shown.status_code == 200 and "Deux" in text_of(shown)


def test_the_poll_without_htmx_leads_to_the_thread(client, auth):
    world = build_network_world()
    thread, _posts = make_thread(world.other_member)
    auth.login(world.people["member"])

    response = client.get(f"{BASE}/{thread.id}/etat?v=1.1.0")

    assert response.status_code == 302
    assert response.headers["Location"] == f"{BASE}/{thread.id}"


# Moderation ----------------------------------------------------------------------------------


def test_a_hidden_message_vanishes_for_members_and_stays_for_the_team(client, auth):
    world = build_network_world()
    thread, posts = make_thread(
        world.other_member, bodies=("Premier message utile.", "Propos injurieux ici.")
    )
    service.post_reply(
        person_of(world, "member"), thread.id, "Je ne suis pas d'accord.", posts[1].id
    )
    team = person_of(world, "network")
    auth.login(team)

    response = client.post(
        f"{BASE}/messages/{posts[1].id}/masquer", data={"reason": "Propos injurieux."}
    )

    assert response.status_code == 303
    assert response.headers["Location"] == f"{BASE}/{thread.id}#message-{posts[1].id}"
    post = fresh(Post, posts[1].id)
    assert post.hidden_at is not None and post.hidden_by_id == team.id
    assert post.hidden_reason == "Propos injurieux."
    assert fresh(Thread, thread.id).post_count == 2
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "post.hide"))
    assert entry.actor_id == team.id and entry.person_id == world.other_member.id
    assert entry.reason == "Propos injurieux."

    team_page = text_of(client.get(f"{BASE}/{thread.id}"))
    assert "Propos injurieux ici." in team_page
    assert "Masqué par Animation-Reseau" in team_page and "Raison : Propos injurieux." in team_page
    assert "Rendre visible" in team_page

    auth.logout()
    auth.login(world.people["member"])
    member_page = text_of(client.get(f"{BASE}/{thread.id}"))
    assert "Propos injurieux ici." not in member_page
    assert f'id="message-{posts[1].id}"' not in member_page
    assert "Citation d'un message masqué" in member_page
    assert "Propos injurieux." not in member_page and "Masqué par" not in member_page
    assert "2 messages" in member_page
    assert "2 messages" in text_of(client.get(f"{BASE}/"))


def test_hiding_needs_a_reason_and_writes_nothing_without_one(client, auth):
    world = build_network_world()
    _thread, posts = make_thread(world.other_member)
    auth.login(world.people["admin"])
    before = snapshot()

    response = client.post(f"{BASE}/messages/{posts[0].id}/masquer", data={"reason": "  "})

    assert response.status_code == 422
    assert "Indiquez pourquoi ce message est masqué" in text_of(response)
    assert snapshot() == before


def test_unhiding_restores_the_message_and_the_count_and_is_audited(client, auth):
    world = build_network_world()
    thread, posts = make_thread(world.other_member, bodies=("Un", "Deux"))
    team = person_of(world, "network")
    service.hide_post(team, posts[1].id, "Doublon")
    auth.login(world.people["admin"])

    response = client.post(f"{BASE}/messages/{posts[1].id}/afficher")

    assert response.status_code == 303
    post = fresh(Post, posts[1].id)
    assert post.hidden_at is None and post.hidden_by_id is None and post.hidden_reason == ""
    assert fresh(Thread, thread.id).post_count == 2
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "post.unhide"))
    assert entry.actor_id == world.people["admin"].id and entry.old_value == "Doublon"


def test_hiding_twice_or_unhiding_a_visible_message_is_a_conflict(app):
    world = build_network_world()
    _thread, posts = make_thread(world.other_member)
    team = person_of(world, "network")
    with pytest.raises(Conflict):
        service.unhide_post(team, posts[0].id)
    service.hide_post(team, posts[0].id, "Spam")
    with pytest.raises(Conflict):
        service.hide_post(team, posts[0].id, "Encore")
    with pytest.raises(NotAllowed):
        service.hide_post(person_of(world, "member"), posts[0].id, "Je n'aime pas")


def test_a_thread_whose_every_message_is_hidden_is_the_teams_alone(client, auth):
    world = build_network_world()
    thread, posts = make_thread(world.other_member, title="Sujet à masquer")
    service.hide_post(person_of(world, "network"), posts[0].id, "Diffamation")
    member, team = person_of(world, "member"), person_of(world, "network")

    with pytest.raises(NotFound):
        service.post_reply(member, thread.id, "Encore là ?")
    assert service.thread_for(team, thread.id).post_count == 0
    auth.login(world.people["member"])
    assert client.get(f"{BASE}/{thread.id}").status_code == 404
    assert "Sujet à masquer" not in text_of(client.get(f"{BASE}/"))
    auth.logout()
    auth.login(world.people["network"])
    assert client.get(f"{BASE}/{thread.id}").status_code == 200
    assert "Sujet à masquer" in text_of(client.get(f"{BASE}/"))


def test_hiding_drops_the_notifications_not_yet_sent(app):
    world = build_network_world()
    thread, _posts = make_thread(world.other_member)
    subscribe(world.other_member, thread=thread)
    posted = service.post_reply(person_of(world, "member"), thread.id, "Message à masquer")
    assert db.session.scalar(select(func.count()).select_from(PostNotification)) == 1

    service.hide_post(person_of(world, "network"), posted.post_id, "Hors charte")

    assert db.session.scalar(select(func.count()).select_from(PostNotification)) == 0


# Subscriptions -------------------------------------------------------------------------------


def test_a_member_follows_and_leaves_a_thread_and_a_theme(client, auth):
    world = build_network_world()
    thread, _posts = make_thread(world.other_member, theme=world.theme)
    member_id = world.people["member"].id
    auth.login(world.people["member"])

    client.post(f"{BASE}/{thread.id}/abonnement")
    assert subscribed(member_id, thread_id=thread.id)
    client.post(f"{BASE}/themes/{world.theme.id}/abonnement")
    assert subscribed(member_id, theme_id=world.theme.id)
    page = text_of(client.get(f"{BASE}/{thread.id}"))
    assert "Vous suivez aussi son thème « Eau en régie publique »" in page
    listing = text_of(client.get(f"{BASE}/abonnements"))
    assert thread.title in listing and "Eau en régie publique" in listing

    response = client.post(
        f"{BASE}/themes/{world.theme.id}/desabonnement", data={"next": f"{BASE}/abonnements"}
    )
    assert response.headers["Location"] == f"{BASE}/abonnements"
    assert not subscribed(member_id, theme_id=world.theme.id)
    response = client.post(f"{BASE}/{thread.id}/desabonnement")
    assert response.headers["Location"] == f"{BASE}/{thread.id}"
    assert not subscribed(member_id, thread_id=thread.id)


def test_following_twice_is_no_error_and_next_must_stay_on_the_site(client, auth):
    world = build_network_world()
    auth.login(world.people["member"])
    path = f"{BASE}/themes/{world.theme.id}/abonnement"

    for next_url in ("https://ailleurs.example/", "//ailleurs.example", "javascript:alert(1)"):
        response = client.post(path, data={"next": next_url})
        assert response.status_code == 303
        assert response.headers["Location"] == f"{BASE}/?theme={world.theme.id}"
    count = select(func.count()).where(Subscription.theme_id == world.theme.id)
    assert db.session.scalar(count) == 1


def test_following_an_unknown_theme_or_thread_is_404(client, auth):
    world = build_network_world()
    auth.login(world.people["member"])
    assert client.post(f"{BASE}/themes/999/abonnement").status_code == 404
    assert client.post(f"{BASE}/999/abonnement").status_code == 404


def test_a_member_chooses_the_daily_digest(client, auth):
    world = build_network_world()
    auth.login(world.people["member"])

    page = text_of(client.get(f"{BASE}/abonnements"))
    assert "Un résumé par jour" in page
    assert re.search(r'<input checked [^>]*value="immediate"', page)
    response = client.post(f"{BASE}/abonnements/mode", data={"mode": "daily"})
    invalid = client.post(f"{BASE}/abonnements/mode", data={"mode": "hebdo"})

    assert response.status_code == 303
    member = db.session.scalar(
        select(NetworkMember).where(NetworkMember.person_id == world.people["member"].id)
    )
    assert member.notify_mode == NotifyMode.daily
    assert invalid.status_code == 422


def test_the_team_without_membership_is_told_it_gets_every_message(client, auth):
    world = build_network_world()
    auth.login(world.people["network"])

    page = text_of(client.get(f"{BASE}/abonnements"))

    assert "vous recevez un e-mail à chaque nouveau message" in page
    assert 'name="mode"' not in page
    assert client.post(f"{BASE}/abonnements/mode", data={"mode": "daily"}).status_code == 403


# The unsubscribe link ------------------------------------------------------------------------


def link_for(person: Person, kind: str, target_id: int | None) -> str:
    token = service.unsubscribe_token(service.UnsubscribeTarget(person.id, kind, target_id))
    return f"{BASE}/desabonnement/{token}"


def test_the_unsubscribe_link_asks_then_unsubscribes_signed_out(client):
    world = build_network_world()
    thread, _posts = make_thread(world.other_member, theme=world.theme)
    member = world.people["member"]
    subscribe(member, thread=thread)
    link = link_for(member, "thread", thread.id)

    page = client.get(link)
    assert page.status_code == 200
    assert "Me désabonner" in text_of(page) and "la discussion « La régie" in text_of(page)
    assert subscribed(member.id, thread_id=thread.id)  # a GET changes nothing

    response = client.post(link)
    assert response.status_code == 303 and response.headers["Location"] == link
    assert not subscribed(member.id, thread_id=thread.id)
    after = text_of(client.get(link))
    assert "vous ne recevrez plus ces e-mails" in after
    assert "Me désabonner</button>" not in after
    again = client.post(link)
    assert again.status_code == 303
    assert "déjà désabonné·e" in text_of(client.get(link))


def test_the_unsubscribe_page_offers_the_theme_that_still_brings_the_thread(client):
    world = build_network_world()
    thread, _posts = make_thread(world.other_member, theme=world.theme)
    member = world.people["member"]
    subscribe(member, thread=thread)
    subscribe(member, theme=world.theme)

    page = text_of(client.get(link_for(member, "thread", thread.id)))
    theme_link = link_for(member, "theme", world.theme.id)

    assert "Vous suivez aussi le thème « Eau en régie publique »" in page
    assert f'action="{theme_link}"' in page
    client.post(theme_link)
    assert not subscribed(member.id, theme_id=world.theme.id)
    assert subscribed(member.id, thread_id=thread.id)


def test_the_unsubscribe_all_link_ends_every_subscription(client):
    world = build_network_world()
    thread, _posts = make_thread(world.other_member, theme=world.theme)
    member = world.people["member"]
    subscribe(member, thread=thread)
    subscribe(member, theme=world.theme)
    subscribe(world.other_member, thread=thread)

    client.post(link_for(member, "all", None))

    assert not subscribed(member.id)
    assert subscribed(world.other_member.id, thread_id=thread.id)


@pytest.mark.parametrize(
    "token",
    [
        "nimportequoi",
        "WzMsInRocmVhZCIsMV0.signature-fausse",
        # A forged signature.
        "WzMsInRocmVhZCIsMV0.Pe2SpUl7wEj7PtmBfk1pXkh8EjA",
    ],
)
def test_a_bad_unsubscribe_token_is_a_french_404(client, token):
    build_network_world()
    before = snapshot()

    for response in (
        client.get(f"{BASE}/desabonnement/{token}"),
        client.post(f"{BASE}/desabonnement/{token}"),
    ):
        assert response.status_code == 404
        assert "Ce lien de désabonnement n'est pas valide" in text_of(response)
    assert snapshot() == before


def test_a_token_of_another_purpose_or_shape_is_refused(app):
    from itsdangerous import URLSafeSerializer

    other_salt = URLSafeSerializer(app.config["SECRET_KEY"], salt="autre.usage")
    same_salt = URLSafeSerializer(app.config["SECRET_KEY"], salt=service.UNSUBSCRIBE_SALT)
    assert service.read_unsubscribe_token(other_salt.dumps([1, "thread", 1])) is None
    for data in ([1, "thread"], [1, "tout", 1], ["1", "thread", 1], [1, "all", 3], {"p": 1}):
        assert service.read_unsubscribe_token(same_salt.dumps(data)) is None
    assert service.read_unsubscribe_token(same_salt.dumps([1, "theme", 4])) == (
        service.UnsubscribeTarget(1, "theme", 4)
    )


def test_a_token_naming_someone_gone_is_404(client):
    world = build_network_world()
    gone = network_person("partie@example.org")
    link = link_for(gone, "theme", world.theme.id)
    db.session.delete(db.session.get(Person, gone.id))
    db.session.commit()

    assert client.get(link).status_code == 404
    assert client.post(link).status_code == 404


def test_the_one_click_post_needs_no_csrf_token_but_other_forms_do(csrf_app):
    client = csrf_app.test_client()
    world = build_network_world()
    thread, _posts = make_thread(world.other_member)
    member = world.people["member"]
    subscribe(member, thread=thread)

    response = client.post(
        link_for(member, "thread", thread.id), data={"List-Unsubscribe": "One-Click"}
    )
    refused = client.post(f"{BASE}/{thread.id}/abonnement")

    assert response.status_code == 303
    assert not subscribed(member.id, thread_id=thread.id)
    assert refused.status_code == 400


# Services directly ---------------------------------------------------------------------------


def test_an_excluded_member_can_no_longer_post(app):
    world = build_network_world()
    thread, _posts = make_thread(world.other_member)
    outsider = person_of(world, "outsider")
    with pytest.raises(NotAllowed):
        service.post_reply(outsider, thread.id, "Bonjour")
    with pytest.raises(Invalid):
        service.post_reply(person_of(world, "member"), thread.id, "x" * (service.BODY_MAX + 1))


# Who may do what -----------------------------------------------------------------------------


def _thread_setup(world: NetworkWorld) -> None:
    thread, posts = make_thread(world.other_member, theme=world.theme)
    world.ids["thread"] = thread.id
    world.ids["post"] = posts[0].id


def _hidden_setup(world: NetworkWorld) -> None:
    _thread_setup(world)
    post = db.session.get(Post, world.ids["post"])
    post.hidden_at = utcnow()
    post.hidden_by_id = world.people["network"].id
    post.hidden_reason = "Hors sujet"
    db.session.get(Thread, world.ids["thread"]).post_count = 0
    db.session.commit()


def _everyone_follows_setup(world: NetworkWorld) -> None:
    _thread_setup(world)
    thread = db.session.get(Thread, world.ids["thread"])
    for person in world.people.values():
        subscribe(person, thread=thread)
        subscribe(person, theme=world.theme)


def _link_setup(world: NetworkWorld) -> None:
    _thread_setup(world)
    thread = db.session.get(Thread, world.ids["thread"])
    member = world.people["member"]
    subscribe(member, thread=thread)
    token = service.unsubscribe_token(service.UnsubscribeTarget(member.id, "thread", thread.id))
    world.ids["token"] = token


def _me(world: NetworkWorld, role: str) -> int:
    return world.people[role].id


def _thread_opened(world, role, client):
    thread = db.session.scalar(select(Thread).where(Thread.title == "Un sujet de matrice"))
    assert thread is not None and thread.author_id == _me(world, role)


def _replied(world, role, client):
    post = db.session.scalar(select(Post).order_by(Post.id.desc()))
    assert post.thread_id == world.ids["thread"] and post.author_id == _me(world, role)
    assert db.session.get(Thread, world.ids["thread"]).post_count == 2


def _hidden(world, role, client):
    post = db.session.get(Post, world.ids["post"])
    assert post.hidden_at is not None and post.hidden_by_id == _me(world, role)


def _shown(world, role, client):
    assert db.session.get(Post, world.ids["post"]).hidden_at is None


def _follows_thread(world, role, client):
    assert subscribed(_me(world, role), thread_id=world.ids["thread"])


def _left_thread(world, role, client):
    assert not subscribed(_me(world, role), thread_id=world.ids["thread"])
    assert subscribed(world.people["member" if role != "member" else "admin"].id)


def _follows_theme(world, role, client):
    assert subscribed(_me(world, role), theme_id=world.ids["theme"])


def _left_theme(world, role, client):
    assert not subscribed(_me(world, role), theme_id=world.ids["theme"])


def _daily(world, role, client):
    member = db.session.scalar(
        select(NetworkMember).where(NetworkMember.person_id == _me(world, role))
    )
    assert member.notify_mode == NotifyMode.daily


def _member_left_by_link(world, role, client):
    assert not subscribed(world.people["member"].id, thread_id=world.ids["thread"])


def _reason(world, role):
    return {"reason": "Propos hors charte."}


ROUTES: dict[str, NetRoute] = {
    "discussion.new_thread": NetRoute(
        f"{BASE}/nouvelle",
        lambda w, r: {"title": "Un sujet de matrice", "theme": "Dotations", "body": "Texte"},
        _thread_opened,
    ),
    "discussion.reply": NetRoute(
        BASE + "/{thread}/repondre", lambda w, r: {"body": "Une réponse"}, _replied, _thread_setup
    ),
    "discussion.hide_post": NetRoute(
        BASE + "/messages/{post}/masquer", _reason, _hidden, _thread_setup
    ),
    "discussion.unhide_post": NetRoute(
        BASE + "/messages/{post}/afficher", no_data, _shown, _hidden_setup
    ),
    "discussion.subscribe_thread": NetRoute(
        BASE + "/{thread}/abonnement", no_data, _follows_thread, _thread_setup
    ),
    "discussion.unsubscribe_thread": NetRoute(
        BASE + "/{thread}/desabonnement", no_data, _left_thread, _everyone_follows_setup
    ),
    "discussion.subscribe_theme": NetRoute(
        BASE + "/themes/{theme}/abonnement", no_data, _follows_theme
    ),
    "discussion.unsubscribe_theme": NetRoute(
        BASE + "/themes/{theme}/desabonnement", no_data, _left_theme, _everyone_follows_setup
    ),
    "discussion.notify_mode": NetRoute(
        f"{BASE}/abonnements/mode", lambda w, r: {"mode": "daily"}, _daily
    ),
    "discussion.unsubscribe_link": NetRoute(
        BASE + "/desabonnement/{token}",
        lambda w, r: {"List-Unsubscribe": "One-Click"},
        _member_left_by_link,
        _link_setup,
    ),
}

# One outcome per NETWORK_ROLES: anonymous, outsider, applicant, member, network, admin.
AS_A_MEMBER = (LOGIN, DENIED, DENIED, DONE, DONE, DONE)
TEAM_ONLY = (LOGIN, DENIED, DENIED, DENIED, DONE, DONE)
EXPECTED: dict[str, tuple] = {
    "discussion.new_thread": AS_A_MEMBER,
    "discussion.reply": AS_A_MEMBER,
    "discussion.hide_post": TEAM_ONLY,
    "discussion.unhide_post": TEAM_ONLY,
    "discussion.subscribe_thread": AS_A_MEMBER,
    "discussion.unsubscribe_thread": AS_A_MEMBER,
    "discussion.subscribe_theme": AS_A_MEMBER,
    "discussion.unsubscribe_theme": AS_A_MEMBER,
    # The mode lives on the membership: the team without one is always notified at once.
    "discussion.notify_mode": (LOGIN, DENIED, DENIED, DONE, DENIED, DENIED),
    # The signed link is the credential (mail clients POST it without any session): whoever
    # holds it unsubscribes the person it names, signed in as anyone or not at all.
    "discussion.unsubscribe_link": (DONE, DONE, DONE, DONE, DONE, DONE),
}


@pytest.mark.parametrize("role_index, role", list(enumerate(NETWORK_ROLES)))
@pytest.mark.parametrize("endpoint", sorted(ROUTES))
def test_who_may_do_what_in_the_discussions(client, auth, endpoint, role_index, role):
    run_route(client, auth, ROUTES[endpoint], EXPECTED[endpoint][role_index], role)


def test_an_applicant_accepted_later_may_post(client, auth):
    world = build_network_world()
    thread, _posts = make_thread(world.other_member)
    member = db.session.scalar(
        select(NetworkMember).where(NetworkMember.person_id == world.people["applicant"].id)
    )
    member.status = NetworkStatus.member
    db.session.commit()
    auth.login(world.people["applicant"])

    response = client.post(f"{BASE}/{thread.id}/repondre", data={"body": "Me voici !"})

    assert response.status_code == 303


def test_a_second_membership_row_is_not_needed_for_the_team(app):
    world = build_network_world()
    thread, _posts = make_thread(world.other_member)
    team = person_of(world, "network")
    assert service.subscribe_thread(team, thread.id) is True
    assert service.subscribe_thread(team, thread.id) is False
    assert service.subscriptions_of(team).notify_mode is None


# Concurrency ---------------------------------------------------------------------------------


def _together(app, calls) -> list:
    """Run each (person_id, action) in its own thread, app context and session, all released
    at once; their results or exceptions."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def worker(index: int, person_id: int, action) -> None:
        with app.app_context():
            person = db.session.get(Person, person_id)
            barrier.wait()
            try:
                results[index] = action(person)
            except Exception as error:  # asserted on by the test
                results[index] = error
            finally:
                db.session.remove()

    threads = [
        threading.Thread(target=worker, args=(i, person_id, action))
        for i, (person_id, action) in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    return results


@pytest.mark.concurrency
def test_the_count_stays_right_under_replies_and_a_hide_at_once(app):
    world = build_network_world()
    thread, posts = make_thread(world.other_member, bodies=("Un", "Deux"))
    member_id, other_id = world.people["member"].id, world.other_member.id
    team_id = world.people["network"].id
    calls = [
        (member_id, lambda p: service.post_reply(p, thread.id, "Réponse A")),
        (other_id, lambda p: service.post_reply(p, thread.id, "Réponse B")),
        (member_id, lambda p: service.post_reply(p, thread.id, "Réponse C")),
        (team_id, lambda p: service.hide_post(p, posts[1].id, "Doublon")),
        (member_id, lambda p: service.subscribe_theme(p, world.theme.id)),
        (member_id, lambda p: service.subscribe_theme(p, world.theme.id)),
    ]

    results = _together(app, calls)

    assert not [r for r in results if isinstance(r, Exception)], results
    db.session.rollback()
    visible = db.session.scalar(
        select(func.count()).where(Post.thread_id == thread.id, Post.hidden_at.is_(None))
    )
    assert visible == 4 and db.session.get(Thread, thread.id).post_count == 4
    theme_rows = select(func.count()).where(Subscription.theme_id == world.theme.id)
    assert db.session.scalar(theme_rows) == 1
    assert sorted(r for r in results[4:]) == [False, True]
