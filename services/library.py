"""The network's shared library: deposit, edit and delete resources with their files, mark them
as reused, and search them (FTS5 on SQLite, French full-text search on PostgreSQL)."""

import json
import math
import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Float, Integer, delete, exists, func, literal_column, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer, selectinload

from models import (
    MAX_ID,
    RESOURCE_TSVECTOR,
    AuditEntry,
    MandateLevel,
    Person,
    Resource,
    ResourceFile,
    ResourceKind,
    ResourceLevel,
    ResourceOutcome,
    ResourceReuse,
    db,
    fold_text,
    resource_theme,
    utcnow,
)

from . import documents
from .errors import Invalid, NotAllowed, NotFound
from .groups import clean_departement
from .network import LEVEL_TITLES
from .network_access import is_network_team, require_network_space
from .themes import parse_themes, theme_field_value, themes_named
from .tx import for_update, write_transaction

FOLDER = "library"
PER_PAGE = 20
TITLE_MAX = 200
SUMMARY_MAX = 1000
BODY_MAX = 50_000
COUNCIL_MAX = 200
NOTE_MAX = 300
REASON_MAX = 1000
QUERY_MAX = 200  # characters of a search read, the rest ignored
QUERY_WORDS = 12  # words of a search used, the rest ignored
# Files of one resource, all uploads together (each upload: NETWORK_FILE_MAX_FILES at most).
MAX_FILES_PER_RESOURCE = 20

KIND_LABELS = {
    ResourceKind.amendement: _l("Amendement"),
    ResourceKind.deliberation: _l("Délibération"),
    ResourceKind.voeu: _l("Vœu"),
    ResourceKind.motion: _l("Motion"),
    ResourceKind.compte_rendu: _l("Compte-rendu de mandat"),
    ResourceKind.note_juridique: _l("Note juridique"),
    ResourceKind.outil_communication: _l("Outil de communication"),
    ResourceKind.autre: _l("Autre"),
}

OUTCOME_LABELS = {
    ResourceOutcome.adopte: _l("Adopté"),
    ResourceOutcome.rejete: _l("Rejeté"),
    ResourceOutcome.en_cours: _l("En cours"),
}

LEVEL_LABELS = LEVEL_TITLES

# Characters a text field never keeps (NUL breaks PostgreSQL; the others are invisible).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class ResourceFields:
    """What the deposit and edit forms hold; `themes` as typed (comma-separated)."""

    kind: ResourceKind
    title: str
    summary: str
    body: str = ""
    levels: tuple[MandateLevel, ...] = ()
    themes: str = ""
    council: str = ""
    departement: str = ""
    decided_on: date | None = None
    outcome: ResourceOutcome | None = None


# Reading the fields ----------------------------------------------------------------------------


def _line(value: str) -> str:
    return _SPACES.sub(" ", _CONTROL.sub("", value or "")).strip()


def _block(value: str) -> str:
    return _CONTROL.sub("", (value or "").replace("\r\n", "\n")).strip()


def field_problems(fields: ResourceFields) -> tuple[ResourceFields, dict[str, str], list[str]]:
    """The fields cleaned, each problem by field name, and the theme names: what the service
    checks before writing, given to the view to show each message next to its field."""
    problems: dict[str, str] = {}
    title, summary = _line(fields.title), _block(fields.summary)
    body, council = _block(fields.body), _line(fields.council)
    if not isinstance(fields.kind, ResourceKind):
        problems["kind"] = _("Choisissez le type de ressource.")
    if not title:
        problems["title"] = _("Donnez un titre à la ressource.")
    elif len(title) > TITLE_MAX:
        problems["title"] = _("%(max)d caractères au plus.", max=TITLE_MAX)
    if not summary:
        problems["summary"] = _("Écrivez un résumé : c'est ce que lisent les autres élu·es.")
    elif len(summary) > SUMMARY_MAX:
        problems["summary"] = _("%(max)d caractères au plus.", max=SUMMARY_MAX)
    if len(body) > BODY_MAX:
        problems["body"] = _("%(max)d caractères au plus.", max=BODY_MAX)
    if len(council) > COUNCIL_MAX:
        problems["council"] = _("%(max)d caractères au plus.", max=COUNCIL_MAX)
    departement = _line(fields.departement)
    if departement:
        try:
            departement = clean_departement(departement)
        except Invalid as error:
            problems["departement"] = error.message
    levels = tuple(dict.fromkeys(fields.levels))
    if any(not isinstance(level, MandateLevel) for level in levels):
        problems["levels"] = _("Choisissez des niveaux de la liste.")
    if fields.outcome is not None and not isinstance(fields.outcome, ResourceOutcome):
        problems["outcome"] = _("Choisissez une issue de la liste.")
    themes: list[str] = []
    try:
        themes = parse_themes(fields.themes)
    except Invalid as error:
        problems["themes"] = error.message
    cleaned = replace(
        fields,
        title=title,
        summary=summary,
        body=body,
        council=council,
        departement=departement,
        levels=levels,
        themes=", ".join(themes),
    )
    return cleaned, problems, themes


