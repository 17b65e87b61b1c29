"""The e-mail notices of support requests, read from a real SMTP server (aiosmtpd,
tests/smtp.py): a new request reaches each person of the network team, the team's answer the
requester, the requester's message the assignee (or the team); once each, to no one else,
never to who acted; the link to the request and never its content; nothing without
MAIL_SERVER; an SMTP server down or failing never fails the action."""

import logging
import re

import pytest
from sqlalchemy import func, select

from models import NetworkMember, NetworkStatus, Person, SupportRequest, db
from services import mailer
from services import support as service
from tests.network_world import build_network_world, join, network_person
from tests.smtp import free_port, smtp_server, use_smtp
from tests.test_spending import PDF
from tests.test_support import ask, client_for, current, form, messages_of, with_files

BASE = "/reseau/appui"
PUBLIC = "https://commun.example"
SUBJECT = "Délibération sur la régie de l'eau"  # tests.test_support.form()'s
ASKED = "Quorum contesté au conseil"  # tests.test_support.ask()'s
DETAILS = "Le préfet conteste la délibération du 3 mars."  # form()'s details


@pytest.fixture
def mailbox(app):
    with smtp_server() as server:
        use_smtp(app, server.port)
        yield server


class Team:
    """The world of the network, with a team of three and an admin outside it: the staff
    role `network` (two people, one of them also an admin) gets the team's e-mails; an admin
    without it does not."""

    def __init__(self):
        self.world = build_network_world()
        self.lead = self.world.people["network"]
        self.jurist = network_person("juriste-reseau@example.org", network=True)
        self.admin_lead = network_person("admin-animation@example.org", network=True, admin=True)
        self.member = self.world.people["member"]

    def team_emails(self, *leaving_out: Person) -> list[str]:
        everyone = [self.lead, self.jurist, self.admin_lead]
        return sorted(p.email for p in everyone if p not in leaving_out)


@pytest.fixture
def team(app):
    return Team()


def text(message) -> str:
    return message.get_content().replace("\r\n", "\n")


def link(request_id: int) -> str:
    return f"{PUBLIC}{BASE}/{request_id}"


def created_id(response) -> int:
    return int(re.fullmatch(rf"{BASE}/(\d+)", response.headers["Location"])[1])


def mail_failures(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING]


# A new request -------------------------------------------------------------------------------


def test_a_new_request_reaches_each_person_of_the_team_once_and_no_one_else(app, mailbox, team):
    response = client_for(app, team.member).post(
        f"{BASE}/nouvelle", data=with_files(form(), ("mise en demeure.pdf", PDF))
    )

    assert response.status_code == 303
    assert sorted(mailbox.recipients()) == team.team_emails()
    assert len(mailbox.received) == 3  # one e-mail each, not one for all
    request_id = created_id(response)
    for message in mailbox.messages():
        assert message["Subject"] == f"[Réseau des élu·es] Demande d'appui (Urgente) : {SUBJECT}"
        assert message["From"] == "Réseau des élu·es <reseau@commun.example>"
        assert message["Auto-Submitted"] == "auto-generated"
        assert not message.is_multipart()  # no file attached
        body = text(message)
        assert "Type d'appui : Juridique" in body
        assert "Urgence : Urgente\n" in body
        assert "Demandée par : Membre-Reseau" in body
        assert f"Lisez la demande sur le site : {link(request_id)}\n" in body
        assert DETAILS not in body and "mise en demeure" not in body
    lead = [m for m in mailbox.messages() if team.lead.email in m["To"]]
    assert len(lead) == 1 and "Bonjour Animation-Reseau," in text(lead[0])


def test_the_subject_names_the_urgency(app, mailbox, team):
    ask(team.member, urgency="tres_urgente", kind="technique")

    subjects = {message["Subject"] for message in mailbox.messages()}
    assert subjects == {f"[Réseau des élu·es] Demande d'appui (Très urgente) : {ASKED}"}
    assert "Type d'appui : Technique" in text(mailbox.messages()[0])


def test_a_team_person_asking_as_a_member_is_not_told_of_their_own_request(app, mailbox, team):
    join(team.jurist)

    ask(team.jurist)

    assert sorted(mailbox.recipients()) == team.team_emails(team.jurist)


def test_the_request_is_committed_when_its_email_leaves(app, mailbox, team, monkeypatch):
    seen = []
    send_batch = mailer.send_batch

    def checking_send_batch(messages):
        # Another connection sees only what was committed.
        with db.engine.connect() as connection:
            seen.append(connection.scalar(select(func.count()).select_from(SupportRequest)))
        return send_batch(messages)

    monkeypatch.setattr(mailer, "send_batch", checking_send_batch)

    ask(team.member)

    assert seen == [1]
    assert len(mailbox.received) == 3


# The team answers ----------------------------------------------------------------------------


