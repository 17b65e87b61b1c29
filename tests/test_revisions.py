"""Every save of a proposal is a revision (who, when, which fields, old and new values); the
history shows the differences and restores an earlier version as a new one; two editors at
once: the second save is refused and keeps its text."""

from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from models import Person, Proposal, ProposalRevision, ProposalStatus, db
from services import proposals as lifecycle
from services.errors import Invalid, NotAllowed
from tests import factories as f
from tests.dbstate import snapshot
from tests.test_concurrency import as_person, run_together
from tests.test_proposal_lifecycle import TEXT, form_data


def reload(proposal_id: int) -> Proposal:
    db.session.rollback()  # a new snapshot: see what other threads committed
    return db.session.get(Proposal, proposal_id)


def revisions(proposal_id: int) -> list[ProposalRevision]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(ProposalRevision)
            .where(ProposalRevision.proposal_id == proposal_id)
            .order_by(ProposalRevision.number)
        )
    )


def edited(**changes) -> lifecycle.ProposalText:
    return lifecycle.ProposalText(**{**TEXT.__dict__, **changes})


@pytest.fixture
def submitted(app):
    """A submitted proposal written through the services, with its first revision."""
    f.budget_round()
    person, group = f.manager_of()
    proposal = lifecycle.create_draft(person, group.id, TEXT)
    lifecycle.submit_proposal(person, proposal.id)
    return reload(proposal.id)


@pytest.fixture
def animators(app):
    return f.person(animation=True, name="Alice"), f.person(animation=True, name="Bilal")


def test_every_save_is_a_revision_with_who_which_fields_old_and_new(submitted, animators):
    alice, _bilal = animators
    lifecycle.save_proposal(alice, submitted.id, 1, edited(title="Ouvrir une épicerie partagée"))
    first, second = revisions(submitted.id)
    assert (first.number, first.kind) == (1, "creation")
    assert (second.number, second.kind, second.author_id) == (2, "edit", alice.id)
    assert second.changes == {
        "title": ["Ouvrir une épicerie solidaire", "Ouvrir une épicerie partagée"]
    }
    assert second.snapshot["title"] == "Ouvrir une épicerie partagée"
    assert second.created_at is not None
    assert reload(submitted.id).version == 2


def test_budget_lines_changes_are_part_of_the_revision(submitted, animators):
    lines = (("Étagères", 10_000), ("Premier stock", 40_000), ("Balance", 10_000))
    lifecycle.save_proposal(animators[0], submitted.id, 1, edited(budget_lines=lines))
    change = revisions(submitted.id)[-1].changes["budget_lines"]
    assert change[1] == [list(line) for line in lines]


def test_a_save_that_changes_nothing_records_no_revision(submitted, animators):
    assert lifecycle.save_proposal(animators[0], submitted.id, 1, TEXT) is None
    assert len(revisions(submitted.id)) == 1 and reload(submitted.id).version == 1


def test_the_team_edits_after_publication_and_it_is_still_a_revision(submitted, animators):
    lifecycle.publish_proposal(animators[0], submitted.id)
    lifecycle.save_proposal(animators[1], submitted.id, 1, edited(summary="Nouveau résumé."))
    assert revisions(submitted.id)[-1].author_id == animators[1].id
    assert reload(submitted.id).summary == "Nouveau résumé."


def test_a_submitted_proposal_cannot_be_saved_with_lines_not_adding_up(submitted, animators):
    before = snapshot()
    with pytest.raises(Invalid, match="totalisent"):
        lifecycle.save_proposal(
            animators[0], submitted.id, 1, edited(budget_lines=(("Étagères", 100),))
        )
    assert snapshot() == before


def test_the_group_edits_its_draft_but_not_once_submitted(app):
    f.budget_round()
    person, group = f.manager_of()
    proposal = lifecycle.create_draft(person, group.id, TEXT)
    lifecycle.save_proposal(person, proposal.id, 1, edited(title="Une autre idée"))
    lifecycle.submit_proposal(person, proposal.id)
    with pytest.raises(NotAllowed, match="échange"):
        lifecycle.save_proposal(person, proposal.id, 2, edited(title="Encore une autre"))


