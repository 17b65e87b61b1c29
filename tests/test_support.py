"""Support requests (demandes d'appui): a member asks, the network team assigns, answers and
closes, the member replies or closes; who sees a request and its files; the team's queue; the
authorization matrix of every action."""

import html
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask import current_app
from sqlalchemy import func, select

from models import (
    AuditEntry,
    NetworkStatus,
    SupportFile,
    SupportKind,
    SupportMessage,
    SupportRequest,
    SupportStatus,
    SupportUrgency,
    db,
)
from services import support
from tests.conftest import AuthActions
from tests.dbstate import snapshot
from tests.network_world import (
    DENIED,
    DONE,
    LOGIN,
    NETWORK_ROLES,
    NetRoute,
    build_network_world,
    network_person,
    run_route,
)
from tests.test_images import HTML
from tests.test_spending import PDF

S = SupportStatus


def text_of(response) -> str:
    page = html.unescape(response.get_data(as_text=True))
    return page.replace("\xa0", " ").replace("\u202f", " ")


def client_for(app, person):
    """A client of its own, signed in as this person."""
    client = app.test_client()
    AuthActions(client).login(person)
    return client


def ask(person, files=(), **changes) -> int:
    """A request made through the service, as `person`."""
    fields = {
        "kind": SupportKind.juridique,
        "urgency": SupportUrgency.normale,
        "subject": "Quorum contesté au conseil",
        "details": "Le maire dit que le quorum **n'était pas atteint**.",
    }
    fields.update(changes)
    return support.create_request(person, support.NewRequest(**fields), list(files))


def current(request_id) -> SupportRequest:
    db.session.rollback()
    return db.session.get(SupportRequest, request_id)


def messages_of(request_id) -> list[SupportMessage]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(SupportMessage)
            .where(SupportMessage.request_id == request_id)
            .order_by(SupportMessage.id)
        )
    )


def files_of(request_id) -> list[SupportFile]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(SupportFile).where(SupportFile.request_id == request_id).order_by(SupportFile.id)
        )
    )


def audit_actions() -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def stored_files() -> list[Path]:
    folder = Path(current_app.config["UPLOADS_PATH"])
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def form(**changes) -> dict:
    values = {
        "kind": "juridique",
        "urgency": "urgente",
        "subject": "Délibération sur la régie de l'eau",
        "details": "Le préfet conteste la délibération du 3 mars.\n\n- point 1\n- point 2",
    }
    values.update(changes)
    return values


def with_files(data: dict, *files) -> dict:
    data = dict(data)
    data["files"] = [(io.BytesIO(content), name) for name, content in files]
    return data


@pytest.fixture
def world(app):
    return build_network_world()


@pytest.fixture
def member(world):
    return world.people["member"]


@pytest.fixture
def team(world):
    return world.people["network"]


# Asking --------------------------------------------------------------------------------------


def test_a_member_asks_for_support_with_a_file_and_follows_it(app, member):
    client = client_for(app, member)
    page = text_of(client.get("/reseau/appui/nouvelle"))
    assert "très urgente" in page.lower()
    assert "une séance dans les jours qui viennent" in page

    response = client.post(
        "/reseau/appui/nouvelle", data=with_files(form(), ("mise en demeure.pdf", PDF))
    )

    assert response.status_code == 303
    request_id = int(re.fullmatch(r"/reseau/appui/(\d+)", response.headers["Location"])[1])
    row = current(request_id)
    assert (row.requester_id, row.status, row.assignee_id) == (member.id, S.open, None)
    assert (row.kind, row.urgency) == (SupportKind.juridique, SupportUrgency.urgente)
    [stored] = files_of(request_id)
    assert (stored.display_name, stored.message_id) == ("mise en demeure.pdf", None)
    assert len(stored_files()) == 1
    page = client.get(f"/reseau/appui/{request_id}").get_data(as_text=True)
    assert "<li>point 1</li>" in page  # the details are Markdown
    assert f"/reseau/appui/{request_id}/fichiers/{stored.id}" in page
    assert "Nouvelle" in text_of(client.get("/reseau/appui/"))
    assert audit_actions() == ["support.create"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"subject": ""}, "Donnez un objet à votre demande."),
        ({"subject": "x" * 201}, "200 caractères au plus."),
        ({"details": "  "}, "Décrivez votre situation"),
        ({"kind": "fiscal"}, "Type d'appui"),
        ({"urgency": ""}, "Choisissez l'urgence de votre demande."),
    ],
)
def test_an_incomplete_request_is_refused_in_french_and_writes_nothing(
    app, member, changes, message
):
    client = client_for(app, member)
    before = snapshot()
    response = client.post("/reseau/appui/nouvelle", data=form(**changes))
    assert response.status_code == 422
    assert message in text_of(response)
    assert snapshot() == before


