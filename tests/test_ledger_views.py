"""The finance team's grand livre pages (issue 5): who sees them, the import of earmarked
donations through its preview, manual allocations and corrections with their French errors,
a constant number of queries per page, and CSRF on every form."""

import base64
import html
import io
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from models import AccountKind, AuditEntry, LedgerOperation, db
from services import donations, ledger
from tests import factories as f
from tests.dbstate import snapshot
from tests.test_donations import csv_bytes
from tests.test_ledger import balances_are_sums
from tests.test_queries import counting_queries

ROLES = ("anonymous", "member", "manager", "animation", "finance", "admin")


def someone(role: str):
    """A person of that role, or None for a visitor who is not signed in."""
    if role == "anonymous":
        return None
    if role == "member":
        person = f.person()
        f.member(person, f.group(), "member")
        return person
    if role == "manager":
        return f.manager_of()[0]
    return f.person(**{role: True})


@pytest.fixture
def finance(auth):
    person = f.person(name="Fanny Finance", finance=True)
    auth.login(person)
    return person


def text(response) -> str:
    """The page as read: entities such as &#39; decoded."""
    return html.unescape(response.get_data(as_text=True))


def operations() -> list[LedgerOperation]:
    db.session.rollback()
    return db.session.scalars(select(LedgerOperation).order_by(LedgerOperation.id)).all()


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def upload(client, raw: bytes, filename: str = "dons.csv"):
    return client.post("/finance/dons/import", data={"file": (io.BytesIO(raw), filename)})


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', page)
    assert match, f"no hidden {name}"
    return match.group(1)


def confirm(client, preview):
    """Press « Importer N dons » on the preview page."""
    page = preview.get_data(as_text=True)
    return client.post(
        "/finance/dons/import/confirmation",
        data={
            "content": hidden(page, "content"),
            "filename": html.unescape(hidden(page, "filename")),
        },
    )


# Who may see and do what -----------------------------------------------------------------------

PAGES = [
    "/finance/grand-livre",
    "/finance/dons/import",
    "/finance/dons/nouveau",
    "/finance/grand-livre/operations/{op}/correction",
]


@pytest.mark.parametrize("url", PAGES)
@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 302),
        ("member", 403),
        ("manager", 403),
        ("animation", 403),
        ("finance", 200),
        ("admin", 200),
    ],
)
def test_only_the_finance_team_and_admins_see_the_ledger_pages(client, auth, url, role, status):
    g = f.group()
    op_id = ledger.allocate(f.person(finance=True), g.id, 1_000, "Don")
    person = someone(role)
    if person is not None:
        auth.login(person)
    url = url.format(op=op_id)

    response = client.get(url)

    assert response.status_code == status
    if status == 302:
        assert response.headers["Location"].startswith(f"/connexion?next={url}")
    if status == 403:
        assert "réservé à l'équipe de suivi financier" in text(response)


@pytest.mark.parametrize("role", ["anonymous", "member", "manager", "animation"])
def test_no_one_else_imports_allocates_or_corrects(client, auth, role):
    g = f.group()
    op_id = ledger.allocate(f.person(finance=True), g.id, 1_000, "Don")
    raw = csv_bytes(f"2026-11-03;{g.id};12,50;DON-1")
    person = someone(role)
    if person is not None:
        auth.login(person)
    before = snapshot()
    posts = [
        ("/finance/dons/import", {"file": (io.BytesIO(raw), "dons.csv")}),
        ("/finance/dons/import/confirmation", {"content": b64(raw), "filename": "dons.csv"}),
        ("/finance/dons/nouveau", {"group_id": g.id, "amount": "10", "reason": "Don"}),
        (f"/finance/grand-livre/operations/{op_id}/correction", {"reason": "Erreur"}),
    ]
    for url, data in posts:
        response = client.post(url, data=data)
        assert response.status_code == (302 if role == "anonymous" else 403), url
    assert snapshot() == before


