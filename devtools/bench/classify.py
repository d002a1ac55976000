"""``yuqing bench classify``: throughput of the whole enrichment (sentiment, topic, appeal, risk, events).

Posts are the real Weibo stream of ``../shared/data/stream/weibo_2020_10k.csv`` where present (else
our own seed sentences, repeated with numbers), classified in batches as the classify worker does.
Models are the default ones under the models directory, or trained ones given with
``--sentiment-model`` / ``--topic-model`` (each its own trusted root, as for ``classify evaluate``).
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from yuqing.commands import Subparsers
from yuqing.settings import Settings

# devtools/bench/classify.py: the repository is two folders up, the shared data beside it.
STREAM = Path(__file__).resolve().parents[3] / "shared" / "data" / "stream" / "weibo_2020_10k.csv"


def _posts(count: int) -> tuple[list[Any], str]:
    from classifiers.sentiment import seed_examples
    from core.messages import SCHEMA_VERSION, RawPost, post_id

    if STREAM.exists():
        with STREAM.open(encoding="utf-8", newline="") as handle:
            rows = [(r["weibo_id"], r["text"] or "", r["post_time"]) for r in csv.DictReader(handle)]
        origin = "../shared/data/stream/weibo_2020_10k.csv"
    else:
        texts, _ = seed_examples()
        rows = [(str(i), f"{texts[i % len(texts)]}（{i}）", "2024-05-01 08:00:00") for i in range(count)]
        origin = "classifiers/seeds/sentiment.csv"
    posts = []
    for i in range(count):
        native, text, published = rows[i % len(rows)]
        at = published.replace(" ", "T") + "+08:00"
        posts.append(
            RawPost(
                schema=SCHEMA_VERSION,
                id=post_id("weibo", "bench", f"{native}-{i // len(rows)}"),
                source="weibo",
                channel="bench",
                url="",
                title="",
                text=text or "转发微博",
                published_at=at,
                fetched_at=at,
                metrics={"reposts": i % 50, "comments": i % 7},
            )
        )
    return posts, origin


HOTLINE = STREAM.parent.parent / "hotline" / "dongguan_wenzheng_complaints.csv"


def _with_letters(posts: list[Any], share: float, origin: str) -> tuple[list[Any], str]:
    """Every ``1/share``-th post replaced by a citizen's letter (a board post, read by the letter
    models: sentiment, appeal type, urgency with its phrases), where the hotline file is present."""
    if not HOTLINE.exists():
        return posts, origin
    with HOTLINE.open(encoding="utf-8", newline="") as handle:
        letters = [(r["title"] or "", r["content"] or "") for r in csv.DictReader(handle) if r["content"]]
    every = max(1, round(1 / share))
    out = list(posts)
    for n, i in enumerate(range(0, len(out), every)):
        title, text = letters[n % len(letters)]
        out[i] = {
            **out[i],
            "source": "board",
            "id": out[i]["id"].replace("weibo:", "board:"),
            "title": title,
            "text": text,
        }
    return out, f"{origin} + {share:.0%} letters from ../shared/data/hotline/{HOTLINE.name}"


def _run(settings: Settings, args: argparse.Namespace) -> int:
    from classifiers.build import build_default_models
    from classifiers.enrich import MODEL_DIRS, Enricher
    from classifiers.store import artifact_size, load_model

    build_default_models(settings.model_path)  # only what is missing: trained models are kept
    enricher = Enricher.load(settings.model_path)
    sizes = {
        name: artifact_size(settings.model_path / directory)
        for name, directory in {"sentiment": "sentiment", **MODEL_DIRS}.items()
        if (settings.model_path / directory).is_dir()
    }
    for task, directory in (("sentiment", args.sentiment_model), ("topic", args.topic_model)):
        if directory is not None:
            model, card = load_model(directory, root=directory)
            enricher = replace(enricher, **{f"{task}_model": model, f"{task}_card": card})
            sizes[task] = artifact_size(directory)
    posts, origin = _posts(args.posts)
    if args.letter_share > 0:
        posts, origin = _with_letters(posts, args.letter_share, origin)
    enricher.enrich_many(posts[:50])  # warm-up: jieba's dictionary, numpy's first calls
    enricher = replace(enricher, events=type(enricher.events)())
    started, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(posts), args.batch):
        enricher.enrich_many(posts[start : start + args.batch])
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    result = {
        "bench": "classify",
        "posts": len(posts),
        "batch": args.batch,
        "data": origin,
        "models": enricher.models,
        "seconds": round(seconds, 2),
        "posts_per_second": round(len(posts) / seconds),
        "posts_per_cpu_second": round(len(posts) / cpu_seconds),
        "events": enricher.events.event_count,
        "model_mb": {task: round(size / 1e6, 1) for task, size in sizes.items()},
        "letter_share": args.letter_share,
    }
    print(json.dumps(result, ensure_ascii=False))
    return 0


def register(sub: Subparsers) -> None:
    """Add ``classify`` under ``yuqing bench``."""
    parser = sub.add_parser("classify", help="单核完整分类富化的吞吐（条/秒）")
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument(
        "--batch", type=int, default=500, help="每次 enrich_many 的帖子数（即 worker 批大小）"
    )
    parser.add_argument(
        "--letter-share",
        type=float,
        default=0.0,
        help="其中来信（留言板帖文）所占比例，如 0.3（默认 0：全为微博）",
    )
    parser.add_argument("--sentiment-model", type=Path, help="由 classify train 写出的模型目录")
    parser.add_argument("--topic-model", type=Path, help="由 classify train 写出的模型目录")
    parser.set_defaults(handler=_run)
