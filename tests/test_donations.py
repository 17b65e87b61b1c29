"""The import of earmarked donations (issue 5): the CSV file read as the donations system and
spreadsheets write it, every row checked, then all of a file's new donations recorded in one
transaction or none; a donation recorded once, however many times or at once its file is
imported."""

import codecs

import pytest
from sqlalchemy import func, select

from models import AccountKind, AuditEntry, LedgerAccount, LedgerOperation, db
from services import donations, ledger
from services.donations import FileRejected, FileTooLarge, ImportRefused, ImportResult
from services.errors import Conflict, NotAllowed
from tests import factories as f
from tests.dbstate import snapshot
from tests.test_concurrency import as_person, run_together
from tests.test_ledger import balances_are_sums

HEADER = "date;groupe;montant;référence"


def csv_bytes(*rows: str, header: str = HEADER, encoding: str = "utf-8") -> bytes:
    return "\r\n".join([header, *rows]).encode(encoding) + b"\r\n"


@pytest.fixture
def finance():
    return f.person(finance=True)


def operations() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(LedgerOperation.id)))


def rows_of(raw: bytes) -> list[donations.DonationRow]:
    return donations.read_file(raw).rows


def errors_of(finance, raw: bytes) -> dict[int, str]:
    checked = donations.preview_donations(finance, raw)
    return {row.line: " ".join(row.errors) for row in checked.error_rows}


# --- amounts and dates -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("12,50", 1250),
        ("12.50", 1250),
        ("12,5", 1250),
        ("1234", 123400),
        ("1 234,50", 123450),
        ("1 234,50 €", 123450),
        ("1\xa0234,50", 123450),
        ("1\u202f234,50\xa0€", 123450),
        ("0,01", 1),
    ],
)
def test_amounts_are_read_in_french_or_dotted_with_spaces_between_thousands(app, text, cents):
    assert donations.parse_amount(text) == cents


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-12,50", "négatif"),
        ("\u221212", "négatif"),
        ("0", "nul"),
        ("0,00", "nul"),
        ("12,505", "deux chiffres après la virgule"),
        ("1,234", "deux chiffres après la virgule"),
        ("douze", "illisible"),
        ("12,50,1", "illisible"),
        ("1.234,50", "illisible"),
        ("", "illisible"),
        ("99999999", "trop élevé"),
    ],
)
def test_negative_zero_overprecise_or_unreadable_amounts_are_refused(app, text, message):
    with pytest.raises(ValueError, match=message):
        donations.parse_amount(text)


@pytest.mark.parametrize(("text", "day"), [("2026-11-03", 3), ("03/11/2026", 3), ("3/11/2026", 3)])
def test_dates_are_iso_or_french_day_first(app, text, day):
    parsed = donations.parse_date(text)
    assert (parsed.year, parsed.month, parsed.day) == (2026, 11, day)


@pytest.mark.parametrize("text", ["11/03/26", "2026/11/03", "31/02/2026", "demain", ""])
def test_other_dates_are_refused(app, text):
    with pytest.raises(ValueError, match="Date"):
        donations.parse_date(text)


# --- the header --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "row"),
    [
        ("date;groupe;montant;référence", "2026-11-03;7;12,50;DON-1"),
        ("Date;Group;Amount;Reference", "2026-11-03;7;12,50;DON-1"),
        ("DATE;GROUPE_ID;MONTANT;REF", "2026-11-03;7;12,50;DON-1"),
        ("date;Identifiant groupe;Montant (€);Référence du don", "2026-11-03;7;12,50;DON-1"),
        ("Date du don;identifiant du groupe;montant en euros;Réf.", "2026-11-03;7;12,50;DON-1"),
        ("référence;montant;groupe;date", "DON-1;12,50;7;2026-11-03"),
    ],
)
def test_header_names_are_matched_loosely_in_any_order(app, header, row):
    (read,) = rows_of(csv_bytes(row, header=header))
    assert (read.donated_on.day, read.group_id, read.amount_cents, read.reference) == (
        3,
        7,
        1250,
        "DON-1",
    )