def _checked_fields(fields: ResourceFields) -> tuple[ResourceFields, list[str]]:
    cleaned, problems, themes = field_problems(fields)
    if problems:
        raise Invalid(" ".join(problems.values()))
    return cleaned, themes


def check_files(uploads: list[tuple[str, bytes]]) -> list[documents.CheckedDocument]:
    """Every file checked by its content before any is stored (services.documents)."""
    config = current_app.config
    return documents.check_documents(
        uploads, config["NETWORK_FILE_MAX_FILES"], config["NETWORK_FILE_MAX_BYTES"]
    )


def _clean_note(note: str, maximum: int, what: str) -> str:
    note = _block(note)
    if len(note) > maximum:
        raise Invalid(_("%(what)s : %(max)d caractères au plus.", what=what, max=maximum))
    return note


# The search text --------------------------------------------------------------------------------

_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae"})
_WORD = re.compile(r"[^\W_]+")


def _folded(word: str) -> str:
    return fold_text(word).translate(_LIGATURES)


def search_text_of(resource: Resource, theme_names: list[str]) -> str:
    """What both search backends index: title, summary, body, council, themes and the kind's
    name, then each accented word once without its accents (PostgreSQL's French dictionary
    keeps accents: « regie » finds « régie » through this tail)."""
    parts = [
        resource.title,
        resource.summary,
        resource.body,
        resource.council,
        " ".join(theme_names),
        str(KIND_LABELS[resource.kind]),
    ]
    written = "\n".join(part for part in parts if part)
    plain = dict.fromkeys(
        _folded(word)
        for word in _WORD.findall(unicodedata.normalize("NFC", written))
        if _folded(word) != word.casefold()
    )
    return written + ("\n" + " ".join(plain) if plain else "")


# Writing ------------------------------------------------------------------------------------


def _uploads_root() -> str:
    return current_app.config["UPLOADS_PATH"]


def _require_id(value: int, message: str) -> None:
    """An id no row can have (beyond the database's integers) is not found, never an error."""
    if not 0 < value <= MAX_ID:
        raise NotFound(message)


def _lock(resource_id: int) -> Resource:
    _require_id(resource_id, _("Cette ressource n'existe pas, ou plus."))
    resource = db.session.scalar(
        for_update(select(Resource).where(Resource.id == resource_id)).options(
            selectinload(Resource.themes), selectinload(Resource.levels)
        )
    )
    if resource is None:
        raise NotFound(_("Cette ressource n'existe pas, ou plus."))
    return resource


def may_edit(person: Person | None, resource: Resource) -> bool:
    """The author (while they see the network) and the network's animation team."""
    if person is None or not person.is_authenticated:
        return False
    return is_network_team(person) or resource.author_id == person.id


def _require_editor(person: Person, resource: Resource) -> None:
    require_network_space(person)
    if not may_edit(person, resource):
        raise NotAllowed(
            _("Seul·es son auteur·ice et l'équipe d'animation du réseau modifient cette ressource.")
        )


