"""National-scale data for the benchmark, loaded with SQLAlchemy Core bulk inserts.

10,000 action groups (mostly certified), 1,000 published proposals in one round, 200,000
active commitments (unique per group and proposal; each proposal's commitment_count equals its
active rows and the fundable transition is recorded where the count reached the threshold),
people and memberships. A "bench manager" manages a pool of certified groups that have no
commitment at all, so that every (pool group, proposal) pair can be committed exactly once by
the commit scenario.

The round is the current one, open for commitments (opened before the first publication,
closing in three months), with the manual threshold policy. Its reservations are replayed in
time order as services.budget makes them: at a proposal's fundable transition its commitments
reserve in commitment order while the remaining budget allows, a later commitment reserves at
once if it can. The total covers every commitment to a fundable proposal, rounded up to the
next million euros: what remains lets the commit scenario's first commitments to fundable
proposals reserve, and the later ones find the budget exhausted. The counters (the round's
reserved_cents, each proposal's reserved_count and reserved_cents) are the reservations' sums,
checked after the inserts.

Then the network of elected officials' data (bench/network_data.py: members and mandates,
the shared library, the discussion list), with its own checks.

The schema is dropped and rebuilt with the migrations (`flask db upgrade`). Usage:

    .venv/bin/python -m bench.generate --url sqlite:///bench/data/bench.sqlite3
    .venv/bin/python -m bench.generate --url postgresql+psycopg://postgres@127.0.0.1:5432/test_bench
"""

import argparse
import random
import re
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url

from bench.network_data import NetworkData, fill_network
from models import (
    ActionGroup,
    BudgetRound,
    Category,
    Commitment,
    CommitmentStatus,
    MemberRole,
    Membership,
    Person,
    Proposal,
    ProposalStatus,
    Reservation,
    ThresholdPolicy,
    fold_text,
)

MANAGER_EMAIL = "gestion.bench@commun.example"
MANAGER_PASSWORD = "banc-d-essai-national-2026"
BATCH = 5_000
ROUND_ID = 1
# The total is rounded up to the next million euros (in cents).
TOTAL_STEP_CENTS = 100_000_000

_COMMUNES = (
    "Paris 75; Marseille 13; Lyon 69; Toulouse 31; Nice 06; Nantes 44; Montpellier 34; "
    "Strasbourg 67; Bordeaux 33; Lille 59; Rennes 35; Reims 51; Toulon 83; Grenoble 38; "
    "Dijon 21; Angers 49; Nîmes 30; Villeurbanne 69; Clermont-Ferrand 63; Le Mans 72; "
    "Aix-en-Provence 13; Brest 29; Tours 37; Amiens 80; Limoges 87; Annecy 74; Perpignan 66; "
    "Besançon 25; Metz 57; Orléans 45; Rouen 76; Mulhouse 68; Caen 14; Nancy 54; "
    "Argenteuil 95; Saint-Denis 93; Montreuil 93; Roubaix 59; Avignon 84; Poitiers 86; Pau 64; "
    "La Rochelle 17; Ajaccio 2A; Bastia 2B; Fort-de-France 972; Pointe-à-Pitre 971; "
    "Cayenne 973; Saint-Pierre 974; Quimper 29; Valence 26; Troyes 10; Chambéry 73; Niort 79; "
    "Lorient 56; Vannes 56; Albi 81; Gap 05; Auch 32; Guéret 23; Mende 48; Foix 09; Laval 53; "
    "Épinal 88; Bourges 18; Cahors 46; Rodez 12"
)
COMMUNES = [tuple(item.rsplit(" ", 1)) for item in _COMMUNES.split("; ")]  # (name, département)
GROUP_KINDS = ["Groupe d'action", "Collectif", "Comité local", "Assemblée", "Groupe"]
QUARTERS = [
    "Centre",
    "Nord",
    "Sud",
    "Est",
    "Ouest",
    "Gare",
    "Vieux-Port",
    "Les Halles",
    "La Plaine",
    "Les Coteaux",
    "Bellevue",
    "Saint-Jean",
    "Le Bourg",
    "Les Prés",
]
ACTIONS = [
    ("Cantine solidaire", Category.alimentation),
    ("Jardin partagé", Category.ecologie),
    ("Atelier de réparation de vélos", Category.mobilite),
    ("Épicerie à prix coûtant", Category.alimentation),
    ("Permanence logement", Category.logement),
    ("Ciné-débat", Category.culture),
    ("Cours d'alphabétisation", Category.education),
    ("Maraude hivernale", Category.solidarite),
    ("Dépistage santé gratuit", Category.sante),
    ("Bibliothèque de rue", Category.culture),
    ("Covoiturage des zones rurales", Category.mobilite),
    ("Ressourcerie", Category.ecologie),
    ("Soutien scolaire", Category.education),
    ("Brigade anti-punaises", Category.logement),
    ("Distribution de paniers paysans", Category.alimentation),
    ("Bal populaire", Category.culture),
    ("Caisse de grève locale", Category.solidarite),
    ("Repair café", Category.ecologie),
    ("Université populaire", Category.education),
    ("Point d'accès aux droits", Category.solidarite),
    ("Atelier santé mentale", Category.sante),
]
PLACES = [
    "dans chaque quartier",
    "pour les locataires",
    "au marché du samedi",
    "devant les écoles",
    "dans les villages",
    "avec les syndicats",
    "en pied d'immeuble",
    "pour les étudiant·es",
    "l'été",
    "pendant l'hiver",
    "avec les associations",
]


