"""The status page in a real headless browser: Streamlit serves the app on a loopback port
against the seeded database; Debian's chromium, driven by Playwright, opens it as a person would.

Needs `/usr/bin/chromium` (`apt-get install -y chromium`); skipped with that reason otherwise.
The screenshot lands in the test's tmp folder, and in docs/screenshot.png (the README's) when
`BROWNOUT_UPDATE_SCREENSHOT=1`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from monitor.dashboard_process import start_dashboard
from tests.dashboard.conftest import DOWN, KEY, Seeded

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHARTS = 7  # the 90-day bars and six performance charts


@pytest.fixture(scope="module")
def served(seeded: Seeded, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The page served as `brownout demo` serves it (`streamlit run dashboard/app.py`, headless,
    on a free loopback port)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(
            f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)"
        )
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    log = tmp_path_factory.mktemp("served") / "streamlit.log"
    page = start_dashboard(str(seeded.config_path), seeded.config.storage.url, log=log)
    assert page is not None, "dashboard/app.py is missing"
    try:
        yield page.url
    finally:
        page.stop()


@contextmanager
def open_page(url: str, viewport_height: int = 2900) -> Iterator[Any]:
    """The page at `url` in headless Chromium, drawn (banner and every chart), closed after."""
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    )
    try:
        page = browser.new_page(viewport={"width": 1400, "height": viewport_height})
        page.set_default_timeout(0)  # pytest-timeout bounds every wait
        page.goto(url)
        page.wait_for_selector('[data-testid="brownout-banner"]')
        page.wait_for_function(
            f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {CHARTS}"
        )
        yield page
    finally:
        browser.close()
        playwright.stop()


def test_a_person_sees_the_outage_the_history_and_the_charts(served: str, tmp_path: Path) -> None:
    with open_page(served) as page:
        banner = page.locator('[data-testid="brownout-banner"]')
        assert "OpenRouter down since" in banner.inner_text()
        assert banner.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(220, 38, 38)"
        for heading in ("Targets", "Performance", "Incidents", "Transfer switch", "Recent probes"):
            assert page.get_by_role("heading", name=heading).is_visible()
        assert page.locator(".js-plotly-plot").count() >= CHARTS
        body = page.inner_text("body")
        assert KEY not in body
        assert "Last 90 days" in body and "Downloads" in body
        page.wait_for_timeout(1000)  # let the charts finish their first draw for the picture
        shot = tmp_path / "screenshot.png"
        page.screenshot(path=str(shot))
        assert shot.stat().st_size > 50_000
        if os.environ.get("BROWNOUT_UPDATE_SCREENSHOT") == "1":
            shutil.copy(shot, ROOT / "docs" / "screenshot.png")


def test_the_day_bars_show_the_days_figures_on_hover(served: str, seeded: Seeded) -> None:
    with open_page(served) as page:
        bars = page.locator(".js-plotly-plot").first
        box = bars.locator(".nsewdrag").first.bounding_box()
        assert box is not None
        # The newest day of the last target (OpenRouter, down now): the bottom right cell.
        # Plotly throttles hover events and may drop one under load: move again until the label
        # has caught up with the pointer (a bounded number of tries, each with its own wait).
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        today = f"{seeded.now:%a %d %b %Y}"
        caught_up = (
            "(document.querySelector('.hoverlayer .hovertext') || {}).textContent"
            f"?.includes('{today}')"
        )
        for attempt in range(10):
            x = box["x"] + box["width"] - 4 - (attempt % 2)
            page.mouse.move(x, box["y"] + box["height"] - 10, steps=4)
            try:
                page.wait_for_function(caught_up, timeout=3000)
                break
            except PlaywrightTimeout:
                continue
        text = page.locator(".hoverlayer .hovertext").first.text_content() or ""
        assert "openrouter" in text and "down" in text and "probes" in text and "uptime" in text


def test_the_public_view_hides_the_probes_table(served: str) -> None:
    with open_page(served + "/?public=1") as page:
        assert (
            "OpenRouter down since" in page.locator('[data-testid="brownout-banner"]').inner_text()
        )
        assert page.get_by_role("heading", name="Incidents").is_visible()
        assert page.get_by_role("heading", name="Recent probes").count() == 0
        assert "Downloads" not in page.inner_text("body")


def test_the_slo_panel_gives_attainment_budget_burn_and_paging_as_the_read_model_does(
    served: str, seeded: Seeded
) -> None:
    from monitor.read.slo import slo_now
    from monitor.reports import fmt

    with open_page(served) as page:
        assert page.get_by_role("heading", name="Service-level objectives").is_visible()
        table = page.locator('[data-testid="brownout-slos"]').inner_text()
        (objective,) = slo_now(seeded.store, seeded.config, seeded.now)[DOWN]
        assert DOWN in table and "availability 99.9%" in table
        # The page was drawn a moment after `seeded.now`; the outage's probes were all written
        # by then, so the figures are the same.
        assert fmt.pct(objective.compliance.attainment, 3) in table
        assert fmt.pct(objective.compliance.budget_left, 1) in table
        assert "page 1h/5m" in table and "(≥ 14.4×) firing" in table
        assert "ticket 3d/6h" in table
        # Nothing runs the alerts over the seeded database: the rule fires, no page was sent.
        assert "paging rule fires (not sent)" in table


def test_the_public_slo_panel_shows_compliance_but_no_burn_rates_or_paging(served: str) -> None:
    with open_page(served + "/?public=1") as page:
        table = page.locator('[data-testid="brownout-slos"]').inner_text()
        assert "availability 99.9%" in table and "error budget left" in table
        assert "burn now" not in table and "paging" not in table and "firing" not in table
