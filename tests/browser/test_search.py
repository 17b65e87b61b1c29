"""The search box of the list page: live with htmx, and a plain GET form without JavaScript."""

import re

import pytest

from tests.browser.conftest import expect, scene

pytestmark = pytest.mark.browser

ALL_TITLES = [
    "Atelier de réparation de vélos",
    "Cantine populaire à prix libre",
    "Jardin partagé au pied des immeubles",
]


def card_titles(page):
    return page.locator(".proposal-card h2")


def test_live_search_filters_the_cards_and_updates_the_address(browsing, live):
    scene(live)
    page = browsing.new_page()
    page.goto("/")
    expect(card_titles(page)).to_have_text(ALL_TITLES)
    page.evaluate("window.__marker = 1")

    page.get_by_label("Rechercher une action").press_sequentially("reparation velo", delay=20)

    expect(card_titles(page)).to_have_text(["Atelier de réparation de vélos"])
    expect(page.locator(".results-count")).to_contain_text("1 proposition pour « reparation velo »")
    expect(page).to_have_url(re.compile(r"[?&]q=reparation(\+|%20)velo(&|$)"))
    assert page.evaluate("window.__marker") == 1, "the page was reloaded"
    # The filtered page still polls, for its own cards only.
    expect(page.locator("#live-poll")).to_have_count(1)
    expect(page.locator("#live-poll")).to_have_attribute(
        "hx-get", re.compile(r"s=\d+\.\d+\.\d+\.\d\.\d+$")
    )

    page.get_by_label("Rechercher une action").fill("")
    expect(card_titles(page)).to_have_count(3)
    page.get_by_label("Catégorie").select_option(label="Alimentation")
    expect(card_titles(page)).to_have_text(["Cantine populaire à prix libre"])
    expect(page).to_have_url(re.compile(r"[?&]categorie=alimentation(&|$)"))
    assert page.evaluate("window.__marker") == 1, "the page was reloaded"

    page.go_back()
    expect(page).not_to_have_url(re.compile(r"categorie=alimentation"))
    expect(card_titles(page)).to_have_text(ALL_TITLES)


def test_search_without_javascript_submits_the_form(browsing, live):
    scene(live)
    page = browsing.new_page(javascript=False)
    page.goto("/")
    expect(card_titles(page)).to_have_text(ALL_TITLES)

    page.get_by_label("Rechercher une action").fill("jardin")
    page.get_by_label("Rechercher une action").press("Enter")

    expect(page).to_have_url(re.compile(r"[?&]q=jardin(&|$)"))
    expect(card_titles(page)).to_have_text(["Jardin partagé au pied des immeubles"])
    expect(page.get_by_label("Rechercher une action")).to_have_value("jardin")

    page.get_by_label("Rechercher une action").fill("")
    page.get_by_label("État").select_option(label="Ouvertes")
    page.get_by_role("button", name="Filtrer").click()
    expect(page).to_have_url(re.compile(r"[?&]statut=ouverte(&|$)"))
    expect(card_titles(page)).to_have_text(ALL_TITLES)
    page.get_by_label("Rechercher une action").fill("aucune action de ce nom")
    page.get_by_role("button", name="Filtrer").click()
    expect(page.locator("#proposal-results")).to_contain_text(
        "Aucune proposition ne correspond à ces critères."
    )
    expect(card_titles(page)).to_have_count(0)