def test_nobody_edits_a_declined_or_withdrawn_proposal(app, animators):
    for status in (ProposalStatus.declined, ProposalStatus.withdrawn):
        proposal = f.proposal(status=status, budget_lines=True)
        with pytest.raises(NotAllowed, match="close"):
            lifecycle.save_proposal(animators[0], proposal.id, 1, TEXT)


def test_restoring_brings_back_an_earlier_version_as_a_new_revision(submitted, animators):
    alice, bilal = animators
    lifecycle.save_proposal(alice, submitted.id, 1, edited(title="Titre deux", body="Corps deux"))
    lifecycle.save_proposal(bilal, submitted.id, 2, edited(title="Titre trois", body="Corps deux"))
    lifecycle.restore_revision(alice, submitted.id, 1, base_version=3)
    proposal = reload(submitted.id)
    assert (proposal.title, proposal.body, proposal.version) == (TEXT.title, TEXT.body, 4)
    last = revisions(submitted.id)[-1]
    assert (last.kind, last.restored_from, last.author_id) == ("restore", 1, alice.id)
    assert set(last.changes) == {"title", "body"}
    assert len(revisions(submitted.id)) == 4  # nothing was erased


def test_restoring_the_current_text_is_refused(submitted, animators):
    with pytest.raises(Invalid):
        lifecycle.restore_revision(animators[0], submitted.id, 1, base_version=1)


def test_a_save_from_an_older_version_is_refused_and_names_who_saved(submitted, animators):
    alice, bilal = animators
    lifecycle.save_proposal(alice, submitted.id, 1, edited(title="Version d'Alice"))
    before = snapshot()
    with pytest.raises(lifecycle.EditConflict) as caught:
        lifecycle.save_proposal(bilal, submitted.id, 1, edited(title="Version de Bilal"))
    assert "Alice" in caught.value.message
    assert caught.value.current.title == "Version d'Alice" and caught.value.version == 2
    assert snapshot() == before


def test_two_animators_saving_at_once_one_wins_the_other_is_refused(submitted, animators, app):
    ids = [a.id for a in animators]

    def save(i):
        return as_person(
            app,
            ids[i],
            lambda person: lifecycle.save_proposal(
                person, submitted.id, 1, edited(title=f"Version {i}")
            ),
        )

    results = run_together(2, save)
    conflicts = [r for r in results if isinstance(r, lifecycle.EditConflict)]
    saved = [r for r in results if isinstance(r, ProposalRevision)]
    assert len(conflicts) == 1 and len(saved) == 1, results
    proposal = reload(submitted.id)
    assert proposal.version == 2 and len(revisions(submitted.id)) == 2
    assert proposal.title == revisions(submitted.id)[-1].snapshot["title"]


# Through the pages -----------------------------------------------------------------------


def test_the_second_editor_gets_409_with_their_text_kept_and_the_difference(
    client, auth, submitted, animators
):
    alice, bilal = animators
    lifecycle.save_proposal(alice, submitted.id, 1, edited(body="Le texte d'Alice."))
    auth.login(bilal)
    response = client.post(
        f"/espace/propositions/{submitted.id}/modifier",
        data=form_data(edited(body="Le texte de Bilal, long et précieux."), version="1"),
    )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Alice a enregistré une autre version" in page
    assert "Le texte de Bilal, long et précieux." in page  # still in the textarea
    assert "<del>" in page and "<ins>" in page
    assert 'name="version" type="hidden" value="2"' in page
    assert reload(submitted.id).body == "Le texte d'Alice."
    # Saving again, knowingly, replaces Alice's version; hers stays in the history.
    response = client.post(
        f"/espace/propositions/{submitted.id}/modifier",
        data=form_data(edited(body="Le texte de Bilal, long et précieux."), version="2"),
    )
    assert response.status_code == 303
    assert reload(submitted.id).body == "Le texte de Bilal, long et précieux."


def test_the_history_page_shows_differences_and_restores(client, auth, submitted, animators):
    alice, _bilal = animators
    lifecycle.save_proposal(alice, submitted.id, 1, edited(summary="Un résumé repris."))
    auth.login(alice)
    page = client.get(f"/espace/propositions/{submitted.id}/historique").get_data(as_text=True)
    assert "Version 2" in page and "Modification par Alice" in page
    assert "<ins>repris.</ins>" in page
    response = client.post(
        f"/espace/propositions/{submitted.id}/historique/1/restauration", data={"version": "2"}
    )
    assert response.status_code == 303
    assert reload(submitted.id).summary == TEXT.summary


