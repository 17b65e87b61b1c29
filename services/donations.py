"""Earmarked donations imported from the donations system's CSV file: read, check, record.

The finance team sends the file twice: once to see every row checked (the preview, which
writes nothing), then to record it. Recording checks everything again inside one write
transaction and writes all of the file's new donations or none of them. A donation whose
reference is already in the ledger is skipped, not refused: importing a file again, or two
imports of it at once, records each donation once.

The file comes from spreadsheets and exports of all kinds: UTF-8 with or without BOM, else
Windows-1252; comma or semicolon; a header row whose names are matched loosely; French or
dotted amounts, with spaces between thousands; ISO or French (day first) dates.
"""

import codecs
import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from models import ActionGroup, AuditEntry, Person, as_id, db

from . import ledger
from .access import require_staff
from .errors import Conflict, Invalid
from .money import format_cents
from .tx import write_transaction

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 10_000
# Ids looked up per query: well below every database's limit on bound parameters.
LOOKUP_CHUNK = 500
# 9 999 999,99 € at most: a bigger donation is a typing mistake.
AMOUNT_MAX_DIGITS = 7

COLUMNS = ("date", "group", "amount", "reference")
COLUMN_NAMES = {
    "date": "date",
    "group": "groupe",
    "amount": "montant",
    "reference": "référence",
}
# Header names, lowercase without accents nor punctuation: first the exact names…
COLUMN_ALIASES = {
    "date": {"date", "date du don", "date don", "donation date"},
    "group": {
        "groupe",
        "group",
        "groupe id",
        "group id",
        "id groupe",
        "id du groupe",
        "identifiant groupe",
        "identifiant du groupe",
        "group identifier",
    },
    "amount": {"montant", "amount", "montant eur", "montant en euros", "somme"},
    "reference": {
        "reference",
        "ref",
        "reference du don",
        "reference don",
        "ref don",
        "donation reference",
    },
}
# … then, for a column still missing, a name that holds one of these words.
COLUMN_WORDS = {
    "date": {"date"},
    "group": {"groupe", "group"},
    "amount": {"montant", "amount"},
    "reference": {"reference", "ref"},
}

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_AMOUNT = re.compile(r"^(\d+)(?:[.,](\d+))?$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_FRENCH_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


class FileRejected(Invalid):
    """The file as a whole cannot be read as the donations export (422)."""


class FileTooLarge(FileRejected):
    status = 413


@dataclass
class DonationRow:
    """One row of the file, as read and checked."""

    line: int
    date_text: str
    group_text: str
    amount_text: str
    reference: str
    raw: str = ""  # the row as written, shown when its columns cannot be told apart
    donated_on: date | None = None
    group_id: int | None = None
    group_name: str | None = None
    amount_cents: int | None = None
    errors: list[str] = field(default_factory=list)
    recorded: bool = False  # its reference is in the ledger already: skipped

    @property
    def status(self) -> str:
        if self.errors:
            return "error"
        return "recorded" if self.recorded else "new"

    @property
    def reason(self) -> str:
        return _(
            "Don fléché du %(date)s (import)",
            date=self.donated_on.strftime("%d/%m/%Y") if self.donated_on else "",
        )


@dataclass
class DonationFile:
    """A file read and every row checked: what an import would add, skip and refuse."""

    rows: list[DonationRow]
    encoding: str
    separator: str

    @property
    def new_rows(self) -> list[DonationRow]:
        return [row for row in self.rows if row.status == "new"]

    @property
    def amount_to_add(self) -> int:
        return sum(row.amount_cents for row in self.new_rows)

    @property
    def recorded_rows(self) -> list[DonationRow]:
        return [row for row in self.rows if row.status == "recorded"]

    @property
    def error_rows(self) -> list[DonationRow]:
        return [row for row in self.rows if row.status == "error"]


@dataclass(frozen=True)
class ImportResult:
    added: int
    amount_cents: int
    skipped: int


class ImportRefused(Invalid):
    """Some rows are in error: nothing is recorded (422); the checked file says which."""

    def __init__(self, donation_file: DonationFile):
        count = len(donation_file.error_rows)
        super().__init__(
            ngettext(
                "%(num)d ligne du fichier est en erreur : rien n'a été importé. Corrigez-la "
                "puis envoyez le fichier à nouveau.",
                "%(num)d lignes du fichier sont en erreur : rien n'a été importé. Corrigez-les "
                "puis envoyez le fichier à nouveau.",
                count,
            )
        )
        self.donation_file = donation_file


# Reading the file -----------------------------------------------------------------------------


def decode(raw: bytes) -> tuple[str, str]:
    """The file's text and the name of its encoding: UTF-8 (a BOM is dropped), else
    Windows-1252. FileTooLarge, or FileRejected for what is not a text file."""
    if len(raw) > MAX_BYTES:
        raise FileTooLarge(
            _(
                "Le fichier dépasse %(mb)d Mo : découpez-le en plusieurs fichiers. "
                "Rien n'a été importé.",
                mb=MAX_BYTES // (1024 * 1024),
            )
        )
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileRejected(
            _(
                "Ce fichier est encodé en UTF-16, que l'import ne lit pas : enregistrez-le "
                "au format « CSV UTF-8 » ou « CSV (séparateur : point-virgule) »."
            )
        )
    encoding = "UTF-8"
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
        encoding = "UTF-8 (BOM)"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = raw.decode("cp1252")
            encoding = "Windows-1252"
        except UnicodeDecodeError:
            text = None
    if text is None or _CONTROL.search(text):
        raise FileRejected(
            _(
                "Ce fichier n'est pas un fichier texte CSV : envoyez l'export CSV du "
                "système de dons (un classeur Excel ou un PDF ne se lisent pas ici)."
            )
        )
    if not text.strip():
        raise FileRejected(_("Le fichier est vide."))
    return text, encoding


def _header_key(name: str) -> str:
    """« Référence_du-don » → « reference du don »: lowercase, no accents, no punctuation."""
    name = unicodedata.normalize("NFKD", name.strip().lower())
    name = "".join(c for c in name if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^a-z0-9]+", " ", name).split())


def _separator(header_line: str) -> str:
    return ";" if header_line.count(";") > header_line.count(",") else ","


def _columns(header: list[str]) -> dict[str, int]:
    """Where each column is in the header; FileRejected names the missing ones."""
    keys = [_header_key(name) for name in header]
    found: dict[str, int] = {}
    for column in COLUMNS:
        exact = [i for i, key in enumerate(keys) if key in COLUMN_ALIASES[column]]
        if len(exact) > 1:
            raise FileRejected(_duplicate_columns(column, header, exact))
        if exact:
            found[column] = exact[0]
    for column in COLUMNS:
        if column in found:
            continue
        taken = set(found.values())
        loose = [
            i
            for i, key in enumerate(keys)
            if i not in taken and COLUMN_WORDS[column] & set(key.split())
        ]
        if len(loose) > 1:
            raise FileRejected(_duplicate_columns(column, header, loose))
        if loose:
            found[column] = loose[0]
    missing = [COLUMN_NAMES[c] for c in COLUMNS if c not in found]
    if missing:
        raise FileRejected(
            ngettext(
                "Colonne introuvable dans la ligne d'en-tête : %(missing)s. La première ligne "
                "du fichier nomme les colonnes date, groupe, montant et référence, séparées "
                "par des virgules ou des points-virgules.",
                "Colonnes introuvables dans la ligne d'en-tête : %(missing)s. La première "
                "ligne du fichier nomme les colonnes date, groupe, montant et référence, "
                "séparées par des virgules ou des points-virgules.",
                len(missing),
                missing=", ".join(missing),
            )
        )
    return found


def _duplicate_columns(column: str, header: list[str], indexes: list[int]) -> str:
    return _(
        "Plusieurs colonnes de l'en-tête peuvent être la colonne « %(column)s » : %(names)s. "
        "Gardez-en une seule, ou renommez les autres.",
        column=COLUMN_NAMES[column],
        names=", ".join(f"« {header[i].strip()} »" for i in indexes),
    )


def parse_amount(text: str) -> int:
    """« 12,50 », « 12.50 », « 1 234,50 € » (spaces, no-break or narrow no-break between
    thousands), « 1234 » → cents; ValueError with a French message otherwise."""
    cleaned = text.replace("€", "")
    for space in (" ", "\xa0", "\u202f"):
        cleaned = cleaned.replace(space, "")
    if cleaned.startswith(("-", "\u2212")) or cleaned.endswith("-"):
        raise ValueError(_("Montant négatif « %(text)s » : un don est positif.", text=text))
    match = _AMOUNT.match(cleaned)
    if not match:
        raise ValueError(
            _(
                "Montant illisible « %(text)s » : écrivez par exemple 12,50 ou 1 234,50 €.",
                text=text,
            )
        )
    whole, decimals = match.groups()
    if decimals is not None and len(decimals) > 2:
        raise ValueError(
            _("Montant « %(text)s » : deux chiffres après la virgule au plus.", text=text)
        )
    if len(whole.lstrip("0")) > AMOUNT_MAX_DIGITS:
        raise ValueError(_("Montant « %(text)s » trop élevé pour un don.", text=text))
    cents = int(whole) * 100 + int((decimals or "0").ljust(2, "0"))
    if cents == 0:
        raise ValueError(_("Montant nul « %(text)s » : un don est positif.", text=text))
    return cents


def parse_date(text: str) -> date:
    """« 2026-11-03 » or « 03/11/2026 » (day first); ValueError with a French message."""
    if match := _ISO_DATE.match(text):
        year, month, day = match.groups()
    elif match := _FRENCH_DATE.match(text):
        day, month, year = match.groups()
    else:
        raise ValueError(
            _("Date illisible « %(text)s » : écrivez 2026-11-03 ou 03/11/2026.", text=text)
        )
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise ValueError(_("Date impossible « %(text)s ».", text=text)) from None


def _first_line(lines) -> tuple[str, int]:
    """The first line that is not blank, and its number (the header)."""
    for number, line in enumerate(lines, start=1):
        if line.strip():
            return line, number
    return "", 0


def read_rows(text: str) -> tuple[list[DonationRow], str]:
    """The rows of the file with what can be checked without the database, and the
    separator. FileRejected (or FileTooLarge, above MAX_ROWS rows) for the whole file."""
    lines = io.StringIO(text, newline="")
    header_line, header_number = _first_line(lines)
    separator = _separator(header_line)
    try:
        header = next(csv.reader([header_line], delimiter=separator))
    except (csv.Error, StopIteration) as error:
        raise FileRejected(_("La ligne d'en-tête du fichier est illisible.")) from error
    columns = _columns(header)
    # Columns after the last one we read may be missing from a row (a trailing separator).
    required = max(columns.values()) + 1
    reader = csv.reader(lines, delimiter=separator)
    rows: list[DonationRow] = []
    seen: dict[str, int] = {}
    last_line = header_number
    try:
        for fields in reader:
            line, last_line = last_line + 1, header_number + reader.line_num
            if not any(value.strip() for value in fields):
                continue
            if len(rows) == MAX_ROWS:
                raise FileTooLarge(
                    _(
                        "Le fichier compte plus de %(max)s dons : découpez-le en plusieurs "
                        "fichiers. Rien n'a été importé.",
                        max=f"{MAX_ROWS:,}".replace(",", "\u202f"),
                    )
                )
            rows.append(_read_row(line, fields, len(header), required, columns, separator, seen))
    except csv.Error as error:
        raise FileRejected(
            _("Le fichier n'est pas un CSV lisible (ligne %(line)d).", line=last_line + 1)
        ) from error
    if not rows:
        raise FileRejected(_("Le fichier ne contient aucun don : seulement la ligne d'en-tête."))
    return rows, separator


def _read_row(
    line: int,
    fields: list[str],
    width: int,
    required: int,
    columns: dict[str, int],
    separator: str,
    seen: dict[str, int],
) -> DonationRow:
    values = [value.strip() for value in fields]
    if len(values) < required or any(values[width:]):
        row = DonationRow(line, "", "", "", "", raw=separator.join(fields))
        if any("\n" in value or "\r" in value for value in values):
            row.errors.append(_("Un guillemet ouvert n'est pas refermé."))
        else:
            message = ngettext(
                "%(num)d colonne au lieu de %(expected)d : le séparateur de ce fichier est "
                "« %(separator)s » (d'après la ligne d'en-tête).",
                "%(num)d colonnes au lieu de %(expected)d : le séparateur de ce fichier est "
                "« %(separator)s » (d'après la ligne d'en-tête).",
                len(values),
                expected=width,
                separator=separator,
            )
            if separator == "," and len(values) > width:
                message += " " + _(
                    "Un montant à virgule s'écrit entre guillemets quand le séparateur est "
                    'la virgule : "12,50".'
                )
            row.errors.append(message)
        return row
    row = DonationRow(
        line,
        date_text=values[columns["date"]],
        group_text=values[columns["group"]],
        amount_text=values[columns["amount"]],
        reference=values[columns["reference"]],
    )
    try:
        row.donated_on = parse_date(row.date_text)
    except ValueError as error:
        row.errors.append(str(error))
    row.group_id = as_id(row.group_text)
    if row.group_id is None and row.group_text.isdecimal():
        row.errors.append(_("Aucun groupe n° %(text)s.", text=row.group_text))
    elif row.group_id is None:
        row.errors.append(
            _(
                "Identifiant de groupe illisible « %(text)s » : indiquez le numéro du groupe.",
                text=row.group_text,
            )
        )
    try:
        row.amount_cents = parse_amount(row.amount_text)
    except ValueError as error:
        row.errors.append(str(error))
    if not row.reference:
        row.errors.append(_("Référence du don manquante."))
    elif len(row.reference) > ledger.REFERENCE_MAX_LENGTH:
        row.errors.append(
            _("Référence de plus de %(max)d caractères.", max=ledger.REFERENCE_MAX_LENGTH)
        )
    elif row.reference in seen:
        row.errors.append(
            _(
                "Référence « %(reference)s » en double dans le fichier (déjà ligne %(line)d).",
                reference=row.reference,
                line=seen[row.reference],
            )
        )
    else:
        seen[row.reference] = line
    return row


# Checking against the database ----------------------------------------------------------------


def _chunks(values: list) -> list[list]:
    return [values[i : i + LOOKUP_CHUNK] for i in range(0, len(values), LOOKUP_CHUNK)]


def _group_names(ids: set[int]) -> dict[int, str]:
    names: dict[int, str] = {}
    for chunk in _chunks(sorted(ids)):
        names.update(
            db.session.execute(
                select(ActionGroup.id, ActionGroup.name).where(ActionGroup.id.in_(chunk))
            ).all()
        )
    return names


def read_file(raw: bytes) -> DonationFile:
    """The file's rows with what can be checked without the database."""
    text, encoding = decode(raw)
    rows, separator = read_rows(text)
    return DonationFile(rows, encoding, separator)


def _check(donation_file: DonationFile) -> DonationFile:
    """The rows checked against the groups and the references in the ledger."""
    rows = donation_file.rows
    names = _group_names({row.group_id for row in rows if row.group_id is not None})
    for row in rows:
        if row.group_id is None:
            continue
        row.group_name = names.get(row.group_id)
        if row.group_name is None:
            row.errors.append(_("Aucun groupe n° %(id)d.", id=row.group_id))
    recorded = ledger.recorded_references({row.reference for row in rows if row.reference})
    for row in rows:
        row.recorded = row.reference in recorded
    return donation_file


def preview_donations(actor: Person, raw: bytes) -> DonationFile:
    """Every row of the file checked, nothing written (finance team and admins)."""
    require_staff(actor, *ledger.LEDGER_ROLES)
    return _check(read_file(raw))


def import_donations(actor: Person, raw: bytes, filename: str = "") -> ImportResult:
    """Record the file's new donations into the groups' envelopes, all in one transaction,
    or nothing when a row is in error (ImportRefused). References already in the ledger,
    checked again once the accounts are locked, are skipped."""
    donation_file = read_file(raw)  # before the transaction: the file alone needs no lock
    try:
        with write_transaction():
            require_staff(actor, *ledger.LEDGER_ROLES)
            _check(donation_file)
            if donation_file.error_rows:
                raise ImportRefused(donation_file)
            allocations = [
                ledger.Allocation(row.group_id, row.amount_cents, row.reason, row.reference)
                for row in donation_file.new_rows
            ]
            ids = ledger.record_allocations(actor, allocations)
            added = [a for a, op_id in zip(allocations, ids, strict=True) if op_id is not None]
            result = ImportResult(
                added=len(added),
                amount_cents=sum(a.amount_cents for a in added),
                skipped=len(donation_file.rows) - len(added),
            )
            if result.added:
                db.session.add(
                    AuditEntry(
                        actor_id=actor.id,
                        action="ledger.import",
                        new_value=_describe(result, filename),
                    )
                )
            return result
    except IntegrityError as error:
        # Only a donation recorded by another import between our check and our write can
        # get here; the whole file was rolled back.
        raise Conflict(
            _(
                "Un autre import vient d'inscrire certains de ces dons : rien n'a été importé. "
                "Envoyez le fichier à nouveau pour voir ce qu'il reste à ajouter."
            )
        ) from error


def _describe(result: ImportResult, filename: str) -> str:
    text = ngettext(
        "%(num)d don, %(total)s",
        "%(num)d dons, %(total)s",
        result.added,
        total=format_cents(result.amount_cents),
    )
    if result.skipped:
        text += ngettext(
            " ; %(num)d déjà inscrit, ignoré", " ; %(num)d déjà inscrits, ignorés", result.skipped
        )
    if filename:
        text += _(" ; fichier « %(name)s »", name=filename[:200])
    return text
