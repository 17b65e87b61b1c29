"""The spending pages: the envelope on the group page and its history, filing a request with its
receipts, the request page (split, IBAN, timeline, actions), editing, and the receipts' files.

The rules themselves are tested on the service (tests/test_spending.py); these tests go through
the pages, as a manager, a second manager and the finance team would."""

import html
import io
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import current_app
from sqlalchemy import func, select

from models import LedgerOperation, Proposal, Reservation, SpendingRequest, SpendingStatus, db
from services import spending
from tests import factories as f
from tests.conftest import AuthActions
from tests.dbstate import snapshot
from tests.test_images import HTML, plain_jpeg
from tests.test_queries import counting_queries
from tests.test_spending import IBAN, PDF, Team, envelope, fields, round_spent

# IBAN is FR14 2004 1010 0505 0001 3M02 606: what a masked IBAN never shows.
IBAN_MIDDLE = ("2004", "1010", "0505", "0001", "20041010050500013M02")


def text_of(response) -> str:
    """The page as read: entities decoded, no-break spaces (in « 1 234,50 € ») as spaces."""
    page = html.unescape(response.get_data(as_text=True))
    return page.replace("\xa0", " ").replace("\u202f", " ")


def client_for(app, person):
    """A client of its own, signed in as this person (one per person in a flow)."""
    client = app.test_client()
    AuthActions(client).login(person)
    return client


def form(**changes) -> dict:
    values = {
        "title": "Tracts pour la réunion publique",
        "category": "printing",
        "amount": "120",
        "spent_on": (date.today() - timedelta(days=3)).isoformat(),
        "explanation": "Mille tracts A5 recto verso.",
        "payee_name": "Imprimerie du Port",
        "payee_iban": "fr14 2004 1010 0505 0001 3m02 606",
        "commitment": "",
    }
    values.update(changes)
    return values


