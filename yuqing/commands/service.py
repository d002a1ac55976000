"""``yuqing up``, ``dashboard``, ``status`` and ``models``: running and inspecting the whole service."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
from pathlib import Path

from yuqing.commands import DEVTOOLS_MISSING, MISSING_SALT, Subparsers, devtools_missing, salt_missing
from yuqing.settings import Settings


def _up(settings: Settings, args: argparse.Namespace) -> int:
    # Before anything starts: the demo site is yuqing-devtools', not the service's.
    if args.demo and devtools_missing("demo_site"):
        return DEVTOOLS_MISSING
    if not args.demo and salt_missing(settings):
        return MISSING_SALT
    from yuqing.service import run_service

    return run_service(
        settings, demo=args.demo, data_dir=args.data_dir, real_limit=args.real_limit, base_env=os.environ
    )


def _dashboard(settings: Settings, args: argparse.Namespace) -> int:
    from yuqing.dashboard_launch import streamlit_argv

    return subprocess.call(streamlit_argv(settings, address=args.address))


def _status(settings: Settings, args: argparse.Namespace) -> int:
    from yuqing.status import collect_status, render_status

    status = collect_status(settings)
    print(json.dumps(status, ensure_ascii=False, indent=2) if args.json else render_status(status))
    return 0


def _models_build(settings: Settings, args: argparse.Namespace) -> int:
    from classifiers.build import build_default_models

    cards = build_default_models(
        settings.model_path, force=args.force, data_dir=args.data_dir, corrections=args.corrections
    )
    print(json.dumps({name: card.ref for name, card in cards.items()}))
    return 0


def register(sub: Subparsers) -> None:
    """Add ``up``, ``dashboard``, ``status`` and ``models``."""
    up = sub.add_parser("up", help="启动整个服务（默认嵌入式，无需外部服务器）")
    up.add_argument("--demo", action="store_true", help="在本机提供演示数据源并采集（需安装 devtools）")
    up.add_argument("--data-dir", type=Path, help="同时提供该共享数据目录中的真实留言")
    up.add_argument("--real-limit", type=int, default=500, help="演示站点提供的真实留言条数")
    up.set_defaults(handler=_up)

    dash = sub.add_parser("dashboard", help="运行 Streamlit 看板")
    dash.add_argument("--address", default="127.0.0.1", help="监听地址（容器中用 0.0.0.0）")
    dash.set_defaults(handler=_dashboard)

    status = sub.add_parser("status", help="运行状态：进程、各阶段积压、计数")
    status.add_argument("--json", action="store_true")
    status.set_defaults(handler=_status)

    models = sub.add_parser("models", help="管理默认模型")
    models_sub = models.add_subparsers(dest="models_command", required=True)
    build = models_sub.add_parser(
        "build", help="训练全部默认模型：无 --data-dir 时用项目自带的种子样例，有则用该目录中的标注数据"
    )
    build.add_argument("--force", action="store_true", help="全部重新训练（默认只重训数据或配方有变化的）")
    build.add_argument("--data-dir", type=Path, help="共享数据目录（如 ../shared/data）")
    build.add_argument(
        "--corrections",
        type=Path,
        nargs="+",
        default=[],
        help="yuqing ledger corrections 导出的更正文件，并入对应任务的训练集",
    )
    build.set_defaults(handler=_models_build)
