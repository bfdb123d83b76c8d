"""The exceptions brownout raises, in one tree.

    BrownoutError                 base of everything raised on purpose
    ├── ConfigError               the config file is missing, unreadable or invalid;
    │                             carries every problem as `FILE:LINE: message`
    ├── StorageError              the database cannot be opened, migrated or written
    ├── UsageError                bad command-line input (a wrong duration, an unknown target)
    └── SimulatorError            a scenario file the simulator cannot use

A failed *probe* is never an exception: it is a `ProbeResult` with an `outcome` (see
`monitor.result`). Only `monitor.cli` turns these exceptions into one-sentence messages and exit
codes (2 for ConfigError and UsageError, 1 for the rest).
"""

from __future__ import annotations


class BrownoutError(Exception):
    """Base class of every error brownout raises on purpose."""


class ConfigError(BrownoutError):
    """The config is invalid; `problems` holds one `FILE:LINE: message` line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        first = self.problems[0] if self.problems else "invalid config"
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(first + more)


class StorageError(BrownoutError):
    """The database cannot be opened, migrated or written."""


class UsageError(BrownoutError):
    """Bad input on the command line."""


class SimulatorError(BrownoutError):
    """A simulator scenario that cannot be used."""
