"""The command line's own options: -v works before or after the command."""

from __future__ import annotations

import pytest

from monitor.cli import build_parser


@pytest.mark.parametrize(
    ("argv", "verbose"),
    [
        (["check"], False),
        (["-v", "check"], True),
        (["check", "-v"], True),
        (["check", "--verbose", "--config", "probes.yaml"], True),
        (["--verbose", "status", "--json"], True),
    ],
)
def test_verbose_is_taken_before_or_after_the_command(argv: list[str], verbose: bool) -> None:
    command = next(a for a in argv if not a.startswith("-"))
    args = build_parser(command).parse_args(argv)
    assert args.verbose is verbose