def test_extra_columns_are_ignored(app):
    (row,) = rows_of(
        csv_bytes("Marie;2026-11-03;7;12,50;DON-1;", header="donateur;date;groupe;montant;ref;")
    )
    assert (row.group_id, row.amount_cents, row.errors) == (7, 1250, [])


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("date;groupe;montant", "Colonne introuvable dans la ligne d'en-tête : référence"),
        ("jour;groupe;somme;numéro", "Colonnes introuvables dans la ligne d'en-tête : date, réf"),
        ("2026-11-03;7;12,50;DON-1", "Colonnes introuvables"),
        ("date;groupe;montant;amount;ref", "Plusieurs colonnes de l'en-tête"),
    ],
)
def test_a_header_without_the_four_columns_is_refused(app, header, message):
    with pytest.raises(FileRejected, match=message) as refused:
        donations.read_file(csv_bytes("2026-11-03;7;12,50;DON-1", header=header))
    assert refused.value.status == 422


# --- the file as a whole -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "Le fichier est vide"),
        (b"\r\n  \r\n", "Le fichier est vide"),
        (codecs.BOM_UTF8, "Le fichier est vide"),
        (HEADER.encode() + b"\r\n", "aucun don : seulement la ligne d'en-tête"),
        (HEADER.encode() + b"\n;;;\n\n", "aucun don"),
        (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 40, "pas un fichier texte CSV"),
        (b"%PDF-1.7\n\x01\x02\x03\x8d\x8f", "pas un fichier texte CSV"),
        (HEADER.encode("utf-16"), "UTF-16"),
    ],
)
def test_an_empty_header_only_or_binary_file_is_refused_as_a_whole(app, raw, message):
    with pytest.raises(FileRejected, match=message) as refused:
        donations.read_file(raw)
    assert refused.value.status == 422


def test_a_file_above_2_mb_is_too_big(app):
    row = "2026-11-03;7;12,50;DON-{}"
    raw = csv_bytes(*(row.format(n) for n in range(100_000)))
    assert len(raw) > donations.MAX_BYTES
    with pytest.raises(FileTooLarge, match="2 Mo") as refused:
        donations.read_file(raw)
    assert refused.value.status == 413


def test_a_file_above_10_000_rows_is_too_big(app):
    rows = [f"2026-11-03;7;1;D{n}" for n in range(donations.MAX_ROWS + 1)]
    assert len(rows_of(csv_bytes(*rows[:-1]))) == 10_000
    with pytest.raises(FileTooLarge, match="plus de 10\u202f000 dons") as refused:
        donations.read_file(csv_bytes(*rows))
    assert refused.value.status == 413


def test_a_utf8_bom_is_dropped(app):
    checked = donations.read_file(codecs.BOM_UTF8 + csv_bytes("2026-11-03;7;12,50;DON-1"))
    assert checked.encoding == "UTF-8 (BOM)"
    assert checked.rows[0].errors == []


def test_windows_1252_is_read_when_the_file_is_not_utf8(app):
    raw = csv_bytes("03/11/2026;7;1 234,50 €;Fête-Été-1", encoding="cp1252")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    checked = donations.read_file(raw)
    (row,) = checked.rows
    assert checked.encoding == "Windows-1252"
    assert (row.reference, row.amount_cents, row.errors) == ("Fête-Été-1", 123450, [])


