"""The private exchange on a proposal: who may write, unread marks on both sides, read pointer."""

import re

import pytest
from sqlalchemy import select

from models import MessageRead, Person, ProposalMessage, ProposalStatus, db
from services import exchange
from services.errors import Invalid, NotAllowed, NotFound
from tests import factories as f
from tests.dbstate import snapshot
from tests.test_concurrency import as_person, run_together
from tests.test_queries import counting_queries

S = ProposalStatus


def text_of(response) -> str:
    return response.get_data(as_text=True)


class Sides:
    """A proposal of a certified group, one of its managers, an animator."""

    def __init__(self, status=S.submitted):
        self.manager, self.group = f.manager_of(name="Les Voisins")
        self.animator = f.person(name="Alice Animation", animation=True)
        self.proposal = f.proposal(title="Cantine", status=status, origin_group=self.group)


@pytest.fixture
def sides(app):
    return Sides()


def messages() -> list[tuple]:
    db.session.rollback()
    return [
        (m.author_id, m.from_team, m.body)
        for m in db.session.scalars(select(ProposalMessage).order_by(ProposalMessage.id))
    ]


def pointer(person: Person, proposal_id: int) -> int | None:
    db.session.rollback()
    return db.session.scalar(
        select(MessageRead.last_read_id).where(
            MessageRead.person_id == person.id, MessageRead.proposal_id == proposal_id
        )
    )


# --- writing ---------------------------------------------------------------------------------


def test_each_message_says_which_side_wrote_it(sides):
    admin = f.person(admin=True)
    referent = f.person()
    f.member(referent, sides.group, "referent")
    for person, body in [
        (sides.manager, "Bonjour"),
        (sides.animator, "Bonjour à vous"),
        (admin, "Je complète"),
        (referent, "Merci"),
    ]:
        exchange.post_message(person, sides.proposal.id, body)
    assert messages() == [
        (sides.manager.id, False, "Bonjour"),
        (sides.animator.id, True, "Bonjour à vous"),
        (admin.id, True, "Je complète"),
        (referent.id, False, "Merci"),
    ]


@pytest.mark.parametrize("status", list(S))
def test_both_sides_may_write_in_any_status(app, status):
    sides = Sides(status)
    exchange.post_message(sides.manager, sides.proposal.id, "Du groupe")
    exchange.post_message(sides.animator, sides.proposal.id, "De l'équipe")
    assert len(messages()) == 2


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "Écrivez votre message"),
        ("   \n  ", "Écrivez votre message"),
        ("x" * 5001, "5 000 caractères"),
    ],
)
def test_an_empty_or_too_long_message_is_refused(sides, body, message):
    before = snapshot()
    with pytest.raises(Invalid, match=message):
        exchange.post_message(sides.manager, sides.proposal.id, body)
    assert snapshot() == before


def test_a_message_of_exactly_5000_characters_is_accepted(sides):
    exchange.post_message(sides.manager, sides.proposal.id, "x" * 5000)
    assert len(messages()[0][2]) == 5000


@pytest.mark.parametrize("status", [S.draft, S.submitted, S.in_review, S.declined])
def test_outsiders_do_not_learn_a_private_proposal_exists(app, status):
    sides = Sides(status)
    outsiders = [
        f.person(),
        f.manager_of()[0],  # manager of another group
        f.person(finance=True),
    ]
    member = f.person()
    f.member(member, sides.group, "member")  # a plain member does not act for the group
    before = snapshot()
    for person in [*outsiders, member]:
        # Even an empty message: access is checked before the text.
        for body in ("Bonjour", ""):
            with pytest.raises(NotFound):
                exchange.post_message(person, sides.proposal.id, body)
        with pytest.raises(NotFound):
            exchange.messages_for(person, sides.proposal.id)
    assert snapshot() == before


def test_outsiders_are_refused_on_a_published_proposal(app):
    sides = Sides(S.published)
    other = f.manager_of()[0]
    with pytest.raises(NotAllowed):
        exchange.post_message(other, sides.proposal.id, "Bonjour")
    with pytest.raises(NotAllowed):
        exchange.messages_for(other, sides.proposal.id)
    with pytest.raises(NotFound):
        exchange.post_message(sides.animator, 999, "Bonjour")


# --- unread marks and the read pointer -------------------------------------------------------


def test_messages_come_in_order_with_the_unread_flag_of_each_person(sides):
    p = sides.proposal.id
    first = exchange.post_message(sides.manager, p, "Première")
    exchange.post_message(sides.animator, p, "Deuxième")
    exchange.post_message(sides.manager, p, "Troisième")

    for_team = exchange.messages_for(sides.animator, p)
    assert [(m.body, m.unread, m.mine) for m in for_team] == [
        ("Première", True, False),
        ("Deuxième", False, True),  # one's own message is never unread
        ("Troisième", True, False),
    ]
    assert [m.author_name for m in for_team] == [
        sides.manager.display_name,
        "Alice Animation",
        sides.manager.display_name,
    ]

    exchange.mark_read(sides.animator, p, up_to=first)
    assert [m.unread for m in exchange.messages_for(sides.animator, p)] == [False, False, True]
    assert [m.unread for m in exchange.messages_for(sides.manager, p)] == [False, True, False]


