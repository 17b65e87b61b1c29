"""Serving the network's stored files (services/documents.py): always as a download.

A shared document was checked on upload, but the checks are filters, not proofs: a browser
must never render one of these files as a page of the site. So every answer is an attachment
with the stored kind's real type, no sniffing, a sandbox CSP in case a browser shows it
anyway, and no caching (network files are for members only).
"""

import re
import unicodedata
from pathlib import Path
from urllib.parse import quote

from flask import Response, send_file
from flask_babel import gettext as _

from services import documents
from services.errors import NotFound

_UNSAFE_ASCII = re.compile(r"[^A-Za-z0-9 ._()+,-]")


def _safe_name(display_name: str, content_type: str) -> str:
    """The name to offer: printable, no folders, with the extension of the file's kind."""
    name = "".join(c for c in (display_name or "") if c.isprintable())
    name = name.replace("/", "_").replace("\\", "_").strip().lstrip(".") or "document"
    kind = documents.kind_of_content_type(content_type)
    return documents.name_for_kind(name, kind) if kind else name


def _ascii_fallback(name: str) -> str:
    """The name for clients that ignore `filename*`: accents dropped, anything that could
    end or bend the quoted value (quotes, backslashes, semicolons…) replaced."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    ascii_name = _UNSAFE_ASCII.sub("_", ascii_name).strip(" .")
    return ascii_name or "document"


def content_disposition(display_name: str, content_type: str) -> str:
    """`attachment` with an ASCII `filename` and the exact name as RFC 5987 `filename*`."""
    name = _safe_name(display_name, content_type)
    return (
        f'attachment; filename="{_ascii_fallback(name)}"; '
        f"filename*=UTF-8''{quote(name, safe='', encoding='utf-8')}"
    )


def send_document(path: Path, display_name: str, content_type: str) -> Response:
    """The stored file at `path` as a download named `display_name`; NotFound (404) when the
    file is not on disk."""
    path = Path(path)
    if not path.is_file():
        raise NotFound(_("Le fichier de ce document est introuvable."))
    if documents.kind_of_content_type(content_type) is None:
        content_type = "application/octet-stream"  # never a type a browser would render
    response = send_file(
        path,
        mimetype=content_type,
        as_attachment=True,
        download_name="document",  # replaced below by a header we build ourselves
        conditional=False,
        etag=False,
        last_modified=None,
        max_age=None,
    )
    response.headers["Content-Disposition"] = content_disposition(display_name, content_type)
    response.headers["Content-Type"] = content_type
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers.pop("Expires", None)
    return response


def network_upload_too_large(_error):
    """The answer to a request beyond MAX_CONTENT_LENGTH on the network's upload forms (the
    library's and the support requests'): nothing was read, so nothing was recorded."""
    from flask import current_app
    from flask_babel import gettext as _

    from . import error_response

    config = current_app.config
    return error_response(
        413,
        _(
            "L'envoi est trop volumineux : %(num)d fichiers au plus à la fois, de %(mb)d Mo au "
            "plus chacun. Rien n'a été enregistré.",
            num=config["NETWORK_FILE_MAX_FILES"],
            mb=config["NETWORK_FILE_MAX_BYTES"] // (1024 * 1024),
        ),
    )
