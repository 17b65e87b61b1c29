"""Illustrations: the workspace editor (upload, in-place caption and alternative text, order,
cover, deletion), the public gallery, and the image files themselves (/medias/…).

Template contracts:
- the workspace page merges `editor_context(proposal)` into its context and includes
  "illustrations/_editor.html" (root id `illustrations-editor`);
- the public proposal page merges `gallery_context(proposal_id)` and includes
  "illustrations/_gallery.html" (it also shows `gallery_cover` at the top).

Every control works without JavaScript: after a plain POST the person goes back to the
workspace (303); with htmx the editor (or the one edited illustration) is answered alone.
"""

import re
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
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from models import THUMB_SUFFIX, Illustration, Proposal, db
from services import illustrations as service
from services import images
from services.errors import Invalid
from services.workspace_access import can_edit, can_view_workspace

from . import error_response
from .forms import Form
from .htmx import is_htmx, vary_on_htmx

bp = Blueprint("illustrations", __name__)

# "<32 hex>.<ext>" or "<32 hex>-400.<ext>": nothing else is ever looked up on disk.
_MEDIA_NAME = re.compile(r"([0-9a-f]{32})(" + re.escape(THUMB_SUFFIX) + r")?\.(jpg|png|webp)")
PUBLIC_CACHE = "public, max-age=31536000, immutable"
# The workspace's files: only in the browser of someone allowed, and not for long.
PRIVATE_CACHE = "private, max-age=3600"


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class IllustrationForm(Form):
    alt_text = StringField(
        _l("Texte alternatif (obligatoire)"),
        filters=[_strip],
        validators=[
            DataRequired(
                _l(
                    "Rédigez le texte alternatif : il décrit l'image à qui ne la voit pas, "
                    "et l'illustration n'est pas publiée sans lui."
                )
            ),
            Length(max=service.TEXT_MAX_LENGTH, message=_l("300 caractères au plus.")),
        ],
    )
    caption = TextAreaField(
        _l("Légende (facultative)"),
        filters=[_strip],
        validators=[Length(max=service.TEXT_MAX_LENGTH, message=_l("300 caractères au plus."))],
    )


@dataclass
class EditorState:
    """What `_editor.html` and `_item.html` show, for the signed-in person."""

    proposal_id: int
    items: list[Illustration]
    can_edit: bool
    missing_alt: int
    max_files: int
    max_megabytes: int
    accept: str = images.ACCEPT
    error: str | None = None  # why the last upload was refused
    notice: str | None = None  # what the last action did (htmx answers only)
    focus: str | None = None  # the id of the control to focus after an htmx swap

    def is_first(self, item: Illustration) -> bool:
        return self.items[0].id == item.id

    def is_last(self, item: Illustration) -> bool:
        return self.items[-1].id == item.id


def editor_context(
    proposal: Proposal,
    *,
    error: str | None = None,
    notice: str | None = None,
    focus: str | None = None,
) -> dict:
    """Everything "illustrations/_editor.html" needs, for current_user (one query)."""
    items = service.editor_illustrations(proposal.id)
    config = current_app.config
    return {
        "illustration_editor": EditorState(
            proposal_id=proposal.id,
            items=items,
            can_edit=can_edit(current_user, proposal),
            missing_alt=sum(1 for item in items if not item.alt_text),
            max_files=config["UPLOAD_MAX_FILES"],
            max_megabytes=config["UPLOAD_MAX_BYTES"] // (1024 * 1024),
            error=error,
            notice=notice,
            focus=focus,
        )
    }


def gallery_context(proposal_id: int) -> dict:
    """The public illustrations of a published proposal (one query): `gallery_cover` (or
    None) and `gallery`, the others in order. Without alternative text, none is shown."""
    shown = service.public_illustrations(proposal_id)
    cover = next((item for item in shown if item.is_cover), None)
    return {"gallery_cover": cover, "gallery": [item for item in shown if item is not cover]}


# Access ------------------------------------------------------------------------------------


@bp.before_request
def _sign_in_first():
    if request.endpoint != "illustrations.media" and not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    return None


@bp.record_once
def _pixel_limit(state):
    images.set_pixel_limit(state.app.config["UPLOAD_MAX_PIXELS"])


