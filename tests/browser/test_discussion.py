"""A member replies in a thread and the thread updates: on their own page through htmx (no
reload, the form emptied), on another member's open page through the poll; and the same
reply form, with a quote, through plain page loads when JavaScript is off."""

import re
from dataclasses import dataclass

import pytest

from models import Post, db
from tests.browser.conftest import POLL_DEADLINE_MS, expect, shoot, sign_in
from tests.network_world import build_network_world
from tests.test_discussion import make_thread

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class ThreadScene:
    thread_id: int
    title: str
    first_post_id: int
    member_email: str
    other_email: str


def thread_scene(live) -> ThreadScene:
    with live.data():
        world = build_network_world()
        thread, posts = make_thread(
            world.other_member,
            title="Cantines bio : comment tenir le budget ?",
            theme=world.theme,
            bodies=("Nous passons à **50 % de bio** à la rentrée : qui l'a déjà fait ?",),
        )
        return ThreadScene(
            thread_id=thread.id,
            title=thread.title,
            first_post_id=posts[0].id,
            member_email=world.people["member"].email,
            other_email=world.other_member.email,
        )


def last_post(live) -> tuple[int, str]:
    with live.data():
        post = db.session.query(Post).order_by(Post.id.desc()).first()
        return post.id, post.body


def test_a_members_reply_appears_on_their_page_and_on_another_members(browsing, live):
    s = thread_scene(live)
    poster = browsing.new_page()
    sign_in(poster, s.member_email)
    poster.goto(f"/reseau/discussions/{s.thread_id}")
    reader = browsing.new_page()
    sign_in(reader, s.other_email)
    reader.goto(f"/reseau/discussions/{s.thread_id}")
    expect(reader.locator("#thread-posts h2")).to_have_text("1 message")
    # A mark that a page load would erase: the swap must keep it.
    poster.evaluate("window.__samePage = true")

    poster.get_by_label("Votre réponse").fill("Chez nous : *produits locaux* d'abord.")
    with poster.expect_response(lambda r: r.request.method == "POST") as posted:
        poster.get_by_role("button", name="Publier la réponse").click()

    assert posted.value.status == 200
    post_id, body = last_post(live)
    assert body == "Chez nous : *produits locaux* d'abord."
    new_message = poster.locator(f"#message-{post_id}")
    expect(new_message).to_contain_text("Chez nous : produits locaux d'abord.")
    expect(new_message.locator("em")).to_have_text("produits locaux")
    expect(poster.locator("#thread-posts h2")).to_have_text("2 messages")
    expect(poster.get_by_label("Votre réponse")).to_have_value("")
    expect(poster.locator("#repondre")).to_contain_text("Votre message est publié.")
    # Its author now follows the thread, and the page says so.
    expect(poster.get_by_role("button", name="Ne plus suivre cette discussion")).to_be_visible()
    assert poster.evaluate("window.__samePage === true")
    assert poster.url.endswith(f"/reseau/discussions/{s.thread_id}")

    # The other member's page, left open, gets it by its poll.
    expect(reader.locator(f"#message-{post_id}")).to_contain_text(
        "produits locaux", timeout=POLL_DEADLINE_MS
    )
    expect(reader.locator("#thread-posts h2")).to_have_text("2 messages")
    expect(reader.locator("#live-announcer")).to_have_text("1 nouveau message dans la discussion")

    # And a second reply, from the reader this time, reaches the first page.
    reader.get_by_label("Votre réponse").fill("Merci, je note !")
    reader.get_by_role("button", name="Publier la réponse").click()
    expect(poster.locator("#thread-posts")).to_contain_text(
        "Merci, je note !", timeout=POLL_DEADLINE_MS
    )
    shoot(poster, "discussion-thread")
    assert poster.watched.problems(poster) == []
    assert reader.watched.problems(reader) == []


def test_an_empty_reply_is_refused_in_place_with_htmx(browsing, live):
    s = thread_scene(live)
    page = browsing.new_page()
    sign_in(page, s.member_email)
    page.goto(f"/reseau/discussions/{s.thread_id}")
    # The browser's own check would stop an empty field: send blanks instead.
    page.get_by_label("Votre réponse").fill("   ")

    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Publier la réponse").click()

    assert posted.value.status == 422
    expect(page.locator("#repondre [role=alert]")).to_have_text(
        "Écrivez votre message avant de l'envoyer."
    )
    expect(page.get_by_label("Votre réponse")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#thread-posts h2")).to_have_text("1 message")
    # Chromium logs every 4xx answer; nothing else may show.
    problems = [p for p in page.watched.problems(page) if "status of 422" not in p]
    assert problems == []


def test_without_javascript_a_member_quotes_and_replies_through_page_loads(browsing, live):
    s = thread_scene(live)
    page = browsing.new_page(javascript=False)
    sign_in(page, s.member_email)
    page.goto(f"/reseau/discussions/{s.thread_id}")

    page.locator(f"#message-{s.first_post_id}").get_by_role(
        "link", name=re.compile("^Citer")
    ).click()
    expect(page).to_have_url(re.compile(rf"\?citer={s.first_post_id}#repondre$"))
    expect(page.locator("#repondre")).to_contain_text("Vous citez le message de Autre-Membre")
    page.get_by_label("Votre réponse").fill("Oui, en deux ans, avec un groupement d'achat.")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Publier la réponse").click()

    assert posted.value.status == 303
    post_id, _body = last_post(live)
    expect(page).to_have_url(re.compile(rf"/reseau/discussions/{s.thread_id}#message-{post_id}$"))
    expect(page.locator("#messages")).to_contain_text("Votre message est publié.")
    reply = page.locator(f"#message-{post_id}")
    expect(reply).to_contain_text("Oui, en deux ans, avec un groupement d'achat.")
    expect(reply.locator("blockquote")).to_contain_text("Autre-Membre a écrit :")
    expect(reply.locator("blockquote")).to_contain_text("50 % de bio")
    expect(page.locator("#thread-posts h2")).to_have_text("2 messages")