def test_the_details_markdown_is_made_safe(app, member, team):
    request_id = ask(member, details="<script>alert(1)</script> [x](javascript:alert(1))")
    page = client_for(app, team).get(f"/reseau/appui/{request_id}").get_data(as_text=True)
    assert "<script>alert(1)" not in page
    assert 'href="javascript' not in page


def test_the_network_team_does_not_ask_for_support_as_a_requester(app, team, world):
    for person in (team, world.people["admin"]):
        client = client_for(app, person)
        assert client.get("/reseau/appui/nouvelle").status_code == 403
        before = snapshot()
        assert client.post("/reseau/appui/nouvelle", data=form()).status_code == 403
        assert snapshot() == before


# Files ---------------------------------------------------------------------------------------


def test_a_refused_file_refuses_the_whole_request_and_says_why(app, member):
    client = client_for(app, member)
    before = snapshot()
    response = client.post(
        "/reseau/appui/nouvelle",
        data=with_files(form(), ("bon.pdf", PDF), ("page.pdf", HTML)),
    )
    assert response.status_code == 422
    page = text_of(response)
    assert "« page.pdf » est refusé" in page
    assert "Rien n'a été enregistré." in page
    assert "choisissez-les de nouveau" in page
    assert snapshot() == before
    assert stored_files() == []


def test_a_file_above_the_size_limit_is_413_and_writes_nothing(app, member):
    app.config["NETWORK_FILE_MAX_BYTES"] = 1024
    big = b"%PDF-1.4\n" + b"0" * 4096 + b"\n%%EOF\n"
    client = client_for(app, member)
    before = snapshot()
    response = client.post("/reseau/appui/nouvelle", data=with_files(form(), ("gros.pdf", big)))
    assert response.status_code == 413
    assert "« gros.pdf » pèse" in text_of(response)
    assert snapshot() == before
    assert stored_files() == []


def test_a_request_above_the_upload_limit_is_a_413_french_page(app, member, team):
    request_id = ask(member)
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    client = client_for(app, team)
    before = snapshot()
    response = client.post(
        f"/reseau/appui/{request_id}/reponse",
        data=with_files({"body": "Voici"}, ("gros.pdf", b"0" * 100_000)),
    )
    assert response.status_code == 413
    assert "L'envoi est trop volumineux" in text_of(response)
    assert snapshot() == before


def test_more_files_than_allowed_are_refused(app, member):
    app.config["NETWORK_FILE_MAX_FILES"] = 2
    client = client_for(app, member)
    before = snapshot()
    files = [(f"piece-{i}.pdf", PDF) for i in range(3)]
    response = client.post("/reseau/appui/nouvelle", data=with_files(form(), *files))
    assert response.status_code == 422
    assert "2 fichiers au plus" in text_of(response)
    assert snapshot() == before
    assert stored_files() == []


