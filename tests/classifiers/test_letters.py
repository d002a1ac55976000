"""Letters: the linear model over text regions, safe model files, letter models, urgency as risk.

Every example here is our own, written for these tests.
"""

from __future__ import annotations

import csv
import io
import json
import pickle
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from classifiers.build import build_default_models, read_corrections_by_task
from classifiers.enrich import Enricher
from classifiers.errors import ClassifierError
from classifiers.linear import Block, Featurizer, LinearTextModel
from classifiers.risk import ALERT_RISK, letter_risk, urgency_points
from classifiers.store import ARTIFACT, CARD, FORMAT, LEGACY_ARTIFACT, load_model, read_card, save_model
from classifiers.training import best_threshold, cross_validate, train
from tests.classifiers.test_training import _cli
from tests.stream.samples import raw_post

# The same opening for every letter: only the request at the end tells a report from a complaint.
OPENING = "尊敬的领导您好，我家附近的工厂最近一直在排放黑烟，周边居民意见很大，"
ENDINGS = {
    "举报": [
        "请有关部门严查并依法处罚",
        "恳请严肃查处相关责任人",
        "请依法取缔这家违法工厂",
        "希望严查背后的保护伞",
    ],
    "投诉": [
        "希望尽快解决还我们清净",
        "请尽快处理给居民一个交代",
        "希望相关部门尽快整改",
        "请尽快帮我们解决这个问题",
    ],
}
URGENT = [
    "我们村二百多户的饮用水井被化工厂污染，已有多人中毒住院，请立即处理",
    "学校教学楼墙体开裂晃动，一千多名学生还在上课，随时可能坍塌",
    "工地八十多名工人被拖欠工资半年，大家准备到市政府集体讨薪",
    "小区地下车库燃气泄漏，味道很重，物业不管，随时可能爆炸",
    "养老院三十多位老人食物中毒，院方隐瞒不报",
    "桥梁出现大裂缝仍在通车，每天上千辆车经过，随时可能垮塌",
]
CALM = [
    "请问办理居住证需要带哪些材料",
    "建议在公园里多设几张长椅方便老人休息",
    "请问公积金可以用来支付租房费用吗",
    "希望图书馆周末延长开放时间",
    "请问新生儿医保在哪里办理",
    "建议公交站台增加线路电子显示屏",
]


def letters_by_ending() -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for label, endings in ENDINGS.items():
        for ending in endings:
            for n in range(3):
                texts.append(f"{OPENING}{'这种情况已经持续' + str(n + 2) + '个月，'}{ending}。")
                labels.append(label)
    return texts, labels


def test_a_tail_block_reads_the_request_at_a_letters_end() -> None:
    texts, labels = letters_by_ending()
    model = LinearTextModel(blocks=[Block("char", (1, 3)), Block("char", (1, 3), "tail", 16)]).fit(
        texts, labels
    )
    asked = ["尊敬的领导您好，我家附近的工厂最近一直在排放黑烟，周边居民意见很大，请严肃查处违法排污。"]
    assert list(model.predict(asked)) == ["举报"]
    assert list(model.predict([asked[0].replace("请严肃查处违法排污", "希望尽快解决")])) == ["投诉"]


def test_a_block_is_refused_where_its_region_makes_no_sense() -> None:
    with pytest.raises(ClassifierError, match="span"):
        Block("char", (1, 2), "tail", 0)
    with pytest.raises(ClassifierError, match="unit"):
        Block("pinyin", (1, 2))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("classifier", "calibrate", "link"),
    [("logistic", 0, "softmax"), ("logistic", 2, "sigmoid"), ("svm", 2, "sigmoid")],
)
def test_a_model_read_back_from_its_arrays_predicts_exactly_the_same(
    classifier: str, calibrate: int, link: str, tmp_path: Path
) -> None:
    texts, labels = letters_by_ending()
    texts, labels = texts + CALM * 2, labels + ["咨询"] * 12
    model = LinearTextModel(
        blocks=[Block("char", (1, 2)), Block("word", (1, 1), "head", 20, weight=0.5)],
        classifier=classifier,
        calibrate=calibrate,
    ).fit(texts, labels)
    assert model.link_ == link
    save_model(model, train_card(), tmp_path / "m")
    loaded, card = load_model(tmp_path / "m", root=tmp_path)
    assert card.format == FORMAT and card.libraries["numpy"] == np.__version__
    probe = [*texts[:5], "完全无关的一句话"]
    assert np.array_equal(loaded.predict_proba(probe), model.predict_proba(probe))
    assert np.allclose(model.predict_proba(probe).sum(axis=1), 1.0)


