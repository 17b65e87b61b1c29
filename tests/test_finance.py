"""The finance dashboard and its CSV exports: who may see them, what they show, the files."""

import csv
import io
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from models import (
    ActionGroup,
    AuditEntry,
    BudgetRound,
    Commitment,
    CommitmentStatus,
    Person,
    Proposal,
    ProposalStatus,
    Reservation,
    ThresholdPolicy,
    db,
    utcnow,
)
from services import finance_queries as fq
from services.commitments import commit_group, withdraw_commitment
from services.errors import NotAllowed, NotFound
from services.rounds import RoundSettings, update_round
from tests import factories as f
from tests.test_queries import counting_queries

S = ProposalStatus
PARIS = ZoneInfo("Europe/Paris")

ENGAGEMENTS_HEADER = [
    "Groupe",
    "Commune",
    "Département",
    "Proposition",
    "Statut de l'engagement (actif/retiré)",
    "Engagé le",
    "Retiré le",
    "Proposition finançable (oui/non)",
    "Réservation (réservée/hors budget/—)",
    "Montant réservé (€)",
]
RESERVATIONS_HEADER = [
    "Groupe",
    "Commune",
    "Proposition",
    "Montant (€)",
    "Réservé le",
    "Libéré le",
    "État (active/libérée)",
]

ELAN = "Collectif Élan — Saint-Étienne"
# A name a spreadsheet would run as a formula, with a semicolon and quotes to escape.
FORMULA = '=HYPERLINK("http://x";"Les Amis; du quartier")'
WAITING = "Groupe en attente"


def text_of(response) -> str:
    return response.get_data(as_text=True).replace("&#39;", "'")


def parse_csv(response) -> list[list[str]]:
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with a BOM"
    text = raw.decode("utf-8-sig")
    lines = text.split("\r\n")
    assert lines[-1] == "" and all("\n" not in line for line in lines), "CRLF line ends"
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def csv_get(client, url: str):
    """A CSV download read whole inside the request (the test client runs each request in a
    context of its own, which a streamed body would otherwise outlive)."""
    return client.get(url, buffered=True)


def paris(moment) -> str:
    return moment.astimezone(PARIS).strftime("%d/%m/%Y %H:%M")


def person_as(role: str) -> Person | None:
    """Someone of each kind; None for the anonymous visitor."""
    if role == "anonymous":
        return None
    if role == "member":
        p = f.person()
        f.member(p, f.group(), "member")
        return p
    if role == "manager":
        return f.manager_of()[0]
    return f.person(**{role: True})


@dataclass
class Scene:
    """A round with room for exactly 2 reservations; 3 groups committed to an action whose
    threshold is 3: the first two reserve, the third is « hors budget »."""

    round_id: int
    proposal_id: int
    proposal_title: str
    managers: list[Person]
    groups: list[ActionGroup]


@pytest.fixture
def scene(app) -> Scene:
    budget = f.budget_round(base_threshold=3, total_cents=100_000, name="Budget 2027")
    proposal = f.proposal(budget, title="Cantine populaire", budget_cents=50_000)
    managers, groups = [], []
    for name, commune, departement in (
        (ELAN, "Saint-Étienne", "42"),
        (FORMULA, "Bordeaux", "33"),
        (WAITING, "-Ville", "69"),
    ):
        manager, group = f.manager_of(name=name, departement=departement)
        group.commune = commune
        db.session.commit()
        commit_group(manager, group.id, proposal.id)
        managers.append(manager)
        groups.append(group)
    return Scene(budget.id, proposal.id, proposal.title, managers, groups)


@pytest.fixture
def finance(auth) -> Person:
    person = f.person(name="Fanny Finance", finance=True)
    auth.login(person)
    return person


def exports(round_id: int) -> list[tuple]:
    db.session.rollback()
    return [
        (e.actor_id, e.new_value)
        for e in db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.round_id == round_id, AuditEntry.action == "round.export")
            .order_by(AuditEntry.id)
        )
    ]


# --- who may see it --------------------------------------------------------------------------

