"""The finance team's queue of spending requests: who sees it, its filters, paging and totals,
the CSV and the SEPA file of the requests to pay, and marking them paid in one go."""

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from flask import url_for
from flask.testing import FlaskClient
from sqlalchemy import func, select

from models import (
    ActionGroup,
    AuditEntry,
    Commitment,
    Person,
    Proposal,
    SpendingCategory,
    SpendingEvent,
    SpendingRequest,
    SpendingStatus,
    db,
)
from services import spending
from services import spending_queue as sq
from tests import factories as f
from tests.dbstate import snapshot
from tests.test_finance import csv_get, measure, parse_csv, person_as, text_of
from tests.test_spending import Team
from views.spending import CATEGORY_LABELS

S = SpendingStatus
C = SpendingCategory
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
IBANS = [
    "FR1420041010050500013M02606",
    "DE89370400440532013000",
    "BE68539007547034",
    "NL91ABNA0417164300",
    "FR7630006000011234567890189",
    "ES9121000418450200051332",
]
CSV_HEADER = [
    "N°",
    "Approuvée le",
    "Groupe",
    "Bénéficiaire",
    "IBAN",
    "Montant (€)",
    "Part budget participatif (€)",
    "Part enveloppe (€)",
    "Titre",
    "Catégorie",
    "Action",
]
_sequence = iter(range(1, 1_000_000))


def add_request(
    group: ActionGroup,
    author: Person,
    status: SpendingStatus,
    amount_cents: int = 12_000,
    category: SpendingCategory = C.printing,
    commitment: Commitment | None = None,
    title: str | None = None,
    round_cents: int | None = None,
    payee_name: str = "Imprimerie du Port",
    payee_iban: str = IBANS[0],
    submitted_at: datetime | None = None,
) -> int:
    """A request written directly in the given status, with the dates and split it would have."""
    n = next(_sequence)
    submitted = None if status == S.draft else submitted_at or T0 + timedelta(minutes=n)
    decided = submitted + timedelta(days=1) if status in (S.approved, S.paid, S.refused) else None
    charged = status in (S.approved, S.paid)
    row = SpendingRequest(
        group_id=group.id,
        author_id=author.id,
        last_editor_id=author.id,
        title=title or f"Dépense {n}",
        category=category,
        amount_cents=amount_cents,
        spent_on=date(2027, 2, 1),
        payee_name=payee_name,
        payee_iban=payee_iban,
        commitment_id=commitment.id if commitment else None,
        status=status,
        round_cents=(round_cents or 0) if charged else None,
        envelope_cents=amount_cents - (round_cents or 0) if charged else None,
        created_at=submitted or T0,
        updated_at=submitted or T0,
        submitted_at=submitted,
        decided_at=decided,
        paid_at=decided + timedelta(days=1) if status == S.paid else None,
    )
    db.session.add(row)
    db.session.commit()
    return row.id


@dataclass
class Scene:
    finance: Person
    gardens: ActionGroup
    bikes: ActionGroup
    canteen: Proposal
    workshop: Proposal
    ids: dict[str, int]


@pytest.fixture
def finance(auth) -> Person:
    person = f.person(name="Fanny Finance", finance=True)
    auth.login(person)
    return person


def commitment_of(group: ActionGroup, proposal: Proposal) -> Commitment:
    f.commitments(proposal, [group])
    return db.session.scalar(
        select(Commitment).where(
            Commitment.group_id == group.id, Commitment.proposal_id == proposal.id
        )
    )


@pytest.fixture
def scene(app, finance) -> Scene:
    """Two groups, two actions, and a request in each status."""
    budget = f.budget_round()
    canteen = f.proposal(budget, title="Cantine populaire")
    workshop = f.proposal(budget, title="Atelier vélo")
    gardens_manager, gardens = f.manager_of(name="Les Jardins partagés")
    bikes_manager, bikes = f.manager_of(name="Vélo Lyon")
    on_canteen = commitment_of(gardens, canteen)
    on_workshop = commitment_of(bikes, workshop)
    g, b = (gardens, gardens_manager), (bikes, bikes_manager)
    ids = {
        "examine_1": add_request(*g, S.awaiting_finance, 12_000, C.printing, on_canteen),
        "question": add_request(*b, S.info_requested, 4_550, C.travel),
        "examine_2": add_request(*g, S.awaiting_finance, 3_000, C.consumables),
        "approved_1": add_request(
            *g,
            S.approved,
            20_000,
            C.printing,
            on_canteen,
            title="Affiches A2",
            round_cents=15_000,
            payee_name="Imprimerie Lumière & Fils",
            payee_iban=IBANS[1],
        ),
        "approved_2": add_request(
            *b,
            S.approved,
            8_000,
            C.room_hire,
            on_workshop,
            title="Salle des fêtes",
            payee_name="Mairie de Lyon",
            payee_iban=IBANS[2],
        ),
        "paid": add_request(*b, S.paid, 6_000, C.travel, payee_iban=IBANS[3]),
        "refused": add_request(*g, S.refused, 1_500, C.subscription),
        "draft": add_request(*g, S.draft, 999, C.printing),
        "awaiting_group": add_request(*b, S.awaiting_group, 777, C.travel),
    }
    return Scene(finance, gardens, bikes, canteen, workshop, ids)


