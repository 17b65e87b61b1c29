"""SEPA credit transfer files: what the bank reads matches the payments, to the cent, and
nothing a bank would refuse gets into the file."""

import xml.etree.ElementTree as ET
from datetime import date, datetime
from decimal import Decimal

import pytest

from config import Config
from services.errors import Invalid
from services.iban import validate_iban
from services.sepa import Payment, credit_transfer_xml, debtor_from_config, sepa_text

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
DEBTOR = {"name": "Commun", "iban": "FR14 2004 1010 0505 0001 3M02 606", "bic": "PSSTFRPPXXX"}
ON = date(2030, 3, 4)


def payment(n: int = 1, **changes) -> Payment:
    fields = {
        "name": f"Fournisseur {n}",
        "iban": "DE89370400440532013000",
        "amount_cents": 1000 * n + 1,
        "description": f"Demande de depense {n}",
        "end_to_end_id": f"COMMUN-D{n}",
    }
    return Payment(**(fields | changes))


PAYMENTS = [
    payment(1, amount_cents=12_345),
    payment(2, iban="GB29 NWBK 6016 1331 9268 19", bic="NWBKGB2L", amount_cents=5),
    payment(3, iban="be68539007547034", amount_cents=100_000_00),
]


def parse(xml: bytes) -> ET.Element:
    assert xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(xml)


def transactions(root: ET.Element) -> list[dict]:
    return [
        {
            "end_to_end_id": tx.findtext("p:PmtId/p:EndToEndId", namespaces=NS),
            "amount": tx.findtext("p:Amt/p:InstdAmt", namespaces=NS),
            "currency": tx.find("p:Amt/p:InstdAmt", NS).get("Ccy"),
            "name": tx.findtext("p:Cdtr/p:Nm", namespaces=NS),
            "iban": tx.findtext("p:CdtrAcct/p:Id/p:IBAN", namespaces=NS),
            "bic": tx.findtext("p:CdtrAgt/p:FinInstnId/p:BIC", namespaces=NS),
            "description": tx.findtext("p:RmtInf/p:Ustrd", namespaces=NS),
        }
        for tx in root.iterfind(".//p:CdtTrfTxInf", NS)
    ]


# The file ------------------------------------------------------------------------------------


def test_the_file_holds_every_transfer_with_its_account_amount_and_reference():
    root = parse(credit_transfer_xml(DEBTOR, PAYMENTS, ON))

    assert transactions(root) == [
        {
            "end_to_end_id": "COMMUN-D1",
            "amount": "123.45",
            "currency": "EUR",
            "name": "Fournisseur 1",
            "iban": "DE89370400440532013000",
            "bic": None,
            "description": "Demande de depense 1",
        },
        {
            "end_to_end_id": "COMMUN-D2",
            "amount": "0.05",
            "currency": "EUR",
            "name": "Fournisseur 2",
            "iban": "GB29NWBK60161331926819",
            "bic": "NWBKGB2L",
            "description": "Demande de depense 2",
        },
        {
            "end_to_end_id": "COMMUN-D3",
            "amount": "100000.00",
            "currency": "EUR",
            "name": "Fournisseur 3",
            "iban": "BE68539007547034",
            "bic": None,
            "description": "Demande de depense 3",
        },
    ]


def test_the_control_sum_and_count_match_the_amounts_in_euros():
    root = parse(credit_transfer_xml(DEBTOR, PAYMENTS, ON))

    total_cents = sum(p.amount_cents for p in PAYMENTS)
    header = root.find("p:CstmrCdtTrfInitn/p:GrpHdr", NS)
    assert header.findtext("p:NbOfTxs", namespaces=NS) == "3"
    assert header.findtext("p:CtrlSum", namespaces=NS) == "100123.50"
    assert Decimal(header.findtext("p:CtrlSum", namespaces=NS)) * 100 == total_cents
    amounts = [Decimal(tx["amount"]) for tx in transactions(root)]
    assert sum(amounts) == Decimal("100123.50")


def test_a_batch_is_one_payment_block_debiting_the_movement_on_the_date():
    root = parse(credit_transfer_xml(DEBTOR, PAYMENTS, ON))

    (block,) = root.iterfind(".//p:PmtInf", NS)
    assert block.findtext("p:BtchBookg", namespaces=NS) == "true"
    assert block.findtext("p:NbOfTxs", namespaces=NS) == "3"
    assert block.findtext("p:CtrlSum", namespaces=NS) == "100123.50"
    assert block.findtext("p:ReqdExctnDt", namespaces=NS) == "2030-03-04"
    assert block.findtext("p:PmtTpInf/p:SvcLvl/p:Cd", namespaces=NS) == "SEPA"
    assert block.findtext("p:Dbtr/p:Nm", namespaces=NS) == "Commun"
    assert block.findtext("p:DbtrAcct/p:Id/p:IBAN", namespaces=NS) == (
        "FR1420041010050500013M02606"
    )
    assert block.findtext("p:DbtrAgt/p:FinInstnId/p:BIC", namespaces=NS) == "PSSTFRPPXXX"


