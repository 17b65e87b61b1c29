"""Spending requests: the workflow, who may do what, and the charging rule (DESIGN.md §3)."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from models import (
    AccountKind,
    Commitment,
    LedgerAccount,
    LedgerOperation,
    Reservation,
    SpendingCategory,
    SpendingEvent,
    SpendingReceipt,
    SpendingRequest,
    SpendingStatus,
    db,
)
from services import ledger, spending
from services import receipts as receipt_files
from services.commitments import commit_group, withdraw_commitment
from services.errors import Conflict, Invalid, NotAllowed, NotFound
from tests import factories as f
from tests.dbstate import snapshot

IBAN = "FR1420041010050500013M02606"
PDF = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
)


def receipt(name="facture.pdf"):
    return spending.UploadedFile(name, PDF)


def fields(amount_cents=12_000, commitment_id=None, **changes):
    values = dict(
        title="Tracts pour la réunion publique",
        category=SpendingCategory.printing,
        amount_cents=amount_cents,
        spent_on=date.today() - timedelta(days=3),
        explanation="Mille tracts A5 recto verso.",
        payee_name="Imprimerie du Port",
        payee_iban=IBAN,
        commitment_id=commitment_id,
    )
    values.update(changes)
    return spending.RequestFields(**values)


class Team:
    """A certified group with two managers and a plain member, and the finance team."""

    def __init__(self):
        self.author, self.group = f.manager_of()
        self.second = f.person()
        f.member(self.second, self.group, "manager")
        self.member = f.person()
        f.member(self.member, self.group, "member")
        self.finance = f.person(finance=True)

    def fund(self, cents):
        ledger.allocate(self.finance, self.group.id, cents, "Dons fléchés")

    def draft(self, **kwargs):
        return spending.create_request(self.author, self.group.id, fields(**kwargs), [receipt()])

    def to_finance(self, **kwargs):
        request_id = self.draft(**kwargs)
        spending.submit_request(self.author, request_id)
        spending.validate_request(self.second, request_id)
        return request_id

    def funded_commitment(self, budget_cents=50_000):
        """The group's commitment on a fundable action, with its reservation."""
        round_ = f.budget_round()
        proposal = f.proposal(round_, threshold_override=1, budget_cents=budget_cents)
        commit_group(self.author, self.group.id, proposal.id)
        return db.session.scalar(
            select(Commitment).where(
                Commitment.group_id == self.group.id, Commitment.proposal_id == proposal.id
            )
        )


@pytest.fixture
def team(app):
    return Team()


def status_of(request_id):
    db.session.rollback()
    return db.session.get(SpendingRequest, request_id).status


def envelope(group_id):
    db.session.rollback()
    return ledger.envelope_balance(group_id)


def round_spent(round_id):
    db.session.rollback()
    balance = db.session.scalar(
        select(LedgerAccount.balance_cents).where(
            LedgerAccount.kind == AccountKind.round, LedgerAccount.round_id == round_id
        )
    )
    return -(balance or 0)


# Filing --------------------------------------------------------------------------------------


def test_a_manager_of_a_certified_group_files_a_draft_with_its_receipts(team):
    request_id = team.draft()
    row = db.session.get(SpendingRequest, request_id)
    assert row.status == SpendingStatus.draft
    assert (row.author_id, row.group_id, row.amount_cents) == (
        team.author.id,
        team.group.id,
        12_000,
    )
    assert row.payee_iban == IBAN
    assert [r.filename for r in spending.request_receipts(request_id)] == ["facture.pdf"]
    assert [e.action for e in spending.request_timeline(request_id)] == ["created"]


