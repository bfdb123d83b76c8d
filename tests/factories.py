"""What tests build their data from: probe results, transitions, configs, seeded stores and
targets on the simulator. One helper each, shared by every test folder; fixtures live in the
conftest files.

    seed(store, [probe(T0 + i * MINUTE) for i in range(60)])        # an hour of good probes
    seed(store, [probe(T0, "anthropic/claude-haiku-4-5", outcome=Outcome.OVERLOADED)])
    flip(T0, "operational", "down", "openai/gpt-4o-mini", ["errors"])
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml

from monitor.config import CanaryConfig, Config, ProviderConfig, load_config
from monitor.detect.types import IncidentRecord, Status, TargetStatus, Transition
from monitor.pipeline.detection import DetectionService
from monitor.providers import Prompt, Reply, provider_for
from monitor.result import Outcome, ProbeResult
from monitor.runner import Monitor, make_client
from monitor.simulator import SimulatorHandle
from monitor.store import Store, detection, results
from monitor.target import Target

T0 = datetime(2026, 10, 1, tzinfo=UTC)
SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

Seed = Callable[..., None]  # the `seed` fixture: seed(target, outcomes, ago=…, **fields)

KINDS = ["openai", "anthropic", "gemini"]
KEY = "sk-test-abcdefghijklmnop0123456789"  # a fake key

SECRET = "sk-test-Zq8v1LmN4pR7sT0uW3xY6aB9cD2eF5gH"  # a fake key
TARGETS = [
    "openai/gpt-4o-mini",
    "anthropic/claude-haiku-4-5",
    "openrouter/meta-llama/llama-3.3-70b-instruct",
]

# An ordinary answered probe: what `probe` gives unless told otherwise.
ANSWERED: dict[str, Any] = {
    "http_status": 200,
    "connect_ms": 40.0,
    "ttft_ms": 300.0,
    "latency_ms": 500.0,
    "input_tokens": 21,
    "output_tokens": 2,
    "tokens_per_s": 40.0,
    "quality_ok": True,
    "answer": "391",
    "cost_usd": 0.00001,
}
# What only an answer has; a probe that failed has none of it (unless told otherwise).
ANSWER_ONLY = (
    "http_status",
    "ttft_ms",
    "latency_ms",
    "output_tokens",
    "tokens_per_s",
    "quality_ok",
    "answer",
    "cost_usd",
    "response_model",
    "system_fingerprint",
)


def probe(
    ts: datetime = T0,
    target: str = "openai/gpt-4o-mini",
    *,
    figures: Mapping[str, Any] = ANSWERED,
    **fields: Any,
) -> ProbeResult:
    """A probe result of `target` at `ts`: answered and `ok`, with `figures` (`ANSWERED`, the
    response model named after the model) unless `fields` say otherwise. A `wrong_answer` has
    `quality_ok` False; a failure outcome has none of `ANSWER_ONLY`. `fields` set any field and
    win over both."""
    provider, _, model = target.partition("/")
    outcome = Outcome(fields.get("outcome", Outcome.OK))
    values: dict[str, Any] = {
        "ts": ts,
        "target": target,
        "provider": provider,
        "model": model,
        "canary": "arithmetic",
        "response_model": model,
        **figures,
    }
    if outcome is Outcome.WRONG_ANSWER:
        values["quality_ok"] = False
    elif not outcome.answered:
        values.update(dict.fromkeys(ANSWER_ONLY))
    values.update(fields)
    values["outcome"] = outcome
    return ProbeResult(**values)


# The figures of `minute_probe`: a detector's ordinary target.
STEADY: dict[str, Any] = {
    "http_status": 200,
    "ttft_ms": 400.0,
    "latency_ms": 600.0,
    "output_tokens": 12,
    "tokens_per_s": 60.0,
    "quality_ok": True,
    "answer": "391",
    "response_model": "gpt-4o-mini-2024-07-18",
    "system_fingerprint": "fp_1",
}


def minute_probe(i: int, target: str = "openai/gpt-4o-mini", **fields: Any) -> ProbeResult:
    """Probe number `i`, one a minute from T0, with the `STEADY` figures: a good answer unless
    `fields` say otherwise."""
    ts = fields.pop("ts", T0 + i * MINUTE)
    return probe(ts, target, figures=STEADY, **fields)


def healthy_stream(
    start: int,
    n: int,
    seed: int = 7,
    target: str = "openai/gpt-4o-mini",
    slow: float = 1.0,
    error_rate: float = 0.0,
    wrong_rate: float = 0.02,
    limit_rate: float = 0.0,
    model: str = "gpt-4o-mini-2024-07-18",
    tool_fail_rate: float | None = None,
) -> list[ProbeResult]:
    """Probes `start`..`start+n-1` with lognormal timings (×`slow`) and the given rates. With
    `tool_fail_rate`, every probe is a tool canary's whose call fails the schema that often
    (`tool_check`), instead of a text canary's wrong at `wrong_rate`."""
    rng = random.Random(seed * 1_000_003 + start)
    out = []
    for i in range(start, start + n):
        u = rng.random()
        if u < limit_rate:
            out.append(minute_probe(i, target, outcome=Outcome.RATE_LIMITED, http_status=429))
        elif u < limit_rate + error_rate:
            out.append(minute_probe(i, target, outcome=Outcome.SERVER_ERROR, http_status=500))
        else:
            ttft = 400 * slow * math.exp(rng.gauss(0, 0.35))
            tps = 60 / slow * math.exp(rng.gauss(0, 0.3))
            fail = wrong_rate if tool_fail_rate is None else tool_fail_rate
            ok = rng.random() >= fail
            tool: dict[str, Any] = {}
            if tool_fail_rate is not None:
                tool = {"canary": "weather_tool", "tool_check": "ok" if ok else "schema_mismatch"}
            out.append(
                minute_probe(
                    i,
                    target,
                    ttft_ms=ttft,
                    latency_ms=ttft + 12000 / tps,
                    tokens_per_s=tps,
                    outcome=Outcome.OK if ok else Outcome.WRONG_ANSWER,
                    quality_ok=ok,
                    response_model=model,
                    **tool,
                )
            )
    return out