@dataclass
class BenchData:
    url: str
    manager_email: str
    manager_password: str
    pool_group_ids: list[int]
    proposal_ids: list[int]
    slugs: list[str]
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    fundable: int = 0
    total_cents: int = 0
    reserved_cents: int = 0
    network: NetworkData | None = None


def _slugify(text_: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold_text(text_)).strip("-")


def _insert(conn, table, rows: list[dict]) -> None:
    for start in range(0, len(rows), BATCH):
        conn.execute(insert(table), rows[start : start + BATCH])


def reset_database(url: str) -> None:
    """An empty database: the SQLite file removed, or PostgreSQL's public schema recreated."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database)
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    from sqlalchemy import create_engine

    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


def generate(
    url: str,
    *,
    groups: int = 10_000,
    proposals: int = 1_000,
    commitments: int = 200_000,
    base_threshold: int = 150,
    pool: int = 25,
    seed: int = 2026,
    network: bool = True,
    log=print,
) -> BenchData:
    started = time.perf_counter()
    reset_database(url)

    import logging

    from flask_migrate import upgrade

    from app import create_app
    from models import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade()
        # Alembic's fileConfig silences the other loggers; the app's own must stay audible.
        logging.getLogger().setLevel(logging.WARNING)
        schema_s = time.perf_counter() - started
        data = _fill(
            db.engine,
            groups=groups,
            proposals=proposals,
            commitments=commitments,
            base_threshold=base_threshold,
            pool=pool,
            seed=seed,
        )
        budget_s = time.perf_counter() - started
        if network:
            data.network = fill_network(db.engine, seed=seed)
        db.session.remove()
        db.engine.dispose()
    if make_url(url).get_backend_name() == "sqlite":
        # Fold the write-ahead log into the database file before the server opens it.
        with closing(sqlite3.connect(make_url(url).database)) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data.url = url
    data.seconds = time.perf_counter() - started
    log(
        f"  data: {data.counts['action_group']:,} groups, {data.counts['proposal']:,} proposals "
        f"({data.fundable} fundable), {data.counts['commitment']:,} commitments, "
        f"{data.counts['reservation']:,} reservations ({data.reserved_cents // 100:,} € of "
        f"{data.total_cents // 100:,} €), {data.counts['person']:,} people, "
        f"{data.counts['membership']:,} memberships in {budget_s:.1f} s "
        f"(schema {schema_s:.1f} s)"
    )
    if data.network is not None:
        net = data.network
        log(f"  network: {net.summary()} in {net.seconds:.1f} s ({net.timing()})")
        log(
            "  network searches: "
            + ", ".join(f"{w!r} {n:,}" for w, n in net.search_hits.items())
            + f" resources; directory municipal/33: {net.directory_total} members"
        )
    log(f"  data loaded in {data.seconds:.1f} s")
    return data


def _fill(engine, *, groups, proposals, commitments, base_threshold, pool, seed) -> BenchData:
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    password_holder = Person()
    password_holder.set_password(MANAGER_PASSWORD)
    password_hash = password_holder.password_hash  # one (slow) hash, reused by everyone

    # Groups: ~92 % certified; the first `pool` are certified and never committed (commit pool).
    group_rows, certified_ids = [], []
    for gid in range(1, groups + 1):
        commune, dep = rng.choice(COMMUNES)
        certified = gid <= pool or rng.random() < 0.92
        created = now - timedelta(days=rng.uniform(60, 900))
        group_rows.append(
            dict(
                id=gid,
                name=f"{rng.choice(GROUP_KINDS)} {commune} {rng.choice(QUARTERS)} {gid}",
                commune=commune,
                departement=dep,
                certified_at=created + timedelta(days=rng.uniform(1, 50)) if certified else None,
                created_at=created,
            )
        )
        if certified and gid > pool:
            certified_ids.append(gid)
    pool_ids = list(range(1, pool + 1))

    # People: one manager and two members per group, plus the bench manager (last id).
    person_rows, membership_rows = [], []
    for gid in range(1, groups + 1):
        for k, role in enumerate((MemberRole.manager, MemberRole.member, MemberRole.member)):
            pid = 3 * (gid - 1) + k + 1
            person_rows.append(
                dict(
                    id=pid,
                    email=f"p{pid}@groupes.commun.example",
                    display_name=f"Militant·e {pid}",
                    password_hash=password_hash,
                    auth_version=1,
                    is_animation=False,
                    is_finance=False,
                    is_admin=False,
                    created_at=now - timedelta(days=30),
                )
            )
            membership_rows.append(
                dict(person_id=pid, group_id=gid, role=role, created_at=now - timedelta(days=30))
            )
    manager_id = 3 * groups + 1
    person_rows.append(
        dict(
            id=manager_id,
            email=MANAGER_EMAIL,
            display_name="Gestionnaire du banc d'essai",
            password_hash=password_hash,
            auth_version=1,
            is_animation=False,
            is_finance=False,
            is_admin=False,
            created_at=now - timedelta(days=30),
        )
    )
    for gid in pool_ids:
        membership_rows.append(
            dict(person_id=manager_id, group_id=gid, role=MemberRole.manager, created_at=now)
        )
    for mid, row in enumerate(membership_rows, start=1):
        row["id"] = mid

    # Counts: uniform in [0, 2 × mean], then nudged so that they sum to `commitments` exactly.
    mean = commitments // proposals
    top = min(2 * mean, len(certified_ids))
    counts = [rng.randint(0, top) for _ in range(proposals)]
    while (diff := commitments - sum(counts)) != 0:
        i = rng.randrange(proposals)
        step = 1 if diff > 0 else -1
        if 0 <= counts[i] + step <= top:
            counts[i] += step

    proposal_rows, commitment_rows, slugs = [], [], []
    fundable = 0
    cid = 0
    for i in range(proposals):
        pid_ = i + 1
        action, category = ACTIONS[i % len(ACTIONS)]
        title = f"{action} {rng.choice(PLACES)} ({pid_})"
        summary = (
            f"{action} : une action simple à reproduire localement, {rng.choice(PLACES)}, "
            f"avec un budget modeste et du matériel réutilisable."
        )
        body = (
            f"## Pourquoi\n\n{summary}\n\n## Comment\n\n"
            "1. Réunir le groupe et choisir un lieu.\n2. Acheter le matériel.\n"
            "3. Annoncer l'action dans le quartier.\n\n"
            "## Budget\n\n| Poste | Montant |\n|---|---|\n| Matériel | 60 % |\n"
            "| Communication | 40 % |\n\n"
            + "Les groupes qui l'ont déjà menée racontent leur expérience. "
            * 8
        )
        slug = _slugify(title)  # unique: the title ends with the id
        slugs.append(slug)
        published = now - timedelta(days=rng.uniform(1, 90), seconds=i)
        override = rng.choice([50, 100, 200, 300]) if rng.random() < 0.1 else None
        threshold = override or base_threshold
        count = counts[i]
        times = sorted(published + (now - published) * rng.random() for _ in range(count))
        fundable_at = times[threshold - 1] if count >= threshold else None
        fundable += fundable_at is not None
        for gid, at in zip(rng.sample(certified_ids, count), times, strict=True):
            cid += 1
            commitment_rows.append(
                dict(
                    id=cid,
                    group_id=gid,
                    proposal_id=pid_,
                    person_id=3 * (gid - 1) + 1,
                    note="" if cid % 5 else "Nous l'adapterons à notre quartier.",
                    status=CommitmentStatus.active,
                    committed_at=at,
                    withdrawn_at=None,
                    created_at=at,
                )
            )
        proposal_rows.append(
            dict(
                id=pid_,
                round_id=ROUND_ID,
                title=title,
                slug=slug,
                summary=summary,
                body=body,
                category=category,
                per_group_budget_cents=rng.randrange(50, 2_000) * 100,
                origin_group_id=rng.choice(certified_ids),
                status=ProposalStatus.published,
                threshold_override=override,
                commitment_count=count,
                fundable_at=fundable_at,
                fundable_threshold=threshold if fundable_at else None,
                fundable_count=threshold if fundable_at else None,
                reserved_count=0,
                reserved_cents=0,
                search_text=fold_text(f"{title}\n{summary}"),
                published_at=published,
                created_at=published - timedelta(days=3),
                updated_at=fundable_at or published,
            )
        )

    round_row = dict(
        id=ROUND_ID,
        name="Budget participatif national 2026",
        total_cents=0,
        base_threshold=base_threshold,
        policy=ThresholdPolicy.manual,
        # Open before the first publication (at most 90 days ago), closing in three months.
        opens_at=now - timedelta(days=100),
        closes_at=now + timedelta(days=90),
        is_current=True,
        reserved_cents=0,
        version=0,
        created_at=now - timedelta(days=120),
    )
    reservation_rows = _reservations(round_row, proposal_rows, commitment_rows)

    tables = [
        (BudgetRound.__table__, [round_row]),
        (ActionGroup.__table__, group_rows),
        (Person.__table__, person_rows),
        (Membership.__table__, membership_rows),
        (Proposal.__table__, proposal_rows),
        (Commitment.__table__, commitment_rows),
        (Reservation.__table__, reservation_rows),
    ]
    with engine.begin() as conn:
        for table, rows in tables:
            _insert(conn, table, rows)
        if engine.dialect.name == "postgresql":
            # Explicit ids: move the sequences past them, or the app's next insert collides.
            for table, _rows in tables:
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"(SELECT max(id) FROM {table.name}))"
                    )
                )
        # The rule "count = active rows", checked on what was written.
        drift = conn.scalar(
            select(func.count())
            .select_from(Proposal.__table__)
            .where(
                Proposal.commitment_count
                != select(func.count())
                .where(
                    Commitment.proposal_id == Proposal.id,
                    Commitment.status == CommitmentStatus.active,
                )
                .scalar_subquery()
            )
        )
        if drift:
            raise RuntimeError(f"{drift} proposals whose count differs from their rows")
        _check_reservations(conn)
    # Fresh statistics, as autovacuum (PostgreSQL) or `PRAGMA optimize` (SQLite) would give.
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
        else:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()

    return BenchData(
        url="",
        manager_email=MANAGER_EMAIL,
        manager_password=MANAGER_PASSWORD,
        pool_group_ids=pool_ids,
        proposal_ids=[r["id"] for r in proposal_rows],
        slugs=slugs,
        counts={table.name: len(rows) for table, rows in tables},
        fundable=fundable,
        total_cents=round_row["total_cents"],
        reserved_cents=round_row["reserved_cents"],
    )


def _reservations(round_row: dict, proposal_rows: list[dict], commitment_rows: list[dict]):
    """The reservations of the fundable proposals, replayed in time order (see the module's
    docstring); sets the round's total and the counters of the round and the proposals."""
    by_proposal: dict[int, list[dict]] = {}
    for row in commitment_rows:  # in commitment order within each proposal
        by_proposal.setdefault(row["proposal_id"], []).append(row)
    events, demand, fundable = [], 0, 0
    for proposal in proposal_rows:
        if proposal["fundable_at"] is None:
            continue
        fundable += 1
        rows = by_proposal[proposal["id"]]
        demand += proposal["per_group_budget_cents"] * len(rows)
        # The transition: the commitments active when the count reached the threshold.
        crossed = proposal["fundable_count"]
        events.append((proposal["fundable_at"], 0, proposal, rows[:crossed]))
        events += [(row["committed_at"], 1, proposal, [row]) for row in rows[crossed:]]
    events.sort(key=lambda event: (event[0], event[1], event[2]["id"]))
    total = (demand // TOTAL_STEP_CENTS + 1) * TOTAL_STEP_CENTS
    reserved, reservations = 0, []
    for at, _kind, proposal, batch in events:
        amount = proposal["per_group_budget_cents"]
        for row in batch:
            if amount > total - reserved:
                break
            reserved += amount
            proposal["reserved_count"] += 1
            proposal["reserved_cents"] += amount
            reservations.append(
                dict(
                    id=len(reservations) + 1,
                    round_id=round_row["id"],
                    proposal_id=proposal["id"],
                    commitment_id=row["id"],
                    group_id=row["group_id"],
                    amount_cents=amount,
                    reserved_at=at,
                    released_at=None,
                )
            )
    round_row["total_cents"] = total
    round_row["reserved_cents"] = reserved
    # As the services count: one per reservation, one per fundable transition.
    round_row["version"] = len(reservations) + fundable
    return reservations


def _check_reservations(conn) -> None:
    """Σ reservations = the round's reserved_cents ≤ its total; each proposal's counters equal
    its reservations; one per commitment, of an active commitment to a fundable proposal."""
    budget_round = conn.execute(select(BudgetRound.__table__)).one()
    reserved = conn.scalar(select(func.coalesce(func.sum(Reservation.amount_cents), 0)))
    if not reserved == budget_round.reserved_cents <= budget_round.total_cents:
        raise RuntimeError(
            f"reservations {reserved} ≠ the round's reserved_cents "
            f"{budget_round.reserved_cents} or above its total {budget_round.total_cents}"
        )
    of_proposal = Reservation.proposal_id == Proposal.id
    count = select(func.count()).where(of_proposal).scalar_subquery()
    cents = select(func.coalesce(func.sum(Reservation.amount_cents), 0)).where(of_proposal)
    drift = conn.scalar(
        select(func.count())
        .select_from(Proposal.__table__)
        .where(
            (Proposal.reserved_count != count)
            | (Proposal.reserved_cents != cents.scalar_subquery())
            | ((Proposal.reserved_count > 0) & Proposal.fundable_at.is_(None))
        )
    )
    if drift:
        raise RuntimeError(f"{drift} proposals whose reservation counters differ from their rows")
    wrong = conn.scalar(
        select(func.count())
        .select_from(Reservation.__table__)
        .join(Commitment.__table__, Commitment.id == Reservation.commitment_id)
        .where(
            (Commitment.status != CommitmentStatus.active)
            | (Commitment.proposal_id != Reservation.proposal_id)
            | (Commitment.group_id != Reservation.group_id)
            | (Reservation.reserved_at < Commitment.committed_at)
        )
    )
    doubles = conn.scalar(
        select(func.count()).select_from(
            select(Reservation.commitment_id)
            .group_by(Reservation.commitment_id)
            .having(func.count() > 1)
            .subquery()
        )
    )
    if wrong or doubles:
        raise RuntimeError(f"{wrong} reservations off their commitment, {doubles} doubles")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="SQLAlchemy URL of the database to fill")
    parser.add_argument("--groups", type=int, default=10_000)
    parser.add_argument("--proposals", type=int, default=1_000)
    parser.add_argument("--commitments", type=int, default=200_000)
    parser.add_argument("--threshold", type=int, default=150)
    parser.add_argument("--pool", type=int, default=25)
    parser.add_argument(
        "--no-network", action="store_true", help="without the network of elected officials"
    )
    args = parser.parse_args(argv)
    data = generate(
        args.url,
        groups=args.groups,
        proposals=args.proposals,
        commitments=args.commitments,
        base_threshold=args.threshold,
        pool=args.pool,
        network=not args.no_network,
    )
    print(f"  manager: {data.manager_email} / {data.manager_password}")
    if data.network is not None:
        print(f"  network member: {data.network.member_email} / {data.network.member_password}")


if __name__ == "__main__":
    main()