def test_a_restore_from_a_stale_history_page_is_a_conflict(client, auth, submitted, animators):
    alice, bilal = animators
    lifecycle.save_proposal(alice, submitted.id, 1, edited(summary="Deux."))
    lifecycle.save_proposal(bilal, submitted.id, 2, edited(summary="Trois."))
    auth.login(alice)
    before = snapshot()
    response = client.post(
        f"/espace/propositions/{submitted.id}/historique/1/restauration", data={"version": "2"}
    )
    assert response.status_code == 409
    assert snapshot() == before


def test_the_history_is_private_to_the_workspace(client, auth, submitted):
    outsider, _group = f.manager_of()
    auth.login(outsider)
    assert client.get(f"/espace/propositions/{submitted.id}/historique").status_code == 404


def test_edit_page_is_refused_to_the_group_once_submitted(client, auth, submitted):
    manager = db.session.get(Person, submitted.author_id)
    auth.login(manager)
    assert client.get(f"/espace/propositions/{submitted.id}/modifier").status_code == 403


# Markdown safety -------------------------------------------------------------------------

HOSTILE = (
    "<script>alert('x')</script>\n\n"
    "[cliquez](javascript:alert(1))\n\n"
    '<img src=x onerror="alert(1)">\n\n'
    "![image](javascript:alert(2))\n\n"
    '<a href="#" onclick="alert(3)">lien</a>'
)


class _Elements(HTMLParser):
    """Every element and attribute of a page, as a browser would see them."""

    def __init__(self):
        super().__init__()
        self.elements: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, {name: value or "" for name, value in attrs}))


def _assert_harmless(page: str) -> None:
    parser = _Elements()
    parser.feed(page)
    for tag, attrs in parser.elements:
        assert tag != "script" or attrs.get("src", "").startswith("/static/"), (tag, attrs)
        assert not [name for name in attrs if name.startswith("on")], (tag, attrs)
        for name in ("href", "src", "action", "formaction"):
            assert not attrs.get(name, "").strip().lower().startswith("javascript:"), attrs
    # The hostile text is still there, as text the reader can see.
    assert "&lt;script&gt;" in page


def test_markdown_never_lets_scripts_or_handlers_through_the_preview(client, auth, submitted):
    auth.login(db.session.get(Person, submitted.author_id))
    response = client.post("/espace/apercu", data=form_data(edited(body=HOSTILE, how_to=HOSTILE)))
    assert response.status_code == 200
    _assert_harmless(response.get_data(as_text=True))


def test_markdown_never_lets_scripts_or_handlers_through_the_public_page(
    client, submitted, animators
):
    lifecycle.save_proposal(animators[0], submitted.id, 1, edited(body=HOSTILE, how_to=HOSTILE))
    lifecycle.publish_proposal(animators[0], submitted.id)
    page = client.get(f"/propositions/{reload(submitted.id).slug}").get_data(as_text=True)
    _assert_harmless(page)


def test_the_live_preview_renders_markdown_and_the_budget_total(client, auth, submitted, hx):
    auth.login(db.session.get(Person, submitted.author_id))
    response = client.post(
        "/espace/apercu",
        data=form_data(edited(body="**important**"), **{"lines-1-amount": "300"}),
        headers=hx,
    )
    page = response.get_data(as_text=True)
    assert "<strong>important</strong>" in page
    assert 'id="budget-total" aria-live="polite" hx-swap-oob="true"' in page
    assert "Total des lignes : 500\u00a0€" in page and "Il manque 100\u00a0€" in page


def test_the_live_preview_needs_a_signed_in_person(client):
    response = client.post("/espace/apercu", data=form_data())
    assert response.status_code == 302


def test_the_edit_page_opens_with_the_saved_text_its_preview_and_budget_total(
    client, auth, submitted, animators
):
    auth.login(animators[0])
    page = client.get(f"/espace/propositions/{submitted.id}/modifier").get_data(as_text=True)
    assert 'name="version" type="hidden" value="1"' in page
    assert "<h2>Pourquoi</h2>" in page  # the description's preview
    assert "Total des lignes : 600\u00a0€." in page
    assert "Il correspond au budget par groupe." in page
