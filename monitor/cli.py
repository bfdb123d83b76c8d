"""The `brownout` command line. Each command is a module in `monitor.commands` with
`add_arguments(parser)` and `run(args) -> int`; this module only dispatches and turns
exceptions into one-sentence messages and exit codes (0 ok, 2 bad input, 1 anything else)."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from monitor.errors import BrownoutError, ConfigError, UsageError

# name -> one-line help; the module is monitor.commands.<name with - as _>, or as in _MODULES.
COMMANDS: dict[str, str] = {
    "run": "the long-running monitor: scheduler, storage, detection, alerts, HTTP API",
    "once": "every selected probe once, now; stores the results",
    "check": "validate the config",
    "status": "the current status of every target and open incidents",
    "report": "the historical report",
    "export": "raw probe results, incidents or transitions",
    "route": "the transfer switch: targets ranked best first for use right now",
    "replay": "backtest detection over recorded results",
    "migrate": "copy the whole history into another database (SQLite to PostgreSQL)",
    "notify-test": "send one test notification to every alert channel",
    "simulate": "local provider simulator (OpenAI, Anthropic and Gemini wire protocols)",
    "demo": "simulator + monitor + dashboard together, no API keys needed",
}
_MODULES = {"notify-test": "notify"}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def build_parser(chosen: str | None = None) -> argparse.ArgumentParser:
    """The parser; only the `chosen` command's module is imported (start-up stays fast, and one
    command's heavy imports never slow or break another)."""
    parser = _Parser(prog="brownout", description="A monitor for LLM providers.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, help_text in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        command.add_argument(
            "--config", metavar="F", help="config file (default ./probes.yaml or $BROWNOUT_CONFIG)"
        )
        # Also after the command (`brownout check -v`); SUPPRESS keeps a -v given before it.
        command.add_argument(
            "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="log more"
        )
        if name == chosen:
            module = importlib.import_module(f"monitor.commands.{_module(name)}")
            module.add_arguments(command)
            command.set_defaults(handler=module.run)
    return parser


def _module(command: str) -> str:
    return _MODULES.get(command, command.replace("-", "_"))


def _chosen(argv: Sequence[str]) -> str | None:
    return next((a for a in argv if not a.startswith("-")), None)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    verbose = "-v" in argv or "--verbose" in argv
    try:
        args = build_parser(_chosen(argv)).parse_args(argv)
        logging.basicConfig(
            level=logging.DEBUG if args.verbose else logging.INFO,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            stream=sys.stderr,
        )
        if not args.verbose:  # their INFO lines (every request, every job run) drown ours
            for noisy in ("httpx", "httpcore", "apscheduler", "uvicorn.access"):
                logging.getLogger(noisy).setLevel(logging.WARNING)
        if args.command is None:
            build_parser().print_help()
            return 2
        return int(args.handler(args))
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    except UsageError as exc:
        print(f"brownout: {exc}", file=sys.stderr)
        return 2
    except BrownoutError as exc:
        print(f"brownout: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # the last line of defence: one sentence, never a bare traceback
        if verbose:
            logging.getLogger("brownout").exception("unexpected error")
        print(
            f"brownout: unexpected error: {type(exc).__name__}: {exc} (run with -v for details)",
            file=sys.stderr,
        )
        return 1
