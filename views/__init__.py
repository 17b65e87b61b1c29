"""Blueprints, error pages and template helpers."""

from flask import Flask, current_app, g, make_response, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from services.access import managed_groups
from services.errors import DomainError

from .filters import register_filters
from .htmx import is_htmx

ERROR_TITLES = {
    400: "Requête invalide",
    403: "Accès refusé",
    404: "Page introuvable",
    405: "Méthode non autorisée",
    409: "Conflit",
    413: "Fichier trop volumineux",
    422: "Données invalides",
    429: "Trop de tentatives",
    500: "Erreur du serveur",
}

ERROR_MESSAGES = {
    400: "La requête n'a pas pu être comprise.",
    403: "Vous n'avez pas le droit de faire cela.",
    404: "Cette page n'existe pas, ou plus.",
    405: "Cette adresse ne s'utilise pas ainsi.",
    409: "Cette action entre en conflit avec l'état actuel.",
    413: "Le fichier envoyé dépasse la taille autorisée.",
    422: "Les données envoyées ne sont pas valides.",
    429: "Trop de tentatives : patientez quelques minutes.",
    500: "Une erreur inattendue est survenue. L'équipe technique en est informée.",
}


def my_groups() -> list:
    """The groups the signed-in person acts for, queried once per request."""
    if "my_groups" not in g:
        g.my_groups = managed_groups(current_user) if current_user.is_authenticated else []
    return g.my_groups


def sign_in_first():
    """The answer for an anonymous person (the sign-in redirect, or htmx's); None once signed
    in. Views that act return it when it is not None."""
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    return None


def error_response(status: int, message: str | None = None):
    """A French error page, or for htmx a message placed in the page's message area."""
    title = _(ERROR_TITLES.get(status, "Erreur"))
    message = message or _(ERROR_MESSAGES.get(status, "Une erreur est survenue."))
    if request.path.startswith("/api/"):
        return {"error": message, "status": status}, status
    if is_htmx():
        response = make_response(
            render_template("errors/_message.html", title=title, message=message), status
        )
        response.headers["HX-Retarget"] = "#messages"
        response.headers["HX-Reswap"] = "innerHTML"
        return response
    return render_template("errors/error.html", status=status, title=title, message=message), status


def register_views(app: Flask) -> None:
    from . import admin, api, auth, groups, proposals

    for module in (proposals, groups, auth, admin, api):
        app.register_blueprint(module.bp)
    from . import workspace

    app.register_blueprint(workspace.bp)
    from . import illustrations

    app.register_blueprint(illustrations.bp)
    from . import exchange, queue

    for module in (queue, exchange):
        app.register_blueprint(module.bp)
    from . import rounds

    app.register_blueprint(rounds.bp)
    from . import finance

    app.register_blueprint(finance.bp)
    # The network of elected officials
    from . import discussion, library, network, support

    for module in (network, library, discussion, support):
        app.register_blueprint(module.bp)
    register_filters(app)

    @app.context_processor
    def _navigation():
        # A function, so that fragments which never show the navigation never query it.
        return {"my_groups": my_groups}

    @app.errorhandler(CSRFError)
    def _csrf_error(error):
        return error_response(
            400,
            _(
                "Le formulaire a expiré ou ne vient pas de ce site. Rechargez la page "
                "et recommencez : rien n'a été enregistré."
            ),
        )

    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError):
        return error_response(error.status, error.message)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        # Our own abort(…, "message") carries a French message; Werkzeug's defaults do not.
        description = None
        if error.description and error.description != type(error).description:
            description = error.description
        return error_response(error.code or 500, description)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        app.logger.exception("Unexpected error", exc_info=error)
        from models import db

        db.session.rollback()
        return error_response(500)
