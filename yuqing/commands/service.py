"""``yuqing up``, ``dashboard``, ``status`` and ``models``: running and inspecting the whole service."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
from pathlib import Path

from yuqing.commands import Subparsers
from yuqing.settings import Settings


def _up(settings: Settings, args: argparse.Namespace) -> int:
    from yuqing.service import run_service

    return run_service(
        settings, demo=args.demo, data_dir=args.data_dir, real_limit=args.real_limit, base_env=os.environ
    )


def _dashboard(settings: Settings, args: argparse.Namespace) -> int:
    from dashboard.launch import streamlit_argv

    return subprocess.call(streamlit_argv(settings, address=args.address))


def _status(settings: Settings, args: argparse.Namespace) -> int:
    from yuqing.status import collect_status, render_status

    status = collect_status(settings)
    print(json.dumps(status, ensure_ascii=False, indent=2) if args.json else render_status(status))
    return 0


def _models_build(settings: Settings, args: argparse.Namespace) -> int:
    from classifiers.build import build_default_models

    cards = build_default_models(settings.model_path, force=args.force)
    print(json.dumps({name: card.ref for name, card in cards.items()}))
    return 0


def register(sub: Subparsers) -> None:
    """Add ``up``, ``dashboard``, ``status`` and ``models``."""
    up = sub.add_parser("up", help="start the whole service (embedded by default)")
    up.add_argument("--demo", action="store_true", help="serve the demo message board locally and crawl it")
    up.add_argument("--data-dir", type=Path, help="also serve real messages from this shared data folder")
    up.add_argument("--real-limit", type=int, default=500, help="how many real messages the demo site serves")
    up.set_defaults(handler=_up)

    dash = sub.add_parser("dashboard", help="run the Streamlit dashboard")
    dash.add_argument("--address", default="127.0.0.1", help="listen address (0.0.0.0 in a container)")
    dash.set_defaults(handler=_dashboard)

    status = sub.add_parser("status", help="what runs, lag per stage, counts")
    status.add_argument("--json", action="store_true")
    status.set_defaults(handler=_status)

    models = sub.add_parser("models", help="manage the default models")
    models_sub = models.add_subparsers(dest="models_command", required=True)
    build = models_sub.add_parser("build", help="train the default models from what the project ships")
    build.add_argument("--force", action="store_true")
    build.set_defaults(handler=_models_build)