def test_files_written_are_removed_when_the_transaction_fails(app, member, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(support, "_audit", broken)
    before = snapshot()
    with pytest.raises(RuntimeError):
        ask(member, files=[("piece.pdf", PDF)])
    assert snapshot() == before
    assert stored_files() == []


def test_a_file_is_downloaded_as_an_attachment_by_who_sees_the_request(app, member, team, world):
    request_id = ask(member, files=[("note d'été.pdf", PDF)])
    [row] = files_of(request_id)
    url = f"/reseau/appui/{request_id}/fichiers/{row.id}"
    for person in (member, team, world.people["admin"]):
        response = client_for(app, person).get(url)
        assert response.status_code == 200
        assert response.data == PDF
        assert response.headers["Content-Type"] == "application/pdf"
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert (
            "filename*=UTF-8''note%20d%27%C3%A9t%C3%A9.pdf"
            in (response.headers["Content-Disposition"])
        )
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "private, no-store"
    assert client_for(app, world.other_member).get(url).status_code == 404
    assert client_for(app, world.people["outsider"]).get(url).status_code == 403
    assert app.test_client().get(url).status_code == 302


def test_a_file_of_another_request_is_404_under_this_one(app, member, team):
    mine = ask(member)
    other = ask(member, files=[("autre.pdf", PDF)])
    [row] = files_of(other)
    client = client_for(app, team)
    assert client.get(f"/reseau/appui/{mine}/fichiers/{row.id}").status_code == 404
    assert client.get(f"/reseau/appui/{other}/fichiers/{row.id}").status_code == 200
    assert client.get(f"/reseau/appui/{other}/fichiers/999999").status_code == 404


def test_a_missing_file_on_disk_is_404_not_an_error(app, member):
    request_id = ask(member, files=[("piece.pdf", PDF)])
    [row] = files_of(request_id)
    for path in stored_files():
        path.unlink()
    response = client_for(app, member).get(f"/reseau/appui/{request_id}/fichiers/{row.id}")
    assert response.status_code == 404


# Team actions --------------------------------------------------------------------------------


def test_the_team_takes_a_request_in_charge(app, member, team):
    request_id = ask(member)
    client = client_for(app, team)
    response = client.post(
        f"/reseau/appui/{request_id}/prise-en-charge", data={"assignee": str(team.id)}
    )
    assert response.status_code == 303
    row = current(request_id)
    assert (row.status, row.assignee_id) == (S.assigned, team.id)
    assert audit_actions()[-1] == "support.assign"
    db.session.rollback()
    entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (entry.actor_id, entry.person_id) == (team.id, member.id)
    listed = text_of(client_for(app, member).get("/reseau/appui/"))
    assert f"Prise en charge par {team.display_name}" in listed


def test_the_team_gives_a_request_to_another_team_member_and_may_reassign(app, member, team, world):
    admin = world.people["admin"]
    colleague = network_person("collegue@example.org", network=True)
    request_id = ask(member)
    client = client_for(app, team)
    url = f"/reseau/appui/{request_id}/prise-en-charge"
    assert client.post(url, data={"assignee": str(colleague.id)}).status_code == 303
    assert current(request_id).assignee_id == colleague.id
    assert client.post(url, data={"assignee": str(admin.id)}).status_code == 303
    assert (current(request_id).status, current(request_id).assignee_id) == (S.assigned, admin.id)
    page = text_of(client_for(app, member).get(f"/reseau/appui/{request_id}"))
    assert f"Suivie par {admin.display_name}" in page
    assert "Confiée à Collegue" in page and f"Confiée à {admin.display_name}" in page


@pytest.mark.parametrize("who", ["member", "other_member", "nobody", "garbage"])
def test_a_request_is_given_only_to_someone_of_the_team(app, world, member, team, who):
    request_id = ask(member)
    assignee = {
        "member": str(member.id),
        "other_member": str(world.other_member.id),
        "nobody": "",
        "garbage": "12abc",
    }[who]
    before = snapshot()
    response = client_for(app, team).post(
        f"/reseau/appui/{request_id}/prise-en-charge", data={"assignee": assignee}
    )
    assert response.status_code == 422
    assert "Choisissez une personne de l'équipe d'animation du réseau." in text_of(response)
    assert snapshot() == before


def test_giving_a_request_to_who_already_has_it_is_refused(app, member, team):
    request_id = ask(member)
    support.assign_request(team, request_id, team.id)
    before = snapshot()
    response = client_for(app, team).post(
        f"/reseau/appui/{request_id}/prise-en-charge", data={"assignee": str(team.id)}
    )
    assert response.status_code == 409
    assert "déjà prise en charge par" in text_of(response)
    assert snapshot() == before


def test_an_answered_request_given_to_someone_goes_back_to_assigned(app, member, team, world):
    request_id = ask(member)
    support.answer_request(team, request_id, "Première piste.")
    assert current(request_id).status == S.answered
    support.assign_request(team, request_id, world.people["admin"].id)
    assert current(request_id).status == S.assigned


def test_the_team_answers_with_a_file_and_takes_the_request_nobody_had(app, member, team):
    request_id = ask(member)
    client = client_for(app, team)
    response = client.post(
        f"/reseau/appui/{request_id}/reponse",
        data=with_files({"body": "Voici la **jurisprudence**."}, ("arret.pdf", PDF)),
    )
    assert response.status_code == 303
    row = current(request_id)
    assert (row.status, row.assignee_id) == (S.answered, team.id)
    [message] = messages_of(request_id)
    assert (message.from_team, message.author_id) == (True, team.id)
    [stored] = files_of(request_id)
    assert stored.message_id == message.id
    assert audit_actions()[-1] == "support.answer"
    page = client_for(app, member).get(f"/reseau/appui/{request_id}").get_data(as_text=True)
    assert "<strong>jurisprudence</strong>" in page
    assert f"/reseau/appui/{request_id}/fichiers/{stored.id}" in page
    assert "Réponse reçue" in text_of(client_for(app, member).get("/reseau/appui/"))


def test_an_answer_keeps_the_assignee_the_request_had(app, member, team, world):
    admin = world.people["admin"]
    request_id = ask(member)
    support.assign_request(team, request_id, admin.id)
    support.answer_request(team, request_id, "Je réponds pour ma collègue.")
    assert (current(request_id).status, current(request_id).assignee_id) == (S.answered, admin.id)


def test_an_empty_answer_is_refused_and_keeps_nothing(app, member, team):
    request_id = ask(member)
    before = snapshot()
    response = client_for(app, team).post(f"/reseau/appui/{request_id}/reponse", data={"body": " "})
    assert response.status_code == 422
    assert "Écrivez votre message avant de l'envoyer." in text_of(response)
    assert snapshot() == before


def test_an_answer_with_a_refused_file_writes_nothing_and_keeps_the_text(app, member, team):
    request_id = ask(member)
    before = snapshot()
    response = client_for(app, team).post(
        f"/reseau/appui/{request_id}/reponse",
        data=with_files({"body": "Mon texte soigné"}, ("page.pdf", HTML)),
    )
    assert response.status_code == 422
    page = text_of(response)
    assert "« page.pdf » est refusé" in page
    assert "Mon texte soigné</textarea>" in page
    assert snapshot() == before
    assert stored_files() == []


def test_the_team_closes_with_a_closing_message(app, member, team):
    request_id = ask(member)
    response = client_for(app, team).post(
        f"/reseau/appui/{request_id}/cloture", data={"body": "Sans nouvelles, nous clôturons."}
    )
    assert response.status_code == 303
    row = current(request_id)
    assert (row.status, row.closed_by_id) == (S.closed, team.id)
    assert row.closed_at is not None
    [message] = messages_of(request_id)
    assert message.from_team is True
    assert audit_actions()[-1] == "support.close"
    assert "Close" in text_of(client_for(app, member).get("/reseau/appui/"))


def test_the_team_closes_without_a_message(app, member, team):
    request_id = ask(member)
    assert client_for(app, team).post(f"/reseau/appui/{request_id}/cloture").status_code == 303
    assert current(request_id).status == S.closed
    assert messages_of(request_id) == []


@pytest.mark.parametrize(("assigned", "status"), [(True, S.assigned), (False, S.open)])
def test_the_team_reopens_a_closed_request(app, member, team, assigned, status):
    request_id = ask(member)
    if assigned:
        support.assign_request(team, request_id, team.id)
    support.close_request(team, request_id)
    response = client_for(app, team).post(f"/reseau/appui/{request_id}/reouverture")
    assert response.status_code == 303
    row = current(request_id)
    assert (row.status, row.closed_at, row.closed_by_id) == (status, None, None)
    assert audit_actions()[-1] == "support.reopen"


def test_reopening_a_request_that_is_not_closed_is_refused(app, member, team):
    request_id = ask(member)
    before = snapshot()
    response = client_for(app, team).post(f"/reseau/appui/{request_id}/reouverture")
    assert response.status_code == 409
    assert "n'est pas close" in text_of(response)
    assert snapshot() == before


# Requester actions ---------------------------------------------------------------------------


@pytest.mark.parametrize(("assigned", "status"), [(True, S.assigned), (False, S.open)])
def test_the_members_reply_sends_the_request_back_to_the_team(app, member, team, assigned, status):
    request_id = ask(member)
    support.answer_request(team, request_id, "Une question : quelle date ?")
    if not assigned:
        db.session.rollback()
        row = db.session.get(SupportRequest, request_id)
        row.assignee_id = None  # the assignee's account was deleted
        db.session.commit()
    response = client_for(app, member).post(
        f"/reseau/appui/{request_id}/message",
        data=with_files({"body": "Le 3 mars."}, ("convocation.pdf", PDF)),
    )
    assert response.status_code == 303
    assert current(request_id).status == status
    answer, reply = messages_of(request_id)
    assert (reply.from_team, reply.author_id) == (False, member.id)
    [stored] = files_of(request_id)
    assert stored.message_id == reply.id
    assert audit_actions()[-1] == "support.reply"


def test_the_member_closes_their_request_when_solved(app, member, team):
    request_id = ask(member)
    support.answer_request(team, request_id, "Voici.")
    client = client_for(app, member)
    assert "Mon problème est résolu" in text_of(client.get(f"/reseau/appui/{request_id}"))
    response = client.post(f"/reseau/appui/{request_id}/cloture", data={"body": "Merci !"})
    assert response.status_code == 303
    row = current(request_id)
    assert (row.status, row.closed_by_id) == (S.closed, member.id)
    assert messages_of(request_id)[-1].from_team is False


def test_the_team_does_not_reply_as_the_member(app, member, team):
    request_id = ask(member)
    before = snapshot()
    response = client_for(app, team).post(
        f"/reseau/appui/{request_id}/message", data={"body": "Je parle pour le membre."}
    )
    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize(
    ("who", "path", "data"),
    [
        ("member", "message", {"body": "Encore une chose."}),
        ("member", "cloture", {}),
        ("network", "reponse", {"body": "Un ajout."}),
        ("network", "prise-en-charge", {"assignee": "{network}"}),
        ("network", "cloture", {}),
    ],
)
def test_nothing_happens_to_a_closed_request_but_reopening(app, world, member, who, path, data):
    request_id = ask(member)
    support.close_request(member, request_id)
    person = world.people[who]
    data = {key: value.format(network=world.people["network"].id) for key, value in data.items()}
    before = snapshot()
    response = client_for(app, person).post(f"/reseau/appui/{request_id}/{path}", data=data)
    assert response.status_code == 409
    assert "close" in text_of(response)
    assert snapshot() == before


def test_the_page_offers_only_what_each_may_do(app, member, team):
    request_id = ask(member)
    url = f"/reseau/appui/{request_id}"
    mine = client_for(app, member).get(url).get_data(as_text=True)
    assert f"{url}/message" in mine and f"{url}/cloture" in mine
    assert f"{url}/reponse" not in mine and f"{url}/prise-en-charge" not in mine
    theirs = client_for(app, team).get(url).get_data(as_text=True)
    assert f"{url}/reponse" in theirs and f"{url}/prise-en-charge" in theirs
    assert f"{url}/message" not in theirs and f"{url}/reouverture" not in theirs
    support.close_request(team, request_id)
    closed = client_for(app, team).get(url).get_data(as_text=True)
    assert f"{url}/reouverture" in closed and f"{url}/reponse" not in closed
    closed_for_member = client_for(app, member).get(url).get_data(as_text=True)
    assert f"{url}/message" not in closed_for_member and f"{url}/cloture" not in closed_for_member


def test_the_page_shows_the_exchange_in_order_and_the_history(app, member, team):
    request_id = ask(member)
    support.assign_request(team, request_id, team.id)
    support.answer_request(team, request_id, "Premier message de l'équipe.")
    support.reply_to_request(member, request_id, "Réponse du membre.")
    support.close_request(member, request_id, "Merci, c'est réglé.")
    page = text_of(client_for(app, member).get(f"/reseau/appui/{request_id}"))
    first = page.index("Premier message de l'équipe.")
    assert first < page.index("Réponse du membre.") < page.index("Merci, c'est réglé.")
    history = page[page.index("Historique") :]
    steps = ["Demande envoyée", "Confiée à", "Réponse de l'équipe", "Message du membre"]
    positions = [history.index(step) for step in steps + ["Demande close"]]
    assert positions == sorted(positions)
    assert "désormais « Réponse reçue »" in history
    assert "Close le" in page


# Visibility ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 302),
        ("outsider", 403),
        ("applicant", 403),
        ("member", 200),
        ("network", 200),
        ("admin", 200),
    ],
)
def test_a_request_is_seen_by_its_requester_and_the_team_only(app, world, member, role, status):
    request_id = ask(member)
    client = app.test_client()
    if role != "anonymous":
        AuthActions(client).login(world.people[role])
    response = client.get(f"/reseau/appui/{request_id}")
    assert response.status_code == status
    if status == 302:
        assert response.headers["Location"].startswith("/connexion")
    if status == 200:
        assert response.headers["Cache-Control"] == "private, no-store"