def _apply(resource: Resource, fields: ResourceFields, theme_names: list[str]) -> None:
    resource.kind = fields.kind
    resource.title = fields.title
    resource.summary = fields.summary
    resource.body = fields.body
    resource.council = fields.council
    resource.departement = fields.departement or None
    resource.decided_on = fields.decided_on
    resource.outcome = fields.outcome
    resource.themes = themes_named(theme_names)
    resource.search_text = search_text_of(resource, [theme.name for theme in resource.themes])


def _set_levels(resource: Resource, levels: tuple[MandateLevel, ...]) -> None:
    kept = {row.level: row for row in resource.levels}
    resource.levels = [kept.get(level) or ResourceLevel(level=level) for level in levels]


def _store_files(
    resource: Resource, person: Person, checked: list, written: list, already: int = 0
) -> None:
    """Write the files and their rows; each path written goes into `written` at once, to be
    removed if the transaction fails."""
    if already + len(checked) > MAX_FILES_PER_RESOURCE:
        raise Invalid(
            _(
                "Une ressource compte %(max)d fichiers au plus ; celle-ci en a déjà %(count)d.",
                max=MAX_FILES_PER_RESOURCE,
                count=already,
            )
        )
    for document in checked:
        stored_name, paths = documents.store_document(_uploads_root(), document, FOLDER)
        written.extend(paths)
        db.session.add(
            ResourceFile(
                resource_id=resource.id,
                stored_name=stored_name,
                display_name=document.display_name,
                content_type=document.content_type,
                size=document.size,
                sha256=document.sha256,
                uploaded_by_id=person.id,
            )
        )


def _file_count(resource_id: int) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(ResourceFile)
        .where(ResourceFile.resource_id == resource_id)
    )


def deposit_resource(
    person: Person, fields: ResourceFields, uploads: list[tuple[str, bytes]] = ()
) -> int:
    """A member (or the network's team) deposits a resource with its files; its id."""
    require_network_space(person)
    fields, theme_names = _checked_fields(fields)
    checked = check_files(list(uploads))
    written: list = []
    try:
        with write_transaction():
            require_network_space(person)
            now = utcnow()
            resource = Resource(
                author_id=person.id,
                created_at=now,
                updated_at=now,
                updated_by_id=person.id,
                reuse_count=0,
                levels=[ResourceLevel(level=level) for level in fields.levels],
            )
            _apply(resource, fields, theme_names)
            db.session.add(resource)
            db.session.flush()
            _store_files(resource, person, checked, written)
            db.session.flush()
            return resource.id
    except BaseException:
        documents.remove_document_files(written)
        raise


def _snapshot(resource: Resource) -> dict[str, str]:
    """The fields of a resource as words, to say in the audit log what an edit changed."""
    return {
        "type": str(KIND_LABELS[resource.kind]),
        "titre": resource.title,
        "résumé": resource.summary,
        "texte": resource.body,
        "niveaux": ", ".join(str(LEVEL_LABELS[row.level]) for row in resource.levels),
        "thèmes": theme_field_value(resource.themes),
        "assemblée": resource.council,
        "département": resource.departement or "",
        "date": resource.decided_on.isoformat() if resource.decided_on else "",
        "issue": str(OUTCOME_LABELS[resource.outcome]) if resource.outcome else "",
    }


def _audit_team_change(
    person: Person, resource: Resource, before: dict, after: dict, reason: str
) -> None:
    """A change by the network's team to someone else's resource is logged on its author."""
    if resource.author_id == person.id:
        return
    changed = [key for key in after if before.get(key) != after.get(key)]

    def shown(values: dict) -> str:
        picked = {"ressource": resource.id} | {key: values.get(key, "")[:500] for key in changed}
        return json.dumps(picked, ensure_ascii=False)

    db.session.add(
        AuditEntry(
            actor_id=person.id,
            action="resource.edit",
            person_id=resource.author_id,
            old_value=shown(before),
            new_value=shown(after),
            reason=reason,
        )
    )