def cyclic_stream(
    n: int,
    amplitude: float = 0.4,
    seed: int = 7,
    target: str = "openai/gpt-4o-mini",
    slow_from: int | None = None,
    slow_until: int | None = None,
    slow: float = 1.0,
) -> list[ProbeResult]:
    """`n` minutes of `healthy_stream` (no errors, no wrong answers) whose timings follow a
    daily cycle: × e^(amplitude · sin(2π · minute / 1440)), the peak at 06:00 UTC each day and
    the trough at 18:00; from minute `slow_from` to `slow_until` (the end when None) every
    timing is `slow` times slower still (a brownout)."""
    out = []
    for r in healthy_stream(0, n, seed=seed, target=target, wrong_rate=0.0):
        i = int((r.ts - T0) / MINUTE)
        k = math.exp(amplitude * math.sin(2 * math.pi * i / 1440))
        if slow_from is not None and i >= slow_from and (slow_until is None or i < slow_until):
            k *= slow
        assert r.ttft_ms and r.latency_ms and r.tokens_per_s
        out.append(
            replace(
                r,
                ttft_ms=r.ttft_ms * k,
                latency_ms=r.latency_ms * k,
                tokens_per_s=r.tokens_per_s / k,
            )
        )
    return out


def regional_probes(
    target: str,
    start: datetime,
    n: int,
    every: timedelta,
    regions: Mapping[str, tuple[float, int]],
) -> list[ProbeResult]:
    """`n` probes of `target` from each region, `every` apart from `start`, in time order:
    region -> (TTFT in ms, fail_every): every `fail_every`-th probe of that region is a
    `server_error` (0: none fails); the others answer with that TTFT and twice it as latency."""
    out = []
    for i in range(n):
        for region, (ttft, fail_every) in regions.items():
            ts = start + i * every
            if fail_every and i % fail_every == 0:
                out.append(probe(ts, target, region=region, outcome=Outcome.SERVER_ERROR))
            else:
                out.append(probe(ts, target, region=region, ttft_ms=ttft, latency_ms=2 * ttft))
    return out


def tiered_stream(
    n: int,
    long_every: int = 10,
    long_slow: float = 20.0,
    slow_from: int | None = None,
    seed: int = 7,
) -> list[ProbeResult]:
    """`n` minutes of a target probed with the short canary (`arithmetic`) each minute and a
    long prompt (canary `long`) every `long_every` minutes, the long one `long_slow` times
    slower; from minute `slow_from` on, only the long prompt is three times slower still."""
    out = []
    for result in healthy_stream(0, n, seed=seed):
        i = int((result.ts - T0) / MINUTE)
        if i % long_every == 0:
            slow = long_slow * (3.0 if slow_from is not None and i >= slow_from else 1.0)
            ttft = result.ttft_ms * slow if result.ttft_ms else None
            latency = result.latency_ms * slow if result.latency_ms else None
            out.append(replace(result, ts=result.ts + timedelta(seconds=30), canary="long",
                               ttft_ms=ttft, latency_ms=latency))  # fmt: skip
        out.append(result)
    return sorted(out, key=lambda r: r.ts)