def file_new(client, group_id, files=(("facture.pdf", PDF),), **changes):
    data = form(**changes)
    data["receipts"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post(f"/groupes/{group_id}/depenses/nouvelle", data=data)


def created_id(response) -> int:
    assert response.status_code == 303, text_of(response)[:3000]
    match = re.fullmatch(r"/depenses/(\d+)", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match[1])


def version_of(request_id) -> int:
    db.session.rollback()
    return db.session.get(SpendingRequest, request_id).version


def status_of(request_id) -> SpendingStatus:
    db.session.rollback()
    return db.session.get(SpendingRequest, request_id).status


def act(client, request_id, action, version=None, **data):
    data["version"] = str(version_of(request_id) if version is None else version)
    return client.post(f"/depenses/{request_id}/{action}", data=data)


def stored_receipts() -> list[str]:
    root = Path(current_app.config["UPLOADS_PATH"]) / "receipts"
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


@pytest.fixture
def team(app):
    return Team()


# The whole flow ------------------------------------------------------------------------------


def test_a_request_on_a_funded_action_goes_through_the_pages_and_spares_the_envelope(app, team):
    team.fund(30_000)
    commitment = team.funded_commitment(budget_cents=50_000)
    author, second, finance = (client_for(app, p) for p in (team.author, team.second, team.finance))

    page = text_of(author.get(f"/groupes/{team.group.id}/depenses/nouvelle"))
    action = db.session.get(Proposal, commitment.proposal_id)
    assert action.title in page and "500 € (sur 500 €)" in page  # what is left to charge
    request_id = created_id(file_new(author, team.group.id, amount="400", commitment=commitment.id))
    page = text_of(author.get(f"/depenses/{request_id}"))
    split = "400 € pris en charge par le budget participatif, 0 € débités de l'enveloppe"
    assert split in page
    assert page.index(split) < page.index("Déposer la demande")

    assert act(author, request_id, "depot").status_code == 303
    assert status_of(request_id) == SpendingStatus.awaiting_group
    assert act(second, request_id, "validation", comment="Vu en réunion").status_code == 303
    assert status_of(request_id) == SpendingStatus.awaiting_finance
    page = text_of(finance.get(f"/depenses/{request_id}"))
    assert "Approuver" in page and split in page
    response = act(finance, request_id, "approbation", comment="Bon pour paiement")
    assert response.status_code == 303
    assert status_of(request_id) == SpendingStatus.approved
    assert envelope(team.group.id) == 30_000, "the envelope is untouched"
    charged = db.session.get(SpendingRequest, request_id)
    assert (charged.round_cents, charged.envelope_cents) == (40_000, 0)
    assert round_spent(db.session.get(Reservation, charged.reservation_id).round_id) == 40_000

    page = text_of(finance.get(response.headers["Location"]))
    assert "La demande est approuvée : 400 € pris en charge" in page
    assert split in page  # as charged, now
    assert f'action="/depenses/{request_id}/approbation"' not in page


def test_a_request_without_a_funded_action_is_debited_from_the_envelope(app, team):
    team.fund(20_000)
    author, second, finance = (client_for(app, p) for p in (team.author, team.second, team.finance))
    request_id = created_id(file_new(author, team.group.id, amount="120,50"))
    page = text_of(author.get(f"/depenses/{request_id}"))
    assert "0 € pris en charge par le budget participatif, 120,50 € débités" in page
    assert "L'enveloppe (200 €) couvre ce montant." in page
    act(author, request_id, "depot")
    act(second, request_id, "validation")
    assert act(finance, request_id, "approbation").status_code == 303
    assert envelope(team.group.id) == 20_000 - 12_050
    page = text_of(author.get(f"/groupes/{team.group.id}"))
    assert "Enveloppe du groupe : 79,50 €" in page
    assert "-120,50 €" in page and f'href="/depenses/{request_id}"' in page


def test_the_timeline_shows_each_step_with_who_and_when(app, team):
    team.fund(20_000)
    author, second, finance = (client_for(app, p) for p in (team.author, team.second, team.finance))
    request_id = created_id(file_new(author, team.group.id))
    act(author, request_id, "depot")
    act(second, request_id, "validation")
    act(finance, request_id, "informations", comment="Pour quelle réunion ?")
    act(second, request_id, "reponse", comment="Celle du 12.")
    act(finance, request_id, "approbation")
    page = text_of(author.get(f"/depenses/{request_id}"))
    timeline = page.split('<ol class="spending-timeline">')[1].split("</ol>")[0]
    steps = [
        ("Demande créée", team.author),
        ("Demande déposée", team.author),
        ("Validée par un·e second·e gestionnaire", team.second),
        ("Informations demandées par l'équipe financière", team.finance),
        ("Réponse du groupe", team.second),
        ("Approuvée par l'équipe financière", team.finance),
    ]
    position = 0
    for label, person in steps:
        position = timeline.index(label, position)
        step_end = timeline.find("<li>", position)
        step = timeline[position : step_end if step_end != -1 else None]
        assert person.display_name in step, label
    assert timeline.count("<time datetime=") == len(steps)
    assert "Pour quelle réunion ?" in timeline and "Celle du 12." in timeline


# The form ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": "   "}, "title", "Donnez un titre à la demande."),
        ({"category": ""}, "category", "Choisissez une catégorie de dépense."),
        ({"category": "yacht"}, "category", "Choisissez une catégorie de dépense."),
        ({"amount": "douze"}, "amount", "Écrivez un montant en euros"),
        ({"amount": "0"}, "amount", "Le montant est compris entre 0,01 € et"),
        ({"amount": "100 000,01"}, "amount", "Le montant est compris entre 0,01 € et"),
        ({"spent_on": ""}, "spent_on", "Indiquez la date de la dépense."),
        ({"spent_on": "le 3 mars"}, "spent_on", "le jour, le mois et l'année"),
        (
            {"spent_on": (date.today() + timedelta(days=5)).isoformat()},
            "spent_on",
            "ne peut être dans le futur",
        ),
        (
            {"spent_on": (date.today() - timedelta(days=800)).isoformat()},
            "spent_on",
            "plus de deux ans",
        ),
        ({"payee_name": " "}, "payee_name", "Indiquez qui est payé"),
        ({"payee_iban": ""}, "payee_iban", "Saisissez l'IBAN"),
        ({"payee_iban": "FR1420041010050500013M02607"}, "payee_iban", "Cet IBAN n'existe pas"),
        ({"payee_iban": "US12345678901234"}, "payee_iban", "zone SEPA"),
        ({"commitment": "999"}, "commitment-0", "engagement du groupe sur une action finançable"),
    ],
)
def test_an_invalid_form_is_422_in_french_next_to_its_field_and_writes_nothing(
    client, auth, team, changes, field, message
):
    auth.login(team.author)
    before = snapshot()
    response = file_new(client, team.group.id, **changes)
    assert response.status_code == 422
    page = text_of(response)
    assert message in page
    assert 'class="flash flash-error error-summary" role="alert"' in page
    assert f'href="#{field}"' in page  # the summary links to the field
    if field == "commitment-0":
        assert 'aria-describedby="commitment-errors"' in page
    else:
        tag = re.search(rf'<(input|select|textarea)[^>]*\bid="{field}"[^>]*>', page)[0]
        assert 'aria-invalid="true"' in tag and f'aria-describedby="{field}-errors"' in tag
    if "title" not in changes:
        assert 'value="Tracts pour la réunion publique"' in page  # what was typed is kept
    assert "Les fichiers choisis n'ont pas été gardés" in page
    assert snapshot() == before
    assert stored_receipts() == []


