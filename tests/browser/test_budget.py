"""The budget round in a real browser (issue #4): the finance team's threshold simulator,
live as one types and without JavaScript; the home page's figures and charts; and the round
and finance pages whole, named, free of script errors and fitting a phone and a laptop."""

import re
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from models import ActionGroup, BudgetRound, Proposal, Reservation, ThresholdPolicy, db, utcnow
from services.rounds import RoundSettings, update_round
from tests import factories
from tests.browser.conftest import expect, shoot, sign_in
from tests.browser.test_page_quality import SIZES, assert_page_basics
from tests.test_budget import managers, staff
from views.charts import BAR_MAX

pytestmark = pytest.mark.browser

PARIS = ZoneInfo("Europe/Paris")
NNBSP, NBSP = "\u202f", "\xa0"  # thousands separator, and the space before €
INVALID_BASE = "Le seuil de base est un nombre entier de groupes, de 1 à 100 000."
SCALED = "Seuil proportionnel au budget restant"


def euros(amount: str) -> str:
    """« 19 004 € » as the app writes it: « 19\u202f004\xa0€ »."""
    return amount.replace(" ", NNBSP) + NBSP + "€"


def certified_groups(n: int, prefix: str) -> list[ActionGroup]:
    groups = [
        ActionGroup(name=f"{prefix} {k}", commune="Lyon", departement="69", certified_at=utcnow())
        for k in range(1, n + 1)
    ]
    db.session.add_all(groups)
    db.session.commit()
    return groups


# --- the simulator ------------------------------------------------------------------------------

# A round of 20 000 € at a base threshold of 10: nothing is fundable. At a base of 5 (fixed),
# the canteen (6 groups × 1 500 €) and the bicycle workshop (8 × 1 250,50 €) would become
# fundable and reserve 19 004 €; the garden (4 groups) would not. At a base of 5 scaled to
# the remaining budget, the canteen reserves first; the workshop's threshold then becomes
# ceil(5 × 20 000 / 11 000) = 10 > 8, so only the canteen, 9 000 €.
GARDEN, CANTEEN, WORKSHOP = (
    "Jardin partagé au pied des immeubles",
    "Cantine populaire à prix libre",
    "Atelier de réparation de vélos",
)


def simulator_scene(live) -> tuple[int, str]:
    """The round's id and a finance person's email."""
    with live.data():
        budget = factories.budget_round(base_threshold=10, total_cents=2_000_000)
        groups = certified_groups(18, "Groupe simulé")
        for title, cents, engaged in (
            (GARDEN, 150_000, groups[:4]),
            (CANTEEN, 150_000, groups[4:10]),
            (WORKSHOP, 125_050, groups[10:]),
        ):
            factories.commitments(factories.proposal(budget, title, budget_cents=cents), engaged)
        return budget.id, staff(finance=True).email


