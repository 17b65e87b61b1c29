"""Administration: people and staff roles, groups, members, certification (admins only)."""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import AnyOf, InputRequired, Length

from models import STAFF_ROLES, ActionGroup, MemberRole, Person, db
from services import admin_queries
from services import groups as group_service
from services import people as people_service
from services.errors import DomainError, Invalid

from .forms import EmptyForm, Form, form_invalid

bp = Blueprint("admin", __name__, url_prefix="/admin")

DEFAULT_PER_PAGE = 50

STAFF_ROLE_LABELS = {
    "animation": _l("Équipe d'animation"),
    "finance": _l("Équipe de suivi financier"),
    "network": _l("Animation du réseau des élu·es"),
    "admin": _l("Administration"),
}

MEMBER_ROLE_LABELS = {
    MemberRole.member: _l("membre"),
    MemberRole.manager: _l("gestionnaire"),
    MemberRole.referent: _l("référent·e"),
}

MEMBER_ROLE_CHOICES = [(role.value, label) for role, label in MEMBER_ROLE_LABELS.items()]


# Forms -----------------------------------------------------------------------------------


class StaffRolesForm(Form):
    animation = BooleanField(STAFF_ROLE_LABELS["animation"])
    finance = BooleanField(STAFF_ROLE_LABELS["finance"])
    network = BooleanField(STAFF_ROLE_LABELS["network"])
    admin = BooleanField(STAFF_ROLE_LABELS["admin"])

    def roles(self) -> tuple[str, ...]:
        return tuple(role for role in STAFF_ROLES if self[role].data)


class PersonForm(StaffRolesForm):
    email = StringField(
        _l("Adresse e-mail"),
        validators=[InputRequired(_l("Indiquez une adresse e-mail.")), Length(max=254)],
    )
    display_name = StringField(
        _l("Nom affiché"),
        validators=[
            InputRequired(_l("Indiquez un nom.")),
            Length(max=120, message=_l("120 caractères au plus.")),
        ],
    )
    password = PasswordField(
        _l("Mot de passe initial"),
        validators=[
            InputRequired(_l("Indiquez un mot de passe.")),
            Length(
                min=people_service.PASSWORD_MIN_LENGTH,
                max=200,
                message=_l(
                    "Entre %(min)d et 200 caractères.", min=people_service.PASSWORD_MIN_LENGTH
                ),
            ),
        ],
    )


class GroupForm(Form):
    name = StringField(
        _l("Nom du groupe"),
        validators=[
            InputRequired(_l("Indiquez le nom du groupe.")),
            Length(max=160, message=_l("160 caractères au plus.")),
        ],
    )
    commune = StringField(
        _l("Commune"),
        validators=[
            InputRequired(_l("Indiquez la commune.")),
            Length(max=120, message=_l("120 caractères au plus.")),
        ],
    )
    departement = StringField(
        _l("Département"),
        validators=[InputRequired(_l("Indiquez le code du département.")), Length(max=3)],
    )


class MemberForm(Form):
    email = StringField(
        _l("Adresse e-mail du compte"),
        validators=[InputRequired(_l("Indiquez une adresse e-mail.")), Length(max=254)],
    )
    role = SelectField(
        _l("Rôle dans le groupe"),
        choices=[SelectChoice(value, label) for value, label in MEMBER_ROLE_CHOICES],
        default=MemberRole.member.value,
        validate_choice=True,
    )


class CertificationForm(Form):
    # What the admin saw and chose; a stale page is answered "already so" (409), not toggled.
    decision = HiddenField(validators=[AnyOf(["certify", "decertify"])])
    reason = StringField(
        _l("Raison de la décision"),
        validators=[
            InputRequired(_l("Indiquez la raison de cette décision.")),
            Length(max=1000, message=_l("1 000 caractères au plus.")),
        ],
    )


# Access and helpers ----------------------------------------------------------------------


@bp.before_request
def _require_admin():
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if not current_user.is_admin:
        abort(403, _("L'administration est réservée aux administrateur·ices du mouvement."))
    return None