def test_the_commitment_of_another_group_cannot_be_chosen(client, auth, team):
    other = Team()
    theirs = other.funded_commitment()
    auth.login(team.author)
    page = text_of(client.get(f"/groupes/{team.group.id}/depenses/nouvelle"))
    assert f'value="{theirs.id}"' not in page
    before = snapshot()
    response = file_new(client, team.group.id, commitment=str(theirs.id))
    assert response.status_code == 422
    assert snapshot() == before


def test_the_commitment_choice_is_a_fieldset_with_what_is_left_of_each_reservation(
    client, auth, team
):
    commitment = team.funded_commitment(budget_cents=50_000)
    team.fund(100_000)
    first = team.to_finance(amount_cents=12_000, commitment_id=commitment.id)
    spending.approve_spending(team.finance, first)
    auth.login(team.author)
    page = text_of(client.get(f"/groupes/{team.group.id}/depenses/nouvelle"))
    fieldset = page.split('<fieldset class="commitment-choice"')[1].split("</fieldset>")[0]
    assert "<legend>Action financée à laquelle rattacher la dépense</legend>" in fieldset
    assert "380 € (sur 500 €)" in fieldset
    assert fieldset.count('type="radio"') == 2
    assert 'accept=".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"' in page
    assert "multiple" in page.split('id="receipts"')[1].split(">")[0]


def test_a_receipt_that_is_a_web_page_named_pdf_is_refused(client, auth, team):
    auth.login(team.author)
    before = snapshot()
    response = file_new(client, team.group.id, files=[("facture.pdf", HTML)])
    assert response.status_code == 422
    page = text_of(response)
    assert "« facture.pdf » est refusé : c'est une page HTML" in page
    tag = re.search(r'<input type="file" id="receipts"[^>]*>', page)[0]
    assert 'aria-invalid="true"' in tag and "receipts-error" in tag
    assert 'value="Imprimerie du Port"' in page
    assert snapshot() == before
    assert stored_receipts() == []


def test_a_receipt_above_its_size_limit_is_413_naming_it(client, auth, team, app):
    app.config["RECEIPT_MAX_BYTES"] = 1024 * 1024
    auth.login(team.author)
    before = snapshot()
    big = b"%PDF-1.4\n" + b"0" * (2 * 1024 * 1024) + b"\n%%EOF\n"
    response = file_new(client, team.group.id, files=[("gros.pdf", big)])
    assert response.status_code == 413
    assert "« gros.pdf » pèse 2 Mo" in text_of(response)
    assert snapshot() == before
    assert stored_receipts() == []


