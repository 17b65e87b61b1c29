"""Money as people read it: integer cents written as French euros."""

from datetime import datetime

from flask_babel import format_datetime


def format_cents(cents: int) -> str:
    """« 1 234,50 € », « 500 € » (narrow no-break space between thousands, no float)."""
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    whole = f"{euros:,}".replace(",", "\u202f")
    return f"{sign}{whole}\xa0€" if rest == 0 else f"{sign}{whole},{rest:02d}\xa0€"


def format_paris(moment: datetime, fmt: str = "d MMMM yyyy 'à' HH:mm") -> str:
    """A UTC instant as Paris local time, in French: « 1 mars 2027 à 00:00 »."""
    return format_datetime(moment, fmt)
