"""The API's endpoints: parse the request, read through `views`, answer JSON, SVG or text.

Store reads block, so every endpoint is a plain function: Starlette runs those in its thread
pool, off the event loop that also runs the probes.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any

import yaml
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from monitor.api import badges, feeds, public, views
from monitor.config import Config
from monitor.detect.types import Status
from monitor.durations import format_duration, parse_duration
from monitor.errors import BrownoutError, UsageError
from monitor.read.now import status_now, target_names
from monitor.result import parse_ts, utcnow
from monitor.route import Preferences
from monitor.route import route as rank_route
from monitor.store import Store, lease

MAX_POINTS = 2000
MAX_WINDOW = timedelta(days=400)
SVG = "image/svg+xml; charset=utf-8"


class BadRequest(Exception):
    """A query parameter that cannot be used; answered 400 with its message."""


class NotFound(Exception):
    """No such target; answered 404 with its message."""


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _config(request: Request) -> Config:
    config: Config = request.app.state.config
    return config


def _duration(text: str, name: str) -> timedelta:
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        raise BadRequest(f"{name}: {exc}") from None
    if seconds <= 0 or seconds > MAX_WINDOW.total_seconds():
        raise BadRequest(f"{name} must be more than 0 and at most {MAX_WINDOW.days}d")
    return timedelta(seconds=seconds)


def _when(text: str | None, now: datetime, default: timedelta | None, name: str) -> datetime | None:
    """A time given as an age (`24h`: that long ago) or an ISO-8601 timestamp."""
    if text is None or text == "":
        return None if default is None else now - default
    if text[0].isdigit() and not any(c in text for c in "-:T"):
        return now - _duration(text, name)
    try:
        when = parse_ts(text)
    except ValueError:
        raise BadRequest(
            f"{name} must be a duration such as 24h or an ISO-8601 time, got {text!r}"
        ) from None
    if not 1970 <= when.year <= 9000:
        raise BadRequest(f"{name} must be a time between 1970 and 9000, got {text!r}")
    return when


def _target(request: Request) -> str:
    target = f"{request.path_params['provider']}/{request.path_params['model']}"
    if target not in target_names(_store(request), _config(request)):
        raise NotFound(f"unknown target {target!r}")
    return target


def healthz(request: Request) -> Response:
    """200 when the database answers and the runner (if it reports) is healthy; else 503.

    `leader` is the lease as stored (which monitor runs detection and alerts, see
    monitor.pipeline.leader); the runner's own role is `runner.leadership.role`.
    The runner's report is healthy unless it says `ok: false`, `scheduler_running: false`,
    `database: failing` (writes fail or stall; `backlog` then counts the results waiting), or a
    `last_probe_age_s` older than three intervals plus a timeout (nothing is being stored).
    """
    body: dict[str, Any] = {"status": "ok"}
    problems: list[str] = []
    try:
        target_names(_store(request), _config(request))
        body["database"] = "ok"
        held = lease.current(_store(request))
        body["leader"] = held.to_dict() if held is not None else None
    except BrownoutError as exc:
        body["database"] = str(exc)
        problems.append("the database does not answer")
    health = request.app.state.health
    if health is not None:
        report = dict(health())
        body["runner"] = json.loads(json.dumps(report, default=str))
        schedule = _config(request).schedule
        stale_after = 3 * schedule.interval + schedule.timeout
        age = report.get("last_probe_age_s")
        if report.get("database") == "failing":
            backlog = report.get("backlog") or {}
            body["database"] = "failing"
            body["backlog"] = backlog
            problems.append(
                f"database writes are failing; {backlog.get('results', 0)} result(s) waiting"
            )
        if report.get("ok") is False:
            problems.append("the runner reports a problem")
        if report.get("scheduler_running") is False:
            problems.append("the scheduler is not running")
        if isinstance(age, int | float) and age > stale_after:
            problems.append(f"no probe stored for {format_duration(age)}")
    if problems:
        body["status"] = "failing"
        body["problems"] = problems
    return JSONResponse(body, status_code=503 if problems else 200)


def status(request: Request) -> Response:
    region = request.query_params.get("region") or None
    return JSONResponse(views.status_view(_store(request), _config(request), utcnow(), region))


def incidents(request: Request) -> Response:
    now = utcnow()
    q = request.query_params
    since = _when(q.get("since"), now, timedelta(days=7), "since")
    until = _when(q.get("until"), now, None, "until")
    assert since is not None
    targets = q.getlist("target") or None
    return JSONResponse(
        views.incidents_view(_store(request), _config(request), since, until, targets)
    )


def official_pages(request: Request) -> Response:
    now = utcnow()
    q = request.query_params
    since = _when(q.get("since"), now, timedelta(days=90), "since")
    until = _when(q.get("until"), now, timedelta(0), "until")
    assert since is not None and until is not None
    if until <= since:
        raise BadRequest("until must be after since")
    return JSONResponse(views.official_view(_store(request), _config(request), since, until))


def target_history(request: Request) -> Response:
    target = _target(request)
    now = utcnow()
    q = request.query_params
    since = _when(q.get("since"), now, timedelta(hours=24), "since")
    until = _when(q.get("until"), now, timedelta(0), "until")
    assert since is not None and until is not None
    if until <= since:
        raise BadRequest("until must be after since")
    span = (until - since).total_seconds()
    if q.get("step"):
        step = _duration(q["step"], "step")
    else:
        step = timedelta(seconds=max(60.0, math.ceil(span / 200)))
    # Buckets start on whole steps (UTC), so charts line up and points are stable across calls.
    size = step.total_seconds()
    since = datetime.fromtimestamp(since.timestamp() // size * size, UTC)
    span = (until - since).total_seconds()
    if span / size > MAX_POINTS:
        raise BadRequest(
            f"since..until over step gives more than {MAX_POINTS} points; use a larger step"
        )
    return JSONResponse(views.history_view(_store(request), target, since, until, step))


def _rate(text: str, name: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise BadRequest(f"{name} must be a number of tokens per second above 0, got {text!r}")
    return value


def route(request: Request) -> Response:
    q = request.query_params
    window = _duration(q["window"], "window") if q.get("window") else timedelta(minutes=15)
    ttft = q.get("max_ttft_p90")
    tps = q.get("min_tokens_per_s")
    preferences = Preferences(
        max_ttft_p90_ms=_duration(ttft, "max_ttft_p90").total_seconds() * 1000 if ttft else None,
        min_tokens_per_s=_rate(tps, "min_tokens_per_s") if tps else None,
    )
    try:
        answer = rank_route(
            _store(request),
            _config(request),
            family=q.get("family") or None,
            need=q.get("need") or "balanced",
            window=window,
            preferences=preferences,
        )
    except UsageError as exc:
        raise BadRequest(str(exc)) from None
    return JSONResponse(answer.to_dict())


def _badge_target(request: Request) -> str | None:
    """The badge's target, or None when brownout knows no such target."""
    target = f"{request.path_params['provider']}/{request.path_params['model']}"
    return target if target in target_names(_store(request), _config(request)) else None