@bp.errorhandler(RequestEntityTooLarge)
def _request_too_large(_error):
    config = current_app.config
    return error_response(
        413,
        _(
            "L'envoi est trop volumineux : %(num)d images au plus à la fois, de %(mb)d Mo au "
            "plus chacune. Rien n'a été enregistré.",
            num=config["UPLOAD_MAX_FILES"],
            mb=config["UPLOAD_MAX_BYTES"] // (1024 * 1024),
        ),
    )


@bp.after_request
def _no_caching_of_media_errors(response):
    # A refusal (404 before publication) must not be kept by a cache in between.
    if request.endpoint == "illustrations.media" and response.status_code not in (200, 206, 304):
        response.headers["Cache-Control"] = "no-store"
    return response


# Answers -----------------------------------------------------------------------------------


def _workspace_url(proposal_id: int) -> str:
    return url_for("workspace.show", proposal_id=proposal_id, _anchor="illustrations-editor")


def _proposal(proposal_id: int) -> Proposal:
    return db.session.get(Proposal, proposal_id)


def _editor_answer(proposal_id: int, notice: str, focus: str | None = None):
    """After a change: the editor for htmx, else back to the workspace with a message."""
    if not is_htmx():
        flash(notice, "success")
        return redirect(_workspace_url(proposal_id), 303)
    context = editor_context(_proposal(proposal_id), notice=notice, focus=focus)
    return vary_on_htmx(make_response(render_template("illustrations/_editor.html", **context)))


def _item_answer(illustration: Illustration, notice: str | None = None, status: int = 200):
    """One illustration of the editor, shown (not edited), for htmx; with the count of
    missing alternative texts and the message, out of band."""
    context = editor_context(
        _proposal(illustration.proposal_id),
        notice=notice,
        focus=f"illustration-{illustration.id}-edit",
    )
    item = next((i for i in context["illustration_editor"].items if i.id == illustration.id), None)
    if item is None:  # deleted meanwhile
        abort(404)
    return vary_on_htmx(
        make_response(
            render_template("illustrations/_item_response.html", item=item, **context), status
        )
    )


def _edit_answer(illustration: Illustration, form: IllustrationForm, error=None, status=200):
    """The form of one illustration: inline for htmx, its own page otherwise."""
    context = dict(
        item=illustration,
        form=form,
        error=error,
        proposal=_proposal(illustration.proposal_id),
        workspace_url=_workspace_url(illustration.proposal_id),
    )
    if is_htmx():
        template = "illustrations/_edit_form.html"
        context["inline"] = True
    else:
        template = "illustrations/edit.html"
        context["inline"] = False
    return vary_on_htmx(make_response(render_template(template, **context), status))


# Upload ------------------------------------------------------------------------------------


@bp.post("/espace/propositions/<int:proposal_id>/illustrations")
def upload(proposal_id: int):
    files = [
        service.UploadedFile(storage.filename or "", storage.read())
        for storage in request.files.getlist("images")
        if storage.filename  # a form sent without a chosen file has one empty part
    ]
    try:
        ids = service.upload_illustrations(current_user, proposal_id, files)
    except Invalid as error:  # refused files (422, 413): said next to the upload form
        proposal = _proposal(proposal_id)
        if is_htmx():
            context = editor_context(proposal, error=error.message, focus="illustration-files")
            return vary_on_htmx(
                make_response(
                    render_template("illustrations/_editor.html", **context), error.status
                )
            )
        context = editor_context(proposal, error=error.message)
        return make_response(
            render_template(
                "illustrations/upload.html",
                proposal=proposal,
                workspace_url=_workspace_url(proposal_id),
                **context,
            ),
            error.status,
        )
    notice = ngettext(
        "%(num)d image ajoutée : rédigez son texte alternatif.",
        "%(num)d images ajoutées : rédigez leur texte alternatif.",
        len(ids),
    )
    return _editor_answer(proposal_id, notice, focus=f"illustration-{ids[0]}-edit")


# Caption and alternative text --------------------------------------------------------------


@bp.get("/espace/illustrations/<int:illustration_id>")
def item(illustration_id: int):
    """One illustration as shown in the editor (htmx « Annuler » of the inline form)."""
    illustration = service.viewable_illustration(current_user, illustration_id)
    if not is_htmx():
        return redirect(_workspace_url(illustration.proposal_id))
    return _item_answer(illustration)


