"""The workspace page of a proposal: what each side sees and may do, for every status."""

import html as htmllib

import pytest

from models import ProposalStatus, db
from services import proposals as lifecycle
from tests import factories as f
from tests.test_proposal_lifecycle import TEXT


@pytest.fixture
def world(app):
    f.budget_round()
    manager, group = f.manager_of()
    team = f.person(animation=True, name="Aïcha")
    return manager, group, team


def page(client, proposal_id: int) -> tuple[int, str]:
    response = client.get(f"/espace/propositions/{proposal_id}")
    return response.status_code, htmllib.unescape(response.get_data(as_text=True))


def test_the_group_sees_its_draft_with_edit_and_submit(client, auth, world):
    manager, group, _team = world
    proposal = lifecycle.create_draft(manager, group.id, TEXT)
    auth.login(manager)
    status, html = page(client, proposal.id)
    assert status == 200
    assert "Brouillon privé" in html
    assert "Soumettre à l'équipe d'animation" in html
    assert "Modifier le texte et le budget" in html
    assert "Étagères" in html and "Total" in html
    assert "Publier" not in html


def test_the_team_sees_publish_and_decline_on_a_submitted_proposal(client, auth, world):
    manager, group, team = world
    proposal = lifecycle.create_draft(manager, group.id, TEXT)
    lifecycle.submit_proposal(manager, proposal.id)
    auth.login(team)
    status, html = page(client, proposal.id)
    assert status == 200
    assert "Publier" in html and "Refuser cette idée" in html
    assert "Soumettre à l" not in html
    assert "Modifier le texte et le budget" in html


def test_the_group_no_longer_edits_once_submitted_but_may_withdraw(client, auth, world):
    manager, group, _team = world
    proposal = lifecycle.create_draft(manager, group.id, TEXT)
    lifecycle.submit_proposal(manager, proposal.id)
    auth.login(manager)
    _status, html = page(client, proposal.id)
    assert "Modifier le texte et le budget" not in html
    assert "Retirer la proposition" in html


def test_the_group_reads_the_reason_of_a_decline(client, auth, world):
    manager, group, team = world
    proposal = lifecycle.create_draft(manager, group.id, TEXT)
    lifecycle.submit_proposal(manager, proposal.id)
    lifecycle.decline_proposal(team, proposal.id, "Elle ressemble trop à « Cantine ».")
    auth.login(manager)
    _status, html = page(client, proposal.id)
    assert "n'a pas retenu cette idée" in html
    assert "Elle ressemble trop à « Cantine »." in html
    assert "Retirer la proposition" not in html


@pytest.mark.parametrize("who", ["anonymous", "member", "other_manager", "finance"])
def test_outsiders_do_not_see_a_workspace(client, auth, world, who):
    manager, group, _team = world
    draft = lifecycle.create_draft(manager, group.id, TEXT)
    published = f.proposal(status=ProposalStatus.published, origin_group=group)
    if who == "anonymous":
        assert client.get(f"/espace/propositions/{draft.id}").status_code == 302
        return
    if who == "member":
        person = f.person()
        f.member(person, group, "member")
    elif who == "other_manager":
        person, _other = f.manager_of()
    else:
        person = f.person(finance=True)
    auth.login(person)
    assert page(client, draft.id)[0] == 404
    assert page(client, published.id)[0] == 403
    assert page(client, 9999)[0] == 404


def test_the_group_page_lists_its_own_proposals_for_its_managers_only(client, auth, world):
    manager, group, team = world
    lifecycle.create_draft(manager, group.id, TEXT)
    auth.login(manager)
    html = client.get(f"/groupes/{group.id}").get_data(as_text=True)
    assert "Les propositions du groupe" in html and TEXT.title in html
    assert "Proposer une action" in html
    auth.logout()
    html = client.get(f"/groupes/{group.id}").get_data(as_text=True)
    assert TEXT.title not in html and "Les propositions du groupe" not in html
    auth.login(team)
    html = client.get(f"/groupes/{group.id}").get_data(as_text=True)
    assert TEXT.title in html and "Proposer une action" not in html


def test_an_uncertified_group_page_offers_no_new_proposal(client, auth, world):
    person, group = f.manager_of(f.group(certified=False))
    auth.login(person)
    html = client.get(f"/groupes/{group.id}").get_data(as_text=True)
    assert "Les propositions du groupe" in html and "Proposer une action" not in html
    db.session.rollback()


def test_the_public_page_shows_how_to_and_budget_lines_and_links_the_workspace(client, auth, world):
    manager, group, team = world
    proposal = lifecycle.create_draft(manager, group.id, TEXT)
    lifecycle.submit_proposal(manager, proposal.id)
    lifecycle.publish_proposal(team, proposal.id)
    slug = db.session.get(type(proposal), proposal.id).slug
    html = htmllib.unescape(client.get(f"/propositions/{slug}").get_data(as_text=True))
    assert "Comment faire" in html and "Contacter un grossiste" in html
    assert "Étagères" in html and "Total par groupe" in html
    assert "Espace de travail" not in html
    for person in (manager, team):
        auth.login(person)
        html = client.get(f"/propositions/{slug}").get_data(as_text=True)
        assert f'href="/espace/propositions/{proposal.id}"' in html
        auth.logout()
    other, _other_group = f.manager_of()
    auth.login(other)
    assert "Espace de travail" not in client.get(f"/propositions/{slug}").get_data(as_text=True)
