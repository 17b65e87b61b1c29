"""Support requests (demandes d'appui) of the network: a member's list and request form, the
team's queue, a request's page with its private exchange and actions, and its files.

Plain HTML forms: every action answers 303 back to the request's page; a refusal re-renders
the page with its status (403, 404, 409, 413, 422) and what was typed, and writes nothing.
Who sees a request: see services/support.py (403 outside the space, then 404). The e-mail
notices of new requests, answers and replies are the service's, sent after its commit; a
notice that fails changes nothing here: the request's page shows its status anyway.
"""

from dataclasses import dataclass

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import RadioField, SelectChoice, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from models import SupportKind, SupportStatus, SupportUrgency, as_id, db
from services import documents
from services import support as service
from services.errors import DomainError, Invalid
from services.network_access import (
    is_network_team,
    require_network_member,
    require_network_space,
    require_network_team,
)

from . import sign_in_first
from .files import network_upload_too_large, send_document
from .forms import EmptyForm, Form, form_invalid

bp = Blueprint("support", __name__, url_prefix="/reseau/appui")

PER_PAGE = 30
FILES_FIELD = "files"

KIND_LABELS = service.KIND_LABELS
URGENCY_LABELS = service.URGENCY_LABELS
URGENCY_HINTS = service.URGENCY_HINTS
# The status as the requester reads it ("assigned" adds who handles it).
STATUS_LABELS = {
    SupportStatus.open: _l("Nouvelle"),
    SupportStatus.assigned: _l("Prise en charge"),
    SupportStatus.answered: _l("Réponse reçue"),
    SupportStatus.closed: _l("Close"),
}
# The same, as the team reads it.
TEAM_STATUS_LABELS = {
    SupportStatus.open: _l("Nouvelle, à prendre en charge"),
    SupportStatus.assigned: _l("Prise en charge"),
    SupportStatus.answered: _l("Répondue, en attente du membre"),
    SupportStatus.closed: _l("Close"),
}
STATUS_FILTER_LABELS = {
    "en-cours": _l("En cours"),
    "nouvelles": _l("Nouvelles"),
    "prises-en-charge": _l("Prises en charge"),
    "repondues": _l("Répondues"),
    "closes": _l("Closes"),
    "toutes": _l("Toutes"),
}
ASSIGNEE_FILTER_LABELS = {
    "": _l("Tout le monde"),
    "moi": _l("Moi"),
    "personne": _l("Personne"),
}
# The history's steps (the audit action, without "support.").
HISTORY_LABELS = {
    "create": _l("Demande envoyée"),
    "assign": _l("Confiée à"),
    "answer": _l("Réponse de l'équipe"),
    "reply": _l("Message du membre"),
    "close": _l("Demande close"),
    "reopen": _l("Demande rouverte"),
}


@bp.context_processor
def _labels():
    return {
        "support_kind_labels": KIND_LABELS,
        "support_urgency_labels": URGENCY_LABELS,
        "support_urgency_hints": URGENCY_HINTS,
        "support_status_labels": STATUS_LABELS,
        "support_team_status_labels": TEAM_STATUS_LABELS,
        "support_history_labels": HISTORY_LABELS,
        "support_file_kind": _file_kind,
        "support_accept": documents.ACCEPT,
        "support_max_files": current_app.config["NETWORK_FILE_MAX_FILES"],
        "support_max_megabytes": current_app.config["NETWORK_FILE_MAX_BYTES"] // (1024 * 1024),
    }


def _file_kind(content_type: str) -> str:
    """« PDF », « Texte (ODT) »…: what a stored file is, in words people know."""
    kind = documents.kind_of_content_type(content_type)
    return documents.KIND_LABELS.get(kind, content_type) if kind else content_type


bp.register_error_handler(RequestEntityTooLarge, network_upload_too_large)


# Forms ---------------------------------------------------------------------------------------


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class RequestForm(Form):
    kind = RadioField(
        _l("Type d'appui"),
        choices=[SelectChoice(kind.value, label) for kind, label in KIND_LABELS.items()],
        validators=[InputRequired(_l("Choisissez un appui technique ou juridique."))],
    )
    urgency = RadioField(
        _l("Urgence"),
        choices=[SelectChoice(u.value, label) for u, label in URGENCY_LABELS.items()],
        default=SupportUrgency.normale.value,
        validators=[InputRequired(_l("Choisissez l'urgence de votre demande."))],
    )
    subject = StringField(
        _l("Objet"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Donnez un objet à votre demande.")),
            Length(max=service.SUBJECT_MAX, message=_l("%(max)d caractères au plus.")),
        ],
    )
    details = TextAreaField(
        _l("Votre situation"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Décrivez votre situation : l'équipe en a besoin pour vous répondre.")),
            Length(max=service.DETAILS_MAX, message=_l("%(max)d caractères au plus.")),
        ],
    )


