"""Training and evaluation from labelled CSV, the trained topic model with its fallbacks, corrections."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from classifiers.appeal import appeal_types
from classifiers.corrections import correction_of, read_corrections, write_corrections
from classifiers.errors import TrainingDataError, UntrustedModelPath
from classifiers.linear import LinearTextModel
from classifiers.sentiment import seed_examples
from classifiers.store import load_model
from classifiers.taxonomy import load_taxonomy
from classifiers.topic import OUT_OF_REMIT, TopicClassifier
from classifiers.training import evaluate, normalise_labels, read_labelled, train
from yuqing.cli import main

# Our own sentences, six per topic: enough for three calibration folds.
TOPICS = {
    "劳动和社会保障": [
        "公司拖欠工资半年，老板跑路了",
        "社保断缴三个月，单位不给补",
        "工伤认定申请递交后一直没有结果",
        "农民工讨薪无门，请劳动监察介入",
        "养老保险转移接续手续太复杂",
        "被无故辞退，单位拒绝支付经济补偿",
    ],
    "交通运输": [
        "公交车班次太少，早高峰等车四十分钟",
        "路口红绿灯坏了好几天没人修",
        "道路坑洼不平，电动车经常摔倒",
        "地铁站出口离小区太远，建议增设公交接驳",
        "出租车拒载绕路，乘客投诉无门",
        "大货车夜间超速行驶，路面被压坏",
    ],
    "教育文体": [
        "孩子入学学位迟迟不落实",
        "学校违规收取补课费用",
        "幼儿园招生政策变化，家长无所适从",
        "校外培训机构退费难",
        "体育馆长期关闭，市民无处锻炼",
        "学区划分不合理，希望教育局解释",
    ],
}


def _cli(*argv: str) -> int | str | None:
    with pytest.raises(SystemExit) as exited:
        main(list(argv))
    return exited.value.code


def _csv(path: Path, rows: list[tuple[str, str]], columns: tuple[str, str] = ("text", "label")) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows(rows)
    return path


def _topic_rows() -> list[tuple[str, str]]:
    return [(text, label) for label, texts in TOPICS.items() for text in texts]


def test_sentiment_labels_are_read_in_their_usual_spellings() -> None:
    assert normalise_labels("sentiment", ["1", "0", "正面", "neutral"]) == [
        "positive",
        "negative",
        "positive",
        "neutral",
    ]
    assert normalise_labels("topic", ["1", "交通"]) == ["1", "交通"]
    with pytest.raises(TrainingDataError, match="positive/negative"):
        normalise_labels("sentiment", ["great"])


def test_a_csv_without_the_named_columns_says_which(tmp_path: Path) -> None:
    path = _csv(tmp_path / "t.csv", [("a", "b")], columns=("title", "label"))
    with pytest.raises(TrainingDataError, match="no column text"):
        read_labelled(path)
    assert read_labelled(path, text_column="title") == (["a"], ["b"])


def test_training_writes_a_card_and_evaluation_reports_every_figure() -> None:
    texts, labels = seed_examples()
    model, card = train("sentiment", texts, labels, C=4.0, chars=(1, 3))
    assert card.task == "sentiment" and len(card.data_sha256) == 64 and card.params["rows"] == len(texts)
    figures = evaluate("sentiment", model, texts, labels)
    assert figures["accuracy"] > 0.9 and set(figures["per_class"]) == {"negative", "positive"}
    assert {"precision", "recall", "f1", "support"} <= set(figures["per_class"]["negative"])
    assert figures["posts_per_second"] > 0


def test_a_trained_topic_model_answers_with_the_remit_unit_and_falls_back_when_unsure() -> None:
    texts, labels = zip(*_topic_rows(), strict=True)
    model, _ = train("topic", list(texts), list(labels))
    classifier = TopicClassifier(load_taxonomy(), model)
    wages, _weather = classifier.classify_many(["", ""], ["老板拖欠工资三个月，社保也不交", "今天天气不错"])
    # 劳动和社会保障 is an alias of the remit's 劳动保障.
    assert wages["label"] == "劳动保障" and wages["unit"] == "区人力资源和社会保障局" and wages["in_remit"]
    strict = TopicClassifier(load_taxonomy(), model, min_probability=0.99)  # the model is never sure
    unsure_keywords, unsure_nothing = strict.classify_many(["", ""], ["噪音扰民，油烟污染", "今天天气不错"])
    assert unsure_keywords["label"] == "环境保护"  # the keyword fallback
    assert unsure_nothing["label"] == OUT_OF_REMIT and not unsure_nothing["in_remit"]


def test_a_trained_appeal_model_is_used_unless_the_hotline_declared_a_type() -> None:
    rows = [
        (f"请问{x}怎么办理", "咨询") for x in ("社保卡", "居住证", "护照", "公积金", "营业执照", "结婚证")
    ]
    rows += [
        (f"强烈投诉{x}", "投诉")
        for x in ("噪音扰民", "物业乱收费", "商家欺诈", "出租车绕路", "工地夜间施工", "快递丢件")
    ]
    model = LinearTextModel().fit([t for t, _ in rows], [label for _, label in rows])
    posts = [
        ("board", "", "请问驾驶证怎么办理", None),
        ("hotline", "", "请问驾驶证", "求助"),
        ("weibo", "", "x", None),
    ]
    assert appeal_types(posts, model) == ["咨询", "求助", None]


def test_cli_trains_and_evaluates_a_model_directory_it_trusts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _csv(tmp_path / "topics.csv", _topic_rows())
    out = tmp_path / "topic-model"
    assert _cli("classify", "train", "--task", "topic", "--data", str(data), "--out", str(out)) == 0
    assert json.loads(capsys.readouterr().out)["model"] == "topic-word-char-svm@2"
    assert _cli("classify", "evaluate", "--task", "topic", "--model", str(out), "--data", str(data)) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["accuracy"] > 0.9 and "macro_f1" in figures and "posts_per_second" in figures
    assert set(figures["per_class"]) == set(TOPICS)
    with pytest.raises(UntrustedModelPath):
        load_model(out, root=tmp_path / "elsewhere")


def test_staff_corrections_are_kept_as_labelled_csv_for_the_next_training(tmp_path: Path) -> None:
    path = tmp_path / "corrections" / "topic.csv"
    post = {
        "id": "board:x:1",
        "title": "道路施工",
        "text": "小区门口道路施工半年未完工",
        "topic": {"label": "其他"},
    }
    made = [
        correction_of(post, label=label, corrected_by="staff-7", corrected_at="2024-05-01T09:00:00+08:00")
        for label in ("交通运输", " 城乡建设 ")
    ]
    assert made[1].previous_label == "其他" and made[1].label == "城乡建设"
    path.parent.mkdir()
    path.write_text("stale\n", encoding="utf-8")
    assert write_corrections(path, made) == 2  # the file is replaced, not appended to
    text = "道路施工 小区门口道路施工半年未完工"
    assert read_corrections(path) == ([text], ["城乡建设"])  # the latest of a post wins
    assert read_labelled(path) == ([text] * 2, ["交通运输", "城乡建设"])
    with pytest.raises(TrainingDataError, match="needs the post's text"):
        correction_of(
            {**post, "title": "", "text": " "}, label="交通运输", corrected_by="s", corrected_at="t"
        )


def test_judgement_corrections_keep_what_the_classifier_said_and_are_read_one_task_at_a_time(
    tmp_path: Path,
) -> None:
    post = {
        "id": "board:x:2",
        "title": "渣土车",
        "text": "夜里偷倒渣土",
        "topic": {"label": "城市管理"},
        "sentiment": {"label": "negative"},
        "appeal_type": "投诉",
        "risk": {"score": 80},
    }
    made = [
        correction_of(post, label=label, task=task, corrected_by="s", corrected_at="t")
        for task, label in (
            ("sentiment", "neutral"),
            ("appeal", "举报"),
            ("urgency", "no"),
            ("appeal", "建议"),
        )
    ]
    assert [(c.task, c.previous_label) for c in made[:3]] == [
        ("sentiment", "negative"),
        ("appeal", "投诉"),
        ("urgency", "yes"),  # a risk at the alert level is urgent
    ]
    calm = correction_of(
        {**post, "risk": {"score": 79}}, label="yes", task="urgency", corrected_by="s", corrected_at="t"
    )
    assert calm.previous_label == "no"
    with pytest.raises(TrainingDataError, match="unknown task"):
        correction_of(post, label="x", task="mood", corrected_by="s", corrected_at="t")
    path = tmp_path / "corrections.csv"
    write_corrections(path, made)
    assert read_corrections(path, task="appeal") == (["渣土车 夜里偷倒渣土"], ["建议"])  # the latest wins
    assert read_corrections(path, task="urgency") == (["渣土车 夜里偷倒渣土"], ["no"])
    assert read_corrections(path) == ([], [])  # no topic rows
    old = tmp_path / "old.csv"  # written before the task column: topic corrections
    old.write_text("text,label,previous_label,post_id,corrected_by,corrected_at\n甲,交通运输,其他,p1,s,t\n")
    assert read_corrections(old) == (["甲"], ["交通运输"])
    assert read_corrections(old, task="appeal") == ([], [])


def test_cli_trains_on_the_original_file_and_the_exported_corrections_together(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _csv(tmp_path / "topics.csv", _topic_rows())
    corrections = tmp_path / "corrections.csv"
    post = {
        "id": "board:x:9",
        "title": "公交站台",
        "text": "站台顶棚破损无人修",
        "topic": {"label": "城乡建设"},
    }
    write_corrections(
        corrections,
        [
            correction_of(post, label="交通运输", corrected_by="s", corrected_at="t"),
            # another task's row in the same file: topic training leaves it out
            correction_of(post, label="neutral", task="sentiment", corrected_by="s", corrected_at="t"),
        ],
    )
    out = tmp_path / "topic-model"
    train = ["classify", "train", "--task", "topic", "--data", str(data), str(corrections), "--out", str(out)]
    assert _cli(*train) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["rows"] == len(_topic_rows()) + 1 and printed["data"] == [str(data), str(corrections)]
    _, card = load_model(out, root=out)
    assert card.params["data"] == [str(data), str(corrections)]


def test_the_accuracy_bench_spreads_fractions_over_the_training_rows() -> None:
    from bench.accuracy import sizes_for

    assert sizes_for(8500, [0.1, 0.25, 0.5, 1.0]) == [850, 2125, 4250, 8500]
    assert sizes_for(10, [0.01, 0.1, 2.0]) == [2, 10]
