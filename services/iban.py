"""Bank account numbers of the people and suppliers paid: IBAN and BIC checked, masked, printed.

`validate_iban` accepts what a person types or pastes (spaces, dashes, lower case) and returns
the IBAN in its stored form (upper case, no spaces), or refuses it with a French message
saying why: a character that cannot be in an IBAN, a country outside the SEPA area (only SEPA
transfers are made), a length that is not that country's, or check digits that do not match
(ISO 13616: the number read as digits is 1 modulo 97, which catches every single mistyped
character and nearly every pair of swapped ones).

`mask_iban` is what is shown to everybody but the finance team: the country, the check digits
and the last four characters, so that a person recognises their account and nobody else can
use it. `format_iban` is the full IBAN grouped by four, as banks print it.
"""

import re

from flask_babel import gettext as _

from .errors import Invalid

# Length of the IBAN in each country of the SEPA schemes' geographical scope (the EPC's list;
# lengths from SWIFT's IBAN registry). Territories that use another country's IBAN are not
# listed: the French overseas departments and collectivities use FR IBANs, Åland uses FI,
# Jersey, Guernsey and the Isle of Man use GB. Albania, Moldova, Montenegro, North Macedonia
# and Serbia joined the scope in 2024–2025.
SEPA_IBAN_LENGTHS = {
    "AD": 24,  # Andorra
    "AL": 28,  # Albania
    "AT": 20,  # Austria
    "BE": 16,  # Belgium
    "BG": 22,  # Bulgaria
    "CH": 21,  # Switzerland
    "CY": 28,  # Cyprus
    "CZ": 24,  # Czechia
    "DE": 22,  # Germany
    "DK": 18,  # Denmark
    "EE": 20,  # Estonia
    "ES": 24,  # Spain
    "FI": 18,  # Finland (and Åland)
    "FR": 27,  # France (and its overseas departments and collectivities)
    "GB": 22,  # United Kingdom (and Jersey, Guernsey, the Isle of Man)
    "GI": 23,  # Gibraltar
    "GR": 27,  # Greece
    "HR": 21,  # Croatia
    "HU": 28,  # Hungary
    "IE": 22,  # Ireland
    "IS": 26,  # Iceland
    "IT": 27,  # Italy
    "LI": 21,  # Liechtenstein
    "LT": 20,  # Lithuania
    "LU": 20,  # Luxembourg
    "LV": 21,  # Latvia
    "MC": 27,  # Monaco
    "MD": 24,  # Moldova
    "ME": 22,  # Montenegro
    "MK": 19,  # North Macedonia
    "MT": 31,  # Malta
    "NL": 18,  # Netherlands
    "NO": 15,  # Norway
    "PL": 28,  # Poland
    "PT": 25,  # Portugal
    "RO": 24,  # Romania
    "RS": 22,  # Serbia
    "SE": 24,  # Sweden
    "SI": 19,  # Slovenia
    "SK": 24,  # Slovakia
    "SM": 27,  # San Marino
    "VA": 22,  # Vatican City
}

MAX_IBAN_LENGTH = 34  # ISO 13616, whatever the country
MASK = "•"
VISIBLE_END = 4  # characters left visible at the end of a masked IBAN

_SEPARATORS = re.compile(r"[\s\-]+")
_IBAN_CHARACTERS = re.compile(r"[A-Z0-9]*")
# ISO 9362, as the pain.001 schema checks it: bank (4 letters), country (2 letters), location
# (2: not 0 or 1 first, not O second, which mark test BICs) and an optional branch (3).
_BIC = re.compile(r"[A-Z]{6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3})?")


def normalize_iban(raw: str | None) -> str:
    """The IBAN as typed or pasted, without spaces or dashes and in upper case (not checked)."""
    return _SEPARATORS.sub("", raw or "").upper()


def _checksum_is_valid(iban: str) -> bool:
    # ISO 13616: the first four characters moved to the end, each letter read as two digits
    # (A = 10 … Z = 35), the number is 1 modulo 97.
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def validate_iban(raw: str | None) -> str:
    """The IBAN in its stored form (upper case, no spaces), or Invalid saying what is wrong."""
    iban = normalize_iban(raw)
    if not iban:
        raise Invalid(_("Saisissez l'IBAN du compte à créditer."))
    if not _IBAN_CHARACTERS.fullmatch(iban):
        wrong = next(c for c in iban if not ("A" <= c <= "Z" or "0" <= c <= "9"))
        raise Invalid(
            _(
                "L'IBAN ne peut contenir que des lettres et des chiffres (« %(char)s » n'en "
                "est pas un).",
                char=wrong,
            )
        )
    country = iban[:2]
    if len(iban) < 4 or not country.isalpha() or not iban[2:4].isdigit():
        raise Invalid(
            _(
                "Un IBAN commence par le code du pays (deux lettres, FR pour la France) puis "
                "deux chiffres de contrôle, par exemple FR76."
            )
        )
    expected = SEPA_IBAN_LENGTHS.get(country)
    if expected is None:
        raise Invalid(
            _(
                "L'IBAN commence par « %(country)s », qui n'est pas un pays de la zone SEPA : "
                "seuls les comptes de la zone SEPA peuvent recevoir un virement.",
                country=country,
            )
        )
    if len(iban) != expected:
        raise Invalid(
            _(
                "Un IBAN commençant par %(country)s compte %(expected)d caractères ; celui-ci "
                "en a %(actual)d. Vérifiez qu'il ne manque ou ne dépasse aucun caractère.",
                country=country,
                expected=expected,
                actual=len(iban),
            )
        )
    if not _checksum_is_valid(iban):
        raise Invalid(
            _(
                "Cet IBAN n'existe pas : sa clé de contrôle ne correspond pas. Un caractère "
                "a sans doute été mal recopié."
            )
        )
    return iban


def _grouped(characters: str) -> str:
    return " ".join(characters[i : i + 4] for i in range(0, len(characters), 4))


def format_iban(iban: str) -> str:
    """The whole IBAN grouped by four, as banks print it: « FR14 2004 1010 0505 0001 3M02 606 »,
    for the finance team."""
    return _grouped(normalize_iban(iban))


def mask_iban(iban: str) -> str:
    """The IBAN with only its country, its check digits and its last four characters shown,
    grouped by four: « FR14 •••• •••• •••• •••• •••2 606 ». The hidden characters keep their
    places, so that the shape is the familiar one; they are the same for every account."""
    iban = normalize_iban(iban)
    hidden = len(iban) - 4 - VISIBLE_END
    if hidden < 4:  # not an IBAN (too short to hide anything meaningful): hide it all
        return _grouped(MASK * len(iban))
    return _grouped(iban[:4] + MASK * hidden + iban[-VISIBLE_END:])


def validate_bic(raw: str | None) -> str | None:
    """The BIC (the bank's code, 8 or 11 characters) in upper case without spaces, or None
    when left empty: a SEPA transfer finds the bank from the IBAN. Invalid if malformed."""
    bic = _SEPARATORS.sub("", raw or "").upper()
    if not bic:
        return None
    if not _BIC.fullmatch(bic):
        raise Invalid(
            _(
                "Le BIC « %(bic)s » n'est pas valide : il compte 8 ou 11 lettres et chiffres, "
                "par exemple BNPAFRPP ou BNPAFRPPXXX. Vous pouvez aussi le laisser vide.",
                bic=bic[:20],
            )
        )
    return bic
