"""What happens to one request, decided before any byte of the answer: the call's particulars,
its fault (drawn from the scenario's error rates) and when its first token is due."""

from __future__ import annotations

import random
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from monitor.simulator.faults import Fault
from monitor.simulator.scenario import Behaviour, Scenario
from monitor.simulator.wire import Call, Wire


def make_call(
    wire: Wire,
    request: Request,
    body: dict[str, Any],
    model: str,
    stream: bool,
    behaviour: Behaviour | None,
) -> Call:
    """The call as the reply will describe it (who answers, usage, retry-after, the key)."""
    prompt = wire.prompt(body)
    return Call(
        model=model,
        answered_by=(behaviour.response_model if behaviour else None) or model,
        fingerprint=behaviour.system_fingerprint if behaviour else None,
        prompt=prompt,
        stream=stream,
        include_usage=(not stream or wire.wants_usage(body))
        and (behaviour is None or behaviour.usage),
        input_tokens=max(1, len(prompt) // 4),
        retry_after=behaviour.retry_after if behaviour else 2.0,
        key=wire.key(request),
        top_logprobs=wire.top_logprobs(body),
    )


def draw_fault(
    rng: random.Random,
    wire: Wire,
    request: Request,
    body: dict[str, Any],
    call: Call,
    behaviour: Behaviour | None,
    scenario: Scenario,
) -> Response | Fault | None:
    """The reply decided before any answer: a refusal (Response), a fault, or None."""
    if not scenario.key_ok(call.key):
        return wire.error("auth", call)
    early = wire.precheck(request, body, call)
    if early is not None:
        return early
    if behaviour is None:
        return wire.error("not_found", call)
    if behaviour.errors:
        draw = rng.random()
        for kind, chance in behaviour.errors.items():
            draw -= chance
            if draw < 0:
                return Fault(kind)
    return None


def draw_delay(rng: random.Random, behaviour: Behaviour) -> float:
    """Seconds from the request's arrival to its first token: the TTFT, jittered, spiked."""
    delay = behaviour.ttft
    if behaviour.jitter:
        delay *= rng.lognormvariate(0.0, behaviour.jitter)
    if behaviour.spike_rate and rng.random() < behaviour.spike_rate:
        delay += behaviour.spike
    return delay
