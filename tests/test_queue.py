"""The animation team's queue: filters, counts, pagination, assignment and who may use it."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from models import AuditEntry, Category, Proposal, ProposalMessage, ProposalStatus, db, utcnow
from services import queue
from services.errors import Conflict, NotAllowed, NotFound
from tests import factories as f
from tests.dbstate import snapshot
from tests.test_queries import counting_queries

S = ProposalStatus


def text_of(response) -> str:
    return response.get_data(as_text=True)


def titles(html: str) -> list[str]:
    """The proposals' titles in the order of the queue's rows."""
    return re.findall(r'<a href="/espace/propositions/\d+">([^<]+)</a>', html)


def submitted(title: str, days_ago: int = 0, status=S.submitted, **kwargs) -> Proposal:
    p = f.proposal(title=title, status=status, **kwargs)
    p.submitted_at = utcnow() - timedelta(days=days_ago)
    db.session.commit()
    return p


@pytest.fixture
def animator(auth):
    person = f.person(name="Alice Animation", animation=True)
    auth.login(person)
    return person


def fresh(proposal_id: int) -> Proposal:
    db.session.rollback()
    return db.session.get(Proposal, proposal_id)


# --- what the queue lists --------------------------------------------------------------------


def test_queue_lists_submitted_and_in_review_oldest_submitted_first(client, animator):
    submitted("Récente", days_ago=1)
    submitted("Ancienne", days_ago=9, status=S.in_review)
    submitted("Moyenne", days_ago=5)
    for status in (S.published, S.declined, S.withdrawn, S.draft):
        submitted(f"Hors file {status.value}", status=status)
    html = text_of(client.get("/espace"))
    assert titles(html) == ["Ancienne", "Moyenne", "Récente"]
    assert "3 propositions" in html


@pytest.mark.parametrize(
    ("statut", "expected"),
    [
        ("soumises", ["Soumise"]),
        ("en-revue", ["En revue"]),
        ("publiees", ["Publiée"]),
        ("refusees", ["Refusée"]),
        ("retirees", ["Retirée"]),
        ("toutes", ["Soumise", "En revue", "Publiée", "Refusée", "Retirée"]),
        ("a-traiter", ["Soumise", "En revue"]),
        ("n'importe-quoi", ["Soumise", "En revue"]),
    ],
)
def test_status_filter_picks_one_status_or_all_but_drafts(client, animator, statut, expected):
    for i, (title, status) in enumerate(
        [
            ("Soumise", S.submitted),
            ("En revue", S.in_review),
            ("Publiée", S.published),
            ("Refusée", S.declined),
            ("Retirée", S.withdrawn),
            ("Brouillon", S.draft),
        ]
    ):
        submitted(title, days_ago=10 - i, status=status)
    assert titles(text_of(client.get(f"/espace?statut={statut}"))) == expected


def test_drafts_of_groups_never_appear_in_the_queue(client, animator):
    submitted("Brouillon privé", status=S.draft, origin_group=f.group())
    for statut in ("", "toutes", "a-traiter"):
        assert "Brouillon privé" not in text_of(client.get(f"/espace?statut={statut}"))


def test_category_filter(client, animator):
    submitted("Potager", category=Category.ecologie)
    submitted("Cantine", category=Category.alimentation)
    assert titles(text_of(client.get("/espace?categorie=ecologie"))) == ["Potager"]


def test_departement_filter_is_the_proposing_groups(client, animator):
    submitted("En Gironde", origin_group=f.group(departement="33"))
    submitted("En Corrèze", origin_group=f.group(departement="19"))
    submitted("Sans groupe")
    assert titles(text_of(client.get("/espace?departement=19"))) == ["En Corrèze"]
    # A malformed département is ignored, never an error.
    assert len(titles(text_of(client.get("/espace?departement=%3Cx%3E")))) == 3


def test_assignee_filter_me_nobody_or_a_colleague(client, animator):
    colleague = f.person(name="Bob Animation", animation=True)
    mine = submitted("La mienne", days_ago=3, status=S.in_review)
    theirs = submitted("La sienne", days_ago=2, status=S.in_review)
    submitted("Personne", days_ago=1)
    mine.assignee_id, theirs.assignee_id = animator.id, colleague.id
    db.session.commit()
    assert titles(text_of(client.get("/espace?animateur=moi"))) == ["La mienne"]
    assert titles(text_of(client.get("/espace?animateur=personne"))) == ["Personne"]
    assert titles(text_of(client.get(f"/espace?animateur={colleague.id}"))) == ["La sienne"]
    assert len(titles(text_of(client.get("/espace?animateur=quelqu-un")))) == 3
    # The assignee filter offers the team by name.
    html = text_of(client.get(f"/espace?animateur={colleague.id}"))
    assert re.search(rf'<option value="{colleague.id}"\s*selected>Bob Animation</option>', html)


def test_counts_per_status_follow_the_other_filters(app, animator):
    group_33, group_19 = f.group(departement="33"), f.group(departement="19")
    for status in (S.submitted, S.submitted, S.in_review, S.published, S.draft):
        submitted("Gironde", status=status, origin_group=group_33)
    submitted("Corrèze", status=S.declined, origin_group=group_19)
    page = queue.queue_page(animator, queue.QueueFilters(), 1, 50)
    assert page.counts == {
        S.submitted: 2,
        S.in_review: 1,
        S.published: 1,
        S.declined: 1,
        S.withdrawn: 0,
    }
    assert page.total == 3
    page = queue.queue_page(animator, queue.QueueFilters(departement="19"), 1, 50)
    assert page.counts[S.declined] == 1 and page.counts[S.submitted] == 0
    assert page.total == 0


def test_counts_are_shown_as_links_keeping_the_other_filters(client, animator):
    submitted("Une", category=Category.culture)
    html = text_of(client.get("/espace?categorie=culture"))
    assert re.search(r'href="/espace\?statut=soumises&amp;categorie=culture"\s*>\s*Soumise', html)
    assert re.search(r'Soumise <span class="badge badge-count">1</span>', html)


def test_queue_is_paginated(client, app, animator):
    app.config["QUEUE_PER_PAGE"] = 2
    for i in range(5):
        submitted(f"Action {i}", days_ago=10 - i)
    html = text_of(client.get("/espace"))
    assert titles(html) == ["Action 0", "Action 1"]
    assert "Page 1 sur 3" in html and 'href="/espace?page=2"' in html
    assert titles(text_of(client.get("/espace?page=3"))) == ["Action 4"]
    # Past the end: the last page, not an empty one.
    assert titles(text_of(client.get("/espace?page=99"))) == ["Action 4"]
    assert titles(text_of(client.get("/espace?page=-1"))) == ["Action 0", "Action 1"]


def test_rows_show_group_departement_category_status_date_and_assignee(client, animator):
    p = submitted(
        "Cantine", status=S.in_review, origin_group=f.group("Les Voisins", departement="2A")
    )
    p.assignee_id = animator.id
    db.session.commit()
    html = text_of(client.get("/espace"))
    row = html[html.index(f'id="queue-row-{p.id}"') :]
    row = row[: row.index("</tr>")]
    for expected in ("Cantine", "Les Voisins", "2A", "Solidarité", "En revue", "Moi", "Libérer"):
        assert expected in row
    assert f'href="/espace/propositions/{p.id}"' in row


def test_unread_badge_counts_the_current_persons_unread_messages(client, animator):
    p = submitted("Avec messages", origin_group=f.group())
    manager, _group = f.manager_of()
    db.session.add_all(
        [
            ProposalMessage(proposal_id=p.id, author_id=manager.id, body="Bonjour"),
            ProposalMessage(proposal_id=p.id, author_id=manager.id, body="Vous êtes là ?"),
            ProposalMessage(proposal_id=p.id, author_id=animator.id, from_team=True, body="Oui"),
        ]
    )
    db.session.commit()
    html = text_of(client.get("/espace"))
    assert "2 nouveaux messages" in html


def test_htmx_filtering_returns_only_the_results(client, animator, hx):
    submitted("Potager", category=Category.ecologie)
    response = client.get(
        "/espace?categorie=ecologie", headers={**hx, "HX-Target": "queue-results"}
    )
    html = text_of(response)
    assert '<div id="queue-results">' in html and "<html" not in html
    assert "Potager" in html
    assert "HX-Request" in response.headers["Vary"]
    # Without JavaScript, the same address gives the whole page with the filters filled in.
    page = text_of(client.get("/espace?categorie=ecologie"))
    assert "<html" in page and '<option value="ecologie" selected>' in page


# --- who may see it --------------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get("/espace")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/connexion?next=/espace")


@pytest.mark.parametrize("who", ["member", "manager", "finance", "manager_of_origin"])
def test_queue_is_refused_with_a_french_page_outside_the_team(client, auth, who):
    group = f.group()
    person = {
        "member": lambda: f.person(),
        "manager": lambda: f.manager_of()[0],
        "finance": lambda: f.person(finance=True),
        "manager_of_origin": lambda: f.manager_of(group)[0],
    }[who]()
    f.proposal(status=S.submitted, origin_group=group)
    auth.login(person)
    response = client.get("/espace")
    assert response.status_code == 403
    assert "réservé à l'équipe d'animation" in text_of(response).replace("&#39;", "'")


@pytest.mark.parametrize("role", ["animation", "admin"])
def test_team_and_admins_see_the_queue_and_its_link(client, auth, role):
    auth.login(f.person(**{role: True}))
    assert client.get("/espace").status_code == 200
    assert 'href="/espace">Espace d' in text_of(client.get("/"))


def test_navigation_has_no_queue_link_outside_the_team(client, auth):
    auth.login(f.manager_of()[0])
    assert 'href="/espace"' not in text_of(client.get("/"))


# --- assignment ------------------------------------------------------------------------------


def audit(proposal_id: int) -> list[tuple]:
    db.session.rollback()
    return [
        (e.action, e.actor_id, e.old_value, e.new_value)
        for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.proposal_id == proposal_id).order_by(AuditEntry.id)
        )
    ]


def test_taking_a_submitted_proposal_in_charge_puts_it_in_review_and_is_audited(client, animator):
    p = submitted("À prendre", origin_group=f.group())
    response = client.post(f"/espace/propositions/{p.id}/attribution", data={"next": "/espace"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/espace"
    p = fresh(p.id)
    assert (p.assignee_id, p.status) == (animator.id, S.in_review)
    assert audit(p.id) == [
        ("proposal.assign", animator.id, "", str(animator.id)),
        ("proposal.review", animator.id, "submitted", "in_review"),
    ]
    assert "Vous suivez maintenant « À prendre »." in text_of(client.get("/espace"))


@pytest.mark.parametrize("status", [S.in_review, S.published])
def test_assignment_keeps_a_proposal_in_review_or_published_as_it_is(client, animator, status):
    p = submitted("Suivie", status=status)
    assert client.post(f"/espace/propositions/{p.id}/attribution").status_code == 303
    p = fresh(p.id)
    assert (p.assignee_id, p.status) == (animator.id, status)
    assert [entry[0] for entry in audit(p.id)] == ["proposal.assign"]


@pytest.mark.parametrize("status", [S.draft, S.declined, S.withdrawn])
@pytest.mark.parametrize("action", ["attribution", "liberation"])
def test_assignment_and_release_are_refused_on_drafts_and_closed_proposals(
    client, animator, status, action
):
    p = submitted("Hors circuit", status=status)
    p.assignee_id = animator.id if action == "liberation" else None
    db.session.commit()
    before = snapshot()
    response = client.post(f"/espace/propositions/{p.id}/{action}")
    assert response.status_code == 403
    message = "brouillon" if status == S.draft else "close"
    assert message in text_of(response)
    assert snapshot() == before


def test_a_proposal_followed_by_a_colleague_is_not_taken_from_them(client, animator):
    colleague = f.person(name="Bob Animation", animation=True)
    p = submitted("Déjà suivie", status=S.in_review)
    p.assignee_id = colleague.id
    db.session.commit()
    before = snapshot()
    response = client.post(f"/espace/propositions/{p.id}/attribution")
    assert response.status_code == 409
    assert "déjà suivie par Bob Animation" in text_of(response)
    assert snapshot() == before


def test_taking_twice_the_same_proposal_is_a_conflict(app):
    person = f.person(animation=True)
    p = submitted("Deux clics")
    queue.assign_to_self(person, p.id)
    with pytest.raises(Conflict):
        queue.assign_to_self(person, p.id)


def test_any_team_member_may_release_a_colleagues_proposal(client, animator):
    colleague = f.person(animation=True)
    p = submitted("À libérer", status=S.in_review)
    p.assignee_id = colleague.id
    db.session.commit()
    response = client.post(f"/espace/propositions/{p.id}/liberation")
    assert response.status_code == 303
    p = fresh(p.id)
    assert (p.assignee_id, p.status) == (None, S.in_review)
    assert audit(p.id) == [("proposal.release", animator.id, str(colleague.id), "")]


def test_releasing_a_proposal_nobody_follows_is_a_conflict(client, animator):
    p = submitted("Libre")
    before = snapshot()
    response = client.post(f"/espace/propositions/{p.id}/liberation")
    assert response.status_code == 409
    assert snapshot() == before


@pytest.mark.parametrize("action", ["attribution", "liberation"])
def test_unknown_proposal_is_404_and_writes_nothing(client, animator, action):
    before = snapshot()
    assert client.post(f"/espace/propositions/999/{action}").status_code == 404
    assert snapshot() == before


def test_services_refuse_people_outside_the_team(app):
    manager, group = f.manager_of()
    p = submitted("Du groupe", origin_group=group)
    with pytest.raises(NotAllowed):
        queue.assign_to_self(manager, p.id)
    with pytest.raises(NotAllowed):
        queue.release(manager, p.id)
    with pytest.raises(NotFound):
        queue.assign_to_self(f.person(admin=True), 999)


@pytest.mark.parametrize(
    ("next_field", "location"),
    [
        ("/espace?statut=toutes&page=2", "/espace?statut=toutes&page=2"),
        ("https://ailleurs.example/piege", "/espace"),
        ("//ailleurs.example/piege", "/espace"),
        ("/\\ailleurs.example", "/espace"),
        ("", "/espace"),
    ],
)
def test_after_assignment_back_to_next_only_if_it_is_a_local_path(
    client, animator, next_field, location
):
    p = submitted("Retour")
    response = client.post(f"/espace/propositions/{p.id}/attribution", data={"next": next_field})
    assert response.status_code == 303
    assert response.headers["Location"] == location


def test_with_htmx_assignment_rerenders_the_results_of_the_filters_in_next(client, animator, hx):
    p = submitted("Potager", category=Category.ecologie)
    submitted("Cantine", category=Category.alimentation)
    response = client.post(
        f"/espace/propositions/{p.id}/attribution",
        data={"next": "/espace?categorie=ecologie"},
        headers=hx,
    )
    assert response.status_code == 200
    html = text_of(response)
    assert '<div id="queue-results">' in html and "<html" not in html
    assert titles(html) == ["Potager"]
    assert "Vous suivez maintenant « Potager »." in html and "Libérer" in html
    # The row buttons keep sending back to the same filtered queue.
    assert 'name="next" value="/espace?categorie=ecologie"' in html


def test_with_htmx_an_assignment_from_another_page_loads_that_page(client, animator, hx):
    p = submitted("Ailleurs")
    response = client.post(
        f"/espace/propositions/{p.id}/attribution",
        data={"next": f"/espace/propositions/{p.id}"},
        headers=hx,
    )
    assert response.headers["HX-Redirect"] == f"/espace/propositions/{p.id}"


def test_with_htmx_a_refused_assignment_shows_its_message(client, animator, hx):
    p = submitted("Close", status=S.declined)
    response = client.post(f"/espace/propositions/{p.id}/attribution", headers=hx)
    assert response.status_code == 403
    assert response.headers["HX-Retarget"] == "#messages"
    assert "close" in text_of(response)


def test_csrf_token_is_required_to_assign(csrf_app):
    client = csrf_app.test_client()
    person = f.person(animation=True)
    p = submitted("Protégée")
    client.post("/connexion", data={"email": person.email, "password": f.PASSWORD})
    before = snapshot()
    response = client.post(f"/espace/propositions/{p.id}/attribution")
    assert response.status_code == 400
    assert snapshot() == before


# --- scale -----------------------------------------------------------------------------------


def add_queue(n: int, start: int, assignee_id: int, author_id: int) -> None:
    group = f.group(departement="33")
    round_id = db.session.scalar(select(Proposal.round_id).limit(1)) or f.budget_round().id
    proposals = [
        Proposal(
            round_id=round_id,
            title=f"Idée {start + i}",
            slug=f"idee-{start + i}",
            summary="Résumé",
            body="Texte",
            category=Category.culture,
            per_group_budget_cents=10_000,
            status=S.submitted if i % 2 else S.in_review,
            origin_group_id=group.id,
            assignee_id=assignee_id if i % 3 == 0 else None,
            submitted_at=utcnow() - timedelta(minutes=start + i),
        )
        for i in range(n)
    ]
    db.session.add_all(proposals)
    db.session.flush()
    db.session.add_all(
        ProposalMessage(proposal_id=p.id, author_id=author_id, body="Bonjour") for p in proposals
    )
    db.session.commit()


def test_queue_page_issues_the_same_number_of_queries_with_10_or_100_proposals(client, app, auth):
    animator = f.person(animation=True)
    manager, _group = f.manager_of()
    f.budget_round()
    auth.login(animator)
    pages = [
        "/espace",
        "/espace?statut=toutes&categorie=culture&departement=33&animateur=moi",
        "/espace?animateur=personne&page=2",
    ]

    def measure() -> list[int]:
        counts = []
        for url in pages:
            client.get(url)
            with counting_queries() as statements:
                assert client.get(url).status_code == 200
            counts.append(len(statements))
        return counts

    add_queue(10, 0, animator.id, manager.id)
    small = measure()
    add_queue(90, 10, animator.id, manager.id)
    big = measure()
    assert small == big
    assert max(small) <= 7, small
