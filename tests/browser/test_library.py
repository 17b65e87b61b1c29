"""The network's library in a real browser: a member deposits a vœu with a PDF, another member
finds it by a word of its summary with the live search and downloads the file; and the search
form works as a plain GET form without JavaScript."""

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from models import MandateLevel, Resource, ResourceKind, ResourceOutcome, db
from services import library
from tests.browser.conftest import expect, shoot, sign_in
from tests.browser.test_page_quality import SIZES, assert_page_basics
from tests.network_world import build_network_world
from tests.test_spending import PDF

pytestmark = pytest.mark.browser

TITLE = "Vœu pour des cantines 100 % bio et locales"
SUMMARY = "Le conseil demande un approvisionnement biologique des cantines scolaires d'ici 2027."


def network(live) -> dict:
    """The network's people (plain values), and two resources already in the library."""
    with live.data():
        world = build_network_world()
        for title, kind, summary in (
            ("Motion sur la régie de l'eau", ResourceKind.motion, "Retour de l'eau en régie."),
            ("Note juridique sur les marchés", ResourceKind.note_juridique, "Les seuils."),
        ):
            library.deposit_resource(
                world.other_member,
                library.ResourceFields(
                    kind=kind,
                    title=title,
                    summary=summary,
                    levels=(MandateLevel.municipal,),
                    outcome=ResourceOutcome.adopte,
                ),
            )
        return {
            "member": world.people["member"].email,
            "other": world.other_member.email,
        }


def result_titles(page):
    return page.locator("#library-results h2")


def test_a_member_deposits_a_voeu_another_finds_it_live_and_downloads_its_pdf(
    browsing, live, tmp_path
):
    people = network(live)
    pdf = tmp_path / "voeu-cantines.pdf"
    pdf.write_bytes(PDF)

    author = browsing.new_page()
    sign_in(author, people["member"])
    author.goto("/reseau/ressources/")
    author.get_by_role("button", name="Déposer une ressource").click()
    author.get_by_label("Type de ressource").select_option(label="Vœu")
    author.get_by_label("Titre", exact=True).fill(TITLE)
    author.get_by_label("Résumé").fill(SUMMARY)
    author.get_by_label("Municipal", exact=True).check()
    author.get_by_label("Thèmes").fill("Cantines bio, alimentation")
    author.get_by_label("Assemblée ou territoire").fill("Conseil municipal de Pessac")
    author.get_by_label("Département", exact=True).fill("33")
    author.get_by_label("Issue").select_option(label="Adopté")
    author.get_by_label("Fichiers", exact=True).set_input_files(str(pdf))
    author.get_by_role("button", name="Déposer la ressource").click()

    author.wait_for_url(re.compile(r"/reseau/ressources/\d+$"))
    expect(author.locator("#messages")).to_contain_text("La ressource est déposée")
    expect(author.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(author.get_by_role("link", name="voeu-cantines.pdf")).to_be_visible()
    shoot(author, "library-deposited")

    reader = browsing.new_page()
    sign_in(reader, people["other"])
    reader.goto("/reseau/ressources/")
    expect(result_titles(reader)).to_have_count(3)
    reader.evaluate("window.__marker = 1")

    reader.get_by_label("Rechercher une ressource").press_sequentially(
        "approvisionnement", delay=20
    )

    expect(result_titles(reader)).to_have_text([TITLE])
    expect(reader.locator(".results-count")).to_contain_text(
        "1 ressource pour « approvisionnement »"
    )
    expect(reader).to_have_url(re.compile(r"[?&]q=approvisionnement(&|$)"))
    assert reader.evaluate("window.__marker") == 1, "the page was reloaded"
    # A filter narrows the live results too.
    reader.get_by_label("Type", exact=True).select_option(label="Motion")
    expect(reader.locator("#library-results")).to_contain_text("Aucune ressource ne correspond")
    reader.get_by_label("Type", exact=True).select_option(label="Vœu")
    expect(result_titles(reader)).to_have_text([TITLE])
    shoot(reader, "library-live-search")

    reader.get_by_role("link", name=TITLE).click()
    reader.wait_for_url(re.compile(r"/reseau/ressources/\d+$"))
    with reader.expect_download() as download_info:
        reader.get_by_role("link", name="voeu-cantines.pdf").click()
    download = download_info.value
    assert download.suggested_filename == "voeu-cantines.pdf"
    assert Path(download.path()).read_bytes() == PDF

    # The reader says they reused it; the count and their name appear.
    reader.get_by_label("Où l'avez-vous repris ? (facultatif)").fill("Conseil municipal de Brest")
    reader.get_by_role("button", name="Je l'ai repris chez moi").click()
    expect(reader.locator(".reuse-count")).to_have_text("Reprise par 1 élu·e")
    expect(reader.locator(".reuse-list")).to_contain_text("Conseil municipal de Brest")

    for page in (author, reader):
        assert page.watched.problems(page) == []


def test_the_library_search_works_without_javascript(browsing, live):
    people = network(live)
    page = browsing.new_page(javascript=False)
    sign_in(page, people["member"])
    page.goto("/reseau/ressources/")
    expect(result_titles(page)).to_have_count(2)

    page.get_by_label("Rechercher une ressource").fill("regie")
    page.get_by_label("Rechercher une ressource").press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]q=regie(&|$)"))
    expect(result_titles(page)).to_have_text(["Motion sur la régie de l'eau"])
    expect(page.get_by_label("Rechercher une ressource")).to_have_value("regie")

    page.get_by_label("Rechercher une ressource").fill("")
    page.get_by_label("Type", exact=True).select_option(label="Note juridique")
    page.get_by_role("button", name="Rechercher").click()
    expect(page).to_have_url(re.compile(r"[?&]type=note_juridique(&|$)"))
    expect(result_titles(page)).to_have_text(["Note juridique sur les marchés"])


def test_library_pages_are_named_labelled_and_fit_a_phone_and_a_laptop(browsing, live):
    people = network(live)
    with live.data():
        resource_id = db.session.scalar(select(Resource.id).order_by(Resource.id))
    author = browsing.new_page()
    sign_in(author, people["other"])
    for path, name in (
        ("/reseau/ressources/", "library-index"),
        ("/reseau/ressources/nouvelle", "library-new"),
        (f"/reseau/ressources/{resource_id}", "library-show"),
        (f"/reseau/ressources/{resource_id}/modifier", "library-edit"),
        (f"/reseau/ressources/{resource_id}/suppression", "library-delete"),
    ):
        author.goto(path)
        assert_page_basics(author)
        for size, viewport in SIZES.items():
            author.set_viewport_size(viewport)
            shoot(author, f"{name}-{size}")
            overflow = author.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{name} scrolls sideways by {overflow}px on a {size}"
    assert author.watched.problems(author) == []