def test_a_request_above_the_total_limit_is_413_in_french(client, auth, team, app):
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    auth.login(team.author)
    before = snapshot()
    response = file_new(client, team.group.id, files=[("scan.png", b"\x89PNG" + b"0" * 100_000)])
    assert response.status_code == 413
    assert "L'envoi est trop volumineux" in text_of(response)
    assert snapshot() == before


def test_only_managers_of_a_certified_group_open_the_form(app, team):
    manager, uncertified = f.manager_of(certified=False)
    assert (
        client_for(app, manager).get(f"/groupes/{uncertified.id}/depenses/nouvelle").status_code
        == 403
    )
    for person in (team.member, team.finance, f.person(admin=True)):
        client = client_for(app, person)
        assert client.get(f"/groupes/{team.group.id}/depenses/nouvelle").status_code == 403
    assert client_for(app, team.author).get("/groupes/999/depenses/nouvelle").status_code == 404
    response = app.test_client().get(f"/groupes/{team.group.id}/depenses/nouvelle")
    assert response.status_code == 302 and response.headers["Location"].startswith("/connexion")


# Who sees what -------------------------------------------------------------------------------


def test_the_iban_is_masked_for_the_group_and_whole_for_the_finance_team(app, team):
    request_id = team.draft()
    for person in (team.author, team.second):
        client = client_for(app, person)
        for url in (f"/depenses/{request_id}", f"/depenses/{request_id}/modifier"):
            page = text_of(client.get(url))
            assert "FR14" in page and "2 606" in page, url
            for digits in IBAN_MIDDLE:
                assert digits not in page, (url, digits)
    for person in (team.finance, f.person(admin=True)):
        page = text_of(client_for(app, person).get(f"/depenses/{request_id}"))
        assert "FR14 2004 1010 0505 0001 3M02 606" in page


def test_the_envelope_is_on_the_group_page_for_its_managers_and_the_finance_team_only(app, team):
    team.fund(12_345)
    team.draft(title="Affiches du marché")
    referent = f.person()
    f.member(referent, team.group, "referent")
    other_manager, _other_group = f.manager_of()
    seen = {
        "manager": team.author,
        "referent": referent,
        "finance": team.finance,
        "admin": f.person(admin=True),
    }
    hidden = {
        "member": team.member,
        "manager of another group": other_manager,
        "animation": f.person(animation=True),
    }
    for who, person in seen.items():
        page = text_of(client_for(app, person).get(f"/groupes/{team.group.id}"))
        assert "Enveloppe du groupe : 123,45 €" in page, who
        assert "Dons fléchés" in page and "+123,45 €" in page, who
        assert "Affiches du marché" in page, who
    for who, person in hidden.items():
        response = client_for(app, person).get(f"/groupes/{team.group.id}")
        assert response.status_code == 200
        assert "Enveloppe" not in text_of(response) and "Affiches" not in text_of(response), who
    anonymous = text_of(app.test_client().get(f"/groupes/{team.group.id}"))
    assert "Enveloppe" not in anonymous and "Affiches" not in anonymous


def test_the_new_request_button_is_for_managers_of_a_certified_group(app, team):
    label = "Nouvelle demande de dépense"
    assert label in text_of(client_for(app, team.author).get(f"/groupes/{team.group.id}"))
    assert label not in text_of(client_for(app, team.finance).get(f"/groupes/{team.group.id}"))
    manager, uncertified = f.manager_of(certified=False)
    page = text_of(client_for(app, manager).get(f"/groupes/{uncertified.id}"))
    assert "Enveloppe du groupe" in page and label not in page


def _pages(request_id, receipt_id, group_id):
    return [
        f"/depenses/{request_id}",
        f"/depenses/{request_id}/modifier",
        f"/depenses/justificatifs/{receipt_id}",
        f"/groupes/{group_id}/enveloppe",
        f"/groupes/{group_id}/depenses",
    ]


