"""Committing with htmx: the counter, the bar and the engaged groups change without a reload,
on the manager's page and, by polling, on every other page that shows them."""

import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from models import Commitment, Person, db
from services.commitments import commit_group
from tests import factories
from tests.browser.conftest import (
    POLL_DEADLINE_MS,
    POLL_SECONDS,
    counter,
    expect,
    progressbar,
    scene,
    sign_in,
)

pytestmark = pytest.mark.browser

NO_GROUP = re.compile(r"^0 groupes? engagés?$")


def test_manager_commits_and_withdraws_without_reloading_the_page(browsing, live):
    s = scene(live, threshold=3)
    page = browsing.new_page()
    sign_in(page, s.manager_email)
    page.goto(f"/propositions/{s.slug}")
    control = page.locator("#commit-control")
    engaged = page.locator("#engaged-groups")
    expect(counter(page, s.proposal_id)).to_have_text(NO_GROUP)
    expect(progressbar(page, s.proposal_id)).to_have_attribute("aria-valuenow", "0")
    expect(engaged).not_to_contain_text(s.group_name)
    page.evaluate("window.__marker = 1")
    # A live region is announced when its content changes, not when it is replaced.
    page.evaluate("document.getElementById('live-announcer').__kept = true")

    page.get_by_label("Comment le groupe va l'adapter localement").fill(
        "Avec la maison de quartier, le premier samedi du mois."
    )
    page.get_by_role("button", name="Engager le groupe").click()

    expect(counter(page, s.proposal_id)).to_have_text("1 groupe engagé")
    expect(progressbar(page, s.proposal_id)).to_have_attribute("aria-valuenow", "1")
    expect(progressbar(page, s.proposal_id)).to_have_attribute(
        "aria-valuetext", "1 groupe engagé sur 3"
    )
    withdraw = control.get_by_role("button", name=f"Retirer l'engagement de « {s.group_name} »")
    expect(withdraw).to_be_visible()
    expect(control.get_by_role("button", name="Engager le groupe")).to_have_count(0)
    expect(engaged.get_by_role("link", name=s.group_name)).to_be_visible()
    expect(engaged.get_by_role("heading")).to_have_text("1 groupe engagé")
    expect(page.locator("#live-announcer")).to_contain_text("1 groupe engagé sur 3")
    assert page.evaluate("document.getElementById('live-announcer').__kept === true")
    expect(page.locator("#live-announcer")).to_have_attribute("aria-live", "polite")
    expect(page.locator(".budget-box")).to_contain_text("Encore 2 engagements")
    expect(page.locator("#messages")).to_contain_text("Le groupe est engagé")
    assert page.evaluate("window.__marker") == 1, "the page was reloaded"
    with live.data():
        note = db.session.scalar(
            select(Commitment.note).where(Commitment.proposal_id == s.proposal_id)
        )
    assert note == "Avec la maison de quartier, le premier samedi du mois."

    withdraw.click()

    expect(counter(page, s.proposal_id)).to_have_text(NO_GROUP)
    expect(progressbar(page, s.proposal_id)).to_have_attribute("aria-valuenow", "0")
    expect(control.get_by_role("button", name="Engager le groupe")).to_be_visible()
    expect(engaged).not_to_contain_text(s.group_name)
    expect(page.locator("#messages")).to_contain_text("L'engagement du groupe est retiré")
    assert page.evaluate("window.__marker") == 1, "the page was reloaded"
    assert live.active_commitments(s.proposal_id) == 0

    # The confirmations were shown in place: none is left over for the next page.
    page.reload()
    expect(counter(page, s.proposal_id)).to_have_text(NO_GROUP)
    expect(page.locator("#messages")).to_have_text("")


def _within_poll_deadline(started: float) -> float:
    """Milliseconds left, from the change, until a poll interval plus a margin is over."""
    return max(50.0, POLL_DEADLINE_MS - (time.monotonic() - started) * 1000)


