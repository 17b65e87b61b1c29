"""Read-only JSON API over published proposals."""

from flask import Blueprint, abort, request, url_for

from services import catalog

bp = Blueprint("api", __name__, url_prefix="/api")

MAX_PER_PAGE = 100


def _as_json(card: catalog.ProposalCard) -> dict:
    return {
        "id": card.id,
        "title": card.title,
        "status": "fundable" if card.state.fundable else "open",
        "category": card.category.value,
        "per_group_budget_cents": card.per_group_budget_cents,
        "threshold": card.state.threshold,
        "commitments": card.state.count,
        "fundable": card.state.fundable,
        "fundable_at": card.fundable_at.isoformat() if card.fundable_at else None,
        # What the action costs the round so far, and its engagements « hors budget ».
        "reserved_cents": card.state.reserved_cents,
        "reserved_groups": card.state.reserved_count,
        "outside_budget": card.state.outside_budget,
        "url": url_for("proposals.detail", slug=card.slug, _external=True),
    }


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdecimal() or not low <= int(raw) <= high:
        abort(400, f"Paramètre « {name} » invalide : un entier entre {low} et {high}.")
    return int(raw)


@bp.get("/proposals")
def proposals():
    status = request.args.get("status", "")
    mapping = {"": "", "open": "ouverte", "fundable": "financable"}
    if status not in mapping:
        abort(400, "Paramètre « status » invalide : open ou fundable.")
    page = _int_arg("page", 1, 1, 100000)
    per_page = _int_arg("per_page", 20, 1, MAX_PER_PAGE)
    cards, total = catalog.page_of_cards(
        catalog.ListFilters(status=mapping[status]), page, per_page
    )
    return {
        "items": [_as_json(card) for card in cards],
        "page": page,
        "per_page": per_page,
        "total": total,
        "pages": max(1, -(-total // per_page)),
    }


@bp.get("/proposals/<int:proposal_id>")
def proposal(proposal_id: int):
    card = catalog.card_by_id(proposal_id)
    if card is None:
        abort(404, "Proposition introuvable.")
    return _as_json(card)


@bp.after_request
def _no_store(response):
    response.headers.setdefault("Cache-Control", "no-cache")
    response.headers.setdefault("Access-Control-Allow-Origin", "*")
    return response