class MessageForm(Form):
    body = TextAreaField(
        _l("Message"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Écrivez votre message avant de l'envoyer.")),
            Length(max=service.MESSAGE_MAX, message=_l("%(max)d caractères au plus.")),
        ],
    )


class CloseForm(Form):
    body = TextAreaField(
        _l("Dernier message (facultatif)"),
        filters=[_strip],
        validators=[
            Optional(),
            Length(max=service.MESSAGE_MAX, message=_l("%(max)d caractères au plus.")),
        ],
    )


class AssignForm(Form):
    assignee = StringField(_l("Confier à"))


def _page_number() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdecimal() and 0 < int(raw) < 100000 else 1


def _uploads() -> list[tuple[str, bytes]]:
    """The files sent; too many is said next to the file input, as a refused file is."""
    try:
        return documents.read_uploads(
            request.files.getlist(FILES_FIELD), current_app.config["NETWORK_FILE_MAX_FILES"]
        )
    except documents.DocumentRejected:
        raise
    except Invalid as error:
        raise documents.DocumentRejected(error.message) from None


def _chose_files() -> bool:
    return any(storage.filename for storage in request.files.getlist(FILES_FIELD))


# Lists ---------------------------------------------------------------------------------------


@bp.get("/", endpoint="index")
def index():
    """The team's queue, or the member's own requests."""
    if (response := sign_in_first()) is not None:
        return response
    require_network_space(current_user)
    if is_network_team(current_user):
        filters = service.clean_filters(request.args)
        result = service.queue(current_user, filters, _page_number(), PER_PAGE)
        response = make_response(
            render_template(
                "support/queue.html",
                filters=filters,
                result=result,
                status_filter_labels=STATUS_FILTER_LABELS,
                status_filter_of=service.STATUS_FILTER_OF,
                assignee_filter_labels=ASSIGNEE_FILTER_LABELS,
            )
        )
    else:
        result = service.my_requests(current_user, _page_number(), PER_PAGE)
        response = make_response(render_template("support/index.html", result=result))
    response.headers["Cache-Control"] = "private, no-store"
    return response


# Asking for support --------------------------------------------------------------------------


@dataclass
class NewPage:
    error: str | None = None  # why the last POST was refused, for the summary
    files_error: str | None = None  # a refused file, said next to the file input
    files_dropped: bool = False  # files were chosen: they are not kept on a re-rendered form


def _new_page(form: RequestForm, page: NewPage, status: int = 200):
    return make_response(render_template("support/new.html", form=form, page=page), status)


@bp.route("/nouvelle", methods=["GET", "POST"])
def new():
    if (response := sign_in_first()) is not None:
        return response
    require_network_member(current_user)
    if request.method == "GET":
        return _new_page(RequestForm(), NewPage())
    form = RequestForm(formdata=request.form)
    page = NewPage(files_dropped=_chose_files())
    try:
        if not form.validate():
            raise form_invalid(
                form, _("Le formulaire contient des erreurs : corrigez-les ci-dessous.")
            )
        request_id = service.create_request(
            current_user,
            service.NewRequest(
                kind=SupportKind(form.kind.data),
                urgency=SupportUrgency(form.urgency.data),
                subject=form.subject.data,
                details=form.details.data,
            ),
            _uploads(),
        )
    except documents.DocumentRejected as error:
        db.session.rollback()
        page.files_error = error.message
        return _new_page(form, page, error.status)
    except DomainError as error:
        db.session.rollback()
        page.error = error.message
        return _new_page(form, page, error.status)
    flash(
        _(
            "Votre demande d'appui est envoyée à l'équipe d'animation du réseau. Vous suivez "
            "son avancement sur cette page."
        ),
        "success",
    )
    return redirect(url_for(".show", request_id=request_id), 303)


# A request's page ----------------------------------------------------------------------------