def row_ids(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr id="spending-row-(\d+)"', page)]


def names(scene: Scene, page: str) -> list[str]:
    by_id = {v: k for k, v in scene.ids.items()}
    return [by_id[n] for n in row_ids(page)]


def queue(client, query: str = "") -> str:
    response = client.get(f"/finance/depenses{query}")
    assert response.status_code == 200
    return text_of(response)


def status_of(request_id: int) -> SpendingStatus:
    db.session.rollback()
    return db.session.get(SpendingRequest, request_id).status


def in_days(n: int) -> str:
    return (sq.paris_today() + timedelta(days=n)).isoformat()


# --- who may see it --------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/finance/depenses", "/finance/depenses/a-payer.csv"])
@pytest.mark.parametrize(
    "role, status",
    [
        ("anonymous", 302),
        ("member", 403),
        ("manager", 403),
        ("animation", 403),
        ("finance", 200),
        ("admin", 200),
    ],
)
def test_each_role_on_each_page(client, auth, url, role, status):
    person = person_as(role)
    if person is not None:
        auth.login(person)
    response = client.get(url, buffered=True)
    assert response.status_code == status
    if status == 302:
        assert response.headers["Location"].startswith(f"/connexion?next={url}")
    if status == 403:
        assert "réservé à l'équipe de suivi financier" in text_of(response)
        assert db.session.scalar(select(func.count(AuditEntry.id))) == 0


@pytest.mark.parametrize("path", ["/finance/depenses/virements", "/finance/depenses/paiement"])
@pytest.mark.parametrize("role", ["member", "manager", "animation"])
def test_payment_actions_are_refused_outside_the_finance_team(client, auth, scene, path, role):
    auth.logout()
    auth.login(person_as(role))
    before = snapshot()
    response = client.post(path, data={"ids": [str(scene.ids["approved_1"])], "date": in_days(3)})
    assert response.status_code == 403
    assert "xml" not in response.headers["Content-Type"]
    assert snapshot() == before


def test_the_finance_dashboard_links_to_the_queue(client, finance):
    f.budget_round()
    assert 'href="/finance/depenses"' in text_of(client.get("/finance"))


# --- filters ---------------------------------------------------------------------------------


def test_by_default_the_queue_lists_the_requests_awaiting_the_finance_team(client, scene):
    page = queue(client)
    # To examine first, the oldest submitted first; then those waiting for the group's answer.
    assert names(scene, page) == ["examine_1", "examine_2", "question"]
    assert "3 demandes de dépense : À traiter" in page


@pytest.mark.parametrize(
    "status, expected",
    [
        ("a-traiter", ["examine_1", "examine_2", "question"]),
        ("a-examiner", ["examine_1", "examine_2"]),
        ("informations-demandees", ["question"]),
        ("a-payer", ["approved_1", "approved_2"]),
        ("payees", ["paid"]),
        ("refusees", ["refused"]),
        (
            "toutes",
            ["examine_1", "examine_2", "question", "approved_1", "approved_2", "paid", "refused"],
        ),
        ("n-importe-quoi", ["examine_1", "examine_2", "question"]),
    ],
)
def test_status_filter(client, scene, status, expected):
    assert names(scene, queue(client, f"?statut={status}")) == expected


def test_drafts_and_requests_awaiting_their_group_are_never_listed(client, scene):
    page = queue(client, "?statut=toutes")
    assert scene.ids["draft"] not in row_ids(page)
    assert scene.ids["awaiting_group"] not in row_ids(page)


def test_group_filter(client, scene):
    page = queue(client, f"?statut=toutes&groupe={scene.bikes.id}")
    assert names(scene, page) == ["question", "approved_2", "paid"]
    assert f'<option value="{scene.bikes.id}" selected>Vélo Lyon</option>' in page


def test_category_filter(client, scene):
    assert names(scene, queue(client, "?statut=toutes&categorie=printing")) == [
        "examine_1",
        "approved_1",
    ]
    page = queue(client, "?statut=toutes&categorie=travel")
    assert names(scene, page) == ["question", "paid"]
    assert '<option value="travel" selected>Déplacement</option>' in page


def test_action_filter_follows_the_commitment_to_its_proposal(client, scene):
    page = queue(client, f"?statut=toutes&action={scene.canteen.id}")
    assert names(scene, page) == ["examine_1", "approved_1"]
    assert f'<option value="{scene.canteen.id}" selected>Cantine populaire</option>' in page
    assert names(scene, queue(client, "?statut=toutes&action=aucune")) == [
        "examine_2",
        "question",
        "paid",
        "refused",
    ]


def test_filters_combine(client, scene):
    query = (
        f"?statut=a-payer&groupe={scene.gardens.id}&categorie=printing&action={scene.canteen.id}"
    )
    assert names(scene, queue(client, query)) == ["approved_1"]
    query = f"?statut=toutes&groupe={scene.bikes.id}&categorie=printing"
    page = queue(client, query)
    assert row_ids(page) == []
    assert "Aucune demande de dépense ne correspond à ces critères." in page


@pytest.mark.parametrize(
    "query", ["?groupe=abc", "?groupe=99999", "?categorie=yacht", "?action=-1", "?page=x"]
)
def test_malformed_or_unknown_filters_are_ignored(client, scene, query):
    assert names(scene, queue(client, query)) == ["examine_1", "examine_2", "question"]


def test_filter_choices_are_the_groups_and_actions_with_requests(client, scene):
    idle_manager, idle = f.manager_of(name="Groupe sans demande")
    page = queue(client)
    assert "Les Jardins partagés</option>" in page and "Vélo Lyon</option>" in page
    assert "Groupe sans demande" not in page
    assert "Cantine populaire</option>" in page and "Atelier vélo</option>" in page
    for label in CATEGORY_LABELS.values():
        assert f">{label}</option>" in page
    assert "Location de véhicule</option>" in page


def test_counts_per_status_follow_the_other_filters_and_link_to_each_status(client, scene):
    page = queue(client, f"?groupe={scene.gardens.id}")
    counts = dict(
        re.findall(r'<li id="spending-count-([a-z-]+)">.*?badge-count">(\d+)<', page, flags=re.S)
    )
    assert counts == {
        "a-examiner": "2",
        "informations-demandees": "0",
        "a-payer": "1",
        "payees": "0",
        "refusees": "1",
    }
    assert f'href="/finance/depenses?statut=a-payer&amp;groupe={scene.gardens.id}"' in page


# --- rows and totals -------------------------------------------------------------------------


def test_each_row_shows_the_request_and_approved_ones_their_split(client, scene):
    row_id = scene.ids["approved_1"]
    db.session.get(SpendingRequest, row_id).submitted_at = datetime(2027, 3, 31, 22, 30, tzinfo=UTC)
    db.session.commit()
    page = queue(client, "?statut=a-payer")
    row = page.split(f'<tr id="spending-row-{row_id}">')[1].split("</tr>")[0]
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.split(r"<t[dh][^>]*>", row)[1:]]
    assert cells[1:] == [
        str(row_id),
        "01/04/2027",  # 22:30 UTC is the next day in Paris
        "Les Jardins partagés",
        "Affiches A2",
        "Impression",
        "Cantine populaire",
        "200\xa0€",
        "Approuvée, à payer",
        "150\xa0€",
        "50\xa0€",
    ]
    slug = db.session.get(Proposal, scene.canteen.id).slug
    assert f'<a href="/propositions/{slug}">Cantine populaire</a>' in row
    assert f'<a href="/groupes/{scene.gardens.id}">Les Jardins partagés</a>' in row