def test_the_finance_dashboard_links_to_the_grand_livre_and_the_import(client, finance):
    f.budget_round()
    page = text(client.get("/finance"))
    assert 'href="/finance/grand-livre"' in page
    assert 'href="/finance/dons/import"' in page
    assert 'href="/finance/dons/nouveau"' in page


# The import: preview, then all or nothing ------------------------------------------------------


def test_the_preview_lists_every_row_with_its_state_and_the_totals(client, finance):
    g = f.group(name="Les Jardins d'Élan")
    ledger.allocate(finance, g.id, 1_000, "Don", reference="DON-OLD")
    raw = csv_bytes(
        f"2026-11-03;{g.id};1 234,50 €;DON-1",
        f"03/11/2026;{g.id};12,50;DON-2",
        f"2026-11-01;{g.id};10;DON-OLD",
    )
    before = snapshot()

    response = upload(client, raw, "dons-novembre.csv")

    assert response.status_code == 200
    assert snapshot() == before
    page = text(response)
    assert "Aperçu de « dons-novembre.csv »" in page
    assert re.search(r'id="import-new">2<', page)
    assert re.search(r'id="import-amount">1\u202f247\xa0€<', page)
    assert re.search(r'id="import-recorded">1<', page)
    assert re.search(r'id="import-errors">0<', page)
    for line, reference, state in ((2, "DON-1", "À ajouter"), (3, "DON-2", "À ajouter")):
        row = re.search(rf'<tr id="ligne-{line}".*?</tr>', page, re.S).group(0)
        assert "Les Jardins d'Élan" in row and reference in row and state in row
        assert "3 novembre 2026" in row
    assert "Déjà importé" in re.search(r'<tr id="ligne-4".*?</tr>', page, re.S).group(0)
    assert "Importer 2 dons" in page
    assert "Les 3 lignes du fichier" in page


def test_the_preview_shows_each_row_with_its_error_and_offers_no_import(client, finance):
    g = f.group()
    raw = csv_bytes(
        f"2026-11-03;{g.id};12,50;DON-1",
        f"31/02/2026;{g.id};12,50;DON-2",
        "2026-11-03;999;12,50;DON-3",
        f"2026-11-03;{g.id};12,505;DON-4",
        f"2026-11-03;{g.id};5;DON-1",
        f"2026-11-03;{g.id};5;",
    )
    before = snapshot()

    response = upload(client, raw)

    assert response.status_code == 422
    assert snapshot() == before
    page = text(response)
    expected = {
        3: "Date impossible « 31/02/2026 ».",
        4: "Aucun groupe n° 999.",
        5: "deux chiffres après la virgule au plus",
        6: "Référence « DON-1 » en double dans le fichier (déjà ligne 2).",
        7: "Référence du don manquante.",
    }
    for line, message in expected.items():
        row = re.search(rf'<tr id="ligne-{line}".*?</tr>', page, re.S).group(0)
        assert "Erreur" in row and message in row, line
    assert "5 lignes sont en erreur : rien ne peut être importé" in page
    assert 'href="#ligne-3"' in page
    assert "/finance/dons/import/confirmation" not in page


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "Choisissez le fichier CSV à importer."),
        (b"\r\n", "Le fichier est vide."),
        (b"date;groupe;montant;reference\r\n", "aucun don : seulement la ligne d'en-tête"),
        (b"date;groupe;montant\r\n2026-11-03;1;12\r\n", "Colonne introuvable"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "pas un fichier texte CSV"),
        ("date;groupe;montant;référence".encode("utf-16"), "UTF-16"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_with_a_french_message(client, finance, raw, message):
    before = snapshot()
    response = upload(client, raw, "dons.csv" if raw else "")
    assert response.status_code == 422
    page = text(response)
    assert message in page
    assert 'aria-invalid="true"' in page and 'aria-describedby="file-help file-error"' in page
    assert snapshot() == before


def test_a_file_above_2_mb_is_refused_as_too_big(client, finance):
    raw = csv_bytes(*(f"2026-11-03;1;12,50;DON-{n}" for n in range(100_000)))
    response = upload(client, raw)
    assert response.status_code == 413
    assert "Le fichier dépasse 2 Mo" in text(response)


def test_a_request_above_the_servers_limit_is_a_french_413(app, client, finance):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = upload(client, csv_bytes(*(f"2026-11-03;1;12,50;DON-{n}" for n in range(100))))
    assert response.status_code == 413
    assert "Le fichier dépasse 2 Mo" in text(response)


def test_importing_from_the_preview_records_every_donation_and_says_so(client, finance):
    g, other = f.group(), f.group()
    raw = csv_bytes(
        f"2026-11-03;{g.id};12,50;DON-1",
        f"2026-11-03;{other.id};1 000;DON-2",
    )
    preview = upload(client, raw, "dons-novembre.csv")

    response = confirm(client, preview)

    assert response.status_code == 303
    assert response.headers["Location"] == "/finance/grand-livre"
    assert [(op.reference, op.amount_cents) for op in operations()] == [
        ("DON-1", 1_250),
        ("DON-2", 100_000),
    ]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "ledger.import"))
    assert entry.new_value == "2 dons, 1\u202f012,50\xa0€ ; fichier « dons-novembre.csv »"
    page = text(client.get("/finance/grand-livre"))
    assert "2 dons importés dans les enveloppes des groupes, pour 1\u202f012,50\xa0€." in page
    balances_are_sums()


