"""IBAN and BIC: real accounts accepted however typed, every mistyped digit caught, masks that
hide the account."""

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.errors import Invalid
from services.iban import (
    SEPA_IBAN_LENGTHS,
    format_iban,
    mask_iban,
    normalize_iban,
    validate_bic,
    validate_iban,
)

# Published example IBANs (banks' and registries' documentation), all with valid check digits.
VALID = [
    "FR1420041010050500013M02606",
    "FR7630006000011234567890189",
    "DE89370400440532013000",
    "GB29NWBK60161331926819",
    "BE68539007547034",
    "ES9121000418450200051332",
    "IT60X0542811101000000123456",
    "LU280019400644750000",
    "MC5811222000010123456789030",
    "CH9300762011623852957",
    "NL91ABNA0417164300",
    "PT50000201231234567890154",
    "AT611904300234573201",
    "IE29AIBK93115212345678",
    "NO9386011117947",
    "MT84MALT011000012345MTLCAST001S",
]


def with_check_digits(country: str, bban: str) -> str:
    """The IBAN of this account number, its check digits computed as ISO 13616 says."""
    number = int("".join(str(int(c, 36)) for c in bban + country + "00"))
    return f"{country}{98 - number % 97:02d}{bban}"


# Accepted --------------------------------------------------------------------------------------


@pytest.mark.parametrize("iban", VALID)
def test_a_real_iban_of_any_sepa_country_is_accepted(iban):
    assert validate_iban(iban) == iban
    assert len(iban) == SEPA_IBAN_LENGTHS[iban[:2]]


@pytest.mark.parametrize(
    "typed",
    [
        "FR14 2004 1010 0505 0001 3M02 606",
        "fr14 2004 1010 0505 0001 3m02 606",
        "  FR14-2004-1010-0505-0001-3M02-606 ",
        "FR14\u00a02004\u00a01010\u00a00505\u00a00001\u00a03M02\u00a0606",
        "FR14\t20041010050500013M02606\n",
    ],
)
def test_spaces_dashes_and_lower_case_are_accepted_and_removed(typed):
    assert normalize_iban(typed) == "FR1420041010050500013M02606"
    assert validate_iban(typed) == "FR1420041010050500013M02606"


def test_the_lengths_table_holds_the_sepa_countries():
    expected = {"FR": 27, "DE": 22, "BE": 16, "ES": 24, "IT": 27, "LU": 20, "MC": 27}
    expected |= {"CH": 21, "GB": 22, "NL": 18, "PT": 25, "MT": 31, "NO": 15, "SM": 27}
    assert expected.items() <= SEPA_IBAN_LENGTHS.items()
    assert len(SEPA_IBAN_LENGTHS) >= 41  # EU 27, EEA 3, CH, GB, MC, SM, VA, AD, GI, …
    assert all(15 <= length <= 34 for length in SEPA_IBAN_LENGTHS.values())


@given(
    country=st.sampled_from(sorted(SEPA_IBAN_LENGTHS)),
    data=st.data(),
)
def test_any_account_with_computed_check_digits_is_accepted(country, data):
    length = SEPA_IBAN_LENGTHS[country] - 4
    alphabet = string.digits + string.ascii_uppercase
    bban = data.draw(st.text(alphabet, min_size=length, max_size=length))
    iban = with_check_digits(country, bban)
    assert validate_iban(iban.lower()) == iban


# Refused -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("", "Saisissez l'IBAN"),
        (None, "Saisissez l'IBAN"),
        ("FR14 2004 1010 0505 0001 3M02 60é", "« É »"),
        ("FR14.2004.1010.0505.0001.3M02.606", "« . »"),
        ("1420041010050500013M02606", "code du pays"),
        ("FRXX20041010050500013M02606", "code du pays"),
        ("US64SVBKUS6S3300958879", "« US », qui n'est pas un pays de la zone SEPA"),
        ("TR330006100519786457841326", "zone SEPA"),
        ("FR1420041010050500013M0260", "compte 27 caractères ; celui-ci en a 26"),
        ("DE8937040044053201300000", "compte 22 caractères ; celui-ci en a 24"),
        ("FR1520041010050500013M02606", "clé de contrôle"),
        ("GB29NWBK60161331926818", "clé de contrôle"),
    ],
)
def test_a_wrong_iban_is_refused_saying_why(typed, why):
    with pytest.raises(Invalid) as refused:
        validate_iban(typed)
    assert refused.value.status == 422
    assert why in refused.value.message