def test_another_members_request_is_404_like_an_unknown_id(app, world, member):
    request_id = ask(member)
    other = client_for(app, world.other_member)
    for path in ("", "/fichiers/1"):
        assert other.get(f"/reseau/appui/{request_id}{path}").status_code == 404
        assert other.get(f"/reseau/appui/999999{path}").status_code == 404


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("message", {"body": "Je m'immisce."}),
        ("cloture", {}),
        ("reponse", {"body": "Je m'immisce."}),
        ("prise-en-charge", {"assignee": "1"}),
        ("reouverture", {}),
    ],
)
def test_another_member_acting_on_a_request_gets_404_and_writes_nothing(
    app, world, member, path, data
):
    request_id = ask(member)
    before = snapshot()
    response = client_for(app, world.other_member).post(
        f"/reseau/appui/{request_id}/{path}", data=data
    )
    assert response.status_code == 404
    assert snapshot() == before


def test_an_excluded_requester_no_longer_sees_their_request(app, world, member):
    request_id = ask(member)
    db.session.rollback()
    from models import NetworkMember

    row = db.session.scalar(select(NetworkMember).where(NetworkMember.person_id == member.id))
    row.status = NetworkStatus.excluded
    db.session.commit()
    assert client_for(app, member).get(f"/reseau/appui/{request_id}").status_code == 403


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/reseau/appui/", (302, 403, 403, 200, 200, 200)),
        ("/reseau/appui/nouvelle", (302, 403, 403, 200, 403, 403)),
    ],
)
def test_the_pages_of_support_per_role(app, world, path, expected):
    for role, status in zip(NETWORK_ROLES, expected, strict=True):
        client = app.test_client()
        if role != "anonymous":
            AuthActions(client).login(world.people[role])
        response = client.get(path)
        assert response.status_code == status, (role, path)


