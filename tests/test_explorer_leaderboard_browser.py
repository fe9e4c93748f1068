"""The explorer's leaderboard tab in a real browser: rows from result JSONs, sortable."""

import os
import sys
from pathlib import Path

import pytest
from test_leaderboard import write

from iarc_hf.experiments.leaderboard import LEARNING_RATES, entries, entry_run

pytestmark = [pytest.mark.browser, pytest.mark.integration]
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "spaces" / "explorer"))
from screenshot import running_app  # noqa: E402

CHROMIUM = os.environ.get("IARC_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Two finished entries: the first at 0.90, the second at 0.80 (both grids, three seeds)."""
    root = tmp_path_factory.mktemp("leaderboard-results")
    for entry, accuracy in zip(entries()[:2], (0.90, 0.80), strict=True):
        write(root, entry_run(entry, LEARNING_RATES[0]), 0, validation=0.1, test=0.1)
        for seed in range(3):
            write(root, entry_run(entry, LEARNING_RATES[1]), seed, validation=0.5, test=accuracy)
    return root


@pytest.fixture(scope="module")
def page(results):
    from playwright.sync_api import sync_playwright

    with running_app([], extra_args=["--results_dir", str(results)]) as url:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
            )
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            page.get_by_role("tab", name="Leaderboard").click()
            page.locator("#leaderboard").wait_for()
            yield page
            browser.close()


def architectures_in_order(page) -> list[str]:
    """The architecture column (the second) of the table's rows, top to bottom."""
    cells = page.locator("#leaderboard [role=gridcell][data-col='1']")
    return [cells.nth(i).inner_text().strip() for i in range(cells.count())]


def test_the_tab_shows_each_entry_best_first(page):
    first, second = (e.architecture for e in entries()[:2])
    assert architectures_in_order(page) == [first, second]
    accuracy = page.locator("#leaderboard [data-testid='cell-0-5']").inner_text().strip()
    assert accuracy == "0.9"
    rate = page.locator("#leaderboard [data-testid='cell-0-11']").inner_text().strip()
    assert float(rate) == LEARNING_RATES[1]


def test_a_column_sorts_from_its_header_menu(page):
    first, second = (e.architecture for e in entries()[:2])
    header = page.locator("#leaderboard th[title='accuracy_mean']").first
    orders = {}
    for choice in ("Sort ascending", "Sort descending"):
        header.hover()
        header.locator("button[aria-label='Open cell menu']").click(force=True)
        page.locator("[role=menu]").get_by_text(choice).click()
        page.wait_for_timeout(300)
        orders[choice] = architectures_in_order(page)
    assert orders == {"Sort ascending": [second, first], "Sort descending": [first, second]}