def test_the_read_pointer_never_moves_backwards(sides):
    p = sides.proposal.id
    ids = [exchange.post_message(sides.manager, p, f"Message {i}") for i in range(3)]
    exchange.mark_read(sides.animator, p)
    assert pointer(sides.animator, p) == ids[2]
    exchange.mark_read(sides.animator, p, up_to=ids[0])
    assert pointer(sides.animator, p) == ids[2]


def test_the_read_pointer_stops_at_the_last_message_of_the_proposal(sides):
    other = f.proposal(status=S.submitted, origin_group=sides.group)
    mine = exchange.post_message(sides.manager, sides.proposal.id, "Ici")
    later = exchange.post_message(sides.manager, other.id, "Ailleurs")
    exchange.mark_read(sides.animator, sides.proposal.id, up_to=later)
    assert pointer(sides.animator, sides.proposal.id) == mine
    # Nothing to read: no pointer is written.
    exchange.mark_read(sides.manager, f.proposal(status=S.submitted, origin_group=sides.group).id)
    assert (
        db.session.scalar(select(MessageRead).where(MessageRead.person_id == sides.manager.id))
        is None
    )


def test_marking_read_is_refused_outside_the_workspace(sides):
    exchange.post_message(sides.manager, sides.proposal.id, "Bonjour")
    outsider = f.manager_of()[0]
    before = snapshot()
    with pytest.raises(NotFound):
        exchange.mark_read(outsider, sides.proposal.id)
    assert snapshot() == before


def test_two_tabs_marking_read_at_once_keep_the_larger_pointer(app):
    sides = Sides()
    p = sides.proposal.id
    ids = [exchange.post_message(sides.manager, p, f"Message {i}") for i in range(6)]
    animator_id = sides.animator.id
    db.session.commit()
    for round_ in range(3):
        targets = [ids[(i + round_) % 6] for i in range(6)]
        results = run_together(
            6,
            lambda i, targets=targets: as_person(
                app, animator_id, lambda who: exchange.mark_read(who, p, up_to=targets[i])
            ),
        )
        assert [r for r in results if isinstance(r, Exception)] == []
        assert pointer(sides.animator, p) == ids[-1]


def test_unread_counts_for_a_page_of_proposals_in_one_query(sides):
    other = f.proposal(status=S.in_review, origin_group=sides.group)
    quiet = f.proposal(status=S.in_review, origin_group=sides.group)
    colleague = f.person()
    f.member(colleague, sides.group, "referent")
    exchange.post_message(sides.manager, sides.proposal.id, "Un")
    exchange.post_message(sides.manager, sides.proposal.id, "Deux")
    exchange.post_message(colleague, other.id, "Trois")
    exchange.post_message(sides.animator, other.id, "Quatre")
    ids = [sides.proposal.id, other.id, quiet.id]
    db.session.refresh(sides.animator)

    with counting_queries() as statements:
        counts = exchange.unread_counts(sides.animator, ids)
    assert len(statements) == 1
    assert counts == {sides.proposal.id: 2, other.id: 1}
    # The group's side: a fellow manager's message is unread too, one's own never.
    assert exchange.unread_counts(sides.manager, ids) == {other.id: 2}
    exchange.mark_read(sides.manager, other.id)
    assert exchange.unread_counts(sides.manager, ids) == {}
    assert exchange.unread_counts(sides.manager, []) == {}


def test_a_deleted_authors_messages_stay_in_the_exchange(sides):
    leaving = f.person(animation=True)
    exchange.post_message(leaving, sides.proposal.id, "Au revoir")
    db.session.delete(db.session.get(Person, leaving.id))
    db.session.commit()
    [message] = exchange.messages_for(sides.manager, sides.proposal.id)
    assert (message.author_name, message.from_team, message.unread) == (
        "Compte supprimé",
        True,
        True,
    )
    assert exchange.unread_counts(sides.manager, [sides.proposal.id]) == {sides.proposal.id: 1}


# --- over HTTP -------------------------------------------------------------------------------


def url(sides) -> str:
    return f"/espace/propositions/{sides.proposal.id}/messages"


