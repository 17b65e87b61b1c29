"""Budget rounds: the list, the round's page with its audit log and the threshold simulator,
and the finance team's forms to create and edit a round and make it the current one."""

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

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
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from models import BudgetRound, Proposal, ThresholdPolicy, db, utcnow
from services import finance_queries as fq
from services import rounds as round_service
from services.budget import threshold_for
from services.errors import DomainError, NotAllowed
from services.ledger import round_spent_cents
from services.money import format_paris
from services.simulation import Simulation, simulate_round
from services.transparency import last_day_of, paris_day, round_overview
from services.workspace_access import is_team

from . import sign_in_first
from .charts import overview_html
from .forms import EmptyForm, RoundForm, SimulationForm, euros_input, form_invalid, parse_euros
from .htmx import is_htmx, vary_on_htmx

bp = Blueprint("rounds", __name__, url_prefix="/budgets")

PARIS = ZoneInfo("Europe/Paris")
ROUNDS_PER_PAGE = 20
AUDIT_PER_PAGE = 50
# Who reads a round's audit log and uses the simulator.
READER_ROLES = ("finance", "animation", "admin")

POLICY_NAMES = {
    ThresholdPolicy.manual: _l("Seuil fixe"),
    ThresholdPolicy.scaled: _l("Seuil proportionnel au budget restant"),
}
POLICY_HELP = {
    ThresholdPolicy.manual: _l(
        "Chaque action devient finançable quand le nombre de groupes engagés atteint le seuil "
        "de base (ou le seuil propre à l'action), quel que soit le budget restant."
    ),
    ThresholdPolicy.scaled: _l(
        "Le seuil monte à mesure que le budget se réserve : arrondi supérieur de "
        "seuil de base × total ÷ restant. Plus rien ne devient finançable une fois le budget "
        "épuisé."
    ),
}
AUDIT_LABELS = {
    "round.create": _l("Création du budget"),
    "round.name": _l("Nom"),
    "round.total": _l("Montant total"),
    "round.base_threshold": _l("Seuil de base"),
    "round.policy": _l("Règle de seuil"),
    "round.opens_at": _l("Ouverture des engagements"),
    "round.closes_at": _l("Clôture des engagements"),
    "round.current": _l("Budget courant"),
    "round.export": _l("Export CSV"),
    "proposal.threshold_override": _l("Seuil propre à l'action"),
}
EXPORT_LABELS = {
    "engagements": _l("engagements"),
    "reservations": _l("réservations"),
}
FIELD_MESSAGES = {
    "base_threshold": _l("Le seuil de base est un nombre entier de groupes, de 1 à 100 000."),
    "base": _l("Le seuil de base est un nombre entier de groupes, de 1 à 100 000."),
    "policy": _l("Choisissez une règle de seuil : fixe, ou proportionnelle au budget restant."),
    "opens_on": _l("Indiquez la date d'ouverture des engagements."),
    "closes_on": _l("Indiquez le dernier jour des engagements."),
}


@bp.app_context_processor
def _labels():
    return {"policy_names": POLICY_NAMES}


# Access ---------------------------------------------------------------------------------------


def _has_role(*roles: str) -> bool:
    return current_user.is_authenticated and any(getattr(current_user, f"is_{r}") for r in roles)


def _require_manager() -> None:
    if not _has_role(*round_service.ROUND_ROLES):
        raise NotAllowed(
            _(
                "Les budgets participatifs sont gérés par l'équipe de suivi financier et "
                "l'équipe d'administration."
            )
        )


def _round_or_404(round_id: int) -> BudgetRound:
    budget_round = db.session.get(BudgetRound, round_id)
    if budget_round is None:
        abort(404, _("Ce budget participatif n'existe pas."))
    return budget_round


