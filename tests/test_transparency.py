"""Issue 4 « Transparency »: the round's public figures and charts on the home page, what an
action costs the round on its page, and the commitments « hors budget participatif »."""

import html
import re
from datetime import UTC, date, datetime, timedelta

import pytest

from models import BudgetRound, db, utcnow
from services import transparency
from services.money import format_cents
from tests import factories as f
from tests.test_budget import Manager, managers, staff
from tests.test_queries import counting_queries


@pytest.fixture(autouse=True)
def _fresh_cache():
    transparency.clear_cache()
    yield
    transparency.clear_cache()


def text_of(response) -> str:
    """The page's text with tags removed and entities decoded, spaces folded."""
    return fold(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def fold(markup: str) -> str:
    """Tags out, entities decoded, ASCII white space folded (money keeps its no-break spaces)."""
    return re.sub(r"[ \t\r\n]+", " ", html.unescape(re.sub(r"<[^>]+>", " ", markup))).strip()


def money(cents: int) -> str:
    return format_cents(cents)


def overview_section(response) -> str:
    page = response.get_data(as_text=True)
    start = page.index('<section class="round-overview"')
    return page[start : page.index("</section>", start)]


def fundable_with(n_reserving: int, budget_cents: int, round_: BudgetRound) -> tuple:
    """A published proposal made fundable by n groups through the services."""
    p = f.proposal(round_, threshold_override=n_reserving, budget_cents=budget_cents)
    group_managers = managers(n_reserving)
    for manager in group_managers:
        manager.commit(p.id)
    return p, group_managers


def test_home_page_shows_the_current_round_total_reserved_remaining_fundable_and_days_left(
    client, app
):
    now = utcnow()
    r = f.budget_round(
        total_cents=1_000_000,
        name="Budget 2027",
        opens_at=now - timedelta(days=10),
        closes_at=now + timedelta(days=20),
    )
    fundable_with(3, 50_000, r)
    f.proposal(r, threshold_override=5)  # open: reserves nothing
    f.budget_round(name="Budget précédent", total_cents=5, current=False)

    response = client.get("/")

    assert response.status_code == 200
    section = overview_section(response)
    text = fold(section)
    assert "Budget 2027" in text and "Budget précédent" not in text
    assert f"Montant total {money(1_000_000)}" in text
    assert f"Réservé {money(150_000)} (15 %)" in text
    assert f"Restant {money(850_000)}" in text
    assert "Actions finançables 1" in text
    days = transparency.days_left(db.session.get(BudgetRound, r.id), utcnow())
    assert days in (20, 21)  # the Paris day may or may not have turned
    assert f"Jours restants {days}" in text
    assert f"Plus que {days} jours pour s'engager" in text


def test_days_left_counts_today_and_the_last_day_in_paris():
    r = BudgetRound(
        opens_at=datetime(2027, 1, 1, tzinfo=UTC) - timedelta(hours=1),  # 1 Jan 00:00 Paris
        closes_at=datetime(2027, 1, 31, 23, 0, tzinfo=UTC),  # 1 Feb 00:00 Paris
    )
    assert transparency.last_day_of(r.closes_at) == date(2027, 1, 31)
    # 31 January, 23:30 Paris: still today, the last day.
    assert transparency.days_left(r, datetime(2027, 1, 31, 22, 30, tzinfo=UTC)) == 1
    assert transparency.days_left(r, datetime(2027, 1, 30, 12, 0, tzinfo=UTC)) == 2
    assert transparency.days_left(r, r.closes_at) == 0
    # Before the opening, the whole period is left.
    assert transparency.days_left(r, datetime(2026, 12, 1, tzinfo=UTC)) == 31


def test_a_closed_round_on_the_home_page_says_so_and_keeps_its_figures(client, app):
    now = utcnow()
    r = f.budget_round(
        total_cents=200_000, opens_at=now - timedelta(days=60), closes_at=now - timedelta(days=1)
    )
    r.reserved_cents = 40_000
    db.session.commit()

    text = fold(overview_section(client.get("/")))

    closed_on = transparency.paris_day(utcnow() - timedelta(days=1))
    assert f"Les engagements sont clos depuis le {closed_on.day} " in text
    assert "Jours restants clos" in text
    assert f"Réservé {money(40_000)}" in text and f"Restant {money(160_000)}" in text


def test_home_page_without_any_round_shows_the_list_only(client, app):
    response = client.get("/")
    assert response.status_code == 200
    assert "round-overview" not in response.get_data(as_text=True)


def test_the_charts_are_accessible_svg_images_with_a_data_table(client, app):
    r = f.budget_round(total_cents=1_000_000)
    fundable_with(2, 30_000, r)
    fundable_with(1, 80_000, r)

    section = overview_section(client.get("/"))

    svgs = re.findall(r"<svg class=\"chart-svg\"[^>]*>", section)
    assert len(svgs) == 2
    for svg in svgs:
        assert 'role="img"' in svg and "aria-labelledby=" in svg
        for ref in re.search(r'aria-labelledby="([^"]+)"', svg).group(1).split():
            assert f'id="{ref}"' in section
    assert "<title" in section and "<desc" in section
    # The bars: the largest action first, with its amount; and the table behind them.
    assert section.count('class="chart-bar"') == 2
    bar_amounts = re.findall(r'class="chart-label chart-amount"[^>]*>([^<]+)<', section)
    assert [html.unescape(a) for a in bar_amounts] == [money(80_000), money(60_000)]
    assert section.count("<details") == 2 and section.count("<table") == 2
    assert "<script" not in section


def test_the_timeline_adds_reservations_and_subtracts_releases_by_paris_day(app, monkeypatch):
    r = f.budget_round(
        total_cents=1_000_000,
        opens_at=datetime(2026, 12, 1, tzinfo=UTC),
        closes_at=datetime(2027, 6, 1, tzinfo=UTC),
    )
    p = f.proposal(r, threshold_override=1, budget_cents=10_000)
    first, second = managers(2)

    def at(moment: datetime):
        for module in ("services.budget", "services.commitments"):
            monkeypatch.setattr(f"{module}.utcnow", lambda: moment)

    # 31 December at 23:30 UTC is already 1 January in Paris.
    at(datetime(2026, 12, 31, 23, 30, tzinfo=UTC))
    first.commit(p.id)
    at(datetime(2027, 1, 1, 10, 0, tzinfo=UTC))
    second.commit(p.id)
    at(datetime(2027, 1, 3, 9, 0, tzinfo=UTC))
    first.withdraw(p.id)

    timeline = transparency._timeline(r.id)

    assert [(t.day, t.reserved_cents, t.cumulative_cents) for t in timeline] == [
        (date(2027, 1, 1), 20_000, 20_000),
        (date(2027, 1, 3), -10_000, 10_000),
    ]


def test_the_actions_chart_shows_the_largest_and_sums_the_others(app):
    r = f.budget_round(total_cents=10_000_000)
    amounts = [1_000 * (i + 1) for i in range(transparency.TOP_ACTIONS + 3)]
    for cents in amounts:
        fundable_with(1, cents, r)
    f.proposal(r, threshold_override=4)  # holds nothing: not listed

    overview = transparency.round_overview(db.session.get(BudgetRound, r.id))

    top = sorted(amounts, reverse=True)[: transparency.TOP_ACTIONS]
    assert [a.reserved_cents for a in overview.actions] == top
    assert overview.others_count == 3
    assert overview.others_cents == sum(amounts) - sum(top)
    assert overview.fundable_count == len(amounts)


def test_the_overview_follows_every_new_reservation(client, app):
    r = f.budget_round(total_cents=1_000_000)
    p, _ = fundable_with(1, 25_000, r)
    assert f"Réservé {money(25_000)}" in text_of(client.get("/"))
    late = managers(1)[0]
    late.commit(p.id)  # reserves at once: the round's version grows

    assert f"Réservé {money(50_000)}" in text_of(client.get("/"))


def test_the_home_page_adds_one_query_for_the_round_once_its_overview_is_built(client, app):
    r = f.budget_round(total_cents=1_000_000)
    fundable_with(2, 10_000, r)
    client.get("/")
    with counting_queries() as statements:
        assert client.get("/").status_code == 200
    assert sum("budget_round" in s and "is_current" in s for s in statements) == 1
    assert not any("reservation" in s.lower() for s in statements)


def test_the_proposal_page_shows_what_the_action_costs_the_round_so_far(client, app):
    r = f.budget_round(total_cents=1_000_000)
    p, _ = fundable_with(3, 40_000, r)
    open_one = f.proposal(r, threshold_override=5)

    text = text_of(client.get(f"/propositions/{p.slug}"))
    assert (
        f"Coût pour le budget participatif à ce jour : {money(120_000)} réservés pour 3 groupes."
        in text
    )
    assert "Rien n'est encore réservé" in text_of(client.get(f"/propositions/{open_one.slug}"))


def hors_budget_world():
    """Room for two shares: the third group to commit is « hors budget »."""
    r = f.budget_round(total_cents=100_000)
    p, reserving = fundable_with(2, 50_000, r)
    late: Manager = managers(1)[0]
    late.commit(p.id)
    return r, p, reserving, late


def test_groups_hors_budget_are_marked_on_the_proposal_page(client, app):
    _, p, reserving, late = hors_budget_world()

    response = client.get(f"/propositions/{p.slug}")

    page = response.get_data(as_text=True)
    text = text_of(response)
    assert "1 groupe engagé hors budget participatif" in text
    items = re.findall(r"<li>.*?</li>", page[page.index('id="engaged-groups"') :], re.S)
    marked = [item for item in items if "hors budget participatif" in item]
    assert len(marked) == 1 and f"/groupes/{late.group_id}" in marked[0]


def test_a_group_hors_budget_is_told_on_its_commit_control_and_on_its_page(client, auth, app):
    _, p, reserving, late = hors_budget_world()
    auth.login(late.person)

    text = text_of(client.get(f"/propositions/{p.slug}"))
    assert "Le budget participatif restant ne couvre pas sa part" in text
    group_text = text_of(client.get(f"/groupes/{late.group_id}"))
    assert "hors budget participatif" in group_text

    auth.logout()
    auth.login(reserving[0].person)
    text = text_of(client.get(f"/propositions/{p.slug}"))
    assert f"Sa part du budget participatif, {money(50_000)}, lui est réservée." in text
    group_text = text_of(client.get(f"/groupes/{reserving[0].group_id}"))
    assert f"{money(50_000)} réservés sur le budget participatif" in group_text
    assert "hors budget participatif" not in group_text


def test_a_poll_after_a_reservation_updates_the_cost_out_of_band(client, app):
    r = f.budget_round(total_cents=1_000_000)
    p, _ = fundable_with(1, 10_000, r)
    token = client.get(f"/propositions/{p.slug}").get_data(as_text=True)
    old = re.search(r"s=([0-9.\-]+)", token).group(1)
    managers(1)[0].commit(p.id)

    response = client.get(
        f"/propositions/etat?s={old}&detail={p.id}", headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert f'hx-swap-oob="outerHTML:.round-cost-{p.id}"' in body
    assert "réservés pour 2 groupes" in html.unescape(body)


def test_the_api_tells_what_each_action_costs_the_round(client, app):
    _, p, _, _ = hors_budget_world()
    item = client.get(f"/api/proposals/{p.id}").get_json()
    assert (item["reserved_cents"], item["reserved_groups"], item["outside_budget"]) == (
        100_000,
        2,
        1,
    )


def test_the_round_page_shows_its_charts_to_everyone(client, app):
    r = f.budget_round(total_cents=1_000_000)
    fundable_with(1, 10_000, r)
    page = client.get(f"/budgets/{r.id}").get_data(as_text=True)
    assert page.count('class="chart-svg"') == 2
    assert "Les réservations" in page


def test_charts_are_not_for_staff_only(client, auth, app):
    r = f.budget_round(total_cents=1_000_000)
    auth.login(staff(finance=True))
    assert client.get(f"/budgets/{r.id}").status_code == 200


def test_the_figures_are_exact_while_the_charts_may_lag_by_the_refresh_interval(app):
    r = f.budget_round(total_cents=1_000_000)
    p, _ = fundable_with(1, 25_000, r)
    first = transparency.round_overview(db.session.get(BudgetRound, r.id), refresh_seconds=60)
    managers(1)[0].commit(p.id)
    db.session.expire_all()
    budget_round = db.session.get(BudgetRound, r.id)

    lagging = transparency.round_overview(budget_round, refresh_seconds=60)
    current = transparency.round_overview(budget_round, refresh_seconds=0)

    assert (first.reserved_cents, lagging.reserved_cents) == (25_000, 50_000)
    assert lagging.timeline == first.timeline
    assert lagging.actions[0].reserved_cents == 25_000
    assert current.timeline[-1].cumulative_cents == 50_000
    assert current.actions[0].reserved_cents == 50_000
