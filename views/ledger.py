"""The finance team's grand livre: the latest operations and their corrections, the import
of earmarked donations (a preview, then all or nothing) and manual allocations."""

import base64
import binascii

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf.file import FileField
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from models import MAX_ID, ActionGroup, as_id, db
from services import donations, ledger
from services.errors import DomainError
from services.money import format_cents

from . import error_response
from .finance import _require_finance
from .forms import Form, form_invalid, parse_euros

bp = Blueprint("ledger", __name__, url_prefix="/finance")
bp.before_request(_require_finance)

REASON_TOO_LONG = _l("500 caractères au plus.")


class DonationFileForm(Form):
    file = FileField(_l("Fichier CSV du système de dons"))


class ImportForm(Form):
    """The previewed file, sent back as it was to be recorded."""

    content = HiddenField()
    filename = HiddenField()


class AllocationForm(Form):
    group_id = IntegerField(
        _l("Groupe"), validators=[InputRequired(), NumberRange(min=1, max=MAX_ID)]
    )
    amount = StringField(
        _l("Montant (€)"),
        validators=[InputRequired(_l("Indiquez le montant, en euros."))],
    )
    reason = TextAreaField(
        _l("Raison"),
        validators=[
            InputRequired(_l("Indiquez la raison : elle figure au grand livre.")),
            Length(max=ledger.REASON_MAX_LENGTH, message=REASON_TOO_LONG),
        ],
    )
    reference = StringField(
        _l("Référence du don (facultative)"),
        validators=[
            Optional(),
            Length(max=ledger.REFERENCE_MAX_LENGTH, message=_l("120 caractères au plus.")),
        ],
    )


class CorrectionForm(Form):
    reason = StringField(
        _l("Raison de la correction"),
        validators=[
            InputRequired(_l("Indiquez la raison de la correction : elle figure au grand livre.")),
            Length(max=ledger.REASON_MAX_LENGTH, message=REASON_TOO_LONG),
        ],
    )


@bp.errorhandler(RequestEntityTooLarge)
def _request_too_large(_error):
    return error_response(
        413,
        _(
            "Le fichier dépasse %(mb)d Mo : découpez-le en plusieurs fichiers. "
            "Rien n'a été importé.",
            mb=donations.MAX_BYTES // (1024 * 1024),
        ),
    )


def _page() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdecimal() and 0 < int(raw) < 100000 else 1


# The grand livre --------------------------------------------------------------------------------


@bp.get("/grand-livre")
def journal():
    return render_template("ledger/journal.html", journal=ledger.journal(_page()))


def _line_or_404(operation_id: int) -> ledger.JournalLine:
    line = ledger.journal_line(operation_id)
    if line is None:
        abort(404, _("Cette opération n'existe pas."))
    return line


def _correction_page(operation_id: int, form: CorrectionForm, error=None, status: int = 200):
    return make_response(
        render_template(
            "ledger/correct.html", line=_line_or_404(operation_id), form=form, error=error
        ),
        status,
    )


@bp.route("/grand-livre/operations/<int:operation_id>/correction", methods=["GET", "POST"])
def reverse(operation_id: int):
    """Correct an operation by its reverse, with a reason: the form of one operation (the
    grand livre has one per row), and its answer when it is refused."""
    if request.method == "GET":
        return _correction_page(operation_id, CorrectionForm(formdata=None))
    form = CorrectionForm()
    try:
        if not form.validate_on_submit():
            raise form_invalid(form)
        reversal_id = ledger.reverse(current_user, operation_id, form.reason.data)
    except DomainError as error:
        db.session.rollback()
        return _correction_page(operation_id, form, error.message, error.status)
    flash(
        _(
            "L'opération n° %(id)d est corrigée par l'opération n° %(reversal)d.",
            id=operation_id,
            reversal=reversal_id,
        ),
        "success",
    )
    return redirect(url_for(".journal"), 303)


# Manual allocation ------------------------------------------------------------------------------


def _group_choices() -> list[tuple[int, str, str]]:
    return db.session.execute(
        select(ActionGroup.id, ActionGroup.name, ActionGroup.commune).order_by(
            ActionGroup.name, ActionGroup.id
        )
    ).all()


def _allocation_page(form: AllocationForm, error=None, status: int = 200):
    return make_response(
        render_template("ledger/allocate.html", form=form, groups=_group_choices(), error=error),
        status,
    )