@bp.get("/espace/illustrations/<int:illustration_id>/modifier")
def edit(illustration_id: int):
    illustration = service.editable_illustration(current_user, illustration_id)
    form = IllustrationForm(formdata=None, obj=illustration)
    return _edit_answer(illustration, form)


@bp.post("/espace/illustrations/<int:illustration_id>/modifier")
def update(illustration_id: int):
    # Allowed first: an outsider is told 404 or 403, never shown the form.
    illustration = service.editable_illustration(current_user, illustration_id)
    form = IllustrationForm()
    if not form.validate_on_submit():
        return _edit_answer(illustration, form, status=422)  # the fields say what is wrong
    try:
        service.update_illustration(
            current_user, illustration_id, form.caption.data, form.alt_text.data
        )
    except Invalid as error:
        return _edit_answer(illustration, form, error=error.message, status=error.status)
    notice = _("L'illustration %(n)d est enregistrée.", n=illustration.position)
    if not is_htmx():
        flash(notice, "success")
        return redirect(_workspace_url(illustration.proposal_id), 303)
    return _item_answer(illustration, notice)


# Order, cover, deletion --------------------------------------------------------------------


@bp.post("/espace/illustrations/<int:illustration_id>/deplacement")
def move(illustration_id: int):
    direction = request.form.get("direction", "")
    illustration = service.editable_illustration(current_user, illustration_id)
    service.move_illustration(current_user, illustration_id, direction)
    notice = (
        _("L'illustration est montée d'un rang.")
        if direction == "up"
        else _("L'illustration est descendue d'un rang.")
    )
    return _editor_answer(
        illustration.proposal_id, notice, focus=f"illustration-{illustration_id}-{direction}"
    )


@bp.post("/espace/illustrations/<int:illustration_id>/couverture")
def cover(illustration_id: int):
    illustration = service.editable_illustration(current_user, illustration_id)
    service.set_cover(current_user, illustration_id)
    return _editor_answer(
        illustration.proposal_id,
        _("L'illustration %(n)d est la couverture.", n=illustration.position),
        focus=f"illustration-{illustration_id}-edit",
    )


@bp.get("/espace/illustrations/<int:illustration_id>/suppression")
def confirm_delete(illustration_id: int):
    """The confirmation without JavaScript (htmx asks with hx-confirm)."""
    illustration = service.editable_illustration(current_user, illustration_id)
    return render_template(
        "illustrations/delete.html",
        item=illustration,
        proposal=_proposal(illustration.proposal_id),
        workspace_url=_workspace_url(illustration.proposal_id),
    )


@bp.post("/espace/illustrations/<int:illustration_id>/suppression")
def delete(illustration_id: int):
    illustration = service.editable_illustration(current_user, illustration_id)
    proposal_id, position = illustration.proposal_id, illustration.position
    service.delete_illustration(current_user, illustration_id)
    return _editor_answer(
        proposal_id,
        _("L'illustration %(n)d est supprimée.", n=position),
        focus="illustration-files",
    )


# Files -------------------------------------------------------------------------------------


@bp.get("/medias/<name>")
def media(name: str):
    """An illustration's image or thumbnail. Public (and cached for good: the names are
    random and never reused) once shown on a published proposal; before that, or without
    alternative text, only for the proposal's workspace, and 404 for anybody else."""
    match = _MEDIA_NAME.fullmatch(name)
    if match is None:
        abort(404)
    illustration = service.find_by_stored_name(match[1])
    if illustration is None or illustration.extension != match[3]:
        abort(404)
    proposal = _proposal(illustration.proposal_id)
    public = service.is_public_file(illustration, proposal.is_public)
    if not public and not can_view_workspace(current_user, proposal):
        abort(404)
    response = send_from_directory(
        current_app.config["UPLOADS_PATH"],
        name,
        mimetype=images.CONTENT_TYPES[match[3]],
        conditional=True,
        etag=True,
    )
    response.headers["Cache-Control"] = PUBLIC_CACHE if public else PRIVATE_CACHE
    response.headers.pop("Expires", None)
    if not public:
        response.vary.add("Cookie")
    return response
