"""Distillation: a teacher's probabilities on unlabelled posts train the fast n-gram model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from classifiers.distil import distil, soft_rows, unseen
from classifiers.errors import TrainingDataError
from classifiers.sentiment import seed_examples
from classifiers.store import load_model, save_model
from classifiers.training import train
from tests.classifiers.test_training import _cli, _csv

# The student's own labelled posts: about a canteen, words the seed posts (the teacher's) never use.
CANTEEN = [
    ("食堂的红烧肉香喷喷，价格也实惠", "positive"),
    ("今天的饺子皮薄馅大，吃得很满足", "positive"),
    ("新来的厨师手艺真好，汤特别鲜", "positive"),
    ("窗口阿姨打菜很大方，米饭管够", "positive"),
    ("早餐的豆浆油条热乎乎的，很舒服", "positive"),
    ("食堂的菜又咸又油，根本咽不下去", "negative"),
    ("米饭夹生，青菜里还有虫子", "negative"),
    ("排队半小时，轮到我只剩剩菜了", "negative"),
    ("馒头是馊的，吃完肚子疼了一下午", "negative"),
    ("餐盘洗不干净，油腻腻的让人恶心", "negative"),
]


def test_unlabelled_texts_are_kept_once_and_never_beside_their_labelled_copy() -> None:
    kept = unseen(["好评 ", "好评", "差评", "", "已标注"], ["已标注"])
    assert kept == ["好评 ", "差评"]


def test_each_text_enters_once_per_likely_class_weighted_by_the_teacher() -> None:
    rows, labels, weights = soft_rows(np.array([[0.7, 0.3], [0.999, 0.001]]), ["negative", "positive"])
    assert rows == [0, 0, 1]
    assert labels == ["negative", "positive", "negative"]
    assert weights == pytest.approx([0.7, 0.3, 0.999])


def _teacher() -> tuple[object, object]:
    texts, labels = seed_examples()
    return train("sentiment", texts, labels, C=4.0, chars=(1, 3))


def test_the_student_learns_what_the_teacher_knows_from_posts_nobody_labelled() -> None:
    teacher, card = _teacher()
    seeds, _ = seed_examples()
    labelled = ([t for t, _ in CANTEEN], [label for _, label in CANTEEN])
    plain, _ = train("sentiment", *labelled, C=4.0, chars=(1, 3))
    student, student_card = distil("sentiment", teacher, card, labelled, seeds, C=4.0, chars=(1, 3))
    expected = teacher.predict(seeds)
    agreement = float(np.mean(student.predict(seeds) == expected))
    assert agreement >= 0.9 > float(np.mean(plain.predict(seeds) == expected))
    # It still reads its own labelled posts, and its card says whom it learned from.
    assert list(student.predict(labelled[0])) == labelled[1]
    assert student_card.name == "sentiment-char-ngram-distilled"
    assert student_card.params["teacher"] == card.ref and student_card.params["unlabelled_rows"] == len(seeds)


def test_a_teacher_of_another_task_or_nothing_to_learn_from_is_refused() -> None:
    teacher, card = _teacher()
    labelled = ([t for t, _ in CANTEEN], [label for _, label in CANTEEN])
    with pytest.raises(TrainingDataError, match="teacher is a sentiment model"):
        distil("topic", teacher, card, labelled, ["交通拥堵"])
    with pytest.raises(TrainingDataError, match="no unlabelled texts"):
        distil("sentiment", teacher, card, labelled, labelled[0])


def test_cli_distils_a_teacher_into_a_model_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    teacher, card = _teacher()
    save_model(teacher, card, tmp_path / "teacher")
    data = _csv(tmp_path / "canteen.csv", CANTEEN)
    seeds, _ = seed_examples()
    unlabelled = _csv(tmp_path / "posts.csv", [(t, "") for t in seeds], columns=("content", "id"))
    out = tmp_path / "student"
    code = _cli(
        "classify", "distil", "--task", "sentiment", "--teacher", str(tmp_path / "teacher"),
        "--data", str(data), "--unlabelled", str(unlabelled), "--unlabelled-column", "content",
        "--out", str(out),
    )  # fmt: skip
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["model"] == "sentiment-char-ngram-distilled@2" and printed["unlabelled_rows"] == len(seeds)
    student, student_card = load_model(out, root=out)
    assert student_card.params["teacher"] == card.ref
    assert set(student.classes_) == {"negative", "positive"}
