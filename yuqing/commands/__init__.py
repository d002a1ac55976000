"""Subcommands of ``yuqing``, one module per area; each module has ``register(subparsers)``.

A module registers its subcommands with ``handler=`` set to a function ``(settings, args) -> int``.
:func:`yuqing.cli.build_parser` discovers every module here, so an area adds commands without
touching the others.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, Protocol

from yuqing.settings import Settings

Handler = Callable[[Settings, argparse.Namespace], int]
Subparsers = Any  # argparse's _SubParsersAction is private


class CommandModule(Protocol):
    """What a module of this package provides."""

    def register(self, sub: Subparsers) -> None:
        """Add this area's subcommands."""
