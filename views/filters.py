"""Template filters: money in euros, Paris times, safe Markdown."""

import functools
from datetime import date, datetime

import nh3
from flask_babel import format_date, format_datetime
from markdown_it import MarkdownIt
from markupsafe import Markup

from services.money import format_cents

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")

_ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "strong",
    "em",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}


def render_markdown(text: str) -> Markup:
    """Markdown to HTML with raw HTML off, then cleaned: no script, no handler, no js: link."""
    return Markup(_clean_html(text or ""))


@functools.lru_cache(maxsize=2048)
def _clean_html(text: str) -> str:
    # Keyed by the text itself: an edited body is a new key, so nothing stale is served.
    html = _markdown.render(text)
    # Titles in a body start below the page's own h1.
    html = html.replace("<h1>", "<h2>").replace("</h1>", "</h2>")
    clean = nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes={"a": {"href", "title"}, "th": {"align"}, "td": {"align"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return clean


def money(cents: int | None) -> str:
    """Integer cents as French euros: « 1 234,50 € », « 500 € »."""
    return "" if cents is None else format_cents(cents)


def paris_datetime(value: datetime | None, fmt: str = "d MMMM yyyy 'à' HH:mm") -> str:
    if value is None:
        return ""
    return format_datetime(value, fmt)


def day(value: date | None, fmt: str = "d MMMM yyyy") -> str:
    """A calendar day in French: « 3 mars 2027 »."""
    return "" if value is None else format_date(value, fmt)


def register_filters(app) -> None:
    app.add_template_filter(day, "day")
    app.add_template_filter(render_markdown, "markdown")
    app.add_template_filter(money, "money")
    app.add_template_filter(paris_datetime, "paris")
