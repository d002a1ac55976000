"""The ``yuqing`` command line: one entry point, one settings object, subcommands that wire and run.

Subcommands live in :mod:`yuqing.commands`, one module per area, discovered here. Handlers stay
thin: they build what the settings ask for and hand over to the packages.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence

import yuqing.commands
from yuqing.settings import Settings, SettingsError


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every area's subcommands."""
    parser = argparse.ArgumentParser(prog="yuqing", description="舆情监测与回应服务")
    sub = parser.add_subparsers(dest="command", required=True)
    for info in sorted(pkgutil.iter_modules(yuqing.commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"yuqing.commands.{info.name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: parse, build the settings from the environment, configure logging, dispatch."""
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env(os.environ)
    except SettingsError as exc:
        print(f"配置错误：{exc}", file=sys.stderr)
        raise SystemExit(2) from exc
    from yuqing.logs import configure_logging

    configure_logging(settings)
    raise SystemExit(args.handler(settings, args))


if __name__ == "__main__":
    main()
