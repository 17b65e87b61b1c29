"""WTForms forms shared by several views; each gives its POST a CSRF token."""

import functools

from babel import support
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, StringField, TextAreaField
from wtforms.i18n import messages_path
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from services.errors import Invalid


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


class CommitForm(Form):
    group_id = IntegerField(_l("Groupe"), validators=[InputRequired(_l("Choisissez un groupe."))])
    note = TextAreaField(
        _l("Comment le groupe va l'adapter localement (facultatif)"),
        validators=[Optional(), Length(max=2000, message=_l("2 000 caractères au plus."))],
    )


class WithdrawForm(Form):
    group_id = IntegerField(validators=[InputRequired(_l("Choisissez un groupe."))])


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
