"""DESIGN.md §3 "Groups": certification is a timestamp set and removed by admins, logged."""

import pytest
from sqlalchemy import select

from models import ActionGroup, AuditEntry, db
from services.errors import Conflict, Invalid, NotAllowed
from services.groups import clean_departement, set_certification
from tests import factories as f


def reload(group_id: int) -> ActionGroup:
    db.session.expire_all()
    return db.session.get(ActionGroup, group_id)


def test_certification_is_a_timestamp_set_and_removed_by_admins_with_a_logged_reason(app):
    admin = f.person(admin=True)
    g = f.group(certified=False)
    set_certification(admin, g.id, True, "Groupe actif depuis un an")
    assert reload(g.id).certified_at is not None
    set_certification(admin, g.id, False, "Groupe dissous")
    assert reload(g.id).certified_at is None
    log = db.session.scalars(
        select(AuditEntry).where(AuditEntry.group_id == g.id).order_by(AuditEntry.id)
    ).all()
    assert [(e.action, e.reason, e.actor_id) for e in log] == [
        ("group.certify", "Groupe actif depuis un an", admin.id),
        ("group.decertify", "Groupe dissous", admin.id),
    ]


@pytest.mark.parametrize("role", [None, "animation", "finance"])
def test_only_admins_certify(app, role):
    person = f.person(**({role: True} if role else {}))
    g = f.group(certified=False)
    with pytest.raises(NotAllowed):
        set_certification(person, g.id, True, "Je le veux")
    assert reload(g.id).certified_at is None


def test_certification_needs_a_reason_and_a_change(app):
    admin = f.person(admin=True)
    g = f.group(certified=True)
    with pytest.raises(Invalid):
        set_certification(admin, g.id, False, " ")
    with pytest.raises(Conflict):
        set_certification(admin, g.id, True, "Encore")
    assert db.session.scalar(select(AuditEntry.id)) is None


@pytest.mark.parametrize(
    "raw, clean", [("33", "33"), ("2a", "2A"), ("1", "01"), (" 972 ", "972"), ("75", "75")]
)
def test_departement_codes_are_normalised(raw, clean):
    assert clean_departement(raw) == clean


@pytest.mark.parametrize("raw", ["", "00", "20", "96", "99", "ABC", "3A"])
def test_unknown_departement_codes_are_refused(app, raw):
    with pytest.raises(Invalid):
        clean_departement(raw)
