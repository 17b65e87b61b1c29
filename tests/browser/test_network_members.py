"""The network's members in a real browser: an elected official asks to join, the animation
team accepts, and the new member filters the directory live by level and département; the
same filters work with JavaScript off."""

import re

import pytest

from models import MandateLevel, MandateRole, NetworkStatus
from tests import factories
from tests.browser.conftest import expect, shoot, sign_in
from tests.network_world import join, mandate

pytestmark = pytest.mark.browser


def network_scene(live) -> dict:
    """An elected official not yet in the network, the animation team, and three members."""
    with live.data():
        applicant = factories.person(email="camille@example.org", name="Camille Rennaise")
        mandate(
            applicant,
            council="Conseil municipal de Rennes",
            council_key="conseil municipal de rennes",
            departement="35",
        )
        team = factories.person(email="equipe@example.org", name="Inès Animation", network=True)
        members = [
            ("Yann Brestois", "Mairie de Brest", MandateLevel.municipal, MandateRole.maire, "29"),
            (
                "Nolwenn Régionale",
                "Région Bretagne",
                MandateLevel.regional,
                MandateRole.conseiller,
                "29",
            ),
            (
                "Lucie Lyonnaise",
                "Mairie de Lyon",
                MandateLevel.municipal,
                MandateRole.adjoint,
                "69",
            ),
        ]
        for name, council, level, role, departement in members:
            person = factories.person(name=name)
            join(person, NetworkStatus.member, departement=departement)
            mandate(
                person,
                level=level,
                role=role,
                council=council,
                council_key=council.lower(),
                departement=departement,
            )
        return {"applicant": applicant.email, "team": team.email}


def test_an_applicant_joins_and_filters_the_directory_live_and_without_javascript(browsing, live):
    s = network_scene(live)

    # The elected official asks to join from the public page.
    applicant = browsing.new_page()
    sign_in(applicant, s["applicant"])
    applicant.get_by_role("link", name="Réseau des élu·es").click()
    expect(applicant.locator("h1")).to_have_text("Le réseau des élu·es")
    applicant.get_by_role("button", name="Demander à rejoindre le réseau").click()
    expect(applicant.locator("body")).to_contain_text("Conseil municipal de Rennes")
    applicant.get_by_label("Votre motivation").fill("Partager nos délibérations sur l'eau.")
    applicant.get_by_label("Votre département (facultatif)").fill("35")
    applicant.get_by_label("Thèmes").fill("Eau en régie publique")
    applicant.get_by_role("button", name="Envoyer ma demande").click()
    expect(applicant.locator("#messages")).to_contain_text("Votre demande d'adhésion est envoyée")
    expect(applicant.locator("body")).to_contain_text("attend la réponse de l'équipe d'animation")

    # The animation team accepts.
    team = browsing.new_page()
    sign_in(team, s["team"])
    team.goto("/reseau/adhesions")
    expect(team.locator(".application")).to_contain_text("Partager nos délibérations sur l'eau.")
    shoot(team, "network-applications")
    team.get_by_role("button", name="Accepter Camille Rennaise").click()
    expect(team.locator("#messages")).to_contain_text("La personne est membre du réseau.")
    expect(team.locator(".application")).to_have_count(0)

    # The new member filters the directory live.
    applicant.goto("/reseau/membres")
    results = applicant.locator("#member-results")
    expect(results).to_contain_text("4 membres")
    applicant.evaluate("window.__samePage = true")
    applicant.get_by_label("Niveau de mandat").select_option(label="municipal")
    expect(results.locator(".results-count")).to_contain_text("3 membres")
    applicant.get_by_label("Département").fill("29")
    expect(results.locator(".results-count")).to_contain_text("1 membre correspondant")
    expect(results.get_by_role("link", name="Yann Brestois")).to_be_visible()
    expect(results).not_to_contain_text("Lucie Lyonnaise")
    expect(results).not_to_contain_text("Nolwenn Régionale")
    # No page load happened, and the address bar says what is shown.
    assert applicant.evaluate("window.__samePage === true")
    assert re.search(r"niveau=municipal", applicant.url) and "departement=29" in applicant.url
    shoot(applicant, "network-directory-filtered")
    applicant.get_by_role("link", name="Yann Brestois").click()
    expect(applicant.locator("h1")).to_have_text("Yann Brestois")
    expect(applicant.locator("body")).to_contain_text("Mairie de Brest")

    # The same filters, JavaScript off: a plain GET form.
    plain = browsing.new_page(javascript=False)
    sign_in(plain, s["applicant"])
    plain.goto("/reseau/membres")
    plain.get_by_label("Niveau de mandat").select_option(label="municipal")
    plain.get_by_label("Département").fill("29")
    plain.get_by_role("button", name="Filtrer").click()
    plain.wait_for_url(re.compile(r"niveau=municipal"))
    assert "departement=29" in plain.url
    plain_results = plain.locator("#member-results")
    expect(plain_results.locator(".results-count")).to_contain_text("1 membre correspondant")
    expect(plain_results.get_by_role("link", name="Yann Brestois")).to_be_visible()
    expect(plain_results).not_to_contain_text("Lucie Lyonnaise")

    for page in (applicant, team):
        assert page.watched.problems(page) == []
