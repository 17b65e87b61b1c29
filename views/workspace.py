"""A proposal's workspace: drafting by its group, editing by the animation team with
revisions, the transitions of its lifecycle, and its history."""

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
from flask_login import current_user

from models import ActionGroup, BudgetRound, Person, ProposalStatus, db
from services import catalog
from services import proposals as lifecycle
from services.access import require_certified, require_group_manager
from services.budget import effective_threshold
from services.commitments import THRESHOLD_STATUSES, set_threshold_override
from services.errors import DomainError
from services.illustrations import missing_alt_count
from services.workspace_access import acts_for_origin, can_edit, is_team, require_edit

from . import sign_in_first
from .diffs import change_rows
from .exchange import exchange_context
from .forms import (
    EmptyForm,
    ProposalForm,
    ReasonForm,
    RestoreForm,
    ThresholdForm,
    euros_input,
    form_invalid,
    parse_euros,
)
from .htmx import vary_on_htmx
from .illustrations import editor_context

bp = Blueprint("workspace", __name__)

# The one set of status words, on every page that shows a proposal's status.
STATUS_LABELS = {
    ProposalStatus.draft: _l("Brouillon"),
    ProposalStatus.submitted: _l("Soumise"),
    ProposalStatus.in_review: _l("En revue"),
    ProposalStatus.published: _l("Publiée"),
    ProposalStatus.declined: _l("Refusée"),
    ProposalStatus.withdrawn: _l("Retirée"),
}
BLANK_LINES = 2


@bp.app_context_processor
def _labels():
    return {"proposal_status_labels": STATUS_LABELS}


# The form ------------------------------------------------------------------------------------


def _form(text: lifecycle.ProposalText | None = None, version: int | None = None, formdata=None):
    """The proposal form, filled from a saved text (GET) or from the request (POST)."""
    if formdata is None and text is not None:
        form = ProposalForm(
            formdata=None,
            title=text.title,
            summary=text.summary,
            body=text.body,
            how_to=text.how_to,
            category=text.category,
            budget=euros_input(text.per_group_budget_cents),
            lines=[
                {"item": item, "amount": euros_input(amount)} for item, amount in text.budget_lines
            ],
            version=version,
        )
    elif formdata is None:
        form = ProposalForm(formdata=None)
    else:
        form = ProposalForm()
    form.category.choices = [(c.value, label) for c, label in catalog.CATEGORY_LABELS.items()]
    if formdata is None:
        for _n in range(BLANK_LINES):
            form.lines.append_entry()
    return form


def _text_from(form: ProposalForm) -> lifecycle.ProposalText:
    """The text the form holds; Invalid (422) names the first field that cannot be read."""
    if not form.validate_on_submit():
        raise form_invalid(form)
    try:
        budget = parse_euros(form.budget.data)
    except ValueError as error:
        form.budget.errors = [str(error)]
        raise form_invalid(form) from error
    lines = []
    for entry in form.lines:
        item = (entry.item.data or "").strip()
        amount_raw = (entry.amount.data or "").strip()
        if not item and not amount_raw:
            continue  # a blank row of the form
        if not item:
            entry.item.errors = [_("Nommez ce poste de dépense.")]
            raise form_invalid(form)
        try:
            amount = parse_euros(amount_raw)
        except ValueError as error:
            entry.amount.errors = [str(error)]
            raise form_invalid(form) from error
        lines.append((item, amount))
    return lifecycle.ProposalText(
        title=form.title.data or "",
        summary=form.summary.data or "",
        body=form.body.data or "",
        how_to=form.how_to.data or "",
        category=form.category.data,
        per_group_budget_cents=budget,
        budget_lines=tuple(lines),
    )


def _preview_of(form: ProposalForm) -> dict:
    """What the live preview shows for a form, even a half-filled one."""
    try:
        budget = parse_euros(form.budget.data)
    except ValueError:
        budget = None
    total = 0
    unreadable = False
    for entry in form.lines:
        raw = (entry.amount.data or "").strip()
        if not raw:
            continue
        try:
            total += parse_euros(raw)
        except ValueError:
            unreadable = True
    return dict(
        preview_body=form.body.data or "",
        preview_how_to=form.how_to.data or "",
        lines_total=total,
        budget_cents=budget,
        unreadable_amount=unreadable,
    )


def _wants(action: str) -> bool:
    return request.form.get("action") == action


# Pages ---------------------------------------------------------------------------------------