def test_only_managers_of_a_certified_group_file_requests(team):
    with pytest.raises(NotAllowed):
        spending.create_request(team.member, team.group.id, fields(), [receipt()])
    with pytest.raises(NotAllowed):
        spending.create_request(team.finance, team.group.id, fields(), [receipt()])
    manager, uncertified = f.manager_of(certified=False)
    with pytest.raises(NotAllowed, match="certifié"):
        spending.create_request(manager, uncertified.id, fields(), [receipt()])
    assert db.session.scalar(select(func.count(SpendingRequest.id))) == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"title": "  "}, "titre"),
        ({"amount_cents": 0}, "montant"),
        ({"amount_cents": 100_000_01}, "montant"),
        ({"spent_on": date.today() + timedelta(days=5)}, "futur"),
        ({"spent_on": date.today() - timedelta(days=800)}, "deux ans"),
        ({"payee_name": ""}, "qui est payé"),
        ({"payee_iban": "FR1420041010050500013M02607"}, "IBAN"),
    ],
)
def test_bad_fields_are_refused_in_french_and_nothing_is_written(team, changes, message):
    before = snapshot()
    with pytest.raises(Invalid, match=message):
        spending.create_request(team.author, team.group.id, fields(**changes), [receipt()])
    assert snapshot() == before


def test_a_request_links_only_the_groups_commitment_on_a_fundable_action(team):
    other_manager, other_group = f.manager_of()
    round_ = f.budget_round()
    proposal = f.proposal(round_, threshold_override=1)
    commit_group(other_manager, other_group.id, proposal.id)
    theirs = db.session.scalar(select(Commitment.id).where(Commitment.group_id == other_group.id))
    with pytest.raises(Invalid, match="engagement du groupe"):
        team.draft(commitment_id=theirs)
    not_fundable = f.proposal(round_, threshold_override=5)
    commit_group(team.author, team.group.id, not_fundable.id)
    ours = db.session.scalar(select(Commitment.id).where(Commitment.proposal_id == not_fundable.id))
    with pytest.raises(Invalid, match="finançable"):
        team.draft(commitment_id=ours)


def test_a_receipt_is_checked_by_its_content(team):
    fake = spending.UploadedFile("facture.pdf", b"<html><script>alert(1)</script></html>")
    with pytest.raises(Invalid):
        spending.create_request(team.author, team.group.id, fields(), [fake])
    assert db.session.scalar(select(func.count(SpendingReceipt.id))) == 0


# The workflow --------------------------------------------------------------------------------


def test_submission_needs_at_least_one_receipt(team):
    request_id = spending.create_request(team.author, team.group.id, fields(), [])
    with pytest.raises(Invalid, match="justificatif"):
        spending.submit_request(team.author, request_id)
    assert status_of(request_id) == SpendingStatus.draft
    spending.add_receipts(team.author, request_id, [receipt()])
    spending.submit_request(team.author, request_id)
    assert status_of(request_id) == SpendingStatus.awaiting_group


def test_a_request_is_validated_by_a_second_manager_not_its_author(team):
    request_id = team.draft()
    spending.submit_request(team.author, request_id)
    with pytest.raises(NotAllowed, match="second"):
        spending.validate_request(team.author, request_id)
    with pytest.raises(NotAllowed):
        spending.validate_request(team.member, request_id)
    with pytest.raises(NotAllowed):
        spending.validate_request(team.finance, request_id)
    assert status_of(request_id) == SpendingStatus.awaiting_group
    spending.validate_request(team.second, request_id, "Vu en réunion.")
    assert status_of(request_id) == SpendingStatus.awaiting_finance


def test_the_last_manager_to_change_a_request_cannot_validate_it_either(team):
    request_id = team.draft()
    spending.submit_request(team.author, request_id)
    spending.update_request(team.second, request_id, fields(amount_cents=13_000))
    with pytest.raises(NotAllowed):
        spending.validate_request(team.second, request_id)
    third = f.person()
    f.member(third, team.group, "referent")
    spending.validate_request(third, request_id)
    assert status_of(request_id) == SpendingStatus.awaiting_finance


def test_an_edit_after_submission_sends_the_request_back_to_the_group_validation(team):
    request_id = team.to_finance()
    spending.update_request(team.author, request_id, fields(title="Tracts et affiches"))
    assert status_of(request_id) == SpendingStatus.awaiting_group
    spending.validate_request(team.second, request_id)
    spending.request_information(team.finance, request_id, "Le devis ?")
    spending.add_receipts(team.author, request_id, [receipt("devis.pdf")])
    assert status_of(request_id) == SpendingStatus.awaiting_group