def burning_hour(
    end: datetime, target: str = "openai/gpt-4o-mini", fail_every: int = 50, minutes: int = 60
) -> list[ProbeResult]:
    """One probe a minute of `target` for the `minutes` before `end`, every `fail_every`-th a
    `server_error` (2 % by default: 20× the budget of 99.9 %), the rest answered in 400 ms."""
    out = []
    for i in range(minutes):
        ts = end - (minutes - i) * MINUTE
        if fail_every and i % fail_every == 0:
            out.append(probe(ts, target, outcome=Outcome.SERVER_ERROR, http_status=500))
        else:
            out.append(probe(ts, target, ttft_ms=400.0, latency_ms=600.0))
    return out


def slo_config(tmp_path: Path, *alerts: dict[str, Any], slo: str = "99.9%") -> Config:
    """Two OpenAI-protocol targets; the `openai` provider's targets have `slo` availability
    and `ttft_p95: 2s`, the `other` provider's none; `alerts` are alert channels."""
    provider = {"kind": "openai", "base_url": "http://127.0.0.1:9", "api_key": KEY}
    return config_file(
        tmp_path,
        {
            "providers": {
                "openai": {**provider, "models": ["gpt-4o-mini"],
                           "slo": {"availability": slo, "ttft_p95": "2s"}},
                "other": {**provider, "models": ["gpt-4o-mini"]},
            },
            "canaries": [{"name": "arithmetic", "generator": "arithmetic"}],
            "alerts": list(alerts),
        },
    )  # fmt: skip


def seed(store: Store, probes: Iterable[ProbeResult]) -> int:
    """Store `probes` through the one write path (`results.record`), in chunks; returns how many."""
    batch: list[ProbeResult] = []
    n = 0
    for p in probes:
        batch.append(p)
        if len(batch) == 5000:
            n += results.record(store, batch)
            batch = []
    return n + results.record(store, batch)


def flip(
    ts: datetime,
    old: str,
    new: str,
    target: str = "openai/gpt-4o-mini",
    reasons: Sequence[str] = (),
    details: dict[str, Any] | None = None,
) -> Transition:
    """A change of `target`'s status from `old` to `new` at `ts`."""
    return Transition(ts, target, Status(old), Status(new), list(reasons), details or {})


def seed_incident(
    store: Store,
    target: str,
    changes: Sequence[tuple[datetime, str]],
    reasons: Sequence[str] = ("errors",),
) -> IncidentRecord:
    """Store one incident of `target` with its transitions: `changes` are (time, new status)
    from its start (`degraded` or `down`) to, optionally, its end (`operational`)."""
    stored = []
    old = "operational"
    for ts, new in changes:
        stored.append(flip(ts, old, new, target, reasons if new != "operational" else ()))
        old = new
    problems = [s for _, s in changes if s != "operational"]
    end = changes[-1][0] if changes[-1][1] == "operational" else None
    worst = Status.DOWN if "down" in problems else Status.DEGRADED
    incident = IncidentRecord(target, changes[0][0], worst, end, list(reasons))
    detection.save_detection(store, transitions=stored, incidents=[incident])
    return incident


def config_file(tmp_path: Path, data: dict[str, Any], env: dict[str, str] | None = None) -> Config:
    """A Config loaded the way users load theirs: `data` as YAML on disk, through `load_config`."""
    path = tmp_path / "probes.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_config(str(path), env=env or {})


def target_for(
    sim: SimulatorHandle | str, kind: str, model: str = "sim-model", key: str | None = KEY
) -> Target:
    """The target `kind/model` on the simulator (or at a base URL), resolved as the config does."""
    base = sim if isinstance(sim, str) else sim.base_url(kind)
    provider = ProviderConfig(kind=kind, base_url=base, api_key=key, models=[model])
    return Config(providers={kind: provider}).targets()[0]


async def ask(
    client: httpx.AsyncClient,
    sim: SimulatorHandle | str,
    kind: str,
    *,
    model: str = "sim-model",
    key: str | None = KEY,
    prompt: str = "What is 17 * 23? Reply with the number only.",
    max_tokens: int = 16,
    timeout: float = 10.0,  # noqa: ASYNC109 (passed on to Provider.complete)
) -> Reply:
    """One call of `kind`'s provider to the simulator, as a probe makes it."""
    target = target_for(sim, kind, model, key)
    return await provider_for(kind).complete(
        client, target, Prompt(prompt, max_tokens=max_tokens), timeout=timeout
    )


