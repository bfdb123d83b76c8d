"""`brownout simulate [--scenario F] [--port P] [--host H]`: the local provider simulator.

Serves OpenAI (`/v1/chat/completions`), Anthropic (`/v1/messages`) and Gemini
(`/v1beta/models/{model}:streamGenerateContent`) on one port, scripted by a scenario file
(docs/simulator.md). Without `--scenario`, every model answers correctly and promptly.
"""

from __future__ import annotations

import argparse
import contextlib
import sys

from monitor.simulator import load_scenario, serve_forever


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario", metavar="F", help="scenario YAML file (default: healthy)")
    parser.add_argument(
        "--port", type=port_number, default=8089, help="port to listen on (default 8089)"
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )


def port_number(text: str) -> int:
    """A TCP port, 1 to 65535 (argparse turns the error into `argument --port: …`)."""
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"port {number} is out of range (1 to 65535)")
    return number


def run(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario)  # UsageError (exit 2) when the file is wrong
    base = f"http://{args.host}:{args.port}"
    print(
        f"brownout simulator ({scenario.name}) on {base}\n"
        f"  openai    base_url: {base}/v1\n"
        f"  anthropic base_url: {base}\n"
        f"  gemini    base_url: {base}\n"
        f"  models: {', '.join(scenario.models)}",
        file=sys.stderr,
        flush=True,
    )
    with contextlib.suppress(KeyboardInterrupt):
        serve_forever(scenario, host=args.host, port=args.port)
    return 0
