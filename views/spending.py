"""Spending and reimbursement requests, the group's side and the finance team's decisions on
a request's page: the envelope on the group page, its history, the request form, the request
page with its receipts, split, timeline and actions, and the receipts' downloads.

Template contract: the group page merges `envelope_context(group, acts_for_group)` into its
context and includes "spending/_group_panel.html" when `envelope_panel` is set.

Plain HTML forms only: every action posts the request's `version` and answers 303 back to the
request page; a refusal re-renders the page with its status (403, 409, 413, 422) and writes
nothing.
"""

import math
from dataclasses import dataclass

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import (
    DateField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from models import (
    ActionGroup,
    Person,
    SpendingCategory,
    SpendingRequest,
    SpendingStatus,
    db,
    utcnow,
)
from services import receipts as receipt_files
from services import spending as service
from services.access import require_certified, require_group_manager
from services.errors import Conflict, DomainError, NotFound
from services.iban import format_iban, mask_iban
from services.money import format_cents

from . import error_response, sign_in_first
from .forms import Form, euros_input, form_invalid, parse_euros

bp = Blueprint("spending", __name__)

HISTORY_PER_PAGE = 50
REQUESTS_PER_PAGE = 50
# What the group page shows before its « voir tout » links.
PANEL_ROWS = 10
RECEIPT_ACCEPT = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"

CATEGORY_LABELS = {
    SpendingCategory.printing: _l("Impression"),
    SpendingCategory.consumables: _l("Consommables"),
    SpendingCategory.equipment_purchase: _l("Achat de matériel"),
    SpendingCategory.travel: _l("Déplacement"),
    SpendingCategory.accommodation: _l("Hébergement"),
    SpendingCategory.room_hire: _l("Location de salle"),
    SpendingCategory.equipment_hire: _l("Location de matériel"),
    SpendingCategory.technical_hire: _l("Location technique"),
    SpendingCategory.vehicle_hire: _l("Location de véhicule"),
    SpendingCategory.subscription: _l("Abonnement"),
}

STATUS_LABELS = {
    SpendingStatus.draft: _l("Brouillon"),
    SpendingStatus.awaiting_group: _l("À valider par le groupe"),
    SpendingStatus.awaiting_finance: _l("En examen par l'équipe financière"),
    SpendingStatus.info_requested: _l("Informations demandées"),
    SpendingStatus.approved: _l("Approuvée"),
    SpendingStatus.paid: _l("Payée"),
    SpendingStatus.refused: _l("Refusée"),
}

# The timeline's steps (SpendingEvent.action).
EVENT_LABELS = {
    "created": _l("Demande créée"),
    "edited": _l("Demande modifiée"),
    "receipt_added": _l("Justificatif ajouté"),
    "receipt_removed": _l("Justificatif retiré"),
    "submitted": _l("Demande déposée"),
    "validated": _l("Validée par un·e second·e gestionnaire"),
    "returned": _l("Renvoyée en brouillon"),
    "info_requested": _l("Informations demandées par l'équipe financière"),
    "answered": _l("Réponse du groupe"),
    "approved": _l("Approuvée par l'équipe financière"),
    "refused": _l("Refusée par l'équipe financière"),
    "paid": _l("Payée"),
}

# The group may still change the request; its split is computed from today's figures.
UNDER_REVIEW = service.OPEN
CHARGED = (SpendingStatus.approved, SpendingStatus.paid)


@bp.app_context_processor
def _labels():
    return {
        "spending_status_labels": STATUS_LABELS,
        "spending_category_labels": CATEGORY_LABELS,
    }


@bp.errorhandler(RequestEntityTooLarge)
def _request_too_large(_error):
    config = current_app.config
    return error_response(
        413,
        _(
            "L'envoi est trop volumineux : %(num)d justificatifs au plus à la fois, de %(mb)d Mo "
            "au plus chacun. Rien n'a été enregistré.",
            num=config["RECEIPT_MAX_FILES"],
            mb=config["RECEIPT_MAX_BYTES"] // (1024 * 1024),
        ),
    )


# The form ------------------------------------------------------------------------------------


def _strip(value):
    return value.strip() if isinstance(value, str) else value


NO_COMMITMENT = ""


class SpendingForm(Form):
    title = StringField(
        _l("Titre"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Donnez un titre à la demande.")),
            Length(
                max=service.TITLE_MAX_LENGTH,
                message=_l("%(max)d caractères au plus."),
            ),
        ],
    )
    category = SelectField(
        _l("Catégorie"),
        choices=[SelectChoice("", _l("Choisissez une catégorie"))]
        + [SelectChoice(category.value, label) for category, label in CATEGORY_LABELS.items()],
        validators=[InputRequired(_l("Choisissez une catégorie de dépense."))],
    )
    amount = StringField(
        _l("Montant (€)"),
        filters=[_strip],
        validators=[DataRequired(_l("Indiquez le montant de la dépense, en euros."))],
    )
    spent_on = DateField(
        _l("Date de la dépense"),
        validators=[InputRequired(_l("Indiquez la date de la dépense."))],
    )
    explanation = TextAreaField(
        _l("Explication"),
        filters=[_strip],
        validators=[
            Optional(),
            Length(
                max=service.EXPLANATION_MAX_LENGTH,
                message=_l("%(max)d caractères au plus."),
            ),
        ],
    )
    payee_name = StringField(
        _l("Bénéficiaire du virement"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Indiquez qui est payé : le fournisseur ou la personne à rembourser.")),
            Length(
                max=service.PAYEE_MAX_LENGTH,
                message=_l("%(max)d caractères au plus."),
            ),
        ],
    )
    payee_iban = StringField(_l("IBAN du bénéficiaire"), filters=[_strip])
    commitment = RadioField(
        _l("Action financée à laquelle rattacher la dépense"),
        choices=[],
        default=NO_COMMITMENT,
        validate_choice=False,  # checked below, with a message of ours
    )
    version = HiddenField()


# WTForms' own words for a value it cannot read, replaced by ours.
UNREADABLE = {
    "category": _l("Choisissez une catégorie de dépense."),
    "spent_on": _l("Indiquez la date de la dépense : le jour, le mois et l'année."),
}


def _form(chargeable: list[service.Chargeable], formdata=None, **values) -> SpendingForm:
    """The form, empty, filled from a request (formdata) or from a saved request (values)."""
    form = SpendingForm(formdata=formdata, **values)
    form.commitment.choices = [SelectChoice(NO_COMMITMENT, _("Aucune"))] + [
        SelectChoice(str(c.commitment_id), c.proposal_title) for c in chargeable
    ]
    return form


def _fields_from(
    form: SpendingForm,
    group_id: int,
    chargeable: list[service.Chargeable],
    stored_iban: str | None = None,
) -> service.RequestFields:
    """The fields the form holds, or FormInvalid (422) with each problem next to its field.
    The service checks them all again (and is the authority); these checks are here so that
    each message is shown where it belongs. On the edit page (`stored_iban` given) an empty
    IBAN keeps the stored one, which the group's managers never see whole."""
    form.validate()
    for name, message in UNREADABLE.items():
        field = getattr(form, name)
        if field.errors and field.raw_data and field.raw_data[0]:
            field.errors = [str(message)]
    errors = {name: list(field.errors) for name, field in form._fields.items()}

    amount = None
    if not errors["amount"]:
        try:
            amount = parse_euros(form.amount.data)
        except ValueError as error:
            errors["amount"].append(str(error))
    commitment_id = None
    if form.commitment.data not in (None, NO_COMMITMENT):
        allowed = {str(c.commitment_id): c.commitment_id for c in chargeable}
        # An unknown choice is sent to the service as an id no commitment has: refused there.
        commitment_id = allowed.get(form.commitment.data, 0)
    fields = service.RequestFields(
        title=form.title.data or "",
        category=SpendingCategory(form.category.data) if not errors["category"] else None,
        amount_cents=amount if amount is not None else 1,
        spent_on=form.spent_on.data or utcnow().date(),
        explanation=form.explanation.data or "",
        payee_name=form.payee_name.data or "",
        # On the edit page an empty IBAN keeps the stored one.
        payee_iban=form.payee_iban.data or (stored_iban or ""),
        commitment_id=commitment_id,
    )
    # The service's rules, each message next to its field; those WTForms already refused
    # (or could not read) keep their own message.
    fields, problems = service.field_problems(group_id, fields)
    for name, message in problems.items():
        name = FORM_FIELDS.get(name, name)
        if not errors[name]:
            errors[name].append(message)
    for name, messages in errors.items():
        form._fields[name].errors = messages
    if any(errors.values()):
        raise form_invalid(form, _("Le formulaire contient des erreurs : corrigez-les ci-dessous."))
    return fields


# The service's names of the fields, and the form's.
FORM_FIELDS = {"amount_cents": "amount", "commitment_id": "commitment"}


def _uploaded_files(name: str = "receipts") -> list[service.UploadedFile]:
    return [
        service.UploadedFile(storage.filename or "", storage.read())
        for storage in request.files.getlist(name)
        if storage.filename  # a form sent without a chosen file has one empty part
    ]


def _posted_version(raw: str | None = None) -> int:
    """The version the page was rendered with. A form without one (forged, or from a page of
    before) cannot match any version, which start at 1: it is refused as stale."""
    raw = request.form.get("version", "") if raw is None else raw
    return int(raw) if raw.isdecimal() and len(raw) < 10 else 0


@dataclass
class FormPage:
    """What the new and edit pages show besides the form."""

    group: ActionGroup
    chargeable: list[service.Chargeable]
    error: str | None = None  # why the last POST was refused, for the summary
    receipts_error: str | None = None  # a refused receipt, said next to the file input
    files_dropped: bool = False  # files were chosen: they are not kept on a re-rendered form
    masked_iban: str | None = None  # the edit page: the stored IBAN, masked
    spending: SpendingRequest | None = None
    dropped_commitment: bool = False  # the edit page: its link is no longer possible

    def option(self, value: str) -> service.Chargeable | None:
        """The commitment a radio button of the form stands for (None: no link)."""
        return next((c for c in self.chargeable if str(c.commitment_id) == value), None)


def _form_page(template: str, form: SpendingForm, page: FormPage, status: int = 200):
    return make_response(
        render_template(
            template,
            form=form,
            page=page,
            accept=RECEIPT_ACCEPT,
            max_files=current_app.config["RECEIPT_MAX_FILES"],
            max_megabytes=current_app.config["RECEIPT_MAX_BYTES"] // (1024 * 1024),
        ),
        status,
    )


def _managed_group(group_id: int) -> ActionGroup:
    group = db.session.get(ActionGroup, group_id)
    if group is None:
        raise NotFound(_("Ce groupe d'action n'existe pas."))
    require_group_manager(current_user, group)
    require_certified(group)
    return group


# The group page and its lists ----------------------------------------------------------------


@dataclass
class EnvelopePanel:
    group: ActionGroup
    balance_cents: int
    history: list[service.EnvelopeEntry]
    more_history: bool
    requests: list[SpendingRequest]
    more_requests: bool
    may_file: bool


def envelope_context(group: ActionGroup, acts_for_group: bool) -> dict:
    """For the group page: `envelope_panel`, set for the group's managers and referents and
    for the finance team, None for anybody else (three queries when set)."""
    if not (acts_for_group or service.is_finance(current_user)):
        return {"envelope_panel": None}
    # One row more than shown says whether there are more, without counting them.
    requests, _total = service.group_requests(group.id, PANEL_ROWS + 1, counted=False)
    history = service.envelope_history(group.id, PANEL_ROWS + 1, counted=False)
    return {
        "envelope_panel": EnvelopePanel(
            group=group,
            history=history.entries[:PANEL_ROWS],
            more_history=len(history.entries) > PANEL_ROWS,
            balance_cents=history.balance_cents,
            requests=requests[:PANEL_ROWS],
            more_requests=len(requests) > PANEL_ROWS,
            may_file=acts_for_group and group.is_certified,
        )
    }


def _page_number() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdecimal() and 0 < int(raw) < 100000 else 1


@bp.get("/groupes/<int:group_id>/enveloppe")
def envelope(group_id: int):
    """The envelope's whole history, 50 operations a page."""
    if (response := sign_in_first()) is not None:
        return response
    group = service.require_envelope_access(current_user, group_id)
    page = _page_number()
    history = service.envelope_history(group.id, HISTORY_PER_PAGE, (page - 1) * HISTORY_PER_PAGE)
    pages = max(1, math.ceil(history.total / HISTORY_PER_PAGE))
    if page > pages:
        abort(404)
    return render_template(
        "spending/envelope.html", group=group, history=history, page=page, pages=pages
    )


@bp.get("/groupes/<int:group_id>/depenses")
def group_requests(group_id: int):
    """Every request of the group, 50 a page."""
    if (response := sign_in_first()) is not None:
        return response
    group = service.require_envelope_access(current_user, group_id)
    page = _page_number()
    rows, total = service.group_requests(
        group.id, REQUESTS_PER_PAGE, (page - 1) * REQUESTS_PER_PAGE
    )
    pages = max(1, math.ceil(total / REQUESTS_PER_PAGE))
    if page > pages:
        abort(404)
    return render_template(
        "spending/group_requests.html",
        group=group,
        rows=rows,
        total=total,
        page=page,
        pages=pages,
        may_file=service.is_group_manager(current_user, group.id) and group.is_certified,
    )


# Filing and editing --------------------------------------------------------------------------


@bp.route("/groupes/<int:group_id>/depenses/nouvelle", methods=["GET", "POST"])
def new(group_id: int):
    """A manager of a certified group files a request, saved as a draft with its receipts."""
    if (response := sign_in_first()) is not None:
        return response
    group = _managed_group(group_id)
    chargeable = service.chargeable_commitments(group.id)
    page = FormPage(group=group, chargeable=chargeable)
    if request.method == "GET":
        return _form_page("spending/new.html", _form(chargeable), page)
    form = _form(chargeable, formdata=request.form)
    files = _uploaded_files()
    page.files_dropped = bool(files)
    try:
        fields = _fields_from(form, group.id, chargeable)
        request_id = service.create_request(current_user, group.id, fields, files)
    except receipt_files.ReceiptRejected as error:
        db.session.rollback()
        page.receipts_error = error.message
        return _form_page("spending/new.html", form, page, error.status)
    except DomainError as error:
        db.session.rollback()
        page.error = error.message
        return _form_page("spending/new.html", form, page, error.status)
    flash(
        _(
            "La demande est enregistrée en brouillon. Vérifiez la répartition, puis déposez-la : "
            "un·e second·e gestionnaire du groupe la validera."
        ),
        "success",
    )
    return redirect(url_for(".show", request_id=request_id), 303)


def _editable(request_id: int) -> SpendingRequest:
    """The request, for a manager of its certified group while it is still open."""
    spending = service.viewable_request(current_user, request_id)
    group = db.session.get(ActionGroup, spending.group_id)
    require_group_manager(current_user, group)
    require_certified(group)
    if spending.status not in UNDER_REVIEW:
        raise Conflict(
            _(
                "Cette demande est maintenant « %(status)s » : elle ne peut plus être modifiée.",
                status=STATUS_LABELS[spending.status],
            )
        )
    return spending


@bp.route("/depenses/<int:request_id>/modifier", methods=["GET", "POST"])
def edit(request_id: int):
    if (response := sign_in_first()) is not None:
        return response
    spending = _editable(request_id)
    group = db.session.get(ActionGroup, spending.group_id)
    chargeable = service.chargeable_commitments(group.id)
    page = FormPage(
        group=group,
        chargeable=chargeable,
        spending=spending,
        masked_iban=mask_iban(spending.payee_iban),
    )
    if request.method == "GET":
        linked = spending.commitment_id
        still_possible = any(c.commitment_id == linked for c in chargeable)
        page.dropped_commitment = linked is not None and not still_possible
        form = _form(
            chargeable,
            title=spending.title,
            category=spending.category.value,
            amount=euros_input(spending.amount_cents),
            spent_on=spending.spent_on,
            explanation=spending.explanation,
            payee_name=spending.payee_name,
            payee_iban="",  # never sent whole to the group: empty keeps it
            commitment=str(linked) if still_possible else NO_COMMITMENT,
            version=str(spending.version),
        )
        return _form_page("spending/edit.html", form, page)
    form = _form(chargeable, formdata=request.form)
    stored_iban = spending.payee_iban
    try:
        fields = _fields_from(form, group.id, chargeable, stored_iban=stored_iban)
        service.update_request(
            current_user, request_id, fields, _posted_version(form.version.data or "")
        )
    except DomainError as error:
        db.session.rollback()
        page.error = error.message
        return _form_page("spending/edit.html", form, page, error.status)
    flash(_("Les modifications de la demande sont enregistrées."), "success")
    return redirect(url_for(".show", request_id=request_id), 303)


# The request's page --------------------------------------------------------------------------


@dataclass
class Allowed:
    """The actions the signed-in person may take on the request now."""

    edit: bool = False
    add_receipts: bool = False
    remove_receipt: bool = False
    submit: bool = False
    validate: bool = False
    validate_note: bool = False  # a manager who may not validate it: say who may
    return_to_draft: bool = False
    answer: bool = False
    request_information: bool = False
    approve: bool = False
    refuse: bool = False
    delete: bool = False

    @property
    def any_group_action(self) -> bool:
        return (
            self.edit
            or self.submit
            or self.validate
            or self.return_to_draft
            or self.answer
            or self.delete
        )

    @property
    def any_finance_action(self) -> bool:
        return self.request_information or self.approve or self.refuse


def _allowed(spending: SpendingRequest, group: ActionGroup, receipts: list, finance: bool):
    manager = service.is_group_manager(current_user, group.id)
    status = spending.status
    acts = manager and group.is_certified and status in UNDER_REVIEW
    may_validate = current_user.id not in (spending.author_id, spending.last_editor_id)
    return Allowed(
        edit=acts,
        add_receipts=acts,
        # A submitted request keeps at least one receipt (the service says so too).
        remove_receipt=acts and (status == SpendingStatus.draft or len(receipts) > 1),
        submit=acts and status == SpendingStatus.draft,
        # Once submitted, a request stays with its history (the service says so too).
        delete=acts and status == SpendingStatus.draft and spending.submitted_at is None,
        validate=acts and status == SpendingStatus.awaiting_group and may_validate,
        validate_note=acts and status == SpendingStatus.awaiting_group and not may_validate,
        return_to_draft=acts and status == SpendingStatus.awaiting_group,
        answer=acts and status == SpendingStatus.info_requested,
        request_information=finance and status == SpendingStatus.awaiting_finance,
        approve=finance and status == SpendingStatus.awaiting_finance,
        refuse=finance
        and status in (SpendingStatus.awaiting_finance, SpendingStatus.info_requested),
    )


@dataclass
class Failure:
    """A refused action, said next to its form (which keeps what was typed)."""

    action: str
    message: str
    comment: str = ""


def _show_page(request_id: int, failure: Failure | None = None, status: int = 200):
    spending = service.viewable_request(current_user, request_id)
    group = db.session.get(ActionGroup, spending.group_id)
    finance = service.is_finance(current_user)
    receipts = service.request_receipts(spending.id)
    split = None
    if spending.status in UNDER_REVIEW:
        split = service.split_for(spending.group_id, spending.commitment_id, spending.amount_cents)
    author = db.session.get(Person, spending.author_id)
    context = dict(
        spending=spending,
        group=group,
        author=author,
        finance=finance,
        # Whole for the finance team only: the group's managers recognise it by its ends.
        iban=format_iban(spending.payee_iban) if finance else mask_iban(spending.payee_iban),
        receipts=receipts,
        timeline=service.request_timeline(spending.id),
        action=service.linked_action(spending.commitment_id),
        split=split,
        charged=spending.status in CHARGED,
        allowed=_allowed(spending, group, receipts, finance),
        failure=failure,
        event_labels=EVENT_LABELS,
        accept=RECEIPT_ACCEPT,
        max_files=current_app.config["RECEIPT_MAX_FILES"],
        max_megabytes=current_app.config["RECEIPT_MAX_BYTES"] // (1024 * 1024),
    )
    response = make_response(render_template("spending/show.html", **context), status)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/depenses/<int:request_id>")
def show(request_id: int):
    if (response := sign_in_first()) is not None:
        return response
    return _show_page(request_id)


def _act(request_id: int, action: str, call):
    """One action of the request's page: allowed to see it first (else 403 or 404 with no
    detail), then the service decides; a refusal re-renders the page with its status.
    `call(comment, version)` acts and returns the notice to flash."""
    if (response := sign_in_first()) is not None:
        return response
    service.viewable_request(current_user, request_id)
    comment = request.form.get("comment", "")
    try:
        notice = call(comment, _posted_version())
    except DomainError as error:
        db.session.rollback()
        return _show_page(request_id, Failure(action, error.message, comment), error.status)
    flash(notice, "success")
    return redirect(url_for(".show", request_id=request_id), 303)


@bp.post("/depenses/<int:request_id>/depot")
def submit(request_id: int):
    def call(comment, version):
        service.submit_request(current_user, request_id, version)
        return _("La demande est déposée : un·e second·e gestionnaire du groupe doit la valider.")

    return _act(request_id, "submit", call)


@bp.post("/depenses/<int:request_id>/suppression")
def delete(request_id: int):
    """A draft never submitted is deleted; back to the group's page."""
    if (response := sign_in_first()) is not None:
        return response
    service.viewable_request(current_user, request_id)
    try:
        group_id = service.delete_draft(current_user, request_id, _posted_version())
    except DomainError as error:
        db.session.rollback()
        return _show_page(request_id, Failure("delete", error.message), error.status)
    flash(_("Le brouillon est supprimé, avec ses justificatifs."), "success")
    return redirect(url_for("groups.detail", group_id=group_id), 303)


@bp.post("/depenses/<int:request_id>/validation")
def validate(request_id: int):
    def call(comment, version):
        service.validate_request(current_user, request_id, comment, version)
        return _("La demande est validée : elle part à l'équipe de suivi financier.")

    return _act(request_id, "validate", call)


@bp.post("/depenses/<int:request_id>/brouillon")
def return_to_draft(request_id: int):
    def call(comment, version):
        service.return_to_draft(current_user, request_id, comment, version)
        return _("La demande est revenue en brouillon.")

    return _act(request_id, "return_to_draft", call)


@bp.post("/depenses/<int:request_id>/reponse")
def answer(request_id: int):
    def call(comment, version):
        service.answer_request(current_user, request_id, comment, version)
        return _("Votre réponse est envoyée : la demande retourne à l'équipe de suivi financier.")

    return _act(request_id, "answer", call)


@bp.post("/depenses/<int:request_id>/informations")
def request_information(request_id: int):
    def call(comment, version):
        service.request_information(current_user, request_id, comment, version)
        return _("La question est envoyée au groupe.")

    return _act(request_id, "request_information", call)


@bp.post("/depenses/<int:request_id>/approbation")
def approve(request_id: int):
    def call(comment, version):
        charged = service.approve_spending(current_user, request_id, comment, version)
        return _(
            "La demande est approuvée : %(round)s pris en charge par le budget participatif, "
            "%(envelope)s débités de l'enveloppe du groupe.",
            round=format_cents(charged.round_cents),
            envelope=format_cents(charged.envelope_cents),
        )

    return _act(request_id, "approve", call)


@bp.post("/depenses/<int:request_id>/refus")
def refuse(request_id: int):
    def call(comment, version):
        service.refuse_spending(current_user, request_id, comment, version)
        return _("La demande est refusée ; le groupe voit la raison sur sa page.")

    return _act(request_id, "refuse", call)


# Receipts ------------------------------------------------------------------------------------


@bp.post("/depenses/<int:request_id>/justificatifs")
def add_receipts(request_id: int):
    if (response := sign_in_first()) is not None:
        return response
    service.viewable_request(current_user, request_id)
    files = _uploaded_files()
    try:
        service.add_receipts(current_user, request_id, files, _posted_version())
    except DomainError as error:
        db.session.rollback()
        return _show_page(request_id, Failure("add_receipts", error.message), error.status)
    flash(
        _("Justificatif ajouté.") if len(files) == 1 else _("Justificatifs ajoutés."),
        "success",
    )
    return redirect(url_for(".show", request_id=request_id), 303)


@bp.post("/depenses/justificatifs/<int:receipt_id>/retrait")
def remove_receipt(receipt_id: int):
    if (response := sign_in_first()) is not None:
        return response
    receipt = service.viewable_receipt(current_user, receipt_id)
    request_id, filename = receipt.request_id, receipt.filename
    try:
        service.remove_receipt(current_user, receipt_id, _posted_version())
    except DomainError as error:
        db.session.rollback()
        return _show_page(request_id, Failure("remove_receipt", error.message), error.status)
    flash(_("« %(name)s » est retiré de la demande.", name=filename), "success")
    return redirect(url_for(".show", request_id=request_id), 303)


# "application/pdf" → "pdf", "image/jpeg" → "jpg"…
_EXTENSION_OF = {
    content_type: receipt_files.EXTENSIONS[kind]
    for kind, content_type in receipt_files.CONTENT_TYPES.items()
}


def _download_name(receipt) -> str:
    """The name the person gave the file, with the extension of what it really is."""
    extension = _EXTENSION_OF.get(receipt.content_type, "")
    name = receipt.filename
    known = (".jpg", ".jpeg") if extension == "jpg" else (f".{extension}",)
    if extension and not name.lower().endswith(known):
        name = f"{name}.{extension}"
    return name


@bp.get("/depenses/justificatifs/<int:receipt_id>")
def receipt(receipt_id: int):
    """A receipt, as a download only (never shown inline: see services/receipts.py)."""
    if (response := sign_in_first()) is not None:
        return response
    receipt = service.viewable_receipt(current_user, receipt_id)
    path = receipt_files.receipt_path(current_app.config["UPLOADS_PATH"], receipt.stored_name)
    if not path.is_file():
        raise NotFound(_("Le fichier de ce justificatif est introuvable."))
    response = send_file(
        path,
        mimetype=receipt.content_type,
        as_attachment=True,
        download_name=_download_name(receipt),
        conditional=False,
        etag=False,
        last_modified=None,
        max_age=None,
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers.pop("Expires", None)
    return response
