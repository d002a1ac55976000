"""``yuqing bench letters``: how the built models judge real citizens' letters, end to end.

The 2,800 labelled letters of ``../shared/data/letters`` go through the enrichment as board posts
(sentiment, appeal type, risk, topic: exactly what the classify worker computes) and are scored
against their labels: sentiment and appeal macro-F1, the ROC AUC with which the risk score ranks the
urgent letters first (and the alert's precision and recall), topic macro-F1 (the data's topic names
mapped through the taxonomy's aliases). One JSON line.

This is the figure for models that never saw these letters: the defaults a fresh checkout builds
from our own seed letters (``yuqing models build`` without ``--data-dir``). Models trained on the
letters are measured by cross-validation instead (``yuqing classify evaluate --data-dir``); where
the models directory holds such a model the line says ``in_sample``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from yuqing.commands import Subparsers
from yuqing.settings import Settings

LETTERS = "letters/teddy2020_letters_labelled.csv"


def _run(settings: Settings, args: argparse.Namespace) -> int:
    import csv

    from sklearn.metrics import f1_score, roc_auc_score

    from classifiers.build import build_default_models
    from classifiers.enrich import Enricher
    from classifiers.risk import ALERT_RISK
    from classifiers.store import read_card
    from core.messages import text_post

    path = args.data_dir / LETTERS
    if not path.is_file():
        print(json.dumps({"bench": "letters", "skipped": f"{path} is absent"}, ensure_ascii=False))
        return 0
    models = args.models or settings.model_path
    build_default_models(models)  # what is there and current is kept: nothing is retrained
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    at = "2024-05-01T08:00:00+08:00"
    posts = [text_post("board", "bench", str(i), row["text"], at) for i, row in enumerate(rows)]
    enricher = Enricher.load(models)
    enriched = [
        e for start in range(0, len(posts), 500) for e in enricher.enrich_many(posts[start : start + 500])
    ]
    taxonomy = enricher.taxonomy

    def canonical(label: str) -> str:
        topic = taxonomy.topic(label)
        return topic.label if topic else label

    def macro(truth: list[str], predicted: list[str]) -> float:
        return round(
            float(f1_score(truth, predicted, labels=sorted(set(truth)), average="macro", zero_division=0)), 4
        )

    urgent = [row["urgent"] == "yes" for row in rows]
    risk = [e["risk"]["score"] for e in enriched]
    flagged = [r >= ALERT_RISK for r in risk]
    tp = sum(f and u for f, u in zip(flagged, urgent, strict=True))
    in_sample = []
    for name in ("sentiment-letter", "appeal", "urgency", "topic"):
        if not (models / name / "card.json").exists():
            continue  # a model that is not there saw nothing
        data = read_card(models / name).params.get("data", [])
        if any("teddy2020" in str(d) for d in (data if isinstance(data, list) else [data])):
            in_sample.append(name)
    result: dict[str, Any] = {
        "bench": "letters",
        "letters": len(rows),
        "models": enricher.models,
        "sentiment_macro_f1": macro(
            [r["sentiment"] for r in rows], [e["sentiment"]["label"] for e in enriched]
        ),
        "appeal_macro_f1": macro([r["appeal"] for r in rows], [str(e["appeal_type"]) for e in enriched]),
        "risk_roc_auc": round(float(roc_auc_score(urgent, risk)), 4),
        "alert_precision": round(tp / max(sum(flagged), 1), 4),
        "alert_recall": round(tp / max(sum(urgent), 1), 4),
        "topic_macro_f1": macro(
            [canonical(r["topic"]) for r in rows], [e["topic"]["label"] for e in enriched]
        ),
        "in_sample": in_sample,
    }
    print(json.dumps(result, ensure_ascii=False))
    return 0


def register(sub: Subparsers) -> None:
    """Add ``letters`` under ``yuqing bench``."""
    parser = sub.add_parser("letters", help="真实来信的判断：情感、诉求类型、风险排序、主题（端到端）")
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument(
        "--models", type=Path, help="模型目录（默认为配置的模型目录；缺失的默认模型先用种子样例构建）"
    )
    parser.set_defaults(handler=_run)