# Lists ---------------------------------------------------------------------------------------


def _age(request_id: int, days: int) -> None:
    """Make the request `days` old (created and last active then)."""
    db.session.rollback()
    row = db.session.get(SupportRequest, request_id)
    row.created_at = row.created_at - timedelta(days=days)
    row.updated_at = row.created_at
    db.session.commit()


def test_a_member_lists_their_own_requests_latest_activity_first(app, world, member, team):
    old = ask(member, subject="Ancienne demande")
    recent = ask(member, subject="Demande récente")
    ask(world.other_member, subject="Demande d'un autre membre")
    _age(old, 5)
    _age(recent, 2)
    page = text_of(client_for(app, member).get("/reseau/appui/"))
    assert "Demande d'un autre membre" not in page
    assert page.index("Demande récente") < page.index("Ancienne demande")
    support.answer_request(team, old, "Réponse.")  # new activity on the old one
    page = text_of(client_for(app, member).get("/reseau/appui/"))
    assert page.index("Ancienne demande") < page.index("Demande récente")
    assert "Réponse reçue" in page
    assert f"suivie par {team.display_name}" in page


@pytest.fixture
def queue_world(world, member, team):
    """Requests of every kind, urgency and status; their ids by name."""
    other = world.other_member
    admin = world.people["admin"]
    ids = {
        "old_normal": ask(member, subject="Ancienne normale"),
        "new_very_urgent": ask(
            other, subject="Récente très urgente", urgency=SupportUrgency.tres_urgente
        ),
        "old_very_urgent": ask(
            member,
            subject="Ancienne très urgente",
            urgency=SupportUrgency.tres_urgente,
            kind=SupportKind.technique,
        ),
        "urgent_mine": ask(other, subject="Urgente à moi", urgency=SupportUrgency.urgente),
        "answered_admin": ask(member, subject="Répondue par l'admin", kind=SupportKind.technique),
        "closed": ask(other, subject="Close depuis"),
    }
    ages = {
        "old_normal": 12,
        "old_very_urgent": 10,
        "urgent_mine": 6,
        "answered_admin": 4,
        "closed": 2,
        "new_very_urgent": 1,
    }
    for name, days in ages.items():
        _age(ids[name], days)
    support.assign_request(team, ids["urgent_mine"], team.id)
    support.answer_request(admin, ids["answered_admin"], "Réponse.")
    support.close_request(team, ids["closed"])
    return ids