ROUTES = ["/finance", "/finance/{id}/engagements.csv", "/finance/{id}/reservations.csv"]


@pytest.mark.parametrize("route", ROUTES)
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
def test_each_role_on_each_route(client, auth, scene, route, role, status):
    person = person_as(role)
    if person is not None:
        auth.login(person)
    url = route.format(id=scene.round_id)
    response = client.get(url, buffered=True)
    assert response.status_code == status
    if status == 302:
        assert response.headers["Location"].startswith(f"/connexion?next={url}")
    if status == 403:
        assert "réservé à l'équipe de suivi financier" in text_of(response)
    if status != 200:
        assert exports(scene.round_id) == [], "a refused export writes nothing"


def test_export_refused_by_the_service_outside_finance(app, scene):
    with pytest.raises(NotAllowed):
        fq.record_export(f.person(animation=True), scene.round_id, "engagements")
    assert exports(scene.round_id) == []


@pytest.mark.parametrize(
    "url",
    [
        "/finance?round=999",
        "/finance?round=abc",
        "/finance?round=-1",
        "/finance/999/engagements.csv",
    ],
)
def test_an_unknown_round_is_a_french_404_and_writes_nothing(client, finance, scene, url):
    response = client.get(url, buffered=True)
    assert response.status_code == 404
    assert "Ce budget participatif n'existe pas." in text_of(response)
    assert db.session.scalar(select(func.count(AuditEntry.id))) == 0


def test_without_any_round_the_dashboard_says_so(client, finance):
    response = client.get("/finance")
    assert response.status_code == 200
    assert "Aucun budget participatif n'a encore été créé" in text_of(response)


def test_dashboard_shows_the_current_round_by_default_and_the_one_picked(client, finance):
    old = f.budget_round(name="Budget 2026", total_cents=5_000_000, current=False)
    f.budget_round(name="Budget 2027", total_cents=10_000_000, current=True)
    page = text_of(client.get("/finance"))
    assert '<h2 id="finance-figures-title">Budget 2027' in page
    assert "100\u202f000\xa0€" in page
    page = text_of(client.get(f"/finance?round={old.id}"))
    assert '<h2 id="finance-figures-title">Budget 2026' in page
    assert f'<option value="{old.id}" selected>Budget 2026</option>' in page
    assert "50\u202f000\xa0€" in page


# --- the CSV files ---------------------------------------------------------------------------


def engagement_rows(client, round_id: int) -> dict[str, list[str]]:
    response = csv_get(client, f"/finance/{round_id}/engagements.csv")
    assert response.status_code == 200
    rows = parse_csv(response)
    assert rows[0] == ENGAGEMENTS_HEADER
    return {row[0]: row for row in rows[1:]}


def test_engagements_csv_labels_reserved_and_hors_budget_commitments(client, finance, scene):
    response = csv_get(client, f"/finance/{scene.round_id}/engagements.csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="engagements-budget-2027.csv"'
    )
    rows = parse_csv(response)
    assert rows[0] == ENGAGEMENTS_HEADER
    assert len(rows) == 4
    by_group = {row[0]: row for row in rows[1:]}
    committed = {c.group_id: c.committed_at for c in db.session.scalars(select(Commitment)).all()}
    elan, formula, waiting = scene.groups
    assert by_group[ELAN] == [
        ELAN,
        "Saint-Étienne",
        "42",
        "Cantine populaire",
        "actif",
        paris(committed[elan.id]),
        "",
        "oui",
        "réservée",
        "500,00",
    ]
    # Neutralised: the csv module quoted the « ; » and the quotes, the apostrophe defuses « = ».
    assert by_group["'" + FORMULA][4:] == ["actif", paris(committed[formula.id]), "", "oui"] + [
        "réservée",
        "500,00",
    ]
    assert by_group[WAITING][1] == "'-Ville"
    assert by_group[WAITING][4:] == ["actif", paris(committed[waiting.id]), "", "oui"] + [
        "hors budget",
        "",
    ]
    raw = response.get_data().decode("utf-8-sig")
    assert '"\'=HYPERLINK(""http://x"";""Les Amis; du quartier"")"' in raw
    assert "\r\n=" not in raw and ";=" not in raw and ";-" not in raw


