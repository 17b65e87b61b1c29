"""The finance team's queue of spending requests (/finance/depenses): filters and paging, the
CSV and the SEPA transfer file of the requests to pay, and marking them paid in one go."""

from urllib.parse import parse_qsl, urlsplit

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from models import SpendingStatus, as_id
from services import finance_queries as fq
from services import spending
from services import spending_queue as sq
from services.errors import DomainError, NotFound
from services.sepa import debtor_from_config

from .finance import DEFAULT_PER_PAGE, _require_finance
from .htmx import is_htmx, vary_on_htmx
from .spending import CATEGORY_LABELS

bp = Blueprint("spending_queue", __name__, url_prefix="/finance/depenses")

# The finance dashboard's guard: the finance team and the admins only.
bp.before_request(_require_finance)

RESULTS_ID = "spending-queue-results"

# The status filter's choices, in the order of the select.
STATUS_CHOICES = {
    "a-traiter": _l("À traiter (à examiner, puis informations demandées)"),
    "a-examiner": _l("À examiner"),
    "informations-demandees": _l("Informations demandées"),
    "a-payer": _l("Approuvées, à payer"),
    "payees": _l("Payées"),
    "refusees": _l("Refusées"),
    "toutes": _l("Toutes"),
}

# A request's status as the finance team reads it in its queue.
STATUS_LABELS = {
    SpendingStatus.awaiting_finance: _l("À examiner"),
    SpendingStatus.info_requested: _l("Informations demandées"),
    SpendingStatus.approved: _l("Approuvée, à payer"),
    SpendingStatus.paid: _l("Payée"),
    SpendingStatus.refused: _l("Refusée"),
}


def _page_number(args: MultiDict) -> int:
    raw = args.get("page", "1")
    return int(raw) if raw.isdecimal() and 0 < int(raw) < 100000 else 1


def request_url(request_id: int) -> str | None:
    """The request's own page, when the blueprint that shows it is there."""
    if "spending.show" not in current_app.view_functions:
        return None
    return url_for("spending.show", request_id=request_id)


def _context(
    args: MultiDict,
    here: str,
    selected: list[int] = (),
    execution_date: str | None = None,
    error: str | None = None,
) -> dict:
    choices = sq.queue_choices()
    filters = sq.clean_filters(args, choices)
    per_page = current_app.config.get("FINANCE_PER_PAGE", DEFAULT_PER_PAGE)
    today = sq.paris_today()
    return dict(
        result=sq.queue_page(filters, _page_number(args), per_page),
        filters=filters,
        choices=choices,
        status_choices=STATUS_CHOICES,
        status_labels=STATUS_LABELS,
        status_filter_of=sq.STATUS_FILTER_OF,
        category_labels=CATEGORY_LABELS,
        no_action=sq.NO_ACTION,
        request_url=request_url,
        here=here,
        selected=set(selected),
        execution_date=execution_date or sq.next_business_day(today).isoformat(),
        today=today.isoformat(),
        error=error,
    )


@bp.get("")
def index():
    context = _context(request.args, request.full_path.rstrip("?"))
    if is_htmx() and request.headers.get("HX-Target") == RESULTS_ID:
        return vary_on_htmx(
            make_response(render_template("spending/_queue_results.html", **context))
        )
    return vary_on_htmx(make_response(render_template("spending/queue.html", **context)))


@bp.get("/a-payer.csv")
def export_to_pay():
    """The approved requests not yet paid (under the filters but the status), as a CSV."""
    filters = sq.clean_filters(request.args, sq.queue_choices())
    sq.record_export(current_user, filters)
    response = Response(
        stream_with_context(
            fq.csv_stream(sq.to_pay_header(), sq.to_pay_rows(filters, CATEGORY_LABELS))
        ),
        mimetype="text/csv",
    )
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{sq.export_filename(sq.paris_today())}"'
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _back() -> str:
    """The `next` field if it is the queue's address, else the queue: never an open redirect."""
    target = request.form.get("next", "")
    parts = urlsplit(target)
    if not parts.scheme and not parts.netloc and parts.path == url_for("spending_queue.index"):
        return target
    return url_for("spending_queue.index")


def _chosen_ids() -> list[int]:
    """The requests the button acts on: those ticked, or with « toutes » every request to
    pay listed on the page (hidden fields, so that the file and the marking cover the same)."""
    field = "toutes" if request.form.get("portee") == "toutes" else "ids"
    values = request.form.getlist(field)
    ids = [as_id(v) for v in values]
    if None in ids:
        raise NotFound(_("Une de ces demandes de dépense n'existe pas."))
    return ids


def _queue_with_error(error: DomainError, back: str):
    """The queue again, as it was, with the message and the ticked boxes: nothing written."""
    ticked = [i for i in map(as_id, request.form.getlist("ids")) if i is not None]
    context = _context(
        MultiDict(parse_qsl(urlsplit(back).query)),
        back,
        selected=ticked,
        execution_date=request.form.get("date", "")[:20] or None,
        error=error.message,
    )
    return render_template("spending/queue.html", **context), error.status


@bp.post("/virements")
def transfer_file():
    """The SEPA credit transfer file of the chosen approved requests; changes nothing."""
    back = _back()
    try:
        ids = _chosen_ids()
        execution_date = sq.parse_execution_date(request.form.get("date"), sq.paris_today())
        content = sq.transfer_file(
            current_user, ids, execution_date, debtor_from_config(current_app.config)
        )
    except DomainError as error:
        return _queue_with_error(error, back)
    response = Response(content, mimetype="application/xml")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{sq.transfer_filename(execution_date)}"'
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/paiement")
def mark_paid():
    """The chosen approved requests marked paid, each one logged in its timeline."""
    back = _back()
    try:
        ids = _chosen_ids()
        if request.form.get("confirme") != "1":
            # Marking paid cannot be undone: the list and its total are confirmed first.
            rows = spending.to_mark_paid(current_user, ids)
            if rows:
                return render_template(
                    "spending/confirm_paid.html",
                    rows=rows,
                    total_cents=sum(row.amount_cents for row in rows),
                    ids=ids,
                    back=back,
                )
        marked = spending.mark_paid(current_user, ids)
    except DomainError as error:
        return _queue_with_error(error, back)
    if marked:
        flash(
            ngettext("%(num)d demande marquée payée.", "%(num)d demandes marquées payées.", marked),
            "success",
        )
    else:
        flash(_("Aucune demande n'a changé : elles étaient déjà marquées payées."), "info")
    return redirect(back, 303)