def test_the_teams_answer_reaches_the_requester_alone_without_its_text(app, mailbox, team):
    request_id = ask(team.member)
    mailbox.clear()

    response = client_for(app, team.jurist).post(
        f"{BASE}/{request_id}/reponse",
        data=with_files({"body": "Le délai de recours est de deux mois."}, ("note.pdf", PDF)),
    )

    assert response.status_code == 303
    assert mailbox.recipients() == [team.member.email]
    [message] = mailbox.messages()
    assert message["Subject"] == f"[Réseau des élu·es] Réponse à votre demande d'appui : {ASKED}"
    assert message["To"] == "Membre-Reseau <membre-reseau@example.org>"
    assert not message.is_multipart()
    body = text(message)
    assert f"a répondu à votre demande d'appui « {ASKED} »" in body
    assert f"Lisez la réponse sur le site : {link(request_id)}\n" in body
    assert "deux mois" not in body and "note.pdf" not in body


def test_the_team_closing_with_a_message_tells_the_requester(app, mailbox, team):
    request_id = ask(team.member)
    mailbox.clear()

    response = client_for(app, team.lead).post(
        f"{BASE}/{request_id}/cloture", data={"body": "Sans nouvelles, nous clôturons."}
    )

    assert response.status_code == 303
    [message] = mailbox.messages()
    assert mailbox.recipients() == [team.member.email]
    assert message["Subject"] == f"[Réseau des élu·es] Réponse à votre demande d'appui : {ASKED}"
    body = text(message)
    assert "a clos votre demande d'appui" in body and link(request_id) in body
    assert "Sans nouvelles" not in body


def test_closing_without_a_message_taking_it_oneself_and_reopening_send_nothing(app, mailbox, team):
    request_id = ask(team.member)
    other_id = ask(team.member, subject="Droit à la formation des élu·es")
    mailbox.clear()
    lead = client_for(app, team.lead)

    assigned = lead.post(f"{BASE}/{request_id}/prise-en-charge", data={"assignee": team.lead.id})
    assert assigned.status_code == 303
    assert lead.post(f"{BASE}/{request_id}/cloture").status_code == 303
    assert lead.post(f"{BASE}/{request_id}/reouverture").status_code == 303
    member = client_for(app, team.member)
    assert member.post(f"{BASE}/{other_id}/cloture").status_code == 303

    assert current(request_id).status.value == "assigned"
    assert mailbox.received == []


def test_a_request_given_to_a_colleague_tells_that_colleague_alone(app, mailbox, team):
    request_id = ask(team.member, subject="Délibération sur la régie de l'eau")
    mailbox.clear()
    lead = client_for(app, team.lead)

    given = lead.post(f"{BASE}/{request_id}/prise-en-charge", data={"assignee": team.jurist.id})

    assert given.status_code == 303
    [message] = mailbox.messages()
    assert team.jurist.email in message["To"]
    assert message["Subject"] == (
        "[Réseau des élu·es] Demande d'appui qui vous est confiée : "
        "Délibération sur la régie de l'eau"
    )
    body = text(message)
    assert f"{team.lead.display_name} vous a confié la demande d'appui" in body
    assert team.member.display_name in body and link(request_id) in body
    assert "cette demande vous est confiée" in body
    assert current(request_id).details not in body  # the details stay on the site

    # Given back to the same person: refused, nothing sent; to the lead by the jurist: the lead.
    again = lead.post(f"{BASE}/{request_id}/prise-en-charge", data={"assignee": team.jurist.id})
    assert again.status_code == 409 and len(mailbox.received) == 1
    jurist = client_for(app, team.jurist)
    jurist.post(f"{BASE}/{request_id}/prise-en-charge", data={"assignee": team.lead.id})
    assert [m["To"] for m in mailbox.messages()][1:] == [
        f"{team.lead.display_name} <{team.lead.email}>"
    ]


def test_an_excluded_requester_is_not_mailed_a_link_they_cannot_open(app, mailbox, team):
    request_id = ask(team.member)
    mailbox.clear()
    db.session.rollback()
    row = db.session.scalar(select(NetworkMember).where(NetworkMember.person_id == team.member.id))
    row.status = NetworkStatus.excluded
    db.session.commit()

    service.answer_request(team.lead, request_id, "Pour mémoire.")

    assert mailbox.received == []


# The requester writes ------------------------------------------------------------------------