@bp.route("/groupes/<int:group_id>/propositions/nouvelle", methods=["GET", "POST"])
def new(group_id: int):
    """A manager of a certified group writes a new proposal (saved as a draft)."""
    if (response := sign_in_first()) is not None:
        return response
    group = db.session.get(ActionGroup, group_id)
    if group is None:
        abort(404)
    require_group_manager(current_user, group)
    require_certified(group)
    if request.method == "GET":
        return render_template("workspace/new.html", group=group, form=_form(), preview=None)
    form = _form(formdata=request.form)
    if _wants("add_line") or _wants("preview"):
        if _wants("add_line"):
            form.lines.append_entry()
        return render_template(
            "workspace/new.html", group=group, form=form, preview=_preview_of(form)
        )
    try:
        proposal = lifecycle.create_draft(current_user, group.id, _text_from(form))
    except DomainError as error:
        flash(error.message, "error")
        return make_response(
            render_template("workspace/new.html", group=group, form=form, preview=None),
            error.status,
        )
    flash(
        _(
            "Le brouillon est enregistré. Seuls les gestionnaires du groupe et l'équipe "
            "d'animation le voient ; soumettez-le quand il est prêt."
        ),
        "success",
    )
    return redirect(url_for(".show", proposal_id=proposal.id), 303)


@bp.get("/espace/propositions/<int:proposal_id>")
def show(proposal_id: int):
    if (response := sign_in_first()) is not None:
        return response
    proposal = lifecycle.workspace_proposal(current_user, proposal_id)
    group = (
        db.session.get(ActionGroup, proposal.origin_group_id) if proposal.origin_group_id else None
    )
    people = {
        p.id: p
        for p in db.session.query(Person).filter(
            Person.id.in_([i for i in (proposal.author_id, proposal.assignee_id) if i])
        )
    }
    text = lifecycle.text_of(proposal)
    team = is_team(current_user)
    origin = acts_for_origin(current_user, proposal)
    sets_threshold = team and proposal.status in THRESHOLD_STATUSES
    context = dict(
        proposal=proposal,
        group=group,
        author=people.get(proposal.author_id),
        assignee=people.get(proposal.assignee_id),
        text=text,
        categories=catalog.CATEGORY_LABELS,
        is_team=team,
        is_origin=origin,
        may_edit=can_edit(current_user, proposal),
        may_submit=origin and proposal.status == ProposalStatus.draft,
        may_withdraw=origin and proposal.status in lifecycle.WITHDRAWABLE,
        may_decide=team and proposal.status in lifecycle.DECIDABLE,
        may_assign=team
        and proposal.status in lifecycle.DECIDABLE
        and proposal.assignee_id != current_user.id,
        may_release=team
        and proposal.status in lifecycle.DECIDABLE
        and proposal.assignee_id is not None,
        threshold_form=ThresholdForm(formdata=None) if sets_threshold else None,
        threshold=effective_threshold(proposal, db.session.get(BudgetRound, proposal.round_id))
        if sets_threshold
        else None,
        action_form=EmptyForm(formdata=None),
        reason_form=ReasonForm(formdata=None),
        missing_alt=missing_alt_count(proposal.id),
    )
    context.update(editor_context(proposal), **exchange_context(proposal))
    return vary_on_htmx(make_response(render_template("workspace/show.html", **context)))


@bp.route("/espace/propositions/<int:proposal_id>/modifier", methods=["GET", "POST"])
def edit(proposal_id: int):
    if (response := sign_in_first()) is not None:
        return response
    proposal = lifecycle.workspace_proposal(current_user, proposal_id)
    require_edit(current_user, proposal)
    context = dict(proposal=proposal, preview=None, conflict=None, conflict_rows=[])
    if request.method == "GET":
        form = _form(lifecycle.text_of(proposal), proposal.version)
        # The saved text's preview and budget total, from the first look.
        context["preview"] = _preview_of(form)
        return render_template("workspace/edit.html", form=form, **context)
    form = _form(formdata=request.form)
    if _wants("add_line") or _wants("preview"):
        if _wants("add_line"):
            form.lines.append_entry()
        return render_template(
            "workspace/edit.html", form=form, **dict(context, preview=_preview_of(form))
        )
    try:
        text = _text_from(form)
        base_version = int(form.version.data or 0)
        revision = lifecycle.save_proposal(current_user, proposal.id, base_version, text)
    except lifecycle.EditConflict as conflict:
        # Keep their text on screen; the next save knowingly replaces the newer version.
        form.version.data = str(conflict.version)
        context.update(
            conflict=conflict,
            conflict_rows=change_rows(conflict.current.snapshot(), text.snapshot()),
        )
        return make_response(render_template("workspace/edit.html", form=form, **context), 409)
    except (DomainError, ValueError) as error:
        message = error.message if isinstance(error, DomainError) else str(error)
        flash(message, "error")
        status = error.status if isinstance(error, DomainError) else 422
        return make_response(render_template("workspace/edit.html", form=form, **context), status)
    if revision is None:
        flash(_("Aucune modification à enregistrer."), "info")
    else:
        flash(_("Modifications enregistrées (version %(n)d).", n=revision.number), "success")
    return redirect(url_for(".show", proposal_id=proposal.id), 303)