def update_resource(
    person: Person,
    resource_id: int,
    fields: ResourceFields,
    uploads: list[tuple[str, bytes]] = (),
    reason: str = "",
) -> None:
    """The author or the network's team changes every field and may add files."""
    fields, theme_names = _checked_fields(fields)
    reason = _clean_note(reason, REASON_MAX, _("La raison"))
    checked = check_files(list(uploads))
    written: list = []
    try:
        with write_transaction():
            resource = _lock(resource_id)
            _require_editor(person, resource)
            before = _snapshot(resource)
            _apply(resource, fields, theme_names)
            _set_levels(resource, fields.levels)
            _store_files(resource, person, checked, written, already=_file_count(resource.id))
            resource.updated_at = utcnow()
            resource.updated_by_id = person.id
            after = _snapshot(resource)
            if checked:
                after["fichiers ajoutés"] = ", ".join(doc.display_name for doc in checked)
            _audit_team_change(person, resource, before, after, reason)
    except BaseException:
        documents.remove_document_files(written)
        raise


def remove_resource_file(person: Person, resource_id: int, file_id: int, reason: str = "") -> str:
    """Remove one file of a resource (from the disk after the commit); its name."""
    reason = _clean_note(reason, REASON_MAX, _("La raison"))
    _require_id(file_id, _("Ce fichier n'existe pas, ou plus."))
    with write_transaction():
        resource = _lock(resource_id)
        _require_editor(person, resource)
        row = db.session.scalar(
            select(ResourceFile).where(
                ResourceFile.id == file_id, ResourceFile.resource_id == resource_id
            )
        )
        if row is None:
            raise NotFound(_("Ce fichier n'existe pas, ou plus."))
        stored_name, name = row.stored_name, row.display_name
        db.session.delete(row)
        resource.updated_at = utcnow()
        resource.updated_by_id = person.id
        _audit_team_change(person, resource, {}, {"fichier retiré": name}, reason)
    documents.remove_document_files([documents.document_path(_uploads_root(), FOLDER, stored_name)])
    return name


def delete_resource(person: Person, resource_id: int, reason: str = "") -> str:
    """Delete a resource with its files, levels, themes and reuses; its title."""
    reason = _clean_note(reason, REASON_MAX, _("La raison"))
    with write_transaction():
        resource = _lock(resource_id)
        _require_editor(person, resource)
        title = resource.title
        stored = list(
            db.session.scalars(
                select(ResourceFile.stored_name).where(ResourceFile.resource_id == resource_id)
            )
        )
        if resource.author_id != person.id:
            db.session.add(
                AuditEntry(
                    actor_id=person.id,
                    action="resource.delete",
                    person_id=resource.author_id,
                    old_value=json.dumps(
                        {"ressource": resource.id, "titre": title}, ensure_ascii=False
                    ),
                    reason=reason,
                )
            )
        db.session.expunge(resource)
        # The database's cascades remove the files' rows, levels, themes and reuses.
        db.session.execute(delete(Resource).where(Resource.id == resource_id))
    documents.remove_document_files(
        [documents.document_path(_uploads_root(), FOLDER, name) for name in stored]
    )
    return title


# Reuse ("je l'ai repris chez moi") ------------------------------------------------------------


def _is_double_reuse(error: IntegrityError) -> bool:
    message = str(error.orig)
    # PostgreSQL names the constraint; SQLite names its columns.
    return "uq_resource_reuse_resource_id_person_id" in message or (
        "resource_reuse.resource_id, resource_reuse.person_id" in message
    )


def mark_reused(person: Person, resource_id: int, note: str = "") -> bool:
    """Say the person reused the resource where they sit; False when they already had (a double
    click gives one row: the lock on the resource, and the unique constraint behind it)."""
    note = _clean_note(note, NOTE_MAX, _("Où vous l'avez repris"))
    note = _line(note)
    try:
        with write_transaction():
            require_network_space(person)
            resource = _lock(resource_id)
            if resource.author_id == person.id:
                raise Invalid(
                    _(
                        "C'est votre propre ressource : seul·es les autres élu·es peuvent "
                        "signaler qu'elles et ils l'ont reprise."
                    )
                )
            already = db.session.scalar(
                select(ResourceReuse.id).where(
                    ResourceReuse.resource_id == resource_id, ResourceReuse.person_id == person.id
                )
            )
            if already is not None:
                return False
            db.session.add(ResourceReuse(resource_id=resource_id, person_id=person.id, note=note))
            resource.reuse_count += 1
            db.session.flush()
            return True
    except IntegrityError as error:
        if not _is_double_reuse(error):
            raise
        return False