def test_a_withdrawal_gives_the_waiting_group_its_reservation(client, finance, scene):
    elan, _formula, waiting = scene.groups
    withdraw_commitment(scene.managers[0], elan.id, scene.proposal_id)
    by_group = engagement_rows(client, scene.round_id)
    withdrawn_at = db.session.scalar(
        select(Commitment.withdrawn_at).where(Commitment.group_id == elan.id)
    )
    assert by_group[ELAN][4:] == ["retiré", by_group[ELAN][5], paris(withdrawn_at), "oui", "—", ""]
    assert by_group[WAITING][8:] == ["réservée", "500,00"]

    rows = parse_csv(csv_get(client, f"/finance/{scene.round_id}/reservations.csv"))
    assert rows[0] == RESERVATIONS_HEADER
    assert [(r[0], r[3], r[6]) for r in rows[1:]] == [
        (ELAN, "500,00", "libérée"),
        ("'" + FORMULA, "500,00", "active"),
        (WAITING, "500,00", "active"),
    ]
    released = db.session.scalar(select(Reservation).where(Reservation.group_id == elan.id))
    assert rows[1][1:6] == [
        "Saint-Étienne",
        "Cantine populaire",
        "500,00",
        paris(released.reserved_at),
        paris(released.released_at),
    ]
    assert rows[3][5] == ""


def test_engagements_of_a_proposal_not_yet_fundable_have_no_reservation(client, finance):
    budget = f.budget_round(base_threshold=5)
    proposal = f.proposal(budget, title="Atelier vélo")
    manager, group = f.manager_of(name="Vélo Lyon")
    commit_group(manager, group.id, proposal.id)
    row = engagement_rows(client, budget.id)["Vélo Lyon"]
    assert row[4] == "actif" and row[7:] == ["non", "—", ""]


def test_exports_are_audited_with_the_file_kind(client, finance, scene):
    csv_get(client, f"/finance/{scene.round_id}/engagements.csv").get_data()
    csv_get(client, f"/finance/{scene.round_id}/reservations.csv").get_data()
    assert exports(scene.round_id) == [
        (finance.id, "engagements"),
        (finance.id, "reservations"),
    ]
    page = text_of(client.get("/finance"))
    assert page.count("Export CSV") == 2
    assert "réservations</td>" in page and "Fanny Finance" in page


def test_export_filename_is_an_ascii_slug_of_the_round(client, finance):
    budget = f.budget_round(name="Budget d'été 2027 ; « spécial »")
    response = csv_get(client, f"/finance/{budget.id}/reservations.csv")
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="reservations-budget-d-ete-2027-special.csv"'
    )
    assert parse_csv(response) == [RESERVATIONS_HEADER]
    assert fq.export_filename("engagements", "« »", 7) == "engagements-budget-7.csv"


@pytest.mark.parametrize(
    "cents, text",
    [(50_000, "500,00"), (123_450, "1234,50"), (5, "0,05"), (100_000_000_00, "100000000,00")],
)
def test_csv_amounts_are_french_decimals_without_thousands_separator(cents, text):
    assert fq.csv_amount(cents) == text


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_text_defuses_formulas(start):
    assert fq.csv_text(f"{start}1+1") == f"'{start}1+1"
    assert fq.csv_text(f"Groupe {start}") == f"Groupe {start}"


def test_csv_is_written_in_chunks(app, monkeypatch):
    monkeypatch.setattr(fq, "STREAM_BATCH", 2)
    chunks = list(fq.csv_stream(["a", "b"], ([str(i), "é"] for i in range(5))))
    assert len(chunks) == 4  # the header, then 2 + 2 + 1 rows
    text = b"".join(chunks).decode("utf-8-sig")
    assert text == "a;b\r\n" + "".join(f"{i};é\r\n" for i in range(5))


