"""Google's current SDK (`google-genai`) against the simulator, on both API versions it calls, and
the simulator's fidelity where real SDKs found it wanting (issue 12, defect 8): unknown paths
answer in each protocol's JSON, and Anthropic always sends usage."""

from __future__ import annotations

from collections.abc import Callable

import anthropic
import httpx
import pytest
from google import genai
from google.genai import errors, types

from monitor.simulator import SimulatorHandle

KEY = "AIza-sdk-test-0123456789abcdefghij"  # a fake key
ANSWERING = {"answers": {"17 \\* 23": "The answer is 391."}, "defaults": {"ttft": "1ms"}}
QUESTION = "What is 17 * 23?"


def _genai(sim: SimulatorHandle, version: str) -> genai.Client:
    options = types.HttpOptions(base_url=sim.url, api_version=version)
    return genai.Client(api_key=KEY, http_options=options)


@pytest.mark.parametrize("version", ["v1beta", "v1"])
def test_google_genai_reads_a_streamed_answer_with_usage(
    simulator_factory: Callable[..., SimulatorHandle], version: str
) -> None:
    sim = simulator_factory(ANSWERING)
    client = _genai(sim, version)
    chunks = list(
        client.models.generate_content_stream(model="gemini-2.5-flash", contents=QUESTION)
    )
    assert "".join(c.text or "" for c in chunks) == "The answer is 391."
    last = chunks[-1]
    assert last.candidates and last.candidates[0].finish_reason == types.FinishReason.STOP
    assert last.usage_metadata is not None and last.usage_metadata.candidates_token_count == 4


@pytest.mark.parametrize("version", ["v1beta", "v1"])
def test_google_genai_reads_a_whole_answer(
    simulator_factory: Callable[..., SimulatorHandle], version: str
) -> None:
    sim = simulator_factory(ANSWERING)
    client = _genai(sim, version)  # kept: a collected client closes its connections
    reply = client.models.generate_content(model="gemini-2.5-flash", contents=QUESTION)
    assert reply.text == "The answer is 391."


@pytest.mark.parametrize(
    ("fault", "error", "code"),
    [
        ("rate_limited", errors.ClientError, 429),
        ("auth", errors.ClientError, 400),
        ("server_error", errors.ServerError, 500),
        ("overloaded", errors.ServerError, 503),
    ],
)
def test_google_genai_raises_its_own_exception_for_each_error(
    simulator_factory: Callable[..., SimulatorHandle],
    fault: str,
    error: type[errors.APIError],
    code: int,
) -> None:
    sim = simulator_factory({"defaults": {"ttft": "1ms", "error": fault}})
    client = _genai(sim, "v1beta")
    with pytest.raises(error) as raised:
        client.models.generate_content(model="gemini-2.5-flash", contents=QUESTION)
    assert raised.value.code == code


def test_google_genai_sees_an_unknown_model_and_an_unknown_path_as_not_found(
    simulator_factory: Callable[..., SimulatorHandle],
) -> None:
    sim = simulator_factory({"models": {"gemini-2.5-flash": {}}})
    v1, v2alpha = _genai(sim, "v1"), _genai(sim, "v2alpha")
    with pytest.raises(errors.ClientError) as unknown_model:
        v1.models.generate_content(model="gemini-9", contents=QUESTION)
    assert unknown_model.value.code == 404
    with pytest.raises(errors.ClientError) as unknown_path:  # an API version nobody serves
        v2alpha.models.generate_content(model="gemini-2.5-flash", contents="x")
    assert unknown_path.value.code == 404
    assert unknown_path.value.status == "NOT_FOUND"


@pytest.mark.parametrize(
    ("headers", "path", "shape"),
    [
        ({}, "/v1/completions", {"error": {"message", "type", "param", "code"}}),
        ({"anthropic-version": "2023-06-01"}, "/v1/complete", {"type", "error"}),
        ({"x-goog-api-key": KEY}, "/v1/nothing", {"error"}),
        ({}, "/v1beta/nothing", {"error"}),
    ],
)
def test_an_unknown_path_gets_the_json_404_of_the_protocol_it_speaks(
    simulator: SimulatorHandle, headers: dict[str, str], path: str, shape: object
) -> None:
    reply = httpx.post(f"{simulator.url}{path}", headers=headers, json={})
    assert reply.status_code == 404
    assert reply.headers["content-type"].startswith("application/json")
    body = reply.json()
    if isinstance(shape, dict):
        assert set(body) == set(shape) and set(body["error"]) >= shape["error"]
    else:
        assert isinstance(shape, set) and set(body) >= shape
    if "anthropic-version" in headers:
        assert body == {
            "type": "error",
            "error": {"type": "not_found_error", "message": "Not Found"},
        }
    if "goog" in str(headers) or path.startswith("/v1beta"):
        assert body["error"]["status"] == "NOT_FOUND"


def test_the_anthropic_sdk_reads_an_answer_from_a_scenario_without_usage(
    simulator_factory: Callable[..., SimulatorHandle],
) -> None:
    sim = simulator_factory({**ANSWERING, "defaults": {"ttft": "1ms", "usage": False}})
    client = anthropic.Anthropic(base_url=sim.url, api_key=KEY, max_retries=0)
    with (
        client,
        client.messages.stream(
            model="claude-haiku-4-5",
            max_tokens=64,
            messages=[{"role": "user", "content": QUESTION}],
        ) as stream,
    ):
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "The answer is 391."
    assert final.usage.output_tokens == 4