def test_requests_not_yet_approved_show_no_split(client, scene):
    page = queue(client)
    row = page.split(f'<tr id="spending-row-{scene.ids["examine_2"]}">')[1].split("</tr>")[0]
    assert "pas encore approuvée" in row and "Aucune" in row and "30\xa0€" in row
    page = queue(client, "?statut=refusees")
    row = page.split(f'<tr id="spending-row-{scene.ids["refused"]}">')[1].split("</tr>")[0]
    assert "refusée, rien n'est imputé" in row


def test_amount_to_pay_for_the_filters_and_overall(client, scene):
    page = queue(client)
    assert '<dd class="big" id="spending-to-pay-all">280\xa0€</dd>' in page
    assert "2 demandes approuvées" in page
    assert 'id="spending-to-pay"' not in page, "without filters, one figure"
    page = queue(client, f"?groupe={scene.bikes.id}")
    assert '<dd class="big" id="spending-to-pay">80\xa0€</dd>' in page
    assert '<dd class="muted" id="spending-to-pay-count">1 demande approuvée</dd>' in page
    assert '<dd class="big" id="spending-to-pay-all">280\xa0€</dd>' in page
    page = queue(client, "?categorie=travel")
    assert '<dd class="big" id="spending-to-pay">0\xa0€</dd>' in page


