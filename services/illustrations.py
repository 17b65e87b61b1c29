"""Illustrations of a proposal: upload, caption and alternative text, order, cover, deletion.

Who may change them is the workspace rule (`workspace_access.require_edit`): the proposal's
group while it is a draft, the animation team once it is submitted, before and after
publication. Every change takes the proposal's lock (`lock_proposal`), so that two editors
reordering at once cannot give two illustrations the same position.

Decisions:

- The alternative text is required before an illustration is shown in public. Right after an
  upload it is empty: such an illustration appears only in the workspace editor, marked
  « Texte alternatif à rédiger »; the public gallery, the proposal page and the list cards
  skip it, and its files are served only to the workspace. `missing_alt_count` lets
  publication wait until every illustration has one. Once written, it cannot be emptied
  again (delete the illustration instead).
- The cover is always an explicit choice (« Choisir comme couverture »), and only an
  illustration with an alternative text can be chosen. Nothing becomes the cover on its own:
  not the first upload (it has no alternative text yet), and when the cover is deleted no
  other illustration replaces it; the proposal has no cover until someone chooses one.
- Positions run from 1 to n in the editor's order; moving up or down swaps with the
  neighbour; moving the first up or the last down changes nothing (a double click is not an
  error). A deletion closes the gap.
- An upload of several files is all or nothing: if one file is refused, none is stored, and
  the message says why for each refused file.
- Files are written once the request is known to be allowed and every file valid, inside the
  transaction, and removed if the transaction fails; a deleted illustration's files are
  removed after the commit (a failed commit keeps them, since the row stays).
- Nothing else of the proposal changes (no version, no live_version): the list cards show
  the cover through `catalog.ProposalCard`, whose content (cover included) is the key of the
  rendered-card cache, so a new cover, a new alternative text of the cover or a deleted cover
  is a new card, never a stale one.
"""

from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select, update

from models import AuditEntry, Illustration, Person, Proposal, db

from . import images
from .errors import Invalid, NotFound
from .tx import for_update, write_transaction
from .workspace_access import lock_proposal, require_edit, require_workspace

TEXT_MAX_LENGTH = 300
# Enough for a photo report of an action; a bound on what one proposal can put on disk.
MAX_ILLUSTRATIONS = 40


@dataclass(frozen=True)
class UploadedFile:
    """One file of an upload: the name the person gave it (for messages only) and its bytes."""

    filename: str
    data: bytes


def _config(name: str):
    return current_app.config[name]


def _uploads_root() -> str:
    return _config("UPLOADS_PATH")


# Reading -------------------------------------------------------------------------------------


def editor_illustrations(proposal_id: int) -> list[Illustration]:
    """Every illustration of the proposal, in order, for the workspace editor (one query)."""
    return list(
        db.session.scalars(
            select(Illustration)
            .where(Illustration.proposal_id == proposal_id)
            .order_by(Illustration.position, Illustration.id)
        )
    )


def public_illustrations(proposal_id: int) -> list[Illustration]:
    """What the public sees of a published proposal, in order: the illustrations that have an
    alternative text (one query). The caller shows them only if the proposal is published."""
    return list(
        db.session.scalars(
            select(Illustration)
            .where(Illustration.proposal_id == proposal_id, Illustration.alt_text != "")
            .order_by(Illustration.position, Illustration.id)
        )
    )


def missing_alt_count(proposal_id: int) -> int:
    """How many illustrations of the proposal still wait for their alternative text;
    publication is refused while it is above zero."""
    return db.session.scalar(
        select(func.count(Illustration.id)).where(
            Illustration.proposal_id == proposal_id, Illustration.alt_text == ""
        )
    )


def is_public_file(illustration: Illustration, proposal_is_public: bool) -> bool:
    """Whether anyone may see this illustration's files: shown on a published proposal."""
    return proposal_is_public and bool(illustration.alt_text)


def find_by_stored_name(stored_name: str) -> Illustration | None:
    return db.session.scalar(select(Illustration).where(Illustration.stored_name == stored_name))


def viewable_illustration(person: Person | None, illustration_id: int) -> Illustration:
    """The illustration, if this person shares its proposal's workspace (404/403 otherwise)."""
    illustration = db.session.get(Illustration, illustration_id)
    if illustration is None:
        raise NotFound(_("Cette illustration n'existe pas."))
    require_workspace(person, illustration_proposal(illustration))
    return illustration


