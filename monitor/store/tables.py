"""The probe results table. Other tables live beside the functions that read and write them
(`detection.py`, `outbox.py`, `rollups.py`, `statuspages.py`), each listed in
`db._TABLE_MODULES`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index
from sqlmodel import Field, SQLModel


class ProbeRow(SQLModel, table=True):
    """One stored probe: every field of the result record (docs/contract.md)."""

    __tablename__ = "probe_results"
    __table_args__ = (
        Index("ix_probe_results_target_ts", "target", "ts"),
        Index("ix_probe_results_ts", "ts"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ts: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    target: str
    provider: str
    model: str
    canary: str
    region: str = "default"
    outcome: str
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
    system_fingerprint: str | None = None
    cost_usd: float | None = None
    error: str | None = None
    tokens_estimated: bool = False
    retry_reason: str | None = None
    # [[token, logprob], …] of the first output token (bounded by result.compact_logprobs).
    top_logprobs: list[list[Any]] | None = Field(default=None, sa_column=Column(JSON))
    first_chunk_ms: float | None = None
    last_chunk_ms: float | None = None
    chunks: int | None = None
    duration_ms: float | None = None
    tool_check: str | None = None
