"""The animation team's space: the queue of proposals to review, assignment and release."""

from urllib.parse import parse_qsl, urlsplit

from flask import (
    Blueprint,
    abort,
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
from werkzeug.datastructures import MultiDict

from models import Category, ProposalStatus
from services import catalog, queue
from services.errors import Invalid
from services.groups import clean_departement
from services.workspace_access import is_team

from .htmx import is_htmx, vary_on_htmx

bp = Blueprint("queue", __name__)

DEFAULT_PER_PAGE = 50

# The status filter's choices, in the order of the select.
STATUS_CHOICES = {
    "a-traiter": _l("À traiter (soumises et en revue)"),
    "soumises": _l("Soumises"),
    "en-revue": _l("En revue"),
    "publiees": _l("Publiées"),
    "refusees": _l("Refusées"),
    "retirees": _l("Retirées"),
    "toutes": _l("Toutes (sauf brouillons)"),
}
# The filter value that lists one status alone, for the counts' links.
STATUS_FILTER_OF = {
    ProposalStatus.submitted: "soumises",
    ProposalStatus.in_review: "en-revue",
    ProposalStatus.published: "publiees",
    ProposalStatus.declined: "refusees",
    ProposalStatus.withdrawn: "retirees",
}


@bp.before_request
def _require_team():
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if not is_team(current_user):
        abort(403, _("L'espace d'animation est réservé à l'équipe d'animation."))
    return None


def _filters(args: MultiDict) -> tuple[queue.QueueFilters, int]:
    """Filters and page from a query string; anything malformed is ignored, never an error."""
    status = args.get("statut", "")
    category = args.get("categorie", "")
    assignee = args.get("animateur", "")
    departement = args.get("departement", "")[:3].strip()
    if departement:
        try:
            departement = clean_departement(departement)
        except Invalid:
            departement = ""
    if not (
        assignee in (queue.ASSIGNEE_ME, queue.ASSIGNEE_NOBODY)
        or (assignee.isdecimal() and len(assignee) < 10)
    ):
        assignee = ""
    page = args.get("page", "1")
    filters = queue.QueueFilters(
        status=status if status in queue.STATUS_FILTERS else queue.DEFAULT_STATUS,
        category=category if category in Category.__members__ else "",
        departement=departement,
        assignee=assignee,
    )
    return filters, int(page) if page.isdecimal() and 0 < int(page) < 100000 else 1


def _context(args: MultiDict, here: str, notice: str | None = None) -> dict:
    filters, page = _filters(args)
    per_page = current_app.config.get("QUEUE_PER_PAGE", DEFAULT_PER_PAGE)
    return dict(
        result=queue.queue_page(current_user, filters, page, per_page),
        filters=filters,
        team=queue.team_members(),
        categories=catalog.CATEGORY_LABELS,
        status_choices=STATUS_CHOICES,
        status_filter_of=STATUS_FILTER_OF,
        here=here,
        notice=notice,
    )


def _here() -> str:
    return request.full_path.rstrip("?")


@bp.get("/espace")
def index():
    context = _context(request.args, _here())
    if is_htmx() and request.headers.get("HX-Target") == "queue-results":
        return vary_on_htmx(make_response(render_template("queue/_results.html", **context)))
    return vary_on_htmx(make_response(render_template("queue/index.html", **context)))


def _local_path(target: str | None) -> str:
    """The `next` field if it is a path on this site, else the queue: never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("queue.index")


def _after_action(notice: str):
    """Back to where the button was: the queue's results for htmx, else a redirect (303)."""
    back = _local_path(request.form.get("next"))
    parts = urlsplit(back)
    if is_htmx() and parts.path == url_for("queue.index"):
        context = _context(MultiDict(parse_qsl(parts.query)), back, notice)
        return vary_on_htmx(make_response(render_template("queue/_results.html", **context)))
    flash(notice, "success")
    if is_htmx():
        return vary_on_htmx(make_response("", 200, {"HX-Redirect": back}))
    return redirect(back, 303)


@bp.post("/espace/propositions/<int:proposal_id>/attribution")
def assign(proposal_id: int):
    proposal = queue.assign_to_self(current_user, proposal_id)
    return _after_action(_("Vous suivez maintenant « %(title)s ».", title=proposal.title))


@bp.post("/espace/propositions/<int:proposal_id>/liberation")
def release(proposal_id: int):
    proposal = queue.release(current_user, proposal_id)
    return _after_action(_("« %(title)s » n'est plus suivie par personne.", title=proposal.title))
