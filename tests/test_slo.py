"""SLO objectives, burn rates and the multi-window paging rule (`monitor.slo`), pure."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config.schema import SloConfig
from monitor.errors import ConfigError
from monitor.figures import Figures
from monitor.result import Outcome
from monitor.slo import burn_rate, compliance, objectives, pages
from tests.factories import T0, config_file, probe

AVAILABILITY, TTFT = objectives(SloConfig(availability="99.9%", ttft_p95="2s"))


def _figures(n: int, failures: int = 0, slow: int = 0, limited: int = 0) -> Figures:
    out = Figures()
    for i in range(n):
        if i < failures:
            out.add(probe(T0, outcome=Outcome.TIMEOUT))
        elif i < failures + limited:
            out.add(probe(T0, outcome=Outcome.RATE_LIMITED, http_status=429))
        else:
            ttft = 3000.0 if i < failures + limited + slow else 400.0
            out.add(probe(T0, ttft_ms=ttft, latency_ms=ttft + 200))
    return out


@pytest.mark.parametrize(
    ("written", "fraction"), [("99.9%", 0.999), (99.5, 0.995), (0.99, 0.99), ("99", 0.99)]
)
def test_an_availability_objective_is_read_as_a_percentage_or_a_fraction(
    written: object, fraction: float
) -> None:
    assert SloConfig(availability=written).availability == fraction  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("slo", "says"),
    [
        ({"availability": "lots"}, "is not a percentage such as 99.9%"),
        ({"availability": "100%"}, "less than 1"),
        ({}, "an slo needs availability"),
        ({"availability": "99.9%", "latency": "2s"}, "unknown key 'latency'"),
    ],
)
def test_a_bad_slo_is_refused_at_its_line(tmp_path: Path, slo: dict[str, str], says: str) -> None:
    data = {
        "providers": {
            "openai": {"kind": "openai", "base_url": "http://127.0.0.1:9", "models": ["m"],
                       "slo": slo}
        }
    }  # fmt: skip
    with pytest.raises(ConfigError) as caught:
        config_file(tmp_path, data)
    assert says in str(caught.value) and "probes.yaml:" in str(caught.value)


def test_the_burn_rate_is_the_bad_share_over_the_budget() -> None:
    # 2 failures in 1,000 against a budget of 0.1 %: twice as fast as the budget allows.
    assert burn_rate(_figures(1000, failures=2), AVAILABILITY) == pytest.approx(2.0)
    # A 429 is no failure of the provider (as the probe-share availability says).
    assert burn_rate(_figures(1000, limited=50), AVAILABILITY) == 0.0
    # 10 % of answers slower than 2 s against the 5 % a p95 allows.
    assert burn_rate(_figures(100, slow=10), TTFT) == pytest.approx(2.0)
    assert burn_rate(Figures(), AVAILABILITY) is None


def test_a_page_needs_both_windows_of_a_pair_over_the_factor() -> None:
    fast = _figures(1000, failures=20)  # 20× the budget
    clean = _figures(1000)
    page = pages({3600.0: fast, 300.0: fast, 21600.0: clean, 1800.0: clean}, AVAILABILITY)
    assert page is not None and (page.long_s, page.short_s, page.factor) == (3600, 300, 14.4)
    # The last five minutes are clean: the burn has stopped, nobody is paged.
    assert pages({3600.0: fast, 300.0: clean, 21600.0: fast, 1800.0: clean}, AVAILABILITY) is None
    # A slower burn (8×) pages on the 6-hour pair at 6×, not on the hour's 14.4×.
    slow = _figures(1000, failures=8)
    page = pages({3600.0: slow, 300.0: slow, 21600.0: slow, 1800.0: slow}, AVAILABILITY)
    assert page is not None and (page.long_s, page.factor) == (21600, 6.0)
    assert page.long_burn == pytest.approx(8.0)


def test_compliance_gives_attainment_and_the_error_budget_left() -> None:
    c = compliance("openai/gpt-4o-mini", _figures(10_000, failures=4), AVAILABILITY)
    assert c.attainment == pytest.approx(0.9996)
    assert c.met is True
    assert c.budget_left == pytest.approx(0.6)  # 4 of the 10 failures the budget allows
    over = compliance("openai/gpt-4o-mini", _figures(100, slow=10), TTFT)
    assert over.met is False and over.budget_left == pytest.approx(-1.0)
    assert over.objective == "TTFT p95 ≤ 2000 ms"