def test_csv_response_is_streamed(app, finance, scene):
    # A plain test client: the body is read after the view returned, as a server would.
    plain = FlaskClient(app, app.response_class, use_cookies=True)
    plain.post("/connexion", data={"email": finance.email, "password": f.PASSWORD})
    response = plain.get(f"/finance/{scene.round_id}/engagements.csv")
    assert response.is_streamed
    rows = parse_csv(response)
    assert rows[0] == ENGAGEMENTS_HEADER and len(rows) == 4


# --- the dashboard -----------------------------------------------------------------------------


def test_dashboard_figures_equal_the_database_sums(client, finance, scene):
    page = text_of(client.get("/finance"))
    budget = db.session.get(BudgetRound, scene.round_id)
    reserved = db.session.scalar(
        select(func.sum(Reservation.amount_cents)).where(
            Reservation.round_id == scene.round_id, Reservation.released_at.is_(None)
        )
    )
    assert reserved == budget.reserved_cents == 100_000
    assert '<dd class="big" id="finance-total">1\u202f000\xa0€</dd>' in page
    assert '<dd class="big" id="finance-reserved">1\u202f000\xa0€</dd>' in page
    assert '<dd class="big" id="finance-remaining">0\xa0€</dd>' in page
    # Reservations per proposal: 3 engaged, 2 reserved for 1 000 €, 1 hors budget.
    proposals = page.split('id="finance-proposals"')[1].split("</section>")[0]
    cells = [c.strip() for c in proposals.split('<td class="amount">')[1:]]
    assert [c.split("</td>")[0] for c in cells] == ["500\xa0€", "3", "2", "1\u202f000\xa0€", "1"]
    # Reservations per group: the two that reserved, 500 € each.
    groups = page.split('id="finance-groups"')[1].split("</section>")[0]
    assert "Collectif Élan — Saint-Étienne" in groups and WAITING not in groups
    assert groups.count("500\xa0€") == 2
    # Hors budget: the third group, with its commitment date in Paris time.
    outside = page.split('id="finance-outside"')[1].split("</section>")[0]
    committed = db.session.scalar(
        select(Commitment.committed_at).where(Commitment.group_id == scene.groups[2].id)
    )
    assert WAITING in outside and ELAN not in outside
    assert paris(committed) in outside
    assert "1 engagement hors budget" in outside


def test_proposals_by_state_are_counted_for_the_round(client, finance):
    budget = f.budget_round(base_threshold=1)
    other = f.budget_round(name="Autre", current=False)
    for status, n in [
        (S.draft, 1),
        (S.submitted, 2),
        (S.in_review, 3),
        (S.published, 4),
        (S.declined, 1),
        (S.withdrawn, 2),
    ]:
        for _ in range(n):
            f.proposal(budget, status=status)
    f.proposal(other, status=S.submitted)
    fundable = db.session.scalars(
        select(Proposal).where(Proposal.status == S.published).limit(1)
    ).first()
    fundable.fundable_at = utcnow()
    db.session.commit()
    expected = {
        "draft": 1,
        "submitted": 2,
        "in_review": 3,
        "published_open": 3,
        "published_fundable": 1,
        "declined": 1,
        "withdrawn": 2,
    }
    assert fq.state_counts(budget.id) == expected
    page = text_of(client.get(f"/finance?round={budget.id}"))
    for state, label in [
        ("draft", "Brouillon"),
        ("submitted", "Soumise"),
        ("in_review", "En revue"),
        ("published_open", "Publiée, ouverte aux engagements"),
        ("published_fundable", "Publiée, finançable"),
        ("declined", "Refusée"),
        ("withdrawn", "Retirée"),
    ]:
        assert (
            f'<tr id="finance-state-{state}"><th scope="row">{label}</th>'
            f'<td class="amount">{expected[state]}</td></tr>'
        ) in page
    assert "13 propositions dans ce budget" in page