def test_without_batch_each_transfer_is_its_own_block():
    root = parse(credit_transfer_xml(DEBTOR, PAYMENTS, datetime(2030, 3, 4, 9, 30), batch=False))

    blocks = list(root.iterfind(".//p:PmtInf", NS))
    assert [b.findtext("p:CtrlSum", namespaces=NS) for b in blocks] == [
        "123.45",
        "0.05",
        "100000.00",
    ]
    assert {b.findtext("p:BtchBookg", namespaces=NS) for b in blocks} == {"false"}
    assert {b.findtext("p:ReqdExctnDt", namespaces=NS) for b in blocks} == {"2030-03-04"}
    assert root.findtext(".//p:GrpHdr/p:CtrlSum", namespaces=NS) == "100123.50"


def test_accents_and_ampersands_become_characters_banks_accept():
    debtor = DEBTOR | {"name": "Commun & Compagnie"}
    payments = [
        payment(
            1,
            name="Société Générale & Fils — Zoë L’Haÿ",
            description="Remboursement « tracts » n°42 : 50 €",
        )
    ]
    xml = credit_transfer_xml(debtor, payments, ON)

    root = parse(xml)
    (tx,) = transactions(root)
    assert tx["name"] == "Societe Generale + Fils -- Zoe L'Hay"
    assert tx["description"] == "Remboursement tracts no42 : 50 EUR"
    assert root.findtext(".//p:InitgPty/p:Nm", namespaces=NS) == "Commun + Compagnie"
    assert xml.isascii()


def test_long_names_are_cut_to_70_characters():
    (tx,) = transactions(parse(credit_transfer_xml(DEBTOR, [payment(name="Nom " * 30)], ON)))
    assert len(tx["name"]) <= 70 and tx["name"].startswith("Nom Nom")


def test_the_debtor_bic_is_optional():
    root = parse(credit_transfer_xml(DEBTOR | {"bic": ""}, PAYMENTS[:1], ON))
    assert root.find(".//p:DbtrAgt/p:FinInstnId/p:BIC", NS) is None


def test_the_debtor_account_of_the_settings_is_valid():
    debtor = debtor_from_config(vars(Config))
    assert validate_iban(debtor["iban"]) == debtor["iban"]
    parse(credit_transfer_xml(debtor, PAYMENTS[:1], ON))


@pytest.mark.parametrize(
    ("text", "cleaned"),
    [
        ("Crème brûlée & Cie", "Creme brulee + Cie"),
        ("a_b@c#d", "a b c d"),
        ("  plusieurs   espaces  ", "plusieurs espaces"),
        ("(ok) /-?:.,'+", "(ok) /-?:.,'+"),
    ],
)
def test_sepa_text_keeps_only_the_characters_of_sepa(text, cleaned):
    assert sepa_text(text, 140) == cleaned


# Refused -------------------------------------------------------------------------------------


def test_an_empty_list_of_payments_is_refused():
    with pytest.raises(Invalid, match="Aucun virement"):
        credit_transfer_xml(DEBTOR, [], ON)


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"iban": "DE89370400440532013001"}, "clé de contrôle"),
        ({"iban": "US64SVBKUS6S3300958879"}, "zone SEPA"),
        ({"iban": ""}, "Saisissez l'IBAN"),
        ({"bic": "NOPE"}, "BIC"),
        ({"amount_cents": 0}, "supérieur à zéro"),
        ({"amount_cents": -500}, "supérieur à zéro"),
        ({"amount_cents": 1_000_000_000_00}, "inférieur à un milliard"),
        ({"amount_cents": 12.5}, "entier de centimes"),
        ({"amount_cents": True}, "entier de centimes"),
        ({"description": "x" * 141}, "140 caractères"),
        ({"description": "  "}, "libellé manque"),
        ({"name": "*** ###"}, "nom du titulaire"),
        ({"end_to_end_id": ""}, "référence"),
        ({"end_to_end_id": "A" * 36}, "référence"),
        ({"end_to_end_id": "COMMUN_42"}, "référence"),
        ({"end_to_end_id": "/COMMUN"}, "référence"),
    ],
)
def test_a_transfer_a_bank_would_refuse_is_refused_naming_it(changes, why):
    wrong = payment(7, **changes)
    with pytest.raises(Invalid) as refused:
        credit_transfer_xml(DEBTOR, [PAYMENTS[0], wrong], ON)
    assert refused.value.status == 422
    assert why in refused.value.message
    assert refused.value.message.startswith("Virement ")
    assert wrong.name in refused.value.message


@pytest.mark.parametrize(
    ("debtor", "why"),
    [
        (DEBTOR | {"iban": "FR1420041010050500013M02607"}, "clé de contrôle"),
        (DEBTOR | {"bic": "X"}, "BIC"),
        (DEBTOR | {"name": "  "}, "nom du titulaire"),
    ],
)
def test_a_wrong_debtor_account_is_refused(debtor, why):
    with pytest.raises(Invalid) as refused:
        credit_transfer_xml(debtor, PAYMENTS, ON)
    assert refused.value.message.startswith("Compte à débiter")
    assert why in refused.value.message


def test_a_reference_used_twice_is_refused():
    with pytest.raises(Invalid, match="« COMMUN-D1 » apparaît deux fois"):
        credit_transfer_xml(DEBTOR, [payment(1), payment(2, end_to_end_id="COMMUN-D1")], ON)
