"""People: accounts, staff roles, passwords and rate-limited sign-in."""

import functools
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy import delete, func, select
from werkzeug.security import check_password_hash, generate_password_hash

from models import STAFF_ROLES, AuditEntry, Person, SignInFailure, db, utcnow

from .access import require_staff
from .errors import Conflict, Invalid, NotFound, TooManyAttempts
from .tx import for_update, write_transaction

PASSWORD_MIN_LENGTH = 10


@functools.cache
def _dummy_hash() -> str:
    return generate_password_hash("no account has this password")


def _clean_email(email: str) -> str:
    try:
        return Person.normalize_email(
            validate_email(email.strip(), check_deliverability=False).normalized
        )
    except EmailNotValidError as error:
        raise Invalid(_("Adresse e-mail invalide.")) from error


def _check_password_strength(password: str) -> None:
    if len(password) < PASSWORD_MIN_LENGTH:
        raise Invalid(
            _(
                "Le mot de passe doit compter au moins %(min)d caractères.",
                min=PASSWORD_MIN_LENGTH,
            )
        )


def create_person_unchecked(
    email: str,
    display_name: str,
    password: str,
    roles: tuple[str, ...] = (),
    actor: Person | None = None,
) -> int:
    """Create an account; with an actor (an admin), the creation is audited in the same
    transaction. Without one (command line, demo data) there is nobody to authorize."""
    email = _clean_email(email)
    display_name = display_name.strip()
    if not display_name or len(display_name) > 120:
        raise Invalid(_("Le nom affiché est obligatoire (120 caractères au plus)."))
    _check_password_strength(password)
    unknown = set(roles) - set(STAFF_ROLES)
    if unknown:
        raise Invalid(_("Rôle inconnu : %(roles)s.", roles=", ".join(sorted(unknown))))
    with write_transaction():
        if actor is not None:
            require_staff(actor, "admin")
        if db.session.scalar(select(Person.id).where(Person.email == email)) is not None:
            raise Conflict(_("Un compte existe déjà avec cette adresse e-mail."))
        person = Person(email=email, display_name=display_name)
        person.set_password(password)
        for role in roles:
            setattr(person, f"is_{role}", True)
        db.session.add(person)
        db.session.flush()
        if actor is not None:
            db.session.add(
                AuditEntry(
                    actor_id=actor.id,
                    action="person.create",
                    person_id=person.id,
                    new_value=",".join(roles),
                )
            )
        return person.id


def create_person(
    actor: Person, email: str, display_name: str, password: str, roles: tuple[str, ...] = ()
) -> int:
    require_staff(actor, "admin")
    return create_person_unchecked(email, display_name, password, roles, actor=actor)


def set_staff_roles(actor: Person, person_id: int, roles: tuple[str, ...]) -> None:
    unknown = set(roles) - set(STAFF_ROLES)
    if unknown:
        raise Invalid(_("Rôle inconnu : %(roles)s.", roles=", ".join(sorted(unknown))))
    with write_transaction():
        require_staff(actor, "admin")
        person = db.session.scalar(for_update(select(Person).where(Person.id == person_id)))
        if person is None:
            raise NotFound(_("Cette personne n'existe pas."))
        if person.id == actor.id and "admin" not in roles:
            raise Invalid(_("Vous ne pouvez pas retirer votre propre rôle d'administration."))
        old = ",".join(person.staff_roles)
        for role in STAFF_ROLES:
            setattr(person, f"is_{role}", role in roles)
        db.session.add(
            AuditEntry(
                actor_id=actor.id,
                action="person.roles",
                person_id=person.id,
                old_value=old,
                new_value=",".join(r for r in STAFF_ROLES if r in roles),
            )
        )


def change_password(person: Person, current: str, new: str) -> None:
    _check_password_strength(new)
    with write_transaction():
        locked = db.session.scalar(for_update(select(Person).where(Person.id == person.id)))
        if not locked.check_password(current):
            raise Invalid(_("Le mot de passe actuel est incorrect."))
        locked.set_password(new)
        locked.auth_version += 1


def authenticate(
    email: str, password: str, ip: str, max_failures: int, max_per_ip: int, window_seconds: int
) -> Person:
    """The person with these credentials, or an error that says nothing about the address.

    Failures are stored in the database so that every app server counts them together.
    """
    email = Person.normalize_email(email or "")[:254]
    since = utcnow() - timedelta(seconds=window_seconds)
    by_email = db.session.scalar(
        select(func.count()).where(SignInFailure.email == email, SignInFailure.at >= since)
    )
    by_ip = db.session.scalar(
        select(func.count()).where(SignInFailure.ip == ip, SignInFailure.at >= since)
    )
    if by_email >= max_failures or by_ip >= max_per_ip:
        raise TooManyAttempts(
            _(
                "Trop de tentatives de connexion. Réessayez dans %(minutes)d minutes.",
                minutes=max(1, window_seconds // 60),
            )
        )
    person = db.session.scalar(select(Person).where(Person.email == email))
    if person is None:
        # Spend the same time as for a real account: the timing must not reveal the address.
        check_password_hash(_dummy_hash(), password or "")
    elif person.check_password(password or ""):
        with write_transaction():
            db.session.execute(delete(SignInFailure).where(SignInFailure.email == email))
        return db.session.get(Person, person.id)
    with write_transaction():
        db.session.execute(delete(SignInFailure).where(SignInFailure.at < since))
        db.session.add(SignInFailure(email=email, ip=ip[:64]))
    raise Invalid(_("Adresse e-mail ou mot de passe incorrect."))
