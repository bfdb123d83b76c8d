"""The official OpenAI and Anthropic SDKs, pointed at the simulator, parse its answers and raise
their own exception classes for its errors: the simulator speaks the real wire formats."""

from __future__ import annotations

from collections.abc import Callable

import anthropic
import openai
import pytest

from monitor.simulator import SimulatorHandle

KEY = "sk-sdk-test-0123456789abcdefghij"  # a fake key
ANSWERING = {"answers": {"17 \\* 23": "The answer is 391."}, "defaults": {"ttft": "1ms"}}
QUESTION = "What is 17 * 23?"


def _openai(sim: SimulatorHandle, key: str = KEY) -> openai.OpenAI:
    return openai.OpenAI(base_url=sim.openai_url, api_key=key, max_retries=0)


def _anthropic(sim: SimulatorHandle, key: str = KEY) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=sim.url, api_key=key, max_retries=0)


def test_openai_sdk_reads_a_streamed_answer_with_usage(
    simulator_factory: Callable[..., SimulatorHandle],
) -> None:
    sim = simulator_factory(
        {**ANSWERING, "models": {"gpt-4o": {"response_model": "gpt-4o-2024-08-06"}}}
    )
    with _openai(sim) as client:
        chunks = list(
            client.chat.completions.create(
                model="gpt-4o",
                messages=[{"role": "user", "content": QUESTION}],
                stream=True,
                stream_options={"include_usage": True},
            )
        )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "The answer is 391."
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[0].choices[0].delta.content == ""
    assert {c.model for c in chunks} == {"gpt-4o-2024-08-06"}
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 4


def test_openai_sdk_reads_a_whole_answer(simulator_factory: Callable[..., SimulatorHandle]) -> None:
    sim = simulator_factory(ANSWERING)
    with _openai(sim) as client:
        completion = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": QUESTION}]
        )
    assert completion.choices[0].message.content == "The answer is 391."
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.total_tokens > 4
    assert completion.system_fingerprint == "fp_brownout_sim"


OPENAI_ERRORS: list[tuple[str, type[openai.APIStatusError], int]] = [
    ("rate_limited", openai.RateLimitError, 429),
    ("insufficient_quota", openai.RateLimitError, 429),
    ("overloaded", openai.InternalServerError, 503),
    ("server_error", openai.InternalServerError, 500),
    ("api_error", openai.InternalServerError, 500),
    ("auth", openai.AuthenticationError, 401),
    ("forbidden", openai.PermissionDeniedError, 403),
    ("bad_request", openai.BadRequestError, 400),
]


@pytest.mark.parametrize("stream", [True, False])
@pytest.mark.parametrize(("fault", "exception", "status"), OPENAI_ERRORS)
def test_openai_sdk_raises_its_own_exception_for_each_error(
    simulator_factory: Callable[..., SimulatorHandle],
    fault: str,
    exception: type[openai.APIStatusError],
    status: int,
    stream: bool,
) -> None:
    sim = simulator_factory({"defaults": {"error": fault}})
    with _openai(sim) as client, pytest.raises(exception) as raised:
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=stream
        )
    assert raised.value.status_code == status
    if fault != "server_error":
        assert raised.value.request_id and raised.value.request_id.startswith("req_")
    if fault in ("rate_limited", "insufficient_quota"):
        assert raised.value.code == ("rate_limit_exceeded" if fault == "rate_limited" else fault)
    if fault == "rate_limited":
        assert raised.value.response.headers["retry-after"] == "2"


def test_openai_sdk_raises_on_an_error_inside_the_stream(
    simulator_factory: Callable[..., SimulatorHandle],
) -> None:
    sim = simulator_factory({"defaults": {"error": "mid_stream_error", "answer": "a b c d e"}})
    with _openai(sim) as client, pytest.raises(openai.APIError, match="server had an error"):
        for _ in client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True
        ):
            pass


def test_openai_sdk_sees_an_unknown_model_and_a_partly_echoed_key(
    simulator_factory: Callable[..., SimulatorHandle],
) -> None:
    sim = simulator_factory({"keys": [KEY], "models": {"gpt-4o-mini": {}}})
    with _openai(sim) as client, pytest.raises(openai.NotFoundError, match="does not exist"):
        client.chat.completions.create(model="gpt-9", messages=[{"role": "user", "content": "x"}])
    wrong = "sk-proj-wrongwrongwrongwrong1234"  # a fake key
    with _openai(sim, wrong) as client, pytest.raises(openai.AuthenticationError) as raised:
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}]
        )
    assert raised.value.code == "invalid_api_key"
    assert "sk-proj-****" in raised.value.message and wrong not in raised.value.message


