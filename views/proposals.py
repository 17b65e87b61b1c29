"""Published proposals: the list (home), a proposal's page, live polling, commit and withdraw."""

import functools
import hashlib
import re
import time

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
from flask_login import current_user
from markupsafe import Markup

from models import Category, Proposal, db, utcnow
from services import catalog
from services.budget import current_round
from services.commitments import (
    commit_group,
    commitments_refused_because,
    set_threshold_override,
    withdraw_commitment,
)
from services.errors import DomainError
from services.proposals import budget_lines_of
from services.transparency import round_overview
from services.workspace_access import is_team

from . import my_groups, sign_in_first
from .charts import overview_html
from .forms import CommitForm, ThresholdForm, WithdrawForm, form_invalid
from .htmx import is_htmx, vary_on_htmx
from .illustrations import gallery_context

bp = Blueprint("proposals", __name__)


@functools.lru_cache(maxsize=4096)
def card_html(card: catalog.ProposalCard) -> Markup:
    """A list card, rendered once per state: it holds nothing personal, and the key is the
    card's whole content (state included), so a change is a new key, never a stale card."""
    return Markup(
        render_template("proposals/_card.html", card=card, categories=catalog.CATEGORY_LABELS)
    )


@bp.app_context_processor
def _card_renderer():
    return {"card_html": card_html}


MAX_POLLED = 100
_TOKEN_RE = re.compile(r"^([0-9]{1,9})\.([0-9]{1,9})\.([0-9]{1,19})\.([012])\.([0-9]{1,9})$")
ENGAGED_PER_PAGE = 100


def _list_filters() -> tuple[catalog.ListFilters, int]:
    """Filters from the query string; anything malformed is ignored, never an error."""
    args = request.args
    category = args.get("categorie", "")
    status = args.get("statut", "")
    sort = args.get("tri", "recentes")
    page = args.get("page", "1")
    filters = catalog.ListFilters(
        q=args.get("q", "")[:200].strip(),
        category=category if category in Category.__members__ else "",
        status=status if status in catalog.STATUS_FILTERS else "",
        sort=sort if sort in catalog.SORTS else "recentes",
    )
    return filters, int(page) if page.isdecimal() and 0 < int(page) < 100000 else 1