def editable_illustration(person: Person | None, illustration_id: int) -> Illustration:
    """The illustration, if this person may change it now (for the edit and delete pages;
    the services check again under the lock)."""
    illustration = viewable_illustration(person, illustration_id)
    require_edit(person, illustration_proposal(illustration))
    return illustration


def illustration_proposal(illustration: Illustration) -> Proposal:
    return db.session.get(Proposal, illustration.proposal_id)


# Upload --------------------------------------------------------------------------------------


def _process_all(files: list[UploadedFile]) -> list[images.ProcessedImage]:
    """Every file processed, or one error that says what is wrong with each refused file."""
    processed, errors = [], []
    for file in files:
        try:
            processed.append(
                images.process_image(
                    file.filename,
                    file.data,
                    _config("UPLOAD_MAX_BYTES"),
                    _config("UPLOAD_MAX_PIXELS"),
                )
            )
        except images.ImageRejected as error:
            errors.append(error)
    if not errors:
        return processed
    message = " ".join(error.message for error in errors)
    if len(files) > 1:
        message += " " + _("Aucune image n'a été ajoutée.")
    too_large = any(isinstance(error, images.FileTooLarge) for error in errors)
    raise (images.FileTooLarge if too_large else images.ImageRejected)(message)


def upload_illustrations(person: Person, proposal_id: int, files: list[UploadedFile]) -> list[int]:
    """Add these images at the end of the proposal's illustrations; returns their ids.

    The right to edit is checked first, without a lock, so that nobody else makes the server
    decode images; the images are then processed outside the transaction (it takes a while,
    and nobody should wait for the lock meanwhile), and everything is checked again under
    the lock before the files and rows are written.
    """
    require_edit(person, db.session.get(Proposal, proposal_id))
    if not files:
        raise Invalid(_("Choisissez au moins une image à ajouter."))
    max_files = _config("UPLOAD_MAX_FILES")
    if len(files) > max_files:
        raise Invalid(
            ngettext(
                "Une image au plus par envoi.",
                "%(num)d images au plus par envoi : envoyez les autres ensuite.",
                max_files,
            )
        )
    processed = _process_all(files)
    root = _uploads_root()
    written = []
    try:
        with write_transaction():
            proposal = lock_proposal(proposal_id)
            require_edit(person, proposal)
            count, last = db.session.execute(
                select(func.count(Illustration.id), func.max(Illustration.position)).where(
                    Illustration.proposal_id == proposal_id
                )
            ).one()
            if count + len(processed) > MAX_ILLUSTRATIONS:
                raise Invalid(
                    _(
                        "Une proposition compte au plus %(max)d illustrations ; elle en a "
                        "déjà %(count)d.",
                        max=MAX_ILLUSTRATIONS,
                        count=count,
                    )
                )
            rows = []
            for position, image in enumerate(processed, start=(last or 0) + 1):
                stored_name = images.new_stored_name()
                written += images.save_files(root, stored_name, image)
                row = Illustration(
                    proposal_id=proposal_id,
                    position=position,
                    is_cover=False,
                    stored_name=stored_name,
                    format=image.format,
                    width=image.width,
                    height=image.height,
                    thumb_width=image.thumb_width,
                    thumb_height=image.thumb_height,
                    byte_size=len(image.data),
                    caption="",
                    alt_text="",
                    uploaded_by_id=person.id,
                )
                db.session.add(row)
                rows.append(row)
            db.session.flush()
            _audit(
                person,
                proposal_id,
                "illustration.upload",
                new=", ".join(f"{row.id}:{row.stored_name}" for row in rows),
            )
            return [row.id for row in rows]
    except BaseException:
        images.remove_files(written)
        raise


# Changes -------------------------------------------------------------------------------------


def _audit(person: Person, proposal_id: int, action: str, old: str = "", new: str = "") -> None:
    """Illustrations are part of what the public sees: who changed them stays on record."""
    db.session.add(
        AuditEntry(
            actor_id=person.id,
            action=action,
            proposal_id=proposal_id,
            old_value=old,
            new_value=new,
        )
    )


def _lock_illustration(person: Person, illustration_id: int) -> Illustration:
    """The illustration, its proposal locked, once this person may edit it."""
    proposal_id = db.session.scalar(
        select(Illustration.proposal_id).where(Illustration.id == illustration_id)
    )
    if proposal_id is None:
        raise NotFound(_("Cette illustration n'existe pas."))
    proposal = lock_proposal(proposal_id)
    illustration = db.session.scalar(
        for_update(select(Illustration).where(Illustration.id == illustration_id))
    )
    if illustration is None or illustration.proposal_id != proposal.id:
        raise NotFound(_("Cette illustration n'existe pas."))
    require_edit(person, proposal)
    return illustration


