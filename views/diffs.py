"""Differences between two versions of a proposal's text, as HTML with <del> and <ins>."""

import difflib
import re
from dataclasses import dataclass

from markupsafe import Markup, escape

from services.catalog import CATEGORY_LABELS
from services.proposals import FIELD_LABELS

from .filters import money

_TOKENS = re.compile(r"\s+|[^\s]+")
TEXT_FIELDS = ("title", "summary", "body", "how_to")


@dataclass(frozen=True)
class ChangeRow:
    field: str
    label: str
    diff: Markup


def _marked(tokens: list[str], tag: str) -> str:
    text = "".join(tokens)
    if not text.strip():
        return str(escape(text))
    return f"<{tag}>{escape(text)}</{tag}>"


def diff_tokens(old: list[str], new: list[str]) -> Markup:
    """Unchanged tokens as they are, removed ones in <del>, added ones in <ins>."""
    parts = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            parts.append(str(escape("".join(old[a1:a2]))))
            continue
        if op in ("delete", "replace"):
            parts.append(_marked(old[a1:a2], "del"))
        if op in ("insert", "replace"):
            parts.append(_marked(new[b1:b2], "ins"))
    return Markup("".join(parts))


def word_diff(old: str, new: str) -> Markup:
    return diff_tokens(_TOKENS.findall(old or ""), _TOKENS.findall(new or ""))


def _line_texts(lines) -> list[str]:
    return [f"{item} : {money(amount)}\n" for item, amount in lines or []]


def _category(value) -> str:
    return CATEGORY_LABELS.get(value, value or "")


def change_rows(old: dict, new: dict) -> list[ChangeRow]:
    """One row per field that differs, in the form's order."""
    rows = []
    for name, label in FIELD_LABELS.items():
        if name not in new or old.get(name) == new.get(name):
            continue
        before, after = old.get(name), new[name]
        if name in TEXT_FIELDS:
            diff = word_diff(before or "", after or "")
        elif name == "budget_lines":
            diff = diff_tokens(_line_texts(before), _line_texts(after))
        elif name == "category":
            diff = diff_tokens([_category(before)], [_category(after)])
        else:
            diff = diff_tokens([money(before) if before is not None else ""], [money(after)])
        rows.append(ChangeRow(name, label, diff))
    return rows
