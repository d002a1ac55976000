"""``yuqing classify``: classify texts, train a model from labelled CSV, evaluate one.

- ``yuqing classify text [TEXT ...]`` (or texts one per line on stdin) prints one JSON line per text;
- ``yuqing classify train --task T --data FILE.csv --out DIR [--kind encoder]`` trains and saves a
  model with its card (``--kind encoder`` fine-tunes the pretrained encoder instead of n-grams);
- ``yuqing classify distil --task T --teacher DIR --data FILE.csv --unlabelled POSTS.csv… --out DIR``
  trains the fast n-gram model on the labelled file plus the unlabelled posts as the (slow, accurate)
  teacher model labels them;
- ``yuqing classify evaluate --task T [--genre G] (--data FILE.csv | --data-dir DIR) [--model DIR]``
  prints one JSON line: the model's figures on the data, or (no ``--model``) the recipe's 5-fold
  cross-validated figures, with the public test split's beside them where there is one;
- ``yuqing classify curve --task T --data TRAIN.csv --test TEST.csv`` prints the learning curve.

A model directory named on the command line by the operator (``--out``, ``--model``) is its own
trusted root: it is loaded only if its artifact matches the hash its card recorded.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from yuqing.commands import Subparsers
from yuqing.settings import Settings

if TYPE_CHECKING:
    from classifiers.store import ModelCard


def _text(settings: Settings, args: argparse.Namespace) -> int:
    from classifiers.enrich import Enricher
    from core.china_time import now_iso
    from core.messages import text_post

    enricher = Enricher.load(settings.model_path, settings.taxonomy_path)
    texts = args.text or [line.strip() for line in sys.stdin if line.strip()]
    now = now_iso()
    # A letter is read as a board message, a social post as a Weibo post: each genre has its models.
    posts = [
        text_post("board" if args.genre == "letter" else "weibo", "cli", str(index), text, now)
        for index, text in enumerate(texts)
    ]
    for text, out in zip(texts, enricher.enrich_many(posts), strict=True):
        labels = {key: out[key] for key in ("sentiment", "topic", "appeal_type", "risk", "event_id")}
        print(json.dumps({"text": text, **labels}, ensure_ascii=False))
    return 0


def _train(settings: Settings, args: argparse.Namespace) -> int:
    from dataclasses import replace

    from classifiers.training import evaluate, train

    texts, labels = _read_data(args)
    overrides = {
        name: value
        for name, value in (("max_tokens", args.max_tokens), ("windows", args.windows))
        if value is not None
    }
    if overrides and args.kind == "linear":
        print("--max-tokens and --windows apply to --kind encoder or ensemble", file=sys.stderr)
        return 2
    if args.kind != "linear":
        from classifiers.encoder import LICENCE

        print(f"注意：{LICENCE}", file=sys.stderr)
    model, card = train(args.task, texts, labels, kind=args.kind, genre=args.genre, **overrides)
    figures = evaluate(args.task, model, texts, labels)
    return _save(model, replace(card, metrics={"training": figures}), args)


def _distil(settings: Settings, args: argparse.Namespace) -> int:
    from classifiers.distil import distil
    from classifiers.store import load_model
    from classifiers.training import read_texts

    teacher, teacher_card = load_model(args.teacher, root=args.teacher)
    labelled = _read_data(args)
    unlabelled = [
        text for path in args.unlabelled for text in read_texts(path, text_column=args.unlabelled_column)
    ]
    model, card = distil(args.task, teacher, teacher_card, labelled, unlabelled)
    return _save(model, card, args, unlabelled=[str(p) for p in args.unlabelled])


def _save(model: Any, card: ModelCard, args: argparse.Namespace, **params: Any) -> int:
    """Save ``model`` into ``--out`` with the training file (and ``params``) on its card; print it."""
    from dataclasses import replace

    from classifiers.store import save_model

    data = [str(path) for path in args.data]
    card = replace(card, params={**card.params, "data": data[0] if len(data) == 1 else data, **params})
    sealed = save_model(model, card, args.out)
    print(json.dumps({"model": sealed.ref, "out": str(args.out), **sealed.params}, ensure_ascii=False))
    return 0


def _evaluate(settings: Settings, args: argparse.Namespace) -> int:
    """One JSON object: a saved model scored on ``--data``, or the recipe cross-validated on it."""
    from classifiers.training import cross_validate, evaluate, read_labelled, train

    data, test, label_column = _evaluation_files(args)
    texts, labels = _read_files(data, args.text_column, label_column)
    out: dict[str, Any] = {"task": args.task, "genre": args.genre, "data": [str(p) for p in data]}
    if args.model is not None:
        out.update(_scored_model(args, texts, labels))
    else:
        figures, oof, classes = cross_validate(args.task, texts, labels, genre=args.genre, folds=args.folds)
        out["cross_validation"] = figures
        if args.task == "sentiment" and args.genre == "letter" and not args.data:
            out["cross_validation_with_appeal_prior"] = _with_appeal(
                args, data, texts, labels, (oof, classes)
            )
        if test is not None:
            # The public test split, scored once by the recipe trained on all the training rows:
            # reported beside the cross-validated figure, never used to choose anything.
            model, card = train(args.task, texts, labels, genre=args.genre)
            test_texts, test_labels = read_labelled(
                test, text_column=args.text_column, label_column=label_column
            )
            out["test"] = {
                "data": str(test),
                "model": card.ref,
                **evaluate(args.task, model, test_texts, test_labels),
            }
    print(json.dumps(out, ensure_ascii=False))
    return 0


def _with_appeal(
    args: argparse.Namespace,
    data: list[Path],
    texts: list[str],
    labels: list[str],
    sentiment: tuple[Any, list[str]],
) -> dict[str, Any]:
    """The letters' sentiment as the enrichment chooses it: with the appeal model's reading added."""
    from classifiers.build import APPEAL_PRIOR
    from classifiers.training import cross_validate, normalise_labels, with_appeal_prior

    _, appeals = _read_files(data, args.text_column, "appeal")
    _, appeal_oof, appeal_classes = cross_validate("appeal", texts, appeals, folds=args.folds)
    truth = normalise_labels("sentiment", labels)
    return with_appeal_prior(truth, sentiment, (appeal_oof, appeal_classes), APPEAL_PRIOR)


def _scored_model(args: argparse.Namespace, texts: list[str], labels: list[str]) -> dict[str, Any]:
    import numpy as np

    from classifiers.enrich import alert_probability
    from classifiers.store import load_model
    from classifiers.training import URGENT, evaluate, normalise_labels, risk_figures

    model, card = load_model(args.model, root=args.model)
    if card.task != args.task:
        raise SystemExit(f"{args.model} holds a {card.task} model, not {args.task}")
    figures = evaluate(args.task, model, texts, labels)
    if args.task == "urgency":
        classes = [str(c) for c in model.classes_]
        urgent = np.asarray(model.predict_proba(texts))[:, classes.index(URGENT)]
        threshold = alert_probability(card)
        figures.update(risk_figures(normalise_labels("urgency", labels), urgent, texts, threshold))
    return {"model": card.ref, **figures}


def _evaluation_files(args: argparse.Namespace) -> tuple[list[Path], Path | None, str]:
    """The files to evaluate on: ``--data`` as given, else the task's labelled files under ``--data-dir``."""
    from classifiers.build import LETTERS, TOPIC, WEIBO

    if args.data:
        return list(args.data), args.test, args.label_column
    if args.data_dir is None:
        raise SystemExit("give --data FILE.csv or --data-dir ../shared/data")
    d = args.data_dir
    if args.task == "topic":
        return [d / TOPIC[0]], args.test or d / TOPIC[1], "label"
    if args.task == "sentiment" and args.genre == "social":
        return [d / WEIBO], args.test or d / "sentiment" / "weibo2018_test.csv", "label"
    column = {"sentiment": "sentiment", "appeal": "appeal", "urgency": "urgent"}[args.task]
    return [d / LETTERS], args.test, column