def undo_reuse(person: Person, resource_id: int) -> bool:
    """Withdraw the person's reuse; False when there was none."""
    with write_transaction():
        require_network_space(person)
        resource = _lock(resource_id)
        row = db.session.scalar(
            select(ResourceReuse).where(
                ResourceReuse.resource_id == resource_id, ResourceReuse.person_id == person.id
            )
        )
        if row is None:
            return False
        db.session.delete(row)
        resource.reuse_count -= 1
        return True


# Reading ------------------------------------------------------------------------------------


def resource_for_page(resource_id: int) -> Resource:
    """A resource with its author, themes, levels and files (four queries)."""
    _require_id(resource_id, _("Cette ressource n'existe pas, ou plus."))
    resource = db.session.scalar(
        select(Resource)
        .where(Resource.id == resource_id)
        .options(
            selectinload(Resource.author),
            selectinload(Resource.themes),
            selectinload(Resource.levels),
            selectinload(Resource.files),
        )
    )
    if resource is None:
        raise NotFound(_("Cette ressource n'existe pas, ou plus."))
    return resource


def resource_file(resource_id: int, file_id: int) -> ResourceFile:
    """A file of this resource; NotFound for a file of another one."""
    _require_id(resource_id, _("Ce fichier n'existe pas, ou plus."))
    _require_id(file_id, _("Ce fichier n'existe pas, ou plus."))
    row = db.session.scalar(
        select(ResourceFile).where(
            ResourceFile.id == file_id, ResourceFile.resource_id == resource_id
        )
    )
    if row is None:
        raise NotFound(_("Ce fichier n'existe pas, ou plus."))
    return row


def file_path(row: ResourceFile):
    return documents.document_path(_uploads_root(), FOLDER, row.stored_name)


REUSES_SHOWN = 200


def reuses_of(resource_id: int, limit: int = REUSES_SHOWN) -> list[ResourceReuse]:
    """Who reused the resource, first ones first, with their names (two queries)."""
    return list(
        db.session.scalars(
            select(ResourceReuse)
            .where(ResourceReuse.resource_id == resource_id)
            .options(selectinload(ResourceReuse.person))
            .order_by(ResourceReuse.created_at, ResourceReuse.id)
            .limit(limit)
        )
    )


def reuse_of(person: Person, resource_id: int) -> ResourceReuse | None:
    return db.session.scalar(
        select(ResourceReuse).where(
            ResourceReuse.resource_id == resource_id, ResourceReuse.person_id == person.id
        )
    )


def updated_by(resource: Resource) -> Person | None:
    """Who last changed the resource, when it is not its author."""
    if resource.updated_by_id is None or resource.updated_by_id == resource.author_id:
        return None
    return db.session.get(Person, resource.updated_by_id)


# Search -------------------------------------------------------------------------------------

# Words too common to require on SQLite (PostgreSQL's French dictionary drops them itself).
_STOP_WORDS = frozenset(
    {
        *("a", "au", "aux", "ce", "ces", "d", "de", "des", "du", "en", "et", "l", "la", "le"),
        *("les", "leur", "leurs", "ma", "mes", "mon", "ou", "par", "pour", "qu", "que", "qui"),
        *("sa", "se", "ses", "son", "sur", "un", "une"),
    }
)


@dataclass(frozen=True)
class LibraryFilters:
    q: str = ""
    kind: ResourceKind | None = None
    level: MandateLevel | None = None
    theme_id: int | None = None
    departement: str = ""
    outcome: ResourceOutcome | None = None

    @property
    def any(self) -> bool:
        return bool(
            self.q or self.kind or self.level or self.theme_id or self.departement or self.outcome
        )


