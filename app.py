"""The application factory: extensions, blueprints, CLI, error handlers, security headers."""

import functools
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from config import BASE_DIR, Config
from extensions import babel, csrf, login_manager, migrate
from models import MAX_ID, Person, db
from services.tx import configure_engine


class BoundedInteger(IntegerConverter):
    """`<int:…>` in a route, up to the largest id the database stores."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(BASE_DIR / "instance"))
    app.config.from_object(Config)
    if config:
        app.config.update(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if app.config["PROXY_COUNT"]:
        n = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app)
    _use_french_plurals(app)
    login_manager.init_app(app)
    with app.app_context():
        configure_engine(db.engine)

    # Before any route: an id in a URL beyond what the database stores is no page (404).
    app.url_map.converters["int"] = BoundedInteger

    from views import ledger, register_views, spending, spending_queue

    register_views(app)
    app.register_blueprint(ledger.bp)
    app.register_blueprint(spending.bp)
    app.register_blueprint(spending_queue.bp)

    from cli import register_cli

    register_cli(app)

    @app.get("/sante")
    def health():
        """A constant answer for load balancers, and the baseline of the benchmark."""
        return "ok", 200, {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if request.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "public, max-age=3600")
        return response

    return app


def _use_french_plurals(app: Flask) -> None:
    """Choose singular or plural by the French rule (0 and 1 are singular).

    Without a compiled catalogue, gettext falls back to the English rule (only 1 is singular),
    which would print « 0 groupes engagés ». The messages are written in French, so the rule is
    applied to the count before the lookup.
    """
    from flask_babel import get_translations

    # One locale, so one catalogue per process: looked up once, not at every string.
    translations = functools.cache(get_translations)
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n if n > 1 else 1),
        newstyle=True,
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n if n > 1 else 1),
    )


@login_manager.unauthorized_handler
def _sign_in_first():
    """Send the person to the sign-in page, then back where they were.

    After a POST, "back" is the page the form was on; an htmx request is told to load the
    sign-in page whole (HX-Redirect) rather than swap it into a fragment.
    """
    from flask import flash, redirect, url_for
    from flask_babel import gettext

    from views.htmx import is_htmx

    flash(gettext("Connectez-vous pour continuer."), "info")
    if request.method == "GET":
        back = request.full_path.rstrip("?")
    else:
        referrer = urlsplit(request.referrer or "")
        same_site = referrer.netloc == request.host
        back = (
            (referrer.path + (f"?{referrer.query}" if referrer.query else "")) if same_site else "/"
        )
    target = url_for("auth.sign_in", next=back)
    if is_htmx():
        return "", 401, {"HX-Redirect": target}
    return redirect(target)


@login_manager.user_loader
def _load_person(session_id: str) -> Person | None:
    person_id, _, version = session_id.partition(":")
    if not person_id.isdecimal() or not version.isdecimal():
        return None
    person = db.session.get(Person, int(person_id))
    if person is None or person.auth_version != int(version):
        return None
    return person