def _validated(form: Form) -> Form:
    if not form.validate_on_submit():
        raise form_invalid(
            form, _("Le formulaire contient des erreurs : corrigez les champs signalés.")
        )
    return form


def _page() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdecimal() and 0 < int(raw) < 100000 else 1


def _per_page() -> int:
    return current_app.config.get("ADMIN_PER_PAGE", DEFAULT_PER_PAGE)


def _search_text() -> str:
    return request.args.get("q", "")[:200].strip()


def _person_or_404(person_id: int) -> Person:
    person = db.session.get(Person, person_id)
    if person is None:
        abort(404, _("Cette personne n'existe pas."))
    return person


def _group_or_404(group_id: int) -> ActionGroup:
    group = db.session.get(ActionGroup, group_id)
    if group is None:
        abort(404, _("Ce groupe n'existe pas."))
    return group


def _redirect(endpoint: str, **values):
    return redirect(url_for(endpoint, **values), 303)


# People ----------------------------------------------------------------------------------


@bp.get("/")
def index():
    return redirect(url_for(".people"))


def _render_people(form: PersonForm | None = None, error: str | None = None, status: int = 200):
    q = _search_text()
    pagination = db.paginate(
        admin_queries.people_query(q), page=_page(), per_page=_per_page(), error_out=False
    )
    return render_template(
        "admin/people.html",
        pagination=pagination,
        q=q,
        form=form or PersonForm(formdata=None),
        error=error,
        role_labels=STAFF_ROLE_LABELS,
    ), status


@bp.get("/personnes")
def people():
    return _render_people()


@bp.post("/personnes")
def create_person():
    form = PersonForm()
    try:
        _validated(form)
        person_id = people_service.create_person(
            current_user,
            form.email.data,
            form.display_name.data,
            form.password.data,
            form.roles(),
        )
    except DomainError as error:
        return _render_people(form, error.message, error.status)
    flash(_("Le compte de %(name)s est créé.", name=form.display_name.data.strip()), "success")
    return _redirect(".person", person_id=person_id)


def _render_person(
    person: Person, form: StaffRolesForm | None = None, error: str | None = None, status=200
):
    if form is None:
        form = StaffRolesForm(formdata=None, **{r: r in person.staff_roles for r in STAFF_ROLES})
    return render_template(
        "admin/person.html",
        person=person,
        form=form,
        error=error,
        memberships=admin_queries.person_memberships(person.id),
        role_labels=STAFF_ROLE_LABELS,
        member_role_labels=MEMBER_ROLE_LABELS,
    ), status


@bp.get("/personnes/<int:person_id>")
def person(person_id: int):
    return _render_person(_person_or_404(person_id))


@bp.post("/personnes/<int:person_id>/roles")
def person_roles(person_id: int):
    person = _person_or_404(person_id)
    form = StaffRolesForm()
    try:
        _validated(form)
        people_service.set_staff_roles(current_user, person.id, form.roles())
    except DomainError as error:
        db.session.refresh(person)
        return _render_person(person, form, error.message, error.status)
    flash(_("Les rôles de %(name)s sont enregistrés.", name=person.display_name), "success")
    return _redirect(".person", person_id=person.id)


# Groups ----------------------------------------------------------------------------------


def _group_filters() -> tuple[str, str, str]:
    """Search text, certification filter and département; anything malformed is ignored."""
    certified = request.args.get("certifie", "")
    if certified not in ("oui", "non"):
        certified = ""
    departement = request.args.get("departement", "")[:3]
    if departement:
        try:
            departement = group_service.clean_departement(departement)
        except Invalid:
            departement = ""
    return _search_text(), certified, departement


def _render_groups(form: GroupForm | None = None, error: str | None = None, status: int = 200):
    q, certified, departement = _group_filters()
    query = admin_queries.groups_query(q, {"oui": True, "non": False}.get(certified), departement)
    pagination = db.paginate(query, page=_page(), per_page=_per_page(), error_out=False)
    return render_template(
        "admin/groups.html",
        pagination=pagination,
        member_counts=admin_queries.member_counts([g.id for g in pagination.items]),
        filters={"q": q, "certifie": certified, "departement": departement},
        form=form or GroupForm(formdata=None),
        error=error,
    ), status