def test_the_request_pages_are_refused_to_anybody_else(app, team):
    request_id = team.draft()
    receipt_id = spending.request_receipts(request_id)[0].id
    other_manager, _other_group = f.manager_of()
    for person in (team.member, other_manager, f.person(animation=True)):
        client = client_for(app, person)
        for url in _pages(request_id, receipt_id, team.group.id):
            response = client.get(url)
            assert response.status_code == 403, url
            assert "Tracts" not in text_of(response) and "Imprimerie" not in text_of(response)
    for url in _pages(request_id, receipt_id, team.group.id):
        response = app.test_client().get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/connexion")


def test_the_finance_team_sees_the_request_but_does_not_edit_it(app, team):
    request_id = team.draft()
    client = client_for(app, team.finance)
    page = text_of(client.get(f"/depenses/{request_id}"))
    assert "Modifier" not in page and "Déposer la demande" not in page
    assert client.get(f"/depenses/{request_id}/modifier").status_code == 403


@pytest.mark.parametrize(
    "url",
    ["/depenses/999", "/depenses/999/modifier", "/depenses/justificatifs/999"],
)
def test_unknown_requests_and_receipts_are_404(app, team, url):
    assert client_for(app, team.finance).get(url).status_code == 404


# Validation by a second manager ------------------------------------------------------------


def test_a_manager_cannot_validate_their_own_request(app, team):
    request_id = team.draft()
    spending.submit_request(team.author, request_id)
    author = client_for(app, team.author)
    page = text_of(author.get(f"/depenses/{request_id}"))
    assert f'action="/depenses/{request_id}/validation"' not in page
    assert "Un·e second·e gestionnaire du groupe doit valider cette demande" in page
    before = snapshot()
    response = act(author, request_id, "validation")
    assert response.status_code == 403
    assert "ni son auteur·ice ni la dernière personne" in text_of(response)
    assert snapshot() == before
    page = text_of(client_for(app, team.second).get(f"/depenses/{request_id}"))
    assert f'action="/depenses/{request_id}/validation"' in page


def test_the_last_manager_to_edit_it_cannot_validate_it_either(app, team):
    request_id = team.draft()
    spending.submit_request(team.author, request_id)
    second = client_for(app, team.second)
    response = second.post(
        f"/depenses/{request_id}/modifier",
        data=form(title="Tracts et affiches", payee_iban="", version=version_of(request_id)),
    )
    assert response.status_code == 303
    for person in (team.second, team.author):
        page = text_of(client_for(app, person).get(f"/depenses/{request_id}"))
        assert f'action="/depenses/{request_id}/validation"' not in page
    third = f.person()
    f.member(third, team.group, "referent")
    page = text_of(client_for(app, third).get(f"/depenses/{request_id}"))
    assert f'action="/depenses/{request_id}/validation"' in page


def test_a_manager_sends_the_request_back_to_its_draft_with_a_reason(app, team):
    request_id = team.draft()
    spending.submit_request(team.author, request_id)
    second = client_for(app, team.second)
    before = snapshot()
    response = act(second, request_id, "brouillon", comment="  ")
    assert response.status_code == 422
    assert "Dites pourquoi la demande revient en brouillon." in text_of(response)
    assert snapshot() == before
    assert act(second, request_id, "brouillon", comment="Il manque le devis.").status_code == 303
    assert status_of(request_id) == SpendingStatus.draft


# The finance team ----------------------------------------------------------------------------


def test_information_is_requested_and_answered_with_a_comment(app, team):
    request_id = team.to_finance()
    finance, author = client_for(app, team.finance), client_for(app, team.author)
    before = snapshot()
    response = act(finance, request_id, "informations", comment="")
    assert response.status_code == 422
    assert "Écrivez la question posée au groupe." in text_of(response)
    assert snapshot() == before
    act(finance, request_id, "informations", comment="Le devis signé ?")
    page = text_of(author.get(f"/depenses/{request_id}"))
    assert "Le devis signé ?" in page and "Répondre" in page
    response = act(author, request_id, "reponse", comment="")
    assert response.status_code == 422
    assert "Écrivez votre réponse à l'équipe financière." in text_of(response)
    assert act(author, request_id, "reponse", comment="Le voici.").status_code == 303
    assert status_of(request_id) == SpendingStatus.awaiting_finance


