"""Appeal type (诉求类型) of hotline and board posts: cue words, or a model trained on labelled orders.

The cue words need no data; a department whose 12345 orders carry their appeal type trains
:func:`build_appeal_model` on them (``yuqing classify train --task appeal``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from classifiers.features import text_features

APPEAL_TYPES = ("投诉", "举报", "求助", "咨询", "建议", "表扬")
# Checked in this order: a report of wrongdoing outranks a complaint, praise is the weakest cue.
_CUES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("举报", ("举报", "违法", "偷排", "非法", "私自", "违规")),
    ("投诉", ("投诉", "扰民", "不作为", "拖欠", "推诿", "不满", "欠薪", "乱收费")),
    ("求助", ("求助", "帮帮", "帮忙", "救助", "困难", "怎么办")),
    ("建议", ("建议", "希望增设", "能否", "可否", "呼吁")),
    ("咨询", ("咨询", "请问", "如何办理", "是否", "什么时候", "吗")),
    ("表扬", ("表扬", "感谢", "点赞", "致谢", "锦旗")),
)


def appeal_type(source: str, title: str, text: str, declared: str | None = None) -> str | None:
    """The hotline's declared appeal type, else one from cue words; None for social posts."""
    if declared in APPEAL_TYPES:
        return declared
    if source not in ("hotline", "board"):
        return None
    body = f"{title} {text}"
    for label, cues in _CUES:
        if any(cue in body for cue in cues):
            return label
    return "咨询"


def build_appeal_model(*, C: float = 4.0, chars: tuple[int, int] = (1, 3)) -> Pipeline:
    """Character n-grams into a calibrated logistic regression: the cue words are short phrases."""
    calibrated = CalibratedClassifierCV(
        LogisticRegression(C=C, solver="liblinear"), method="sigmoid", cv=3, ensemble=False
    )
    return Pipeline([("features", text_features(chars=chars)), ("clf", calibrated)])


def appeal_types(posts: Sequence[tuple[str, str, str, str | None]], model: Any = None) -> list[str | None]:
    """The appeal type of each ``(source, title, text, declared)``: declared, model, else cue words."""
    out = [appeal_type(source, title, text, declared) for source, title, text, declared in posts]
    if model is None:
        return out
    todo = [
        i
        for i, (source, _, _, declared) in enumerate(posts)
        if out[i] is not None and declared not in APPEAL_TYPES
    ]
    if todo:
        predicted = model.predict([f"{posts[i][1]} {posts[i][2]}" for i in todo])
        for i, label in zip(todo, predicted, strict=True):
            out[i] = str(label)
    return out
