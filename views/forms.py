"""WTForms forms shared by several views; each gives its POST a CSRF token."""

import functools
import re
from collections.abc import Callable

import wtforms
from babel import support
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.i18n import messages_path
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from models import MAX_ID
from services.errors import DomainError, Invalid


@functools.cache
def _wtforms_french():
    """WTForms' own messages in French, loaded once per process (Flask-WTF reloads them
    from disk for every request)."""
    return support.Translations.load(messages_path(), ["fr"], domain="wtforms")


class Form(FlaskForm):
    """Every form of the app: CSRF from Flask-WTF, WTForms' messages in French."""

    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            return _wtforms_french()


class FormInvalid(Invalid):
    """A form that did not validate (422); its fields carry the details."""


def form_invalid(form, message: str | None = None) -> FormInvalid:
    """The error for an invalid form: the given message, else the fields' own messages."""
    messages = " ".join(str(m) for errors in form.errors.values() for m in errors)
    return FormInvalid(message or messages or str(_l("Formulaire invalide.")))


def refusal(form, save: Callable[[], object], invalid: str | None = None) -> str | None:
    """Validate the submitted form, then `save` it: None once saved, else the French message
    of what was refused (the form's errors, headed by `invalid`, or the service's 422), for
    the page to show again with 422. Other refusals (403, 404, 409) go to the error pages."""
    try:
        if not form.validate_on_submit():
            raise form_invalid(form, invalid)
        save()
    except DomainError as error:
        if error.status != 422:
            raise
        return error.message
    return None


# A group chosen in a form: a number the database may hold (a larger one names no group).
def _group_choice():
    return [
        InputRequired(_l("Choisissez un groupe.")),
        NumberRange(min=1, max=MAX_ID, message=_l("Choisissez un groupe.")),
    ]


class CommitForm(Form):
    group_id = IntegerField(_l("Groupe"), validators=_group_choice())
    note = TextAreaField(
        _l("Comment le groupe va l'adapter localement (facultatif)"),
        validators=[Optional(), Length(max=2000, message=_l("2 000 caractères au plus."))],
    )


class WithdrawForm(Form):
    group_id = IntegerField(validators=_group_choice())


class ThresholdForm(Form):
    threshold = IntegerField(
        _l("Seuil propre à cette action (vide : seuil du budget)"),
        validators=[Optional(), NumberRange(min=1, max=100000, message=_l("Au moins 1 groupe."))],
    )
    reason = StringField(
        _l("Raison du changement"),
        validators=[InputRequired(_l("Indiquez une raison.")), Length(max=500)],
    )


class EmptyForm(Form):
    """Gives a POST-only button its CSRF token."""

    next = HiddenField()


_EUROS_RE = re.compile(r"^(\d{1,7})(?:[.,](\d{1,2}))?$")


def parse_euros(raw: str | None) -> int:
    """« 1 234,50 », « 1234.5 » or « 12 € » → cents; ValueError with a French message."""
    text = (raw or "").replace("€", "").replace("\u202f", "").replace("\u00a0", "")
    text = text.replace(" ", "").strip()
    match = _EUROS_RE.match(text)
    if not match:
        raise ValueError(_l("Écrivez un montant en euros, par exemple 120 ou 89,50."))
    whole, cents = match.groups()
    return int(whole) * 100 + int((cents or "0").ljust(2, "0"))


def euros_input(cents: int | None) -> str:
    """Cents as typed in a form: 12050 → « 120,50 », 12000 → « 120 »."""
    if cents is None:
        return ""
    whole, rest = divmod(cents, 100)
    return f"{whole},{rest:02d}" if rest else str(whole)


class BudgetLineForm(wtforms.Form):
    """One budget line inside the proposal form (the outer form carries the CSRF token)."""

    item = StringField(_l("Poste de dépense"), validators=[Optional(), Length(max=200)])
    amount = StringField(_l("Montant (€)"), validators=[Optional(), Length(max=20)])


class ProposalForm(Form):
    title = StringField(
        _l("Titre"), validators=[InputRequired(_l("Donnez un titre.")), Length(min=3, max=200)]
    )
    summary = TextAreaField(
        _l("Résumé"),
        validators=[InputRequired(_l("Écrivez un résumé.")), Length(max=500)],
    )
    body = TextAreaField(_l("Description"), validators=[Optional(), Length(max=20000)])
    how_to = TextAreaField(
        _l("Comment faire : étapes et matériel"), validators=[Optional(), Length(max=20000)]
    )
    category = SelectField(_l("Catégorie"), validators=[InputRequired()])
    budget = StringField(
        _l("Budget demandé par groupe (€)"),
        validators=[InputRequired(_l("Indiquez le budget par groupe, 0 s'il n'y en a pas."))],
    )
    lines = FieldList(FormField(BudgetLineForm), max_entries=40)
    version = HiddenField()


class ReasonForm(Form):
    reason = TextAreaField(_l("Raison"), validators=[Optional(), Length(max=2000)])


class RestoreForm(Form):
    version = IntegerField(validators=[InputRequired()])


# Budget rounds -------------------------------------------------------------------------------

POLICY_CHOICES = [
    wtforms.SelectChoice("manual", _l("Seuil fixe")),
    wtforms.SelectChoice("scaled", _l("Seuil proportionnel au budget restant")),
]


class RoundForm(Form):
    """A budget round's settings (finance team and admins). The dates are days in Paris:
    commitments open at 00:00 on the first and close at the end of the last."""

    name = StringField(
        _l("Nom du budget participatif"),
        validators=[
            InputRequired(_l("Donnez un nom au budget participatif.")),
            Length(max=160, message=_l("160 caractères au plus.")),
        ],
    )
    total = StringField(
        _l("Montant total (€)"),
        validators=[InputRequired(_l("Indiquez le montant total du budget, en euros."))],
    )
    base_threshold = IntegerField(
        _l("Seuil de base (nombre de groupes engagés)"),
        validators=[InputRequired(), NumberRange(min=1, max=100000)],
    )
    policy = RadioField(_l("Règle de seuil"), choices=POLICY_CHOICES, validators=[InputRequired()])
    opens_on = DateField(_l("Ouverture des engagements"), validators=[InputRequired()])
    closes_on = DateField(_l("Dernier jour des engagements (inclus)"), validators=[InputRequired()])
    make_current = BooleanField(_l("En faire le budget courant"))
    reason = TextAreaField(
        _l("Raison du changement"),
        validators=[Optional(), Length(max=500, message=_l("500 caractères au plus."))],
    )


class SimulationForm(Form):
    """The simulator's inputs, read from the query string (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    base = IntegerField(
        _l("Seuil de base à simuler"),
        validators=[InputRequired(), NumberRange(min=1, max=100000)],
    )
    policy = RadioField(
        _l("Règle de seuil à simuler"), choices=POLICY_CHOICES, validators=[InputRequired()]
    )
