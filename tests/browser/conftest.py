"""Browser fixtures: Debian's Chromium through Playwright, and the app served on a real port.

The live server is the real application (CSRF on, a one-second poll) on SQLite or PostgreSQL
(COMMUN_TEST_BACKEND), served by Werkzeug in a thread; tests write their data with the
factories inside `live.data()`. Every test gets a fresh browser context.
"""

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import func, select

from models import Category, Commitment, CommitmentStatus, db
from tests import factories
from tests.conftest import make_app, missing
from tests.servers import serving

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture reports it: skipped locally, a failure in CI
    expect = None

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
POLL_SECONDS = 1
# How long a change may take to reach another page: one poll interval plus a margin.
POLL_DEADLINE_MS = POLL_SECONDS * 1000 + 1500
# Screenshots for a person to look at, never asserted on: COMMUN_SHOTS_DIR=/tmp/commun-shots.
SHOTS_DIR = os.environ.get("COMMUN_SHOTS_DIR", "")


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        missing(f"no browser: {CHROMIUM} is not installed (apt-get install chromium)")
    if expect is None:
        missing("no browser: the playwright package is not installed")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    except Exception as error:
        playwright.stop()
        missing(f"no browser: Chromium does not start ({str(error).splitlines()[0]})")
    yield browser
    browser.close()
    playwright.stop()


@dataclass
class LiveServer:
    app: object
    url: str

    @contextmanager
    def data(self) -> Iterator[None]:
        """An app context for the factories; read plain values out before it closes."""
        with self.app.app_context():
            try:
                yield
            finally:
                db.session.remove()

    def active_commitments(self, proposal_id: int) -> int:
        with self.data():
            return db.session.scalar(
                select(func.count()).where(
                    Commitment.proposal_id == proposal_id,
                    Commitment.status == CommitmentStatus.active,
                )
            )


@pytest.fixture
def live(tmp_path) -> Iterator[LiveServer]:
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True, POLL_INTERVAL_SECONDS=POLL_SECONDS)
    try:
        with serving(app) as url:
            yield LiveServer(app=app, url=url)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@dataclass
class Watched:
    """What a page reported that a person would call broken: errors and CSP violations."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def on_console(self, message) -> None:
        if message.type == "error":
            self.console_errors.append(f"console: {message.text} ({message.location})")

    def problems(self, page) -> list[str]:
        csp = page.evaluate("window.__cspViolations || []")
        return self.console_errors + self.page_errors + [f"CSP: {v}" for v in csp]


# Init scripts run before the page's own and are not subject to its CSP.
_RECORD_CSP_VIOLATIONS = """
document.addEventListener('securitypolicyviolation', (event) => {
  (window.__cspViolations = window.__cspViolations || []).push(
    event.violatedDirective + ' blocked ' + (event.blockedURI || 'inline'));
});
"""


class Browsing:
    """Opens contexts on the live server and remembers them to close them."""

    def __init__(self, browser, live: LiveServer):
        self.browser = browser
        self.live = live
        self.contexts = []

    def new_page(self, javascript: bool = True, viewport=None):
        context = self.browser.new_context(
            base_url=self.live.url,
            java_script_enabled=javascript,
            locale="fr-FR",
            timezone_id="Europe/Paris",
            viewport=viewport or {"width": 1280, "height": 900},
        )
        context.set_default_timeout(5000)
        context.add_init_script(_RECORD_CSP_VIOLATIONS)
        self.contexts.append(context)
        page = context.new_page()
        watched = Watched()
        page.on("console", watched.on_console)
        page.on("pageerror", lambda error: watched.page_errors.append(f"pageerror: {error}"))
        page.watched = watched
        return page

    def close(self):
        for context in self.contexts:
            context.close()


@pytest.fixture
def browsing(browser, live) -> Iterator[Browsing]:
    # Depends on `live`: contexts close (and stop polling) before the server stops.
    session = Browsing(browser, live)
    yield session
    session.close()


def sign_in(page, email: str, password: str = factories.PASSWORD) -> None:
    """Through the real form, as a person would."""
    page.goto("/connexion")
    page.get_by_label("Adresse e-mail", exact=True).fill(email)
    page.get_by_label("Mot de passe", exact=True).fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(re.compile(r"/$"))
    expect(page.locator("#messages")).to_contain_text("Bienvenue")


def shoot(page, name: str) -> None:
    if SHOTS_DIR:
        Path(SHOTS_DIR).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS_DIR) / f"{name}.png"), full_page=True)


# --- data ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scene:
    """One published proposal and the manager of a certified group, as plain values."""

    proposal_id: int
    slug: str
    title: str
    threshold: int
    manager_id: int
    manager_email: str
    group_id: int
    group_name: str


PROPOSALS = [
    (
        "Jardin partagé au pied des immeubles",
        Category.ecologie,
        120_000,
        "Transformer une pelouse délaissée en potager ouvert à tout le quartier, "
        "avec des bacs accessibles et une fête des récoltes.",
    ),
    (
        "Cantine populaire à prix libre",
        Category.alimentation,
        250_000,
        "Un repas chaud par semaine, cuisiné par les habitant·es avec les invendus "
        "des producteurs locaux.",
    ),
    (
        "Atelier de réparation de vélos",
        Category.mobilite,
        80_000,
        "Un samedi par mois, des outils, des pièces d'occasion et des bénévoles pour "
        "remettre en selle les vélos qui dorment dans les caves.",
    ),
]

BODY = """# Le projet

