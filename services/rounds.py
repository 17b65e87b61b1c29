"""Running budget rounds (finance team and admins): create, edit, make current; the audit."""

from dataclasses import dataclass, replace
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from models import AuditEntry, BudgetRound, Person, ThresholdPolicy, db

from .access import require_staff
from .budget import lock_round, settle_round
from .errors import Conflict, Invalid
from .money import format_cents, format_paris
from .tx import for_update, write_transaction

NAME_MAX_LENGTH = 160
REASON_MAX_LENGTH = 500
ROUND_ROLES = ("finance", "admin")


@dataclass(frozen=True)
class RoundSettings:
    name: str
    total_cents: int
    base_threshold: int
    policy: ThresholdPolicy
    opens_at: datetime
    closes_at: datetime

    def cleaned(self) -> "RoundSettings":
        return replace(self, name=" ".join((self.name or "").split()))


def check_settings(settings: RoundSettings) -> None:
    if not settings.name:
        raise Invalid(_("Donnez un nom au budget participatif."))
    if len(settings.name) > NAME_MAX_LENGTH:
        raise Invalid(_("Le nom ne peut dépasser %(max)d caractères.", max=NAME_MAX_LENGTH))
    if settings.total_cents < 0:
        raise Invalid(_("Le montant total ne peut pas être négatif."))
    if settings.base_threshold < 1:
        raise Invalid(_("Le seuil de base doit être d'au moins un groupe."))
    if settings.policy not in tuple(ThresholdPolicy):
        raise Invalid(_("Choisissez une règle de seuil : fixe ou proportionnelle."))
    if settings.closes_at <= settings.opens_at:
        raise Invalid(_("La clôture des engagements doit venir après leur ouverture."))


def _audit(actor: Person, budget_round: BudgetRound, action: str, old, new, reason="") -> None:
    db.session.add(
        AuditEntry(
            actor_id=actor.id,
            action=action,
            round_id=budget_round.id,
            old_value=str(old),
            new_value=str(new),
            reason=reason,
        )
    )


def create_round(actor: Person, settings: RoundSettings, make_current: bool = False) -> int:
    """A new round; it becomes the current one if asked, or if there is none."""
    settings = settings.cleaned()
    check_settings(settings)
    try:
        with write_transaction():
            require_staff(actor, *ROUND_ROLES)
            currents = db.session.scalars(
                for_update(select(BudgetRound).where(BudgetRound.is_current))
            ).all()
            if make_current:
                for other in currents:
                    other.is_current = False
                db.session.flush()
            budget_round = BudgetRound(
                name=settings.name,
                total_cents=settings.total_cents,
                base_threshold=settings.base_threshold,
                policy=settings.policy,
                opens_at=settings.opens_at,
                closes_at=settings.closes_at,
                is_current=make_current or not currents,
                reserved_cents=0,
                version=0,
            )
            db.session.add(budget_round)
            db.session.flush()
            _audit(actor, budget_round, "round.create", "", _describe(budget_round))
            return budget_round.id
    except IntegrityError as error:
        raise Conflict(_("Un autre budget vient d'être rendu courant : réessayez.")) from error


def _describe(budget_round: BudgetRound) -> str:
    return _(
        "%(name)s ; total %(total)s ; seuil de base %(base)d ; règle %(policy)s ; "
        "engagements du %(opens)s au %(closes)s",
        name=budget_round.name,
        total=format_cents(budget_round.total_cents),
        base=budget_round.base_threshold,
        policy=POLICY_LABELS[budget_round.policy](),
        opens=format_paris(budget_round.opens_at),
        closes=format_paris(budget_round.closes_at),
    )


POLICY_LABELS = {
    ThresholdPolicy.manual: lambda: _("fixe"),
    ThresholdPolicy.scaled: lambda: _("proportionnelle au budget restant"),
}


def update_round(actor: Person, round_id: int, settings: RoundSettings, reason: str) -> bool:
    """Change a round's settings, each change audited with the reason; returns whether
    anything changed. Lowering the total below what is reserved is refused with the figures.
    A lower threshold or a larger total then settles the round: waiting commitments reserve,
    proposals that now reach their threshold become fundable."""
    settings = settings.cleaned()
    check_settings(settings)
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX_LENGTH:
        raise Invalid(_("La raison ne peut dépasser %(max)d caractères.", max=REASON_MAX_LENGTH))
    with write_transaction():
        require_staff(actor, *ROUND_ROLES)
        budget_round = lock_round(round_id)
        if settings.total_cents < budget_round.reserved_cents:
            raise Invalid(
                _(
                    "Le total ne peut pas descendre sous ce qui est déjà réservé : "
                    "%(reserved)s sont réservés pour les groupes engagés, le total demandé "
                    "est de %(total)s.",
                    reserved=format_cents(budget_round.reserved_cents),
                    total=format_cents(settings.total_cents),
                )
            )
        changes = []
        if settings.name != budget_round.name:
            changes.append(("round.name", budget_round.name, settings.name))
        if settings.total_cents != budget_round.total_cents:
            changes.append(
                (
                    "round.total",
                    format_cents(budget_round.total_cents),
                    format_cents(settings.total_cents),
                )
            )
        if settings.base_threshold != budget_round.base_threshold:
            changes.append(
                ("round.base_threshold", budget_round.base_threshold, settings.base_threshold)
            )
        if settings.policy != budget_round.policy:
            changes.append(
                (
                    "round.policy",
                    POLICY_LABELS[budget_round.policy](),
                    POLICY_LABELS[settings.policy](),
                )
            )
        if settings.opens_at != budget_round.opens_at:
            changes.append(
                (
                    "round.opens_at",
                    format_paris(budget_round.opens_at),
                    format_paris(settings.opens_at),
                )
            )
        if settings.closes_at != budget_round.closes_at:
            changes.append(
                (
                    "round.closes_at",
                    format_paris(budget_round.closes_at),
                    format_paris(settings.closes_at),
                )
            )
        if not changes:
            return False
        if not reason:
            raise Invalid(_("Indiquez la raison de ce changement : elle figure au journal."))
        for action, old, new in changes:
            _audit(actor, budget_round, action, old, new, reason)
        budget_round.name = settings.name
        budget_round.total_cents = settings.total_cents
        budget_round.base_threshold = settings.base_threshold
        budget_round.policy = settings.policy
        budget_round.opens_at = settings.opens_at
        budget_round.closes_at = settings.closes_at
        # The cards' threshold follows (the polls compare it); no proposal row is written
        # here, which keeps the lock order (proposal, then round) of the other services.
        budget_round.version += 1
    settle_round(round_id)
    return True


def make_current(actor: Person, round_id: int) -> None:
    """The round new proposals join and the home page shows."""
    try:
        with write_transaction():
            require_staff(actor, *ROUND_ROLES)
            budget_round = lock_round(round_id)
            if budget_round.is_current:
                return
            previous = db.session.scalars(
                for_update(select(BudgetRound).where(BudgetRound.is_current))
            ).all()
            for other in previous:
                other.is_current = False
            db.session.flush()
            budget_round.is_current = True
            _audit(
                actor,
                budget_round,
                "round.current",
                ", ".join(r.name for r in previous),
                budget_round.name,
            )
    except IntegrityError as error:
        raise Conflict(_("Un autre budget vient d'être rendu courant : réessayez.")) from error