def test_paid_requests_no_longer_count_as_to_pay(client, scene):
    spending.mark_paid(scene.finance, [scene.ids["approved_2"]])
    page = queue(client)
    assert '<dd class="big" id="spending-to-pay-all">200\xa0€</dd>' in page


def test_an_approved_request_with_its_real_split_from_the_service(client, finance):
    team = Team()
    team.fund(30_000)
    commitment = team.funded_commitment(budget_cents=10_000)
    request_id = team.to_finance(amount_cents=25_000, commitment_id=commitment.id)
    page = queue(client)
    assert row_ids(page) == [request_id]
    spending.approve_spending(team.finance, request_id)
    page = queue(client, "?statut=a-payer")
    row = page.split(f'<tr id="spending-row-{request_id}">')[1].split("</tr>")[0]
    assert '<td class="amount">100\xa0€</td>' in row and '<td class="amount">150\xa0€</td>' in row


# --- paging and queries ----------------------------------------------------------------------


def add_many(n: int, group: ActionGroup, author: Person, commitment: Commitment) -> None:
    statuses = [S.awaiting_finance, S.info_requested, S.approved, S.paid, S.refused]
    for i in range(n):
        add_request(
            group,
            author,
            statuses[i % len(statuses)],
            1_000 + i,
            list(C)[i % len(C)],
            commitment if i % 2 else None,
        )


def test_paging_keeps_the_filters(app, client, finance):
    app.config["FINANCE_PER_PAGE"] = 2
    manager, group = f.manager_of(name="Groupe paginé")
    ids = [add_request(group, manager, S.approved) for _ in range(5)]
    page = queue(client, f"?statut=a-payer&groupe={group.id}&page=2")
    assert row_ids(page) == ids[2:4]
    assert "Page 2 sur 3" in page
    assert f"/finance/depenses?page=3&amp;statut=a-payer&amp;groupe={group.id}" in page
    assert f"/finance/depenses?page=1&amp;statut=a-payer&amp;groupe={group.id}" in page
    # A page beyond the last shows the last.
    assert row_ids(queue(client, f"?statut=a-payer&groupe={group.id}&page=99")) == ids[4:]
    # Every request to pay is behind the « all » buttons, not only this page's.
    assert page.count('name="toutes"') == 5


def test_pages_and_csv_issue_the_same_number_of_queries_with_10_or_200_requests(
    app, client, finance
):
    app.config["FINANCE_PER_PAGE"] = 5
    budget = f.budget_round()
    proposal = f.proposal(budget, title="Cantine")
    manager, group = f.manager_of()
    commitment = commitment_of(group, proposal)
    urls = [
        "/finance/depenses",
        "/finance/depenses?statut=toutes&page=2",
        f"/finance/depenses?statut=a-payer&groupe={group.id}&categorie=printing"
        f"&action={proposal.id}",
        "/finance/depenses?statut=payees&action=aucune",
        "/finance/depenses/a-payer.csv",
    ]
    add_many(10, group, manager, commitment)
    small = measure(client, urls)
    add_many(190, group, manager, commitment)
    assert db.session.scalar(select(func.count(SpendingRequest.id))) == 200
    big = measure(client, urls)
    assert small == big
    assert max(small) <= 12, small
    rows = parse_csv(csv_get(client, "/finance/depenses/a-payer.csv"))
    assert len(rows) == 1 + 40


def test_htmx_filtering_returns_the_results_alone(client, scene, hx):
    response = client.get(
        "/finance/depenses?statut=a-payer", headers={**hx, "HX-Target": "spending-queue-results"}
    )
    html = text_of(response)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    assert html.lstrip().startswith('<div id="spending-queue-results">')
    assert "<html" not in html and names(scene, html) == ["approved_1", "approved_2"]
    # The payment form sends back to the filtered queue.
    assert 'name="next" value="/finance/depenses?statut=a-payer"' in html


