"""The page's regions in a real headless browser: Streamlit serves the app against a two-region
database; Debian's chromium, driven by Playwright, reads each target's per-region breakdown and
narrows the page to one region with the sidebar's filter, as a person would."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.dashboard_process import start_dashboard
from monitor.store import open_store
from tests.dashboard.test_browser import CHROMIUM
from tests.dashboard.test_regions import ANTHROPIC, OPENAI, two_regions

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not Path(CHROMIUM).exists():
        pytest.skip(
            f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)"
        )
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    folder = tmp_path_factory.mktemp("regions")
    url = f"sqlite:///{folder / 'brownout.db'}"
    store = open_store(url)
    two_regions(store, datetime.now(UTC).replace(second=0, microsecond=0))
    store.close()
    config = folder / "probes.yaml"
    config.write_text(f'storage:\n  url: "{url}"\ndashboard:\n  refresh: 60s\n')
    page = start_dashboard(str(config), url, log=folder / "streamlit.log")
    assert page is not None, "dashboard/app.py is missing"
    try:
        yield page.url
    finally:
        page.stop()


def rows_of(page: object) -> list[list[str]]:
    table = page.locator('[data-testid="brownout-regions"]')  # type: ignore[attr-defined]
    table.wait_for()
    return [
        [c.strip() for c in line.split("\t")]
        for line in table.locator("tbody").inner_text().strip().splitlines()
    ]


def test_a_person_sees_each_regions_status_and_narrows_the_page_to_one(served: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 2400})
        page.set_default_timeout(0)  # pytest-timeout bounds every wait
        page.goto(served)
        page.wait_for_selector('[data-testid="brownout-banner"]')
        rows = rows_of(page)
        by = {(r[0], r[1]): r for r in rows}
        assert set(by) == {(OPENAI, "eu-west"), (OPENAI, "us-east"), (ANTHROPIC, "eu-west")}
        assert by[(OPENAI, "eu-west")][2:6] == ["down", "200 ms", "200 ms", "20.00 %"]
        assert by[(OPENAI, "us-east")][2:6] == ["operational", "900 ms", "900 ms", "0.00 %"]
        # The target's own status is the quorum's: trouble in one region of two is regional.
        assert "only in eu-west" in page.inner_text("body")

        sidebar = page.locator('[data-testid="stSidebar"]')
        sidebar.locator('[data-testid="stMultiSelect"]', has_text="Regions").click()
        page.get_by_role("option", name="us-east").click()
        page.wait_for_function(
            "() => { const t = document.querySelector('[data-testid=\"brownout-regions\"]');"
            " return t && !t.innerText.includes('eu-west'); }"
        )
        assert [(r[0], r[1]) for r in rows_of(page)] == [(OPENAI, "us-east")]
        assert "figures over the range, us-east" in page.inner_text("body")
        browser.close()