def api_config(**extra: Any) -> Config:
    """Three targets on two protocols (one with a price, a header secret), in two families."""
    data: dict[str, Any] = {
        "providers": {
            "openai": {
                "kind": "openai",
                "base_url": "http://127.0.0.1:9/v1",
                "api_key": SECRET,
                "headers": {"x-private": SECRET},
                "models": ["gpt-4o-mini"],
                "price": {"gpt-4o-mini": {"input": 0.15, "output": 0.60}},
            },
            "anthropic": {
                "kind": "anthropic",
                "base_url": "http://127.0.0.1:9",
                "api_key": SECRET,
                "models": ["claude-haiku-4-5"],
                "price": {"claude-haiku-4-5": {"input": 1.0, "output": 5.0}},
            },
            "openrouter": {
                "kind": "openai",
                "base_url": "http://127.0.0.1:9/api/v1",
                "api_key": SECRET,
                "models": ["meta-llama/llama-3.3-70b-instruct"],
            },
        },
        "families": {"fast-small": TARGETS[:2], "all": TARGETS},
    }
    data.update(extra)
    return Config.model_validate(data)


def sim_config(sim: SimulatorHandle, **sections: Any) -> Config:
    """One OpenAI-protocol target on the simulator, `sim/gpt-4o-mini`, probed with the
    arithmetic canary; `sections` add or replace top-level sections (`schedule={…}`)."""
    data: dict[str, Any] = {
        "providers": {
            "sim": {
                "kind": "openai",
                "base_url": sim.openai_url,
                "api_key": "sk-sim-0123456789",
                "models": ["gpt-4o-mini"],
            }
        },
        "canaries": [
            {
                "name": "arithmetic",
                "prompt": "What is 17 * 23? Reply with the number only.",
                "expect": {"equals": "391"},
            }
        ],
        **sections,
    }
    return Config.model_validate(data)


class MinuteClock:
    """Each reading is one minute later: probes one a minute, as far as detection can tell."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


class DetectionSink:
    """A monitor's sink that feeds every stored batch to a detection service."""

    def __init__(self, service: DetectionService) -> None:
        self.service = service

    def on_results(self, batch: Sequence[ProbeResult]) -> None:
        self.service.observe(batch)


async def live_status_after(
    sim: SimulatorHandle, store: Store, scenario: Mapping[str, Any], probes: int
) -> TargetStatus:
    """`sim/gpt-4o-mini` (`sim_config`) probed for real 40 times, one a minute as detection sees
    it (the baseline; asserted operational), then `probes` times more after the simulator turns
    to `scenario`: the detector's status then."""
    config = sim_config(sim)
    clock = MinuteClock()
    service = DetectionService(store, config, clock)
    service.restore()
    async with make_client(config) as client:
        monitor = Monitor(config, store, client, sinks=[DetectionSink(service)], clock=clock)
        for _ in range(40):
            await monitor.run_once(config.targets())
        await monitor.in_pipeline(lambda: None)  # the sinks have seen every batch
        assert service.statuses()["sim/gpt-4o-mini"].status is Status.OPERATIONAL
        sim.set_scenario(dict(scenario))
        for _ in range(probes):
            await monitor.run_once(config.targets())
        # run_once returns once the results are written; the sinks are fed just after, in the
        # pipeline thread, which runs this after them.
        await monitor.in_pipeline(lambda: None)
    return service.statuses()["sim/gpt-4o-mini"]


# Official status pages as incident.io's widget API, Google Cloud and Instatus publish them.
INCIDENTIO_WIDGET = {
    "ongoing_incidents": [
        {
            "id": "01JDX5A7KQ3V0ZC1M8N2P4R6T8",
            "name": "Elevated error rates on chat completions",
            "status": "identified",
            "url": "https://status.example.com/incidents/01JDX5A7KQ3V0ZC1M8N2P4R6T8",
            "last_update_at": "2026-12-01T10:04:00.000Z",
            "last_update_message": "We have identified the cause.",
            "current_worst_impact": "partial_outage",
            "affected_components": [
                {"id": "01HC0", "name": "Chat Completions", "current_status": "partial_outage"},
                {"id": "01HC1", "name": "Responses", "current_status": "degraded_performance"},
            ],
        },
        {
            "id": "01JDX5B0000000000000000000",
            "name": "Fine-tuning jobs delayed",
            "status": "investigating",
            "published_at": "2026-12-01T09:30:00.000Z",
            "current_worst_impact": "full_outage",
            "affected_components": [
                {"id": "01HC9", "name": "Fine-tuning", "current_status": "full_outage"}
            ],
        },
    ],
    "in_progress_maintenances": [],
    "scheduled_maintenances": [],
}