@pytest.mark.parametrize(
    ("header", "row", "separator"),
    [
        ("date;groupe;montant;référence", "2026-11-03;7;1 234,50;DON-1", ";"),
        ("date,groupe,montant,référence", '2026-11-03,7,"1 234,50",DON-1', ","),
        ("date,groupe,montant,référence", "2026-11-03,7,1234.50,DON-1", ","),
        ('"date";"groupe";"montant";"référence"', '"2026-11-03";"7";"1 234,50 €";"DON-1"', ";"),
    ],
)
def test_the_separator_is_a_semicolon_or_a_comma_and_fields_may_be_quoted(
    app, header, row, separator
):
    checked = donations.read_file(csv_bytes(row, header=header))
    assert checked.separator == separator
    assert (checked.rows[0].amount_cents, checked.rows[0].errors) == (123450, [])


def test_rows_end_with_lf_crlf_or_cr(app):
    for newline in ("\n", "\r\n", "\r"):
        text = newline.join([HEADER, "2026-11-03;7;1;A", "2026-11-03;7;2;B", ""])
        assert [row.line for row in rows_of(text.encode())] == [2, 3]


# --- rows in error -----------------------------------------------------------------------------


def test_each_row_is_checked_and_every_error_is_said_in_french(app, finance):
    g = f.group()
    raw = csv_bytes(
        f"2026-11-03;{g.id};12,50;DON-1",  # 2: fine
        f"2026-13-03;{g.id};12,50;DON-2",  # 3: no 13th month
        "2026-11-03;999;12,50;DON-3",  # 4: no such group
        "2026-11-03;Groupe X;12,50;DON-4",  # 5: a name, not an id
        f"2026-11-03;{g.id};-5;DON-5",  # 6: negative
        f"2026-11-03;{g.id};12,50;",  # 7: no reference
        f"2026-11-03;{g.id};3;DON-1",  # 8: DON-1 again
        f"2026-11-03,{g.id},12.50,DON-9",  # 9: commas in a semicolon file
        f"demain;{g.id};zéro;DON-10",  # 10: two errors
        "2026-11-03;99999999999;12,50;DON-11",  # 11: beyond every id
    )
    assert errors_of(finance, raw) == {
        3: "Date impossible « 2026-13-03 ».",
        4: "Aucun groupe n° 999.",
        5: "Identifiant de groupe illisible « Groupe X » : indiquez le numéro du groupe.",
        6: "Montant négatif « -5 » : un don est positif.",
        7: "Référence du don manquante.",
        8: "Référence « DON-1 » en double dans le fichier (déjà ligne 2).",
        9: "1 colonne au lieu de 4 : le séparateur de ce fichier est « ; » (d'après la ligne "
        "d'en-tête).",
        10: "Date illisible « demain » : écrivez 2026-11-03 ou 03/11/2026. Montant illisible "
        "« zéro » : écrivez par exemple 12,50 ou 1 234,50 €.",
        11: "Aucun groupe n° 99999999999.",
    }


def test_an_unquoted_comma_amount_in_a_comma_file_is_a_row_error(app, finance):
    g = f.group()
    raw = csv_bytes(f"2026-11-03,{g.id},12,50,DON-1", header="date,groupe,montant,reference")
    assert errors_of(finance, raw)[2] == (
        "5 colonnes au lieu de 4 : le séparateur de ce fichier est « , » (d'après la ligne "
        "d'en-tête). Un montant à virgule s'écrit entre guillemets quand le séparateur est la "
        'virgule : "12,50".'
    )


def test_an_unclosed_quote_is_a_row_error(app, finance):
    g = f.group()
    raw = csv_bytes(f'2026-11-03;{g.id};"12,50;DON-1', f"2026-11-04;{g.id};1;DON-2")
    assert errors_of(finance, raw) == {2: "Un guillemet ouvert n'est pas refermé."}


def test_blank_lines_are_skipped_and_line_numbers_are_the_files(app, finance):
    g = f.group()
    raw = b"\r\n" + csv_bytes(f"2026-11-03;{g.id};1;A", "", f"2026-11-03;{g.id};x;B")
    checked = donations.preview_donations(finance, raw)
    assert [(row.line, row.status) for row in checked.rows] == [(3, "new"), (5, "error")]


