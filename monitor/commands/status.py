"""`brownout status [--json]`: every target's status, reasons and since; open incidents.

The status now of `monitor.read.now` (what `brownout run` last decided, staleness by the
detector's rule, and a word when the monitor itself is not reporting), as the API and the page
give it. Works with only `BROWNOUT_DB` set and no config file.

Sections after the incidents are listed in `EXTRA_SECTIONS` (below): each gives a JSON key, a
builder over (store, config) and a renderer to text lines.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitor.alerts import history as alert_history
from monitor.config import Config, load_config
from monitor.detect.types import IncidentRecord, Status, TargetStatus
from monitor.read.now import status_now
from monitor.result import format_ts, utcnow
from monitor.store import Store, detection, lease, open_store


@dataclass(frozen=True)
class Section:
    """An extra part of `brownout status`: `build` returns a JSON-ready value (or None to leave
    the section out); `render` turns it into text lines."""

    name: str
    build: Callable[[Store, Config], Any]
    render: Callable[[Any], list[str]]


# Extra sections, printed after the incidents, in this order (e.g. alerts' recent deliveries).
def _leader(store: Store, _config: Config) -> dict[str, Any] | None:
    """Which monitor leads (runs detection and alerts): the lease as stored (monitor.pipeline.leader)."""
    held = lease.current(store)
    return held.to_dict() if held is not None else None


def _render_leader(value: dict[str, Any]) -> list[str]:
    if not value["live"]:
        return ["Leader: none right now (no monitor holds the lease; detection is paused)"]
    return [
        f"Leader: {value['holder']} in region {value['region']} "
        f"(token {value['token']}, since {value['since']})",
    ]


EXTRA_SECTIONS: list[Section] = [
    Section("leader", _leader, _render_leader),
    Section("alerts", alert_history.section, alert_history.render_section),
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def gather(store: Store, config: Config, now: datetime) -> dict[str, TargetStatus]:
    """Every target's status now, as every surface reads it (`monitor.read.now`)."""
    return status_now(store, config, now).statuses()


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config, required=False)
    store = open_store(config.storage.url)
    try:
        now = utcnow()
        current = status_now(store, config, now)
        incidents = detection.open_incidents(store)
        extra = {s.name: (s, s.build(store, config)) for s in EXTRA_SECTIONS}
    finally:
        store.close()
    statuses = current.statuses()
    fleet = current.fleet
    if args.json:
        out: dict[str, Any] = current.to_dict()
        out["incidents"] = [i.to_dict() for i in incidents]
        out.update({name: value for name, (_s, value) in extra.items() if value is not None})
        print(json.dumps(out, ensure_ascii=False))
        return 0
    lines = [
        f"fleet: {fleet.summary}"
        + (
            "  (intelligence brownout: " + ", ".join(fleet.affected_providers) + ")"
            if fleet.intelligence_brownout
            else ""
        )
    ]
    if not current.monitor.reporting:
        last = current.monitor.last_result
        lines.append(
            "the monitor is not reporting"
            + (f": no probe stored since {format_ts(last)} ({_ago(last, now)})" if last else "")
            + "; statuses are the last known"
        )
    lines += ["", *_targets_table(statuses, now), "", *_incidents_table(incidents, now)]
    for _name, (section, value) in extra.items():
        if value is not None:
            lines += ["", *section.render(value)]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def _ago(since: datetime, now: datetime) -> str:
    seconds = max(0, int((now - since).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def _figures(status: TargetStatus) -> str:
    """The headline figure of each reason, e.g. `latency 2.4× (2400 ms vs 800)`."""
    parts = []
    for reason in status.reasons:
        d = status.details.get(reason) or {}
        if status.status is Status.DOWN and d.get("failing_in_a_row"):
            parts.append(f"{reason}: the last {d['failing_in_a_row']} probes failed")
        elif "ratio" in d:
            parts.append(f"{reason} {d['ratio']}×")
        elif "rate" in d and d["rate"] is not None:
            parts.append(f"{reason} {d['rate']:.0%} (baseline {d.get('baseline_rate', 0):.1%})")
        elif "pass_rate" in d and d["pass_rate"] is not None:
            parts.append(
                f"{reason} pass {d['pass_rate']:.0%} (baseline "
                f"{d.get('baseline_pass_rate', 0):.0%})"
            )
        elif "model" in d:
            parts.append(f"{reason} {d.get('baseline')} → {d['model']}")
    return "; ".join(parts)


def _targets_table(statuses: dict[str, TargetStatus], now: datetime) -> list[str]:
    if not statuses:
        return ["no targets: nothing configured and nothing stored yet"]
    width = max(6, *(len(n) for n in statuses))
    lines = [f"{'target':<{width}}  {'status':<11}  {'since':<10}  reasons"]
    for name, s in statuses.items():
        reasons = ", ".join(s.reasons)
        regions = s.details.get("regions") or []
        if regions:  # probed from several regions: where the trouble is seen
            where = "only in " if s.details.get("regional") else "in "
            reasons += f" [{where}{', '.join(regions)}]"
        figures = _figures(s)
        lines.append(
            f"{name:<{width}}  {s.status.value:<11}  {_ago(s.since, now):<10}  "
            f"{reasons}{'  — ' + figures if figures else ''}".rstrip()
        )
    return lines


def _incidents_table(incidents: list[IncidentRecord], now: datetime) -> list[str]:
    if not incidents:
        return ["open incidents: none"]
    lines = ["open incidents:"]
    for i in incidents:
        lines.append(
            f"  #{i.id} {i.target}: {i.worst.value} since {format_ts(i.start)} "
            f"({_ago(i.start, now)}), reasons {', '.join(i.reasons)}"
        )
    return lines
