"""The discussion list's e-mails, read from a real SMTP server (aiosmtpd, tests/smtp.py): one
per subscriber, never to the author or to someone outside the network; the unsubscribe link
and the one-click header; hidden messages never mailed; an SMTP server down, then back
(`flask reseau envoyer`); the daily digest (`flask reseau resume`)."""

import html
import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from models import (
    NetworkMember,
    NetworkStatus,
    NotifyMode,
    Person,
    Post,
    PostNotification,
    db,
    utcnow,
)
from services import discussion as service
from tests.network_world import build_network_world, join, network_person
from tests.smtp import free_port, smtp_server, use_smtp
from tests.test_discussion import make_thread, person_of, subscribe, subscribed

BASE = "/reseau/discussions"
PUBLIC = "https://commun.example"
LINK = re.compile(r"Ne plus (?:recevoir ces e-mails|suivre) : (https://\S+)")


@pytest.fixture
def mailbox(app):
    with smtp_server() as server:
        use_smtp(app, server.port)
        yield server


class Scene:
    """A thread of the theme « Eau en régie publique » and its followers, one of each kind:
    the member follows the thread and the theme (one e-mail all the same), the network team
    (no membership) the thread, the admin the theme; the outsider, the applicant and an
    excluded member follow it too, but see the network no more."""

    def __init__(self):
        self.world = build_network_world()
        world = self.world
        self.thread, self.posts = make_thread(world.other_member, theme=world.theme)
        self.excluded = network_person("exclue@example.org")
        join(self.excluded, NetworkStatus.excluded)
        subscribe(world.people["member"], thread=self.thread)
        subscribe(world.people["member"], theme=world.theme)
        subscribe(world.people["network"], thread=self.thread)
        subscribe(world.people["admin"], theme=world.theme)
        subscribe(world.people["outsider"], thread=self.thread)
        subscribe(world.people["applicant"], theme=world.theme)
        subscribe(self.excluded, thread=self.thread)
        subscribe(world.other_member, thread=self.thread)

    def person(self, role: str) -> Person:
        return person_of(self.world, role)

    def member_goes_daily(self) -> int:
        """The member chooses the daily digest; their id."""
        member_id = self.world.people["member"].id
        db.session.execute(
            update(NetworkMember)
            .where(NetworkMember.person_id == member_id)
            .values(notify_mode=NotifyMode.daily)
        )
        db.session.commit()
        return member_id

    @property
    def author(self) -> Person:
        return db.session.get(Person, self.world.other_member.id)

    def email(self, role: str) -> str:
        return self.world.people[role].email

    def reply(self, body: str = "Chez nous, la régie a baissé le prix de 12 %.", **kwargs):
        return service.post_reply(self.author, self.thread.id, body, **kwargs)


def notifications(**conditions) -> list[PostNotification]:
    db.session.rollback()
    statement = select(PostNotification).order_by(PostNotification.id)
    for name, value in conditions.items():
        statement = statement.where(getattr(PostNotification, name) == value)
    return list(db.session.scalars(statement))


def text(message) -> str:
    """The e-mail's text, with the line ends Python writes (SMTP carries CRLF)."""
    return message.get_content().replace("\r\n", "\n")


def link_in(message) -> str:
    """The unsubscribe address the e-mail's text gives, as a path of the site."""
    url = LINK.search(text(message)).group(1)
    assert url.startswith(PUBLIC)
    return url.removeprefix(PUBLIC)


def message_to(server, email: str):
    found = [m for m in server.messages() if email in m["To"]]
    assert len(found) == 1, [m["To"] for m in server.messages()]
    return found[0]


# Who gets what -------------------------------------------------------------------------------


def test_a_message_reaches_each_subscriber_once_and_never_its_author_or_outsiders(mailbox):
    scene = Scene()

    posted = scene.reply()

    assert sorted(mailbox.recipients()) == sorted(
        [scene.email("member"), scene.email("network"), scene.email("admin")]
    )
    rows = notifications(post_id=posted.post_id)
    assert len(rows) == 3 and all(row.sent_at is not None for row in rows)
    assert all(not row.digest and row.attempts == 0 for row in rows)