# --- the preview -------------------------------------------------------------------------------


def test_the_preview_counts_what_would_be_added_skipped_and_refused_and_writes_nothing(
    app, finance
):
    g, other = f.group(), f.group()
    ledger.allocate(finance, g.id, 1_000, "Don", reference="DON-OLD")
    before = snapshot()

    checked = donations.preview_donations(
        finance,
        csv_bytes(
            f"2026-11-03;{g.id};12,50;DON-1",
            f"2026-11-03;{other.id};1 000;DON-2",
            f"2026-11-01;{g.id};10;DON-OLD",
            "2026-11-03;999;10;DON-3",
        ),
    )

    assert snapshot() == before
    assert [row.status for row in checked.rows] == ["new", "new", "recorded", "error"]
    assert [row.group_name for row in checked.rows[:2]] == [g.name, other.name]
    assert checked.amount_to_add == 1_250 + 100_000
    assert (len(checked.new_rows), len(checked.recorded_rows), len(checked.error_rows)) == (
        2,
        1,
        1,
    )


@pytest.mark.parametrize("roles", [{}, {"animation": True}])
def test_only_the_finance_team_and_admins_preview_and_import(app, roles):
    g = f.group()
    someone = f.person(**roles)
    raw = csv_bytes(f"2026-11-03;{g.id};12,50;DON-1")
    before = snapshot()
    with pytest.raises(NotAllowed):
        donations.preview_donations(someone, raw)
    with pytest.raises(NotAllowed):
        donations.import_donations(someone, raw)
    assert snapshot() == before


# --- the import --------------------------------------------------------------------------------


def test_an_import_records_each_donation_into_its_groups_envelope_with_its_reference(app, finance):
    g, other = f.group(), f.group()

    result = donations.import_donations(
        finance,
        csv_bytes(
            f"2026-11-03;{g.id};12,50;DON-1",
            f"03/11/2026;{other.id};1 000;DON-2",
            f"2026-11-04;{g.id};7,50;DON-3",
        ),
        "dons-novembre.csv",
    )

    assert result == ImportResult(added=3, amount_cents=102_000, skipped=0)
    assert ledger.envelope_balance(g.id) == 2_000
    assert ledger.envelope_balance(other.id) == 100_000
    ops = db.session.scalars(select(LedgerOperation).order_by(LedgerOperation.id)).all()
    assert [(op.reference, op.reason, op.actor_id) for op in ops] == [
        ("DON-1", "Don fléché du 03/11/2026 (import)", finance.id),
        ("DON-2", "Don fléché du 03/11/2026 (import)", finance.id),
        ("DON-3", "Don fléché du 04/11/2026 (import)", finance.id),
    ]
    donations_account = db.session.get(LedgerAccount, ops[0].source_id)
    assert donations_account.kind == AccountKind.donations
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "ledger.import"))
    assert (entry.actor_id, entry.new_value) == (
        finance.id,
        "3 dons, 1\u202f020\xa0€ ; fichier « dons-novembre.csv »",
    )
    balances_are_sums()


def test_a_file_with_one_row_in_error_records_nothing(app, finance):
    g = f.group()
    raw = csv_bytes(
        f"2026-11-03;{g.id};12,50;DON-1",
        f"2026-11-03;{g.id};12,50;DON-2",
        f"2026-11-03;{g.id};12,505;DON-3",
    )
    before = snapshot()

    with pytest.raises(ImportRefused, match="1 ligne du fichier est en erreur") as refused:
        donations.import_donations(finance, raw)

    assert refused.value.status == 422
    assert [row.status for row in refused.value.donation_file.rows] == ["new", "new", "error"]
    assert snapshot() == before


