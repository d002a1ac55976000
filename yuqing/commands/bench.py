"""``yuqing bench <area>``: the benchmarks of the :mod:`bench` package, discovered by module.

:mod:`bench` belongs to yuqing-devtools (devtools/), not to the service: where it is not installed,
``yuqing bench`` still parses and says how to install it.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import pkgutil

from yuqing.commands import DEVTOOLS_MISSING, Subparsers, devtools_missing
from yuqing.settings import Settings

HELP = "性能基准：测量吞吐和延迟，输出一行 JSON（需安装 devtools）"


def _missing(settings: Settings, args: argparse.Namespace) -> int:
    devtools_missing("bench")
    return DEVTOOLS_MISSING


def register(sub: Subparsers) -> None:
    """Add ``bench`` with one subcommand per benchmark module, or one that explains its absence."""
    parser = sub.add_parser("bench", help=HELP)
    if importlib.util.find_spec("bench") is None:
        parser.add_argument("area", nargs=argparse.REMAINDER, help="基准测试领域及其参数")
        parser.set_defaults(handler=_missing)
        return
    import bench

    areas = parser.add_subparsers(dest="bench_command", required=True)
    for info in sorted(pkgutil.iter_modules(bench.__path__), key=lambda m: m.name):
        importlib.import_module(f"bench.{info.name}").register(areas)