def _read_files(paths: list[Path], text_column: str, label_column: str) -> tuple[list[str], list[str]]:
    from classifiers.training import read_labelled

    texts: list[str] = []
    labels: list[str] = []
    for path in paths:
        more_texts, more_labels = read_labelled(path, text_column=text_column, label_column=label_column)
        texts += more_texts
        labels += more_labels
    return texts, labels


def _curve(settings: Settings, args: argparse.Namespace) -> int:
    from classifiers.training import learning_curve, read_labelled

    train_data = _read_data(args)
    test_data = read_labelled(args.test, text_column=args.text_column, label_column=args.label_column)
    sizes = [n for n in args.sizes if n < len(train_data[0])] + [len(train_data[0])]
    for point in learning_curve(args.task, train_data, test_data, sizes):
        print(json.dumps({"task": args.task, **point}))
    return 0


def _output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, required=True, help="写入的模型目录")


def _read_data(args: argparse.Namespace) -> tuple[list[str], list[str]]:
    """The labelled rows of every ``--data`` file, in order (e.g. the original file, then corrections).

    A corrections file of several tasks (``yuqing ledger corrections``) gives only ``--task``'s rows.
    """
    from classifiers.corrections import has_task_column, read_corrections
    from classifiers.training import read_labelled

    texts: list[str] = []
    labels: list[str] = []
    for path in args.data:
        if has_task_column(path):
            more_texts, more_labels = read_corrections(path, task=args.task)
        else:
            more_texts, more_labels = read_labelled(
                path, text_column=args.text_column, label_column=args.label_column
            )
        texts += more_texts
        labels += more_labels
    return texts, labels


