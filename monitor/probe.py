"""One probe: (target, canary) → `ProbeResult`.

    result = await run_probe(client, target, canary, timeout=30.0, scrubber=Scrubber(keys))

The steps, in order: make the prompt (fixed, or fresh from the canary's generator); call the
target's provider (`monitor.providers`), which measures the wire and maps every failure to an
outcome; check the answer when one arrived (`ok` or `wrong_answer`); derive tokens per second
and cost; scrub every text that came from the provider; stamp the result with the time the
probe started.

Contract: `run_probe` returns a result for anything the provider, the network or brownout's own
code does wrong; it raises only `asyncio.CancelledError`, when the task running it is
cancelled (the monitor shutting down). Cancellation is passed on, never swallowed, so the
caller (the scheduler) records the probe as `cancelled` and stops cleanly.
"""

from __future__ import annotations

import asyncio
import logging
import random
import traceback
from collections.abc import Callable
from datetime import datetime
from time import perf_counter

import httpx

from monitor.canaries.checks import Verdict, check
from monitor.canaries.expect import Expect
from monitor.canaries.generators import GENERATORS
from monitor.canaries.tools import ToolVerdict, check_tool_call
from monitor.config import CanaryConfig
from monitor.providers import Prompt, Provider, Reply, provider_for
from monitor.result import Outcome, ProbeResult, utcnow
from monitor.secrets import Scrubber
from monitor.target import Target

log = logging.getLogger(__name__)

# The provider bounds its own call by `timeout`; this much more and brownout stops waiting
# anyway, so a provider bug can never hang a target's schedule.
OVERRUN_GRACE_S = 5.0
# Below this, the generation phase is too short to time (the whole answer came in one chunk).
MIN_GENERATION_MS = 1.0

_logged: set[tuple[str, str]] = set()


async def run_probe(
    client: httpx.AsyncClient,
    target: Target,
    canary: CanaryConfig,
    *,
    timeout: float,  # noqa: ASYNC109 (the provider's whole-call bound, passed down)
    region: str = "default",
    scrubber: Scrubber | None = None,
    rng: random.Random | None = None,
    now: Callable[[], datetime] = utcnow,
    provider: Provider | None = None,
    grace: float = OVERRUN_GRACE_S,
) -> ProbeResult:
    """Probe `target` with `canary` once. See the module docstring for the contract.

    `rng` feeds generated canaries (a fresh `random.Random` when None); `now` is the clock
    that stamps `ts`; `scrubber` removes API keys from the answer and error (a scrubber that
    knows only key shapes when None). `provider` speaks the target's protocol (by default the
    registry's for `target.kind`); `grace` is how long past `timeout` brownout waits for a
    provider that overruns its own bound.
    """
    ts = now()
    scrubber = scrubber or Scrubber()
    expect: Expect | None = None
    try:
        prompt, expect = make_prompt(canary, rng or random.Random())
    except Exception as exc:  # a bug in a generator: still a result, never a crash
        description = scrubber.scrub(_describe(exc)) or type(exc).__name__
        _log_once(f"the {canary.name} canary", exc, description, scrubber)
        reply = Reply(
            Outcome.BAD_RESPONSE, error=f"brownout could not make the prompt: {description}"
        )
    else:
        reply = await _call(
            provider or provider_for(target.kind), client, target, prompt, timeout, grace, scrubber
        )
    verdict: Verdict | None = None
    tool_verdict: ToolVerdict | None = None
    outcome = reply.outcome
    error = reply.error
    answer = reply.text
    if outcome is Outcome.OK and expect is not None and expect.tool_call is not None:
        tool_verdict = _check_tools(canary, expect, reply)
        verdict = Verdict(tool_verdict.ok, tool_verdict.reason)
        if reply.tool_calls:
            answer = " ".join(call.render() for call in reply.tool_calls)
    elif outcome is Outcome.OK and expect is not None:
        verdict = _check(expect, reply.text)
    if verdict is not None and not verdict.ok:
        outcome, error = Outcome.WRONG_ANSWER, verdict.reason
    return ProbeResult(
        ts=ts,
        target=target.name,
        provider=target.provider,
        model=target.model,
        canary=canary.name,
        region=region,
        outcome=outcome,
        http_status=reply.http_status,
        connect_ms=reply.connect_ms,
        ttft_ms=reply.ttft_ms,
        latency_ms=reply.latency_ms,
        input_tokens=reply.input_tokens,
        output_tokens=reply.output_tokens,
        tokens_per_s=tokens_per_s(reply),
        quality_ok=None if verdict is None else verdict.ok,
        answer=scrubber.scrub(answer) or None,
        response_model=scrubber.scrub(reply.response_model),
        cost_usd=cost_usd(target, reply),
        error=scrubber.scrub(error),
        system_fingerprint=scrubber.scrub(reply.system_fingerprint),
        tokens_estimated=reply.tokens_estimated,
        retry_reason=scrubber.scrub(reply.retry_reason),
        top_logprobs=(
            [[scrubber.scrub(t) or "", lp] for t, lp in reply.top_logprobs]
            if reply.top_logprobs
            else None
        ),
        first_chunk_ms=reply.first_chunk_ms,
        last_chunk_ms=reply.last_chunk_ms,
        chunks=reply.chunks,
        duration_ms=reply.duration_ms,
        tool_check=tool_verdict.kind if tool_verdict is not None else None,
        extra={k: scrubber.scrub(v) if isinstance(v, str) else v for k, v in reply.extra.items()},
    )