def test_the_requesters_reply_reaches_the_assignee_alone(app, mailbox, team):
    request_id = ask(team.member)
    service.assign_request(team.lead, request_id, team.jurist.id)
    service.answer_request(team.jurist, request_id, "Quelle est la date du conseil ?")
    mailbox.clear()

    response = client_for(app, team.member).post(
        f"{BASE}/{request_id}/message", data={"body": "Le conseil a lieu le 3 mars."}
    )

    assert response.status_code == 303
    assert mailbox.recipients() == [team.jurist.email]
    [message] = mailbox.messages()
    assert message["Subject"] == (
        f"[Réseau des élu·es] Nouveau message sur la demande d'appui : {ASKED}"
    )
    body = text(message)
    assert f"Membre-Reseau a écrit sur sa demande d'appui « {ASKED} »" in body
    assert f"Lisez la demande sur le site : {link(request_id)}\n" in body
    assert "cette demande vous est confiée" in body
    assert "3 mars" not in body


def test_the_requesters_reply_reaches_the_whole_team_when_nobody_has_the_request(
    app, mailbox, team
):
    request_id = ask(team.member)  # nobody has it yet
    mailbox.clear()

    service.reply_to_request(team.member, request_id, "Voici la réponse.")

    assert sorted(mailbox.recipients()) == team.team_emails()
    assert "n'est confiée à personne" in text(mailbox.messages()[0])


def test_an_assignee_no_longer_on_the_team_hands_the_notice_to_the_team(app, mailbox, team):
    request_id = ask(team.member)
    service.assign_request(team.lead, request_id, team.jurist.id)
    db.session.rollback()
    db.session.get(Person, team.jurist.id).is_network = False
    db.session.commit()
    mailbox.clear()

    service.reply_to_request(team.member, request_id, "Des nouvelles ?")

    assert sorted(mailbox.recipients()) == sorted([team.lead.email, team.admin_lead.email])


def test_the_requester_closing_with_a_message_tells_the_assignee(app, mailbox, team):
    request_id = ask(team.member)
    service.answer_request(team.admin_lead, request_id, "Voici la jurisprudence.")
    mailbox.clear()

    response = client_for(app, team.member).post(
        f"{BASE}/{request_id}/cloture", data={"body": "Merci, c'est réglé."}
    )

    assert response.status_code == 303
    assert mailbox.recipients() == [team.admin_lead.email]
    [message] = mailbox.messages()
    assert message["Subject"] == f"[Réseau des élu·es] Demande d'appui close : {ASKED}"
    body = text(message)
    assert "a clos sa demande d'appui" in body and link(request_id) in body
    assert "réglé" not in body


def test_a_whole_exchange_mails_each_step_once(app, mailbox, team):
    member = client_for(app, team.member)
    jurist = client_for(app, team.jurist)

    request_id = created_id(member.post(f"{BASE}/nouvelle", data=form()))
    jurist.post(f"{BASE}/{request_id}/reponse", data={"body": "Une question."})
    member.post(f"{BASE}/{request_id}/message", data={"body": "Une réponse."})
    jurist.post(f"{BASE}/{request_id}/reponse", data={"body": "La solution."})

    assert sorted(mailbox.recipients()) == sorted(
        [*team.team_emails(), team.member.email, team.jurist.email, team.member.email]
    )
    assert len(messages_of(request_id)) == 3


# No mail server, or a failing one ------------------------------------------------------------


def test_nothing_is_sent_or_logged_without_a_mail_server(app, mailbox, team, caplog):
    app.config["MAIL_SERVER"] = ""

    request_id = ask(team.member)
    service.answer_request(team.lead, request_id, "Voici.")
    service.reply_to_request(team.member, request_id, "Merci.")

    assert mailbox.received == []
    assert mail_failures(caplog) == []


def test_with_smtp_down_the_request_is_saved_and_the_page_answers_303(app, team, caplog):
    use_smtp(app, free_port())  # nothing listens there
    member = client_for(app, team.member)

    response = member.post(f"{BASE}/nouvelle", data=form())

    assert response.status_code == 303
    request_id = created_id(response)
    assert current(request_id).subject == SUBJECT
    assert member.get(response.headers["Location"]).status_code == 200
    answered = client_for(app, team.lead).post(
        f"{BASE}/{request_id}/reponse", data={"body": "Voici."}
    )
    assert answered.status_code == 303
    assert current(request_id).status.value == "answered"
    assert any("not sent" in r.getMessage() for r in mail_failures(caplog))


def test_an_error_while_sending_is_logged_and_the_action_stands(app, mailbox, team, monkeypatch):
    def broken(messages):
        raise RuntimeError("the SMTP library broke")

    monkeypatch.setattr(mailer, "send_batch", broken)

    response = client_for(app, team.member).post(f"{BASE}/nouvelle", data=form())

    assert response.status_code == 303
    assert current(created_id(response)).subject == SUBJECT
    assert mailbox.received == []


def test_a_refused_mailbox_does_not_keep_the_others_from_their_email(app, mailbox, team, caplog):
    mailbox.refuse(team.jurist.email)

    ask(team.member)

    assert sorted(mailbox.recipients()) == team.team_emails(team.jurist)
    assert any("1 of 3" in r.getMessage() for r in mail_failures(caplog))
