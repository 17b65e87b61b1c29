"""The proposal workspace in a real browser: an animator illustrates and publishes a proposal;
a group manager drafts, submits and reads the team's reply; the same without JavaScript."""

import io
import re

import pytest
from PIL import Image, ImageDraw

from models import Person, Proposal, ProposalStatus, db
from services.exchange import post_message
from tests import factories
from tests.browser.conftest import expect, shoot, sign_in

pytestmark = pytest.mark.browser


def picture(path, fmt: str, size: tuple[int, int], colour: str) -> str:
    image = Image.new("RGB", size, colour)
    ImageDraw.Draw(image).rectangle((20, 20, size[0] - 20, size[1] // 2), fill="white")
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    path.write_bytes(buffer.getvalue())
    return str(path)


def submitted_proposal(live, title: str = "Réparer les vélos du quartier"):
    """A submitted proposal of a certified group, and an animator; plain values."""
    with live.data():
        budget = factories.budget_round(base_threshold=3)
        manager, group = factories.manager_of(factories.group(name="Lille Fives"))
        proposal = factories.proposal(
            budget,
            title=title,
            status=ProposalStatus.submitted,
            origin_group=group,
            budget_lines=True,
        )
        animator = factories.person(name="Aïcha Benali", animation=True)
        return proposal.id, animator.email, manager.email


def items(page):
    return page.locator("#illustrations-editor .illustration-item")


def test_an_animator_illustrates_reorders_chooses_the_cover_and_publishes(browsing, live, tmp_path):
    proposal_id, animator, _manager = submitted_proposal(live)
    page = browsing.new_page()
    sign_in(page, animator)
    page.goto(f"/espace/propositions/{proposal_id}")
    page.evaluate("window.__marker = 1")

    page.get_by_label("Ajouter des images").set_input_files(
        [
            picture(tmp_path / "atelier.jpg", "JPEG", (1800, 1200), "#b71c1c"),
            picture(tmp_path / "outils.png", "PNG", (900, 1300), "#1565c0"),
        ]
    )
    page.get_by_role("button", name="Envoyer les images").click()
    expect(items(page)).to_have_count(2)
    expect(page.locator("#illustrations-editor")).to_contain_text("Texte alternatif à rédiger")

    # Edit the second one's alternative text in place.
    page.get_by_role(
        "link", name="Modifier le texte alternatif et la légende de l'illustration 2"
    ).click()
    # The form opens with the focus on its first field.
    expect(page.get_by_label("Texte alternatif (obligatoire)")).to_be_focused()
    page.get_by_label("Texte alternatif (obligatoire)").fill(
        "Des outils de réparation alignés sur un établi"
    )
    page.get_by_label("Légende (facultative)").fill("L'établi de l'atelier")
    page.get_by_role("button", name="Enregistrer").click()
    expect(items(page).nth(1)).to_contain_text("Des outils de réparation alignés sur un établi")
    # And the first one's, which publication needs too.
    page.get_by_role(
        "link", name="Modifier le texte alternatif et la légende de l'illustration 1"
    ).click()
    expect(page.get_by_label("Texte alternatif (obligatoire)")).to_be_focused()
    page.get_by_label("Texte alternatif (obligatoire)").fill("Un atelier vélo en plein air")
    page.get_by_role("button", name="Enregistrer").click()
    expect(items(page).nth(0)).to_contain_text("Un atelier vélo en plein air")
    # Focus comes back to the control that opened the form.
    expect(
        page.get_by_role(
            "link", name="Modifier le texte alternatif et la légende de l'illustration 1"
        )
    ).to_be_focused()

    # Move the second one up, with the keyboard.
    page.get_by_role("button", name="Monter l'illustration 2").focus()
    page.keyboard.press("Enter")
    expect(items(page).nth(0)).to_contain_text("Des outils de réparation alignés")
    expect(items(page).nth(1)).to_contain_text("Un atelier vélo en plein air")

    # Make it the cover.
    cover_button = page.get_by_role("button", name="Choisir l'illustration 1 comme couverture")
    if cover_button.count():
        cover_button.click()
    expect(items(page).nth(0).locator(".badge-cover")).to_have_text("Couverture")
    expect(items(page).nth(1).locator(".badge-cover")).to_have_count(0)
    assert page.evaluate("window.__marker") == 1  # all of it without a reload
    shoot(page, "workspace-illustrations")

    page.get_by_role("button", name="Publier").click()
    expect(page.locator("#messages")).to_contain_text("La proposition est publiée")

    with live.data():
        slug = db.session.get(Proposal, proposal_id).slug
    page.goto("/")
    card = page.locator(f"#proposition-{proposal_id}")
    cover = card.locator("img")
    expect(cover).to_have_attribute("alt", "Des outils de réparation alignés sur un établi")
    assert cover.evaluate("img => img.complete && img.naturalWidth > 0")
    assert cover.evaluate("img => img.naturalWidth") <= 400
    page.goto(f"/propositions/{slug}")
    expect(
        page.get_by_role("img", name="Des outils de réparation alignés sur un établi").first
    ).to_be_visible()
    expect(page.get_by_role("img", name="Un atelier vélo en plein air")).to_be_visible()
    assert not page.watched.problems(page)


def test_a_manager_drafts_submits_and_reads_the_teams_reply(browsing, live):
    with live.data():
        factories.budget_round()
        manager, group = factories.manager_of(factories.group(name="Rennes Maurepas"))
        animator = factories.person(name="Aïcha Benali", animation=True)
        manager_email, group_id, animator_id = manager.email, group.id, animator.id
    page = browsing.new_page()
    sign_in(page, manager_email)
    page.goto(f"/groupes/{group_id}")
    page.get_by_role("button", name="Proposer une action").click()

    page.get_by_label("Titre", exact=True).fill("Une bibliothèque de rue")
    page.get_by_label("Résumé", exact=True).fill("Des livres en libre accès, tenus par le groupe.")
    page.get_by_label("Catégorie", exact=True).select_option(label="Culture")
    page.get_by_label("Description", exact=True).fill("## Pourquoi\n\nLire **ensemble**.")
    expect(page.locator("#preview-body strong")).to_have_text("ensemble")
    page.get_by_label("Budget demandé par groupe (€)").fill("250")
    page.get_by_label("Poste de dépense, ligne 1").fill("Étagère étanche")
    page.get_by_label("Montant en euros, ligne 1").fill("200")
    expect(page.locator("#budget-total")).to_contain_text("Il manque 50")
    page.get_by_label("Poste de dépense, ligne 2").fill("Premiers livres")
    page.get_by_label("Montant en euros, ligne 2").fill("50")
    expect(page.locator("#budget-total")).to_contain_text("Il correspond au budget par groupe")
    page.get_by_role("button", name="Enregistrer le brouillon").click()

    expect(page.locator("#messages")).to_contain_text("Le brouillon est enregistré")
    expect(page.get_by_role("heading", level=1)).to_have_text("Une bibliothèque de rue")
    page.get_by_role("button", name="Soumettre à l'équipe d'animation").click()
    expect(page.locator("#messages")).to_contain_text("envoyée à l'équipe d'animation")
    expect(page.locator(".badge-submitted")).to_be_visible()

    page.get_by_label("Votre message").fill("Nous avons déjà un lieu, la place du marché.")
    page.get_by_role("button", name="Envoyer").click()
    expect(page.locator("#echange .message")).to_have_count(1)

    with live.data():
        proposal_id = db.session.query(Proposal.id).filter_by(title="Une bibliothèque de rue")
        proposal_id = proposal_id.scalar()
        post_message(
            db.session.get(Person, animator_id),
            proposal_id,
            "Merci ! Pouvez-vous préciser qui tient les clés de l'étagère ?",
        )
    page.reload()
    reply = page.locator("#echange .message.from-team")
    expect(reply).to_contain_text("qui tient les clés de l'étagère")
    expect(reply.locator(".badge-new")).to_have_text("Nouveau")
    expect(reply).to_contain_text("Équipe d'animation")
    shoot(page, "workspace-exchange")
    page.reload()  # read now: no longer marked
    expect(page.locator("#echange .badge-new")).to_have_count(0)
    assert not page.watched.problems(page)


def test_without_javascript_a_manager_drafts_with_preview_and_an_added_line(browsing, live):
    with live.data():
        factories.budget_round()
        manager, group = factories.manager_of()
        manager_email, group_id = manager.email, group.id
    page = browsing.new_page(javascript=False)
    sign_in(page, manager_email)
    page.goto(f"/groupes/{group_id}/propositions/nouvelle")
    page.get_by_label("Titre", exact=True).fill("Un compost partagé")
    page.get_by_label("Résumé", exact=True).fill("Des bacs au pied des immeubles.")
    page.get_by_label("Description", exact=True).fill("Un *compost* de quartier.")
    page.get_by_label("Budget demandé par groupe (€)").fill("120,50")
    page.get_by_label("Poste de dépense, ligne 1").fill("Bacs")
    page.get_by_label("Montant en euros, ligne 1").fill("100")
    page.get_by_role("button", name="Prévisualiser").click()
    expect(page.locator("#preview-body em")).to_have_text("compost")
    expect(page.locator("#budget-total")).to_contain_text("Il manque 20,50")
    page.get_by_role("button", name="Ajouter une ligne").click()
    page.get_by_label("Poste de dépense, ligne 3").fill("Affiches")
    page.get_by_label("Montant en euros, ligne 3").fill("20,50")
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    expect(page).to_have_url(re.compile(r"/espace/propositions/\d+$"))
    expect(page.locator(".budget-table tfoot")).to_contain_text("120,50")


def test_without_javascript_an_animator_uploads_and_writes_the_alternative_text(
    browsing, live, tmp_path
):
    proposal_id, animator, _manager = submitted_proposal(live)
    page = browsing.new_page(javascript=False)
    sign_in(page, animator)
    page.goto(f"/espace/propositions/{proposal_id}")
    page.get_by_label("Ajouter des images").set_input_files(
        [picture(tmp_path / "photo.webp", "WEBP", (1000, 800), "#2e7d32")]
    )
    page.get_by_role("button", name="Envoyer les images").click()
    expect(items(page)).to_have_count(1)
    page.get_by_role(
        "link", name="Modifier le texte alternatif et la légende de l'illustration 1"
    ).click()
    page.get_by_label("Texte alternatif (obligatoire)").fill("Un potager partagé au printemps")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page).to_have_url(re.compile(rf"/espace/propositions/{proposal_id}"))
    expect(items(page).nth(0)).to_contain_text("Un potager partagé au printemps")


def test_workspace_pages_are_whole_named_and_fit_a_phone(browsing, live, tmp_path):
    from services.illustrations import UploadedFile, update_illustration, upload_illustrations
    from services.proposals import ProposalText, create_draft, save_proposal, submit_proposal
    from tests.browser.test_page_quality import SIZES, assert_page_basics

    with live.data():
        factories.budget_round()
        manager, group = factories.manager_of(
            factories.group(name="Collectif solidaire de Montreuil et Bagnolet")
        )
        team = factories.person(name="Aïcha Benali", animation=True)
        text = ProposalText(
            title="Une bibliothèque de rue avec des étagères très, très solidement fixées",
            summary="Des livres en libre accès.",
            body="## Pourquoi\n\nLire ensemble, " + "longuement " * 40,
            how_to="1. Trouver un mur\n2. Fixer l'étagère",
            category="culture",
            per_group_budget_cents=25_000,
            budget_lines=(
                ("Étagère étanche et résistante aux intempéries", 20_000),
                ("Livres", 5_000),
            ),
        )
        proposal = create_draft(manager, group.id, text)
        submit_proposal(manager, proposal.id)
        save_proposal(team, proposal.id, 1, ProposalText(**{**text.__dict__, "summary": "Lire."}))
        image = picture(tmp_path / "rue.jpg", "JPEG", (1600, 900), "#6a1b9a")
        with open(image, "rb") as handle:
            [illustration_id] = upload_illustrations(
                team, proposal.id, [UploadedFile("rue.jpg", handle.read())]
            )
        update_illustration(team, illustration_id, "Le mur choisi", "Un mur de brique au soleil")
        post_message(team, proposal.id, "Bonjour, " + "une remarque détaillée " * 20)
        pid, team_email = proposal.id, team.email
        manager_email, group_id = manager.email, group.id
    team_page = browsing.new_page()
    sign_in(team_page, team_email)
    manager_page = browsing.new_page()
    sign_in(manager_page, manager_email)
    visits = [
        (team_page, "queue", "/espace"),
        (team_page, "workspace", f"/espace/propositions/{pid}"),
        (team_page, "edit", f"/espace/propositions/{pid}/modifier"),
        (team_page, "history", f"/espace/propositions/{pid}/historique"),
        (team_page, "illustration", f"/espace/illustrations/{illustration_id}/modifier"),
        (manager_page, "workspace-group", f"/espace/propositions/{pid}"),
        (manager_page, "new-draft", f"/groupes/{group_id}/propositions/nouvelle"),
        (manager_page, "group", f"/groupes/{group_id}"),
    ]
    for page, name, path in visits:
        page.set_viewport_size(SIZES["laptop"])
        page.goto(path)
        assert_page_basics(page)
        for size, viewport in SIZES.items():
            page.set_viewport_size(viewport)
            shoot(page, f"{name}-{size}")
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{name} scrolls sideways by {overflow}px on a {size}"
    for page in (team_page, manager_page):
        assert not page.watched.problems(page)