## Pourquoi

Parce que le quartier manque de lieux où se retrouver, et que chacun·e a quelque chose à apporter.

## Comment faire

1. Réunir le groupe et choisir un lieu avec la mairie ou un bailleur.
2. Acheter le matériel de base : **outils, bacs, terreau**.
3. Annoncer la première journée sur les marchés et à la sortie des écoles.
"""

GROUPS = [
    ("Bordeaux Bastide", "Bordeaux", "33"),
    ("Lille Fives", "Lille", "59"),
    ("Marseille Belsunce", "Marseille", "13"),
    ("Villeurbanne Gratte-Ciel", "Villeurbanne", "69"),
    ("Rennes Maurepas", "Rennes", "35"),
]


def scene(
    live: LiveServer,
    threshold: int = 3,
    group_name: str = "Montreuil Bas-Montreuil",
    **manager_roles,
) -> Scene:
    """Three published proposals (the first is the one under test) and its would-be voter."""
    with live.data():
        budget = factories.budget_round(base_threshold=threshold)
        made = []
        for index, (title, category, cents, summary) in enumerate(PROPOSALS):
            made.append(
                factories.proposal(
                    budget,
                    title=title,
                    category=category,
                    budget_cents=cents,
                    summary=summary,
                    body=BODY,
                    threshold_override=threshold if index == 0 else 8,
                )
            )
        others = []
        for name, commune, departement in GROUPS:
            g = factories.group(name=name, departement=departement)
            g.commune = commune
            others.append(g)
        db.session.commit()
        factories.commitments(made[1], others[:3])
        factories.commitments(made[2], others[3:])
        manager = factories.person(name="Camille Martin", **manager_roles)
        group = factories.group(name=group_name, departement="93")
        group.commune = "Montreuil"
        db.session.commit()
        factories.member(manager, group, "manager")
        first = made[0]
        return Scene(
            proposal_id=first.id,
            slug=first.slug,
            title=first.title,
            threshold=threshold,
            manager_id=manager.id,
            manager_email=manager.email,
            group_id=group.id,
            group_name=group.name,
        )


def counter(page, proposal_id: int):
    """The visible count of a proposal's progress bar ("N groupes engagés")."""
    return page.locator(f".progress-{proposal_id} .count")


def progressbar(page, proposal_id: int):
    return page.locator(f".progress-{proposal_id} [role=progressbar]")