def test_information_requested_then_answered_goes_back_to_the_finance_review(team):
    request_id = team.to_finance()
    with pytest.raises(Invalid):
        spending.request_information(team.finance, request_id, " ")
    spending.request_information(team.finance, request_id, "Pour quelle réunion ?")
    assert status_of(request_id) == SpendingStatus.info_requested
    with pytest.raises(NotAllowed):
        spending.answer_request(team.member, request_id, "La réunion du 12.")
    spending.answer_request(team.second, request_id, "La réunion du 12.")
    assert status_of(request_id) == SpendingStatus.awaiting_finance


def test_a_manager_can_send_a_request_back_to_its_draft_with_a_reason(team):
    request_id = team.draft()
    spending.submit_request(team.author, request_id)
    with pytest.raises(Invalid):
        spending.return_to_draft(team.second, request_id, "")
    spending.return_to_draft(team.second, request_id, "Il manque le devis.")
    assert status_of(request_id) == SpendingStatus.draft


def test_a_submitted_request_keeps_at_least_one_receipt(team):
    request_id = team.draft()
    spending.submit_request(team.author, request_id)
    only = spending.request_receipts(request_id)[0].id
    with pytest.raises(Conflict, match="au moins un justificatif"):
        spending.remove_receipt(team.author, only)
    spending.add_receipts(team.author, request_id, [receipt("bon.pdf")])
    spending.remove_receipt(team.author, only)
    assert [r.filename for r in spending.request_receipts(request_id)] == ["bon.pdf"]


def test_only_the_finance_team_approves_refuses_and_pays(team):
    team.fund(50_000)
    request_id = team.to_finance()
    for person in (team.author, team.second, team.member):
        with pytest.raises(NotAllowed):
            spending.approve_spending(person, request_id)
        with pytest.raises(NotAllowed):
            spending.refuse_spending(person, request_id, "Non")
        with pytest.raises(NotAllowed):
            spending.request_information(person, request_id, "?")
    spending.approve_spending(team.finance, request_id)
    for person in (team.author, team.second):
        with pytest.raises(NotAllowed):
            spending.mark_paid(person, [request_id])
    assert spending.mark_paid(team.finance, [request_id]) == 1
    assert status_of(request_id) == SpendingStatus.paid


def test_a_refusal_needs_a_reason_and_moves_no_money(team):
    team.fund(50_000)
    request_id = team.to_finance()
    with pytest.raises(Invalid, match="raison"):
        spending.refuse_spending(team.finance, request_id, "")
    spending.refuse_spending(team.finance, request_id, "Hors du périmètre du groupe.")
    assert status_of(request_id) == SpendingStatus.refused
    assert envelope(team.group.id) == 50_000
    with pytest.raises(Conflict):
        spending.update_request(team.author, request_id, fields(amount_cents=1))


def test_every_transition_is_logged_with_who_and_the_comment(team):
    team.fund(50_000)
    request_id = team.to_finance()
    spending.request_information(team.finance, request_id, "Pour quelle réunion ?")
    spending.answer_request(team.second, request_id, "Celle du 12.")
    spending.approve_spending(team.finance, request_id, "Bon pour paiement.")
    spending.mark_paid(team.finance, [request_id])
    events = [
        (e.action, e.actor_id, e.from_status, e.to_status, e.comment)
        for e in spending.request_timeline(request_id)
    ]
    a, s, fi = team.author.id, team.second.id, team.finance.id
    assert events == [
        ("created", a, None, "draft", ""),
        ("submitted", a, "draft", "awaiting_group", ""),
        ("validated", s, "awaiting_group", "awaiting_finance", ""),
        ("info_requested", fi, "awaiting_finance", "info_requested", "Pour quelle réunion ?"),
        ("answered", s, "info_requested", "awaiting_finance", "Celle du 12."),
        ("approved", fi, "awaiting_finance", "approved", "Bon pour paiement."),
        ("paid", fi, "approved", "paid", ""),
    ]