@bp.get("/")
def index():
    filters, page = _list_filters()
    per_page = current_app.config["PROPOSALS_PER_PAGE"]
    cards, total = catalog.page_of_cards(filters, page, per_page)
    pages = max(1, -(-total // per_page))
    context = dict(
        cards=cards,
        total=total,
        page=page,
        pages=pages,
        filters=filters,
        categories=catalog.CATEGORY_LABELS,
        poll_tokens="-".join(card.state.token for card in cards),
    )
    if is_htmx() and request.headers.get("HX-Target") == "proposal-results":
        return vary_on_htmx(make_response(render_template("proposals/_results.html", **context)))
    budget_round = current_round()
    context["round_overview"] = (
        overview_html(round_overview(budget_round, current_app.config["ROUND_CHART_SECONDS"]))
        if budget_round is not None
        else None
    )
    return vary_on_htmx(make_response(render_template("proposals/index.html", **context)))


def _commit_context(card: catalog.ProposalCard) -> dict:
    """Everything the commit control needs for the signed-in person: one or two queries."""
    groups = my_groups()
    commitments = catalog.commitments_of_groups([g.id for g in groups], card.id)
    engaged = [g for g in groups if g.id in commitments and commitments[g.id].is_active]
    # On a fundable action, whether each of my engaged groups holds its share of the round.
    reserved = (
        catalog.reserved_amounts([commitments[g.id].id for g in engaged])
        if engaged and card.state.fundable
        else {}
    )
    available = [g for g in groups if g.is_certified and g not in engaged]
    uncertified = [g for g in groups if not g.is_certified and g not in engaged]
    # Before or after the round's dates the form gives way to the reason.
    refused = None
    if available:
        refused = commitments_refused_because(
            card.round_name, card.round_opens_at, card.round_closes_at, utcnow()
        )
        if refused is not None:
            available = []
    return dict(
        round_refused=refused,
        card=card,
        managed=groups,
        engaged_mine=engaged,
        reserved_mine={g.id: reserved.get(commitments[g.id].id) for g in engaged},
        available=available,
        uncertified=uncertified,
        commit_form=CommitForm(formdata=None) if available else None,
        withdraw_form=WithdrawForm(formdata=None) if engaged else None,
    )


def _detail_context(card: catalog.ProposalCard) -> dict:
    proposal = db.session.get(Proposal, card.id)
    staff = is_team(current_user)
    return dict(
        proposal=proposal,
        budget_lines=budget_lines_of(card.id),
        # The team, and the managers of the group that proposed it (from the cached groups).
        shares_workspace=staff or any(g.id == proposal.origin_group_id for g in my_groups()),
        groups=catalog.engaged_groups(card.id),
        engaged_total=card.state.count,
        engaged_proposal_id=card.id,
        categories=catalog.CATEGORY_LABELS,
        threshold_form=ThresholdForm(formdata=None) if staff else None,
        poll_tokens=card.state.token,
        **_commit_context(card),
        **gallery_context(card.id),
    )


@bp.get("/propositions/<slug>")
def detail(slug: str):
    card = catalog.card_by_slug(slug)
    if card is None:
        abort(404)
    return vary_on_htmx(
        make_response(render_template("proposals/detail.html", **_detail_context(card)))
    )


@bp.get("/propositions/<int:proposal_id>/groupes")
def engaged(proposal_id: int):
    """Every group engaged on a proposal, a page at a time."""
    card = catalog.card_by_id(proposal_id)
    if card is None:
        abort(404)
    raw = request.args.get("page", "1")
    pages = max(1, -(-card.state.count // ENGAGED_PER_PAGE))
    page = int(raw) if raw.isdecimal() and 0 < int(raw) <= pages else 1
    groups = catalog.engaged_groups(
        card.id, limit=ENGAGED_PER_PAGE, offset=(page - 1) * ENGAGED_PER_PAGE
    )
    return render_template(
        "proposals/engaged.html", card=card, groups=groups, page=page, pages=pages
    )


def _parse_tokens(raw: str) -> dict[int, str]:
    tokens = {}
    for token in raw.split("-") if raw else []:
        match = _TOKEN_RE.match(token)
        if not match:
            abort(400, _("Paramètre d'état invalide."))
        tokens[int(match.group(1))] = token
    if len(tokens) > MAX_POLLED:
        abort(400, _("Trop de propositions suivies à la fois."))
    return tokens


class LiveSnapshot:
    """The live states of all published proposals, shared by one process's polls for a
    moment (LIVE_SNAPSHOT_SECONDS), so that most polls never touch the database."""

    def __init__(self) -> None:
        self.expires = 0.0
        self.states: dict[int, catalog.LiveState] = {}

    def states_of(self, ids: list[int], ttl: float) -> dict[int, catalog.LiveState]:
        if ttl <= 0:
            return catalog.live_states(ids)
        now = time.monotonic()
        if now >= self.expires:
            self.states = catalog.all_live_states()
            self.expires = now + ttl
        return {i: self.states[i] for i in ids if i in self.states}


def _snapshot() -> LiveSnapshot:
    return current_app.extensions.setdefault("commun_live_snapshot", LiveSnapshot())


def _is_newer(state: catalog.LiveState, known: str) -> bool:
    """Whether the page should show this state instead of the one it has.

    Versions only grow: a snapshot older than what the page already shows (say, right after
    its own commit) never moves its bar back.
    """
    known_version = int(known.rsplit(".", 1)[1])
    if state.version != known_version:
        return state.version > known_version
    return state.token != known


@bp.get("/propositions/etat")
def poll():
    """One request per page and interval: 204 when nothing the page shows has changed."""
    known = _parse_tokens(request.args.get("s", ""))
    detail_id = request.args.get("detail", "")
    detail_id = int(detail_id) if detail_id.isdecimal() and int(detail_id) in known else None
    states = _snapshot().states_of(list(known), current_app.config["LIVE_SNAPSHOT_SECONDS"])
    changed = [state for i, state in states.items() if _is_newer(state, known[i])]
    newer = {state.id for state in changed}
    current = "-".join(states[i].token if i in newer else known[i] for i in known if i in states)
    etag = hashlib.blake2s(current.encode(), digest_size=12).hexdigest()
    if not changed:
        response = make_response("", 204)
    else:
        detail_changed = detail_id in newer
        response = make_response(
            render_template(
                "proposals/_poll_update.html",
                changed=changed,
                poll_tokens=current,
                detail_id=detail_id,
                groups=catalog.engaged_groups(detail_id) if detail_changed else None,
                engaged_total=states[detail_id].count if detail_changed else 0,
                engaged_proposal_id=detail_id,
            )
        )
    response.set_etag(etag)
    response.headers["Cache-Control"] = "no-cache"
    return response.make_conditional(request)


def _after_commit_action(card_id: int, error: DomainError | None, status: int, form=None):
    """The answer to a commit or withdraw: a fragment for htmx, a redirect (303) otherwise."""
    card = catalog.card_by_id(card_id)
    if card is None:
        abort(404)
    if not is_htmx():
        if error is None:
            return redirect(url_for(".detail", slug=card.slug), 303)
        flash(error.message, "error")
        context = _detail_context(card)
        return vary_on_htmx(
            make_response(render_template("proposals/detail.html", **context), status)
        )
    context = _commit_context(card)
    if form is not None and error is not None:
        context["commit_form"] = form
    context.update(
        error=error.message if error else None,
        changed=[card.state],
        poll_tokens=card.state.token,
        detail_id=card.id,
        groups=catalog.engaged_groups(card.id),
        engaged_total=card.state.count,
        engaged_proposal_id=card.id,
    )
    return vary_on_htmx(
        make_response(render_template("proposals/_commit_response.html", **context), status)
    )


@bp.post("/propositions/<int:proposal_id>/engagement")
def commit(proposal_id: int):
    if (response := sign_in_first()) is not None:
        return response
    form = CommitForm()
    error = None
    if not form.validate_on_submit():
        error = form_invalid(form)
    else:
        try:
            commit_group(current_user, form.group_id.data, proposal_id, form.note.data or "")
        except DomainError as exc:
            error = exc
    if error is None:
        flash(_("Le groupe est engagé. Merci !"), "success")
    return _after_commit_action(proposal_id, error, error.status if error else 200, form)


@bp.post("/propositions/<int:proposal_id>/retrait")
def withdraw(proposal_id: int):
    if (response := sign_in_first()) is not None:
        return response
    form = WithdrawForm()
    error = None
    if not form.validate_on_submit():
        error = form_invalid(form)
    else:
        try:
            withdraw_commitment(current_user, form.group_id.data, proposal_id)
        except DomainError as exc:
            error = exc
    if error is None:
        flash(_("L'engagement du groupe est retiré."), "success")
    return _after_commit_action(proposal_id, error, error.status if error else 200)


@bp.post("/propositions/<int:proposal_id>/seuil")
def threshold(proposal_id: int):
    if (response := sign_in_first()) is not None:
        return response
    card = catalog.card_by_id(proposal_id)
    if card is None:
        abort(404)
    form = ThresholdForm()
    try:
        if not form.validate_on_submit():
            raise form_invalid(form)
        set_threshold_override(current_user, proposal_id, form.threshold.data, form.reason.data)
    except DomainError as exc:
        flash(exc.message, "error")
        context = _detail_context(card)
        if context["threshold_form"] is not None:  # staff only: keep what they typed
            context["threshold_form"] = form
        return make_response(render_template("proposals/detail.html", **context), exc.status)
    flash(_("Le seuil est enregistré."), "success")
    return redirect(url_for(".detail", slug=card.slug), 303)