def _listed(response) -> list[int]:
    return [int(i) for i in re.findall(r'id="support-row-(\d+)"', response.get_data(as_text=True))]


def _counts(response) -> dict[str, int]:
    """The count shown for each status in the queue's counts."""
    found = re.findall(
        r'id="support-count-([a-z-]+)">.*?badge-count">(\d+)<',
        response.get_data(as_text=True),
        re.S,
    )
    return {value: int(count) for value, count in found}


def test_the_queue_lists_the_most_urgent_first_then_the_oldest(app, team, queue_world):
    ids = queue_world
    response = client_for(app, team).get("/reseau/appui/")
    assert _listed(response) == [
        ids["old_very_urgent"],
        ids["new_very_urgent"],
        ids["urgent_mine"],
        ids["old_normal"],
        ids["answered_admin"],
    ]
    assert _counts(response) == {
        "nouvelles": 3,
        "prises-en-charge": 1,
        "repondues": 1,
        "closes": 1,
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("statut=closes", ["closed"]),
        ("statut=nouvelles", ["old_very_urgent", "new_very_urgent", "old_normal"]),
        ("statut=repondues", ["answered_admin"]),
        ("type=technique", ["old_very_urgent", "answered_admin"]),
        ("urgence=tres_urgente", ["old_very_urgent", "new_very_urgent"]),
        ("suivi=moi", ["urgent_mine"]),
        ("suivi=personne", ["old_very_urgent", "new_very_urgent", "old_normal"]),
        ("suivi=personne&type=technique", ["old_very_urgent"]),
        ("statut=toutes&urgence=normale&type=juridique", ["old_normal", "closed"]),
        ("statut=nimporte&type=fiscal&suivi=lui", None),  # unknown values are ignored
    ],
)
def test_the_queue_filters_combine(app, team, queue_world, query, expected):
    response = client_for(app, team).get(f"/reseau/appui/?{query}")
    assert response.status_code == 200
    if expected is None:
        expected = [
            "old_very_urgent",
            "new_very_urgent",
            "urgent_mine",
            "old_normal",
            "answered_admin",
        ]
    assert _listed(response) == [queue_world[name] for name in expected]


