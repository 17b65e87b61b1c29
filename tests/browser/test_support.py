"""Support requests in a real browser (CSRF on): a member asks for legal support with a PDF,
the network team takes it, answers, and the member follows the status, downloads the answer's
file, replies and closes. The pages are whole, named, and fit a phone and a laptop."""

import re

import pytest

from models import SupportRequest, SupportStatus, db
from tests.browser.conftest import expect, shoot, sign_in
from tests.browser.test_page_quality import SIZES, assert_page_basics
from tests.network_world import join, mandate, network_person
from tests.test_spending import PDF

pytestmark = pytest.mark.browser


def people(live) -> dict[str, str]:
    with live.data():
        member = network_person("elue@example.org")
        member.display_name = "Awa Diallo"
        team = network_person("animation@example.org", network=True)
        team.display_name = "Jules Animation"
        db.session.commit()
        join(member, departement="35")
        mandate(member)
        return {"member": member.email, "team": team.email}


def test_a_member_asks_the_team_answers_and_the_member_follows_the_status(browsing, live, tmp_path):
    s = people(live)
    notice = tmp_path / "lettre-du-prefet.pdf"
    notice.write_bytes(PDF)
    answer_file = tmp_path / "modele-de-recours.pdf"
    answer_file.write_bytes(PDF)

    member = browsing.new_page()
    sign_in(member, s["member"])
    member.goto("/reseau/appui/")
    member.get_by_role("button", name="Demander un appui").click()
    member.get_by_label("Juridique").check()
    member.get_by_label("Très urgente").check()
    member.get_by_label("Objet").fill("Recours du préfet contre notre vœu")
    member.get_by_label("Votre situation").fill("Le préfet nous écrit que le **vœu** est illégal.")
    member.get_by_label("Documents utiles (facultatif)").set_input_files(str(notice))
    assert_page_basics(member)
    member.get_by_role("button", name="Envoyer la demande").click()
    member.wait_for_url(re.compile(r"/reseau/appui/\d+$"))
    request_id = int(member.url.rsplit("/", 1)[1])
    expect(member.locator("#support-status")).to_have_text("Nouvelle")
    expect(member.get_by_role("link", name="lettre-du-prefet.pdf")).to_be_visible()
    shoot(member, "support-new-request")

    team = browsing.new_page()
    sign_in(team, s["team"])
    team.goto("/reseau/appui/")
    expect(team.locator(f"#support-row-{request_id}")).to_contain_text("Très urgente")
    assert_page_basics(team)
    team.get_by_role("link", name="Recours du préfet contre notre vœu").click()
    team.get_by_role("button", name="Je la prends en charge").click()
    expect(team.locator("#support-status")).to_have_text("Prise en charge par Jules Animation")
    team.get_by_label("Répondre au membre").fill("Voici un modèle de recours gracieux.")
    team.get_by_label("Joindre des fichiers (facultatif)").set_input_files(str(answer_file))
    assert_page_basics(team)
    team.get_by_role("button", name="Répondre").click()
    expect(team.locator("#messages")).to_contain_text("Votre réponse est envoyée")
    shoot(team, "support-answered-team")

    member.goto("/reseau/appui/")
    expect(member.locator(f"#support-row-{request_id}")).to_contain_text("Réponse reçue")
    expect(member.locator(f"#support-row-{request_id}")).to_contain_text(
        "suivie par Jules Animation"
    )
    member.get_by_role("link", name="Recours du préfet contre notre vœu").click()
    with member.expect_download() as download:
        member.get_by_role("link", name="modele-de-recours.pdf").click()
    assert download.value.suggested_filename == "modele-de-recours.pdf"
    member.get_by_label("Votre message à l'équipe").fill("Merci, et pour le délai ?")
    member.get_by_role("button", name="Envoyer").click()
    expect(member.locator("#support-status")).to_have_text("Prise en charge par Jules Animation")
    member.get_by_text("Mon problème est résolu").click()
    member.get_by_role("button", name="Clore ma demande").click()
    expect(member.locator("#support-status")).to_have_text("Close")
    shoot(member, "support-closed")

    with live.data():
        assert db.session.get(SupportRequest, request_id).status == SupportStatus.closed

    for page in (member, team):
        assert page.watched.problems(page) == []


def test_support_pages_fit_a_phone_and_a_laptop(browsing, live):
    s = people(live)
    member = browsing.new_page()
    sign_in(member, s["member"])
    member.goto("/reseau/appui/nouvelle")
    member.get_by_label("Technique").check()
    member.get_by_label("Objet").fill("Publier les comptes-rendus du conseil en ligne")
    member.get_by_label("Votre situation").fill("Quel outil libre pour une commune de 3 000 ?")
    member.get_by_role("button", name="Envoyer la demande").click()
    member.wait_for_url(re.compile(r"/reseau/appui/\d+$"))
    team = browsing.new_page()
    sign_in(team, s["team"])
    pages = [
        (member, "/reseau/appui/", "support-list"),
        (member, "/reseau/appui/nouvelle", "support-form"),
        (member, member.url, "support-request"),
        (team, "/reseau/appui/", "support-queue"),
        (team, member.url, "support-request-team"),
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
    for page in (member, team):
        assert page.watched.problems(page) == []