def make_prompt(canary: CanaryConfig, rng: random.Random) -> tuple[Prompt, Expect]:
    """The prompt to send and the check for its answer: the canary's own, or freshly generated.

    A generator may need more room than the canary's `max_tokens` (a JSON object does); the
    larger of the two is asked for.
    """
    if canary.generator is not None:
        generated = GENERATORS[canary.generator](rng)
        text, expect = generated.prompt, generated.expect
        max_tokens = max(canary.max_tokens, generated.max_tokens)
    else:
        # CanaryConfig guarantees prompt and expect when there is no generator.
        assert canary.prompt is not None and canary.expect is not None
        text, expect, max_tokens = canary.prompt, canary.expect, canary.max_tokens
    prompt = Prompt(
        text,
        canary.system,
        max_tokens=max_tokens,
        temperature=canary.temperature,
        top_logprobs=canary.logprobs,
        tools=tuple(canary.tools),
        tool_choice=canary.tool_choice,
    )
    return prompt, expect


def tokens_per_s(reply: Reply) -> float | None:
    """Output tokens per second over the generation phase (first token to end of answer).

    The first token arrives at TTFT, so the phase holds the *other* n − 1 tokens: (n − 1) over
    (latency − TTFT) is the decode rate, and a server streaming at r tokens/s measures r. None
    when it cannot be known: no answer, one token, or an answer that came in a single burst.
    """
    n, ttft, latency = reply.output_tokens, reply.ttft_ms, reply.latency_ms
    if not reply.outcome.answered or n is None or ttft is None or latency is None or n < 2:
        return None
    generation_ms = latency - ttft
    if generation_ms < MIN_GENERATION_MS:
        return None
    return round((n - 1) / (generation_ms / 1000.0), 3)


def cost_usd(target: Target, reply: Reply) -> float | None:
    """What the call cost by the target's price (USD per million tokens); None without a price
    or without token counts. A missing count on one side counts as zero when the other is known
    (a provider that reports only output tokens still costs at least that)."""
    price = target.price
    if price is None or (reply.input_tokens is None and reply.output_tokens is None):
        return None
    cost = (reply.input_tokens or 0) * price.input + (reply.output_tokens or 0) * price.output
    return round(cost / 1_000_000, 10)


async def _call(
    provider: Provider,
    client: httpx.AsyncClient,
    target: Target,
    prompt: Prompt,
    timeout: float,  # noqa: ASYNC109
    grace: float,
    scrubber: Scrubber,
) -> Reply:
    """The provider's reply; brownout's own failures and overruns become replies too, timed
    from the call's start (`duration_ms`) when the provider could not time them itself."""
    started = perf_counter()
    reply = await _guarded(provider, client, target, prompt, timeout, grace, scrubber)
    if reply.duration_ms is None:
        reply.duration_ms = (perf_counter() - started) * 1000.0
    return reply


async def _guarded(
    provider: Provider,
    client: httpx.AsyncClient,
    target: Target,
    prompt: Prompt,
    timeout: float,  # noqa: ASYNC109
    grace: float,
    scrubber: Scrubber,
) -> Reply:
    deadline = asyncio.timeout(timeout + grace)
    try:
        async with deadline:
            return await provider.complete(client, target, prompt, timeout=timeout)
    except TimeoutError as exc:
        if deadline.expired():
            return Reply(
                outcome=Outcome.TIMEOUT,
                error=f"no reply within {timeout:g}s (the provider overran its own timeout)",
            )
        return Reply(outcome=Outcome.TIMEOUT, error=scrubber.scrub(_describe(exc)))
    except httpx.TimeoutException as exc:  # providers map these; kept for safety
        return Reply(outcome=Outcome.TIMEOUT, error=scrubber.scrub(_describe(exc)))
    except httpx.TransportError as exc:
        return Reply(outcome=Outcome.CONNECTION_ERROR, error=scrubber.scrub(_describe(exc)))
    except Exception as exc:
        # A bug in brownout, not the provider's fault; still data, never a crash.
        description = scrubber.scrub(_describe(exc)) or type(exc).__name__
        _log_once(f"the {target.kind} provider", exc, description, scrubber)
        return Reply(
            outcome=Outcome.BAD_RESPONSE,
            error=f"brownout's {target.kind} provider failed: {description}",
        )


def _check(expect: Expect, text: str) -> Verdict:
    try:
        return check(expect, text)
    except Exception as exc:  # a check must never lose a result; say what went wrong
        return Verdict(False, f"the check could not run: {type(exc).__name__}")


def _check_tools(canary: CanaryConfig, expect: Expect, reply: Reply) -> ToolVerdict:
    assert expect.tool_call is not None
    try:
        return check_tool_call(canary.tools, expect.tool_call, reply.tool_calls, reply.text)
    except Exception as exc:  # a check must never lose a result
        return ToolVerdict("wrong_arguments", f"the check could not run: {type(exc).__name__}")


def _describe(exc: BaseException) -> str:
    message = str(exc).strip()
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _log_once(where: str, exc: Exception, description: str, scrubber: Scrubber) -> None:
    """Log an unexpected exception with its stack, once per (where, exception type).

    Only the frames are logged with the scrubbed message: the raw message may quote a key."""
    key = (where, type(exc).__name__)
    if key in _logged:
        return
    _logged.add(key)
    frames = "".join(traceback.format_tb(exc.__traceback__))
    log.error(
        "unexpected error in %s (logged once): %s\n%s",
        where,
        description,
        scrubber.scrub(frames),
    )