def _local_path(target: str | None, default: str) -> str:
    """A path on this site, else the default: never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return default


def _page() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdecimal() and 0 < int(raw) < 100000 else 1


# Dates: days in Paris -------------------------------------------------------------------------


def paris_midnight(day: date) -> datetime:
    """00:00 in Paris on that day, as a UTC instant."""
    return datetime.combine(day, time(), PARIS).astimezone(UTC)


# The first day commitments are taken, and the last (they close at 00:00 Paris the day after).
opening_day = paris_day
last_day = last_day_of


def _is_midnight(moment: datetime) -> bool:
    return moment.astimezone(PARIS).time() == time()


@dataclass(frozen=True)
class Schedule:
    """When a round takes commitments, as people read it."""

    phase: str  # "upcoming", "open" or "closed"
    opens: str  # « 1 mars 2027 », or with the time when it is not midnight
    last_day: str  # « 30 juin 2027 inclus », or « 30 juin 2027 à 14:00 »
    closed_since: str  # « 1 juillet 2027 »


def schedule_of(budget_round: BudgetRound, now: datetime | None = None) -> Schedule:
    now = now or utcnow()
    opens_at, closes_at = budget_round.opens_at, budget_round.closes_at
    if now < opens_at:
        phase = "upcoming"
    elif now < closes_at:
        phase = "open"
    else:
        phase = "closed"
    day = "d MMMM yyyy"
    if _is_midnight(closes_at):
        last = _("%(date)s inclus", date=format_date(last_day(closes_at), day))
        since = format_date(closes_at.astimezone(PARIS).date(), day)
    else:
        last = since = format_paris(closes_at)
    return Schedule(
        phase=phase,
        opens=format_date(opening_day(opens_at), day)
        if _is_midnight(opens_at)
        else format_paris(opens_at),
        last_day=last,
        closed_since=since,
    )


# The round's form -----------------------------------------------------------------------------


def _form_for(budget_round: BudgetRound | None) -> RoundForm:
    """The form filled for a GET: the round's settings, or a new round's defaults."""
    if budget_round is None:
        return RoundForm(
            formdata=None,
            policy=ThresholdPolicy.manual.value,
            opens_on=utcnow().astimezone(PARIS).date(),
        )
    return RoundForm(
        formdata=None,
        name=budget_round.name,
        total=euros_input(budget_round.total_cents),
        base_threshold=budget_round.base_threshold,
        policy=budget_round.policy.value,
        opens_on=opening_day(budget_round.opens_at),
        closes_on=last_day(budget_round.closes_at),
    )


def _french_errors(form) -> None:
    """WTForms' own messages for a number, a date or a choice it cannot read are terse:
    replace them with ours."""
    for name, message in FIELD_MESSAGES.items():
        field = getattr(form, name, None)
        if field is not None and field.errors:
            field.errors = [str(message)]


def _settings_from(form: RoundForm, budget_round: BudgetRound | None):
    """The settings the form holds; FormInvalid (422) names what cannot be read. A day left
    as it was keeps the round's exact moment (a round set up with a time of day)."""
    if not form.validate_on_submit():
        _french_errors(form)
        raise form_invalid(form)
    try:
        total = parse_euros(form.total.data)
    except ValueError as error:
        form.total.errors = [str(error)]
        raise form_invalid(form) from error
    opens_at = paris_midnight(form.opens_on.data)
    closes_at = paris_midnight(form.closes_on.data + timedelta(days=1))
    if budget_round is not None:
        if form.opens_on.data == opening_day(budget_round.opens_at):
            opens_at = budget_round.opens_at
        if form.closes_on.data == last_day(budget_round.closes_at):
            closes_at = budget_round.closes_at
    return round_service.RoundSettings(
        name=form.name.data or "",
        total_cents=total,
        base_threshold=form.base_threshold.data,
        policy=ThresholdPolicy(form.policy.data),
        opens_at=opens_at,
        closes_at=closes_at,
    )


def _form_page(template: str, form: RoundForm, status: int = 200, **context):
    return make_response(
        render_template(template, form=form, policy_help=POLICY_HELP, **context), status
    )


@bp.route("/nouveau", methods=["GET", "POST"])
def new():
    if (response := sign_in_first()) is not None:
        return response
    _require_manager()
    if request.method == "GET":
        return _form_page("rounds/new.html", _form_for(None))
    form = RoundForm()
    try:
        round_id = round_service.create_round(
            current_user, _settings_from(form, None), bool(form.make_current.data)
        )
    except DomainError as error:
        flash(error.message, "error")
        return _form_page("rounds/new.html", form, error.status)
    flash(_("Le budget participatif est créé."), "success")
    return redirect(url_for(".show", round_id=round_id), 303)


@bp.route("/<int:round_id>/modifier", methods=["GET", "POST"])
def edit(round_id: int):
    if (response := sign_in_first()) is not None:
        return response
    _require_manager()
    budget_round = _round_or_404(round_id)
    if request.method == "GET":
        return _form_page("rounds/edit.html", _form_for(budget_round), budget_round=budget_round)
    form = RoundForm()
    try:
        changed = round_service.update_round(
            current_user, round_id, _settings_from(form, budget_round), form.reason.data or ""
        )
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return _form_page(
            "rounds/edit.html",
            form,
            error.status,
            budget_round=db.session.get(BudgetRound, round_id),
        )
    if changed:
        flash(_("Les changements sont enregistrés et inscrits au journal."), "success")
    else:
        flash(_("Aucune modification à enregistrer."), "info")
    return redirect(url_for(".show", round_id=round_id), 303)


@bp.post("/<int:round_id>/courant")
def make_current(round_id: int):
    if (response := sign_in_first()) is not None:
        return response
    form = EmptyForm()
    if not form.validate_on_submit():
        raise form_invalid(form)
    round_service.make_current(current_user, round_id)
    budget_round = _round_or_404(round_id)
    flash(
        _(
            "« %(name)s » est maintenant le budget courant : les nouvelles propositions le "
            "rejoignent et la page d'accueil le présente.",
            name=budget_round.name,
        ),
        "success",
    )
    return redirect(_local_path(form.next.data, url_for(".show", round_id=round_id)), 303)


# Pages ----------------------------------------------------------------------------------------


