"""The HTML report opened offline in a real browser (Debian's chromium through Playwright):
its charts draw with no network, it fetches nothing, and it prints."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import Config
from monitor.reports.build import build_report
from monitor.reports.render import render
from monitor.reports.statuses import RecordedStatuses
from monitor.store import Store
from tests.factories import DAY, T0, flip, probe, seed

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def report_file(store: Store, tmp_path: Path) -> Path:
    seed(store, [probe(T0 + i * DAY / 48) for i in range(48 * 7)])
    statuses = RecordedStatuses(
        [
            flip(T0 - DAY, "unknown", "operational"),
            flip(T0 + 2 * DAY, "operational", "down", reasons=("errors",)),
            flip(T0 + 2 * DAY + DAY / 24, "down", "operational"),
        ]
    )
    path = tmp_path / "report.html"
    path.write_text(
        render(build_report(store, Config(), T0, T0 + 7 * DAY, statuses=statuses), "html")
    )
    return path


def test_the_html_report_draws_its_charts_offline_and_prints(
    report_file: Path, tmp_path: Path
) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(
            f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)"
        )
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        context = browser.new_context(offline=True)
        page = context.new_page()
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        page.goto(report_file.as_uri())
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 3")
        assert page.locator(".js-plotly-plot").count() == 3
        assert page.get_by_text("99.404 %").first.is_visible()  # 1 hour down in 7 days
        assert requested == [report_file.as_uri()]
        pdf = tmp_path / "report.pdf"
        page.pdf(path=str(pdf))
        assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 10_000
        browser.close()