def test_a_windows_1252_file_with_a_semicolon_goes_through_preview_and_import(client, finance):
    g = f.group()
    raw = csv_bytes(f"03/11/2026;{g.id};1 234,50 €;Fête-d'Été-7", encoding="cp1252")

    preview = upload(client, raw)
    assert "Encodage : Windows-1252 ; séparateur : « ; »." in text(preview)
    assert confirm(client, preview).status_code == 303

    assert [(op.reference, op.amount_cents) for op in operations()] == [("Fête-d'Été-7", 123_450)]


def test_a_file_with_one_bad_row_sent_to_import_writes_nothing(client, finance):
    g = f.group()
    raw = csv_bytes(f"2026-11-03;{g.id};12,50;DON-1", f"2026-11-03;{g.id};douze;DON-2")
    before = snapshot()

    response = client.post(
        "/finance/dons/import/confirmation", data={"content": b64(raw), "filename": "dons.csv"}
    )

    assert response.status_code == 422
    page = text(response)
    assert "1 ligne du fichier est en erreur : rien n'a été importé." in page
    assert "Montant illisible « douze »" in page
    assert snapshot() == before


def test_a_file_imported_twice_adds_nothing_the_second_time(client, finance):
    g = f.group()
    raw = csv_bytes(f"2026-11-03;{g.id};12,50;DON-1", f"2026-11-04;{g.id};7,50;DON-2")
    assert confirm(client, upload(client, raw)).status_code == 303
    before = snapshot()

    preview = upload(client, raw)
    assert "Tous les dons de ce fichier sont déjà inscrits au grand livre" in text(preview)
    assert "/finance/dons/import/confirmation" not in text(preview)
    # The same preview confirmed twice (a double click, or two tabs).
    response = client.post(
        "/finance/dons/import/confirmation", data={"content": b64(raw), "filename": "dons.csv"}
    )

    assert response.status_code == 303
    assert snapshot() == before
    assert ledger.envelope_balance(g.id) == 2_000
    assert "rien n'a été ajouté" in text(client.get("/finance/grand-livre"))


@pytest.mark.parametrize("content", ["pas du base64 !", ""])
def test_a_tampered_confirmation_is_refused_and_writes_nothing(client, finance, content):
    before = snapshot()
    response = client.post(
        "/finance/dons/import/confirmation", data={"content": content, "filename": "x.csv"}
    )
    assert response.status_code == 422
    assert snapshot() == before


# Manual allocation -----------------------------------------------------------------------------