def train_card() -> object:
    from classifiers.store import ModelCard

    return ModelCard(name="t", version="1", task="appeal", trained_at="", data_sha256="")


def test_a_pickled_model_from_an_earlier_version_is_refused_with_the_command_that_rebuilds_it(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "sentiment"
    directory.mkdir()
    (directory / LEGACY_ARTIFACT).write_bytes(pickle.dumps({"not": "loaded"}))
    old = {"name": "old", "version": "4", "task": "sentiment", "trained_at": "", "data_sha256": ""}
    (directory / CARD).write_text(json.dumps({**old, "artifact_sha256": "x"}))
    with pytest.raises(ClassifierError, match=r"pickle.*yuqing models build --force"):
        load_model(directory, root=tmp_path)


def test_a_model_of_another_numpy_major_version_is_refused(models_dir: Path, tmp_path: Path) -> None:
    root = tmp_path / "models"
    shutil.copytree(models_dir, root)
    card_path = root / "urgency" / CARD
    card = json.loads(card_path.read_text(encoding="utf-8"))
    card["libraries"]["numpy"] = "1.26.4"
    card_path.write_text(json.dumps(card), encoding="utf-8")
    with pytest.raises(ClassifierError, match=r"numpy 1\.26\.4.*rebuild"):
        load_model(root / "urgency", root=root)


def test_an_object_array_smuggled_into_a_model_is_never_unpickled(models_dir: Path, tmp_path: Path) -> None:
    root = tmp_path / "models"
    shutil.copytree(models_dir, root)
    target = root / "urgency"
    buffer = io.BytesIO()
    np.savez(buffer, classes=np.array([{"evil": 1}], dtype=object))
    (target / ARTIFACT).write_bytes(buffer.getvalue())
    # Even with the card's hash forged to match, the object array is refused (allow_pickle=False).
    from classifiers.store import SPEC, _sha256

    card = json.loads((target / CARD).read_text(encoding="utf-8"))
    card["artifact_sha256"] = _sha256(buffer.getvalue(), (target / SPEC).read_bytes())
    (target / CARD).write_text(json.dumps(card), encoding="utf-8")
    with pytest.raises(ClassifierError, match="malformed"):
        load_model(target, root=root)
    assert zipfile.is_zipfile(target / ARTIFACT)


def test_models_build_without_data_trains_the_letter_models_from_our_seed_letters(models_dir: Path) -> None:
    names = {p.name for p in models_dir.iterdir() if (p / CARD).exists()}
    # Appeal type and topic are left to the cue rules and keywords without labelled data.
    assert names == {"sentiment", "sentiment-letter", "urgency"}
    urgency = read_card(models_dir / "urgency")
    assert urgency.params["data"] == ["classifiers/seeds/letters.csv"]
    assert 0 < urgency.params["alert_probability"] < 1
    assert urgency.metrics["cross_validation"]["roc_auc"] > 0.7


def test_models_build_keeps_a_current_model_and_rebuilds_one_whose_data_changed(
    models_dir: Path, tmp_path: Path
) -> None:
    models = tmp_path / "models"
    shutil.copytree(models_dir, models)
    before = {name: read_card(models / name).trained_at for name in ("sentiment-letter", "urgency")}
    corrections = tmp_path / "fixes.csv"
    with corrections.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label", "task"])
        writer.writerow(["小区电梯困人半小时，物业电话打不通", "yes", "urgency"])
    cards = build_default_models(models, corrections=[corrections])
    assert read_card(models / "sentiment-letter").trained_at == before["sentiment-letter"]
    assert "corrections (1 rows)" in cards["urgency"].params["data"]
    assert read_corrections_by_task([corrections]) == {
        "urgency": (["小区电梯困人半小时，物业电话打不通"], ["yes"])
    }


def test_urgency_maps_onto_risk_so_the_models_alert_threshold_is_the_dashboards() -> None:
    assert urgency_points(0.3, 0.3) == ALERT_RISK
    assert urgency_points(0.1, 0.3) < ALERT_RISK <= urgency_points(0.31, 0.3) <= 90
    risk = letter_risk(0.9, 0.4, ["集体讨薪"], "", "工人准备集体讨薪", {"votes_up": 30})
    assert risk["score"] >= ALERT_RISK
    assert risk["reasons"][:2] == ["紧急程度0.90（模型判断，0.40起预警）", "关键表述：集体讨薪"]
    assert any(r.startswith("敏感词") for r in risk["reasons"])


def test_the_best_threshold_is_the_one_with_the_best_f1_on_held_out_probabilities() -> None:
    truth = np.array([True, True, False, False, True, False])
    probability = np.array([0.9, 0.7, 0.6, 0.2, 0.65, 0.1])
    assert best_threshold(truth, probability) == 0.65


def test_an_urgency_model_puts_urgent_letters_first_and_says_which_phrases_drove_it() -> None:
    texts = URGENT * 2 + CALM * 2
    labels = ["yes"] * 12 + ["no"] * 12
    model, _ = train("urgency", texts, labels, C=4.0)
    probe = ["村里三百多户的水井被污染，很多人中毒", "请问办理护照需要什么材料"]
    p = model.predict_proba(probe)[:, list(model.classes_).index("yes")]
    assert p[0] > p[1]
    (phrases,) = model.explain(Featurizer(probe[:1]), [0])
    assert phrases and all(len(x) >= 2 and x.isalnum() for x in phrases)


def test_letters_and_social_posts_are_read_by_their_own_models(models_dir: Path) -> None:
    enricher = Enricher.load(models_dir)
    letter = raw_post(1, text="我们工地八十多名工人被拖欠工资半年，大家准备集体上访，请领导立即处理")
    question = raw_post(2, text="请问办理居住证需要带哪些材料，在哪个窗口办理")
    weibo = {**raw_post(3, text="今天天气真好，出去玩了一天，开心"), "source": "weibo"}
    urgent, calm, social = enricher.enrich_many([letter, question, weibo])  # type: ignore[list-item]
    assert urgent["risk"]["score"] > calm["risk"]["score"]
    assert urgent["risk"]["reasons"][0].startswith("紧急程度")
    assert social["appeal_type"] is None and not any(
        r.startswith("紧急程度") for r in social["risk"]["reasons"]
    )
    assert (
        calm["sentiment"]["label"] in ("neutral", "negative") and urgent["sentiment"]["label"] == "negative"
    )


def test_evaluate_cross_validates_the_recipe_and_reports_the_alert(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "urgency.csv"
    with data.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "urgent"])
        for text in URGENT:
            writer.writerow([text, "yes"])
        for text in CALM:
            writer.writerow([text, "no"])
    code = _cli("classify", "evaluate", "--task", "urgency", "--data", str(data), "--label-column", "urgent",
                "--folds", "3")  # fmt: skip
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    cv = out["cross_validation"]
    assert cv["folds"] == 3 and cv["rows"] == 12 and 0 <= cv["roc_auc"] <= 1
    assert {"risk_roc_auc", "alert_precision", "alert_recall", "alert_risk"} <= set(cv)