GOOGLE_CLOUD_INCIDENTS = [
    {
        "id": "mR3kQm1tZXd2Zk",
        "number": "1234567890123456789",
        "begin": "2026-12-01T09:40:00+00:00",
        "created": "2026-12-01T09:52:11+00:00",
        "modified": "2026-12-01T10:01:00+00:00",
        "external_desc": "Vertex Gemini API elevated latency in us-central1",
        "severity": "medium",
        "status_impact": "SERVICE_DISRUPTION",
        "affected_products": [{"title": "Vertex Gemini API", "id": "Z0FZJAMvEB4j3NbCJs6B"}],
        "uri": "incidents/mR3kQm1tZXd2Zk",
        "most_recent_update": {"status": "SERVICE_DISRUPTION", "text": "Mitigation in progress"},
    },
    {
        "id": "oldOne",
        "begin": "2026-11-20T01:00:00+00:00",
        "created": "2026-11-20T01:30:00+00:00",
        "end": "2026-11-20T03:00:00+00:00",
        "external_desc": "Cloud Storage errors",
        "severity": "high",
        "status_impact": "SERVICE_OUTAGE",
        "affected_products": [{"title": "Cloud Storage", "id": "UwaYoXQ5bHYHG6EdiPB8"}],
        "uri": "incidents/oldOne",
    },
]

INSTATUS_SUMMARY = {
    "page": {"name": "Example AI", "url": "https://example.instatus.com", "status": "HASISSUES"},
    "activeIncidents": [
        {
            "id": "clx0incident0001",
            "name": "API timeouts",
            "started": "2026-12-01T09:58:00.000Z",
            "status": "INVESTIGATING",
            "impact": "MAJOROUTAGE",
            "url": "https://example.instatus.com/clx0incident0001",
        }
    ],
    "activeMaintenances": [],
}
INSTATUS_COMPONENTS = {
    "components": [
        {"id": "c1", "name": "API", "status": "MAJOROUTAGE"},
        {"id": "c2", "name": "Dashboard", "status": "OPERATIONAL"},
        {"id": "c3", "name": "Platform", "status": "OPERATIONAL", "isParent": True},
    ]
}


# The first-token top logprobs of a drift canary ("Paris"), and a re-quantised model's: the same
# tokens, each shifted by a fixed small amount (what another set of weights does).
DRIFT_TOKENS = {"Paris": -0.05, " Paris": -3.2, "The": -4.0, "paris": -5.5, "It": -6.1}
REQUANTISED = {"Paris": -0.01, " Paris": 0.25, "The": -0.2, "paris": 0.3, "It": -0.25}


def top_logprobs(rng: random.Random, shift: float = 0.0, noise: float = 0.05) -> list[list[Any]]:
    """One probe's top logprobs: `DRIFT_TOKENS` plus serving noise (sd `noise`), and `shift` times
    `REQUANTISED`'s change."""
    pairs = [
        [token, min(0.0, lp + shift * REQUANTISED[token] + rng.gauss(0.0, noise))]
        for token, lp in DRIFT_TOKENS.items()
    ]
    return sorted(pairs, key=lambda p: -p[1])


def drift_probe(i: int, rng: random.Random, shift: float = 0.0, **fields: Any) -> ProbeResult:
    """`minute_probe(i)` of the `drift` canary, with `top_logprobs(rng, shift)`."""
    return minute_probe(
        i, canary="drift", answer="Paris", top_logprobs=top_logprobs(rng, shift), **fields
    )


WEATHER_TOOL: dict[str, Any] = {
    "name": "get_weather",
    "description": "The current weather in a city.",
    "parameters": {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["city", "unit"],
        "additionalProperties": False,
    },
}
TIME_TOOL: dict[str, Any] = {
    "name": "get_time",
    "description": "The current time in a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


def tool_canary(**fields: Any) -> CanaryConfig:
    """A tool canary: get_weather (and get_time) offered, get_weather(Paris, celsius) expected."""
    data: dict[str, Any] = {
        "name": "weather_tool",
        "prompt": 'Call get_weather with city set to "Paris" and unit set to "celsius".',
        "tools": [WEATHER_TOOL, TIME_TOOL],
        "expect": {
            "tool_call": {"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}
        },
        "max_tokens": 64,
    }
    data.update(fields)
    return CanaryConfig.model_validate(data)
