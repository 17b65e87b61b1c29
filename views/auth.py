"""Sign in (rate limited, silent about which addresses exist), sign out, change password."""

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length

from services.errors import DomainError
from services.people import PASSWORD_MIN_LENGTH, authenticate, change_password

from .forms import Form

bp = Blueprint("auth", __name__)


class SignInForm(Form):
    email = StringField(_l("Adresse e-mail"), validators=[InputRequired(), Length(max=254)])
    password = PasswordField(_l("Mot de passe"), validators=[InputRequired(), Length(max=200)])
    remember = BooleanField(_l("Rester connecté·e sur cet appareil"))


class PasswordForm(Form):
    current = PasswordField(_l("Mot de passe actuel"), validators=[InputRequired()])
    new = PasswordField(
        _l("Nouveau mot de passe"),
        validators=[
            InputRequired(),
            Length(min=PASSWORD_MIN_LENGTH, max=200, message=_l("Entre 10 et 200 caractères.")),
        ],
    )
    confirm = PasswordField(
        _l("Confirmez le nouveau mot de passe"),
        validators=[
            InputRequired(),
            EqualTo("new", message=_l("Les deux mots de passe diffèrent.")),
        ],
    )


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect."""
    if target:
        parts = urlsplit(target)
        if (
            not parts.scheme
            and not parts.netloc
            and target.startswith("/")
            and not target.startswith("//")
        ):
            return target
    return url_for("proposals.index")


@bp.route("/connexion", methods=["GET", "POST"])
def sign_in():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = SignInForm()
    status = 200
    error = None
    if request.method == "POST":
        if form.validate_on_submit():
            config = current_app.config
            try:
                person = authenticate(
                    form.email.data,
                    form.password.data,
                    request.remote_addr or "",
                    config["SIGN_IN_MAX_FAILURES"],
                    config["SIGN_IN_MAX_FAILURES_PER_IP"],
                    config["SIGN_IN_WINDOW_SECONDS"],
                )
            except DomainError as exc:
                error, status = exc.message, exc.status
            else:
                login_user(person, remember=form.remember.data)
                flash(_("Bienvenue, %(name)s.", name=person.display_name), "success")
                return redirect(_safe_next(request.args.get("next")), 303)
        else:
            error, status = _("Indiquez votre adresse e-mail et votre mot de passe."), 422
    return render_template("auth/sign_in.html", form=form, error=error), status


@bp.post("/deconnexion")
def sign_out():
    logout_user()
    flash(_("Vous êtes déconnecté·e."), "info")
    return redirect(url_for("proposals.index"), 303)


@bp.route("/compte/mot-de-passe", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                change_password(current_user, form.current.data, form.new.data)
            except DomainError as exc:
                form.current.errors.append(exc.message)
                status = exc.status
            else:
                # The session carries the new version: this one stays signed in, others end.
                from models import Person, db

                login_user(db.session.get(Person, current_user.id))
                flash(
                    _("Votre mot de passe est changé. Vos autres sessions sont fermées."), "success"
                )
                return redirect(url_for("auth.password"), 303)
        else:
            status = 422
    return render_template("auth/password.html", form=form), status