@given(iban=st.sampled_from(VALID), data=st.data())
def test_any_single_mistyped_digit_is_detected(iban, data):
    digits = [i for i, c in enumerate(iban) if c.isdigit()]
    position = data.draw(st.sampled_from(digits))
    typo = data.draw(st.sampled_from([d for d in string.digits if d != iban[position]]))
    mistyped = iban[:position] + typo + iban[position + 1 :]
    with pytest.raises(Invalid, match="clé de contrôle"):
        validate_iban(mistyped)


@given(iban=st.sampled_from(VALID), data=st.data())
def test_two_swapped_neighbouring_digits_are_detected(iban, data):
    pairs = [
        i
        for i in range(2, len(iban) - 1)
        if (iban[i] + iban[i + 1]).isdigit() and iban[i] != iban[i + 1]
    ]
    position = data.draw(st.sampled_from(pairs))
    swapped = iban[:position] + iban[position + 1] + iban[position] + iban[position + 2 :]
    with pytest.raises(Invalid, match="clé de contrôle"):
        validate_iban(swapped)


# Shown ---------------------------------------------------------------------------------------


def test_the_full_iban_is_grouped_by_four_for_the_finance_team():
    assert format_iban("FR1420041010050500013M02606") == "FR14 2004 1010 0505 0001 3M02 606"
    assert format_iban("be68 5390 0754 7034") == "BE68 5390 0754 7034"


def test_a_masked_iban_shows_the_country_check_digits_and_last_four_only():
    assert mask_iban("FR1420041010050500013M02606") == "FR14 •••• •••• •••• •••• •••2 606"
    assert mask_iban("DE89370400440532013000") == "DE89 •••• •••• •••• ••30 00"
    assert mask_iban("BE68539007547034") == "BE68 •••• •••• 7034"


@given(
    country=st.sampled_from(sorted(SEPA_IBAN_LENGTHS)),
    data=st.data(),
)
def test_a_mask_never_contains_the_middle_of_the_account(country, data):
    length = SEPA_IBAN_LENGTHS[country] - 4
    bban = data.draw(
        st.text(string.digits + string.ascii_uppercase, min_size=length, max_size=length)
    )
    iban = with_check_digits(country, bban)

    masked = mask_iban(iban)

    assert masked.replace(" ", "") == iban[:4] + "•" * (len(iban) - 8) + iban[-4:]
    assert len(masked.replace(" ", "")) == len(iban)
    assert all(len(group) <= 4 for group in masked.split(" "))


def test_something_too_short_to_be_an_iban_is_masked_entirely():
    assert mask_iban("FR14 2004") == "•••• ••••"
    assert mask_iban("") == ""


# BIC -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("BNPAFRPP", "BNPAFRPP"),
        ("bnpa fr pp xxx", "BNPAFRPPXXX"),
        ("NWBKGB2L", "NWBKGB2L"),
        ("", None),
        (None, None),
        ("   ", None),
    ],
)
def test_a_bic_is_optional_and_stored_in_upper_case(typed, stored):
    assert validate_bic(typed) == stored


@pytest.mark.parametrize("typed", ["BNPAFRP", "BNPAFRPPXX", "BNPA12PP", "BNPAFR1P", "BNPAFRPÉ"])
def test_a_malformed_bic_is_refused(typed):
    with pytest.raises(Invalid, match="BIC"):
        validate_bic(typed)