def expect_fixed_base_5(page) -> None:
    results = page.locator("#simulation")
    expect(results.locator(".simulation-summary")).to_contain_text(
        "2 actions deviendraient finançables avec un seuil de base de 5 (seuil fixe)."
    )
    # Serait réservé, resterait, nouvelles actions finançables, seuil ensuite.
    expect(results.locator(".simulation-figures dd")).to_have_text(
        [euros("19 004"), euros("996"), "2", "5"]
    )
    rows = page.locator("#simulation-fundable tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator("th")).to_have_text(CANTEEN)
    expect(rows.nth(0)).to_contain_text(f"{euros('9 000')} (6 groupes)")
    expect(rows.nth(1).locator("th")).to_have_text(WORKSHOP)
    expect(rows.nth(1)).to_contain_text(f"{euros('1 250,50')}")
    expect(rows.nth(1)).to_contain_text(f"{euros('10 004')} (8 groupes)")
    still_open = page.locator("#simulation-open tbody tr")
    expect(still_open).to_have_count(1)
    expect(still_open.nth(0).locator("th")).to_have_text(GARDEN)


def expect_scaled_base_5(page) -> None:
    results = page.locator("#simulation")
    expect(results.locator(".simulation-summary")).to_contain_text(
        "1 action deviendrait finançable avec un seuil de base de 5 "
        "(seuil proportionnel au budget restant)."
    )
    # The canteen leaves 11 000 €: the threshold is then ceil(5 × 20 000 / 11 000) = 10.
    expect(results.locator(".simulation-figures dd")).to_have_text(
        [euros("9 000"), euros("11 000"), "1", "10"]
    )
    expect(page.locator("#simulation-fundable tbody tr")).to_have_count(1)
    expect(page.locator("#simulation-fundable tbody th")).to_have_text(CANTEEN)
    # The closest to their threshold of 10 first: the workshop lacks 2 groups, the garden 6.
    still_open = page.locator("#simulation-open tbody tr")
    expect(still_open.locator("th")).to_have_text([WORKSHOP, GARDEN])
    expect(still_open.locator("td:last-child")).to_have_text(["2", "6"])


def test_the_simulator_updates_as_the_base_threshold_is_typed(browsing, live):
    round_id, finance_email = simulator_scene(live)
    page = browsing.new_page()
    sign_in(page, finance_email)
    page.goto(f"/budgets/{round_id}")
    expect(page.locator("#simulation .simulation-summary")).to_contain_text(
        "Aucune action ne deviendrait finançable avec un seuil de base de 10 (seuil fixe)."
    )
    page.evaluate("window.__marker = 1")
    base = page.get_by_label("Seuil de base à simuler")
    expect(base).to_have_value("10")

    # Typed, as a person types: no submit, no page load.
    base.press("Control+a")
    base.press_sequentially("5", delay=50)
    expect_fixed_base_5(page)
    expect(page).to_have_url(re.compile(rf"/budgets/{round_id}\?base=5&policy=manual$"))
    expect(page.locator("#live-announcer")).to_contain_text(
        f"Simulation : 2 actions deviendraient finançables. Resterait : {euros('996')}."
    )

    # Another policy, picked with its radio button.
    page.get_by_label(SCALED).check()
    expect_scaled_base_5(page)
    expect(page).to_have_url(re.compile(rf"/budgets/{round_id}\?base=5&policy=scaled$"))
    assert page.evaluate("window.__marker") == 1  # all of it without a page load
    shoot(page, "simulator-scaled")

    # A reload shows the same simulation (the URL was replaced).
    page.reload()
    expect(base).to_have_value("5")
    expect(page.get_by_label(SCALED)).to_be_checked()
    expect_scaled_base_5(page)

    # 0 is refused in French, in place; the last good URL stays; the form still works.
    page.evaluate("window.__marker = 2")
    base.press("Control+a")
    base.press_sequentially("0", delay=50)
    expect(page.locator("#simulation [role=alert]")).to_have_text(INVALID_BASE)
    expect(page.locator("#live-announcer")).to_have_text(INVALID_BASE)
    expect(page).to_have_url(re.compile(r"\?base=5&policy=scaled$"))
    base.press("Control+a")
    base.press_sequentially("5", delay=50)
    page.get_by_label("Seuil fixe").check()
    expect_fixed_base_5(page)
    assert page.evaluate("window.__marker") == 2
    # The browser logs the refused (422) request itself. Picking a policy right after typing
    # makes htmx abort a request and log it: the next test is about that.
    problems = [p for p in page.watched.problems(page) if "status of 422" not in p]
    assert problems == []


def test_picking_a_policy_after_typing_a_threshold_logs_no_error(browsing, live):
    """Typing a base then clicking a policy is what a person does: leaving the number field
    fires `change`, which asks for the same simulation again, then the radio's own `change`.
    With hx-sync="this:replace" the second aborted the first, which htmx logs as two errors;
    the form now queues the last request instead."""
    round_id, finance_email = simulator_scene(live)
    page = browsing.new_page()
    sign_in(page, finance_email)
    page.goto(f"/budgets/{round_id}")
    base = page.get_by_label("Seuil de base à simuler")
    base.press("Control+a")
    base.press_sequentially("5", delay=50)
    expect_fixed_base_5(page)
    page.get_by_label(SCALED).check()
    expect_scaled_base_5(page)
    expect(page).to_have_url(re.compile(r"\?base=5&policy=scaled$"))
    assert page.watched.problems(page) == []


def test_the_simulator_works_without_javascript(browsing, live):
    round_id, finance_email = simulator_scene(live)
    page = browsing.new_page(javascript=False)
    sign_in(page, finance_email)
    page.goto(f"/budgets/{round_id}")
    expect(page.locator("#simulation .simulation-summary")).to_contain_text(
        "Aucune action ne deviendrait finançable"
    )
    base = page.get_by_label("Seuil de base à simuler")
    base.fill("5")
    page.get_by_role("button", name="Simuler").click()
    expect(page).to_have_url(re.compile(rf"/budgets/{round_id}\?base=5&policy=manual#simulateur$"))
    expect_fixed_base_5(page)

    page.get_by_label(SCALED).check()
    page.get_by_role("button", name="Simuler").click()
    expect(page).to_have_url(re.compile(r"\?base=5&policy=scaled#simulateur$"))
    expect(page.get_by_label(SCALED)).to_be_checked()
    expect_scaled_base_5(page)

    page.get_by_label("Seuil de base à simuler").fill("0")
    with page.expect_response(re.compile(r"base=0")) as answer:
        page.get_by_role("button", name="Simuler").click()
    assert answer.value.status == 422
    expect(page.locator("#simulation [role=alert]")).to_have_text(INVALID_BASE)
    expect(page.get_by_label("Seuil de base à simuler")).to_have_value("0")
    expect(page.get_by_label("Seuil de base à simuler")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("h1")).to_have_count(1)


# --- the home page's figures and charts ---------------------------------------------------------

# Ten actions at a threshold of 1, one group each, of 1 000 € to 1 900 €: 14 500 € reserved
# out of 50 000 €, on three days (five days ago, two days ago, today).
ACTION_EUROS = [1_000 + 100 * k for k in range(10)]
DAYS_AGO = [5, 5, 5, 5, 2, 2, 2, 0, 0, 0]
LONG_TITLE = "Une bibliothèque de rue avec des étagères très solidement fixées au mur de l'école"


@dataclass(frozen=True)
class ChartScene:
    round_id: int
    largest_id: int
    largest_slug: str
    committer_email: str
    finance_email: str
    days_left: int


def chart_scene(live) -> ChartScene:
    """The current round with reservations made through the service, dated as above; a group
    manager who has not committed yet; a finance person who changed the round once."""
    with live.data():
        now = utcnow()
        closes_at = now + timedelta(days=10)
        budget = factories.budget_round(
            base_threshold=15, total_cents=5_000_000, closes_at=closes_at
        )
        people = managers(len(ACTION_EUROS) + 1)
        for k, (amount, days_ago) in enumerate(zip(ACTION_EUROS, DAYS_AGO, strict=True)):
            title = LONG_TITLE if k == 9 else f"Action de quartier numéro {k + 1}"
            proposal = factories.proposal(
                budget, title, threshold_override=1, budget_cents=amount * 100
            )
            people[k].commit(proposal.id)
            db.session.execute(
                update(Reservation)
                .where(Reservation.proposal_id == proposal.id)
                .values(reserved_at=now - timedelta(days=days_ago))
            )
            db.session.commit()
        finance = staff(finance=True)
        round_ = db.session.get(BudgetRound, budget.id)
        update_round(
            finance,
            budget.id,
            RoundSettings(
                name=round_.name,
                total_cents=round_.total_cents,
                base_threshold=12,
                policy=ThresholdPolicy.manual,
                opens_at=round_.opens_at,
                closes_at=round_.closes_at,
            ),
            "Assez de groupes certifiés cette année pour un seuil plus bas",
        )
        # A closed round before it, for the list.
        factories.budget_round(
            name="Budget 2026",
            opens_at=now - timedelta(days=400),
            closes_at=now - timedelta(days=200),
            current=False,
        )
        largest = db.session.get(Proposal, proposal.id)
        return ChartScene(
            round_id=budget.id,
            largest_id=largest.id,
            largest_slug=largest.slug,
            committer_email=people[-1].person.email,
            finance_email=finance.email,
            days_left=(closes_at.astimezone(PARIS).date() - now.astimezone(PARIS).date()).days + 1,
        )


def step_heights(page) -> list[float]:
    """The y of each step of the reservations line (one per day that changed the amount)."""
    d = page.locator("section.round-overview path.chart-line").get_attribute("d")
    return [float(v) for v in re.findall(r"V(-?[\d.]+)", d)]


def svg_title(locator) -> str:
    return locator.locator("title").first.text_content()


def test_the_home_page_chart_renders(browsing, live):
    s = chart_scene(live)
    page = browsing.new_page()
    page.goto("/")
    overview = page.locator("section.round-overview")
    expect(overview.locator("h2")).to_have_text("Budget 2027")
    expect(overview.locator(".round-phase-line")).to_contain_text(
        f"Plus que {s.days_left} jours pour s'engager"
    )
    expect(overview.locator("dd.figure-total")).to_have_text(euros("50 000"))
    expect(overview.locator("dd.figure-reserved")).to_have_text(f"{euros('14 500')} (29 %)")
    expect(overview.locator("dd.figure-remaining")).to_have_text(euros("35 500"))
    expect(overview.locator("dd.figure-fundable")).to_have_text("10")
    expect(overview.locator("dd.figure-days")).to_have_text(str(s.days_left))

    # Both charts are drawn, and named by their title for a screen reader.
    charts = overview.locator("svg.chart-svg")
    expect(charts).to_have_count(2)
    for i in range(2):
        expect(charts.nth(i)).to_be_visible()
        box = charts.nth(i).bounding_box()
        assert box["width"] > 100 and box["height"] > 40, box
    expect(
        page.get_by_role("img", name=re.compile("^Montant réservé au fil du temps"))
    ).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("^Montant réservé par action"))).to_be_visible()

    # One step per day with reservations, each higher than the one before.
    heights = step_heights(page)
    assert len(heights) == 3, heights
    assert heights == sorted(heights, reverse=True) and len(set(heights)) == 3, heights
    line_box = overview.locator("path.chart-line").bounding_box()
    assert line_box["width"] > 0 and line_box["height"] > 0

    # The eight largest actions, then the two others together.
    bars = overview.locator("g.chart-bar")
    expect(bars).to_have_count(9)
    assert svg_title(bars.nth(0)) == f"{LONG_TITLE} : {euros('1 900')}"
    assert svg_title(bars.nth(7)) == f"Action de quartier numéro 3 : {euros('1 200')}"
    assert svg_title(bars.nth(8)) == f"2 autres actions : {euros('2 100')}"
    # The widest bar is the largest amount, the two others' 2 100 €; the rest in proportion.
    widths = [
        float(w)
        for w in bars.locator("rect").evaluate_all(
            "rects => rects.map(r => r.getAttribute('width'))"
        )
    ]
    assert widths[-1] == BAR_MAX and widths[0] == round(BAR_MAX * 1_900 / 2_100, 1), widths
    assert widths[:8] == sorted(widths[:8], reverse=True), widths
    assert bars.nth(0).locator("text").first.text_content().endswith("…")  # a long title
    shoot(page, "home-charts")

    # Each chart's data, in a table behind a disclosure.
    by_day, by_action = overview.locator("details.chart-data").all()
    expect(by_day.locator("table")).to_be_hidden()
    by_day.locator("summary").click()
    days = by_day.locator("tbody tr")
    expect(days).to_have_count(3)
    expect(days.locator("td:last-child")).to_have_text(
        [euros("4 600"), euros("9 100"), euros("14 500")]
    )
    expect(days.nth(1).locator("td").first).to_have_text("+" + euros("4 500"))
    by_action.get_by_text("Les données du graphique : les réservations par action").click()
    actions = by_action.locator("tbody tr")
    expect(actions).to_have_count(9)
    expect(actions.nth(0)).to_contain_text(LONG_TITLE)
    expect(actions.nth(8).locator("th, td")).to_have_text(["2 autres actions", "", euros("2 100")])

    # A group commits through the page; the home page then counts its reservation (the
    # overview is cached by the round's version: this checks the cache lets it go).
    manager = browsing.new_page()
    sign_in(manager, s.committer_email)
    manager.goto(f"/propositions/{s.largest_slug}")
    manager.get_by_role("button", name="Engager le groupe").click()
    expect(manager.locator(f".progress-{s.largest_id} .count")).to_have_text("2 groupes engagés")
    assert live.active_commitments(s.largest_id) == 2
    page.reload()
    expect(overview.locator("dd.figure-reserved")).to_have_text(f"{euros('16 400')} (32 %)")
    expect(overview.locator("dd.figure-remaining")).to_have_text(euros("33 600"))
    assert svg_title(bars.nth(0)) == f"{LONG_TITLE} : {euros('3 800')}"
    assert len(step_heights(page)) == 3
    by_day.locator("summary").click()
    expect(days.last.locator("td").last).to_have_text(euros("16 400"))
    assert page.watched.problems(page) == []
    assert manager.watched.problems(manager) == []


