"""What every visitor gets on the list and proposal pages: no script errors or CSP violations,
labelled controls and an accessible progress bar, and a layout that fits a phone and a laptop."""

import re

import pytest

from models import Person, Proposal, db
from services.commitments import commit_group
from tests import factories
from tests.browser.conftest import (
    POLL_DEADLINE_MS,
    counter,
    expect,
    progressbar,
    scene,
    shoot,
    sign_in,
)

pytestmark = pytest.mark.browser

# Roles a person operates; each must have an accessible name.
CONTROL_ROLES = {
    "button",
    "checkbox",
    "combobox",
    "link",
    "listbox",
    "radio",
    "searchbox",
    "slider",
    "spinbutton",
    "switch",
    "textbox",
}


def commit_elsewhere(live, proposal_id: int, name: str) -> None:
    """A commitment made by someone else, through the service."""
    with live.data():
        person, group = factories.manager_of(name=name)
        commit_group(db.session.get(Person, person.id), group.id, proposal_id, "")


def test_no_console_errors_and_no_csp_violations_on_list_and_proposal_pages(browsing, live):
    s = scene(live, threshold=2)
    visitor = browsing.new_page()
    visitor.goto("/")
    manager = browsing.new_page()
    sign_in(manager, s.manager_email)
    manager.goto(f"/propositions/{s.slug}")
    expect(visitor.locator("#live-poll")).to_have_count(1)

    # Every live path: an htmx commit and withdrawal, polls that change nothing (204), and
    # polls that swap counters, badges and engaged groups out of band on both pages (an
    # out-of-band swap that misses its target is a console error in htmx).
    manager.get_by_role("button", name="Engager le groupe").click()
    expect(counter(manager, s.proposal_id)).to_have_text("1 groupe engagé")
    expect(counter(visitor, s.proposal_id)).to_have_text(
        "1 groupe engagé", timeout=POLL_DEADLINE_MS
    )
    commit_elsewhere(live, s.proposal_id, "Nantes Dervallières")
    for page in (visitor, manager):
        expect(page.locator(f".status-{s.proposal_id}")).to_have_text(
            "Finançable", timeout=POLL_DEADLINE_MS
        )
    manager.get_by_role("button", name=re.compile("Retirer l'engagement")).click()
    expect(counter(manager, s.proposal_id)).to_have_text("1 groupe engagé")

    # A visitor's proposal page and a sign-in page, loaded fresh.
    visitor.goto(f"/propositions/{s.slug}")
    expect(visitor.locator("h1")).to_have_text(s.title)
    visitor.goto("/connexion")
    expect(visitor.locator("h1")).to_have_text("Connexion")

    assert visitor.watched.problems(visitor) == []
    assert manager.watched.problems(manager) == []


def unnamed_controls(page) -> tuple[list[str], int]:
    """Controls without an accessible name, as Chromium computes it; and how many there are."""
    cdp = page.context.new_cdp_session(page)
    try:
        nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
    finally:
        cdp.detach()
    controls = [
        n for n in nodes if not n.get("ignored") and n.get("role", {}).get("value") in CONTROL_ROLES
    ]
    unnamed = [
        f"{n['role']['value']} (DOM node {n.get('backendDOMNodeId')})"
        for n in controls
        if not str(n.get("name", {}).get("value", "")).strip()
    ]
    return unnamed, len(controls)


def assert_page_basics(page) -> None:
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("h1")).to_have_count(1)
    unnamed, total = unnamed_controls(page)
    assert total >= 5, "the accessibility tree was not read"
    assert unnamed == [], f"controls without an accessible name: {unnamed}"


def assert_progressbars(page, expected: int) -> None:
    bars = page.get_by_role("progressbar", name="Engagements vers le seuil")
    expect(bars).to_have_count(expected)
    for i in range(expected):
        bar = bars.nth(i)
        now, top = bar.get_attribute("aria-valuenow"), bar.get_attribute("aria-valuemax")
        assert now is not None and now.isdigit() and top is not None and top.isdigit()
        assert bar.get_attribute("aria-valuemin") == "0"
        text = bar.get_attribute("aria-valuetext")
        assert re.fullmatch(rf"{now} groupes? engagés? sur {top}", text or ""), text


def test_pages_are_accessible_to_keyboard_and_screen_reader_users(browsing, live):
    s = scene(live, threshold=3, animation=True)
    with live.data():
        second = factories.group(name="Montreuil Croix-de-Chavaux", departement="93")
        factories.member(db.session.get(Person, s.manager_id), second, "referent")

    page = browsing.new_page()
    page.goto("/")
    assert_page_basics(page)
    assert_progressbars(page, 3)
    for label in ("Rechercher une action", "Catégorie", "État", "Trier par"):
        expect(page.get_by_label(label)).to_have_count(1)
    expect(page.locator("#live-announcer")).to_have_attribute("aria-live", "polite")

    page.goto("/connexion")
    assert_page_basics(page)
    for label in ("Adresse e-mail", "Mot de passe", "Rester connecté·e sur cet appareil"):
        expect(page.get_by_label(label, exact=True)).to_have_count(1)

    sign_in(page, s.manager_email)
    page.goto(f"/propositions/{s.slug}")
    page.locator("details.staff-box summary").click()  # the animation team's threshold form
    assert_page_basics(page)
    assert_progressbars(page, 1)
    expect(page.get_by_label("Groupe à engager")).to_have_count(1)
    expect(page.get_by_label("Comment le groupe va l'adapter localement")).to_have_count(1)
    expect(page.get_by_label("Seuil propre à cette action")).to_be_visible()
    expect(page.get_by_label("Raison du changement")).to_be_visible()
    expect(page.get_by_role("region", name="Engager mon groupe")).to_be_visible()

    # After a live update the page is still whole: one h1, named controls, a valid bar.
    page.get_by_label("Groupe à engager").select_option(label="Montreuil Croix-de-Chavaux")
    page.get_by_role("button", name="Engager le groupe").click()
    expect(counter(page, s.proposal_id)).to_have_text("1 groupe engagé")
    assert_page_basics(page)
    assert_progressbars(page, 1)


SIZES = {"phone": {"width": 390, "height": 844}, "laptop": {"width": 1366, "height": 900}}


def test_pages_fit_phone_and_laptop_without_sideways_scrolling(browsing, live):
    s = scene(live, threshold=5, group_name="Collectif solidaire de Montreuil et Bagnolet")
    with live.data():
        neighbours = [factories.group(name=n) for n in ("Pantin Quatre-Chemins", "Bobigny")]
        factories.commitments(db.session.get(Proposal, s.proposal_id), neighbours)
    visitor = browsing.new_page()
    manager = browsing.new_page()
    sign_in(manager, s.manager_email)
    pages = [
        (visitor, "/", "list"),
        (manager, "/", "list-signed-in"),
        (visitor, f"/propositions/{s.slug}", "proposal"),
        (manager, f"/propositions/{s.slug}", "proposal-signed-in"),
    ]
    for page, path, name in pages:
        page.goto(path)
        expect(page.locator("h1")).to_be_visible()
        for size, viewport in SIZES.items():
            page.set_viewport_size(viewport)
            shoot(page, f"{name}-{size}")
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{name} scrolls sideways by {overflow}px on a {size}"
            width = progressbar(page, s.proposal_id).bounding_box()["width"]
            assert width >= 200, f"{name}: the progress bar is {width}px wide on a {size}"