@dataclass
class Allowed:
    """What the signed-in person may do on the request now."""

    answer: bool = False
    assign: bool = False
    reply: bool = False
    close: bool = False
    reopen: bool = False


@dataclass
class Failure:
    """A refused action, said next to its form (which keeps what was typed)."""

    action: str
    message: str
    body: str = ""
    files_dropped: bool = False


def _show_page(request_id: int, failure: Failure | None = None, status: int = 200):
    support_request = service.viewable_request(current_user, request_id)
    page = service.request_page(support_request)
    team = is_network_team(current_user)
    requester = support_request.requester_id == current_user.id
    closed = support_request.status == SupportStatus.closed
    allowed = Allowed(
        answer=team and not closed,
        assign=team and not closed,
        reply=requester and not closed,
        close=(team or requester) and not closed,
        reopen=team and closed,
    )
    response = make_response(
        render_template(
            "support/show.html",
            page=page,
            support=support_request,
            team=team,
            requester=requester,
            allowed=allowed,
            failure=failure,
            team_people=service.team_people() if allowed.assign else [],
            csrf_form=EmptyForm(),
        ),
        status,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/<int:request_id>", endpoint="show")
def show(request_id: int):
    if (response := sign_in_first()) is not None:
        return response
    return _show_page(request_id)


def _act(request_id: int, action: str, call, check=None):
    """One action of the request's page: allowed to see the request first (else 403 or 404,
    with no detail), then allowed to act (`check(request)`, before reading what was sent),
    then the service decides; a refusal re-renders the page with its status. `call()` acts
    and returns the notice to flash."""
    if (response := sign_in_first()) is not None:
        return response
    support_request = service.viewable_request(current_user, request_id)
    try:
        if check is not None:
            check(support_request)
        notice = call()
    except DomainError as error:
        db.session.rollback()
        failure = Failure(
            action,
            error.message,
            request.form.get("body", "")[: service.MESSAGE_MAX + 1000],
            _chose_files(),
        )
        return _show_page(request_id, failure, error.status)
    flash(notice, "success")
    return redirect(url_for(".show", request_id=request_id), 303)


def _team_only(_support_request) -> None:
    require_network_team(current_user)


def _requester_only(support_request) -> None:
    service.require_requester(current_user, support_request)


def _message(form_class=MessageForm) -> str:
    form = form_class(formdata=request.form)
    if not form.validate():
        raise form_invalid(form)
    return form.body.data or ""


@bp.post("/<int:request_id>/reponse")
def answer(request_id: int):
    def call():
        body = _message()
        service.answer_request(current_user, request_id, body, _uploads())
        return _("Votre réponse est envoyée ; la demande attend maintenant le membre.")

    return _act(request_id, "answer", call, _team_only)


@bp.post("/<int:request_id>/message")
def reply(request_id: int):
    def call():
        body = _message()
        service.reply_to_request(current_user, request_id, body, _uploads())
        return _("Votre message est envoyé à l'équipe d'animation du réseau.")

    return _act(request_id, "reply", call, _requester_only)


@bp.post("/<int:request_id>/prise-en-charge")
def assign(request_id: int):
    def call():
        form = AssignForm(formdata=request.form)
        form.validate()
        assignee = service.assign_request(current_user, request_id, as_id(form.assignee.data))
        if assignee.id == current_user.id:
            return _("Vous prenez en charge cette demande.")
        return _("La demande est confiée à %(name)s.", name=assignee.display_name)

    return _act(request_id, "assign", call, _team_only)


@bp.post("/<int:request_id>/cloture")
def close(request_id: int):
    def call():
        body = _message(CloseForm)
        service.close_request(current_user, request_id, body)
        return _("La demande est close.")

    return _act(request_id, "close", call)


@bp.post("/<int:request_id>/reouverture")
def reopen(request_id: int):
    def call():
        form = EmptyForm(formdata=request.form)
        form.validate()
        service.reopen_request(current_user, request_id)
        return _("La demande est rouverte.")

    return _act(request_id, "reopen", call, _team_only)


@bp.get("/<int:request_id>/fichiers/<int:file_id>")
def download(request_id: int, file_id: int):
    """A file of the request, as a download only, for those who see the request."""
    if (response := sign_in_first()) is not None:
        return response
    row = service.viewable_file(current_user, request_id, file_id)
    return send_document(service.file_path(row), row.display_name, row.content_type)