def test_without_javascript_a_message_is_sent_then_back_to_the_exchange(client, auth, sides):
    auth.login(sides.manager)
    response = client.post(url(sides), data={"message": "Pouvez-vous relire ?"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/espace/propositions/{sides.proposal.id}#echange"
    assert messages() == [(sides.manager.id, False, "Pouvez-vous relire ?")]


def test_with_htmx_the_exchange_comes_back_with_the_message_and_an_empty_form(
    client, auth, sides, hx
):
    auth.login(sides.animator)
    response = client.post(url(sides), data={"message": "Voici **nos** questions"}, headers=hx)
    assert response.status_code == 200
    html = text_of(response)
    assert '<section id="echange"' in html and "<html" not in html
    assert "Voici <strong>nos</strong> questions" in html
    assert "Équipe d&#39;animation" in html or "Équipe d'animation" in html
    assert re.search(r"<textarea[^>]*>\s*</textarea>", html)
    assert "Votre message est envoyé." in html
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize("body", ["", "x" * 5001])
def test_with_htmx_a_refused_message_comes_back_422_with_the_text_kept(
    client, auth, sides, hx, body
):
    auth.login(sides.manager)
    before = snapshot()
    response = client.post(url(sides), data={"message": body}, headers=hx)
    assert response.status_code == 422
    html = text_of(response)
    assert '<section id="echange"' in html and "<html" not in html
    assert 'aria-invalid="true"' in html and 'role="alert"' in html
    assert body in html
    assert snapshot() == before


def test_without_javascript_a_too_long_message_comes_back_on_a_page_with_the_text(
    client, auth, sides
):
    auth.login(sides.manager)
    body = "Un long message. " * 300
    response = client.post(url(sides), data={"message": body})
    assert response.status_code == 422
    html = text_of(response)
    assert "<html" in html and "5 000 caractères" in html
    assert body.strip() in html
    assert f'href="/espace/propositions/{sides.proposal.id}"' in html
    assert messages() == []


def test_a_message_is_rendered_as_safe_markdown(client, auth, sides, hx):
    auth.login(sides.manager)
    response = client.post(
        url(sides),
        data={"message": "<script>alert(1)</script> [lien](javascript:alert(1))"},
        headers=hx,
    )
    html = text_of(response)
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)" in html
    assert 'href="javascript:' not in html


def test_anonymous_is_sent_to_sign_in_and_nothing_is_written(client, sides):
    before = snapshot()
    response = client.post(url(sides), data={"message": "Bonjour"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/connexion")
    assert snapshot() == before


@pytest.mark.parametrize(("status", "code"), [(S.submitted, 404), (S.published, 403)])
def test_a_manager_of_another_group_is_refused(client, auth, status, code):
    sides = Sides(status)
    auth.login(f.manager_of()[0])
    before = snapshot()
    response = client.post(url(sides), data={"message": ""})
    assert response.status_code == code
    assert snapshot() == before


def test_unknown_proposal_is_404(client, auth, sides):
    auth.login(sides.animator)
    assert (
        client.post("/espace/propositions/999/messages", data={"message": "Hé"}).status_code == 404
    )


def test_csrf_token_is_required(csrf_app):
    sides = Sides()
    client = csrf_app.test_client()
    client.post("/connexion", data={"email": sides.manager.email, "password": f.PASSWORD})
    before = snapshot()
    response = client.post(url(sides), data={"message": "Bonjour"})
    assert response.status_code == 400
    assert snapshot() == before


# --- both sides see the exchange, new messages marked once -----------------------------------


def workspace(client, sides) -> str:
    response = client.get(f"/espace/propositions/{sides.proposal.id}")
    assert response.status_code == 200
    return text_of(response)


def test_the_group_sees_the_teams_reply_marked_new_once(client, auth, sides):
    exchange.post_message(sides.manager, sides.proposal.id, "Notre idée")
    exchange.post_message(sides.animator, sides.proposal.id, "Belle idée, précisez le budget")
    auth.login(sides.manager)

    html = workspace(client, sides)
    assert '<section id="echange"' in html
    assert "Belle idée, précisez le budget" in html and "Notre idée" in html
    assert html.index("Notre idée") < html.index("Belle idée")
    assert "1 nouveau message" in html
    assert html.count(">Nouveau<") == 1
    assert re.search(r'class="message from-team is-unread"', html)
    assert "Les Voisins" in html  # the group's side is named

    html = workspace(client, sides)
    assert "nouveau message" not in html and ">Nouveau<" not in html


def test_the_team_sees_the_groups_messages_marked_new(client, auth, sides):
    exchange.post_message(sides.manager, sides.proposal.id, "Une question")
    exchange.post_message(sides.manager, sides.proposal.id, "Et une autre")
    auth.login(sides.animator)
    html = workspace(client, sides)
    assert "Échange avec le groupe" in html
    assert "2 nouveaux messages" in html and html.count(">Nouveau<") == 2
    assert "nouveaux messages" not in workspace(client, sides)


def test_each_team_member_has_their_own_unread_marks(client, auth, sides):
    exchange.post_message(sides.manager, sides.proposal.id, "Une question")
    auth.login(sides.animator)
    workspace(client, sides)
    auth.logout()
    auth.login(f.person(animation=True))
    assert "1 nouveau message" in workspace(client, sides)


def test_a_message_sent_while_the_page_was_built_stays_unread(sides):
    """mark_read goes up to the last message shown, not to the last message."""
    shown = exchange.post_message(sides.manager, sides.proposal.id, "Vu")
    exchange.post_message(sides.manager, sides.proposal.id, "Arrivé entre-temps")
    exchange.mark_read(sides.animator, sides.proposal.id, up_to=shown)
    assert exchange.unread_counts(sides.animator, [sides.proposal.id]) == {sides.proposal.id: 1}