# --- markup ----------------------------------------------------------------------------------


def test_the_table_is_accessible_and_the_page_has_no_inline_script_or_style(client, scene):
    page = queue(client, "?statut=toutes")
    assert "<caption>7 demandes de dépense : Toutes</caption>" in page
    assert page.count('<th scope="col"') == 11
    assert page.count('<th scope="row"') == 7
    for key in ("approved_1", "approved_2"):
        n = scene.ids[key]
        assert re.search(
            rf'<label class="row-select">\s*<input type="checkbox" name="ids" value="{n}" >\s*'
            rf'<span class="visually-hidden">Sélectionner la demande n° {n}</span>',
            page,
        )
    # Only approved requests can be ticked.
    assert page.count('type="checkbox" name="ids"') == 2
    assert '<span class="badge badge-status badge-spending-paid">Payée</span>' in page
    assert "<script>" not in page and "<style" not in page and " style=" not in page
    assert " onclick=" not in page and "javascript:" not in page


def csrf_token_in(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, "no CSRF token in the page"
    return match.group(1)


def test_the_payment_form_carries_and_needs_its_csrf_token(csrf_app):
    client = csrf_app.test_client()
    person = f.person(email="fanny@example.org", finance=True)
    manager, group = f.manager_of()
    request_id = add_request(group, manager, S.approved)
    token = csrf_token_in(text_of(client.get("/connexion")))
    response = client.post(
        "/connexion", data={"email": person.email, "password": f.PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 303
    before = snapshot()
    response = client.post("/finance/depenses/paiement", data={"ids": [str(request_id)]})
    assert response.status_code == 400
    assert snapshot() == before
    page = text_of(client.get("/finance/depenses?statut=a-payer"))
    form = page.split('id="spending-queue-form"')[1].split("</form>")[0]
    token = csrf_token_in(form)
    response = client.post(
        "/finance/depenses/paiement",
        data={"ids": [str(request_id)], "csrf_token": token, "confirme": "1"},
    )
    assert response.status_code == 303
    assert status_of(request_id) == S.paid


# --- the CSV of the requests to pay ----------------------------------------------------------


def exports() -> list[tuple]:
    db.session.rollback()
    return [
        (e.actor_id, e.new_value, e.group_id)
        for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "spending.export").order_by(AuditEntry.id)
        )
    ]


def test_csv_lists_the_approved_requests_with_whole_ibans_and_french_amounts(client, scene):
    response = csv_get(client, "/finance/depenses/a-payer.csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    today = sq.paris_today()
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="demandes-a-payer-{today:%Y%m%d}.csv"'
    )
    rows = parse_csv(response)
    assert rows[0] == CSV_HEADER
    first, second = scene.ids["approved_1"], scene.ids["approved_2"]
    decided = {
        r.id: r.decided_at
        for r in db.session.scalars(
            select(SpendingRequest).where(SpendingRequest.id.in_([first, second]))
        )
    }
    assert rows[1:] == [
        [
            str(first),
            decided[first].astimezone(sq.PARIS).strftime("%d/%m/%Y %H:%M"),
            "Les Jardins partagés",
            "Imprimerie Lumière & Fils",
            IBANS[1],
            "200,00",
            "150,00",
            "50,00",
            "Affiches A2",
            "Impression",
            "Cantine populaire",
        ],
        [
            str(second),
            decided[second].astimezone(sq.PARIS).strftime("%d/%m/%Y %H:%M"),
            "Vélo Lyon",
            "Mairie de Lyon",
            IBANS[2],
            "80,00",
            "0,00",
            "80,00",
            "Salle des fêtes",
            "Location de salle",
            "Atelier vélo",
        ],
    ]


def test_csv_follows_the_filters_but_the_status_and_is_audited(client, scene):
    rows = parse_csv(
        csv_get(client, f"/finance/depenses/a-payer.csv?statut=payees&groupe={scene.bikes.id}")
    )
    assert [r[0] for r in rows[1:]] == [str(scene.ids["approved_2"])]
    csv_get(client, "/finance/depenses/a-payer.csv")
    assert exports() == [
        (scene.finance.id, "a-payer", scene.bikes.id),
        (scene.finance.id, "a-payer", None),
    ]
    page = text_of(client.get(f"/finance/depenses?groupe={scene.bikes.id}"))
    assert f'href="/finance/depenses/a-payer.csv?groupe={scene.bikes.id}"' in page


def test_csv_defuses_formulas_and_lists_a_request_without_action(client, finance):
    manager, group = f.manager_of(name="=1+1")
    request_id = add_request(
        group, manager, S.approved, 1_234_567, C.vehicle_hire, title="-Camion", payee_name="@Loueur"
    )
    rows = parse_csv(csv_get(client, "/finance/depenses/a-payer.csv"))
    assert rows[1] == [
        str(request_id),
        rows[1][1],
        "'=1+1",
        "'@Loueur",
        IBANS[0],
        "12345,67",
        "0,00",
        "12345,67",
        "'-Camion",
        "Location de véhicule",
        "",
    ]


def test_csv_response_is_streamed(app, scene):
    plain = FlaskClient(app, app.response_class, use_cookies=True)
    plain.post("/connexion", data={"email": scene.finance.email, "password": f.PASSWORD})
    response = plain.get("/finance/depenses/a-payer.csv")
    assert response.is_streamed
    assert len(parse_csv(response)) == 3


# --- the SEPA transfer file ------------------------------------------------------------------


def sepa(client, **data):
    return client.post("/finance/depenses/virements", data={"date": in_days(3), **data})


def transfers(response) -> dict:
    assert response.status_code == 200, text_of(response)[:2000]
    root = ET.fromstring(response.get_data())
    header = root.find("p:CstmrCdtTrfInitn/p:GrpHdr", NS)
    block = root.find("p:CstmrCdtTrfInitn/p:PmtInf", NS)
    return {
        "count": int(header.findtext("p:NbOfTxs", namespaces=NS)),
        "sum": Decimal(header.findtext("p:CtrlSum", namespaces=NS)),
        "date": block.findtext("p:ReqdExctnDt", namespaces=NS),
        "debtor": (
            block.findtext("p:Dbtr/p:Nm", namespaces=NS),
            block.findtext("p:DbtrAcct/p:Id/p:IBAN", namespaces=NS),
        ),
        "payments": [
            (
                tx.findtext("p:PmtId/p:EndToEndId", namespaces=NS),
                tx.findtext("p:Cdtr/p:Nm", namespaces=NS),
                tx.findtext("p:CdtrAcct/p:Id/p:IBAN", namespaces=NS),
                Decimal(tx.findtext("p:Amt/p:InstdAmt", namespaces=NS)),
                tx.findtext("p:RmtInf/p:Ustrd", namespaces=NS),
            )
            for tx in block.findall("p:CdtTrfTxInf", NS)
        ],
    }


def test_sepa_file_of_every_request_to_pay(app, client, scene):
    app.config.update(
        SEPA_DEBTOR_NAME="Mouvement Commun", SEPA_DEBTOR_IBAN=IBANS[4], SEPA_DEBTOR_BIC=""
    )
    first, second = scene.ids["approved_1"], scene.ids["approved_2"]
    page = queue(client)
    listed = [int(n) for n in re.findall(r'name="toutes" value="(\d+)"', page)]
    assert listed == [first, second]
    before = snapshot()
    response = sepa(client, portee="toutes", toutes=[str(n) for n in listed], date=in_days(5))
    assert response.headers["Content-Type"] == "application/xml; charset=utf-8"
    execution = sq.paris_today() + timedelta(days=5)
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="virements-commun-{execution:%Y%m%d}.xml"'
    )
    file = transfers(response)
    assert (file["count"], file["sum"], file["date"]) == (2, Decimal("280.00"), in_days(5))
    assert file["debtor"] == ("Mouvement Commun", IBANS[4])
    assert file["payments"] == [
        (
            f"COMMUN-REQ-{first}",
            "Imprimerie Lumiere + Fils",
            IBANS[1],
            Decimal("200.00"),
            f"Commun demande no {first} - Affiches A2",
        ),
        (
            f"COMMUN-REQ-{second}",
            "Mairie de Lyon",
            IBANS[2],
            Decimal("80.00"),
            f"Commun demande no {second} - Salle des fetes",
        ),
    ]
    # Producing the file changes nothing but the audit log: the requests stay approved until
    # marked paid, and who made which file for how much is recorded.
    after = snapshot()
    entries = after.pop("audit_entry")
    before.pop("audit_entry")
    assert after == before
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "spending.transfer_file")
    ).one()
    assert entry.new_value == "280\xa0€"
    assert f"COMMUN-REQ-{first} COMMUN-REQ-{second}" in entry.reason
    assert len(entries) == 1