def _labelled(parser: argparse.ArgumentParser, *, data_help: str, several: bool = False) -> None:
    from classifiers.tasks import TASKS

    parser.add_argument("--task", choices=TASKS, required=True)
    if several:
        data_help += (
            "；可给多个文件（如原训练集与 yuqing ledger corrections 导出的更正，只取本任务的行），依次合并"
        )
    # Always a list, so every command reads its data the same way.
    parser.add_argument("--data", type=Path, nargs="+" if several else 1, required=True, help=data_help)
    parser.add_argument("--text-column", default="text")
    parser.add_argument("--label-column", default="label")


def _genre(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--genre",
        choices=("letter", "social"),
        help="文本类型：letter（留言板、12345 工单）或 social（微博等）；不给则按任务默认"
        "（情感为 social，其余为 letter）",
    )


def register(sub: Subparsers) -> None:
    """Add ``classify`` with ``text``, ``train``, ``distil``, ``evaluate`` and ``curve``."""
    from classifiers.tasks import MODEL_KINDS, TASKS

    classify = sub.add_parser("classify", help="文本分类；用带标注的 CSV 训练和评估模型")
    actions = classify.add_subparsers(dest="classify_command", required=True)

    text = actions.add_parser("text", help="分类参数中的文本，或标准输入中每行一条")
    text.add_argument("text", nargs="*")
    text.add_argument(
        "--genre",
        choices=("letter", "social"),
        default="letter",
        help="按来信（留言板、12345，默认）还是社交媒体帖文（微博）分类",
    )
    text.set_defaults(handler=_text)

    train = actions.add_parser("train", help="用带标注的 CSV 训练模型，连同模型说明一起保存")
    _labelled(train, data_help="带表头的 UTF-8 CSV", several=True)
    _genre(train)
    _output(train)
    train.add_argument(
        "--kind",
        choices=MODEL_KINDS,
        default="linear",
        help="linear：n-gram 线性模型（快）；encoder：微调预训练编码器 m3e-small"
        "（更准，慢约百倍，需 torch）；ensemble：两者概率平均（最准，与 encoder 一样慢）",
    )
    train.add_argument(
        "--max-tokens",
        type=int,
        help="编码器读取的最大词元数（默认 128；长留言可用 256，训练与预测约慢一倍）",
    )
    train.add_argument(
        "--windows",
        type=int,
        help="长文本按窗口读取：每条最多读几个 max-tokens 窗口（默认 1，即截断；"
        "训练时每轮随机取一个窗口，预测时取各窗口的平均概率）",
    )
    train.set_defaults(handler=_train)

    distil = actions.add_parser(
        "distil", help="蒸馏：由准确但慢的教师模型标注无标注帖文，训练快速的 n-gram 模型"
    )
    _labelled(distil, data_help="带标注的 UTF-8 CSV（与教师模型的训练集相同即可）", several=True)
    distil.add_argument("--teacher", type=Path, required=True, help="教师模型目录（如 --kind ensemble）")
    distil.add_argument(
        "--unlabelled",
        type=Path,
        nargs="+",
        required=True,
        help="无标注帖文 CSV，可多个（不得含评估用的留出集）",
    )
    distil.add_argument("--unlabelled-column", default="text", help="无标注 CSV 的文本列")
    _output(distil)
    distil.set_defaults(handler=_distil)

    evaluate = actions.add_parser(
        "evaluate",
        help="评估，输出一行 JSON：给 --model 时在数据上评估该模型；否则对训练配方做 k 折交叉验证"
        "（有 --test 时并列给出公开测试集上的分数）",
    )
    evaluate.add_argument("--task", choices=TASKS, required=True)
    _genre(evaluate)
    evaluate.add_argument(
        "--data", type=Path, nargs="+", help="带表头的 UTF-8 CSV；不给则取 --data-dir 中该任务的文件"
    )
    evaluate.add_argument("--data-dir", type=Path, help="共享数据目录（如 ../shared/data）")
    evaluate.add_argument("--test", type=Path, help="公开测试集 CSV（只报告，不参与选择）")
    evaluate.add_argument("--text-column", default="text")
    evaluate.add_argument("--label-column", default="label")
    evaluate.add_argument("--folds", type=int, default=5, help="交叉验证折数（默认 5）")
    evaluate.add_argument("--model", type=Path, help="由 train 或 models build 写出的模型目录")
    evaluate.set_defaults(handler=_evaluate)

    curve = actions.add_parser("curve", help="学习曲线：不同训练数据量下的测试指标")
    _labelled(curve, data_help="训练用 CSV", several=True)
    curve.add_argument("--test", type=Path, required=True, help="留出测试集 CSV")
    curve.add_argument("--sizes", type=int, nargs="+", default=[250, 500, 1000, 2000, 4000])
    curve.set_defaults(handler=_curve)