def test_published_proposals_link_to_their_public_page(client, finance, scene):
    f.proposal(db.session.get(BudgetRound, scene.round_id), title="Idée refusée", status=S.declined)
    page = text_of(client.get("/finance"))
    slug = db.session.get(Proposal, scene.proposal_id).slug
    assert f'<a href="/propositions/{slug}">Cantine populaire</a>' in page
    # A declined proposal without commitments is not in the reservations table.
    assert "Idée refusée" not in page


def test_round_audit_log_lists_changes_with_a_link_to_the_round_page(client, finance, scene):
    budget = db.session.get(BudgetRound, scene.round_id)
    settings = RoundSettings(
        name=budget.name,
        total_cents=150_000,
        base_threshold=budget.base_threshold,
        policy=ThresholdPolicy.manual,
        opens_at=budget.opens_at,
        closes_at=budget.closes_at,
    )
    update_round(finance, scene.round_id, settings, "Un don de la fédération")
    page = text_of(client.get("/finance"))
    audit = page.split('id="finance-audit-title"')[1]
    assert "Montant total" in audit and "Un don de la fédération" in audit
    assert "1\u202f000\xa0€" in audit and "1\u202f500\xa0€" in audit
    assert f'href="/budgets/{scene.round_id}"' in audit
    # The larger total served the waiting group at once.
    assert '<dd class="big" id="finance-remaining">0\xa0€</dd>' in page
    assert "Aucun engagement hors budget" in page


def test_audit_log_shows_the_latest_20_entries(client, finance, scene):
    now = utcnow()
    db.session.add_all(
        AuditEntry(
            actor_id=finance.id,
            action="round.name",
            round_id=scene.round_id,
            old_value=f"Nom {i}",
            new_value=f"Nom {i + 1}",
            at=now - timedelta(minutes=30 - i),
        )
        for i in range(25)
    )
    db.session.commit()
    audit = text_of(client.get("/finance")).split('id="finance-audit-title"')[1]
    assert audit.count("<tr>") == 21  # the head and 20 entries
    assert "Nom 25" in audit and ">Nom 4<" not in audit


def add_reserved_groups(round_id: int, n: int, start: int) -> None:
    """n groups, each with an active reservation on its own fundable proposal, and a
    commitment « hors budget » on a shared fundable proposal (rows written directly)."""
    now = utcnow()
    groups = [
        ActionGroup(name=f"Groupe {start + i:05d}", commune="Lyon", departement="69")
        for i in range(n)
    ]
    proposals = [
        Proposal(
            round_id=round_id,
            title=f"Action {start + i}",
            slug=f"action-finance-{start + i}",
            summary="Résumé",
            category="culture",
            per_group_budget_cents=1_000,
            status=S.published,
            published_at=now,
            fundable_at=now,
            fundable_threshold=1,
            fundable_count=1,
            commitment_count=1,
            reserved_count=1,
            reserved_cents=1_000,
        )
        for i in range(n)
    ]
    shared = Proposal(
        round_id=round_id,
        title=f"Action partagée {start}",
        slug=f"action-finance-shared-{start}",
        summary="Résumé",
        category="culture",
        per_group_budget_cents=1_000_000,
        status=S.published,
        published_at=now,
        fundable_at=now,
        fundable_threshold=1,
        fundable_count=n,
        commitment_count=n,
    )
    db.session.add_all([*groups, *proposals, shared])
    db.session.flush()
    for g, p in zip(groups, proposals, strict=True):
        c = Commitment(group_id=g.id, proposal_id=p.id)
        db.session.add(c)
        db.session.add(Commitment(group_id=g.id, proposal_id=shared.id))
        db.session.flush()
        db.session.add(
            Reservation(
                round_id=round_id,
                proposal_id=p.id,
                commitment_id=c.id,
                group_id=g.id,
                amount_cents=1_000,
            )
        )
    budget = db.session.get(BudgetRound, round_id)
    budget.reserved_cents += 1_000 * n
    db.session.commit()


def measure(client, urls: list[str]) -> list[int]:
    counts = []
    for url in urls:
        client.get(url, buffered=True)  # warm-up: template compilation stays out of the count
        with counting_queries() as statements:
            response = client.get(url, buffered=True)
            assert response.status_code == 200, url
            response.get_data()
        counts.append(len(statements))
    return counts