def test_sepa_file_of_the_ticked_requests_only(client, scene):
    second = scene.ids["approved_2"]
    file = transfers(sepa(client, portee="selection", ids=[str(second)]))
    assert (file["count"], file["sum"]) == (1, Decimal("80.00"))
    assert [p[2] for p in file["payments"]] == [IBANS[2]]


def test_sepa_description_is_cut_at_140_characters(client, finance):
    manager, group = f.manager_of()
    request_id = add_request(group, manager, S.approved, title="x" * 160)
    description = transfers(sepa(client, ids=[str(request_id)]))["payments"][0][4]
    assert len(description) == 140
    assert description.startswith(f"Commun demande no {request_id} - xxx")
    assert (
        sq.payment_description(request_id, "x" * 160)
        == (f"Commun demande n° {request_id} - " + "x" * 160)[:140]
    )


def test_sepa_default_date_is_the_next_business_day(client, scene):
    page = queue(client, "?statut=a-payer")
    default = sq.next_business_day(sq.paris_today())
    assert default.weekday() < 5
    assert f'name="date" value="{default.isoformat()}" min="{sq.paris_today().isoformat()}"' in page
    assert sq.next_business_day(date(2027, 3, 5)) == date(2027, 3, 8)  # Friday → Monday
    assert sq.next_business_day(date(2027, 3, 6)) == date(2027, 3, 8)  # Saturday → Monday
    assert sq.next_business_day(date(2027, 3, 8)) == date(2027, 3, 9)