def test_a_stale_form_is_refused(team):
    request_id = team.draft()
    version = db.session.get(SpendingRequest, request_id).version
    spending.update_request(team.second, request_id, fields(title="Autre titre"), version)
    with pytest.raises(Conflict, match="entre-temps"):
        spending.update_request(team.author, request_id, fields(title="Encore"), version)


def test_unknown_requests_are_not_found(team):
    with pytest.raises(NotFound):
        spending.submit_request(team.author, 999_999)
    with pytest.raises(NotFound):
        spending.approve_spending(team.finance, 999_999)


# The charging rule ---------------------------------------------------------------------------


def test_charging_rule_the_round_pays_up_to_the_reservation_and_the_envelope_the_rest(team):
    team.fund(30_000)
    commitment = team.funded_commitment(budget_cents=50_000)
    first = team.to_finance(amount_cents=40_000, commitment_id=commitment.id)
    split = spending.split_for(team.group.id, commitment.id, 40_000)
    assert (split.round_cents, split.envelope_cents, split.envelope_covers) == (40_000, 0, True)
    spending.approve_spending(team.finance, first)
    assert envelope(team.group.id) == 30_000, "the envelope is untouched"
    second = team.to_finance(amount_cents=25_000, commitment_id=commitment.id)
    split = spending.split_for(team.group.id, commitment.id, 25_000)
    assert (split.round_cents, split.envelope_cents) == (10_000, 15_000)
    spending.approve_spending(team.finance, second)
    assert envelope(team.group.id) == 15_000
    row = db.session.get(SpendingRequest, second)
    assert (row.round_cents, row.envelope_cents) == (10_000, 15_000)
    assert round_spent(db.session.get(Reservation, row.reservation_id).round_id) == 50_000


def test_a_request_without_a_commitment_is_paid_from_the_envelope(team):
    team.fund(20_000)
    request_id = team.to_finance(amount_cents=12_000)
    spending.approve_spending(team.finance, request_id)
    assert envelope(team.group.id) == 8_000
    operations = db.session.scalars(
        select(LedgerOperation).where(LedgerOperation.spending_request_id == request_id)
    ).all()
    assert [(op.amount_cents, op.reservation_id) for op in operations] == [(12_000, None)]


def test_approval_is_refused_with_the_figures_when_the_envelope_cannot_cover_it(team):
    team.fund(5_000)
    request_id = team.to_finance(amount_cents=12_000)
    split = spending.split_for(team.group.id, None, 12_000)
    assert not split.envelope_covers
    before = snapshot()
    with pytest.raises(Conflict) as refused:
        spending.approve_spending(team.finance, request_id)
    assert "120\xa0€" in refused.value.message and "contient 50\xa0€" in refused.value.message
    assert snapshot() == before
    assert status_of(request_id) == SpendingStatus.awaiting_finance


def test_a_reversed_charge_gives_its_reservation_back(team):
    commitment = team.funded_commitment(budget_cents=50_000)
    request_id = team.to_finance(amount_cents=50_000, commitment_id=commitment.id)
    spending.approve_spending(team.finance, request_id)
    assert spending.split_for(team.group.id, commitment.id, 10_000).round_cents == 0
    charge = db.session.scalar(
        select(LedgerOperation.id).where(LedgerOperation.spending_request_id == request_id)
    )
    ledger.reverse(team.finance, charge, "Approuvée par erreur")
    assert spending.split_for(team.group.id, commitment.id, 10_000).round_cents == 10_000


def test_withdrawal_after_fundable_is_refused_once_something_was_spent_on_it(team):
    commitment = team.funded_commitment(budget_cents=50_000)
    request_id = team.to_finance(amount_cents=10_000, commitment_id=commitment.id)
    spending.approve_spending(team.finance, request_id)
    with pytest.raises(Conflict, match="dépenses approuvées"):
        withdraw_commitment(team.author, team.group.id, commitment.proposal_id)
    db.session.rollback()
    assert db.session.get(Commitment, commitment.id).status.value == "active"


