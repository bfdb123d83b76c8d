"""One module per `brownout` command: `add_arguments(parser)` and `run(args) -> int`."""