def test_a_manual_allocation_goes_into_the_groups_envelope(client, finance):
    g = f.group(name="Groupe de Tulle")

    form = text(client.get(f"/finance/dons/nouveau?groupe={g.id}"))
    assert f'<option value="{g.id}" selected>' in form
    response = client.post(
        "/finance/dons/nouveau",
        data={
            "group_id": g.id,
            "amount": "1 234,50",
            "reason": "Don par chèque de la fête",
            "reference": "CHQ-12",
        },
    )

    assert response.status_code == 303
    (op,) = operations()
    assert (op.amount_cents, op.reason, op.reference, op.actor_id) == (
        123_450,
        "Don par chèque de la fête",
        "CHQ-12",
        finance.id,
    )
    assert ledger.envelope_balance(g.id) == 123_450
    page = text(client.get("/finance/grand-livre"))
    assert "1\u202f234,50\xa0€ sont versés à l'enveloppe du groupe" in page


@pytest.mark.parametrize(
    ("data", "status", "field", "message"),
    [
        ({"amount": "douze"}, 422, "amount", "Écrivez un montant en euros"),
        ({"amount": "-5"}, 422, "amount", "Écrivez un montant en euros"),
        ({"amount": "0"}, 422, None, "Le montant d'une opération est positif."),
        ({"reason": ""}, 422, "reason", "Indiquez la raison"),
        ({"reason": "x" * 501}, 422, "reason", "500 caractères au plus."),
        ({"group_id": ""}, 422, "group_id", "Choisissez un groupe dans la liste."),
        ({"group_id": "999"}, 404, None, "Ce groupe d'action n'existe pas."),
        ({"reference": "R" * 121}, 422, "reference", "120 caractères au plus."),
    ],
)
def test_an_invalid_allocation_is_refused_in_french_and_writes_nothing(
    client, finance, data, status, field, message
):
    g = f.group()
    before = snapshot()
    form = {"group_id": g.id, "amount": "10", "reason": "Don", **data}

    response = client.post("/finance/dons/nouveau", data=form)

    assert response.status_code == status
    page = text(response)
    assert message in page
    if field:
        assert f'aria-describedby="{field}-errors"' in page
        assert f'id="{field}-errors"' in page
    assert snapshot() == before


def test_an_allocation_form_says_every_fields_error_at_once(client, finance):
    f.group()
    before = snapshot()

    response = client.post(
        "/finance/dons/nouveau", data={"group_id": "", "amount": "douze", "reason": ""}
    )

    assert response.status_code == 422
    page = text(response)
    for field in ("group_id", "amount", "reason"):
        assert f'aria-describedby="{field}-errors"' in page, field
    assert snapshot() == before


def test_an_operation_corrected_already_offers_no_correction_form(client, finance):
    g = f.group()
    op_id = ledger.allocate(finance, g.id, 7_000, "Don")
    reversal_id = ledger.reverse(finance, op_id, "Erreur")

    page = text(client.get(f"/finance/grand-livre/operations/{op_id}/correction"))

    assert f"par l'opération n° {reversal_id}." in page
    assert '<form method="post" action="/finance/grand-livre/operations' not in page


def test_an_allocation_with_a_reference_already_recorded_is_a_conflict(client, finance):
    g = f.group()
    ledger.allocate(finance, g.id, 1_000, "Don", reference="DON-1")
    before = snapshot()

    response = client.post(
        "/finance/dons/nouveau",
        data={"group_id": g.id, "amount": "10", "reason": "Don", "reference": "DON-1"},
    )

    assert response.status_code == 409
    assert "Un don de référence « DON-1 » est déjà inscrit au grand livre" in text(response)
    assert snapshot() == before


# Corrections -----------------------------------------------------------------------------------


