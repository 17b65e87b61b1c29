"""Proposal lifecycle: draft → submitted → in_review → published, or declined with a reason, or
withdrawn by its group; only published proposals are public."""

import pytest
from sqlalchemy import select

from models import (
    AuditEntry,
    BudgetLine,
    Illustration,
    Proposal,
    ProposalRevision,
    ProposalStatus,
    db,
)
from services import proposals as lifecycle
from services.commitments import commit_group
from services.errors import Conflict, Invalid, NotAllowed, NotFound
from tests import factories as f
from tests.dbstate import snapshot

TEXT = lifecycle.ProposalText(
    title="Ouvrir une épicerie solidaire",
    summary="Des produits de base à prix coûtant, tenus par le groupe.",
    body="## Pourquoi\n\nParce que les prix flambent.",
    how_to="1. Trouver un local\n2. Contacter un grossiste",
    category="alimentation",
    per_group_budget_cents=60_000,
    budget_lines=(("Étagères", 20_000), ("Premier stock", 40_000)),
)


def form_data(text=TEXT, **extra) -> dict:
    data = {
        "title": text.title,
        "summary": text.summary,
        "body": text.body,
        "how_to": text.how_to,
        "category": text.category,
        "budget": "600",
        "action": "save",
    }
    for i, (item, amount) in enumerate(text.budget_lines):
        data[f"lines-{i}-item"] = item
        data[f"lines-{i}-amount"] = f"{amount // 100},{amount % 100:02d}"
    data.update(extra)
    return data


def reload(proposal_id: int) -> Proposal:
    db.session.expire_all()
    return db.session.get(Proposal, proposal_id)


@pytest.fixture
def manager(app):
    f.budget_round()
    return f.manager_of()


@pytest.fixture
def team(app):
    return f.person(animation=True)


def draft_of(manager_and_group, text=TEXT) -> Proposal:
    person, group = manager_and_group
    return lifecycle.create_draft(person, group.id, text)


def test_a_manager_of_a_certified_group_writes_a_draft_with_its_budget_lines(manager):
    person, group = manager
    proposal = draft_of(manager)
    proposal = reload(proposal.id)
    assert proposal.status == ProposalStatus.draft
    assert (proposal.origin_group_id, proposal.author_id, proposal.version) == (
        group.id,
        person.id,
        1,
    )
    assert proposal.slug.startswith("brouillon-")  # its public address comes at publication
    lines = db.session.scalars(select(BudgetLine).order_by(BudgetLine.position)).all()
    assert [(line.item, line.amount_cents) for line in lines] == list(TEXT.budget_lines)
    revision = db.session.scalar(select(ProposalRevision))
    assert (revision.number, revision.kind, revision.author_id) == (1, "creation", person.id)
    assert revision.snapshot["budget_lines"] == [["Étagères", 20_000], ["Premier stock", 40_000]]


def test_an_uncertified_group_cannot_propose(app):
    f.budget_round()
    person, group = f.manager_of(f.group(certified=False))
    before = snapshot()
    with pytest.raises(NotAllowed, match="certifié"):
        lifecycle.create_draft(person, group.id, TEXT)
    assert snapshot() == before


@pytest.mark.parametrize("role", ["member", None])
def test_only_managers_and_referents_propose_for_their_group(app, role):
    f.budget_round()
    group = f.group()
    person = f.person()
    if role:
        f.member(person, group, role)
    with pytest.raises(NotAllowed):
        lifecycle.create_draft(person, group.id, TEXT)


def test_a_referent_proposes_for_the_group(app):
    f.budget_round()
    group = f.group()
    person = f.person()
    f.member(person, group, "referent")
    assert lifecycle.create_draft(person, group.id, TEXT).status == ProposalStatus.draft


def test_a_draft_may_be_incomplete_but_submission_needs_lines_adding_up(manager):
    incomplete = lifecycle.ProposalText(**{**TEXT.__dict__, "budget_lines": (("Étagères", 100),)})
    proposal = draft_of(manager, incomplete)
    with pytest.raises(Invalid, match="totalisent 1\u00a0€ alors que le budget par groupe"):
        lifecycle.submit_proposal(manager[0], proposal.id)
    assert reload(proposal.id).status == ProposalStatus.draft


