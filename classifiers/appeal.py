"""Appeal type (诉求类型) of hotline and board posts: cue words, or a model trained on labelled orders.

The cue words need no data; a department whose 12345 orders carry their appeal type trains
a model on them (``yuqing classify train --task appeal``); ``yuqing models build`` trains one on
letters (the shared labelled letters, else our seed letters).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

from classifiers.linear import Featurizer, decide, model_probabilities

APPEAL_TYPES = ("投诉", "举报", "求助", "咨询", "建议", "表扬")
# Letters: what appeal types, letter sentiment and urgency are read from (social posts have none).
LETTER_SOURCES = ("board", "hotline")
# Cue words of each type. A letter usually describes a harm first and says what it wants at the end,
# so no single word decides: the rules in :func:`appeal_type` weigh them against each other.
_CUES: tuple[tuple[str, tuple[str, ...]], ...] = (
    # wrongdoing of a named party (举报 asks for investigation or punishment)
    (
        "举报",
        (
            "举报",
            "严查",
            "查处",
            "彻查",
            "严惩",
            "违法",
            "违规",
            "非法",
            "偷排",
            "私自",
            "擅自",
            "贪污",
            "受贿",
            "腐败",
            "索贿",
            "回扣",
            "套取",
            "骗取",
            "冒领",
            "挪用",
            "传销",
            "诈骗",
            "造假",
            "弄虚作假",
            "黑恶",
            "保护伞",
            "以权谋私",
            "徇私",
            "违纪",
            "无证经营",
            "取缔",
        ),
    ),
    # a harm to the writer or the public, asking for a fix
    (
        "投诉",
        (
            "投诉",
            "扰民",
            "不作为",
            "拖欠",
            "推诿",
            "不满",
            "欠薪",
            "乱收费",
            "严重影响",
            "苦不堪言",
            "无人管",
            "没人管",
            "无人问津",
            "不予理睬",
            "置之不理",
            "至今未",
            "至今没",
            "迟迟",
            "多次反映",
            "屡次",
            "损失",
            "受害",
            "强烈要求",
            "讨个说法",
            "给个说法",
            "合理解释",
            "不合理",
            "太差",
            "敷衍",
            "刁难",
            "噪音",
            "臭",
        ),
    ),
    # help with a personal hardship
    (
        "求助",
        (
            "求助",
            "帮帮",
            "救救",
            "救助",
            "走投无路",
            "无力承担",
            "无力支付",
            "求求",
            "困难户",
            "生活困难",
            "家庭困难",
            "无依无靠",
        ),
    ),
    # an improvement for the public good
    ("建议", ("建议", "希望增设", "呼吁", "提议", "建言", "献策", "增设", "倡议", "完善")),
    # a question of policy, procedure, eligibility or timing
    (
        "咨询",
        (
            "咨询",
            "请问",
            "如何办理",
            "怎么办理",
            "怎样办理",
            "是否可以",
            "是否符合",
            "能否",
            "可否",
            "什么时候",
            "哪个部门",
            "需要哪些",
            "需要什么",
            "想了解",
            "想知道",
            "想问",
        ),
    ),
    # praise: strong words only, "谢谢/非常感谢" closes complaints too
    (
        "表扬",
        (
            "表扬",
            "点赞",
            "锦旗",
            "赞扬",
            "称赞",
            "好干部",
            "得到解决",
            "得到了解决",
            "已经解决",
            "已解决",
            "办实事",
        ),
    ),
)
# Wrongdoing named so plainly, or a demand to investigate so direct, that the letter is a report.
_CRIME = (
    "举报",
    "严查",
    "彻查",
    "严惩",
    "查处",
    "偷排",
    "贪污",
    "受贿",
    "腐败",
    "索贿",
    "回扣",
    "套取",
    "骗取",
    "冒领",
    "挪用",
    "传销",
    "诈骗",
    "弄虚作假",
    "黑恶",
    "保护伞",
    "以权谋私",
    "徇私",
    "违纪",
)
# A request to look into someone's conduct: with a violation (违法, 违规 …) it makes a report.
_INVESTIGATE = ("依法处理", "追究", "取缔", "调查", "打击", "查一查", "核查", "处罚")
# A personal hardship: with a plea for help, or several of them without a complaint, a request for help.
_HARDSHIP = ("病", "残疾", "低保", "困难", "贫困", "孤儿", "丧偶", "去世", "瘫痪", "无房", "无收入")
# Words of a grievance: a question asked among them is a complaint, not a question of policy.
_GRIEVANCE = (
    "严重",
    "反映",
    "至今",
    "难道",
    "凭什么",
    "不公",
    "拒绝",
    "要求",
    "解决",
    "强烈",
    "影响",
    "导致",
    "造成",
    "恳请",
    "请求",
    "处理",
    "尽快",
    "维权",
    "权益",
    "责任",
    "安全",
    "隐患",
    "危险",
    "无法",
    "竟然",
    "居然",
    "却",
)
_THANKS = ("感谢", "谢谢", "致谢", "表扬", "点赞")


def _positions(body: str, words: tuple[str, ...]) -> list[int]:
    """Where each of ``words`` occurs in ``body`` (every occurrence of each word, overlaps included)."""
    return [m.start() for pattern in _patterns(words) for m in pattern.finditer(body)]


@functools.lru_cache(maxsize=32)
def _patterns(words: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    # One compiled pattern per word (a word's overlapping occurrences are each counted), compiled once.
    return tuple(re.compile(re.escape(word)) for word in words)


def _late(positions: Sequence[int], length: int) -> bool:
    """Whether a cue sits in the last 40 % of the letter, where its request usually is."""
    return any(p >= 0.6 * length for p in positions)


def _ends_with_question(body: str) -> bool:
    """Whether the letter's last sentence (its request) is a question."""
    last = re.split(r"[。！!]", body.rstrip("。！!谢 ，,"))[-1]
    return "？" in last or "?" in last