def test_an_operation_is_corrected_from_the_grand_livre_with_a_reason(client, finance):
    g = f.group()
    op_id = ledger.allocate(finance, g.id, 7_000, "Don mal attribué")

    journal = text(client.get("/finance/grand-livre"))
    assert f'action="/finance/grand-livre/operations/{op_id}/correction"' in journal
    response = client.post(
        f"/finance/grand-livre/operations/{op_id}/correction",
        data={"reason": "Le don était pour un autre groupe"},
    )

    assert response.status_code == 303
    original, reversal = operations()
    assert (reversal.reverses_id, reversal.amount_cents, reversal.reason) == (
        op_id,
        7_000,
        "Le don était pour un autre groupe",
    )
    assert ledger.envelope_balance(g.id) == 0
    journal = text(client.get("/finance/grand-livre"))
    assert f"L'opération n° {op_id} est corrigée par l'opération n° {reversal.id}." in journal
    assert f"par l'opération n° {reversal.id}." in journal
    assert f"Corrige l'opération n° {op_id}." in journal
    assert f'action="/finance/grand-livre/operations/{op_id}/correction"' not in journal
    balances_are_sums()


def test_an_operation_corrected_already_is_a_conflict(client, finance):
    g = f.group()
    op_id = ledger.allocate(finance, g.id, 7_000, "Don")
    reversal_id = ledger.reverse(finance, op_id, "Erreur")
    before = snapshot()

    response = client.post(
        f"/finance/grand-livre/operations/{op_id}/correction", data={"reason": "Encore"}
    )

    assert response.status_code == 409
    page = text(response)
    assert f"Cette opération est déjà corrigée (opération n° {reversal_id})." in page
    assert snapshot() == before


def test_a_correction_the_envelope_no_longer_covers_is_a_conflict_with_the_figures(client, finance):
    g = f.group()
    op_id = ledger.allocate(finance, g.id, 7_000, "Don")
    ledger.transfer(
        finance.id, (AccountKind.envelope, g.id), (AccountKind.payees, None), 5_000, "Salle"
    )
    before = snapshot()

    response = client.post(
        f"/finance/grand-livre/operations/{op_id}/correction", data={"reason": "Erreur"}
    )

    assert response.status_code == 409
    assert "20\xa0€ disponibles, 70\xa0€ demandés" in text(response)
    assert snapshot() == before


def test_a_correction_without_a_reason_is_refused(client, finance):
    g = f.group()
    op_id = ledger.allocate(finance, g.id, 7_000, "Don")
    before = snapshot()

    response = client.post(f"/finance/grand-livre/operations/{op_id}/correction", data={})

    assert response.status_code == 422
    page = text(response)
    assert "Indiquez la raison de la correction" in page
    assert 'aria-describedby="reason-errors"' in page
    assert snapshot() == before


def test_correcting_an_unknown_operation_is_a_404(client, finance):
    assert client.get("/finance/grand-livre/operations/999/correction").status_code == 404
    before = snapshot()
    response = client.post("/finance/grand-livre/operations/999/correction", data={"reason": "x"})
    assert response.status_code == 404
    assert snapshot() == before


# The grand livre -------------------------------------------------------------------------------


def test_the_grand_livre_names_each_operations_accounts_date_reason_and_author(
    client, finance, monkeypatch
):
    g = f.group(name="Collectif Élan")
    budget = f.budget_round(name="Budget 2027")
    # Recorded at 23:30 UTC on 31 December: already 1 January in Paris.
    monkeypatch.setattr(ledger, "utcnow", lambda: datetime(2026, 12, 31, 23, 30, tzinfo=UTC))
    op_id = ledger.allocate(finance, g.id, 12_50, "Don fléché", reference="DON-1")
    monkeypatch.undo()
    paid_id = ledger.transfer(
        None, (AccountKind.round, budget.id), (AccountKind.payees, None), 3_000, "Facture"
    )

    page = text(client.get("/finance/grand-livre"))

    row = re.search(rf'<tr id="operation-{op_id}".*?</tr>', page, re.S).group(0)
    assert '<time datetime="2026-12-31T23:30:00+00:00">1 janv. 2027, 00:30</time>' in row
    assert "12,50\xa0€" in row and "Don fléché" in row and "DON-1" in row
    assert re.search(r"<td>\s*Dons\s*</td>", row)
    assert f'Enveloppe de <a href="/groupes/{g.id}">Collectif Élan</a>' in row
    assert "Fanny Finance" in row
    row = re.search(rf'<tr id="operation-{paid_id}".*?</tr>', page, re.S).group(0)
    assert f'Budget <a href="/budgets/{budget.id}">Budget 2027</a>' in row
    assert re.search(r"<td>\s*Bénéficiaires\s*</td>", row)
    assert "<td>automatique</td>" in row
    assert "2 opérations au grand livre, la plus récente d'abord" in page
    assert page.index(f'id="operation-{paid_id}"') < page.index(f'id="operation-{op_id}"')