@bp.get("")
def index():
    """Every round, the latest first; the figures are public."""
    page = _page()
    total = db.session.scalar(select(func.count()).select_from(BudgetRound))
    rounds = db.session.scalars(
        select(BudgetRound)
        .order_by(BudgetRound.opens_at.desc(), BudgetRound.id.desc())
        .limit(ROUNDS_PER_PAGE)
        .offset((page - 1) * ROUNDS_PER_PAGE)
    ).all()
    now = utcnow()
    return render_template(
        "rounds/index.html",
        rows=[(r, schedule_of(r, now)) for r in rounds],
        page=page,
        pages=max(1, math.ceil(total / ROUNDS_PER_PAGE)),
        may_manage=_has_role(*round_service.ROUND_ROLES),
        action_form=EmptyForm(formdata=None),
    )


def audit_page(round_id: int, page: int) -> tuple[list[fq.RoundAuditEntry], int]:
    """A page of the round's audit log, newest first: two queries."""
    total = fq.round_audit_count(round_id)
    rows = fq.round_audit(round_id, AUDIT_PER_PAGE, (page - 1) * AUDIT_PER_PAGE)
    return rows, max(1, math.ceil(total / AUDIT_PER_PAGE))


def _round_figures(round_id: int) -> tuple[int, int]:
    """How many of its proposals are fundable, and their commitments « hors budget »."""
    count, outside = db.session.execute(
        select(
            func.count(Proposal.id),
            func.coalesce(func.sum(Proposal.commitment_count - Proposal.reserved_count), 0),
        ).where(Proposal.round_id == round_id, Proposal.fundable_at.is_not(None))
    ).one()
    return count, outside


@dataclass
class SimulatorState:
    form: SimulationForm
    simulation: Simulation | None
    error: str | None

    @property
    def status(self) -> int:
        return 422 if self.error else 200


def _simulator(budget_round: BudgetRound, args: MultiDict, asked: bool) -> SimulatorState:
    """The simulator for the values typed (asked), else for the round's own settings."""
    if not asked:
        form = SimulationForm(
            formdata=None, base=budget_round.base_threshold, policy=budget_round.policy.value
        )
    else:
        form = SimulationForm(formdata=args)
        if not form.validate():
            _french_errors(form)
            message = " ".join(str(m) for errors in form.errors.values() for m in errors)
            return SimulatorState(form, None, message)
    simulation = simulate_round(budget_round, form.base.data, ThresholdPolicy(form.policy.data))
    return SimulatorState(form, simulation, None)


def _simulation_asked() -> bool:
    return "base" in request.args or "policy" in request.args


@bp.get("/<int:round_id>")
def show(round_id: int):
    budget_round = _round_or_404(round_id)
    fundable_count, outside_budget = _round_figures(round_id)
    reader = _has_role(*READER_ROLES)
    context = dict(
        budget_round=budget_round,
        overview=overview_html(
            round_overview(budget_round, current_app.config["ROUND_CHART_SECONDS"]),
            with_figures=False,
        ),
        schedule=schedule_of(budget_round),
        threshold_now=threshold_for(
            None,
            budget_round.base_threshold,
            budget_round.policy,
            budget_round.total_cents,
            budget_round.reserved_cents,
        ),
        fundable_count=fundable_count,
        outside_budget=outside_budget,
        spent_cents=round_spent_cents(budget_round.id),
        may_manage=_has_role(*round_service.ROUND_ROLES),
        reader=reader,
        action_form=EmptyForm(formdata=None),
        policy_help=POLICY_HELP,
    )
    status = 200
    if reader:
        page = _page()
        audit_rows, pages = audit_page(round_id, page)
        simulator = _simulator(budget_round, request.args, _simulation_asked())
        status = simulator.status
        context.update(
            audit_rows=audit_rows,
            audit_labels=AUDIT_LABELS,
            export_labels=EXPORT_LABELS,
            page=page,
            pages=pages,
            team=is_team(current_user),
            simulator=simulator,
        )
    return vary_on_htmx(make_response(render_template("rounds/show.html", **context), status))


@bp.get("/<int:round_id>/simulation")
def simulation(round_id: int):
    """The simulator's results alone, for htmx; a full page without it."""
    if (response := sign_in_first()) is not None:
        return response
    if not _has_role(*READER_ROLES):
        raise NotAllowed(
            _("Le simulateur est réservé aux équipes de suivi financier et d'animation.")
        )
    budget_round = _round_or_404(round_id)
    if not is_htmx():
        # Only the simulator's own parameters: the others could be url_for's (_external…).
        kept = {k: request.args[k] for k in ("base", "policy") if k in request.args}
        return redirect(url_for(".show", round_id=round_id, **kept) + "#simulateur", 303)
    simulator = _simulator(budget_round, request.args, True)
    response = make_response(
        render_template(
            "rounds/_simulation_response.html", budget_round=budget_round, simulator=simulator
        ),
        simulator.status,
    )
    if simulator.error is None:
        # A reload shows the same simulation (the page reads the same parameters).
        response.headers["HX-Replace-Url"] = url_for(
            ".show",
            round_id=round_id,
            base=simulator.form.base.data,
            policy=simulator.form.policy.data,
        )
    return vary_on_htmx(response)