def test_other_visitors_see_new_commitments_by_polling(browsing, live):
    s = scene(live, threshold=2)
    manager = browsing.new_page()
    sign_in(manager, s.manager_email)
    manager.goto(f"/propositions/{s.slug}")

    visitor = browsing.new_page()
    visitor.goto(f"/propositions/{s.slug}")
    visitor_list = visitor.context.new_page()
    polls = []
    visitor_list.on(
        "request", lambda r: "/propositions/etat" in r.url and polls.append((time.monotonic(), r))
    )
    visitor_list.goto("/")
    card = visitor_list.locator(f"#proposition-{s.proposal_id}")
    for page in (visitor, visitor_list):
        expect(page.locator("#live-poll")).to_have_count(1)
        expect(counter(page, s.proposal_id)).to_have_text(NO_GROUP)
    expect(card.locator(".badge")).to_have_text("Ouverte")

    manager.get_by_role("button", name="Engager le groupe").click()
    expect(counter(manager, s.proposal_id)).to_have_text("1 groupe engagé")
    changed = time.monotonic()

    expect(counter(visitor, s.proposal_id)).to_have_text(
        "1 groupe engagé", timeout=_within_poll_deadline(changed)
    )
    expect(card.locator(".count")).to_have_text(
        "1 groupe engagé", timeout=_within_poll_deadline(changed)
    )
    expect(progressbar(visitor_list, s.proposal_id)).to_have_attribute("aria-valuenow", "1")
    expect(
        visitor.locator("#engaged-groups").get_by_role("link", name=s.group_name)
    ).to_be_visible()
    expect(visitor.locator("#live-announcer")).to_contain_text("1 groupe engagé sur 2")

    # A commitment that no page of this browser made: another group, through the service.
    with live.data():
        person, group = factories.manager_of(name="Lille Fives-Hellemmes", departement="59")
        commit_group(db.session.get(Person, person.id), group.id, s.proposal_id, "")
    changed = time.monotonic()

    for page in (visitor, visitor_list, manager):
        expect(counter(page, s.proposal_id)).to_have_text(
            "2 groupes engagés", timeout=_within_poll_deadline(changed)
        )
        expect(page.locator(f".status-{s.proposal_id}")).to_have_text("Finançable")
        expect(progressbar(page, s.proposal_id)).to_have_attribute(
            "aria-valuetext", "2 groupes engagés sur 2"
        )
    expect(visitor.locator("#engaged-groups")).to_contain_text("Lille Fives-Hellemmes")
    expect(visitor.locator(".budget-box")).to_contain_text("l'action est finançable")
    expect(visitor.locator("#live-announcer")).to_contain_text(
        "2 groupes engagés sur 2 — finançable"
    )
    expect(card.locator(".badge")).to_have_text("Finançable")

    # One request per interval refreshes every card of the list page.
    times = [t for t, _ in polls]
    elapsed = times[-1] - times[0]
    assert len(times) <= elapsed / POLL_SECONDS + 2, f"{len(times)} polls in {elapsed:.1f}s"
    shown = {
        int(card_id.removeprefix("proposition-"))
        for card_id in visitor_list.locator(".proposal-card").evaluate_all(
            "cs => cs.map(c => c.id)"
        )
    }
    assert len(shown) == 3
    for _, request in polls:
        tokens = parse_qs(urlsplit(request.url).query)["s"][0].split("-")
        assert {int(token.split(".")[0]) for token in tokens} == shown


@pytest.mark.parametrize("failure", ["forged token", "session expired"])
def test_csrf_failure_on_an_htmx_commit_says_so_and_writes_nothing(browsing, live, failure):
    s = scene(live)
    page = browsing.new_page()
    sign_in(page, s.manager_email)
    page.goto(f"/propositions/{s.slug}")
    page.evaluate("window.__marker = 1")
    if failure == "forged token":
        page.evaluate(
            """() => {
              document.body.setAttribute('hx-headers', JSON.stringify({'X-CSRFToken': 'forged'}));
              for (const input of document.querySelectorAll('input[name=csrf_token]')) {
                input.value = 'forged';
              }
            }"""
        )
    else:
        page.context.clear_cookies()

    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Engager le groupe").click()

    assert posted.value.status == 400
    expect(page.locator("#messages")).to_contain_text(
        "Le formulaire a expiré ou ne vient pas de ce site"
    )
    expect(page.locator("#messages [role=alert]")).to_contain_text("rien n'a été enregistré")
    expect(page.locator("#messages").get_by_role("link", name="Recharger la page")).to_be_visible()
    expect(counter(page, s.proposal_id)).to_have_text(NO_GROUP)
    expect(page.get_by_role("button", name="Engager le groupe")).to_be_enabled()
    assert page.evaluate("window.__marker") == 1
    assert live.active_commitments(s.proposal_id) == 0
