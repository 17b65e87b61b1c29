"""SEPA credit transfer files (pain.001.001.03) that the finance team hands to the bank.

`credit_transfer_xml` turns the movement's account (the debtor) and a list of `Payment`s into
the XML file, checked against the ISO 20022 schema by the `sepaxml` package. Everything is
checked first, with a French message naming the transfer at fault: every IBAN (services/iban.py)
and BIC, amounts in whole cents above zero, references the bank accepts.

Banks accept only a few characters in SEPA files (letters without accents, digits, spaces and
/ - ? : ( ) . , ' +). Names and descriptions are transliterated (« Société Générale » becomes
« Societe Generale »), "&" becomes "+" and any other character a space, so that the bank
neither rejects the file nor changes a name by itself.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _
from sepaxml import SepaTransfer
from sepaxml.validation import ValidationError
from text_unidecode import unidecode

from .errors import Invalid
from .iban import validate_bic, validate_iban

SCHEMA = "pain.001.001.03"
CURRENCY = "EUR"
MAX_NAME = 70
MAX_DESCRIPTION = 140
MAX_AMOUNT_CENTS = 999_999_999_99  # the largest SEPA credit transfer, 999 999 999,99 €

_OUTSIDE_SEPA_CHARACTERS = re.compile(r"[^A-Za-z0-9/\-?:().,'+ ]+")
# Letters, digits, dots and dashes: no "/" (banks refuse a reference starting with it or
# holding "//") and no space, so that the reference reads the same everywhere.
_END_TO_END_ID = re.compile(r"[A-Za-z0-9.\-]{1,35}")


@dataclass(frozen=True, kw_only=True)
class Payment:
    """One transfer: who is paid, on which account, how much, and the references."""

    name: str  # the account holder, as the bank knows them
    iban: str
    bic: str | None = None  # optional within SEPA: the bank is found from the IBAN
    amount_cents: int
    description: str  # what the payee reads on their statement, at most 140 characters
    end_to_end_id: str  # our reference, returned by the bank with the transfer (≤ 35)


def sepa_text(text: str, max_length: int) -> str:
    """The text in the characters banks accept in SEPA files, cut at `max_length`."""
    # "n°" is "no" (transliterated alone, the degree sign would become "deg").
    text = unidecode((text or "").replace("°", "o")).replace("&", "+")
    text = " ".join(_OUTSIDE_SEPA_CHARACTERS.sub(" ", text).split())
    return text[:max_length].rstrip()


def debtor_from_config(config: Mapping) -> dict:
    """The movement's account as `credit_transfer_xml` takes it, from the app's settings."""
    return {
        "name": config["SEPA_DEBTOR_NAME"],
        "iban": config["SEPA_DEBTOR_IBAN"],
        "bic": config.get("SEPA_DEBTOR_BIC") or None,
    }


def _debtor_config(debtor: Mapping, batch: bool) -> dict:
    def wrong(error: Invalid) -> Invalid:
        return Invalid(_("Compte à débiter : %(why)s", why=error.message))

    name = sepa_text(debtor.get("name", ""), MAX_NAME)
    if not name:
        raise Invalid(_("Compte à débiter : le nom du titulaire manque."))
    try:
        iban = validate_iban(debtor.get("iban"))
        bic = validate_bic(debtor.get("bic"))
    except Invalid as error:
        raise wrong(error) from error
    config = {"name": name, "IBAN": iban, "batch": batch, "currency": CURRENCY}
    if bic:
        config["BIC"] = bic
    return config


def _payment_dict(payment: Payment, execution_date: date) -> dict:
    reference = payment.end_to_end_id if isinstance(payment.end_to_end_id, str) else ""
    valid_reference = _END_TO_END_ID.fullmatch(reference) is not None

    def wrong(why: str) -> Invalid:
        if not valid_reference:
            return Invalid(_("Virement à %(name)s : %(why)s", name=payment.name, why=why))
        return Invalid(
            _(
                "Virement « %(reference)s » à %(name)s : %(why)s",
                reference=reference,
                name=payment.name,
                why=why,
            )
        )

    if not valid_reference:
        raise wrong(
            _(
                "la référence doit compter de 1 à 35 lettres sans accent, chiffres, points "
                "ou tirets."
            )
        )
    name = sepa_text(payment.name, MAX_NAME)
    if not name:
        raise wrong(_("le nom du titulaire du compte manque."))
    try:
        iban = validate_iban(payment.iban)
        bic = validate_bic(payment.bic)
    except Invalid as error:
        raise wrong(error.message) from error
    amount = payment.amount_cents
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise wrong(_("le montant doit être un nombre entier de centimes."))
    if not 0 < amount <= MAX_AMOUNT_CENTS:
        raise wrong(_("le montant doit être supérieur à zéro et inférieur à un milliard."))
    if len(payment.description or "") > MAX_DESCRIPTION:
        raise wrong(
            _("le libellé dépasse %(max)d caractères.", max=MAX_DESCRIPTION),
        )
    description = sepa_text(payment.description, MAX_DESCRIPTION)
    if not description:
        raise wrong(_("le libellé manque."))
    result = {
        "name": name,
        "IBAN": iban,
        "amount": amount,
        "execution_date": execution_date,
        "description": description,
        "endtoend_id": reference,
    }
    if bic:
        result["BIC"] = bic
    return result


def credit_transfer_xml(
    debtor: Mapping,
    payments: Sequence[Payment],
    execution_date: date,
    batch: bool = True,
) -> bytes:
    """The pain.001.001.03 file (UTF-8 XML) paying `payments` from the `debtor` account.

    `debtor` holds "name", "iban" and optionally "bic" (see `debtor_from_config`);
    `execution_date` is the day the bank is asked to make the transfers. With `batch`, one
    payment block holds every transfer (one line on the movement's statement); without,
    each transfer is its own block (one line each). Raises Invalid, with a French message,
    for an empty list, a repeated reference or anything a bank would refuse.
    """
    if not payments:
        raise Invalid(_("Aucun virement à inclure : le fichier SEPA serait vide."))
    if isinstance(execution_date, datetime):
        execution_date = execution_date.date()
    if not isinstance(execution_date, date):
        raise Invalid(_("La date d'exécution des virements manque."))
    seen: set[str] = set()
    for payment in payments:
        if payment.end_to_end_id in seen:
            raise Invalid(
                _(
                    "La référence « %(reference)s » apparaît deux fois : chaque virement a "
                    "la sienne.",
                    reference=payment.end_to_end_id,
                )
            )
        seen.add(payment.end_to_end_id)
    config = _debtor_config(debtor, batch)
    checked = [_payment_dict(payment, execution_date) for payment in payments]
    transfer = SepaTransfer(config, schema=SCHEMA, clean=True)
    for payment in checked:
        transfer.add_payment(payment)
    try:
        return transfer.export(validate=True)
    except ValidationError as error:
        # Not expected: everything the schema checks is checked above.
        raise Invalid(
            _(
                "Le fichier de virements n'a pas pu être produit : le format SEPA refuse une "
                "des données."
            )
        ) from error