def test_the_queue_counts_follow_the_other_filters(app, team, queue_world):
    response = client_for(app, team).get("/reseau/appui/?type=technique&statut=closes")
    assert _counts(response) == {
        "nouvelles": 1,
        "prises-en-charge": 0,
        "repondues": 1,
        "closes": 0,
    }


def test_the_queue_is_paginated(app, team, queue_world, monkeypatch):
    from views import support as views

    monkeypatch.setattr(views, "PER_PAGE", 2)
    client = client_for(app, team)
    first = client.get("/reseau/appui/")
    second = client.get("/reseau/appui/?page=2")
    third = client.get("/reseau/appui/?page=3")
    assert len(_listed(first)) == 2 and len(_listed(second)) == 2 and len(_listed(third)) == 1
    assert "Page 1 sur 3" in text_of(first)
    assert set(_listed(first)).isdisjoint(_listed(second))


def test_the_queue_issues_a_constant_number_of_queries(app, team, world):
    from tests.test_queries import counting_queries

    client = client_for(app, team)
    ask(world.people["member"])
    with counting_queries() as few:
        client.get("/reseau/appui/")
    for _ in range(8):
        ask(world.other_member)
    with counting_queries() as many:
        client.get("/reseau/appui/")
    assert len(many) == len(few)