def test_a_refusal_needs_a_reason(app, team):
    request_id = team.to_finance()
    finance = client_for(app, team.finance)
    before = snapshot()
    response = act(finance, request_id, "refus", comment="")
    assert response.status_code == 422
    assert snapshot() == before
    assert act(finance, request_id, "refus", comment="Hors périmètre.").status_code == 303
    assert status_of(request_id) == SpendingStatus.refused
    page = text_of(client_for(app, team.author).get(f"/depenses/{request_id}"))
    assert "Hors périmètre." in page and "rien n'a été débité" in page


def test_approval_is_refused_with_the_figures_when_the_envelope_cannot_cover_it(app, team):
    team.fund(5_000)
    request_id = team.to_finance(amount_cents=12_000)
    finance = client_for(app, team.finance)
    page = text_of(finance.get(f"/depenses/{request_id}"))
    approve_form = page.split(f'action="/depenses/{request_id}/approbation"')[1].split("</form>")[0]
    assert "l'enveloppe ne contient que 50 €" in approve_form
    before = snapshot()
    response = act(finance, request_id, "approbation")
    assert response.status_code == 409
    assert "L'enveloppe du groupe ne couvre pas cette demande" in text_of(response)
    assert snapshot() == before


def test_the_group_cannot_use_the_finance_teams_forms(app, team):
    team.fund(50_000)
    request_id = team.to_finance()
    second = client_for(app, team.second)
    before = snapshot()
    for action in ("approbation", "refus", "informations"):
        assert act(second, request_id, action, comment="Oui").status_code == 403
    assert snapshot() == before


# Stale pages ---------------------------------------------------------------------------------


def test_an_action_from_a_stale_page_is_409_and_writes_nothing(app, team):
    request_id = team.draft()
    stale = version_of(request_id)
    spending.update_request(team.second, request_id, fields(title="Autre titre"), stale)
    author = client_for(app, team.author)
    before = snapshot()
    response = act(author, request_id, "depot", version=stale)
    assert response.status_code == 409
    assert "modifiée entre-temps" in text_of(response)
    assert snapshot() == before
    response = author.post(f"/depenses/{request_id}/depot", data={})  # no version at all
    assert response.status_code == 409
    assert snapshot() == before


def test_an_edit_from_a_stale_page_is_409_and_keeps_what_was_typed(app, team):
    request_id = team.draft()
    stale = version_of(request_id)
    spending.update_request(team.second, request_id, fields(title="Autre titre"), stale)
    before = snapshot()
    response = client_for(app, team.author).post(
        f"/depenses/{request_id}/modifier",
        data=form(title="Mon titre", payee_iban="", version=stale),
    )
    assert response.status_code == 409
    page = text_of(response)
    assert "modifiée entre-temps" in page and 'value="Mon titre"' in page
    assert snapshot() == before


# Editing -------------------------------------------------------------------------------------


def test_an_edit_keeps_the_iban_when_left_empty_and_sends_a_submitted_request_back(app, team):
    request_id = team.to_finance()
    author = client_for(app, team.author)
    page = text_of(author.get(f"/depenses/{request_id}/modifier"))
    assert "revient à la validation" in page and 'name="payee_iban" type="text" value=""' in page
    assert 'value="120"' in page and 'value="Tracts pour la réunion publique"' in page
    response = author.post(
        f"/depenses/{request_id}/modifier",
        data=form(amount="130", payee_iban="", version=version_of(request_id)),
    )
    assert response.status_code == 303
    db.session.rollback()
    row = db.session.get(SpendingRequest, request_id)
    assert (row.amount_cents, row.payee_iban, row.status) == (
        13_000,
        IBAN,
        SpendingStatus.awaiting_group,
    )
    new_iban = "DE89370400440532013000"
    author.post(
        f"/depenses/{request_id}/modifier",
        data=form(amount="130", payee_iban=new_iban, version=version_of(request_id)),
    )
    assert fresh_iban(request_id) == new_iban