@pytest.mark.parametrize(
    "data, status, message",
    [
        ({"portee": "selection"}, 422, "Aucune demande approuvée à payer"),
        ({"portee": "toutes"}, 422, "Aucune demande approuvée à payer"),
        ({"ids": "approved_1", "date": "2020-01-01"}, 422, "ne peut pas être passée"),
        ({"ids": "approved_1", "date": "demain"}, 422, "date d'exécution"),
        ({"ids": "approved_1", "date": ""}, 422, "date d'exécution"),
        ({"ids": ["approved_1", "paid"]}, 409, "n° {paid}"),
        ({"ids": ["approved_1", "examine_1"]}, 409, "n° {examine_1}"),
        ({"ids": ["approved_1", "999999"]}, 404, "n'existe pas"),
        ({"ids": ["approved_1", "abc"]}, 404, "n'existe pas"),
    ],
)
def test_sepa_errors_re_render_the_queue_and_write_nothing(client, scene, data, status, message):
    def resolve(value):
        return str(scene.ids.get(value, value))

    if "ids" in data:
        ids = data["ids"] if isinstance(data["ids"], list) else [data["ids"]]
        data = {**data, "ids": [resolve(v) for v in ids]}
    before = snapshot()
    response = client.post(
        "/finance/depenses/virements",
        data={"date": in_days(3), "next": "/finance/depenses?statut=a-payer", **data},
    )
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("text/html")
    page = text_of(response)
    assert message.format(**scene.ids) in page.split('id="spending-queue-error">')[1]
    # The queue as it was, the boxes still ticked.
    assert names(scene, page) == ["approved_1", "approved_2"]
    if "ids" in data and str(scene.ids["approved_1"]) in data["ids"]:
        assert f'value="{scene.ids["approved_1"]}" checked' in page
    assert snapshot() == before


def test_sepa_today_is_accepted(client, scene):
    file = transfers(sepa(client, ids=[str(scene.ids["approved_1"])], date=in_days(0)))
    assert file["date"] == in_days(0)


def test_sepa_date_may_be_typed_the_french_way(client, scene):
    day = sq.paris_today() + timedelta(days=2)
    file = transfers(sepa(client, ids=[str(scene.ids["approved_1"])], date=f"{day:%d/%m/%Y}"))
    assert file["date"] == day.isoformat()


# --- marking paid ----------------------------------------------------------------------------