@bp.get("/groupes")
def groups():
    return _render_groups()


@bp.post("/groupes")
def create_group():
    form = GroupForm()
    try:
        _validated(form)
        group_id = group_service.create_group(
            current_user, form.name.data, form.commune.data, form.departement.data
        )
    except DomainError as error:
        return _render_groups(form, error.message, error.status)
    flash(_("Le groupe « %(name)s » est créé.", name=form.name.data.strip()), "success")
    return _redirect(".group", group_id=group_id)


def _render_group(group: ActionGroup, status: int = 200, errors: dict | None = None, **forms):
    """The group's page; `errors` maps a form's name to the message shown beside it."""
    context = {
        "group_form": GroupForm(formdata=None, obj=group),
        "member_form": MemberForm(formdata=None),
        "certification_form": CertificationForm(formdata=None),
    }
    context.update(forms)
    return render_template(
        "admin/group.html",
        group=group,
        members=admin_queries.group_members(group.id),
        log=admin_queries.certification_log(group.id),
        errors=errors or {},
        member_role_labels=MEMBER_ROLE_LABELS,
        member_role_choices=MEMBER_ROLE_CHOICES,
        **context,
    ), status


def _group_error(group: ActionGroup, error: DomainError, form_name: str, **forms):
    # The failed service rolled back; show the group as it is now.
    db.session.refresh(group)
    return _render_group(group, error.status, {form_name: error.message}, **forms)


@bp.get("/groupes/<int:group_id>")
def group(group_id: int):
    return _render_group(_group_or_404(group_id))


@bp.post("/groupes/<int:group_id>/modifier")
def update_group(group_id: int):
    group = _group_or_404(group_id)
    form = GroupForm()
    try:
        _validated(form)
        group_service.update_group(
            current_user, group.id, form.name.data, form.commune.data, form.departement.data
        )
    except DomainError as error:
        return _group_error(group, error, "group", group_form=form)
    flash(_("Le groupe est enregistré."), "success")
    return _redirect(".group", group_id=group.id)


@bp.post("/groupes/<int:group_id>/membres")
def set_member(group_id: int):
    """Add a member by e-mail, or change the role of someone already in the group."""
    group = _group_or_404(group_id)
    form = MemberForm()
    try:
        _validated(form)
        group_service.set_membership(current_user, group.id, form.email.data, form.role.data)
    except DomainError as error:
        return _group_error(group, error, "member", member_form=form)
    flash(
        _(
            "%(email)s est %(role)s du groupe.",
            email=form.email.data.strip(),
            role=MEMBER_ROLE_LABELS[MemberRole(form.role.data)],
        ),
        "success",
    )
    return _redirect(".group", group_id=group.id)


@bp.post("/groupes/<int:group_id>/membres/<int:person_id>/retrait")
def remove_member(group_id: int, person_id: int):
    group = _group_or_404(group_id)
    person = _person_or_404(person_id)
    try:
        _validated(EmptyForm())
        group_service.remove_membership(current_user, group.id, person.id)
    except DomainError as error:
        return _group_error(group, error, "members")
    flash(_("%(name)s ne fait plus partie du groupe.", name=person.display_name), "success")
    return _redirect(".group", group_id=group.id)


@bp.post("/groupes/<int:group_id>/certification")
def certification(group_id: int):
    group = _group_or_404(group_id)
    form = CertificationForm()
    try:
        _validated(form)
        certify = form.decision.data == "certify"
        group_service.set_certification(current_user, group.id, certify, form.reason.data)
    except DomainError as error:
        return _group_error(group, error, "certification", certification_form=form)
    flash(
        _("Le groupe est certifié.") if certify else _("La certification du groupe est retirée."),
        "success",
    )
    return _redirect(".group", group_id=group.id)
