"""``yuqing bench accuracy``: how accuracy grows with the amount of labelled training data.

For each task, models are trained on 10 %, 25 %, 50 % and 100 % of the training file (the first rows
of a fixed shuffle, so the curve is reproducible) and scored on the held-out file; one JSON line per
point, so that a department can see how many labelled messages it needs. The data are the public
sets in ``../shared/data`` (never copied into the repository); a task whose files are absent is
skipped with a message.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from yuqing.commands import Subparsers
from yuqing.settings import Settings

# task → (training file, held-out file), relative to --data-dir.
FILES = {
    "sentiment": ("sentiment/weibo2018_train.csv", "sentiment/weibo2018_test.csv"),
    "topic": ("topic/teddy2020_train.csv", "topic/teddy2020_dev.csv"),
}


def sizes_for(total: int, fractions: list[float]) -> list[int]:
    """Training-set sizes for ``fractions`` of ``total`` rows (at least 2 each, no duplicates)."""
    return sorted({max(2, min(total, round(total * f))) for f in fractions})


def _run(settings: Settings, args: argparse.Namespace) -> int:
    from classifiers.training import learning_curve, read_labelled

    for task in args.task:
        train_name, test_name = FILES[task]
        train_path, test_path = args.data_dir / train_name, args.data_dir / test_name
        if not train_path.exists() or not test_path.exists():
            print(f"跳过 {task}：找不到 {train_path} 或 {test_path}", file=sys.stderr)
            continue
        train_data = read_labelled(train_path)
        test_data = read_labelled(test_path)
        for n in sizes_for(len(train_data[0]), args.fractions):
            started = time.monotonic()
            (point,) = learning_curve(task, train_data, test_data, [n])
            result = {
                "bench": "accuracy",
                "task": task,
                "fraction": round(n / len(train_data[0]), 3),
                **point,
                "test_rows": len(test_data[0]),
                "seconds": round(time.monotonic() - started, 1),
            }
            print(json.dumps(result, ensure_ascii=False), flush=True)
    return 0


def register(sub: Subparsers) -> None:
    """Add ``accuracy`` under ``yuqing bench``."""
    parser = sub.add_parser("accuracy", help="学习曲线：训练数据量（10%%–100%%）与准确率、宏平均 F1")
    parser.add_argument("--task", choices=sorted(FILES), nargs="+", default=sorted(FILES))
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.1, 0.25, 0.5, 1.0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.set_defaults(handler=_run)
