"""The network's shared library: search and list resources (live with htmx, and a plain GET
form), a resource's page with its files and who reused it, the deposit and edit forms, the
confirmations of deletion, and the files' downloads.

Every page needs the network's space (members, its team, admins); the deposit and the reuse
act as a member; editing, removing a file and deleting belong to the author and the team.
Plain HTML forms: each POST answers 303 to a page, or re-renders its form with the status of
the refusal (403, 404, 413, 422) having written nothing.
"""

import contextlib
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
from wtforms import (
    DateField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput

from models import MandateLevel, ResourceKind, ResourceOutcome, as_id, db
from services import documents
from services import library as service
from services.errors import DomainError, Invalid, NotAllowed, NotFound
from services.groups import clean_departement
from services.network_access import require_network_space
from services.themes import all_themes, theme_field_value

from . import sign_in_first
from .files import network_upload_too_large, send_document
from .forms import EmptyForm, Form, form_invalid
from .htmx import is_htmx, vary_on_htmx

bp = Blueprint("library", __name__, url_prefix="/reseau/ressources")

RESULTS_ID = "library-results"


@bp.context_processor
def _labels():
    return {
        "kind_labels": service.KIND_LABELS,
        "outcome_labels": service.OUTCOME_LABELS,
        "level_labels": service.LEVEL_LABELS,
        "file_kind": _file_kind,
    }


def _file_kind(content_type: str) -> str:
    """« PDF », « Texte (ODT) »… for a stored file's type."""
    kind = documents.kind_of_content_type(content_type)
    return documents.KIND_LABELS[kind] if kind else content_type


bp.register_error_handler(RequestEntityTooLarge, network_upload_too_large)


def _enter_space():
    """The sign-in redirect for an anonymous person; 403 (NotAllowed) outside the network."""
    if (response := sign_in_first()) is not None:
        return response
    require_network_space(current_user)
    return None


# Search and list --------------------------------------------------------------------------------


def _choice(enum_cls, raw: str | None):
    return enum_cls(raw) if raw in enum_cls.__members__ else None


def _departement(raw: str) -> str:
    if not raw.strip():
        return ""
    try:
        return clean_departement(raw[:3])
    except Invalid:
        return ""


def _list_filters() -> tuple[service.LibraryFilters, int]:
    """The filters of the query string; anything malformed is ignored, never an error."""
    args = request.args
    q = service.query_text(args.get("q", ""))
    page = args.get("page", "1")
    filters = service.LibraryFilters(
        q=q,
        kind=_choice(ResourceKind, args.get("type")),
        level=_choice(MandateLevel, args.get("niveau")),
        theme_id=as_id(args.get("theme")),
        departement=_departement(args.get("departement", "")),
        outcome=_choice(ResourceOutcome, args.get("issue")),
    )
    # A page past the last shows the last (the service clamps it).
    return filters, int(page) if page.isdecimal() and len(page) < 10 else 1


def _filter_args(filters: service.LibraryFilters) -> dict:
    """The query string of these filters, for the pagination's links."""
    return {
        "q": filters.q or None,
        "type": filters.kind.value if filters.kind else None,
        "niveau": filters.level.value if filters.level else None,
        "theme": filters.theme_id,
        "departement": filters.departement or None,
        "issue": filters.outcome.value if filters.outcome else None,
    }


@bp.get("/", endpoint="index")
def index():
    if (response := _enter_space()) is not None:
        return response
    filters, page = _list_filters()
    result = service.search_resources(filters, page)
    context = dict(filters=filters, result=result, filter_args=_filter_args(filters))
    if is_htmx() and request.headers.get("HX-Target") == RESULTS_ID:
        return vary_on_htmx(make_response(render_template("library/_results.html", **context)))
    context["themes"] = all_themes()
    return vary_on_htmx(make_response(render_template("library/index.html", **context)))


# The deposit and edit forms --------------------------------------------------------------------


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _max(length: int):
    return Length(max=length, message=_l("%(max)d caractères au plus."))


class ResourceForm(Form):
    kind = SelectField(
        _l("Type de ressource"),
        choices=[SelectChoice("", _l("Choisissez un type"))]
        + [SelectChoice(kind.value, label) for kind, label in service.KIND_LABELS.items()],
        validators=[InputRequired(_l("Choisissez le type de ressource."))],
    )
    title = StringField(
        _l("Titre"),
        filters=[_strip],
        validators=[InputRequired(_l("Donnez un titre à la ressource.")), _max(service.TITLE_MAX)],
    )
    summary = TextAreaField(
        _l("Résumé"),
        filters=[_strip],
        validators=[
            InputRequired(_l("Écrivez un résumé : c'est ce que lisent les autres élu·es.")),
            _max(service.SUMMARY_MAX),
        ],
    )
    body = TextAreaField(
        _l("Texte (facultatif)"), filters=[_strip], validators=[Optional(), _max(service.BODY_MAX)]
    )
    levels = SelectMultipleField(
        _l("Niveaux de mandat concernés"),
        choices=[SelectChoice(level.value, label) for level, label in service.LEVEL_LABELS.items()],
        option_widget=CheckboxInput(),
    )
    themes = StringField(_l("Thèmes"), filters=[_strip], validators=[Optional(), _max(1000)])
    council = StringField(
        _l("Assemblée ou territoire"),
        filters=[_strip],
        validators=[Optional(), _max(service.COUNCIL_MAX)],
    )
    departement = StringField(_l("Département"), filters=[_strip], validators=[Optional(), _max(3)])
    decided_on = DateField(_l("Date de la séance ou du texte"), validators=[Optional()])
    outcome = SelectField(
        _l("Issue"),
        choices=[SelectChoice("", _l("Non précisée"))]
        + [SelectChoice(o.value, label) for o, label in service.OUTCOME_LABELS.items()],
        validators=[Optional()],
    )
    reason = TextAreaField(
        _l("Raison de la modification (facultatif)"),
        filters=[_strip],
        validators=[Optional(), _max(service.REASON_MAX)],
    )


# WTForms' own words for a value it cannot read, replaced by ours.
UNREADABLE = {
    "kind": _l("Choisissez le type de ressource dans la liste."),
    "levels": _l("Choisissez les niveaux dans la liste."),
    "outcome": _l("Choisissez l'issue dans la liste."),
    "decided_on": _l("Indiquez une date complète : le jour, le mois et l'année."),
}

SHOWN_FIELDS = (
    "kind",
    "title",
    "summary",
    "body",
    "levels",
    "themes",
    "council",
    "departement",
    "decided_on",
    "outcome",
    "reason",
)


def _fields_from(form: ResourceForm) -> service.ResourceFields:
    """The fields the form holds, or FormInvalid (422) with each problem next to its field;
    the service checks them again (it is the authority)."""
    form.validate()
    for name, message in UNREADABLE.items():
        field = getattr(form, name)
        if field.errors and field.raw_data and any(field.raw_data):
            field.errors = [str(message)]
    errors = {name: list(form[name].errors) for name in SHOWN_FIELDS}
    fields = service.ResourceFields(
        kind=_choice(ResourceKind, form.kind.data),
        title=form.title.data or "",
        summary=form.summary.data or "",
        body=form.body.data or "",
        levels=tuple(
            MandateLevel(value)
            for value in (form.levels.data or [])
            if value in MandateLevel.__members__
        ),
        themes=form.themes.data or "",
        council=form.council.data or "",
        departement=form.departement.data or "",
        decided_on=form.decided_on.data,
        outcome=_choice(ResourceOutcome, form.outcome.data),
    )
    fields, problems, _themes = service.field_problems(fields)
    for name, message in problems.items():
        if not errors[name]:
            errors[name].append(message)
    for name, messages in errors.items():
        form[name].errors = messages
    if any(errors.values()):
        raise form_invalid(form, _("Le formulaire contient des erreurs : corrigez-les ci-dessous."))
    return fields


def _uploads() -> list[tuple[str, bytes]]:
    return documents.read_uploads(
        request.files.getlist("files"), current_app.config["NETWORK_FILE_MAX_FILES"]
    )


@dataclass
class FormPage:
    """What the deposit and edit pages show besides the form."""

    resource: object = None  # the edit page: the resource and its files
    resource_id: int | None = None
    error: str | None = None  # why the last POST was refused
    files_error: str | None = None  # a refused file, said next to the file input
    files_dropped: bool = False  # files were chosen: they are not kept on a re-rendered form
    for_someone_else: bool = False  # the team edits another's resource: the reason is asked


def _form_page(template: str, form: ResourceForm, page: FormPage, status: int = 200):
    config = current_app.config
    response = make_response(
        render_template(
            template,
            form=form,
            page=page,
            accept=documents.ACCEPT,
            max_files=config["NETWORK_FILE_MAX_FILES"],
            max_megabytes=config["NETWORK_FILE_MAX_BYTES"] // (1024 * 1024),
            shown_fields=SHOWN_FIELDS,
        ),
        status,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _submit(template: str, form: ResourceForm, page: FormPage, call):
    """Read the form and the files, call the service; on a refusal, the form again with the
    refusal's status, having written nothing. Every problem is said at once: the fields' and
    the files'."""
    try:
        try:
            uploads = _uploads()
        except DomainError as error:  # too many files
            raise documents.DocumentRejected(error.message) from error
        page.files_dropped = bool(uploads)
        try:
            fields = _fields_from(form)
        except DomainError:
            if uploads:  # the files' problems too (the service checks them otherwise)
                service.check_files(uploads)
            raise
        return call(fields, uploads)
    except documents.DocumentRejected as error:
        _reload(page)
        page.files_error = error.message
        page.files_dropped = True
        with contextlib.suppress(DomainError):
            _fields_from(form)
        return _form_page(template, form, page, error.status)
    except DomainError as error:
        _reload(page)
        page.error = error.message
        return _form_page(template, form, page, error.status)


def _reload(page: FormPage) -> None:
    """After a refusal, nothing of the attempt stays; the edit page's resource is read again
    (the rollback expired it)."""
    db.session.rollback()
    if page.resource is not None:
        page.resource = service.resource_for_page(page.resource_id)


@bp.route("/nouvelle", methods=["GET", "POST"])
def new():
    if (response := _enter_space()) is not None:
        return response
    page = FormPage()
    if request.method == "GET":
        return _form_page("library/new.html", ResourceForm(formdata=None), page)
    form = ResourceForm(formdata=request.form)

    def call(fields, uploads):
        resource_id = service.deposit_resource(current_user, fields, uploads)
        flash(_("La ressource est déposée dans la bibliothèque du réseau."), "success")
        return redirect(url_for(".show", resource_id=resource_id), 303)

    return _submit("library/new.html", form, page, call)


def _editable(resource_id: int):
    """The resource, for its author and the network's team (403 for others, 404 unknown)."""
    resource = service.resource_for_page(resource_id)
    if not service.may_edit(current_user, resource):
        raise NotAllowed(
            _("Seul·es son auteur·ice et l'équipe d'animation du réseau modifient cette ressource.")
        )
    return resource


@bp.route("/<int:resource_id>/modifier", methods=["GET", "POST"])
def edit(resource_id: int):
    if (response := _enter_space()) is not None:
        return response
    resource = _editable(resource_id)
    page = FormPage(
        resource=resource,
        resource_id=resource.id,
        for_someone_else=resource.author_id != current_user.id,
    )
    if request.method == "GET":
        form = ResourceForm(
            formdata=None,
            kind=resource.kind.value,
            title=resource.title,
            summary=resource.summary,
            body=resource.body,
            levels=[row.level.value for row in resource.levels],
            themes=theme_field_value(resource.themes),
            council=resource.council,
            departement=resource.departement or "",
            decided_on=resource.decided_on,
            outcome=resource.outcome.value if resource.outcome else "",
        )
        return _form_page("library/edit.html", form, page)
    form = ResourceForm(formdata=request.form)

    def call(fields, uploads):
        service.update_resource(
            current_user, resource_id, fields, uploads, reason=form.reason.data or ""
        )
        flash(_("Les modifications de la ressource sont enregistrées."), "success")
        return redirect(url_for(".show", resource_id=resource_id), 303)

    return _submit("library/edit.html", form, page, call)


# A resource's page ---------------------------------------------------------------------------


class ReuseForm(Form):
    note = StringField(
        _l("Où l'avez-vous repris ? (facultatif)"),
        filters=[_strip],
        validators=[Optional(), _max(service.NOTE_MAX)],
    )


def _show_page(
    resource_id: int,
    reuse_form: ReuseForm | None = None,
    status: int = 200,
    reuse_error: str | None = None,
):
    resource = service.resource_for_page(resource_id)
    mine = resource.author_id == current_user.id
    my_reuse = None if mine else service.reuse_of(current_user, resource_id)
    response = make_response(
        render_template(
            "library/show.html",
            resource=resource,
            reuses=service.reuses_of(resource_id),
            my_reuse=my_reuse,
            mine=mine,
            may_edit=service.may_edit(current_user, resource),
            updated_by=service.updated_by(resource),
            reuse_form=reuse_form or ReuseForm(formdata=None),
            undo_form=EmptyForm(formdata=None),
            reuses_shown=service.REUSES_SHOWN,
            reuse_error=reuse_error,
        ),
        status,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/<int:resource_id>", endpoint="show")
def show(resource_id: int):
    if (response := _enter_space()) is not None:
        return response
    return _show_page(resource_id)


@bp.post("/<int:resource_id>/reprise")
def reuse(resource_id: int):
    """« Je l'ai repris chez moi »: once per person (a second time changes nothing)."""
    if (response := _enter_space()) is not None:
        return response
    form = ReuseForm(formdata=request.form)
    try:
        if not form.validate():
            raise form_invalid(form)
        created = service.mark_reused(current_user, resource_id, form.note.data or "")
    except DomainError as error:
        db.session.rollback()
        if error.status == 404:
            raise
        if form.note.errors:
            return _show_page(resource_id, form, error.status)
        return _show_page(resource_id, form, error.status, reuse_error=error.message)
    if created:
        flash(
            _("Merci : la reprise est comptée, et votre nom figure parmi ceux qui l'ont reprise."),
            "success",
        )
    else:
        flash(_("Vous aviez déjà signalé cette reprise."), "info")
    return redirect(url_for(".show", resource_id=resource_id, _anchor="reprises"), 303)


@bp.post("/<int:resource_id>/reprise/annulation")
def undo_reuse(resource_id: int):
    if (response := _enter_space()) is not None:
        return response
    form = EmptyForm(formdata=request.form)
    if not form.validate():
        raise form_invalid(form)
    if service.undo_reuse(current_user, resource_id):
        flash(_("Votre reprise est retirée."), "success")
    else:
        flash(_("Vous n'aviez pas signalé de reprise de cette ressource."), "info")
    return redirect(url_for(".show", resource_id=resource_id, _anchor="reprises"), 303)


# Deleting a resource, removing a file -------------------------------------------------------


class ConfirmForm(Form):
    reason = TextAreaField(
        _l("Raison (facultatif)"),
        filters=[_strip],
        validators=[Optional(), _max(service.REASON_MAX)],
    )


@bp.route("/<int:resource_id>/suppression", methods=["GET", "POST"])
def delete(resource_id: int):
    """A confirmation page, then the deletion (files leave the disk after the commit)."""
    if (response := _enter_space()) is not None:
        return response
    resource = _editable(resource_id)
    form = ConfirmForm(formdata=request.form if request.method == "POST" else None)
    error, status = None, 200
    if request.method == "POST":
        try:
            if not form.validate():
                raise form_invalid(form)
            title = service.delete_resource(current_user, resource_id, form.reason.data or "")
        except DomainError as refused:
            db.session.rollback()
            error, status = refused.message, refused.status
        else:
            flash(_("« %(title)s » est supprimée, avec ses fichiers.", title=title), "success")
            return redirect(url_for(".index"), 303)
    return make_response(
        render_template(
            "library/delete.html",
            resource=resource,
            form=form,
            error=error,
            for_someone_else=resource.author_id != current_user.id,
        ),
        status,
    )


@bp.route("/<int:resource_id>/fichiers/<int:file_id>/retrait", methods=["GET", "POST"])
def remove_file(resource_id: int, file_id: int):
    """A confirmation page, then the file's removal."""
    if (response := _enter_space()) is not None:
        return response
    resource = _editable(resource_id)
    row = service.resource_file(resource_id, file_id)
    form = ConfirmForm(formdata=request.form if request.method == "POST" else None)
    error, status = None, 200
    if request.method == "POST":
        try:
            if not form.validate():
                raise form_invalid(form)
            name = service.remove_resource_file(
                current_user, resource_id, file_id, form.reason.data or ""
            )
        except DomainError as refused:
            db.session.rollback()
            error, status = refused.message, refused.status
        else:
            flash(_("« %(name)s » est retiré de la ressource.", name=name), "success")
            return redirect(url_for(".edit", resource_id=resource_id), 303)
    return make_response(
        render_template(
            "library/remove_file.html",
            resource=resource,
            file=row,
            form=form,
            error=error,
            for_someone_else=resource.author_id != current_user.id,
        ),
        status,
    )


@bp.get("/<int:resource_id>/fichiers/<int:file_id>")
def download(resource_id: int, file_id: int):
    """A file of the resource, as a download only (see services/documents.py)."""
    if (response := _enter_space()) is not None:
        return response
    row = service.resource_file(resource_id, file_id)
    path = service.file_path(row)
    if not path.is_file():
        raise NotFound(_("Le fichier est introuvable."))
    return send_document(path, row.display_name, row.content_type)