def test_mark_paid_in_one_go_logs_each_and_refuses_requests_not_approved(team):
    team.fund(100_000)
    first, second, third = (team.to_finance() for _ in range(3))
    spending.approve_spending(team.finance, first)
    spending.approve_spending(team.finance, second)
    with pytest.raises(Conflict, match=f"n° {third}"):
        spending.mark_paid(team.finance, [first, second, third])
    assert status_of(first) == SpendingStatus.approved
    assert spending.mark_paid(team.finance, [first, second]) == 2
    assert spending.mark_paid(team.finance, [first]) == 0
    paid = db.session.scalar(
        select(func.count(SpendingEvent.id)).where(SpendingEvent.action == "paid")
    )
    assert paid == 2


def test_the_same_request_is_not_approved_twice(team):
    team.fund(100_000)
    request_id = team.to_finance()
    spending.approve_spending(team.finance, request_id)
    with pytest.raises(Conflict, match="approuvée"):
        spending.approve_spending(team.finance, request_id)
    assert envelope(team.group.id) == 88_000


def test_the_round_page_and_the_finance_dashboard_show_what_the_groups_spent(team, client, auth):
    commitment = team.funded_commitment(budget_cents=50_000)
    request_id = team.to_finance(amount_cents=32_050, commitment_id=commitment.id)
    spending.approve_spending(team.finance, request_id)
    round_id = db.session.get(SpendingRequest, request_id).reservation_id
    round_id = db.session.get(Reservation, round_id).round_id
    assert round_spent(round_id) == 32_050
    page = client.get(f"/budgets/{round_id}").get_data(as_text=True)
    assert "Dépensé par les groupes" in page and "320,50\xa0€" in page
    auth.login(team.finance)
    page = client.get(f"/finance?round={round_id}").get_data(as_text=True)
    assert 'id="finance-spent">320,50\xa0€' in page


def test_a_draft_never_submitted_can_be_deleted_with_its_receipt_files(team, app):
    request_id = team.draft()
    stored = spending.request_receipts(request_id)[0].stored_name
    path = receipt_files.receipt_path(app.config["UPLOADS_PATH"], stored)
    assert path.exists()
    with pytest.raises(NotAllowed):
        spending.delete_draft(team.member, request_id)
    assert spending.delete_draft(team.second, request_id) == team.group.id
    db.session.rollback()
    assert db.session.get(SpendingRequest, request_id) is None
    assert not path.exists()


def test_a_request_once_submitted_is_never_deleted(team):
    request_id = team.draft()
    spending.submit_request(team.author, request_id)
    with pytest.raises(Conflict):
        spending.delete_draft(team.author, request_id)
    spending.return_to_draft(team.second, request_id, "Il manque le devis.")
    with pytest.raises(Conflict, match="déjà été déposée"):
        spending.delete_draft(team.author, request_id)
    assert status_of(request_id) == SpendingStatus.draft


def test_charged_amounts_are_integer_cents_on_every_backend(team):
    # PostgreSQL sums bigints as numerics: a Decimal once broke the refusal's message.
    commitment = team.funded_commitment(budget_cents=15_000)
    first = team.to_finance(amount_cents=10_000, commitment_id=commitment.id)
    spending.approve_spending(team.finance, first)
    reservation_id = db.session.get(SpendingRequest, first).reservation_id
    assert type(ledger.charged_on_reservation(reservation_id)) is int
    [chargeable] = spending.chargeable_commitments(team.group.id)
    assert (type(chargeable.left_cents), chargeable.left_cents) == (int, 5_000)
    second = team.to_finance(amount_cents=15_001, commitment_id=commitment.id)
    with pytest.raises(Conflict) as refused:
        spending.approve_spending(team.finance, second)
    assert "prend en charge 50\xa0€" in refused.value.message
    assert "les 100,01\xa0€ restants" in refused.value.message
