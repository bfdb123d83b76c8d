"""The local provider simulator: OpenAI, Anthropic and Gemini wire protocols on one port.

    from monitor.simulator import run_in_thread
    with run_in_thread("scenarios/trouble.yaml") as sim:
        ...  # OpenAI base_url sim.openai_url; Anthropic and Gemini sim.url

The scenario format is documented in docs/simulator.md.
"""

from monitor.simulator.app import Simulator
from monitor.simulator.clock import SimClock
from monitor.simulator.scenario import ERROR_KINDS, Behaviour, Scenario, load_scenario
from monitor.simulator.thread import SimulatorHandle, run_in_thread, serve_forever

__all__ = [
    "ERROR_KINDS",
    "Behaviour",
    "Scenario",
    "SimClock",
    "Simulator",
    "SimulatorHandle",
    "load_scenario",
    "run_in_thread",
    "serve_forever",
]