def test_the_email_names_the_thread_the_author_and_links_back(mailbox):
    scene = Scene()

    posted = scene.reply("Chez nous, **la régie** a baissé le prix.\n\nEt vous ?")

    message = message_to(mailbox, scene.email("admin"))
    assert message["Subject"] == f"[Réseau des élu·es] {scene.thread.title}"
    assert message["From"] == "Réseau des élu·es <reseau@commun.example>"
    assert message["To"] == "Admin-Reseau <admin-reseau@example.org>"
    assert message["Auto-Submitted"] == "auto-generated"
    body = text(message)
    assert "Autre-Membre a écrit le" in body and f"« {scene.thread.title} »" in body
    assert "Chez nous, **la régie** a baissé le prix.\n\nEt vous ?" in body
    assert f"{PUBLIC}{BASE}/{scene.thread.id}#message-{posted.post_id}" in body
    assert "vous suivez le thème « Eau en régie publique »" in body
    unsubscribe = PUBLIC + link_in(message)
    assert message["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    member_text = text(message_to(mailbox, scene.email("member")))
    assert "vous suivez cette discussion" in member_text


def test_a_daily_member_gets_no_email_now_but_a_digest_row(mailbox):
    scene = Scene()
    scene.member_goes_daily()

    posted = scene.reply()

    assert scene.email("member") not in mailbox.recipients()
    [row] = notifications(post_id=posted.post_id, person_id=scene.world.people["member"].id)
    assert row.digest and row.sent_at is None


def test_the_author_of_a_reply_follows_the_thread_and_hears_of_the_next(mailbox):
    scene = Scene()
    member = scene.person("member")
    service.unsubscribe_thread(member, scene.thread.id)
    service.unsubscribe_theme(member, scene.world.theme.id)

    service.post_reply(member, scene.thread.id, "Je m'invite.")
    mailbox.clear()
    scene.reply("Bienvenue !")

    assert subscribed(member.id, thread_id=scene.thread.id)
    assert scene.email("member") in mailbox.recipients()


def test_a_new_thread_notifies_its_themes_followers(mailbox):
    scene = Scene()

    service.create_thread(
        scene.person("network"), "Tarifs sociaux de l'eau", "eau en régie publique", None, "Qui ?"
    )

    assert sorted(mailbox.recipients()) == sorted([scene.email("member"), scene.email("admin")])


# Unsubscribing from the e-mail ---------------------------------------------------------------


def test_the_emails_unsubscribe_link_works_signed_out_and_stops_later_emails(mailbox, client):
    scene = Scene()
    scene.reply()
    for role in ("network", "admin"):  # a thread's follower, a theme's follower
        path = link_in(message_to(mailbox, scene.email(role)))

        page = client.get(path)
        assert page.status_code == 200 and "Me désabonner" in html.unescape(page.get_data(True))
        assert client.post(path).status_code == 303

    mailbox.clear()
    scene.reply("Un second message.")

    assert scene.email("network") not in mailbox.recipients()
    assert scene.email("admin") not in mailbox.recipients()
    assert mailbox.recipients() == [scene.email("member")]


def test_a_member_following_thread_and_theme_is_offered_both(mailbox, client):
    scene = Scene()
    scene.reply()
    path = link_in(message_to(mailbox, scene.email("member")))

    client.post(path)
    page = html.unescape(client.get(path).get_data(as_text=True))
    theme_path = re.search(r'action="([^"]+)"', page.split("aussi le thème")[1]).group(1)
    client.post(theme_path)
    mailbox.clear()
    scene.reply("Encore un.")

    assert scene.email("member") not in mailbox.recipients()


def test_the_one_click_unsubscribe_header_works_without_session_or_csrf(csrf_app):
    with smtp_server() as server:
        use_smtp(csrf_app, server.port)
        scene = Scene()
        scene.reply()
        header = message_to(server, scene.email("network"))["List-Unsubscribe"]
        path = header.strip("<>").removeprefix(PUBLIC)

        response = csrf_app.test_client().post(
            path,
            data="List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )

        assert response.status_code == 303
        assert not subscribed(scene.world.people["network"].id, thread_id=scene.thread.id)


# Hidden messages -----------------------------------------------------------------------------


def test_a_message_hidden_before_its_retry_is_never_sent(app, runner):
    scene = Scene()
    port = free_port()
    use_smtp(app, port)  # nothing listens there: the server is down
    posted = scene.reply("Un message bientôt masqué.")
    assert len(notifications(sent_at=None)) == 3

    service.hide_post(scene.person("network"), posted.post_id, "Hors charte")
    with smtp_server(port=port) as server:
        result = runner.invoke(args=["reseau", "envoyer"])

    assert result.exit_code == 0, result.output
    assert server.received == []
    assert notifications() == []


def test_a_message_hidden_by_any_way_is_dropped_at_sending_time(app, runner):
    scene = Scene()
    port = free_port()
    use_smtp(app, port)
    posted = scene.reply("Masqué par un chemin de traverse.")
    db.session.execute(update(Post).where(Post.id == posted.post_id).values(hidden_at=utcnow()))
    db.session.commit()

    with smtp_server(port=port) as server:
        result = runner.invoke(args=["reseau", "envoyer"])

    assert server.received == []
    assert "3 abandonnée(s)" in result.output
    assert notifications() == []


def test_someone_who_left_the_network_since_gets_nothing(app, runner):
    scene = Scene()
    port = free_port()
    use_smtp(app, port)
    scene.reply()
    db.session.execute(
        update(NetworkMember)
        .where(NetworkMember.person_id == scene.world.people["member"].id)
        .values(status=NetworkStatus.excluded)
    )
    db.session.commit()

    with smtp_server(port=port) as server:
        runner.invoke(args=["reseau", "envoyer"])

    assert sorted(server.recipients()) == sorted([scene.email("network"), scene.email("admin")])


# SMTP down, then back ------------------------------------------------------------------------


def test_with_smtp_down_the_reply_is_saved_and_sent_once_the_server_is_back(app, client, auth):
    scene = Scene()
    port = free_port()
    use_smtp(app, port)
    auth.login(scene.world.people["member"])

    response = client.post(f"{BASE}/{scene.thread.id}/repondre", data={"body": "Malgré tout."})

    assert response.status_code == 303
    post = db.session.scalar(select(Post).order_by(Post.id.desc()))
    assert post.body == "Malgré tout."
    pending = notifications(post_id=post.id)
    assert len(pending) == 3
    assert all(row.sent_at is None and row.attempts == 1 for row in pending)

    runner = app.test_cli_runner()
    with smtp_server(port=port) as server:
        first = runner.invoke(args=["reseau", "envoyer"])
        second = runner.invoke(args=["reseau", "envoyer"])

    assert first.exit_code == 0, first.output
    assert "3 notification(s) envoyée(s), 0 en échec." in first.output
    assert sorted(server.recipients()) == sorted(
        [scene.world.other_member.email, scene.email("network"), scene.email("admin")]
    )
    assert "0 notification(s) envoyée(s)" in second.output
    assert all(row.sent_at is not None for row in notifications(post_id=post.id))


def test_a_failed_retry_counts_its_attempts_and_stops_after_the_last(app, runner):
    scene = Scene()
    use_smtp(app, free_port())
    scene.reply()

    for _ in range(service.MAX_ATTEMPTS - 1):
        result = runner.invoke(args=["reseau", "envoyer"])
        assert result.exit_code == 1 and "relancez la commande" in result.output
    assert {row.attempts for row in notifications()} == {service.MAX_ATTEMPTS}
    port = free_port()
    use_smtp(app, port)
    with smtp_server(port=port) as server:
        result = runner.invoke(args=["reseau", "envoyer"])

    assert "0 notification(s) envoyée(s)" in result.output
    assert server.received == []


def test_a_refused_recipient_does_not_stop_the_others(mailbox, runner):
    scene = Scene()
    mailbox.refuse(scene.email("admin"))

    scene.reply()

    assert sorted(mailbox.recipients()) == sorted([scene.email("member"), scene.email("network")])
    [failed] = notifications(sent_at=None)
    assert failed.person_id == scene.world.people["admin"].id and failed.attempts == 1
    mailbox.refuse()
    runner.invoke(args=["reseau", "envoyer"])
    assert mailbox.recipients().count(scene.email("admin")) == 1


def test_without_mail_server_nothing_is_sent_and_notifications_wait(app, runner):
    scene = Scene()
    app.config["MAIL_SERVER"] = ""

    posted = scene.reply()

    rows = notifications(post_id=posted.post_id)
    assert len(rows) == 3 and all(r.sent_at is None and r.attempts == 0 for r in rows)
    refused = runner.invoke(args=["reseau", "envoyer"])
    assert refused.exit_code == 1 and "MAIL_SERVER n'est pas configuré" in refused.output

    with smtp_server() as server:
        use_smtp(app, server.port)
        # Left, for a while, to the request that wrote them (which may be sending them).
        runner.invoke(args=["reseau", "envoyer"])
        assert server.received == []
        earlier = utcnow() - service.RETRY_GRACE - timedelta(seconds=1)
        db.session.execute(update(PostNotification).values(created_at=earlier))
        db.session.commit()
        result = runner.invoke(args=["reseau", "envoyer"])

    assert "3 notification(s) envoyée(s)" in result.output
    assert len(server.received) == 3


def test_starttls_refused_by_the_server_never_fails_the_request(app, client, auth):
    with smtp_server() as server:
        use_smtp(app, server.port)
        app.config["MAIL_TLS"] = "starttls"  # the test server offers no STARTTLS
        scene = Scene()
        auth.login(scene.world.people["member"])

        response = client.post(f"{BASE}/{scene.thread.id}/repondre", data={"body": "Bonjour"})

        assert response.status_code == 303
        assert server.received == []
        assert {row.attempts for row in notifications()} == {1}


# The daily digest ----------------------------------------------------------------------------


def test_the_daily_digest_lists_the_days_messages_by_thread_once(mailbox, runner):
    scene = Scene()
    member_id = scene.member_goes_daily()
    other_thread, _ = make_thread(scene.world.other_member, title="Cantines bio : le coût")
    subscribe(scene.world.people["member"], thread=other_thread)
    author = scene.author
    scene.reply("Premier message du jour.")
    hidden = scene.reply("Message injurieux à masquer.")
    scene.reply("Troisième message du jour.")
    service.post_reply(author, other_thread.id, "Le bio coûte 20 centimes de plus.")
    service.hide_post(scene.person("network"), hidden.post_id, "Injurieux")
    mailbox.clear()

    first = runner.invoke(args=["reseau", "resume"])
    second = runner.invoke(args=["reseau", "resume"])

    assert first.exit_code == 0, first.output
    assert "1 résumé(s) envoyé(s) ; 3 notification(s) envoyée(s)" in first.output
    [message] = mailbox.messages()
    assert message["To"] == "Membre-Reseau <membre-reseau@example.org>"
    assert message["Subject"] == "[Réseau des élu·es] résumé du jour, 3 nouveaux messages"
    digest = text(message)
    assert "Message injurieux" not in digest
    assert digest.index(f"== {scene.thread.title} (Eau en régie publique) ==") < digest.index(
        "Premier message du jour."
    )
    assert digest.index("Premier message du jour.") < digest.index("Troisième message du jour.")
    assert "== Cantines bio : le coût ==" in digest and "20 centimes" in digest
    assert f"{PUBLIC}{BASE}/{other_thread.id}" in digest
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert all(row.sent_at is not None for row in notifications(person_id=member_id))
    member = db.session.scalar(select(NetworkMember).where(NetworkMember.person_id == member_id))
    assert member.digest_sent_at is not None
    assert second.exit_code == 0 and "0 résumé(s) envoyé(s)" in second.output
    assert len(mailbox.received) == 1


def test_the_digests_unsubscribe_all_link_ends_every_subscription(mailbox, runner, client):
    scene = Scene()
    member_id = scene.member_goes_daily()
    scene.reply()
    runner.invoke(args=["reseau", "resume"])
    [message] = [m for m in mailbox.messages() if "résumé" in m["Subject"]]
    path = message["List-Unsubscribe"].strip("<>").removeprefix(PUBLIC)

    assert "toutes les discussions" in html.unescape(client.get(path).get_data(as_text=True))
    client.post(path)

    assert not subscribed(member_id)


def test_the_digest_leaves_immediate_notifications_alone(app, runner):
    scene = Scene()
    app.config["MAIL_SERVER"] = ""
    scene.reply()  # three immediate notifications, waiting
    with smtp_server() as server:
        use_smtp(app, server.port)
        result = runner.invoke(args=["reseau", "resume"])

    assert "0 résumé(s) envoyé(s)" in result.output and server.received == []
    rows = notifications()
    assert len(rows) == 3 and all(r.sent_at is None and r.attempts == 0 for r in rows)


# Two sending runs at once ---------------------------------------------------------------------


def _two_runs_at_once(app, monkeypatch, run) -> list:
    """`run` in two threads, each with its own app context and session, both let go only once
    each has read the unsent notifications: without the claim, both would send them all."""
    barrier = threading.Barrier(2)
    read = service._items

    def read_then_wait(*conditions):
        found = read(*conditions)
        barrier.wait(timeout=30)
        return found

    monkeypatch.setattr(service, "_items", read_then_wait)
    results: list = [None, None]

    def worker(index: int) -> None:
        with app.app_context():
            try:
                results[index] = run()
            except Exception as error:  # asserted on below
                results[index] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a run is stuck"
    return results


@pytest.mark.concurrency
def test_two_sending_runs_at_once_send_each_notification_once(app, monkeypatch):
    """Two `flask reseau envoyer` at once (two crons, or a slow one and the next)."""
    scene = Scene()
    port = free_port()
    use_smtp(app, port)  # down when the reply is posted: three notifications wait
    scene.reply()
    db.session.commit()

    with smtp_server(port=port) as server:
        results = _two_runs_at_once(app, monkeypatch, service.send_pending_notifications)

    assert not any(isinstance(r, Exception) for r in results), results
    assert sorted(r.sent for r in results) == [0, 3]
    assert sorted(server.recipients()) == sorted(
        [scene.email("member"), scene.email("network"), scene.email("admin")]
    )
    rows = notifications()
    assert all(row.sent_at is not None for row in rows) and len(rows) == 3


@pytest.mark.concurrency
def test_two_digest_runs_at_once_send_one_digest(app, monkeypatch):
    scene = Scene()
    member_id = scene.member_goes_daily()
    app.config["MAIL_SERVER"] = ""
    scene.reply("Premier message du jour.")
    scene.reply("Second message du jour.")
    db.session.commit()

    with smtp_server() as server:
        use_smtp(app, server.port)
        results = _two_runs_at_once(app, monkeypatch, service.send_digests)

    assert not any(isinstance(r, Exception) for r in results), results
    assert sorted(r.people for r in results) == [0, 1]
    assert [m["To"] for m in server.messages()] == ["Membre-Reseau <membre-reseau@example.org>"]
    assert all(row.sent_at is not None for row in notifications(person_id=member_id))


def test_a_run_stopped_after_taking_its_notifications_is_relayed_once_its_lease_is_over(
    app, runner, monkeypatch
):
    """A run killed between taking notifications and recording them: the next runs leave them
    alone until the lease is over, then send them."""
    scene = Scene()
    use_smtp(app, free_port())
    scene.reply()  # the server is down: three notifications wait, tried once
    taken = service._claim([row.id for row in notifications()])
    assert len(taken) == 3
    assert service._claim(list(taken)) == set()  # taken: no other run gets them

    with smtp_server() as server:
        use_smtp(app, server.port)
        runner.invoke(args=["reseau", "envoyer"])
        assert server.received == []
        later = utcnow() + service.CLAIM_LEASE + timedelta(seconds=1)
        monkeypatch.setattr(service, "utcnow", lambda: later)
        result = runner.invoke(args=["reseau", "envoyer"])

    assert "3 notification(s) envoyée(s)" in result.output, result.output
    assert len(server.received) == 3
