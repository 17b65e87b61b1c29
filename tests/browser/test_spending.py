"""Spending requests in a real browser: a manager files a request with a receipt, linked to a
funded action; a second manager validates; the finance team approves. The envelope is left
as it was and the round's spent amount grows. Then the money pages, whole and on a phone."""

import re
from datetime import date

import pytest
from sqlalchemy import select

from models import Commitment, Person, SpendingCategory, SpendingRequest, SpendingStatus, db
from services import ledger, spending
from services.commitments import commit_group
from tests import factories
from tests.browser.conftest import expect, shoot, sign_in
from tests.browser.test_page_quality import SIZES, assert_page_basics
from tests.test_spending import PDF

pytestmark = pytest.mark.browser

ACTION = "Atelier vélo sur la place du marché"


def funded_group(live):
    """A certified group with two managers, committed to a funded action, and 150 € in its
    envelope; the finance team. Plain values."""
    with live.data():
        budget = factories.budget_round(name="Budget 2027")
        proposal = factories.proposal(
            budget, title=ACTION, threshold_override=1, budget_cents=40_000
        )
        author, group = factories.manager_of(factories.group(name="Nantes Dervallières"))
        second = factories.person(name="Camille Second")
        factories.member(second, group, "manager")
        finance = factories.person(name="Inès Finance", finance=True)
        commit_group(db.session.get(Person, author.id), group.id, proposal.id)
        ledger.allocate(db.session.get(Person, finance.id), group.id, 15_000, "Dons fléchés")
        commitment_id = db.session.scalar(
            select(Commitment.id).where(Commitment.proposal_id == proposal.id)
        )
        return {
            "group": group.id,
            "round": budget.id,
            "commitment": commitment_id,
            "author": author.email,
            "second": second.email,
            "finance": finance.email,
        }


def test_a_request_linked_to_a_funded_action_is_paid_by_the_round_not_the_envelope(
    browsing, live, tmp_path
):
    s = funded_group(live)
    invoice = tmp_path / "facture-chambres-a-air.pdf"
    invoice.write_bytes(PDF)

    author = browsing.new_page()
    sign_in(author, s["author"])
    author.goto(f"/groupes/{s['group']}")
    expect(author.locator("body")).to_contain_text("150\xa0€")
    author.get_by_role("button", name="Nouvelle demande de dépense").click()
    author.get_by_label("Titre", exact=True).fill("Chambres à air et rustines")
    author.get_by_role("combobox", name="Catégorie").select_option(label="Consommables")
    author.get_by_label("Montant (€)").fill("212,40")
    author.get_by_label("Date de la dépense").fill("2026-11-20")
    author.get_by_label("Explication").fill("Pour l'atelier du samedi.")
    author.get_by_label("Bénéficiaire du virement").fill("Cycles de l'Erdre")
    author.get_by_label("IBAN du bénéficiaire").fill("FR14 2004 1010 0505 0001 3M02 606")
    author.get_by_label(ACTION).check()
    author.get_by_label("Justificatifs (factures, tickets)").set_input_files(str(invoice))
    author.get_by_role("button", name="Enregistrer le brouillon").click()

    author.wait_for_url(re.compile(r"/depenses/\d+$"))
    request_id = int(author.url.rsplit("/", 1)[1])
    # Before submitting, the group sees the split and whether its envelope covers its part.
    split = author.locator("#split-now")
    expect(split).to_contain_text("212,40\xa0€ pris en charge par le budget participatif")
    expect(split).to_contain_text("0\xa0€ débités de l'enveloppe")
    expect(author.get_by_role("link", name="facture-chambres-a-air.pdf")).to_be_visible()
    # The author cannot validate their own request.
    author.get_by_role("button", name="Déposer la demande").click()
    expect(author.get_by_role("button", name="Valider")).to_have_count(0)
    shoot(author, "spending-submitted")

    second = browsing.new_page()
    sign_in(second, s["second"])
    second.goto(f"/depenses/{request_id}")
    second.get_by_role("button", name="Valider").click()
    expect(second.locator("#messages")).to_be_visible()

    finance = browsing.new_page()
    sign_in(finance, s["finance"])
    finance.goto("/finance/depenses")
    finance.get_by_role("link", name="Chambres à air et rustines").click()
    # The finance team sees the IBAN whole, the group's managers masked.
    expect(finance.locator("body")).to_contain_text("FR14 2004 1010 0505 0001 3M02 606")
    finance.get_by_role("button", name="Approuver").click()
    expect(finance.locator("body")).to_contain_text("Approuvée")
    shoot(finance, "spending-approved")

    with live.data():
        row = db.session.get(SpendingRequest, request_id)
        assert row.status == SpendingStatus.approved
        assert (row.round_cents, row.envelope_cents) == (21_240, 0)
        assert ledger.envelope_balance(s["group"]) == 15_000
        assert ledger.round_spent_cents(s["round"]) == 21_240

    # The envelope is untouched, the round's spent amount has grown, both on the pages.
    author.goto(f"/groupes/{s['group']}")
    expect(author.locator("body")).to_contain_text("150\xa0€")
    expect(author.locator("body")).not_to_contain_text("2004 1010 0505")
    author.goto(f"/budgets/{s['round']}")
    expect(author.locator("#round-spent")).to_have_text("212,40\xa0€")
    for page in (author, second, finance):
        assert page.watched.problems(page) == []


