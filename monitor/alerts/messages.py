"""What people read: the title and body of a message, in plain words, from its events.

An event is the JSON-ready dict the outbox stores (see `event`): a problem (a target became
degraded or down), a recovery (it is operational again, with the incident's duration) or a
reminder (still open). One event gives a message about one target; several give a digest, and
a digest about `fleet_threshold` providers or more is an *intelligence brownout*. A problem or a
reminder says which target to switch to now (the event's `switch`, from the transfer switch).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from monitor.alerts.channels import FAILURE, INFO, SUCCESS, WARNING
from monitor.durations import format_duration
from monitor.result import format_ts, parse_ts

if TYPE_CHECKING:
    from monitor.slo import Page

PROBLEM, RECOVERY, REMINDER = "problem", "recovery", "reminder"

_REASONS = {
    "errors": "errors",
    "latency": "total latency",
    "ttft": "time to first token",
    "throughput": "throughput",
    "rate_limit": "rate limiting",
    "quality": "answer quality",
    "tool_calls": "tool calls",
    "model_change": "the model behind the name changed",
    "stale": "no fresh data",
}


@dataclass(frozen=True, slots=True)
class Rendered:
    title: str
    body: str
    notify_type: str  # Apprise's: info, success, warning, failure


def event(
    kind: str,
    *,
    ts: datetime,
    target: str,
    old: str,
    new: str,
    reasons: Sequence[str] = (),
    details: dict[str, Any] | None = None,
    incident_start: datetime | None = None,
    worst: str | None = None,
    note: str | None = None,
    told: str | None = None,
) -> dict[str, Any]:
    """The stored form of one thing to tell (JSON-ready). `told` is what the channel was last
    told about the target, so a title says "now down" only to those who heard "degraded"."""
    return {
        "kind": kind,
        "ts": format_ts(ts),
        "target": target,
        "old": old,
        "new": new,
        "reasons": list(reasons),
        "details": details or {},
        "incident_start": format_ts(incident_start) if incident_start else None,
        "worst": worst,
        "note": note,
        "told": told,
    }


def render(
    events: Sequence[dict[str, Any]],
    *,
    dashboard_url: str | None = None,
    fleet_threshold: int = 3,
    resent: bool = False,
) -> Rendered:
    """The message for `events` (one or more). `resent` adds a line saying it may be a repeat.

    Several events of one target in one message (it changed again while the message waited to
    be grouped) read as its latest; a problem and its recovery together read as a brief one.
    """
    events = _collapse(events)
    if len(events) == 1 and events[0]["kind"] == SLO_BURN:
        title, body = _burn(events[0])
    elif len(events) == 1 and events[0]["kind"] == SLO_RESOLVED:
        title, body = _burn_resolved(events[0])
    elif len(events) == 1:
        title, body = _single(events[0])
    else:
        title, body = _digest(events, fleet_threshold)
    if dashboard_url:
        body += f"\n\nStatus page: {dashboard_url}"
    if resent:
        body += "\n\n(This may be a repeat: the monitor stopped while it was sending this message.)"
    kind = _slo_notify_type(events[0]) if events[0]["kind"] in SLO_KINDS else _notify_type(events)
    return Rendered(title, body, kind)


def _collapse(events: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    by_target: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        by_target.setdefault(e["target"], []).append(e)
    out = []
    for group in by_target.values():
        last = dict(group[-1])
        if len(group) > 1:
            last["told"] = group[0].get("told")  # what the reader knew before this message
            if last["kind"] == RECOVERY and any(e["kind"] == PROBLEM for e in group):
                last["brief"] = True
        out.append(last)
    return out


def test_message(channel: str) -> Rendered:
    return Rendered(
        f"brownout test message for {channel}",
        f"This is a test of the alert channel {channel!r}. If you can read it, alerts reach you.",
        INFO,
    )


def _single(e: dict[str, Any]) -> tuple[str, str]:
    target, new, old = e["target"], e["new"], e["old"]
    at = _when(e["ts"])
    lines: list[str]
    if e["kind"] == RECOVERY and e.get("brief"):
        title = f"{target} was briefly {e.get('worst') or 'degraded'}"
        lines = [f"{target} is operational again since {at}."]
        lasted = _lasted(e)
        if lasted:
            lines.append(lasted)
    elif e["kind"] == RECOVERY:
        title = f"{target} has recovered"
        lines = [f"{target} is operational again since {at}."]
        lasted = _lasted(e)
        if lasted:
            lines.append(lasted)
    elif e["kind"] == REMINDER:
        title = f"Still {new}: {target}"
        lines = [f"{target} is still {new}{_open_for(e)}."]
        lines += _switch_lines(e)
        lines += _why(e)
    else:
        told = e.get("told")
        if told == "degraded" and new == "down":
            title = f"{target} is now down"
        elif told == "down" and new == "degraded":
            title = f"{target} is degraded (was down)"
        else:
            title = f"{target} is {new}"
        where = _where(e)
        if where and where.startswith("only in"):
            title += f" ({where})"
        lines = [f"{target} is {new} since {at}" + (f" (was {old})." if old != "unknown" else ".")]
        if where:
            lines.append(f"Seen {where}.")
        if e["incident_start"] and e["incident_start"] != e["ts"]:
            lines.append(f"The incident began {_when(e['incident_start'])}.")
        lines += _switch_lines(e)
        lines += _why(e)
    if e.get("note"):
        lines.append(str(e["note"]))
    return title, "\n".join(lines)


def _digest(events: Sequence[dict[str, Any]], fleet_threshold: int) -> tuple[str, str]:
    problems = [e for e in events if e["kind"] == PROBLEM]
    providers = {e["target"].partition("/")[0] for e in problems}
    counts: dict[str, int] = {}
    for e in events:
        word = "recovered" if e["kind"] == RECOVERY else e["new"]
        counts[word] = counts.get(word, 0) + 1
    tally = ", ".join(f"{n} {word}" for word, n in sorted(counts.items(), key=lambda kv: -kv[1]))
    if len(providers) >= fleet_threshold:
        title = f"Intelligence brownout: {len(providers)} providers degraded or down"
        intro = (
            f"{len(providers)} providers ({', '.join(sorted(providers))}) went degraded or down "
            f"within a short time; this looks fleet-wide, not one provider's trouble. ({tally})"
        )
    elif all(e["kind"] == REMINDER for e in events):
        title = f"Still open: {len(events)} incidents ({tally})"
        intro = "These incidents are still open:"
    else:
        title = f"{len(events)} status changes: {tally}"
        intro = "Several targets changed status:"
    lines = [intro, ""]
    for e in sorted(events, key=lambda e: (e["ts"], e["target"])):
        lines.append(f"- {_line(e)}")
    return title, "\n".join(lines)


def _line(e: dict[str, Any]) -> str:
    if e["kind"] == RECOVERY:
        lasted = _duration(e)
        return f"{e['target']}: recovered at {_when(e['ts'])}" + (
            f" after {lasted}" if lasted else ""
        )
    switch = _switch(e)
    if e["kind"] == REMINDER:
        return f"{e['target']}: still {e['new']}{_open_for(e)}" + (f"; {switch}" if switch else "")
    figures = "; ".join(_figure(r, e["details"].get(r)) for r in e["reasons"])
    where = _where(e)
    return (
        f"{e['target']}: {e['new']} since {_when(e['ts'])}"
        + (f" ({figures})" if figures else "")
        + (f", {where}" if where else "")
        + (f"; {switch}" if switch else "")
    )


def _switch(e: dict[str, Any]) -> str | None:
    """What the transfer switch says to use instead (`monitor.route.switch_for`, stored with the
    event as `switch`): "switch to X now", or "no healthy alternative" and why. None for events
    stored without it."""
    advice = e.get("switch")
    if not isinstance(advice, dict):
        return None
    families = ", ".join(advice.get("families") or [])
    if advice.get("to"):
        return f"switch to {advice['to']} now (the best healthy target of {families})"
    if not families:
        return f"no healthy alternative ({e['target']} is in no family of equivalent targets)"
    return f"no healthy alternative (nothing else in {families} is operational)"


def _switch_lines(e: dict[str, Any]) -> list[str]:
    text = _switch(e)
    return [] if text is None else [text[0].upper() + text[1:] + "."]


def _where(e: dict[str, Any]) -> str | None:
    """Where a target probed from several regions is in trouble: "only in eu-west (regional)"
    when fewer regions than the quorum see it, "in eu-west, us-east" otherwise."""
    details = e.get("details") or {}
    regions = details.get("regions") or []
    if not regions or len(details.get("by_region") or {}) < 2:
        return None
    names = ", ".join(str(r) for r in regions)
    return f"only in {names} (regional)" if details.get("regional") else f"in {names}"


def _why(e: dict[str, Any]) -> list[str]:
    if not e["reasons"]:
        return []
    return ["", "Why:"] + [f"- {_figure(r, e['details'].get(r))}" for r in e["reasons"]]


def _drift(detail: dict[str, Any]) -> str:
    """`the distribution of the drift canary's logprobs changed (p = 0.0001 at a level of
    0.00015): "A" -2.3 → -4.66, …`"""
    what = "first-token logprobs" if detail.get("field") == "logprobs" else "answers"
    text = (
        f"the distribution of the {detail.get('canary')} canary's {what} changed "
        f"(p = {detail.get('p_value'):.2g} at a level of {detail.get('alpha'):.2g})"
    )
    moved = []
    for e in detail.get("evidence") or []:
        if "token" in e:
            moved.append(f"{e['token']!r} {e['reference_logprob']:g} → {e['current_logprob']:g}")
        elif "answer" in e:
            before, after = e["reference_share"], e["current_share"]
            moved.append(f"{e['answer']!r} {before:.0%} → {after:.0%} of answers")
    return f"{text}: {', '.join(moved)}" if moved else text


def _figure(reason: str, detail: Any) -> str:
    """`total latency: 2400 ms against a baseline of 800 ms (3.0×)`, from whatever figures
    detection gave: `value*`/`baseline*` pairs with a unit suffix, a `ratio`, other numbers."""
    label = _REASONS.get(reason, reason.replace("_", " "))
    if not isinstance(detail, dict) or not detail:
        return label if detail in (None, {}) else f"{label}: {detail}"
    if "p_value" in detail:  # model_change by drift: never a claim of why, only that it moved
        return _drift(detail)
    if "model" in detail:  # model_change: {"field", "model", "baseline"}
        field = str(detail.get("field", "model")).replace("_", " ")
        return f"{label}: {field} {detail.get('baseline')} → {detail['model']}"
    parts: list[str] = []
    used: set[str] = set()
    for key, base in detail.items():
        if not key.startswith("baseline"):
            continue
        suffix = key.removeprefix("baseline")
        value_key = next((k for k in (f"value{suffix}", suffix.strip("_")) if k in detail), None)
        if value_key is None:
            continue
        used.update({key, value_key})
        unit = suffix.strip("_")
        parts.append(f"{_num(detail[value_key], unit)} against a baseline of {_num(base, unit)}")
    if "ratio" in detail and isinstance(detail["ratio"], int | float):
        used.add("ratio")
        parts.append(f"({detail['ratio']:.1f}×)")
    rest = [f"{k.replace('_', ' ')} {_num(v, '')}" for k, v in detail.items() if k not in used]
    text = " ".join(parts)
    if rest:
        text = f"{text}; {', '.join(rest)}" if text else ", ".join(rest)
    return f"{label}: {text}"


def _num(value: Any, unit: str) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return str(value)
    if unit in ("rate", "pass_rate", "share", "fraction") and 0 <= value <= 1:
        return f"{value * 100:.0f}%"
    if unit == "pct":
        return f"{value:.0f}%"
    shown = f"{value:.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:.2g}"
    suffix = {"ms": " ms", "s": " s", "per_s": " tokens/s"}.get(unit, "")
    return shown + suffix


def _when(ts: str) -> str:
    return f"{parse_ts(ts):%Y-%m-%d %H:%M:%S} UTC"


def _duration(e: dict[str, Any]) -> str | None:
    if not e.get("incident_start"):
        return None
    seconds = (parse_ts(e["ts"]) - parse_ts(e["incident_start"])).total_seconds()
    return format_duration(max(seconds, 0))


def _lasted(e: dict[str, Any]) -> str | None:
    lasted = _duration(e)
    if lasted is None:
        return None
    worst = f"; at worst it was {e['worst']}" if e.get("worst") else ""
    return f"The incident lasted {lasted} (since {_when(e['incident_start'])}){worst}."


def _open_for(e: dict[str, Any]) -> str:
    lasted = _duration(e)
    return f" after {lasted} (since {_when(e['incident_start'])})" if lasted else ""


def _notify_type(events: Sequence[dict[str, Any]]) -> str:
    news = {e["new"] for e in events if e["kind"] != RECOVERY}
    if "down" in news:
        return FAILURE
    if "degraded" in news:
        return WARNING
    return SUCCESS if events and all(e["kind"] == RECOVERY for e in events) else INFO


SLO_BURN, SLO_RESOLVED = "slo_burn", "slo_resolved"
SLO_KINDS = (SLO_BURN, SLO_RESOLVED)


def burn_event(target: str, page: Page, now: datetime) -> dict[str, Any]:
    """The stored form of an SLO burn alert (`monitor.slo.Page`): a page, or with severity
    `ticket` a ticket."""
    return {
        "kind": SLO_BURN,
        "ts": format_ts(now),
        "target": target,
        "old": "",
        "new": "burning",
        "reasons": ["slo"],
        "details": {
            "objective": page.objective.label,
            "severity": page.severity,
            "factor": page.factor,
            "long_s": page.long_s,
            "short_s": page.short_s,
            "long_burn": round(page.long_burn, 2),
            "short_burn": round(page.short_burn, 2),
        },
    }


def resolved_event(
    target: str, objective: str, severity: str, started: datetime, now: datetime
) -> dict[str, Any]:
    """The stored form of the end of an SLO burn alert: no rule of its severity fires any more
    for `objective` (its label); `started` is when the alert was sent."""
    return {
        "kind": SLO_RESOLVED,
        "ts": format_ts(now),
        "target": target,
        "old": "burning",
        "new": "resolved",
        "reasons": ["slo"],
        "details": {"objective": objective, "severity": severity, "started": format_ts(started)},
    }


def _burn(e: dict[str, Any]) -> tuple[str, str]:
    d = e["details"]
    long_w, short_w = format_duration(d["long_s"]), format_duration(d["short_s"])
    ticket = d.get("severity") == "ticket"
    if ticket:
        title = f"Ticket: {e['target']} is slowly burning its error budget ({d['objective']})"
    else:
        title = f"{e['target']} is burning its error budget ({d['objective']})"
    body = (
        f"{e['target']} burns the error budget of {d['objective']} at {d['long_burn']:g}× "
        f"over the last {long_w} and {d['short_burn']:g}× over the last {short_w} "
        f"({'opens a ticket' if ticket else 'pages'} at {d['factor']:g}×), "
        f"since {_when(e['ts'])} or before."
    )
    if ticket:
        body += " At this rate the budget is gone before the period ends; no one is paged."
    return title, body


def _burn_resolved(e: dict[str, Any]) -> tuple[str, str]:
    d = e["details"]
    what = "ticket" if d.get("severity") == "ticket" else "page"
    title = f"Resolved: {e['target']} is no longer burning its error budget ({d['objective']})"
    body = (
        f"No pair of windows of the {what} rule burns the error budget of {d['objective']} at "
        f"its factor any more, as of {_when(e['ts'])} (the {what} was sent at "
        f"{_when(d['started'])})."
    )
    return title, body


def _slo_notify_type(e: dict[str, Any]) -> str:
    if e["kind"] == SLO_RESOLVED:
        return SUCCESS
    return INFO if e["details"].get("severity") == "ticket" else WARNING
