"""The result of one probe: the record docs/contract.md pins, stored, exported and printed by `once --json`.

A failed probe is data, not an exception: every probe yields exactly one `ProbeResult`, and its
`outcome` says how it went.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

ANSWER_MAX_CHARS = 500
ERROR_MAX_CHARS = 500
TOP_LOGPROBS_MAX = 20  # OpenAI's own bound on top_logprobs
TOKEN_MAX_CHARS = 32


class Outcome(StrEnum):
    """How a probe ended. The words are pinned by docs/contract.md."""

    OK = "ok"
    WRONG_ANSWER = "wrong_answer"
    TIMEOUT = "timeout"
    CONNECTION_ERROR = "connection_error"
    RATE_LIMITED = "rate_limited"
    OVERLOADED = "overloaded"
    SERVER_ERROR = "server_error"
    AUTH_ERROR = "auth_error"
    CLIENT_ERROR = "client_error"
    STREAM_ERROR = "stream_error"
    BAD_RESPONSE = "bad_response"
    CANCELLED = "cancelled"  # the monitor shut down mid-probe; not the provider's fault

    @property
    def answered(self) -> bool:
        """The provider produced a complete answer (right or wrong)."""
        return self in (Outcome.OK, Outcome.WRONG_ANSWER)

    @property
    def provider_failure(self) -> bool:
        """Counts against the provider's availability (rate limits and cancels do not)."""
        return self not in (
            Outcome.OK,
            Outcome.WRONG_ANSWER,
            Outcome.RATE_LIMITED,
            Outcome.CANCELLED,
        )


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def format_ts(ts: datetime) -> str:
    """`2026-11-28T10:00:00.123Z`: UTC, milliseconds, as docs/contract.md writes timestamps."""
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def parse_ts(text: str) -> datetime:
    """Parse an ISO-8601 timestamp (a trailing `Z` allowed); naive values are taken as UTC."""
    ts = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def compact_logprobs(pairs: object) -> list[list[Any]] | None:
    """`[[token, logprob], …]` in the bounded form a result keeps: at most `TOP_LOGPROBS_MAX`
    pairs, tokens cut to `TOKEN_MAX_CHARS` characters, logprobs rounded to 4 decimals (≤ 0).
    Anything else (a malformed record, no pairs) is None."""
    if not isinstance(pairs, list | tuple):
        return None
    out: list[list[Any]] = []
    for pair in pairs[:TOP_LOGPROBS_MAX]:
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            return None
        token, logprob = pair
        if (
            not isinstance(token, str)
            or not isinstance(logprob, int | float)
            or isinstance(logprob, bool)
        ):
            return None
        if logprob != logprob or logprob == float("-inf"):  # NaN, or a token never sampled
            continue
        out.append([token[:TOKEN_MAX_CHARS], round(min(0.0, float(logprob)), 4)])
    return out or None


def _cut(text: str | None, limit: int) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


@dataclass(slots=True)
class ProbeResult:
    """One probe of one target with one canary. Field names and meanings are those of docs/contract.md.

    Times are milliseconds on a monotonic clock: `ttft_ms` and `latency_ms` run from the moment
    the request was written to the connection; `connect_ms` is connection setup when this probe
    opened a connection, else None.

    `retry_reason` (beyond the pinned record, None for almost every probe) says that the request
    was sent twice: its first try went out on a kept-alive connection the server had already
    closed and failed before any byte of a reply (what it raised is the text); the server never
    saw that try. The times, tokens and outcome are the second try's; the first costs no TTFT.

    `top_logprobs` (beyond the pinned record too; None unless the canary asked for
    log-probabilities and the provider sent them) holds the first output token's most likely
    tokens, `[[token, logprob], …]`, most likely first, bounded by `compact_logprobs`: what the
    model-identity drift test compares (monitor.detect.drift).

    The stream's own clock (beyond the pinned record; None in records written before it): a
    *chunk* is one event of the reply's stream, whatever it holds (a role, a usage block, a
    ping, answer text). `first_chunk_ms` runs to the first of them (OpenTelemetry's time to first
    chunk, earlier than `ttft_ms` when the stream opens with events that hold no answer text),
    `last_chunk_ms` to the last, `chunks` counts them, and `duration_ms` runs to the end of the
    call however it ended (answer, error, timeout). `extra["chunk_gaps_s"]` holds, in memory
    only, the time between each chunk and the one before (OpenTelemetry's time per output chunk).

    `tool_check` (beyond the pinned record) is None except for a tool canary's answered probe:
    `ok`, or the one word for why its tool call failed (`monitor.canaries.tools.TOOL_CHECKS`:
    `no_tool_call`, `unknown_tool`, `invalid_json`, `schema_mismatch`, `wrong_tool`,
    `wrong_arguments`). The call itself is in `answer`, written `name(arguments)`.
    """

    ts: datetime
    target: str
    provider: str
    model: str
    canary: str
    outcome: Outcome
    region: str = "default"
    http_status: int | None = None
    connect_ms: float | None = None
    ttft_ms: float | None = None
    latency_ms: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    tokens_per_s: float | None = None
    quality_ok: bool | None = None
    answer: str | None = None
    response_model: str | None = None
    cost_usd: float | None = None
    error: str | None = None
    # Beyond the pinned record: kept and exported, not required by readers.
    system_fingerprint: str | None = None
    tokens_estimated: bool = False
    retry_reason: str | None = None
    top_logprobs: list[list[Any]] | None = None
    first_chunk_ms: float | None = None
    last_chunk_ms: float | None = None
    chunks: int | None = None
    duration_ms: float | None = None
    tool_check: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.outcome = Outcome(self.outcome)
        if self.top_logprobs is not None:
            self.top_logprobs = compact_logprobs(self.top_logprobs)
        self.answer = _cut(self.answer, ANSWER_MAX_CHARS)
        self.error = _cut(self.error, ERROR_MAX_CHARS)

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready record, the contract's fields first, in its order (docs/contract.md)."""
        out: dict[str, Any] = {"ts": format_ts(self.ts)}
        for f in dataclasses.fields(self):
            if f.name in ("ts", "extra"):
                continue
            value = getattr(self, f.name)
            out[f.name] = value.value if isinstance(value, Outcome) else value
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(", ", ": "))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProbeResult:
        """Build from a record as `to_dict` (or `brownout export --format jsonl`) writes it.

        Unknown keys are ignored, so records from newer versions still load; `top_logprobs` may
        be the JSON text a CSV or Parquet export writes.
        """
        names = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in names}
        ts = kwargs.get("ts")
        if isinstance(ts, str):
            kwargs["ts"] = parse_ts(ts)
        elif isinstance(ts, datetime) and ts.tzinfo is None:
            kwargs["ts"] = ts.replace(tzinfo=UTC)
        target = kwargs.get("target")
        if target and ("provider" not in kwargs or "model" not in kwargs):
            provider, _, model = str(target).partition("/")
            kwargs.setdefault("provider", provider)
            kwargs.setdefault("model", model)
        kwargs.setdefault("target", f"{kwargs.get('provider')}/{kwargs.get('model')}")
        kwargs.setdefault("canary", "")
        pairs = kwargs.get("top_logprobs")
        if isinstance(pairs, str):  # CSV and Parquet exports write the pairs as JSON text
            try:
                kwargs["top_logprobs"] = json.loads(pairs)
            except ValueError:
                kwargs["top_logprobs"] = None
        return cls(**kwargs)