def query_text(raw: str | None) -> str:
    """A search as typed, made harmless to keep and show: no control characters, single
    spaces, QUERY_MAX characters at most."""
    return _line((raw or "")[: QUERY_MAX * 2])[:QUERY_MAX]


def query_words(q: str) -> list[str]:
    """The words of a search as the index cuts them (letters and digits), never its syntax:
    quotes, `*`, `NEAR(`, AND, OR… are plain words or nothing."""
    words = _WORD.findall(unicodedata.normalize("NFC", (q or "")[:QUERY_MAX]))
    return words[:QUERY_WORDS]


def _singular_prefix(word: str) -> str:
    """What a French plural shares with its singular, for SQLite, which does not stem: the
    final s or x dropped (« cantines » → « cantine », « eaux » → « eau »), -aux cut to -a
    (« journaux » → « journa », which « journal » begins with). Short words stay whole."""
    folded = word.casefold()
    if len(word) > 4 and folded.endswith("aux"):
        return word[:-2]
    if len(word) > 3 and folded[-1] in "sx":
        return word[:-1]
    return word


def _fts5_match(words: list[str]) -> str:
    """Each word a quoted FTS5 string, matched as a prefix (« cantine » finds « cantines »),
    plural or singular alike (« cantines » finds « cantine »); the words together mean all of
    them. The very common words are left out, unless only they were typed."""
    kept = [word for word in words if fold_text(word) not in _STOP_WORDS] or words
    return " ".join('"' + _singular_prefix(word).replace('"', '""') + '"*' for word in kept)


@dataclass
class ResultPage:
    resources: list[Resource]
    total: int
    page: int
    pages: int
    per_page: int = PER_PAGE
    words: list[str] = field(default_factory=list)


def search_resources(filters: LibraryFilters, page: int = 1, per_page: int = PER_PAGE):
    """One page of the resources matching every filter: by relevance when words are searched,
    newest first otherwise; the total. A constant number of queries (a count, the page, and
    one per relationship shown)."""
    query = select(Resource)
    if filters.kind is not None:
        query = query.where(Resource.kind == filters.kind)
    if filters.outcome is not None:
        query = query.where(Resource.outcome == filters.outcome)
    if filters.departement:
        query = query.where(Resource.departement == filters.departement)
    if filters.level is not None:
        query = query.where(
            exists().where(
                ResourceLevel.resource_id == Resource.id, ResourceLevel.level == filters.level
            )
        )
    if filters.theme_id is not None:
        query = query.where(
            exists().where(
                resource_theme.c.resource_id == Resource.id,
                resource_theme.c.theme_id == filters.theme_id,
            )
        )
    words = query_words(filters.q)
    order = [Resource.created_at.desc(), Resource.id.desc()]
    if words:
        if db.engine.dialect.name == "postgresql":
            tsquery = func.plainto_tsquery(literal_column("'french'::regconfig"), " ".join(words))
            query = query.where(RESOURCE_TSVECTOR.op("@@")(tsquery))
            order = [func.ts_rank(RESOURCE_TSVECTOR, tsquery).desc(), *order]
        else:
            matches = (
                text(
                    "SELECT rowid AS id, rank AS rank FROM resource_fts WHERE resource_fts MATCH :m"
                )
                .bindparams(m=_fts5_match(words))
                .columns(id=Integer, rank=Float)
                .subquery("matches")
            )
            query = query.join(matches, matches.c.id == Resource.id)
            order = [matches.c.rank, *order]
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    pages = max(1, math.ceil(total / per_page))
    page = min(max(page, 1), pages)
    resources = list(
        db.session.scalars(
            query.order_by(*order)
            .limit(per_page)
            .offset((page - 1) * per_page)
            .options(
                # Not shown in a list: left out of the rows the database sorts to find the
                # page (SQLite sorts every match whole).
                defer(Resource.body, raiseload=True),
                defer(Resource.search_text, raiseload=True),
                selectinload(Resource.author),
                selectinload(Resource.themes),
                selectinload(Resource.levels),
            )
        )
    )
    return ResultPage(resources, total, page, pages, per_page, words)
