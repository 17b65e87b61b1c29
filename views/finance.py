"""The finance team's dashboard of a budget round, and its CSV exports (finance and admins)."""

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    make_response,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.routing import BuildError

from models import as_id
from services import finance_queries as fq
from services.ledger import round_spent_cents
from services.rounds import POLICY_LABELS
from services.workspace_access import is_team

from .htmx import is_htmx, vary_on_htmx
from .rounds import AUDIT_LABELS, EXPORT_LABELS
from .workspace import STATUS_LABELS

bp = Blueprint("finance", __name__, url_prefix="/finance")

DEFAULT_PER_PAGE = 25

STATE_LABELS = {
    "draft": STATUS_LABELS["draft"],
    "submitted": STATUS_LABELS["submitted"],
    "in_review": STATUS_LABELS["in_review"],
    "published_open": _l("Publiée, ouverte aux engagements"),
    "published_fundable": _l("Publiée, finançable"),
    "declined": STATUS_LABELS["declined"],
    "withdrawn": STATUS_LABELS["withdrawn"],
}


# Each table pages on its own: its page parameter, and the id of its fragment's root.
TABLES = {
    "proposals": ("p_prop", "finance-proposals"),
    "groups": ("p_group", "finance-groups"),
    "outside": ("p_hors", "finance-outside"),
}


@bp.before_request
def _require_finance():
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if not (current_user.is_finance or current_user.is_admin):
        abort(
            403,
            _(
                "Le suivi financier est réservé à l'équipe de suivi financier "
                "et aux administrateur·ices."
            ),
        )
    return None


def _page(name: str) -> int:
    raw = request.args.get(name, "1")
    return int(raw) if raw.isdecimal() and 0 < int(raw) < 100000 else 1


def _per_page() -> int:
    return current_app.config.get("FINANCE_PER_PAGE", DEFAULT_PER_PAGE)


def _round_id_arg() -> int | None:
    raw = request.args.get("round")
    if raw is None or raw == "":
        return None
    round_id = as_id(raw)
    if round_id is None:
        abort(404, _("Ce budget participatif n'existe pas."))
    return round_id


def round_page_url(round_id: int) -> str:
    """The round's own page, built by the rounds blueprint when it is there."""
    try:
        return url_for("rounds.show", round_id=round_id)
    except BuildError:
        return f"/budgets/{round_id}"


def _page_urls(budget_round, pages: dict[str, int]):
    """A function giving the address of a table's page n, keeping the round and the other
    tables' pages (the first page of a table is left out of the address)."""

    def page_url(table: str, n: int) -> str:
        args = {"round": budget_round.id}
        for name, (param, _root) in TABLES.items():
            page = n if name == table else pages[name]
            if page > 1:
                args[param] = page
        return url_for("finance.dashboard", **args)

    return page_url


def _table(name: str, round_id: int, page: int, per_page: int):
    if name == "proposals":
        return fq.proposal_reservations(round_id, page, per_page)
    if name == "groups":
        return fq.group_reservations(round_id, page, per_page)
    return fq.outside_budget(round_id, page, per_page)


@bp.get("")
def dashboard():
    budget_round = fq.round_for_dashboard(_round_id_arg())
    if budget_round is None:
        return render_template("finance/empty.html")
    per_page = _per_page()
    requested = {table: _page(param) for table, (param, _target) in TABLES.items()}
    target = request.headers.get("HX-Target")
    fragments = {root: table for table, (_param, root) in TABLES.items()}
    if is_htmx() and target in fragments:
        # One table's next page: only its two queries.
        table = fragments[target]
        result = _table(table, budget_round.id, requested[table], per_page)
        pages = dict(requested, **{table: result.page})
        context = dict(
            budget_round=budget_round, page_url=_page_urls(budget_round, pages), tables=TABLES
        )
        context[table] = result
        return vary_on_htmx(make_response(render_template(f"finance/_{table}.html", **context)))
    results = {
        table: _table(table, budget_round.id, requested[table], per_page) for table in TABLES
    }
    pages = {table: result.page for table, result in results.items()}
    return vary_on_htmx(
        make_response(
            render_template(
                "finance/dashboard.html",
                budget_round=budget_round,
                choices=fq.round_choices(),
                counts=fq.state_counts(budget_round.id),
                state_labels=STATE_LABELS,
                audit_rows=fq.round_audit(budget_round.id),
                team=is_team(current_user),
                audit_labels=AUDIT_LABELS,
                export_labels=EXPORT_LABELS,
                round_url=round_page_url(budget_round.id),
                spent_cents=round_spent_cents(budget_round.id),
                policy_label=POLICY_LABELS[budget_round.policy](),
                page_url=_page_urls(budget_round, pages),
                tables=TABLES,
                **results,
            )
        )
    )


def _export(round_id: int, kind: str) -> Response:
    fq.record_export(current_user, round_id, kind)
    budget_round = fq.round_for_dashboard(round_id)
    header, rows = fq.EXPORTS[kind]
    response = Response(
        stream_with_context(fq.csv_stream(header(), rows(round_id))),
        mimetype="text/csv",
    )
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{fq.export_filename(kind, budget_round.name, round_id)}"'
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<int:round_id>/engagements.csv")
def export_engagements(round_id: int):
    return _export(round_id, "engagements")


@bp.get("/<int:round_id>/reservations.csv")
def export_reservations(round_id: int):
    return _export(round_id, "reservations")