def test_anthropic_sdk_reads_a_streamed_answer(
    simulator_factory: Callable[..., SimulatorHandle],
) -> None:
    sim = simulator_factory(
        {**ANSWERING, "models": {"claude-haiku-4-5": {"response_model": "claude-haiku-4-5-2025"}}}
    )
    with (
        _anthropic(sim) as client,
        client.messages.stream(
            model="claude-haiku-4-5",
            max_tokens=32,
            messages=[{"role": "user", "content": QUESTION}],
        ) as stream,
    ):
        text = "".join(stream.text_stream)
        message = stream.get_final_message()
    assert text == "The answer is 391."
    assert message.model == "claude-haiku-4-5-2025"
    assert message.stop_reason == "end_turn"
    assert (message.usage.input_tokens, message.usage.output_tokens) == (4, 4)


def test_anthropic_sdk_reads_raw_stream_events_and_a_whole_answer(
    simulator_factory: Callable[..., SimulatorHandle],
) -> None:
    sim = simulator_factory(ANSWERING)
    with _anthropic(sim) as client:
        events = list(
            client.messages.create(
                model="claude-haiku-4-5",
                max_tokens=32,
                messages=[{"role": "user", "content": QUESTION}],
                stream=True,
            )
        )
        whole = client.messages.create(
            model="claude-haiku-4-5",
            max_tokens=32,
            messages=[{"role": "user", "content": QUESTION}],
        )
    assert [e.type for e in events][:2] == ["message_start", "content_block_start"]
    assert events[-1].type == "message_stop"
    assert whole.content[0].type == "text" and whole.content[0].text == "The answer is 391."


ANTHROPIC_ERRORS: list[tuple[str, type[anthropic.APIStatusError], int]] = [
    ("rate_limited", anthropic.RateLimitError, 429),
    ("overloaded", anthropic.OverloadedError, 529),
    ("api_error", anthropic.InternalServerError, 500),
    ("server_error", anthropic.InternalServerError, 500),
    ("auth", anthropic.AuthenticationError, 401),
    ("forbidden", anthropic.PermissionDeniedError, 403),
    ("bad_request", anthropic.BadRequestError, 400),
    ("insufficient_quota", anthropic.BadRequestError, 400),
]


@pytest.mark.parametrize("stream", [True, False])
@pytest.mark.parametrize(("fault", "exception", "status"), ANTHROPIC_ERRORS)
def test_anthropic_sdk_raises_its_own_exception_for_each_error(
    simulator_factory: Callable[..., SimulatorHandle],
    fault: str,
    exception: type[anthropic.APIStatusError],
    status: int,
    stream: bool,
) -> None:
    sim = simulator_factory({"defaults": {"error": fault}})
    with _anthropic(sim) as client, pytest.raises(exception) as raised:
        client.messages.create(
            model="claude-haiku-4-5",
            max_tokens=16,
            messages=[{"role": "user", "content": "hi"}],
            stream=stream,
        )
    assert raised.value.status_code == status
    if fault != "server_error":
        assert raised.value.request_id and raised.value.request_id.startswith("req_")


def test_anthropic_sdk_raises_on_an_overloaded_error_event_after_200(
    simulator_factory: Callable[..., SimulatorHandle],
) -> None:
    sim = simulator_factory({"defaults": {"error": "mid_stream_overloaded", "answer": "a b c"}})
    with _anthropic(sim) as client, pytest.raises(anthropic.APIStatusError, match="overloaded"):
        for _ in client.messages.create(
            model="claude-haiku-4-5",
            max_tokens=16,
            messages=[{"role": "user", "content": "hi"}],
            stream=True,
        ):
            pass


def test_anthropic_sdk_sees_an_unknown_model(
    simulator_factory: Callable[..., SimulatorHandle],
) -> None:
    sim = simulator_factory({"models": {"claude-haiku-4-5": {}}})
    with _anthropic(sim) as client, pytest.raises(anthropic.NotFoundError, match="claude-9"):
        client.messages.create(
            model="claude-9", max_tokens=16, messages=[{"role": "user", "content": "hi"}]
        )


def test_both_sdks_list_the_scenario_models(
    simulator_factory: Callable[..., SimulatorHandle],
) -> None:
    sim = simulator_factory({"models": {"gpt-4o-mini": {}, "claude-haiku-4-5": {}, "x-*": {}}})
    with _openai(sim) as oai, _anthropic(sim) as ant:
        assert [m.id for m in oai.models.list()] == ["gpt-4o-mini", "claude-haiku-4-5"]
        assert [m.id for m in ant.models.list()] == ["gpt-4o-mini", "claude-haiku-4-5"]