def _unknown_badge(label: str) -> Response:
    # 200, as shields.io answers for a badge it cannot fill: image proxies (GitHub's camo) and
    # <img> tags show nothing for a 404, and a README should show "unknown" rather than a hole.
    # The header tells scripts apart from a known target with no data.
    headers = _no_cache() | {"x-brownout-badge": "unknown-target"}
    message = Status.UNKNOWN.value
    return Response(
        badges.badge(label, message, badges.STATUS_COLOURS[message]),
        media_type=SVG,
        headers=headers,
    )


def status_badge(request: Request) -> Response:
    target = _badge_target(request)
    if target is None:
        name = f"{request.path_params['provider']}/{request.path_params['model']}"
        return _unknown_badge(name)
    view = status_now(_store(request), _config(request), utcnow(), [target])
    word = view.targets[target].status.value if target in view.targets else Status.UNKNOWN.value
    return Response(badges.status_badge(target, word), media_type=SVG, headers=_no_cache())


def uptime_badge(request: Request) -> Response:
    window = _duration(request.query_params.get("window") or "30d", "window")
    target = _badge_target(request)
    if target is None:
        return _unknown_badge(f"uptime {format_duration(window.total_seconds())}")
    now = utcnow()
    ratio = views.uptime(_store(request), target, now - window, now)
    label = format_duration(window.total_seconds())
    cover = views.coverage(_store(request), target, now, window.total_seconds())
    if cover is not None and ratio is not None:  # less data than the window: say how much
        label += f" ({format_duration(max(60, round(cover / 60) * 60))} of data)"
    return Response(badges.uptime_badge(label, ratio), media_type=SVG, headers=_no_cache())


def _no_cache() -> dict[str, str]:
    # README images pass through caching proxies (GitHub's camo); a status must not go stale there.
    return {"cache-control": "max-age=60, no-cache"}


def public_status(request: Request) -> Response:
    return JSONResponse(public.public_status(_store(request), _config(request), utcnow()))


FEED_KINDS = {"atom": (feeds.atom, feeds.ATOM), "rss": (feeds.rss, feeds.RSS)}


def incident_feed(request: Request) -> Response:
    """`/public/incidents.{atom,rss}` and `/public/providers/{provider}/incidents.{atom,rss}`:
    incidents overlapping `since` (default 30d), newest first."""
    now = utcnow()
    since = _when(request.query_params.get("since"), now, timedelta(days=30), "since")
    assert since is not None
    provider = request.path_params.get("provider")
    if provider is not None:
        known = {n.partition("/")[0] for n in target_names(_store(request), _config(request))}
        if provider not in known:
            raise NotFound(f"unknown provider {provider!r}")
    kind = request.path_params["kind"]
    if kind not in FEED_KINDS:
        raise NotFound(f"no feed format {kind!r}; use .atom or .rss")
    render, media_type = FEED_KINDS[kind]
    config = _config(request)
    base = str(request.base_url).rstrip("/")
    path = request.url.path
    info = feeds.FeedInfo(
        title=f"brownout incidents: {provider}" if provider else "brownout incidents",
        feed_id=public.feed_id(base, provider),
        self_url=f"{base}{path}",
        link=config.dashboard.url or f"{base}/public/status.json",
        now=now,
    )
    items = public.feed_items(_store(request), since, [provider] if provider else None)
    return Response(render(info, items), media_type=media_type, headers=_no_cache())


def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.registry), media_type=CONTENT_TYPE_LATEST)


@cache
def openapi_text() -> str:
    return resources.files("monitor.api").joinpath("openapi.yaml").read_text(encoding="utf-8")


@cache
def openapi_document() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(openapi_text())
    return document


def openapi_json(request: Request) -> Response:
    return JSONResponse(openapi_document())


def openapi_yaml(request: Request) -> Response:
    return Response(openapi_text(), media_type="application/yaml")
