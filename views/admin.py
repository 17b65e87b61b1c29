"""Administration: people and staff roles, groups, members, certification (admins only)."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/personnes")
def people():
    return "TODO"