def test_submitting_sends_the_draft_to_the_animation_team(manager):
    proposal = draft_of(manager)
    lifecycle.submit_proposal(manager[0], proposal.id)
    proposal = reload(proposal.id)
    assert proposal.status == ProposalStatus.submitted and proposal.submitted_at is not None
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "proposal.submit"))
    assert entry.actor_id == manager[0].id


def test_a_draft_cannot_be_submitted_twice(manager):
    proposal = draft_of(manager)
    lifecycle.submit_proposal(manager[0], proposal.id)
    with pytest.raises(Conflict):
        lifecycle.submit_proposal(manager[0], proposal.id)


def test_a_group_decertified_after_drafting_cannot_submit(manager):
    proposal = draft_of(manager)
    manager[1].certified_at = None
    db.session.commit()
    with pytest.raises(NotAllowed, match="certifié"):
        lifecycle.submit_proposal(manager[0], proposal.id)


@pytest.mark.parametrize(
    "status", [ProposalStatus.draft, ProposalStatus.submitted, ProposalStatus.in_review]
)
def test_the_group_withdraws_its_idea_at_any_time_before_publication(manager, status):
    proposal = f.proposal(status=status, origin_group=manager[1], budget_lines=True)
    lifecycle.withdraw_proposal(manager[0], proposal.id, "Nous n'avons plus de local.")
    proposal = reload(proposal.id)
    assert proposal.status == ProposalStatus.withdrawn
    assert proposal.withdraw_reason == "Nous n'avons plus de local."
    assert proposal.withdrawn_at is not None


@pytest.mark.parametrize(
    "status", [ProposalStatus.published, ProposalStatus.declined, ProposalStatus.withdrawn]
)
def test_no_withdrawal_after_publication_or_once_closed(manager, status):
    proposal = f.proposal(status=status, origin_group=manager[1])
    with pytest.raises(Conflict):
        lifecycle.withdraw_proposal(manager[0], proposal.id)
    assert reload(proposal.id).status == status


def test_another_groups_manager_cannot_withdraw_and_does_not_learn_the_draft_exists(manager):
    proposal = f.proposal(status=ProposalStatus.draft, origin_group=manager[1])
    other, _group = f.manager_of()
    with pytest.raises(NotFound):
        lifecycle.withdraw_proposal(other, proposal.id)


@pytest.mark.parametrize("status", [ProposalStatus.submitted, ProposalStatus.in_review])
def test_publishing_makes_the_proposal_public_and_open_to_commitments(manager, team, status):
    proposal = f.proposal(
        status=status, origin_group=manager[1], budget_lines=True, title="Réparer des vélos"
    )
    lifecycle.publish_proposal(team, proposal.id)
    proposal = reload(proposal.id)
    assert proposal.status == ProposalStatus.published and proposal.published_at is not None
    assert proposal.slug == "reparer-des-velos"
    commit_group(manager[0], manager[1].id, proposal.id)
    assert reload(proposal.id).commitment_count == 1


def test_two_published_proposals_of_the_same_title_get_distinct_addresses(manager, team):
    first, second = (
        f.proposal(status=ProposalStatus.submitted, budget_lines=True, title="Cantine")
        for _ in range(2)
    )
    lifecycle.publish_proposal(team, first.id)
    lifecycle.publish_proposal(team, second.id)
    assert (reload(first.id).slug, reload(second.id).slug) == ("cantine", "cantine-2")


def test_publishing_does_not_make_a_proposal_without_commitments_fundable(team, app):
    proposal = f.proposal(status=ProposalStatus.in_review, budget_lines=True)
    proposal.threshold_override = 1
    db.session.commit()
    lifecycle.publish_proposal(team, proposal.id)
    assert reload(proposal.id).fundable_at is None  # nobody committed yet: 0 < 1


def test_publication_needs_the_alternative_text_of_every_illustration(team, app):
    proposal = f.proposal(status=ProposalStatus.in_review, budget_lines=True)
    db.session.add(
        Illustration(
            proposal_id=proposal.id,
            position=1,
            stored_name="abc",
            format="jpeg",
            width=10,
            height=10,
            thumb_width=10,
            thumb_height=10,
            byte_size=100,
        )
    )
    db.session.commit()
    with pytest.raises(Invalid, match="texte alternatif"):
        lifecycle.publish_proposal(team, proposal.id)
    assert reload(proposal.id).status == ProposalStatus.in_review


