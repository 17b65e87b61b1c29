"""Settings read from the environment; SQLite under instance/ by default."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def _int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY") or "dev-only-secret-change-me"
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or (
        f"sqlite:///{BASE_DIR / 'instance' / 'commun.sqlite3'}"
    )
    # A ping before each request costs a round trip on every page; without it, after a
    # database restart one request per app process fails and the pool reconnects.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {
        "pool_pre_ping": os.environ.get("DATABASE_POOL_PRE_PING", "0") == "1",
        "pool_recycle": 1800,
    }
    # Seconds between two live-update polls of a page.
    POLL_INTERVAL_SECONDS = _int("POLL_INTERVAL_SECONDS", 10)
    # How long one process's polls share a snapshot of the live states (0: no snapshot).
    LIVE_SNAPSHOT_SECONDS = float(os.environ.get("LIVE_SNAPSHOT_SECONDS", "1"))
    # How far behind the round's charts may be (the figures beside them are always exact).
    ROUND_CHART_SECONDS = float(os.environ.get("ROUND_CHART_SECONDS", "10"))
    PROPOSALS_PER_PAGE = _int("PROPOSALS_PER_PAGE", 12)
    # Failed sign-ins allowed per e-mail address and per client address in the window.
    SIGN_IN_MAX_FAILURES = _int("SIGN_IN_MAX_FAILURES", 5)
    SIGN_IN_MAX_FAILURES_PER_IP = _int("SIGN_IN_MAX_FAILURES_PER_IP", 30)
    SIGN_IN_WINDOW_SECONDS = _int("SIGN_IN_WINDOW_SECONDS", 900)
    # Behind a load balancer, trust this many proxies for the client address.
    PROXY_COUNT = _int("PROXY_COUNT", 0)
    # Illustrations: each image at most UPLOAD_MAX_BYTES and UPLOAD_MAX_PIXELS (decompression
    # bombs), at most UPLOAD_MAX_FILES per upload; a request holds that many, plus the form.
    UPLOAD_MAX_BYTES = _int("UPLOAD_MAX_BYTES", 10 * 1024 * 1024)
    UPLOAD_MAX_PIXELS = _int("UPLOAD_MAX_PIXELS", 40_000_000)
    UPLOAD_MAX_FILES = _int("UPLOAD_MAX_FILES", 5)
    MAX_CONTENT_LENGTH = _int("MAX_CONTENT_LENGTH", 52 * 1024 * 1024)
    UPLOADS_PATH = os.environ.get("UPLOADS_PATH") or str(BASE_DIR / "instance" / "uploads")
    # Receipts of spending requests (PDF, JPEG, PNG): each at most RECEIPT_MAX_BYTES and, for
    # an image, RECEIPT_MAX_PIXELS; at most RECEIPT_MAX_FILES per request.
    RECEIPT_MAX_BYTES = _int("RECEIPT_MAX_BYTES", 10 * 1024 * 1024)
    RECEIPT_MAX_PIXELS = _int("RECEIPT_MAX_PIXELS", 50_000_000)
    RECEIPT_MAX_FILES = _int("RECEIPT_MAX_FILES", 10)
    # The movement's bank account, debited by the SEPA transfer files. The defaults are a
    # demonstration account (a published example IBAN, valid but nobody's): every deployment
    # must set its own. The BIC may stay empty within SEPA, but some banks ask for it.
    SEPA_DEBTOR_NAME = os.environ.get("SEPA_DEBTOR_NAME") or "Commun (compte de démonstration)"
    SEPA_DEBTOR_IBAN = os.environ.get("SEPA_DEBTOR_IBAN") or "FR1420041010050500013M02606"
    SEPA_DEBTOR_BIC = os.environ.get("SEPA_DEBTOR_BIC", "")
    # The network's shared library and support requests: each file at most
    # NETWORK_FILE_MAX_BYTES, at most NETWORK_FILE_MAX_FILES per upload.
    NETWORK_FILE_MAX_BYTES = _int("NETWORK_FILE_MAX_BYTES", 20 * 1024 * 1024)
    NETWORK_FILE_MAX_FILES = _int("NETWORK_FILE_MAX_FILES", 5)
    # Outgoing e-mail (discussion notifications and digests): a real SMTP server. MAIL_TLS is
    # "starttls", "ssl" or "none". With no MAIL_SERVER, nothing is sent and notifications wait
    # in the database until `flask reseau envoyer` runs with one.
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = _int("MAIL_PORT", 587)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_TLS = os.environ.get("MAIL_TLS", "starttls")
    MAIL_TIMEOUT_SECONDS = _int("MAIL_TIMEOUT_SECONDS", 10)
    MAIL_FROM = os.environ.get("MAIL_FROM") or "Commun <ne-pas-repondre@commun.example>"
    # The site's public address, for links in e-mails (no request to take it from).
    PUBLIC_URL = (os.environ.get("PUBLIC_URL") or "http://127.0.0.1:5000").rstrip("/")
    BABEL_DEFAULT_LOCALE = "fr"
    BABEL_DEFAULT_TIMEZONE = "Europe/Paris"
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the signed session cookie
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
