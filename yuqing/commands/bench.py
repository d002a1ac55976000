"""``yuqing bench <area>``: the benchmarks of the :mod:`bench` package, discovered by module."""

from __future__ import annotations

import importlib
import pkgutil

from yuqing.commands import Subparsers


def register(sub: Subparsers) -> None:
    """Add ``bench`` with one subcommand per benchmark module."""
    import bench

    parser = sub.add_parser("bench", help="性能基准：测量吞吐和延迟，输出一行 JSON")
    areas = parser.add_subparsers(dest="bench_command", required=True)
    for info in sorted(pkgutil.iter_modules(bench.__path__), key=lambda m: m.name):
        importlib.import_module(f"bench.{info.name}").register(areas)