# --- page quality ---------------------------------------------------------------------------


def test_round_and_finance_pages_are_whole_named_and_fit_a_phone_and_a_laptop(browsing, live):
    s = chart_scene(live)
    visitor = browsing.new_page()
    finance = browsing.new_page()
    sign_in(finance, s.finance_email)
    visits = [
        (visitor, "home", "/"),
        (visitor, "rounds", "/budgets"),
        (visitor, "round", f"/budgets/{s.round_id}"),
        (finance, "round-finance", f"/budgets/{s.round_id}"),
        (finance, "round-simulated", f"/budgets/{s.round_id}?base=2&policy=scaled"),
        (finance, "round-edit", f"/budgets/{s.round_id}/modifier"),
        (finance, "round-new", "/budgets/nouveau"),
        (finance, "finance", "/finance"),
    ]
    for page, name, path in visits:
        page.set_viewport_size(SIZES["laptop"])
        page.goto(path)
        # The tables behind the charts' disclosures must fit too.
        page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
        assert_page_basics(page)
        for size, viewport in SIZES.items():
            page.set_viewport_size(viewport)
            shoot(page, f"budget-{name}-{size}")
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{name} scrolls sideways by {overflow}px on a {size}"
    # What a visitor must not see, and what the finance team must.
    visitor.goto(f"/budgets/{s.round_id}")
    expect(visitor.locator("#simulation-form")).to_have_count(0)
    expect(visitor.locator("#journal")).to_have_count(0)
    finance.goto(f"/budgets/{s.round_id}")
    expect(finance.locator("#journal tbody tr")).to_have_count(1)
    expect(finance.locator("#journal tbody tr")).to_contain_text("Assez de groupes certifiés")
    for page in (visitor, finance):
        assert page.watched.problems(page) == []