@bp.route("/dons/nouveau", methods=["GET", "POST"])
def allocate():
    """A donation or an allocation into a group's envelope, typed by the finance team."""
    if request.method == "GET":
        group = request.args.get("groupe", "")
        form = AllocationForm(formdata=None, group_id=as_id(group))
        return _allocation_page(form)
    form = AllocationForm()
    try:
        valid = form.validate_on_submit()
        if form.group_id.errors:
            form.group_id.errors = [_("Choisissez un groupe dans la liste.")]
        amount = None
        if not form.amount.errors:  # every field's error at once
            try:
                amount = parse_euros(form.amount.data)
            except ValueError as error:
                form.amount.errors = [str(error)]
        if not valid or amount is None:
            raise form_invalid(form)
        operation_id = ledger.allocate(
            current_user, form.group_id.data, amount, form.reason.data, form.reference.data
        )
    except DomainError as error:
        db.session.rollback()
        return _allocation_page(form, error.message, error.status)
    if operation_id is None:
        # Recorded already (an import, or this same form sent twice): nothing was added.
        return _allocation_page(
            form,
            _(
                "Un don de référence « %(reference)s » est déjà inscrit au grand livre : "
                "rien n'a été ajouté.",
                reference=form.reference.data.strip(),
            ),
            409,
        )
    flash(
        _(
            "%(amount)s sont versés à l'enveloppe du groupe (opération n° %(id)d).",
            amount=format_cents(amount),
            id=operation_id,
        ),
        "success",
    )
    return redirect(url_for(".journal"), 303)


# Import of earmarked donations ------------------------------------------------------------------


def _import_page(
    form: DonationFileForm,
    donation_file: donations.DonationFile | None = None,
    raw: bytes = b"",
    filename: str = "",
    error: str | None = None,
    status: int = 200,
):
    confirm = None
    if donation_file is not None and not donation_file.error_rows and donation_file.new_rows:
        confirm = ImportForm(
            formdata=None,
            content=base64.b64encode(raw).decode("ascii"),
            filename=filename,
        )
    return make_response(
        render_template(
            "ledger/import.html",
            form=form,
            donation_file=donation_file,
            confirm=confirm,
            filename=filename,
            error=error,
            max_mb=donations.MAX_BYTES // (1024 * 1024),
            max_rows=f"{donations.MAX_ROWS:,}".replace(",", "\u202f"),
        ),
        status,
    )


@bp.get("/dons/import")
def import_form():
    return _import_page(DonationFileForm(formdata=None))


@bp.post("/dons/import")
def import_preview():
    """Every row of the file checked; nothing is written. 422 when a row is in error."""
    form = DonationFileForm()
    if not form.validate_on_submit():
        return _import_page(form, error=str(form_invalid(form).message), status=422)
    upload = form.file.data
    if upload is None or not upload.filename:
        return _import_page(form, error=_("Choisissez le fichier CSV à importer."), status=422)
    # One byte more than allowed is enough to know it is too big.
    raw = upload.stream.read(donations.MAX_BYTES + 1)
    filename = upload.filename
    try:
        donation_file = donations.preview_donations(current_user, raw)
    except DomainError as error:
        return _import_page(form, filename=filename, error=error.message, status=error.status)
    status = 422 if donation_file.error_rows else 200
    return _import_page(form, donation_file, raw, filename, status=status)


@bp.post("/dons/import/confirmation")
def import_apply():
    """Record the previewed file: all its new donations in one transaction, or nothing."""
    form = ImportForm()
    upload_form = DonationFileForm(formdata=None)
    filename = (form.filename.data or "")[:200]
    try:
        if not form.validate_on_submit():
            raise form_invalid(form)
        raw = base64.b64decode(form.content.data or "", validate=True)
    except (DomainError, binascii.Error):
        return _import_page(
            upload_form,
            error=_("Le fichier envoyé est illisible : choisissez-le à nouveau."),
            status=422,
        )
    try:
        result = donations.import_donations(current_user, raw, filename)
    except donations.ImportRefused as refused:
        return _import_page(
            upload_form,
            refused.donation_file,
            raw,
            filename,
            error=refused.message,
            status=refused.status,
        )
    except DomainError as error:
        db.session.rollback()
        return _import_page(
            upload_form, filename=filename, error=error.message, status=error.status
        )
    if result.added:
        message = ngettext(
            "%(num)d don importé dans l'enveloppe de son groupe, pour %(total)s.",
            "%(num)d dons importés dans les enveloppes des groupes, pour %(total)s.",
            result.added,
            total=format_cents(result.amount_cents),
        )
        category = "success"
    else:
        message = _("Tous les dons de ce fichier sont déjà inscrits : rien n'a été ajouté.")
        category = "info"
    if result.added and result.skipped:
        message += " " + ngettext(
            "%(num)d don déjà inscrit a été ignoré.",
            "%(num)d dons déjà inscrits ont été ignorés.",
            result.skipped,
        )
    flash(message, category)
    return redirect(url_for(".journal"), 303)