def test_money_pages_are_whole_named_and_fit_a_phone_and_a_laptop(browsing, live, tmp_path):
    s = funded_group(live)
    with live.data():
        author = db.session.scalar(select(Person).where(Person.email == s["author"]))
        request_id = spending.create_request(
            author,
            s["group"],
            spending.RequestFields(
                title="Location de la salle des fêtes",
                category=SpendingCategory.room_hire,
                amount_cents=8_000,
                spent_on=date.today(),
                explanation="Réunion publique du 12.",
                payee_name="Mairie de Nantes",
                payee_iban="FR1420041010050500013M02606",
                commitment_id=s["commitment"],
            ),
            [spending.UploadedFile("devis.pdf", PDF)],
        )
    manager = browsing.new_page()
    sign_in(manager, s["author"])
    finance = browsing.new_page()
    sign_in(finance, s["finance"])
    visits = [
        (manager, "group", f"/groupes/{s['group']}"),
        (manager, "request", f"/depenses/{request_id}"),
        (manager, "request-new", f"/groupes/{s['group']}/depenses/nouvelle"),
        (manager, "request-edit", f"/depenses/{request_id}/modifier"),
        (manager, "envelope", f"/groupes/{s['group']}/enveloppe"),
        (finance, "queue", "/finance/depenses?statut=tous"),
        (finance, "journal", "/finance/grand-livre"),
        (finance, "donations-import", "/finance/dons/import"),
        (finance, "donation-new", "/finance/dons/nouveau"),
    ]
    for page, name, path in visits:
        page.set_viewport_size(SIZES["laptop"])
        response = page.goto(path)
        assert response.status == 200, (name, response.status)
        assert_page_basics(page)
        for size, viewport in SIZES.items():
            page.set_viewport_size(viewport)
            shoot(page, f"money-{name}-{size}")
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{name} scrolls sideways by {overflow}px on a {size}"
    for page in (manager, finance):
        assert page.watched.problems(page) == []


def queue_scene(live) -> str:
    """A request to examine (printing) and an approved one (room hire), of two groups; the
    finance team's e-mail."""
    from tests.test_spending import Team

    with live.data():
        first, second = Team(), Team()
        first.to_finance(title="Affiches du forum", amount_cents=9_000)
        second.fund(50_000)
        approved = second.to_finance(
            title="Salle du forum", category=SpendingCategory.room_hire, amount_cents=12_000
        )
        spending.approve_spending(second.finance, approved)
        return first.finance.email


def test_the_finance_queue_filters_without_reloading_and_keeps_the_address(browsing, live):
    finance = browsing.new_page()
    sign_in(finance, queue_scene(live))
    finance.goto("/finance/depenses")
    finance.evaluate("window.__marker = 1")
    results = finance.locator("#spending-queue-results")
    expect(results).to_contain_text("Affiches du forum")
    expect(results).not_to_contain_text("Salle du forum")

    finance.get_by_role("combobox", name="Statut").select_option(label="Approuvées, à payer")
    expect(results).to_contain_text("Salle du forum")
    expect(results).not_to_contain_text("Affiches du forum")
    expect(finance).to_have_url(re.compile(r"[?&]statut=a-payer(&|$)"))
    finance.get_by_role("combobox", name="Catégorie").select_option(label="Impression")
    expect(results).to_contain_text("Aucune demande de dépense ne correspond")
    assert finance.evaluate("window.__marker") == 1, "the page was reloaded"
    assert finance.watched.problems(finance) == []


def test_the_finance_queue_filters_without_javascript(browsing, live):
    finance = browsing.new_page(javascript=False)
    sign_in(finance, queue_scene(live))
    finance.goto("/finance/depenses")
    results = finance.locator("#spending-queue-results")
    expect(results).to_contain_text("Affiches du forum")
    finance.get_by_role("combobox", name="Statut").select_option(label="Approuvées, à payer")
    finance.get_by_role("button", name="Filtrer").click()
    expect(finance).to_have_url(re.compile(r"[?&]statut=a-payer(&|$)"))
    expect(results).to_contain_text("Salle du forum")
    expect(results).not_to_contain_text("Affiches du forum")