def test_mark_the_ticked_requests_paid(client, scene):
    first, second = scene.ids["approved_1"], scene.ids["approved_2"]
    response = client.post(
        "/finance/depenses/paiement",
        data={
            "ids": [str(first)],
            "portee": "selection",
            "next": "/finance/depenses?statut=a-payer",
            "confirme": "1",
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/finance/depenses?statut=a-payer"
    assert (status_of(first), status_of(second)) == (S.paid, S.approved)
    page = queue(client, "?statut=a-payer")
    assert "1 demande marquée payée." in page
    assert names(scene, page) == ["approved_2"]
    last = spending.request_timeline(first)[-1]
    assert (last.action, last.actor_id, last.from_status, last.to_status) == (
        "paid",
        scene.finance.id,
        "approved",
        "paid",
    )


def test_mark_every_request_of_the_file_paid(client, scene):
    first, second = scene.ids["approved_1"], scene.ids["approved_2"]
    response = client.post(
        "/finance/depenses/paiement",
        data={
            "toutes": [str(first), str(second)],
            "ids": [str(first)],
            "portee": "toutes",
            "confirme": "1",
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/finance/depenses"
    assert (status_of(first), status_of(second)) == (S.paid, S.paid)
    assert "2 demandes marquées payées." in queue(client)
    for request_id in (first, second):
        assert [e.action for e in spending.request_timeline(request_id)][-1] == "paid"
    paid_events = db.session.scalar(
        select(func.count(SpendingEvent.id)).where(SpendingEvent.action == "paid")
    )
    assert paid_events == 2


def test_marking_paid_is_confirmed_first_with_the_list_and_its_total(client, scene):
    first, second = scene.ids["approved_1"], scene.ids["approved_2"]
    before = snapshot()
    response = client.post(
        "/finance/depenses/paiement",
        data={"toutes": [str(first), str(second)], "portee": "toutes"},
    )
    assert response.status_code == 200
    page = text_of(response)
    assert "Marquer payées ces 2 demandes ?" in page
    assert "pour 280\xa0€ en tout" in page
    assert snapshot() == before
    form = page.split('name="confirme" value="1"')[1].split("</form>")[0]
    assert sorted(re.findall(r'name="ids" value="(\d+)"', form)) == sorted(
        [str(first), str(second)]
    )
    response = client.post(
        "/finance/depenses/paiement",
        data={"ids": [str(first), str(second)], "portee": "selection", "confirme": "1"},
    )
    assert response.status_code == 303
    assert (status_of(first), status_of(second)) == (S.paid, S.paid)


def test_marking_requests_already_paid_changes_nothing(client, scene):
    first = scene.ids["approved_1"]
    spending.mark_paid(scene.finance, [first])
    before = snapshot()
    response = client.post("/finance/depenses/paiement", data={"ids": [str(first)]})
    assert response.status_code == 303
    assert "déjà marquées payées" in queue(client)
    assert snapshot() == before


@pytest.mark.parametrize(
    "ids, status, message",
    [
        ([], 422, "Choisissez les demandes payées."),
        (["approved_1", "examine_1"], 409, "n° {examine_1}"),
        (["approved_1", "refused"], 409, "Rien n'a été marqué"),
        (["approved_1", "999999"], 404, "n'existe pas"),
        (["approved_1", "1x"], 404, "n'existe pas"),
    ],
)
def test_mark_paid_errors_re_render_the_queue_and_write_nothing(
    client, scene, ids, status, message
):
    values = [str(scene.ids.get(v, v)) for v in ids]
    before = snapshot()
    response = client.post(
        "/finance/depenses/paiement",
        data={"ids": values, "next": "/finance/depenses?statut=toutes", "date": "2099-01-02"},
    )
    assert response.status_code == status
    page = text_of(response)
    assert message.format(**scene.ids) in page.split('id="spending-queue-error">')[1]
    assert len(row_ids(page)) == 7, "the queue with its filters"
    assert 'name="date" value="2099-01-02"' in page
    assert snapshot() == before
    assert status_of(scene.ids["approved_1"]) == S.approved


def test_next_is_only_ever_the_queue(client, scene):
    for target in ("https://evil.example/", "//evil.example/", "/admin/personnes"):
        response = client.post(
            "/finance/depenses/paiement",
            data={"ids": [str(scene.ids["approved_1"])], "next": target, "confirme": "1"},
        )
        assert (response.status_code, response.headers["Location"]) == (303, "/finance/depenses")


def test_request_titles_link_to_the_request_page_once_it_exists(app, client, scene):
    page = queue(client)
    request_id = scene.ids["examine_1"]
    if "spending.show" in app.view_functions:
        with app.test_request_context():
            href = url_for("spending.show", request_id=request_id)
        assert f'<th scope="row"><a href="{href}">' in page
    else:  # the request page is not there yet: the title alone, no dead link
        title = db.session.get(SpendingRequest, request_id).title
        assert f'<th scope="row">{title}</th>' in page


def test_the_finance_page_links_the_money_pages_even_before_any_round(client, finance):
    page = client.get("/finance").get_data(as_text=True)
    assert "Aucun budget participatif n'a encore été créé" in page
    for path in ("/finance/depenses", "/finance/grand-livre", "/finance/dons/import"):
        assert f'href="{path}"' in page