# The authorization matrix --------------------------------------------------------------------


def _request_of_member(world) -> None:
    world.ids["support_request"] = ask(world.people["member"])


def _closed_request_of_member(world) -> None:
    _request_of_member(world)
    support.close_request(world.people["member"], world.ids["support_request"])


def _status_is(status):
    def effect(world, role, client):
        row = current(world.ids["support_request"])
        assert row.status == status, (role, row.status)

    return effect


def _asked(world, role, client):
    db.session.rollback()
    count = db.session.scalar(
        select(func.count())
        .select_from(SupportRequest)
        .where(SupportRequest.requester_id == world.people[role].id)
    )
    assert count == 1


def _assigned(world, role, client):
    row = current(world.ids["support_request"])
    assert (row.status, row.assignee_id) == (S.assigned, world.people["network"].id)


def _body(text):
    return lambda world, role: {"body": text}


ROUTES: dict[str, NetRoute] = {
    "support.new": NetRoute(
        "/reseau/appui/nouvelle",
        lambda world, role: form(),
        _asked,
    ),
    "support.answer": NetRoute(
        "/reseau/appui/{support_request}/reponse",
        _body("Voici notre réponse."),
        _status_is(S.answered),
        _request_of_member,
    ),
    "support.reply": NetRoute(
        "/reseau/appui/{support_request}/message",
        _body("Une précision."),
        _status_is(S.open),
        _request_of_member,
    ),
    "support.assign": NetRoute(
        "/reseau/appui/{support_request}/prise-en-charge",
        lambda world, role: {"assignee": str(world.people["network"].id)},
        _assigned,
        _request_of_member,
    ),
    "support.close": NetRoute(
        "/reseau/appui/{support_request}/cloture",
        _body("Clos."),
        _status_is(S.closed),
        _request_of_member,
    ),
    "support.reopen": NetRoute(
        "/reseau/appui/{support_request}/reouverture",
        lambda world, role: {},
        _status_is(S.open),
        _closed_request_of_member,
    ),
}

# anonymous, outsider, applicant, member (the requester), network, admin
EXPECTED: dict[str, tuple] = {
    "support.new": (LOGIN, DENIED, DENIED, DONE, DENIED, DENIED),
    "support.answer": (LOGIN, DENIED, DENIED, DENIED, DONE, DONE),
    "support.reply": (LOGIN, DENIED, DENIED, DONE, DENIED, DENIED),
    "support.assign": (LOGIN, DENIED, DENIED, DENIED, DONE, DONE),
    "support.close": (LOGIN, DENIED, DENIED, DONE, DONE, DONE),
    "support.reopen": (LOGIN, DENIED, DENIED, DENIED, DONE, DONE),
}


@pytest.mark.parametrize(
    ("endpoint", "index"),
    [(endpoint, index) for endpoint in EXPECTED for index in range(len(NETWORK_ROLES))],
)
def test_authorization_matrix(app, client, auth, endpoint, index):
    role = NETWORK_ROLES[index]
    run_route(client, auth, ROUTES[endpoint], EXPECTED[endpoint][index], role)


def test_a_pending_applicant_is_told_why_the_space_is_closed(app, world):
    response = client_for(app, world.people["applicant"]).get("/reseau/appui/")
    assert response.status_code == 403
    assert "attend la réponse de l'équipe" in text_of(response)
