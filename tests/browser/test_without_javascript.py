"""With JavaScript off, the same forms commit, withdraw and search through plain page loads."""

import re

import pytest

from tests.browser.conftest import counter, expect, progressbar, scene, sign_in

pytestmark = pytest.mark.browser


def test_without_javascript_a_manager_commits_and_withdraws(browsing, live):
    s = scene(live, threshold=3)
    page = browsing.new_page(javascript=False)
    sign_in(page, s.manager_email)
    page.goto(f"/propositions/{s.slug}")
    expect(counter(page, s.proposal_id)).to_have_text(re.compile(r"^0 groupes? engagés?$"))

    page.get_by_label("Comment le groupe va l'adapter localement").fill(
        "Sur le marché du dimanche."
    )
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Engager le groupe").click()

    assert posted.value.status == 303
    expect(page).to_have_url(re.compile(rf"/propositions/{s.slug}$"))
    expect(page.locator("#messages")).to_contain_text("Le groupe est engagé. Merci !")
    expect(counter(page, s.proposal_id)).to_have_text("1 groupe engagé")
    expect(progressbar(page, s.proposal_id)).to_have_attribute("aria-valuenow", "1")
    expect(page.locator("#engaged-groups").get_by_role("link", name=s.group_name)).to_be_visible()
    assert live.active_commitments(s.proposal_id) == 1

    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name=f"Retirer l'engagement de « {s.group_name} »").click()

    assert posted.value.status == 303
    expect(page).to_have_url(re.compile(rf"/propositions/{s.slug}$"))
    expect(page.locator("#messages")).to_contain_text("L'engagement du groupe est retiré.")
    expect(counter(page, s.proposal_id)).to_have_text(re.compile(r"^0 groupes? engagés?$"))
    expect(page.get_by_role("button", name="Engager le groupe")).to_be_visible()
    assert live.active_commitments(s.proposal_id) == 0
