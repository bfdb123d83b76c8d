"""The protocols the simulator speaks, one `Wire` a module. Adding a protocol is a module beside
this one and a line below; its paths come from the wire itself (`chat_paths`, `models_paths`).

On a path several protocols share (`GET /v1/models`), the first wire here whose `speaks` says
yes answers, so a wire that recognises its requests comes before the one that takes the rest.
"""

from __future__ import annotations

from monitor.simulator.anthropic_wire import AnthropicWire
from monitor.simulator.gemini_wire import GeminiWire
from monitor.simulator.openai_wire import OpenaiWire
from monitor.simulator.wire import Wire

WIRES: tuple[type[Wire], ...] = (AnthropicWire, GeminiWire, OpenaiWire)
