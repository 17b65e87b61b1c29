"""Accounts and staff roles at the service layer."""

import pytest
from sqlalchemy import func, select

from models import AuditEntry, Person, db
from services.errors import Conflict, NotAllowed, NotFound
from services.people import create_person, set_staff_roles
from tests import factories as f


def test_an_admin_creates_an_account_and_the_creation_is_audited_with_it(app):
    admin = f.person(admin=True)
    person_id = create_person(admin, "Zoe@Example.org", "Zoé", "a long password", ("finance",))
    person = db.session.get(Person, person_id)
    assert person.email == "zoe@example.org" and person.is_finance and not person.is_admin
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.person_id == person_id))
    assert (entry.action, entry.actor_id, entry.new_value) == ("person.create", admin.id, "finance")


def test_a_refused_account_creation_writes_nothing(app):
    admin = f.person(admin=True, email="admin@example.org")
    with pytest.raises(Conflict):
        create_person(admin, "admin@example.org", "Double", "a long password")
    with pytest.raises(NotAllowed):
        create_person(f.person(animation=True), "new@example.org", "Nouveau", "a long password")
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0
    assert db.session.scalar(select(func.count()).select_from(Person)) == 2


def test_roles_of_an_unknown_person_is_not_found(app):
    with pytest.raises(NotFound):
        set_staff_roles(f.person(admin=True), 9999, ("finance",))