def test_importing_the_same_file_again_adds_nothing(app, finance):
    g = f.group()
    raw = csv_bytes(f"2026-11-03;{g.id};12,50;DON-1", f"2026-11-04;{g.id};30;DON-2")
    donations.import_donations(finance, raw)
    before = snapshot()

    result = donations.import_donations(finance, raw)

    assert result == ImportResult(added=0, amount_cents=0, skipped=2)
    assert snapshot() == before  # not even an audit entry: nothing happened
    assert ledger.envelope_balance(g.id) == 4_250


def test_a_file_that_grew_adds_only_its_new_donations(app, finance):
    g = f.group()
    donations.import_donations(finance, csv_bytes(f"2026-11-03;{g.id};12,50;DON-1"))

    result = donations.import_donations(
        finance, csv_bytes(f"2026-11-03;{g.id};12,50;DON-1", f"2026-11-05;{g.id};5;DON-2")
    )

    assert result == ImportResult(added=1, amount_cents=500, skipped=1)
    assert ledger.envelope_balance(g.id) == 1_750
    assert operations() == 2
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "ledger.import").order_by(AuditEntry.id)
    ).all()[-1]
    assert entry.new_value == "1 don, 5\xa0€ ; 1 déjà inscrit, ignoré"


def test_a_reference_recorded_by_a_manual_allocation_is_skipped_by_the_import(app, finance):
    g = f.group()
    ledger.allocate(finance, g.id, 1_250, "Don reçu par chèque", reference="DON-1")

    result = donations.import_donations(finance, csv_bytes(f"2026-11-03;{g.id};12,50;DON-1"))

    assert (result.added, result.skipped) == (0, 1)
    assert ledger.envelope_balance(g.id) == 1_250


def test_a_reference_recorded_between_the_check_and_the_write_is_a_conflict_writing_nothing(
    app, finance, monkeypatch
):
    g = f.group()
    ledger.allocate(finance, g.id, 1_000, "Don", reference="DON-1")
    before = snapshot()
    # As if another import had recorded DON-1 after this one looked: only the index sees it.
    monkeypatch.setattr(ledger, "recorded_references", lambda references: set())

    with pytest.raises(Conflict, match="Un autre import vient d'inscrire") as refused:
        donations.import_donations(
            finance,
            csv_bytes(f"2026-11-03;{g.id};5;DON-0", f"2026-11-03;{g.id};10;DON-1"),
        )

    assert refused.value.status == 409
    assert snapshot() == before


def test_allocations_into_many_envelopes_keep_every_balance_equal_to_its_operations(app, finance):
    groups = [f.group() for _ in range(5)]
    rows = [
        f"2026-11-{day:02d};{g.id};{day},{day:02d};DON-{g.id}-{day}"
        for day in range(1, 8)
        for g in groups
    ]

    donations.import_donations(finance, csv_bytes(*rows))

    for g in groups:
        assert ledger.envelope_balance(g.id) == sum(day * 100 + day for day in range(1, 8))
    balances_are_sums()


# --- concurrency -------------------------------------------------------------------------------


@pytest.mark.concurrency
def test_the_same_file_imported_twice_at_once_records_each_donation_once(app, finance):
    groups = [f.group() for _ in range(3)]
    raw = csv_bytes(*(f"2026-11-03;{g.id};{n + 1}0;DON-{n}" for n, g in enumerate(groups * 4)))
    finance_id = finance.id

    results = run_together(
        4,
        lambda i: as_person(
            app, finance_id, lambda who: donations.import_donations(who, raw, "dons.csv")
        ),
    )

    assert all(isinstance(r, ImportResult) for r in results), results
    assert sorted(r.added for r in results) == [0, 0, 0, 12]
    assert operations() == 12
    expected = {g.id: 0 for g in groups}
    for n, g in enumerate(groups * 4):
        expected[g.id] += (n + 1) * 1_000
    assert {g.id: ledger.envelope_balance(g.id) for g in groups} == expected
    assert (
        db.session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.action == "ledger.import")
        )
        == 1
    )
    balances_are_sums()