def appeal_type(source: str, title: str, text: str, declared: str | None = None) -> str | None:
    """The hotline's declared appeal type, else one from cue words; None for social posts.

    Checked in this order: a report of wrongdoing (a crime or a demand to 严查, or a violation with a
    request to investigate); a plea for help with a personal hardship; praise without a complaint; a
    suggestion that outweighs the complaint (or is what the letter ends on); a question without a
    grievance. Anything else is a complaint, the commonest appeal.
    """
    if declared in APPEAL_TYPES:
        return declared
    if source not in LETTER_SOURCES:
        return None
    body = f"{title} {text}".strip()
    n = max(len(body), 1)
    hits = {label: _positions(body, cues) for label, cues in _CUES}
    report, complaint = hits["举报"], hits["投诉"]
    if _positions(body, _CRIME) or (report and (len(report) >= 2 or _positions(body, _INVESTIGATE))):
        return "举报"
    hardships = {word for word in _HARDSHIP if word in body}
    if (hits["求助"] and (hardships or not complaint)) or (len(hardships) >= 3 and not complaint):
        return "求助"
    questioning = "？" in body or "?" in body
    if hits["表扬"] and not complaint and not report and not questioning and any(t in body for t in _THANKS):
        return "表扬"
    suggestion = hits["建议"]
    if suggestion and (
        not complaint
        or len(suggestion) > len(complaint)
        or (_late(suggestion, n) and not _late(complaint, n))
    ):
        return "建议"
    grievance = _positions(body, _GRIEVANCE)
    asks = hits["咨询"]
    if (
        not complaint
        and not report
        and len(grievance) <= (1 if asks else 0)
        and (asks or _ends_with_question(body))
    ):
        return "咨询"
    return "投诉"


def appeal_types(
    posts: Sequence[tuple[str, str, str, str | None]],
    model: Any = None,
    batch: Featurizer | None = None,
    *,
    probabilities: Any = None,
) -> list[str | None]:
    """The appeal type of each ``(source, title, text, declared)``: declared, model, else cue words.

    ``batch`` holds the posts' n-grams ("title text") where the enrichment shares them;
    ``probabilities`` are the model's for every post where the caller has them already.
    """
    if model is None:
        return [appeal_type(source, title, text, declared) for source, title, text, declared in posts]
    # The model answers every letter without a declared type: the rules are not needed for those.
    out: list[str | None] = [
        declared if declared in APPEAL_TYPES else (None if source not in LETTER_SOURCES else "")
        for source, _, _, declared in posts
    ]
    todo = [i for i, label in enumerate(out) if label == ""]
    if todo:
        if probabilities is None:
            probabilities = model_probabilities(model, [f"{p[1]} {p[2]}" for p in posts], batch)
        classes = [str(c) for c in model.classes_]
        chosen = decide(probabilities[todo], classes, getattr(model, "rare_classes", ()))
        for i, column in zip(todo, chosen, strict=True):
            out[i] = classes[int(column)]
    return out