def test_publication_needs_budget_lines_adding_up(team, app):
    proposal = f.proposal(status=ProposalStatus.in_review)  # no budget lines
    with pytest.raises(Invalid, match="ligne"):
        lifecycle.publish_proposal(team, proposal.id)


@pytest.mark.parametrize(
    "status", [ProposalStatus.draft, ProposalStatus.published, ProposalStatus.declined]
)
def test_only_submitted_or_in_review_proposals_are_published_or_declined(team, app, status):
    proposal = f.proposal(status=status, budget_lines=True)
    with pytest.raises(Conflict):
        lifecycle.publish_proposal(team, proposal.id)
    with pytest.raises(Conflict):
        lifecycle.decline_proposal(team, proposal.id, "Hors du cadre du budget participatif.")


def test_declining_needs_a_reason_the_group_then_reads(manager, team, client, auth):
    proposal = f.proposal(status=ProposalStatus.submitted, origin_group=manager[1])
    with pytest.raises(Invalid, match="pourquoi"):
        lifecycle.decline_proposal(team, proposal.id, "  ")
    lifecycle.decline_proposal(team, proposal.id, "Trop proche de l'action « Cantine ».")
    proposal = reload(proposal.id)
    assert proposal.status == ProposalStatus.declined
    assert proposal.decline_reason == "Trop proche de l'action « Cantine »."
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "proposal.decline"))
    assert (entry.actor_id, entry.reason) == (team.id, proposal.decline_reason)


@pytest.mark.parametrize(
    "status",
    [
        ProposalStatus.draft,
        ProposalStatus.submitted,
        ProposalStatus.in_review,
        ProposalStatus.declined,
        ProposalStatus.withdrawn,
    ],
)
def test_only_published_proposals_are_public(client, app, status):
    proposal = f.proposal(status=status, title="Une idée en chantier")
    assert client.get(f"/propositions/{proposal.slug}").status_code == 404
    assert "Une idée en chantier" not in client.get("/").get_data(as_text=True)
    assert client.get(f"/api/proposals/{proposal.id}").status_code == 404


# Through the pages -----------------------------------------------------------------------


def test_new_draft_page_saves_and_redirects_to_the_workspace(client, auth, manager):
    person, group = manager
    auth.login(person)
    assert client.get(f"/groupes/{group.id}/propositions/nouvelle").status_code == 200
    response = client.post(f"/groupes/{group.id}/propositions/nouvelle", data=form_data())
    assert response.status_code == 303
    proposal = db.session.scalar(select(Proposal))
    assert response.headers["Location"] == f"/espace/propositions/{proposal.id}"
    assert proposal.per_group_budget_cents == 60_000
    assert proposal.how_to == TEXT.how_to