def fresh_iban(request_id) -> str:
    db.session.rollback()
    return db.session.get(SpendingRequest, request_id).payee_iban


def test_an_edit_is_checked_like_a_new_request(app, team):
    request_id = team.draft()
    before = snapshot()
    response = client_for(app, team.author).post(
        f"/depenses/{request_id}/modifier",
        data=form(amount="-4", payee_iban="FR00", version=version_of(request_id)),
    )
    assert response.status_code == 422
    page = text_of(response)
    assert "Écrivez un montant en euros" in page and "IBAN" in page
    assert snapshot() == before


def test_a_decided_request_cannot_be_edited(app, team):
    request_id = team.to_finance()
    spending.refuse_spending(team.finance, request_id, "Non.")
    author = client_for(app, team.author)
    assert author.get(f"/depenses/{request_id}/modifier").status_code == 409
    page = text_of(author.get(f"/depenses/{request_id}"))
    assert f'href="/depenses/{request_id}/modifier"' not in page


# Receipts ------------------------------------------------------------------------------------


def test_receipts_are_added_and_removed_on_the_request_page(app, team):
    request_id = team.draft()
    author = client_for(app, team.author)
    response = author.post(
        f"/depenses/{request_id}/justificatifs",
        data={
            "version": str(version_of(request_id)),
            "receipts": [(io.BytesIO(plain_jpeg()), "ticket.jpg"), (io.BytesIO(PDF), "devis.pdf")],
        },
    )
    assert response.status_code == 303
    names = [r.filename for r in spending.request_receipts(request_id)]
    assert names == ["facture.pdf", "ticket.jpg", "devis.pdf"]
    first = spending.request_receipts(request_id)[0].id
    response = author.post(
        f"/depenses/justificatifs/{first}/retrait", data={"version": str(version_of(request_id))}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/depenses/{request_id}"
    assert [r.filename for r in spending.request_receipts(request_id)] == [
        "ticket.jpg",
        "devis.pdf",
    ]


def test_a_refused_receipt_is_said_on_the_request_page(app, team):
    request_id = team.draft()
    before = snapshot()
    response = client_for(app, team.author).post(
        f"/depenses/{request_id}/justificatifs",
        data={"version": str(version_of(request_id)), "receipts": [(io.BytesIO(HTML), "a.pdf")]},
    )
    assert response.status_code == 422
    assert "c'est une page HTML" in text_of(response)
    assert snapshot() == before


def test_receipts_above_the_total_limit_are_413_on_the_request_page(app, team):
    request_id = team.draft()
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    before = snapshot()
    response = client_for(app, team.author).post(
        f"/depenses/{request_id}/justificatifs",
        data={"version": "1", "receipts": [(io.BytesIO(b"0" * 100_000), "gros.pdf")]},
    )
    assert response.status_code == 413
    assert "L'envoi est trop volumineux" in text_of(response)
    assert snapshot() == before


def test_a_submitted_request_keeps_its_last_receipt(app, team):
    request_id = team.draft()
    spending.submit_request(team.author, request_id)
    only = spending.request_receipts(request_id)[0].id
    author = client_for(app, team.author)
    page = text_of(author.get(f"/depenses/{request_id}"))
    assert f"/depenses/justificatifs/{only}/retrait" not in page
    before = snapshot()
    response = author.post(
        f"/depenses/justificatifs/{only}/retrait", data={"version": str(version_of(request_id))}
    )
    assert response.status_code == 409
    assert "garde au moins un justificatif" in text_of(response)
    assert snapshot() == before


def test_a_receipt_is_downloaded_as_an_attachment_never_shown_inline(app, team):
    request_id = team.draft()
    receipt_id = spending.request_receipts(request_id)[0].id
    for person in (team.second, team.finance):
        response = client_for(app, person).get(f"/depenses/justificatifs/{receipt_id}")
        assert response.status_code == 200
        assert response.data == PDF
        assert response.headers["Content-Type"] == "application/pdf"
        assert response.headers["Content-Disposition"] == "attachment; filename=facture.pdf"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "private, no-store"


def test_a_receipts_download_name_is_safe_and_has_its_real_extension(app, team):
    request_id = spending.create_request(
        team.author,
        team.group.id,
        fields(),
        [
            spending.UploadedFile("reçu d'été.pdf", PDF),
            spending.UploadedFile('scan"; x.png', plain_jpeg()),
        ],
    )
    first, second = (r.id for r in spending.request_receipts(request_id))
    client = client_for(app, team.author)
    disposition = client.get(f"/depenses/justificatifs/{first}").headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''re%C3%A7u%20d%27%C3%A9t%C3%A9.pdf" in disposition
    response = client.get(f"/depenses/justificatifs/{second}")
    assert response.headers["Content-Type"] == "image/jpeg"
    # The quote in the name is escaped; the image is a JPEG whatever its name says.
    assert response.headers["Content-Disposition"] == 'attachment; filename="scan\\"; x.png.jpg"'


def test_a_missing_file_is_404_not_an_error(app, team):
    request_id = team.draft()
    row = spending.request_receipts(request_id)[0]
    path = Path(current_app.config["UPLOADS_PATH"]) / "receipts" / row.stored_name
    path.unlink()
    response = client_for(app, team.author).get(f"/depenses/justificatifs/{row.id}")
    assert response.status_code == 404


# Lists ---------------------------------------------------------------------------------------


def test_the_envelope_history_is_paged_by_50_with_a_constant_number_of_queries(app, team):
    client = client_for(app, team.author)
    url = f"/groupes/{team.group.id}/enveloppe"
    counts = []
    for total in (10, 120):
        while db.session.scalar(select(func.count(LedgerOperation.id))) < total:
            team.fund(100)
        client.get(url)  # warm-up
        with counting_queries() as statements:
            response = client.get(url)
            assert response.status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
    page = text_of(response)
    assert page.count("+1 €") == 50 and "Page 1 sur 3" in page
    assert text_of(client.get(url + "?page=3")).count("+1 €") == 20
    assert client.get(url + "?page=4").status_code == 404


def test_the_group_page_links_to_every_request_when_there_are_more(app, team):
    for n in range(12):
        team.draft(title=f"Demande {n}")
    page = text_of(client_for(app, team.author).get(f"/groupes/{team.group.id}"))
    assert "Demande 11" in page and "Demande 1<" not in page
    assert "Toutes les demandes du groupe" in page
    page = text_of(client_for(app, team.author).get(f"/groupes/{team.group.id}/depenses"))
    assert all(f"Demande {n}<" in page for n in range(12))
    assert "<caption>" in page and 'scope="col"' in page


def test_a_draft_never_submitted_is_deleted_from_its_page_and_a_submitted_one_is_not(
    client, auth, app
):
    team = Team()
    draft = team.draft()
    submitted = team.draft()
    spending.submit_request(team.author, submitted)
    spending.return_to_draft(team.second, submitted, "Il manque le devis.")
    auth.login(team.second)
    page = client.get(f"/depenses/{draft}").get_data(as_text=True)
    assert "Supprimer le brouillon" in page
    assert "Supprimer le brouillon" not in client.get(f"/depenses/{submitted}").get_data(
        as_text=True
    )
    version = db.session.get(SpendingRequest, submitted).version
    before = snapshot()
    response = client.post(f"/depenses/{submitted}/suppression", data={"version": version})
    assert response.status_code == 409
    assert "déjà été déposée" in response.get_data(as_text=True)
    assert snapshot() == before
    response = client.post(f"/depenses/{draft}/suppression", data={"version": 1})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/groupes/{team.group.id}")
    db.session.rollback()
    assert db.session.get(SpendingRequest, draft) is None