def test_the_grand_livre_pages_by_50_with_the_same_number_of_queries(app, client, finance):
    g = f.group()

    def add(n: int) -> None:
        donations.import_donations(
            finance,
            csv_bytes(*(f"2026-11-03;{g.id};1;P{operations_count() + i}" for i in range(n))),
        )

    def measure(url: str) -> int:
        client.get(url)  # warm-up: template compilation stays out of the count
        with counting_queries() as statements:
            assert client.get(url).status_code == 200
        return len(statements)

    add(10)
    small = measure("/finance/grand-livre")
    add(110)
    big = [measure("/finance/grand-livre"), measure("/finance/grand-livre?page=3")]
    assert big == [small, small], (small, big)
    first = text(client.get("/finance/grand-livre"))
    assert first.count('<tr id="operation-') == 50
    assert "Page 1 sur 3" in first
    last = text(client.get("/finance/grand-livre?page=3"))
    assert last.count('<tr id="operation-') == 20
    assert text(client.get("/finance/grand-livre?page=99")).count('<tr id="operation-') == 20


def operations_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(LedgerOperation.id)))


# CSRF ------------------------------------------------------------------------------------------


def test_every_ledger_form_carries_its_csrf_token_and_a_post_without_it_writes_nothing(
    csrf_app,
):
    client = csrf_app.test_client()
    person = f.person(finance=True)
    g = f.group()
    op_id = ledger.allocate(person, g.id, 1_000, "Don")
    client.get("/connexion")
    token_page = client.get("/connexion").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', token_page).group(1)
    client.post(
        "/connexion", data={"email": person.email, "password": f.PASSWORD, "csrf_token": token}
    )

    for url in ("/finance/grand-livre", "/finance/dons/import", "/finance/dons/nouveau"):
        page = client.get(url).get_data(as_text=True)
        forms = re.findall(r'<form method="post".*?</form>', page, re.S)
        assert forms, url
        assert all('name="csrf_token"' in form for form in forms), url
    before = snapshot()
    raw = csv_bytes(f"2026-11-03;{g.id};12,50;DON-1")
    for url, data in (
        ("/finance/dons/import", {"file": (io.BytesIO(raw), "dons.csv")}),
        ("/finance/dons/import/confirmation", {"content": b64(raw)}),
        ("/finance/dons/nouveau", {"group_id": g.id, "amount": "10", "reason": "Don"}),
        (f"/finance/grand-livre/operations/{op_id}/correction", {"reason": "Erreur"}),
    ):
        response = client.post(url, data=data)
        assert response.status_code == 400, url
        assert "Le formulaire a expiré" in text(response)
    assert snapshot() == before

    page = client.get("/finance/dons/import").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    preview = client.post(
        "/finance/dons/import",
        data={"file": (io.BytesIO(raw), "dons.csv"), "csrf_token": token},
    )
    assert preview.status_code == 200
    confirmation = re.search(
        r'<form method="post" action="/finance/dons/import/confirmation".*?</form>',
        preview.get_data(as_text=True),
        re.S,
    ).group(0)
    assert 'name="csrf_token"' in confirmation
    assert (
        client.post(
            "/finance/dons/import/confirmation",
            data={"content": b64(raw), "filename": "dons.csv", "csrf_token": token},
        ).status_code
        == 303
    )
    assert ledger.envelope_balance(g.id) == 2_250