def test_cross_validation_never_scores_the_extra_rows() -> None:
    texts, labels = letters_by_ending()
    figures, oof, classes = cross_validate(
        "appeal", texts, labels, folds=3, extra=(CALM, ["咨询"] * len(CALM))
    )
    assert figures["rows"] == len(texts) and oof.shape == (len(texts), len(classes))
    assert "咨询" in classes  # learned from the extra rows, never scored


def test_the_letter_recipes_learn_the_shared_labelled_letters() -> None:
    """Cross-validated on the 2,800 labelled letters of ../shared/data (3 folds here; 5 in the docs)."""
    from tests.conftest import SHARED_DATA

    path = SHARED_DATA / "letters" / "teddy2020_letters_labelled.csv"
    if not path.exists():
        pytest.skip("../shared/data is absent: the labelled letters are read from there, never copied")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    texts = [r["text"] for r in rows]
    appeal, _, _ = cross_validate("appeal", texts, [r["appeal"] for r in rows], folds=3)
    common = [f["f1"] for label, f in appeal["per_class"].items() if label != "表扬"]
    assert sum(common) / len(common) > 0.65
    urgency, _, _ = cross_validate("urgency", texts, [r["urgent"] for r in rows], folds=3)
    assert urgency["roc_auc"] > 0.85 and urgency["risk_roc_auc"] > 0.85
    assert 0.4 < urgency["alert_recall"] <= 1 and urgency["alert_precision"] > 0.4