def clean_texts(caption: str | None, alt_text: str | None) -> tuple[str, str]:
    """The caption and alternative text as stored, or Invalid saying what is wrong."""
    caption = (caption or "").strip()
    alt_text = (alt_text or "").strip()
    if not alt_text:
        raise Invalid(
            _(
                "Rédigez le texte alternatif : il décrit l'image à qui ne la voit pas, et "
                "l'illustration n'est pas publiée sans lui."
            )
        )
    if len(alt_text) > TEXT_MAX_LENGTH or len(caption) > TEXT_MAX_LENGTH:
        raise Invalid(
            _(
                "La légende et le texte alternatif font %(max)d caractères au plus.",
                max=TEXT_MAX_LENGTH,
            )
        )
    return caption, alt_text


def update_illustration(
    person: Person, illustration_id: int, caption: str | None, alt_text: str | None
) -> None:
    """Save the caption (optional) and the alternative text (required)."""
    caption, alt_text = clean_texts(caption, alt_text)
    with write_transaction():
        illustration = _lock_illustration(person, illustration_id)
        if (illustration.caption, illustration.alt_text) == (caption, alt_text):
            return
        _audit(
            person,
            illustration.proposal_id,
            "illustration.texts",
            old=f"{illustration.alt_text}\n{illustration.caption}",
            new=f"{alt_text}\n{caption}",
        )
        illustration.caption = caption
        illustration.alt_text = alt_text


def move_illustration(person: Person, illustration_id: int, direction: str) -> None:
    """Swap the illustration with its neighbour before ("up") or after ("down") it."""
    if direction not in ("up", "down"):
        raise Invalid(_("Indiquez s'il faut monter ou descendre l'illustration."))
    with write_transaction():
        illustration = _lock_illustration(person, illustration_id)
        siblings = select(Illustration).where(Illustration.proposal_id == illustration.proposal_id)
        if direction == "up":
            neighbour_query = siblings.where(
                Illustration.position < illustration.position
            ).order_by(Illustration.position.desc())
        else:
            neighbour_query = siblings.where(
                Illustration.position > illustration.position
            ).order_by(Illustration.position)
        neighbour = db.session.scalar(for_update(neighbour_query.limit(1)))
        if neighbour is None:
            return  # already first (or last): nothing to do
        illustration.position, neighbour.position = neighbour.position, illustration.position


def set_cover(person: Person, illustration_id: int) -> None:
    """Make this illustration the proposal's cover (it needs its alternative text first)."""
    with write_transaction():
        illustration = _lock_illustration(person, illustration_id)
        if illustration.is_cover:
            return
        if not illustration.alt_text:
            raise Invalid(
                _(
                    "Rédigez d'abord le texte alternatif de cette illustration : une "
                    "couverture sans texte alternatif ne peut pas être affichée."
                )
            )
        # The old cover first: the partial unique index allows one cover per proposal.
        db.session.execute(
            update(Illustration)
            .where(
                Illustration.proposal_id == illustration.proposal_id,
                Illustration.is_cover,
            )
            .values(is_cover=False)
            .execution_options(synchronize_session="fetch")
        )
        illustration.is_cover = True
        _audit(person, illustration.proposal_id, "illustration.cover", new=str(illustration.id))


def delete_illustration(person: Person, illustration_id: int) -> None:
    """Delete the illustration and, once that is committed, its files. Deleting the cover
    leaves the proposal without one (no other illustration replaces it on its own)."""
    with write_transaction():
        illustration = _lock_illustration(person, illustration_id)
        paths = images.stored_paths(_uploads_root(), illustration.stored_name, illustration.format)
        proposal_id, position = illustration.proposal_id, illustration.position
        _audit(
            person,
            proposal_id,
            "illustration.delete",
            old=f"{illustration.id}:{illustration.stored_name}:{illustration.alt_text}",
        )
        db.session.delete(illustration)
        db.session.flush()
        db.session.execute(
            update(Illustration)
            .where(Illustration.proposal_id == proposal_id, Illustration.position > position)
            .values(position=Illustration.position - 1)
            .execution_options(synchronize_session="fetch")
        )
    images.remove_files(paths)
