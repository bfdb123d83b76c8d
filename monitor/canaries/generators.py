"""Generated canaries: each probe gets a fresh prompt whose expected answer is computed."""

from __future__ import annotations

from typing import Any

GENERATORS: dict[str, Any] = {"arithmetic": None, "words_to_number": None, "is_prime": None}
