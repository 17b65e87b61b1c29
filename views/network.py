"""The network of elected officials, its members' side: the public page and the application,
mandates, the directory and profiles, and the animation team's decisions and public team.

Plain HTML forms: every POST answers 303 on success; a refusal re-renders the page it came
from with its status (403, 404, 409, 422) and writes nothing. The directory's filters are a
GET form that htmx also submits live, answered with the results fragment alone.
"""

import math
from collections.abc import Mapping

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
from wtforms import (
    DateField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, InputRequired, Length, Optional

from models import ROLES_BY_LEVEL, MandateLevel, NetworkStatus, TeamRole, db
from models import NetworkTeamEntry as TeamEntry
from services import network as service
from services.errors import DomainError, NotFound
from services.network_access import (
    is_network_member,
    is_network_team,
    network_member,
    require_network_space,
    require_network_team,
    sees_network,
)
from services.themes import all_themes, theme_field_value

from . import sign_in_first
from .forms import EmptyForm, Form, form_invalid, refusal
from .htmx import is_htmx, vary_on_htmx

bp = Blueprint("network", __name__, url_prefix="/reseau")

DIRECTORY_PER_PAGE = 30
APPLICATIONS_PER_PAGE = 30

# The history of a person's place in the network, as the team reads it on the profile.
DECISION_LABELS = {
    "network.apply": _l("Demande d'adhésion"),
    "network.accept": _l("Acceptée ou réadmise"),
    "network.decline": _l("Demande déclinée"),
    "network.exclude": _l("Exclusion"),
}


class _Translated(Mapping):
    """Lazy labels, each translated on its first use by a page and then kept for that page:
    the directory shows three labels per mandate, 30 members a page."""

    def __init__(self, lazy: dict):
        self._lazy = lazy
        self._done: dict = {}

    def __getitem__(self, key):
        try:
            return self._done[key]
        except KeyError:
            text = self._done[key] = str(self._lazy[key])
            return text

    def __iter__(self):
        return iter(self._lazy)

    def __len__(self) -> int:
        return len(self._lazy)


@bp.app_context_processor
def _labels():
    # Functions and constants only: nothing is queried or translated unless a template asks.
    return {
        "mandate_level_labels": _Translated(service.LEVEL_LABELS),
        "mandate_role_labels": _Translated(service.ROLE_LABELS),
        "mandate_side_labels": _Translated(service.SIDE_LABELS),
        "network_status_labels": _Translated(service.STATUS_LABELS),
        "team_role_labels": _Translated(service.TEAM_ROLE_LABELS),
        "sees_network_space": lambda: sees_network(current_user),
        "is_network_member_now": lambda: is_network_member(current_user),
    }


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _page_number() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdecimal() and 0 < int(raw) < 100000 else 1


def _departement_field(label):
    return StringField(
        label,
        filters=[_strip],
        validators=[Optional(), Length(max=3, message=_l("Un code de 2 ou 3 caractères."))],
    )


def _themes_field():
    return StringField(
        _l("Thèmes"),
        filters=[_strip],
        validators=[Optional(), Length(max=1000, message=_l("1 000 caractères au plus."))],
    )


# Forms ---------------------------------------------------------------------------------------


class MandateForm(Form):
    level = SelectField(
        _l("Niveau"),
        choices=[SelectChoice("", _l("Choisissez un niveau"))]
        + [SelectChoice(level.value, label) for level, label in service.LEVEL_LABELS.items()],
        validators=[InputRequired(_l("Choisissez le niveau du mandat."))],
    )
    council = StringField(
        _l("Conseil ou territoire"),
        filters=[_strip],
        validators=[
            InputRequired(_l("Indiquez le conseil ou le territoire du mandat.")),
            Length(
                max=service.COUNCIL_MAX_LENGTH,
                message=_l("%(max)d caractères au plus.", max=service.COUNCIL_MAX_LENGTH),
            ),
        ],
    )
    departement = _departement_field(_l("Département (facultatif)"))
    role = SelectField(
        _l("Fonction"),
        choices=[SelectChoice("", _l("Choisissez une fonction"))]
        + [SelectChoice(role.value, label) for role, label in service.ROLE_LABELS.items()],
        validators=[InputRequired(_l("Choisissez la fonction exercée."))],
    )
    side = RadioField(
        _l("Majorité ou opposition"),
        choices=[SelectChoice(side.value, label) for side, label in service.SIDE_LABELS.items()],
        validators=[InputRequired(_l("Indiquez majorité ou opposition."))],
    )
    starts_on = DateField(
        _l("Début du mandat"),
        validators=[InputRequired(_l("Indiquez la date de début du mandat."))],
    )
    ends_on = DateField(_l("Fin du mandat (vide : en cours)"), validators=[Optional()])

    def data_for_service(self) -> service.MandateData:
        return service.MandateData(
            level=self.level.data or "",
            council=self.council.data or "",
            departement=self.departement.data or None,
            role=self.role.data or "",
            side=self.side.data or "",
            starts_on=self.starts_on.data,
            ends_on=self.ends_on.data,
        )


class JoinForm(Form):
    motivation = TextAreaField(
        _l("Votre motivation"),
        filters=[_strip],
        validators=[
            InputRequired(
                _l("Dites en quelques mots pourquoi vous souhaitez rejoindre le réseau.")
            ),
            Length(
                max=service.MOTIVATION_MAX_LENGTH,
                message=_l("%(max)d caractères au plus.", max=service.MOTIVATION_MAX_LENGTH),
            ),
        ],
    )
    departement = _departement_field(_l("Votre département (facultatif)"))
    presentation = TextAreaField(
        _l("Présentation pour les autres membres (facultatif)"),
        filters=[_strip],
        validators=[
            Optional(),
            Length(
                max=service.PRESENTATION_MAX_LENGTH,
                message=_l("%(max)d caractères au plus.", max=service.PRESENTATION_MAX_LENGTH),
            ),
        ],
    )
    themes = _themes_field()


class ProfileForm(Form):
    presentation = TextAreaField(
        _l("Présentation"),
        filters=[_strip],
        validators=[
            Optional(),
            Length(
                max=service.PRESENTATION_MAX_LENGTH,
                message=_l("%(max)d caractères au plus.", max=service.PRESENTATION_MAX_LENGTH),
            ),
        ],
    )
    departement = _departement_field(_l("Département"))
    themes = _themes_field()


_STATUSES = [status.value for status in NetworkStatus]
# Where a decision's form was: the page to come back to.
_BACK = ("adhesions", "profil")


class AcceptForm(Form):
    # The status the team member saw: if it changed meanwhile, nothing is decided (409).
    seen = HiddenField(validators=[AnyOf(_STATUSES, message=_l("Formulaire périmé."))])
    back = HiddenField(validators=[Optional(), AnyOf(_BACK)])


class ReasonForm(AcceptForm):
    reason = TextAreaField(
        _l("Raison (montrée à la personne)"),
        filters=[_strip],
        validators=[
            InputRequired(_l("Indiquez la raison de cette décision.")),
            Length(
                max=service.REASON_MAX_LENGTH,
                message=_l("%(max)d caractères au plus.", max=service.REASON_MAX_LENGTH),
            ),
        ],
    )


class TeamEntryForm(Form):
    display_name = StringField(
        _l("Nom"),
        filters=[_strip],
        validators=[
            InputRequired(_l("Indiquez le nom de la personne.")),
            Length(
                max=service.TEAM_NAME_MAX_LENGTH,
                message=_l("%(max)d caractères au plus.", max=service.TEAM_NAME_MAX_LENGTH),
            ),
        ],
    )
    role = RadioField(
        _l("Rôle dans l'équipe"),
        choices=[SelectChoice(r.value, label) for r, label in service.TEAM_ROLE_LABELS.items()],
        default=TeamRole.member.value,
        validators=[InputRequired(_l("Choisissez le rôle dans l'équipe."))],
    )
    description = TextAreaField(
        _l("Description (mandat, ce que la personne anime)"),
        filters=[_strip],
        validators=[
            Optional(),
            Length(
                max=service.TEAM_DESCRIPTION_MAX_LENGTH,
                message=_l("%(max)d caractères au plus.", max=service.TEAM_DESCRIPTION_MAX_LENGTH),
            ),
        ],
    )


class MoveForm(Form):
    direction = HiddenField(validators=[AnyOf(["up", "down"], message=_l("Direction inconnue."))])


# The public page and joining -----------------------------------------------------------------


@bp.get("/", endpoint="public")
def public():
    """What the network is for, its animation team, and where the visitor stands."""
    return render_template(
        "network/public.html",
        team=service.team_entries(),
        member=network_member(current_user),
        is_team=is_network_team(current_user),
    )


def _join_page(form: JoinForm, status: int = 200, error: str | None = None):
    return make_response(
        render_template(
            "network/join.html",
            form=form,
            error=error,
            mandates=service.mandates_of(current_user.id),
        ),
        status,
    )


@bp.route("/adherer", methods=["GET", "POST"], endpoint="join")
def join():
    """Ask to join the network (again, after a decline)."""
    if (response := sign_in_first()) is not None:
        return response
    member = network_member(current_user)
    if request.method == "GET":
        if member is not None:
            service.require_may_apply(member)
        values = {}
        if member is not None:  # declined: start again from what was written
            row = service.own_membership(current_user)
            values = dict(
                motivation=row.motivation,
                departement=row.departement or "",
                presentation=row.presentation,
                themes=theme_field_value(row.themes),
            )
        return _join_page(JoinForm(**values))
    if member is not None:  # refused before the form is even read (the service checks too)
        service.require_may_apply(member)
    form = JoinForm()
    error = refusal(
        form,
        lambda: service.apply_to_network(
            current_user,
            form.motivation.data,
            form.departement.data,
            form.presentation.data or "",
            form.themes.data or "",
        ),
    )
    if error is not None:
        return _join_page(form, 422, error)
    flash(
        _(
            "Votre demande d'adhésion est envoyée : l'équipe d'animation du réseau vous "
            "répondra bientôt."
        ),
        "success",
    )
    return redirect(url_for(".public"), 303)


# Mandates ------------------------------------------------------------------------------------


def _mandates_page(form: MandateForm, status: int = 200, error: str | None = None):
    return make_response(
        render_template(
            "network/mandates.html",
            form=form,
            error=error,
            mandates=service.mandates_of(current_user.id),
            today=service.paris_today(),
            delete_form=EmptyForm(formdata=None),
            roles_by_level=ROLES_BY_LEVEL,
            member=network_member(current_user),
        ),
        status,
    )


@bp.get("/mandats", endpoint="mandates")
def mandates():
    """The signed-in person's mandates, and the form to declare one (before joining, too)."""
    if (response := sign_in_first()) is not None:
        return response
    return _mandates_page(MandateForm(formdata=None))


@bp.post("/mandats", endpoint="add_mandate")
def add_mandate():
    if (response := sign_in_first()) is not None:
        return response
    form = MandateForm()
    error = refusal(
        form,
        lambda: service.add_mandate(current_user, form.data_for_service()),
        _("Le mandat n'est pas enregistré : corrigez le formulaire."),
    )
    if error is not None:
        return _mandates_page(form, 422, error)
    flash(_("Le mandat est enregistré."), "success")
    return redirect(url_for(".mandates"), 303)


@bp.route("/mandats/<int:mandate_id>/modifier", methods=["GET", "POST"], endpoint="edit_mandate")
def edit_mandate(mandate_id: int):
    if (response := sign_in_first()) is not None:
        return response
    mandate = service.own_mandate(current_user, mandate_id)
    if request.method == "GET":
        form = MandateForm(
            formdata=None,
            level=mandate.level.value,
            council=mandate.council,
            departement=mandate.departement or "",
            role=mandate.role.value,
            side=mandate.side.value,
            starts_on=mandate.starts_on,
            ends_on=mandate.ends_on,
        )
        return _edit_mandate_page(mandate, form)
    form = MandateForm()
    error = refusal(
        form,
        lambda: service.update_mandate(current_user, mandate_id, form.data_for_service()),
        _("Le mandat n'est pas modifié : corrigez le formulaire."),
    )
    if error is not None:
        return _edit_mandate_page(mandate, form, 422, error)
    flash(_("Le mandat est modifié."), "success")
    return redirect(url_for(".mandates"), 303)


def _edit_mandate_page(mandate, form: MandateForm, status: int = 200, error: str | None = None):
    return make_response(
        render_template(
            "network/edit_mandate.html",
            mandate=mandate,
            form=form,
            error=error,
            roles_by_level=ROLES_BY_LEVEL,
        ),
        status,
    )


@bp.post("/mandats/<int:mandate_id>/suppression", endpoint="delete_mandate")
def delete_mandate(mandate_id: int):
    if (response := sign_in_first()) is not None:
        return response
    form = EmptyForm()
    if not form.validate_on_submit():
        raise form_invalid(form)
    service.delete_mandate(current_user, mandate_id)
    flash(_("Le mandat est supprimé."), "success")
    return redirect(url_for(".mandates"), 303)


# The directory and profiles ------------------------------------------------------------------


def _directory_filters() -> tuple[service.DirectoryFilters, dict]:
    """Filters from the query string; anything malformed is ignored, never an error. Also
    what the form shows back (as typed)."""
    args = request.args
    level = args.get("niveau", "")
    level = MandateLevel(level) if level in MandateLevel.__members__ else None
    raw_departement = args.get("departement", "")[:10].strip()
    try:
        departement = service.clean_departement(raw_departement)
    except DomainError:
        departement = None
    theme = args.get("theme", "")
    theme_id = int(theme) if theme.isdecimal() and 0 < int(theme) < 2**31 else None
    shown = {
        "niveau": level.value if level else "",
        "departement": raw_departement,
        "departement_ignored": bool(raw_departement) and departement is None,
        "theme": theme_id,
    }
    return service.DirectoryFilters(level, departement, theme_id), shown


@bp.get("/membres", endpoint="directory")
def directory():
    if (response := sign_in_first()) is not None:
        return response
    require_network_space(current_user)
    filters, shown = _directory_filters()
    page = _page_number()
    entries, total = service.directory_page(filters, page, DIRECTORY_PER_PAGE)
    pages = max(1, math.ceil(total / DIRECTORY_PER_PAGE))
    context = dict(
        entries=entries,
        total=total,
        page=page,
        pages=pages,
        filters=filters,
        shown=shown,
        # The pagination's links keep the filters (empty ones left out).
        page_args={
            "niveau": shown["niveau"] or None,
            "departement": filters.departement,
            "theme": filters.theme_id,
        },
    )
    if is_htmx() and request.headers.get("HX-Target") == "member-results":
        return vary_on_htmx(
            make_response(render_template("network/_directory_results.html", **context))
        )
    context["themes"] = all_themes()
    return vary_on_htmx(make_response(render_template("network/directory.html", **context)))


def _profile_page(person_id: int, status: int = 200):
    is_team = is_network_team(current_user)
    profile = service.profile_of(person_id, for_team=is_team)
    return make_response(
        render_template(
            "network/profile.html",
            profile=profile,
            is_team=is_team,
            today=service.paris_today(),
            decision_labels=DECISION_LABELS,
        ),
        status,
    )


@bp.get("/membres/<int:person_id>", endpoint="profile")
def profile(person_id: int):
    """A member's profile: mandates and what they shared; the team also sees the decisions."""
    if (response := sign_in_first()) is not None:
        return response
    require_network_space(current_user)
    return _profile_page(person_id)


@bp.route("/profil", methods=["GET", "POST"], endpoint="edit_profile")
def edit_profile():
    """A member's own presentation, département and themes."""
    if (response := sign_in_first()) is not None:
        return response
    row = service.own_membership(current_user)
    if row is None or row.status != NetworkStatus.member:
        abort(403, _("Seul·es les membres du réseau ont un profil à modifier."))
    if request.method == "GET":
        form = ProfileForm(
            formdata=None,
            presentation=row.presentation,
            departement=row.departement or "",
            themes=theme_field_value(row.themes),
        )
        return render_template("network/edit_profile.html", form=form, error=None)
    form = ProfileForm()
    error = refusal(
        form,
        lambda: service.update_profile(
            current_user, form.presentation.data or "", form.departement.data, form.themes.data
        ),
        _("Le profil n'est pas enregistré : corrigez le formulaire."),
    )
    if error is not None:
        return make_response(
            render_template("network/edit_profile.html", form=form, error=error), 422
        )
    flash(_("Votre profil est enregistré."), "success")
    return redirect(url_for(".profile", person_id=current_user.id), 303)


# The animation team's decisions ----------------------------------------------------------------


def _applications_page(status: int = 200):
    page = _page_number()
    applications, total = service.pending_applications(page, APPLICATIONS_PER_PAGE)
    return make_response(
        render_template(
            "network/applications.html",
            applications=applications,
            total=total,
            page=page,
            pages=max(1, math.ceil(total / APPLICATIONS_PER_PAGE)),
            decisions=service.recent_decisions(),
            today=service.paris_today(),
        ),
        status,
    )


@bp.get("/adhesions", endpoint="applications")
def applications():
    """The queue of applications, the oldest first, and the latest decisions."""
    if (response := sign_in_first()) is not None:
        return response
    require_network_team(current_user)
    return _applications_page()


def _decision(person_id: int, form, decide, done: str):
    """Run one decision of the team and answer: back to the page the form was on."""
    if (response := sign_in_first()) is not None:
        return response
    require_network_team(current_user)
    back = form.back.data
    try:
        if not form.validate_on_submit():
            # The fields' own messages: the reason is the only one typed here.
            raise form_invalid(form)
        decide(form)
    except DomainError as error:
        if error.status not in (409, 422):
            raise
        # Said at the top of the page the form was on, which is shown again as it is now.
        flash(error.message, "error")
        if back == "profil":
            return _profile_page(person_id, error.status)
        return _applications_page(error.status)
    flash(done, "success")
    if back == "profil":
        return redirect(url_for(".profile", person_id=person_id), 303)
    return redirect(url_for(".applications"), 303)


@bp.post("/adhesions/<int:person_id>/accepter", endpoint="accept")
def accept(person_id: int):
    """Accept an application, or readmit a declined or excluded person."""
    form = AcceptForm()
    return _decision(
        person_id,
        form,
        lambda f: service.accept_member(current_user, person_id, f.seen.data),
        _("La personne est membre du réseau."),
    )


@bp.post("/adhesions/<int:person_id>/decliner", endpoint="decline")
def decline(person_id: int):
    form = ReasonForm()
    return _decision(
        person_id,
        form,
        lambda f: service.decline_application(current_user, person_id, f.seen.data, f.reason.data),
        _("La demande est déclinée ; la personne voit la raison et peut demander de nouveau."),
    )


@bp.post("/adhesions/<int:person_id>/exclure", endpoint="exclude")
def exclude(person_id: int):
    form = ReasonForm()
    return _decision(
        person_id,
        form,
        lambda f: service.exclude_member(current_user, person_id, f.seen.data, f.reason.data),
        _("La personne est exclue du réseau."),
    )


# The public animation team -------------------------------------------------------------------


def _team_page(form: TeamEntryForm, status: int = 200, error: str | None = None):
    return make_response(
        render_template(
            "network/team.html",
            entries=service.team_entries(),
            form=form,
            error=error,
            small_form=EmptyForm(formdata=None),
        ),
        status,
    )


def _require_team():
    if (response := sign_in_first()) is not None:
        return response
    require_network_team(current_user)
    return None


@bp.get("/equipe", endpoint="team")
def team():
    """The animation team shown on the public page, maintained by the team."""
    if (response := _require_team()) is not None:
        return response
    return _team_page(TeamEntryForm(formdata=None))


@bp.post("/equipe", endpoint="add_team_entry")
def add_team_entry():
    if (response := _require_team()) is not None:
        return response
    form = TeamEntryForm()
    error = refusal(
        form,
        lambda: service.add_team_entry(
            current_user, form.display_name.data, form.role.data, form.description.data or ""
        ),
        _("La personne n'est pas ajoutée : corrigez le formulaire."),
    )
    if error is not None:
        return _team_page(form, 422, error)
    flash(_("La personne est ajoutée à l'équipe d'animation."), "success")
    return redirect(url_for(".team"), 303)


def _team_entry(entry_id: int) -> TeamEntry:
    entry = db.session.get(TeamEntry, entry_id)
    if entry is None:
        raise NotFound(_("Cette personne ne figure plus dans l'équipe d'animation."))
    return entry


@bp.route("/equipe/<int:entry_id>/modifier", methods=["GET", "POST"], endpoint="edit_team_entry")
def edit_team_entry(entry_id: int):
    if (response := _require_team()) is not None:
        return response
    entry = _team_entry(entry_id)
    if request.method == "GET":
        form = TeamEntryForm(
            formdata=None,
            display_name=entry.display_name,
            role=entry.role.value,
            description=entry.description,
        )
        return render_template("network/edit_team_entry.html", entry=entry, form=form, error=None)
    form = TeamEntryForm()
    error = refusal(
        form,
        lambda: service.update_team_entry(
            current_user,
            entry_id,
            form.display_name.data,
            form.role.data,
            form.description.data or "",
        ),
        _("La fiche n'est pas modifiée : corrigez le formulaire."),
    )
    if error is not None:
        return make_response(
            render_template("network/edit_team_entry.html", entry=entry, form=form, error=error),
            422,
        )
    flash(_("La fiche est modifiée."), "success")
    return redirect(url_for(".team"), 303)


@bp.post("/equipe/<int:entry_id>/suppression", endpoint="remove_team_entry")
def remove_team_entry(entry_id: int):
    if (response := _require_team()) is not None:
        return response
    form = EmptyForm()
    if not form.validate_on_submit():
        raise form_invalid(form)
    service.remove_team_entry(current_user, entry_id)
    flash(_("La personne est retirée de l'équipe d'animation."), "success")
    return redirect(url_for(".team"), 303)


@bp.post("/equipe/<int:entry_id>/deplacer", endpoint="move_team_entry")
def move_team_entry(entry_id: int):
    if (response := _require_team()) is not None:
        return response
    form = MoveForm()
    if not form.validate_on_submit():
        raise form_invalid(form)
    service.move_team_entry(current_user, entry_id, form.direction.data)
    flash(_("L'ordre de l'équipe est modifié."), "success")
    return redirect(url_for(".team"), 303)