def test_pages_and_exports_issue_the_same_number_of_queries_with_10_or_200_rows(
    app, client, finance
):
    app.config["FINANCE_PER_PAGE"] = 5
    budget = f.budget_round(total_cents=10_000_000)
    f.proposal(budget, status=S.draft)
    urls = [
        "/finance",
        f"/finance?round={budget.id}&p_prop=2&p_group=2&p_hors=2",
        f"/finance/{budget.id}/engagements.csv",
        f"/finance/{budget.id}/reservations.csv",
    ]
    add_reserved_groups(budget.id, 10, start=0)
    small = measure(client, urls)
    add_reserved_groups(budget.id, 190, start=10)
    assert db.session.scalar(select(func.count(Commitment.id))) == 400
    big = measure(client, urls)
    assert small == big
    assert max(small) <= 13, small
    page = text_of(client.get("/finance"))
    # 200 proposals of their own, and the two shared ones.
    assert "202 propositions, les plus gros montants réservés d'abord" in page
    assert "200 groupes avec des réservations actives" in page
    assert "200 engagements hors budget" in page
    rows = parse_csv(csv_get(client, f"/finance/{budget.id}/engagements.csv"))
    assert len(rows) == 401


# --- pagination --------------------------------------------------------------------------------


def test_each_table_pages_on_its_own_parameter(app, client, finance):
    app.config["FINANCE_PER_PAGE"] = 3
    budget = f.budget_round(total_cents=10_000_000)
    add_reserved_groups(budget.id, 7, start=0)
    page = text_of(client.get("/finance?p_group=2&p_hors=3"))
    groups = page.split('id="finance-groups"')[1].split("</section>")[0]
    outside = page.split('id="finance-outside"')[1].split("</section>")[0]
    proposals = page.split('id="finance-proposals"')[1].split("</section>")[0]
    assert "Page 2 sur 3" in groups and "Page 3 sur 3" in outside and "Page 1 sur 3" in proposals
    # A table's links keep the other tables' pages and the round.
    assert f"/finance?round={budget.id}&amp;p_group=3&amp;p_hors=3" in groups
    assert f"/finance?round={budget.id}&amp;p_prop=2&amp;p_group=2&amp;p_hors=3" in proposals
    assert f"/finance?round={budget.id}&amp;p_group=2&amp;p_hors=2" in outside
    # A page beyond the last shows the last.
    assert (
        "Page 3 sur 3"
        in text_of(client.get("/finance?p_group=99"))
        .split('id="finance-groups"')[1]
        .split("</section>")[0]
    )


def test_htmx_paging_returns_the_table_alone(app, client, finance, hx):
    app.config["FINANCE_PER_PAGE"] = 3
    budget = f.budget_round(total_cents=10_000_000)
    add_reserved_groups(budget.id, 7, start=0)
    response = client.get(
        f"/finance?round={budget.id}&p_group=2", headers={**hx, "HX-Target": "finance-groups"}
    )
    html = text_of(response)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    assert html.lstrip().startswith('<section id="finance-groups"')
    assert "<html" not in html and "Page 2 sur 3" in html
    assert 'hx-target="#finance-groups"' in html


def test_service_page_functions_refuse_unknown_rounds(app):
    with pytest.raises(NotFound):
        fq.round_for_dashboard(12345)


def test_outside_budget_counts_only_active_commitments_without_reservation(app, scene):
    page = fq.outside_budget(scene.round_id, 1, 10)
    assert page.total == 1 and [r.group_name for r in page.rows] == [WAITING]
    withdraw_commitment(scene.managers[2], scene.groups[2].id, scene.proposal_id)
    assert fq.outside_budget(scene.round_id, 1, 10).total == 0
    assert (
        db.session.scalar(
            select(func.count(Commitment.id)).where(Commitment.status == CommitmentStatus.active)
        )
        == 2
    )
