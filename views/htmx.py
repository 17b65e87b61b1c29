"""Small helpers for answering htmx requests and plain requests from the same view."""

from flask import request


def is_htmx() -> bool:
    """A fragment is wanted: an htmx request that is not a boosted page or a history restore."""
    headers = request.headers
    return (
        headers.get("HX-Request") == "true"
        and headers.get("HX-Boosted") != "true"
        and headers.get("HX-History-Restore-Request") != "true"
    )


def vary_on_htmx(response):
    response.vary.add("HX-Request")
    return response