@bp.post("/espace/apercu")
def preview():
    """The live preview of the proposal form: Markdown and the budget lines' total (htmx)."""
    if (response := sign_in_first()) is not None:
        return response
    form = _form(formdata=request.form)
    return vary_on_htmx(
        make_response(render_template("workspace/_preview_response.html", **_preview_of(form)))
    )


@bp.get("/espace/propositions/<int:proposal_id>/historique")
def history(proposal_id: int):
    if (response := sign_in_first()) is not None:
        return response
    proposal = lifecycle.workspace_proposal(current_user, proposal_id)
    revisions = lifecycle.revisions_of(proposal.id)
    rows = [
        (revision, name, change_rows(*_old_new(revision.changes))) for revision, name in revisions
    ]
    return render_template(
        "workspace/history.html",
        proposal=proposal,
        revisions=rows,
        may_restore=can_edit(current_user, proposal),
        restore_form=RestoreForm(formdata=None),
    )


def _old_new(changes: dict) -> tuple[dict, dict]:
    return (
        {name: values[0] for name, values in changes.items()},
        {name: values[1] for name, values in changes.items()},
    )


@bp.post("/espace/propositions/<int:proposal_id>/historique/<int:number>/restauration")
def restore(proposal_id: int, number: int):
    if (response := sign_in_first()) is not None:
        return response
    form = RestoreForm()
    if not form.validate_on_submit():
        raise form_invalid(form)
    revision = lifecycle.restore_revision(current_user, proposal_id, number, form.version.data)
    flash(
        _(
            "La version %(old)d est rétablie (nouvelle version %(n)d).",
            old=number,
            n=revision.number,
        ),
        "success",
    )
    return redirect(url_for(".history", proposal_id=proposal_id), 303)


# Transitions ---------------------------------------------------------------------------------


def _transition(proposal_id: int, form, run, done: str):
    if (response := sign_in_first()) is not None:
        return response
    if not form.validate_on_submit():
        raise form_invalid(form)
    run()
    flash(done, "success")
    return redirect(url_for(".show", proposal_id=proposal_id), 303)


@bp.post("/espace/propositions/<int:proposal_id>/soumission")
def submit(proposal_id: int):
    return _transition(
        proposal_id,
        EmptyForm(),
        lambda: lifecycle.submit_proposal(current_user, proposal_id),
        _("La proposition est envoyée à l'équipe d'animation, qui vous répondra ici."),
    )


@bp.post("/espace/propositions/<int:proposal_id>/retrait")
def withdraw(proposal_id: int):
    form = ReasonForm()
    return _transition(
        proposal_id,
        form,
        lambda: lifecycle.withdraw_proposal(current_user, proposal_id, form.reason.data or ""),
        _("La proposition est retirée."),
    )


@bp.post("/espace/propositions/<int:proposal_id>/publication")
def publish(proposal_id: int):
    return _transition(
        proposal_id,
        EmptyForm(),
        lambda: lifecycle.publish_proposal(current_user, proposal_id),
        _("La proposition est publiée : les groupes peuvent s'y engager."),
    )


@bp.post("/espace/propositions/<int:proposal_id>/seuil")
def threshold(proposal_id: int):
    """The team sets the proposal's own threshold while reviewing it or once published."""
    form = ThresholdForm()
    return _transition(
        proposal_id,
        form,
        lambda: set_threshold_override(
            current_user, proposal_id, form.threshold.data, form.reason.data
        ),
        _("Le seuil est enregistré."),
    )


@bp.post("/espace/propositions/<int:proposal_id>/refus")
def decline(proposal_id: int):
    form = ReasonForm()
    return _transition(
        proposal_id,
        form,
        lambda: lifecycle.decline_proposal(current_user, proposal_id, form.reason.data or ""),
        _("La proposition est refusée ; le groupe voit la raison donnée."),
    )
