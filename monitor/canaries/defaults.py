"""The default canaries shipped in `probes.yaml`, as plain data (the YAML is a copy of this).

Chosen to be cheap (a few output tokens each), unambiguous for any chat model, and to cover
what goes wrong: arithmetic (a model swapped for a weaker one), a fact with a well-known trap
(Sydney), structured output (JSON), and fresh generated prompts no cache can answer. One, `count`,
answers with about forty tokens (sixty with a tokenizer that splits digits): the one whose tokens/s measures throughput.
`monitor.canaries.solve` answers every one of them (tests hold this), so the simulator does.
"""

from __future__ import annotations

from typing import Any

COUNT_PROMPT = "List the numbers from 1 to 20 in order, separated by commas, and nothing else."
COUNT_REGEX = r"^1,\s*2,\s*3,[\s\S]*\b18,\s*19,\s*20\b"
"""Counting from 1 to 20, checked at both ends (a model that keeps counting past 20 passes)."""

DEFAULT_CANARIES: list[dict[str, Any]] = [
    {
        "name": "arithmetic",
        "prompt": "What is 17 * 23? Reply with the number only.",
        "expect": {"number": 391, "operands": [17, 23]},
        "max_tokens": 16,
    },
    {
        # The throughput canary: an answer of about forty tokens (sixty with a tokenizer that splits digits), so tokens/s is measured (a
        # one-word answer is one or two tokens, too few to time the generation).
        "name": "count",
        "prompt": COUNT_PROMPT,
        "expect": {"regex": COUNT_REGEX},
        "max_tokens": 100,
    },
    {
        "name": "capital",
        "prompt": "What is the capital of Australia? Reply with the city name only.",
        "expect": {"equals": "Canberra"},
        "max_tokens": 16,
    },
    {
        "name": "json_object",
        "prompt": (
            'Reply with only a JSON object that has the key "city" set to the string "Paris" '
            'and the key "year" set to the number 1889.'
        ),
        "expect": {
            "json_schema": {
                "type": "object",
                "properties": {"city": {"const": "Paris"}, "year": {"const": 1889}},
                "required": ["city", "year"],
            }
        },
        "max_tokens": 48,
    },
    {"name": "fresh_arithmetic", "generator": "arithmetic", "max_tokens": 16},
    {"name": "prime", "generator": "is_prime", "max_tokens": 16},
]