def test_new_draft_with_an_unreadable_amount_is_422_keeps_the_text_and_writes_nothing(
    client, auth, manager
):
    person, group = manager
    auth.login(person)
    before = snapshot()
    response = client.post(
        f"/groupes/{group.id}/propositions/nouvelle",
        data=form_data(**{"lines-1-amount": "quatre cents"}),
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Écrivez un montant en euros" in page
    assert "quatre cents" in page and "Ouvrir une épicerie solidaire" in page
    assert snapshot() == before


def test_add_line_and_preview_buttons_rerender_without_saving(client, auth, manager):
    person, group = manager
    auth.login(person)
    before = snapshot()
    url = f"/groupes/{group.id}/propositions/nouvelle"
    page = client.post(url, data=form_data(action="add_line")).get_data(as_text=True)
    assert 'name="lines-2-item"' in page
    page = client.post(url, data=form_data(action="preview")).get_data(as_text=True)
    assert "<h2>Pourquoi</h2>" in page
    assert "Il correspond au budget par groupe" in page
    assert snapshot() == before


@pytest.mark.parametrize("who", ["member", "other_manager", "uncertified_manager"])
def test_the_new_draft_page_is_refused_to_those_who_cannot_propose(client, auth, manager, who):
    _person, group = manager
    if who == "member":
        person = f.person()
        f.member(person, group, "member")
        target = group
    elif who == "other_manager":
        person, _other = f.manager_of()
        target = group
    else:
        person, target = f.manager_of(f.group(certified=False))
    auth.login(person)
    assert client.get(f"/groupes/{target.id}/propositions/nouvelle").status_code == 403
    before = snapshot()
    response = client.post(f"/groupes/{target.id}/propositions/nouvelle", data=form_data())
    assert response.status_code == 403
    assert snapshot() == before


def test_the_new_draft_page_of_an_unknown_group_is_404(client, auth, manager):
    auth.login(manager[0])
    assert client.get("/groupes/999/propositions/nouvelle").status_code == 404


def test_submit_and_withdraw_buttons(client, auth, manager):
    person, _group = manager
    proposal = draft_of(manager)
    auth.login(person)
    response = client.post(f"/espace/propositions/{proposal.id}/soumission")
    assert response.status_code == 303
    assert reload(proposal.id).status == ProposalStatus.submitted
    response = client.post(
        f"/espace/propositions/{proposal.id}/retrait", data={"reason": "Plus de bénévoles"}
    )
    assert response.status_code == 303
    assert reload(proposal.id).withdraw_reason == "Plus de bénévoles"


def test_publish_and_decline_buttons(client, auth, team):
    to_publish = f.proposal(status=ProposalStatus.submitted, budget_lines=True)
    to_decline = f.proposal(status=ProposalStatus.in_review)
    auth.login(team)
    assert client.post(f"/espace/propositions/{to_publish.id}/publication").status_code == 303
    assert reload(to_publish.id).status == ProposalStatus.published
    response = client.post(f"/espace/propositions/{to_decline.id}/refus", data={"reason": "court"})
    assert response.status_code == 422
    assert "10 caractères au moins" in response.get_data(as_text=True)
    response = client.post(
        f"/espace/propositions/{to_decline.id}/refus",
        data={"reason": "Une action semblable existe déjà."},
    )
    assert response.status_code == 303
    assert reload(to_decline.id).status == ProposalStatus.declined


def test_a_refused_submission_explains_why_and_changes_nothing(client, auth, manager):
    incomplete = lifecycle.ProposalText(**{**TEXT.__dict__, "budget_lines": ()})
    proposal = draft_of(manager, incomplete)
    auth.login(manager[0])
    before = snapshot()
    response = client.post(f"/espace/propositions/{proposal.id}/soumission")
    assert response.status_code == 422
    assert "Détaillez le budget" in response.get_data(as_text=True)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("raw", "cents"),
    [("12", 1200), ("12,5", 1250), ("1 234,50 €", 123450), ("0", 0), ("89.99", 8999)],
)
def test_amounts_are_read_as_french_euros(raw, cents):
    from views.forms import parse_euros

    assert parse_euros(raw) == cents


@pytest.mark.parametrize("raw", ["", "-5", "12,345", "douze", "1e3", "12,5,0"])
def test_unreadable_amounts_are_refused(raw):
    from views.forms import parse_euros

    with pytest.raises(ValueError):
        parse_euros(raw)


def test_the_team_sets_a_threshold_while_reviewing_audited_with_its_reason(team, client, auth):
    proposal = f.proposal(status=ProposalStatus.in_review, budget_lines=True)
    auth.login(team)
    response = client.post(
        f"/espace/propositions/{proposal.id}/seuil",
        data={"threshold": "5", "reason": "Action simple, peu coûteuse"},
    )
    assert response.status_code == 303
    assert reload(proposal.id).threshold_override == 5
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "proposal.threshold_override")
    )
    assert (entry.actor_id, entry.new_value, entry.reason) == (
        team.id,
        "5",
        "Action simple, peu coûteuse",
    )
    lifecycle.publish_proposal(team, proposal.id)
    assert reload(proposal.id).threshold_override == 5  # it carries over to publication


@pytest.mark.parametrize("status", [ProposalStatus.draft, ProposalStatus.declined])
def test_no_threshold_on_a_draft_or_a_closed_proposal(team, client, auth, status):
    proposal = f.proposal(status=status)
    auth.login(team)
    before = snapshot()
    response = client.post(
        f"/espace/propositions/{proposal.id}/seuil", data={"threshold": "5", "reason": "Essai"}
    )
    assert response.status_code == 409
    assert snapshot() == before


def test_a_threshold_without_a_reason_is_refused(team, client, auth):
    proposal = f.proposal(status=ProposalStatus.submitted)
    auth.login(team)
    before = snapshot()
    response = client.post(f"/espace/propositions/{proposal.id}/seuil", data={"threshold": "5"})
    assert response.status_code == 422
    assert "raison" in response.get_data(as_text=True)
    assert snapshot() == before
