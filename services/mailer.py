"""Outgoing e-mail through the SMTP server of the settings: composing a message, sending a batch
over one connection, and the public addresses that e-mails link to.

Settings: MAIL_SERVER (empty: nothing is sent), MAIL_PORT, MAIL_TLS ("starttls", "ssl" or
"none"), MAIL_USERNAME / MAIL_PASSWORD (login only when a user name is set),
MAIL_TIMEOUT_SECONDS, MAIL_FROM, and PUBLIC_URL for links.
"""

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from urllib.parse import urlsplit

from flask import current_app, has_request_context, url_for

TLS_MODES = ("starttls", "ssl", "none")


class MailNotConfigured(RuntimeError):
    """No MAIL_SERVER: nothing can be sent (notifications wait in the database)."""


def is_configured() -> bool:
    return bool(current_app.config.get("MAIL_SERVER"))


def public_url(endpoint: str, **values) -> str:
    """An absolute address for an e-mail: PUBLIC_URL followed by the route's path. Works in a
    request and outside one (the command line), where Flask alone cannot build a URL."""
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    if has_request_context():
        return base + url_for(endpoint, _external=False, **values)
    with current_app.test_request_context("/"):
        return base + url_for(endpoint, _external=False, **values)


def compose(
    to_email: str,
    to_name: str,
    subject: str,
    text: str,
    unsubscribe_url: str | None = None,
) -> EmailMessage:
    """A plain-text message; with `unsubscribe_url`, the headers of RFC 2369 and RFC 8058
    (mail clients show an « unsubscribe » button that POSTs to the address)."""
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = formataddr((to_name, to_email))
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    domain = urlsplit(current_app.config["PUBLIC_URL"]).hostname or "commun.invalid"
    message["Message-ID"] = make_msgid(domain=domain)
    # Tells auto-responders not to answer.
    message["Auto-Submitted"] = "auto-generated"
    if unsubscribe_url:
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text)
    # Headers folded at 998 characters, the limit of RFC 5322, not 78: the policy would
    # otherwise turn a long List-Unsubscribe address into encoded words no client reads.
    # (The body is already encoded, with short lines, by set_content.)
    message.policy = message.policy.clone(max_line_length=998)
    return message


def _connect() -> smtplib.SMTP:
    config = current_app.config
    host, port = config["MAIL_SERVER"], int(config["MAIL_PORT"])
    timeout = config["MAIL_TIMEOUT_SECONDS"]
    mode = (config.get("MAIL_TLS") or "starttls").lower()
    if mode not in TLS_MODES:
        raise ValueError(f"MAIL_TLS must be one of {', '.join(TLS_MODES)}, not {mode!r}")
    if mode == "ssl":
        smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    try:
        if mode == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD", ""))
    except BaseException:
        smtp.close()
        raise
    return smtp


def send_batch(messages: list[EmailMessage]) -> list[bool]:
    """Send the messages over one connection; for each, whether the server accepted it.

    Never raises for a delivery problem: a message the server refuses is logged and marked
    False, and the others go on; a connection that cannot be opened, or that drops, marks
    False every message not yet accepted.
    """
    if not messages:
        return []
    if not is_configured():
        raise MailNotConfigured("MAIL_SERVER is not set")
    logger = current_app.logger
    results = [False] * len(messages)
    try:
        smtp = _connect()
    except (OSError, smtplib.SMTPException, ValueError) as error:
        logger.warning("SMTP: cannot connect to %s: %s", current_app.config["MAIL_SERVER"], error)
        return results
    try:
        for index, message in enumerate(messages):
            try:
                smtp.send_message(message)
                results[index] = True
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as error:
                # This message only: the connection is still usable.
                logger.warning("SMTP: message to %s refused: %s", message["To"], error)
    except (OSError, smtplib.SMTPException) as error:
        logger.warning("SMTP: connection lost after %d message(s): %s", sum(results), error)
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()
    return results
